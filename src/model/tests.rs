//! Loader tests: every class of mistake is reported at its line and column.

use super::*;

const GOOD: &str = "params:
  rate: 0.5
  demand: 1.0
colors: [job]
places:
  Q:
    queue: fcfs
    service: {job: {exponential: demand}}
transitions:
  arrive:
    delay: {exponential: 1 / rate}
    out: {Q: job}
  leave:
    in: {Q: job}
probes:
  response:
    start: {transition: arrive}
    end: {transition: leave}
";

fn err(yaml: &str) -> String {
    load(yaml, &LoadOptions::default()).unwrap_err().to_string()
}

#[test]
fn a_good_model_compiles_with_its_parameters() {
    let m = load(GOOD, &LoadOptions::default()).unwrap();
    assert_eq!(m.params["rate"], 0.5);
    assert_eq!(m.net.places[0].name, "Q");
    assert_eq!(m.net.transitions.len(), 2);
    let loads = m.open_loads.unwrap();
    assert_eq!(loads, vec![("Q".to_string(), 0.5, 1.0)]);
}

#[test]
fn set_overrides_parameters_and_rejects_unknown_ones() {
    let o = Params::new().with("rate", "2 * 0.3");
    let m = load(
        GOOD,
        &LoadOptions {
            params: o,
            ..LoadOptions::default()
        },
    )
    .unwrap();
    assert!((m.params["rate"] - 0.6).abs() < 1e-12);
    let e = load(
        GOOD,
        &LoadOptions {
            params: Params::new().with("rat", 1.0),
            ..LoadOptions::default()
        },
    )
    .unwrap_err();
    assert!(e.is_setting());
    assert_eq!(
        e.to_string(),
        "rat=1: the model has no parameter `rat` (it has: rate, demand)"
    );
}

#[test]
fn one_template_instantiates_with_many_values_and_derived_parameters_follow() {
    let t = Template::parse(GOOD, LoadOptions::default().read_file).unwrap();
    let names: Vec<&str> = t.params().map(|(n, _)| n).collect();
    assert_eq!(names, ["rate", "demand"]);
    for rate in [0.1, 0.25, 0.7] {
        let m = t
            .instantiate(&Params::new().with("rate", rate), Stability::Reject)
            .unwrap();
        // The arrival delay is the expression `1 / rate`: exactly 1 / rate.
        let crate::qpn::Timing::Timed { delay } = &m.net.transitions[0].timing else {
            panic!("a timed source")
        };
        assert_eq!(delay.mean(), 1.0 / rate);
        assert_eq!(m.open_loads.unwrap()[0].1, rate);
    }
    // A number is taken exactly as given, never through text.
    let x = 0.1 + 0.2;
    let m = t
        .instantiate(&Params::new().with("demand", x), Stability::Allow)
        .unwrap();
    assert_eq!(m.params["demand"], x);
    let e = t
        .instantiate(&Params::new().with("rate", 2.0), Stability::Reject)
        .unwrap_err();
    assert!(matches!(e, ModelError::Unstable { .. }), "{e}");
}

#[test]
fn a_bad_setting_names_itself_and_a_bad_default_its_line() {
    let t = Template::parse(GOOD, LoadOptions::default().read_file).unwrap();
    let e = t
        .instantiate(&Params::new().with("rate", "1 / 0"), Stability::Reject)
        .unwrap_err();
    assert_eq!(e.to_string(), "rate=1 / 0: division by zero");
    let e = err(&GOOD.replace("rate: 0.5", "rate: demand * x"));
    assert!(e.starts_with("line 2, column 3: parameter `rate`"), "{e}");
}

#[test]
fn an_unknown_place_is_reported_where_it_is_named() {
    let e = err(&GOOD.replace("in: {Q: job}", "in: {QQ: job}"));
    assert_eq!(e, "line 14, column 10: unknown place `QQ` (places: Q)");
}

#[test]
fn an_unknown_colour_or_parameter_is_reported_with_the_choices() {
    let e = err(&GOOD.replace(
        "service: {job: {exponential: demand}}",
        "service: {jb: {exponential: demand}}",
    ));
    assert!(
        e.starts_with("line 8, column 15: unknown colour `jb` (colours: job)"),
        "{e}"
    );
    let e = err(&GOOD.replace("exponential: demand}", "exponential: demnd}"));
    assert!(
        e.starts_with(
            "line 8, column 34: `demnd`: unknown parameter `demnd` (parameters: demand, rate)"
        ),
        "{e}"
    );
}

#[test]
fn non_positive_rates_are_rejected() {
    let e = err(&GOOD.replace("demand: 1.0", "demand: -1.0"));
    assert!(
        e.starts_with("line 8, column 34: the mean must be positive, got -1"),
        "{e}"
    );
    let e = err(&GOOD.replace("rate: 0.5", "rate: 0"));
    assert!(e.contains("division by zero"), "{e}");
}

