//! `demandsim solve`.

use std::io::Write;

use anyhow::{Context, Result};
use demandsim::solve::{Analysis, analyse};

use super::Format;
use super::simulate::{ModelArgs, load_model};
use super::table::{Table, num};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    out: super::OutputArgs,
}

/// What `solve --format json` writes: the analysis and the model's name.
#[derive(serde::Serialize)]
struct SolveDoc<'a> {
    model: &'a str,
    #[serde(flatten)]
    analysis: &'a Analysis,
}

pub fn run(a: Args) -> Result<()> {
    let model = load_model(&a.model)?;
    let analysis = analyse(&model.net).with_context(|| a.model.model.display().to_string())?;
    let mut out = a.out.create()?;
    match a.out.format {
        Format::Json => {
            let doc = SolveDoc {
                model: &model.name,
                analysis: &analysis,
            };
            out.write_all(&demandsim::report::json(&doc)?)?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record([
                "kind",
                "name",
                "color",
                "mean_s",
                "throughput",
                "utilization",
                "mean_population",
            ])?;
            let o = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
            for p in &analysis.probes {
                w.write_record(["probe", &p.name, &p.color, &o(p.mean_s), "", "", ""])?;
            }
            for p in &analysis.places {
                w.write_record([
                    "place",
                    &p.place,
                    &p.color,
                    &p.mean_residence_s.to_string(),
                    &p.throughput.to_string(),
                    &o(p.utilization),
                    &p.mean_population.to_string(),
                ])?;
            }
            w.flush()?;
        }
        Format::Table => write!(out, "{}", render(&model.name, &analysis))?,
    }
    out.commit()
}

fn render(name: &str, a: &Analysis) -> String {
    let mut s = format!("model {name}: {}\n", a.method);
    for n in &a.notes {
        s.push_str(&format!("note: {n}\n"));
    }
    s.push('\n');
    let mut t = Table::new(["probe", "color", "mean [s]"]);
    for p in &a.probes {
        t.row(vec![p.name.clone(), p.color.clone(), num(p.mean_s)]);
    }
    s.push_str(&t.render());
    s.push('\n');
    let mut t = Table::new(["place", "color", "X [1/s]", "U", "R [s]", "N"]);
    for p in &a.places {
        t.row(vec![
            p.place.clone(),
            p.color.clone(),
            num(Some(p.throughput)),
            num(p.utilization),
            num(Some(p.mean_residence_s)),
            num(Some(p.mean_population)),
        ]);
    }
    s.push_str(&t.render());
    s
}
