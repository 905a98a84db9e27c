//! From session logs to per-class response times, with the library: learns
//! the three user classes' Markov profiles from the sessions of the
//! testbed's low-load run (`traces/real/mixed-n21`), builds the closed
//! model for another load (13 users per class, as in the held-out run
//! `mixed-n39`) with the shipped per-class CPU demands
//! (`traces/real/demands.csv`), solves it, and prints the predicted mean
//! response time per request class beside what `mixed-n39` measured.
//!
//! `cargo run --release --example trading_behavior`

use std::collections::BTreeMap;
use std::error::Error;
use std::fs::File;

use demandsim::behavior::to_qpn::{Demands, ModelOptions, ThinkTimes, Users, to_qpn};
use demandsim::behavior::{self, Grouping, Learner, Step};
use demandsim::model::{LoadOptions, load};
use demandsim::trace::RequestReader;

const REAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/traces/real");

fn reader(run: &str) -> Result<RequestReader<Box<dyn std::io::BufRead + Send>>, Box<dyn Error>> {
    let file = File::open(format!("{REAL}/{run}/requests.csv.gz"))?;
    Ok(RequestReader::new(demandsim::trace::decompress(file)?)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    // 1. Profiles, one per user class, from one run's sessions.
    let mut r = reader("mixed-n21")?;
    let mut learner = Learner::new(false);
    while let Some(req) = r.next_request() {
        let req = req?;
        let Some(session) = req.origin.session else {
            continue;
        };
        learner.push(Step {
            session: session.0,
            user: req.origin.user.map(|u| u.0),
            group: req.origin.user_class.map(|g| g.0),
            state: req.class.0 as usize,
            start: req.start,
            end: req.start + req.response_time,
            line: r.line(),
        })?;
    }
    let names = r.classes().names().to_vec();
    let groups = r.origin_labels().user_classes.names().to_vec();
    let b = behavior::model(learner, &names, &groups, Grouping::UserClass, 0)?;
    for p in &b.profiles {
        println!(
            "{:>15}: {:4.1} % of sessions, {:.1} requests per session",
            p.name,
            p.probability * 100.0,
            p.requests_per_session
        );
    }
    // 2. The closed model at another load.
    let mut demands = Demands::new();
    let text = std::fs::read_to_string(format!("{REAL}/demands.csv"))?;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        demands.insert(f[0], f[1], f[2].parse()?);
    }
    let users = ["ActiveUser", "ReadOnlyUser", "AnalyticalUser"].map(|u| (u.to_string(), 13));
    let options = ModelOptions {
        users: Users::Named(users.to_vec()),
        think: ThinkTimes::Learnt,
        session_gap_s: None,
        servers: BTreeMap::new(),
        name: "trading".into(),
    };
    let generated = to_qpn(&b, &demands, &options)?;
    let model = load(&generated.yaml(), &LoadOptions::default())?;
    let a = demandsim::solve::analyse(&model.net)?;
    // 3. Per request class: the profiles' colours together, weighted by
    // their throughputs, against the held-out run's measured means.
    let mut predicted: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for role in generated.roles() {
        let Some(class) = &role.request else { continue };
        let x: f64 = a
            .places
            .iter()
            .filter(|p| p.color == role.colour && p.place == "request-path")
            .map(|p| p.throughput)
            .sum();
        let mean = a.probe_mean("response", &role.colour).unwrap_or(0.0);
        let e = predicted.entry(class.clone()).or_default();
        e.0 += x * mean;
        e.1 += x;
    }
    let mut measured: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    let mut r = reader("mixed-n39")?;
    while let Some(req) = r.next_request() {
        let req = req?;
        if !req.success {
            continue;
        }
        let e = measured
            .entry(r.classes().names()[req.class.0 as usize].clone())
            .or_default();
        e.0 += req.response_time;
        e.1 += 1.0;
    }
    println!(
        "\n{:>13}  {:>13}  {:>12}  {:>7}",
        "class", "predicted [s]", "measured [s]", "error"
    );
    for (class, (xr, x)) in &predicted {
        let p = xr / x;
        let (sum, n) = measured.get(class).copied().unwrap_or_default();
        let m = sum / n;
        let err = (m - p) / m * 100.0;
        println!("{class:>13}  {p:>13.4}  {m:>12.4}  {err:>+6.1} %");
    }
    println!(
        "\n(analytic: {}; error = (measured − predicted) / measured)",
        a.method
    );
    Ok(())
}