#[test]
fn a_mode_that_can_never_fire_is_named() {
    let yaml = GOOD
        .replace(
            "  leave:\n    in: {Q: job}",
            "  leave:\n    in: {Q: job}\n  ghost:\n    in: {P: job}\n    out: {Q: job}",
        )
        .replace("places:\n", "places:\n  P: {}\n");
    let e = err(&yaml);
    assert!(
        e.contains(
            "transition `ghost` mode `mode1` can never fire: place `P` never holds colour `job`"
        ),
        "{e}"
    );
    assert!(e.starts_with("line 16, column 3"), "{e}");
}

#[test]
fn an_unstable_open_model_is_rejected_with_its_numbers_unless_allowed() {
    let yaml = GOOD.replace("rate: 0.5", "rate: 1.25");
    let e = err(&yaml);
    assert!(
        e.contains("place Q is offered 1.2500 busy servers")
            && e.contains("1 server(s)")
            && e.contains("125.0 %"),
        "{e}"
    );
    assert!(
        load(
            &yaml,
            &LoadOptions {
                stability: Stability::Allow,
                ..LoadOptions::default()
            }
        )
        .is_ok()
    );
}

#[test]
fn copies_expand_and_each_routes_to_every_copy() {
    let yaml = "params: {k: 3}
colors: [r]
places:
  CO: {copies: k, queue: fcfs, servers: 2, service: {r: {exponential: 1}}}
transitions:
  arrive: {delay: {exponential: 1}, each: CO, out: {CO: r}}
  leave: {each: CO, in: {CO: r}}
";
    let m = load(yaml, &LoadOptions::default()).unwrap();
    let names: Vec<&str> = m.net.places.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["CO1", "CO2", "CO3"]);
    assert_eq!(m.net.transitions[0].modes.len(), 3);
    let loads = m.open_loads.unwrap();
    assert!(
        loads
            .iter()
            .all(|(_, l, c)| (l - 1.0 / 3.0).abs() < 1e-12 && *c == 2.0),
        "{loads:?}"
    );
    let e = err(&yaml.replace("leave: {each: CO, in: {CO: r}}", "leave: {in: {CO: r}}"));
    assert!(e.contains("place `CO` has copies: use `each: CO`"), "{e}");
}

#[test]
fn huge_markings_and_yaml_bombs_are_refused() {
    let e = err(&GOOD.replace(
        "    queue: fcfs\n",
        "    queue: fcfs\n    initial: {job: 1e9}\n",
    ));
    assert!(e.contains("more than the 10000000 supported"), "{e}");
    // The bomb sits where the schema buffers untyped content (an untagged
    // probe point list), so only the parser's budget can stop it.
    let mut bomb = String::from(
        "colors: [a]\nplaces:\n  Q: {}\nprobes:\n  r:\n    start:\n      - &a [x, x, x, x, x, x, x, x, x, x]\n",
    );
    let mut prev = "a".to_string();
    for i in 0..9 {
        let refs = vec![format!("*{prev}"); 10].join(", ");
        bomb.push_str(&format!("      - &b{i} [{refs}]\n"));
        prev = format!("b{i}");
    }
    bomb.push_str("    end: {place: Q, when: enter}\n");
    let e = load(&bomb, &LoadOptions::default()).unwrap_err();
    assert!(e.to_string().contains("budget breached"), "{e}");
    assert!(matches!(e, ModelError::Yaml { .. }), "{e}");
}

#[test]
fn yaml_booleans_where_numbers_belong_are_explained() {
    let e = err(&GOOD.replace("demand: 1.0", "demand: n"));
    assert!(e.contains("YAML boolean"), "{e}");
}

#[test]
fn unknown_keys_are_rejected() {
    let e = err(&GOOD.replace("    queue: fcfs\n", "    queue: fcfs\n    sevrers: 2\n"));
    assert!(e.contains("sevrers"), "{e}");
}

#[test]
fn a_mode_of_weight_zero_is_left_out_and_all_zero_is_refused() {
    let yaml = "params: {ra: 2, rb: 0}
colors: [a, b]
places:
  CPU: {queue: ps, service: {a: {exponential: 0.1}, b: {exponential: 0.1}}}
transitions:
  arrive:
    delay: {exponential: 1 / (ra + rb)}
    modes: [{name: a, weight: ra, out: {CPU: a}}, {name: b, weight: rb, out: {CPU: b}}]
  leave: {modes: [{in: {CPU: a}}, {in: {CPU: b}}]}
";
    let m = load(yaml, &LoadOptions::default()).unwrap();
    let modes: Vec<&str> = m.net.transitions[0]
        .modes
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(modes, ["a"]);
    let e = err(&yaml.replace("ra: 2", "ra: 0").replace("1 / (ra + rb)", "1"));
    assert!(e.contains("every mode has weight 0"), "{e}");
    let e = err(&yaml.replace("rb: 0", "rb: -1"));
    assert!(e.contains("a mode weight must be 0 or more, got -1"), "{e}");
}

