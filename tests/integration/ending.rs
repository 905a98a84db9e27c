//! Simulations that end: a probe nothing reaches, an event limit, a net
//! that makes tokens faster than it serves them, a clock that overflows;
//! each stops with a message instead of running on.

use demandsim::model::{LoadOptions, load};
use demandsim::qpn::{Control, RunConfig, RunError, SimError, StopRule, Warmup, simulate};

use crate::demandsim;

fn run_err(yaml: &str, cfg: RunConfig) -> SimError {
    let model = load(yaml, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    match simulate(&model.net, &cfg, Control::default()) {
        Err(RunError::Sim { error, .. }) => error,
        other => panic!("{other:?}"),
    }
}

/// Arrivals every second into an FCFS queue of 0.5 s; `lost` can hold a
/// token as far as the net's structure goes (`pair` takes two from `A`),
/// but `A` only ever holds one, so probe `never`, which ends at `lost`'s
/// exit, never completes.
const LOST: &str = "colors: [job]
places:
  Q: {queue: fcfs, service: {job: {exponential: 0.5}}}
  A: {initial: {job: 1}}
  lost: {}
transitions:
  arrive: {delay: {exponential: 1}, out: {Q: job}}
  leave: {in: {Q: job}}
  pair: {in: {A: {job: 2}}, out: {lost: job}}
  gone: {in: {lost: job}}
probes:
  response: {start: {transition: arrive}, end: {transition: leave}}
  never: {start: {place: lost, when: enter}, end: {transition: gone}}
";

#[test]
fn a_probe_on_a_place_nothing_enters_is_reported_not_waited_for() {
    let yaml = LOST.replace(
        "  response: {start: {transition: arrive}, end: {transition: leave}}\n",
        "",
    );
    let cfg = RunConfig {
        stop: StopRule::Requests(100),
        warmup: Warmup::None,
        ..RunConfig::default()
    };
    let err = run_err(&yaml, cfg);
    let SimError::NoPassage { probe, events, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(probe, "never");
    assert!(*events > demandsim::qpn::NO_PASSAGE_EVENTS, "{err}");
    assert!(
        err.to_string()
            .contains("probe never has had no passage in")
    );
}

#[test]
fn a_precision_rule_names_the_probe_that_never_completes() {
    let cfg = RunConfig {
        stop: StopRule::Precision(0.01),
        warmup: Warmup::None,
        ..RunConfig::default()
    };
    let err = run_err(LOST, cfg);
    assert!(
        matches!(&err, SimError::NoPassage { probe, .. } if probe == "never (job)"),
        "{err}"
    );
}

#[test]
fn a_run_past_its_event_limit_stops_saying_so() {
    let yaml = LOST.replace(
        "  never: {start: {place: lost, when: enter}, end: {transition: gone}}\n",
        "",
    );
    let cfg = RunConfig {
        stop: StopRule::Requests(1_000_000),
        warmup: Warmup::None,
        max_events: Some(50_000),
        ..RunConfig::default()
    };
    let err = run_err(&yaml, cfg);
    let SimError::EventLimit {
        events, passages, ..
    } = err
    else {
        panic!("{err}");
    };
    // Checked every 4,096 steps; each passage takes 3 events.
    assert!((50_000..50_000 + 3 * 4_096).contains(&events), "{events}");
    assert!((16_000..21_000).contains(&passages), "{passages}");
}

#[test]
fn the_default_event_limit_follows_the_passages_asked_for() {
    let cfg = |stop, warmup| RunConfig {
        stop,
        warmup,
        ..RunConfig::default()
    };
    let base = demandsim::qpn::BASE_EVENT_LIMIT;
    assert_eq!(
        cfg(StopRule::Requests(10), Warmup::None).event_limit(),
        base
    );
    assert_eq!(
        cfg(StopRule::Requests(5_000_000), Warmup::Count(1_000_000)).event_limit(),
        6_000_000_000
    );
    assert_eq!(
        cfg(StopRule::Requests(u64::MAX), Warmup::Auto).event_limit(),
        u64::MAX
    );
    assert_eq!(cfg(StopRule::Time(1e9), Warmup::None).event_limit(), base);
}

#[test]
fn a_think_time_that_overflows_the_clock_ends_with_a_message() {
    // A closed loop whose think time is 1e308 s: the second one is due at
    // infinity (it grew the percentile sketch without end before).
    let yaml = "colors: [user]
places:
  CPU: {queue: ps, service: {user: {exponential: 0.1}}, initial: {user: 1}}
transitions:
  think: {delay: {deterministic: 1e308}, in: {CPU: user}, out: {CPU: user}}
probes:
  cycle: {start: {transition: think}, end: {transition: think}}
";
    let cfg = RunConfig {
        stop: StopRule::Requests(10),
        warmup: Warmup::None,
        ..RunConfig::default()
    };
    let err = run_err(yaml, cfg);
    assert!(
        matches!(&err, SimError::InfiniteTime { at, .. } if at == "transition think"),
        "{err}"
    );
}

#[test]
fn qpme_rt10_overflow_fails_as_unstable_naming_the_growing_place() {
    // QPME's regression test 10: a transition that makes two tokens of
    // one. It ran silently to 11 M tokens and 900 MB and reported means.
    let qpe = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/third-party/qpme/RT10/overflow.qpe");
    if !qpe.exists() {
        eprintln!("skipped: ../shared/third-party/qpme is absent");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("rt10.yaml");
    let qpe = qpe.to_str().unwrap();
    let m = model.to_str().unwrap();
    let r = demandsim(&["-q", "import", "qpe", qpe, "-o", m], b"");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = demandsim(&["simulate", m, "--seed", "1", "--format", "json"], b"");
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.matches("place new place 1 holds 1000").count() == 1
            && r.stderr.contains("more each simulated second")
            && r.stderr.contains("unstable"),
        "{}",
        r.stderr
    );
}

/// An open queue whose departures each need a permit, and the first one
/// takes the only permit: every later request waits in Q's depository
/// (served, never taken). The join leaves the model without an analytic
/// stability check.
const STUCK: &str = "colors: [request, permit]
params:
  arrival_rate: 0.5
places:
  Q: {queue: fcfs, service: {request: {exponential: 1}}}
  Gate: {initial: {permit: 1}}
transitions:
  arrive: {delay: {exponential: 1 / arrival_rate}, out: {Q: request}}
  depart: {in: {Q: request, Gate: permit}}
probes:
  response: {start: {transition: arrive}, end: {transition: depart}}
";

#[test]
fn tokens_that_no_transition_takes_count_toward_the_token_limit() {
    // The limit counted tokens in queues only: the depository grew until
    // the machine's memory ran out (exit 134 under a 500 MB limit).
    let cfg = RunConfig {
        stop: StopRule::Requests(10),
        warmup: Warmup::None,
        token_limit: 1_000,
        ..RunConfig::default()
    };
    let err = run_err(STUCK, cfg);
    // Beyond the limit and the one permit of the initial marking: the
    // first token over it, all in Q (the permit is gone).
    assert!(
        matches!(&err, SimError::Unstable { place, tokens, .. } if place == "Q" && *tokens == 1_002),
        "{err}"
    );
}

/// `demandsim ARGS` under a 500 MB data limit, as the bad-input gate runs
/// it.
#[cfg(unix)]
fn limited(args: &[&str]) -> (Option<i32>, String) {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -d 500000 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_demandsim"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[cfg(unix)]
#[test]
fn capacity_by_simulation_stops_at_its_limits_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let stuck = dir.path().join("stuck.yaml");
    std::fs::write(&stuck, STUCK).unwrap();
    let search = |model: &str, requests: &str| {
        limited(&[
            "capacity",
            model,
            "--find",
            "arrival_rate",
            "--slo",
            "mean<=5s",
            "--range",
            "0.2..3",
            "--simulate",
            "--requests",
            requests,
            "--seed",
            "1",
        ])
    };
    // Each replication stops at the token limit (a million tokens beyond
    // the permit) at the first value tried, and the search with it.
    let (code, err) = search(stuck.to_str().unwrap(), "200000");
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("stuck.yaml: at arrival_rate = 0.2")
            && err.contains("place Q holds 1000002 tokens")
            && err.contains("unstable"),
        "{err}"
    );
    // A trillion requests per evaluation: every passage's time is kept
    // to rank it; it aborted on the allocation (exit 134).
    let open = concat!(env!("CARGO_MANIFEST_DIR"), "/models/qpn1-open.yaml");
    let (code, err) = search(open, "1000000000000");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(
            "--requests: 1000000000000 simulated requests per evaluation: more than the 10000000"
        ),
        "{err}"
    );
}
