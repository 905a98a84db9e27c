//! Properties: parsers never panic on arbitrary bytes; time scales; row
//! order does not matter; closed nets conserve their tokens.

use demandsim::estimate::{Config, Method, Observations, estimate};
use demandsim::import::{RequestRow, access_log, jmeter, k6, librede, prometheus, sadf};
use demandsim::model::{LoadOptions, Params, load};
use demandsim::qpn::{Control, RunConfig, StopRule, Warmup, simulate};
use demandsim::trace::{
    Aggregator, RequestReader, UtilSample, UtilSeries, UtilizationReader, decompress,
};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

/// `cases` cases; a failing case's seed is kept in
/// `tests/proptest-regressions/properties.txt` (proptest's default place for
/// this file, named here so that it stays so), which is committed: every
/// run tries the seeds in it first.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

fn parse_everything(bytes: &[u8]) {
    let mut req = |_: RequestRow<'_>| Ok(());
    let mut util = |_: UtilSample| Ok(());
    if let Ok(r) = decompress(bytes)
        && let Ok(mut r) = RequestReader::new(r)
    {
        while let Some(x) = r.next_request() {
            if x.is_err() {
                break;
            }
        }
    }
    if let Ok(r) = UtilizationReader::new(bytes) {
        let _ = r.collect::<Vec<_>>();
    }
    let _ = jmeter::read(bytes, &jmeter::Options::default(), &mut req);
    let _ = k6::read(bytes, &mut req);
    let fmt = access_log::LogFormat::new(
        r#"$remote_addr [$time_local] "$request" $status $request_time $msec"#,
    )
    .unwrap();
    let _ = access_log::read(bytes, &fmt, &access_log::Options::default(), &mut req);
    let _ = sadf::read(bytes, &mut util);
    let _ = prometheus::read(bytes, "instance", &mut util);
    let _ = librede::read_response_times(bytes, "c", librede::TimeUnit::Seconds, &mut req);
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = load(text, &LoadOptions::default());
    }
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn parsers_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        parse_everything(&bytes);
    }

    #[test]
    fn parsers_never_panic_on_almost_valid_text(
        lines in proptest::collection::vec("[0-9a-z.,;:#\\[\\]{}\"' eE+-]{0,40}", 0..12),
        header in prop::sample::select(vec![
            "timestamp,response_time,class,success", "timestamp,utilization,resource,interval",
            "timeStamp,elapsed,label,success", "metric_name,timestamp,metric_value,name,status",
            "# hostname;interval;timestamp;CPU;%user;%idle", "colors: [a]\nplaces:",
        ]),
    ) {
        let text = format!("{header}\n{}", lines.join("\n"));
        parse_everything(text.as_bytes());
    }
}

const OPEN: &str = "params: {mean: 1.0, gap: 2.0}
colors: [c]
places:
  Q: {queue: fcfs, servers: 2, service: {c: {exponential: mean}}}
  D: {queue: is, service: {c: {uniform: {min: 0, max: mean}}}}
transitions:
  arrive: {delay: {exponential: gap / 2.5}, out: {Q: c}}
  on: {in: {Q: c}, out: {D: c}}
  leave: {in: {D: c}}
probes:
  response: {start: {transition: arrive}, end: {transition: leave}}
";

/// One run of `OPEN` with every time scaled by `k`.
fn scaled_run(k: f64, seed: u64) -> demandsim::qpn::SimReport {
    let o = Params::new().with("mean", k).with("gap", 2.0 * k);
    let m = load(
        OPEN,
        &LoadOptions {
            params: o,
            ..LoadOptions::default()
        },
    )
    .unwrap();
    let cfg = RunConfig {
        stop: StopRule::Requests(5_000),
        warmup: Warmup::Count(500),
        seed,
        ..RunConfig::default()
    };
    simulate(&m.net, &cfg, Control::default()).unwrap()
}