#[test]
fn the_modes_a_zero_weight_fed_go_with_it() {
    // Class b never arrives: its admission and departure modes are left
    // out too, instead of being reported as modes that can never fire.
    let yaml = "params: {ra: 2, rb: 0}
colors: [a, b, w]
places:
  Q: {}
  W: {initial: {w: 2}}
  CPU: {queue: ps, service: {a: {exponential: 0.1}, b: {exponential: 0.1}}}
transitions:
  arrive:
    delay: {exponential: 1 / (ra + rb)}
    modes: [{weight: ra, out: {Q: a}}, {weight: rb, out: {Q: b}}]
  admit: {modes: [{in: {Q: a, W: w}, out: {CPU: a}}, {in: {Q: b, W: w}, out: {CPU: b}}]}
  leave: {modes: [{in: {CPU: a}, out: {W: w}}, {in: {CPU: b}, out: {W: w}}]}
";
    let m = load(yaml, &LoadOptions::default()).unwrap();
    let counts: Vec<usize> = m.net.transitions.iter().map(|t| t.modes.len()).collect();
    assert_eq!(counts, [1, 1, 1]);
    // Without a weight of 0, a mode that can never fire is still an error.
    let e = err(&yaml
        .replace("rb: 0", "rb: 1")
        .replace("out: {Q: b}", "out: {W: w}"));
    assert!(e.contains("can never fire"), "{e}");
}

#[test]
fn run_defaults_are_read_with_parameters_and_checked() {
    let m = load(
        &format!("{GOOD}run: {{time: 100 * demand, warmup: 10}}\n"),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(
        m.run,
        RunDefaults {
            time_s: Some(100.0),
            warmup_s: Some(10.0)
        }
    );
    let none = load(GOOD, &LoadOptions::default()).unwrap();
    assert_eq!(none.run, RunDefaults::default());
    assert!(
        err(&format!("{GOOD}run: {{time: 0}}\n")).contains("run time must be positive"),
        "{}",
        err(&format!("{GOOD}run: {{time: 0}}\n"))
    );
    assert!(err(&format!("{GOOD}run: {{warmup: -1}}\n")).contains("warm-up must be 0 or more"));
}

/// GOOD with a PS queue whose place lines are `lines`.
fn ps_with(lines: &str) -> String {
    GOOD.replace("    queue: fcfs\n", &format!("    queue: ps\n{lines}"))
}

#[test]
fn a_load_dependent_rate_is_read_over_params_and_its_stability_limit_is_its_last_value() {
    let yaml = ps_with("    load_dependence: [1, 1.6, cores]\n")
        .replace("  demand: 1.0\n", "  demand: 1.0\n  cores: 2\n");
    let m = load(&yaml, &LoadOptions::default()).unwrap();
    let q = m.net.places[0].queue.as_ref().unwrap();
    assert_eq!(q.load_dependence, vec![1.0, 1.6, 2.0]);
    assert_eq!(m.open_loads.unwrap()[0].2, 2.0);
    // Offered 2.4 erlangs: stable on a rate that reaches 2.5, not on 2.
    let opts = |rate: f64| LoadOptions {
        params: Params::new().with("rate", rate).with("cores", 2.5),
        ..LoadOptions::default()
    };
    assert!(load(&yaml, &opts(2.4)).is_ok());
    assert!(err(&yaml.replace("rate: 0.5", "rate: 2.4")).contains("unstable"));
}

#[test]
fn a_bad_load_dependent_rate_is_refused_at_its_line_naming_the_place() {
    assert_eq!(
        err(&GOOD.replace(
            "    queue: fcfs\n",
            "    queue: fcfs\n    load_dependence: [1, 2]\n"
        )),
        "line 8, column 22: `Q`: a fcfs queue takes no load_dependence; only ps does"
    );
    assert_eq!(
        err(&ps_with("    load_dependence: [1, 0]\n")),
        "line 8, column 26: `Q`'s load_dependence must be positive, got 0"
    );
    assert_eq!(
        err(&ps_with("    load_dependence: []\n")),
        "line 8, column 22: `Q`: load_dependence lists alpha(1), alpha(2), …: at least one value"
    );
    assert_eq!(
        err(&ps_with("    load_dependence: [1, 1 / 0]\n")),
        "line 8, column 26: `Q`'s load_dependence: `1 / 0`: division by zero"
    );
    assert!(
        err(&ps_with("    load_dependence: [1, nope]\n"))
            .starts_with("line 8, column 26: `Q`'s load_dependence: `nope`: unknown parameter")
    );
    let shared = GOOD
        .replace(
            "    queue: fcfs\n",
            "    queue: {shared: CPU}\n    load_dependence: [1, 2]\n",
        )
        .replace("places:\n", "queues:\n  CPU: {queue: ps}\nplaces:\n");
    assert!(
        err(&shared).contains("place `Q` shares queue `CPU`: its load_dependence is set there"),
        "{}",
        err(&shared)
    );
    let on_queue = GOOD
        .replace("    queue: fcfs\n", "    queue: {shared: CPU}\n")
        .replace(
            "places:\n",
            "queues:\n  CPU: {queue: ps, load_dependence: [1, 1.5]}\nplaces:\n",
        );
    let m = load(&on_queue, &LoadOptions::default()).unwrap();
    assert_eq!(m.net.queues[0].load_dependence, vec![1.0, 1.5]);
    assert_eq!(
        m.net.places[0].queue.as_ref().unwrap().load_dependence,
        vec![1.0, 1.5]
    );
}