proptest! {
    #![proptest_config(config(24))]

    /// Any power of two k (so every time scales exactly in floating point)
    /// and any seed: means, CIs and the measured time scale by k to
    /// rounding; percentiles, from logarithmic buckets that ×k does not
    /// shift by a whole bucket, within 1 %.
    #[test]
    fn scaling_every_time_by_k_scales_simulated_times_by_k(j in -6i32..7, seed in 0u64..1_000_000) {
        let k = 2f64.powi(j);
        let (a, b) = (scaled_run(1.0, seed), scaled_run(k, seed));
        let (pa, pb) = (&a.probes[0], &b.probes[0]);
        prop_assert_eq!(pa.count, pb.count);
        for (x, y) in [(pa.mean_s, pb.mean_s), (pa.ci_half_width_s, pb.ci_half_width_s)] {
            let (x, y) = (x.unwrap(), y.unwrap());
            prop_assert!((y - k * x).abs() <= 1e-9 * y, "{} x {} != {}", x, k, y);
        }
        for (x, y) in [(pa.p50_s, pb.p50_s), (pa.p99_s, pb.p99_s)] {
            let (x, y) = (x.unwrap(), y.unwrap());
            prop_assert!((y - k * x).abs() <= 0.01 * y, "{} x {} vs {}", x, k, y);
        }
        prop_assert!((b.measured_time_s - k * a.measured_time_s).abs() <= 1e-9 * b.measured_time_s);
    }
}

/// A generated trace as rows, estimated on a grid of `width` seconds.
fn estimates(requests: &[(f64, f64)], util: &[(f64, f64)], width: f64) -> Vec<(String, f64)> {
    let mut labels = demandsim::trace::Labels::new();
    let class = labels.intern("c");
    let series = UtilSeries::from_samples(util.iter().map(|&(t, u)| UtilSample {
        timestamp: t,
        utilization: u,
        resource: "cpu".into(),
        interval: Some(width),
    }))
    .unwrap();
    let mut agg = Aggregator::new(series.grid(None), width, false);
    for &(s, r) in requests {
        agg.push(&demandsim::trace::Request {
            start: s,
            response_time: r,
            class,
            success: true,
            resource: None,
            origin: Default::default(),
        });
    }
    let table = agg.finish(&labels, &series).unwrap();
    let (obs, diag) = Observations::from_table(&table, "cpu", 2, false).unwrap();
    let report = estimate(
        &obs,
        diag,
        &Config {
            bootstrap: 0,
            ..Config::default()
        },
        "cpu",
        width,
    );
    report
        .estimates
        .into_iter()
        .map(|e| (e.method, e.demand_s))
        .collect()
}

type Rows = (Vec<(f64, f64)>, Vec<(f64, f64)>);

/// An 1,800 s trace of `OPEN` (requests in completion order, the queue's
/// utilization), generated once for every case.
fn open_trace() -> &'static Rows {
    static TRACE: std::sync::OnceLock<Rows> = std::sync::OnceLock::new();
    TRACE.get_or_init(|| {
        let m = load(OPEN, &LoadOptions::default()).unwrap();
        let cfg = demandsim::generate::GenConfig {
            probe: 0,
            interval: 30.0,
            requests: None,
            time: Some(1800.0),
            seed: 6,
            token_limit: 1_000_000,
        };
        let (mut requests, mut util) = (Vec::new(), Vec::new());
        demandsim::generate::generate(
            &m.net,
            &cfg,
            &mut |s, r, _| {
                requests.push((s, r));
                Ok(())
            },
            &mut |t, p, u| {
                if p == "Q" {
                    util.push((t, u));
                }
                Ok(())
            },
        )
        .unwrap();
        (requests, util)
    })
}

/// Sums taken in another order may move the last bit, which an iterative
/// fit (Levenberg–Marquardt stops on a relative gain of 1e-12) carries to
/// about 1e-12 of the estimate; an order that really mattered would move
/// it by far more than 1e-9.
fn same(a: &[(String, f64)], b: &[(String, f64)]) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.len(), Method::ALL.len());
    for ((m1, d1), (m2, d2)) in a.iter().zip(b) {
        prop_assert_eq!(m1, m2);
        prop_assert!((d1 - d2).abs() <= 1e-9 * d1, "{}: {} != {}", m1, d1, d2);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(8))]

    /// Rows shuffled at random within blocks of under 96 (about 0.8 s
    /// apart: blocks span under 80 s, inside the replay's 120 s horizon)
    /// give the estimates of the file in completion order.
    #[test]
    fn estimates_ignore_the_row_order_within_the_horizon(seed in any::<u64>(), block in 2usize..96) {
        use rand::SeedableRng;
        use rand::seq::SliceRandom;
        let (requests, util) = open_trace();
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut shuffled = requests.clone();
        for b in shuffled.chunks_mut(block) {
            b.shuffle(&mut rng);
        }
        same(&estimates(requests, util, 30.0), &estimates(&shuffled, util, 30.0))?;
    }

    /// Every timestamp, response time and interval × k: every estimate × k.
    #[test]
    fn estimates_scale_with_time(k in 0.01f64..100.0) {
        let (requests, util) = open_trace();
        let scaled_req: Vec<(f64, f64)> = requests.iter().map(|&(s, r)| (s * k, r * k)).collect();
        let scaled_util: Vec<(f64, f64)> = util.iter().map(|&(t, u)| (t * k, u)).collect();
        for ((m1, d1), (m2, d2)) in estimates(requests, util, 30.0)
            .iter()
            .zip(estimates(&scaled_req, &scaled_util, 30.0 * k))
        {
            prop_assert_eq!(m1, &m2);
            prop_assert!((d2 - k * d1).abs() <= 1e-6 * d2, "{}: {} x {} != {}", m1, d1, k, d2);
        }
    }
}

/// Shuffled beyond the replay's horizon, the queue each request found
/// cannot be replayed: every such order falls back to the time averages
/// alike (an example: two far orders).
#[test]
fn far_shuffles_fall_back_to_the_same_time_averages() {
    let (requests, util) = open_trace();
    let reversed: Vec<(f64, f64)> = requests.iter().rev().copied().collect();
    let mut interleaved = reversed.clone();
    let n = interleaved.len();
    for i in (0..n).step_by(3) {
        interleaved.swap(i, n - 1 - i);
    }
    same(
        &estimates(&reversed, util, 30.0),
        &estimates(&interleaved, util, 30.0),
    )
    .unwrap();
}

/// A random closed net: a ring of queueing places of random kinds, with a
/// token pool the first transition takes from and the last gives back.
fn closed_ring(kinds: &[(usize, u32, f64)], clients: u32, pool: u32) -> String {
    let names = ["is", "fcfs", "ps", "lcfs-pr"];
    let mut y = format!(
        "colors: [c, k]\nplaces:\n  Pool: {{initial: {{k: {pool}}}}}\n  Wait: {{initial: {{c: {clients}}}}}\n"
    );
    for (i, (kind, servers, mean)) in kinds.iter().enumerate() {
        // IS has no server count and LCFS-PR one server.
        let servers = match kind {
            0 => String::new(),
            3 => "servers: 1, ".into(),
            _ => format!("servers: {servers}, "),
        };
        y.push_str(&format!(
            "  P{i}: {{queue: {}, {servers}service: {{c: {{exponential: {mean}}}}}}}\n",
            names[*kind]
        ));
    }
    y.push_str("transitions:\n  enter: {in: {Wait: c, Pool: k}, out: {P0: c}}\n");
    let n = kinds.len();
    for i in 0..n - 1 {
        y.push_str(&format!(
            "  t{i}: {{in: {{P{i}: c}}, out: {{P{}: c}}}}\n",
            i + 1
        ));
    }
    y.push_str(&format!(
        "  leave: {{in: {{P{}: c}}, out: {{Wait: c, Pool: k}}}}\n",
        n - 1
    ));
    y
}

proptest! {
    #![proptest_config(config(32))]

    #[test]
    fn closed_nets_conserve_tokens(
        kinds in proptest::collection::vec((0usize..4, 1u32..4, 0.05f64..2.0), 1..5),
        clients in 1u32..30,
        pool in 1u32..30,
        seed in any::<u64>(),
    ) {
        let yaml = closed_ring(&kinds, clients, pool);
        let model = load(&yaml, &LoadOptions::default()).unwrap();
        let cfg = RunConfig {
            stop: StopRule::Time(500.0),
            warmup: Warmup::None,
            seed,
            ..RunConfig::default()
        };
        let r = simulate(&model.net, &cfg, Control::default()).unwrap();
        // The net's P-invariants: every client is waiting or in the ring
        // (Wait + ΣP = clients), every pool token is free or lent to a
        // client in the ring (Pool + ΣP = pool). Markings that are constant
        // have constant time averages, so the reported mean populations
        // must add up exactly, whatever the kinds, servers and seed.
        let mean = |name: &str| {
            r.places.iter().find(|p| p.place == name).map_or(0.0, |p| p.mean_population)
        };
        let ring: f64 = (0..kinds.len()).map(|i| mean(&format!("P{i}"))).sum();
        for (free, n) in [("Wait", clients), ("Pool", pool)] {
            let total = mean(free) + ring;
            prop_assert!(
                (total - f64::from(n)).abs() < 1e-6 * f64::from(n),
                "{free} + ring = {total} != {n}\n{yaml}"
            );
        }
        // And the ring never holds more than the pool or the clients allow.
        prop_assert!(ring <= f64::from(clients.min(pool)) + 1e-9);
    }
}

/// Two classes at random rates and demands on 1–4 servers, with random
/// utilization jitter: a 40-interval trace.
const TWO_CLASS_OPEN: &str = "params: {ra: 1, rb: 1, da: 0.1, db: 0.1, servers: 1}
colors: [a, b]
places:
  CPU: {queue: ps, servers: servers, service: {a: {exponential: da}, b: {exponential: db}}}
transitions:
  in_a: {delay: {exponential: 1 / ra}, out: {CPU: a}}
  in_b: {delay: {exponential: 1 / rb}, out: {CPU: b}}
  leave: {modes: [{in: {CPU: a}}, {in: {CPU: b}}]}
probes:
  response:
    colors: [a, b]
    start: [{transition: in_a}, {transition: in_b}]
    end: {transition: leave}
";

proptest! {
    #![proptest_config(config(32))]

    /// No method reports a demand outside its own interval, whatever the
    /// trace (one or two classes, any load, noisy utilization, 5 to 40
    /// intervals: short traces are where resampled fits drift from the
    /// full one).
    #[test]
    fn every_estimate_lies_inside_its_own_interval(
        ra in 0.5f64..6.0,
        rb in 0.0f64..6.0,
        da in 0.01f64..0.1,
        db in 0.01f64..0.1,
        servers in 1u32..4,
        noise in 0.0f64..0.05,
        intervals in 5u32..40,
        seed in 0u64..1000,
    ) {
        let u = (ra * da + rb * db) / servers as f64;
        prop_assume!(u < 0.9);
        let mut params = Params::new()
            .with("ra", ra)
            .with("da", da)
            .with("db", db)
            .with("servers", f64::from(servers));
        // rb = 0 stands for one class: b gets a negligible rate.
        params.set("rb", rb.max(1e-6));
        let model = load(TWO_CLASS_OPEN, &LoadOptions { params, ..LoadOptions::default() }).unwrap();
        let cfg = demandsim::generate::GenConfig {
            probe: 0,
            interval: 30.0,
            requests: None,
            time: Some(30.0 * f64::from(intervals)),
            seed,
            token_limit: 1_000_000,
        };
        let mut rng = <rand_xoshiro::Xoshiro256PlusPlus as rand::SeedableRng>::seed_from_u64(seed);
        let (t, _) = demandsim::generate::table(&model.net, &cfg, &mut |u| {
            u + noise * (2.0 * rand::RngExt::random::<f64>(&mut rng) - 1.0)
        })
        .unwrap();
        let Ok((obs, diag)) = Observations::from_table(&t, "CPU", servers, false) else {
            return Ok(());
        };
        let report = estimate(&obs, diag, &Config { bootstrap: 60, seed, ..Config::default() }, "CPU", 30.0);
        for e in &report.estimates {
            if let (Some(lo), Some(hi)) = (e.ci_low_s, e.ci_high_s) {
                prop_assert!(lo <= e.demand_s && e.demand_s <= hi, "{} {}: {} not in {lo}..{hi}", e.method, e.class, e.demand_s);
            }
        }
    }
}
