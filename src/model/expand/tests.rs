//! Per-class models against the same models written out by hand: the
//! same net, the same parameters in the same order; and every mistake
//! at its line and column.

use crate::model::{LoadOptions, Model, Params, Stability, Template, load};

fn model(yaml: &str) -> Model {
    load(yaml, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn err(yaml: &str) -> String {
    load(yaml, &LoadOptions::default()).unwrap_err().to_string()
}

fn param_names(yaml: &str) -> Vec<String> {
    let t = Template::parse(yaml, LoadOptions::default().read_file).unwrap();
    t.params().map(|(n, _)| n.to_string()).collect()
}

/// Same net (every place, colour, mode, weight and distribution, bit for
/// bit), same parameters, same order of parameters.
fn assert_same(per_class: &str, written_out: &str) {
    let (a, b) = (model(per_class), model(written_out));
    assert_eq!(format!("{:?}", *a.net), format!("{:?}", *b.net));
    assert_eq!(a.params, b.params);
    assert_eq!(a.open_loads, b.open_loads);
    assert_eq!(param_names(per_class), param_names(written_out));
}

#[test]
fn the_testbed_model_is_the_net_it_was_written_out() {
    let per_class = include_str!("../../../models/testbed.yaml");
    let written_out = include_str!("../../../tests/fixtures/models/testbed-written-out.yaml");
    assert_same(per_class, written_out);
    // And stays so for other values of the per-class parameters.
    let t = Template::parse(per_class, LoadOptions::default().read_file).unwrap();
    let w = Template::parse(written_out, LoadOptions::default().read_file).unwrap();
    let p = Params::new()
        .with("rate_buy", 0.0)
        .with("demand_login", 0.03)
        .with("workers", 4.0);
    let (a, b) = (
        t.instantiate(&p, Stability::Reject).unwrap(),
        w.instantiate(&p, Stability::Reject).unwrap(),
    );
    assert_eq!(format!("{:?}", *a.net), format!("{:?}", *b.net));
    // The arrival delay is 1 / the sum of the rates, added in class order.
    let crate::qpn::Timing::Timed { delay } = &a.net.transitions[0].timing else {
        panic!("a timed source")
    };
    let rates = [0.5, 2.0, 3.5, 1.7, 0.0, 0.9, 0.6, 0.5, 0.9];
    assert_eq!(delay.mean(), 1.0 / rates.iter().fold(0.0, |s, r| s + r));
    assert_eq!(
        t.classes().members("c").unwrap(),
        [
            "login",
            "companies",
            "rate",
            "holdings",
            "buy",
            "sell",
            "offers",
            "transactions",
            "history"
        ]
    );
}

/// Two profiles, each visiting some of three types; a chain between the
/// types a profile visits (a sparse table, an alias for the second
/// placeholder, a default for what the table leaves out).
const CHAIN: &str = r#"classes:
  p: [A, B]
  t: [x, y, z]
  v: {A: [x, y], B: [y, z]}
  w: v
  q: p
params:
  users_{p}: {A: 2, B: 3}
  d_{t}: 0.01
  go_{p}_{v}_{w}:
    "*": 0
    A: {x: {y: 0.5}, y: 0.25}
    B: {y: {z: 1}}
  stop_{p}_{v}: {"*": 0.5, B: {z: 1}}
colors: ["{p}.{v}", "{p}"]
places:
  S: {queue: is, service: {"{p}": {exponential: 1}}, initial: {"{p}": "users_{p}"}}
  R: {queue: ps, service: {"{p}.{v}": {exponential: "d_{v} * users_{p} / sum(users_{q})"}}}
transitions:
  start: {each: [p, v], in: {S: "{p}"}, out: {R: "{p}.{v}"}}
  next:
    modes:
      - {each: {p: p, from: v, to: w}, weight: "go_{p}_{from}_{to}", in: {R: "{p}.{from}"}, out: {R: "{p}.{to}"}}
      - {each: [p, v], name: "{p}.{v} ends", weight: "stop_{p}_{v}", in: {R: "{p}.{v}"}, out: {S: "{p}"}}
probes:
  response: {colors: ["{p}.{v}"], start: {place: R, when: enter}, end: {place: R, when: exit}}
"#;

const CHAIN_WRITTEN_OUT: &str = r#"params:
  users_A: 2
  users_B: 3
  d_x: 0.01
  d_y: 0.01
  d_z: 0.01
  go_A_x_x: 0
  go_A_x_y: 0.5
  go_A_y_x: 0.25
  go_A_y_y: 0.25
  go_B_y_y: 0
  go_B_y_z: 1
  go_B_z_y: 0
  go_B_z_z: 0
  stop_A_x: 0.5
  stop_A_y: 0.5
  stop_B_y: 0.5
  stop_B_z: 1
colors: [A.x, A.y, B.y, B.z, A, B]
places:
  S: {queue: is, service: {A: {exponential: 1}, B: {exponential: 1}}, initial: {A: users_A, B: users_B}}
  R:
    queue: ps
    service:
      A.x: {exponential: d_x * users_A / (users_A + users_B)}
      A.y: {exponential: d_y * users_A / (users_A + users_B)}
      B.y: {exponential: d_y * users_B / (users_A + users_B)}
      B.z: {exponential: d_z * users_B / (users_A + users_B)}
transitions:
  start:
    modes:
      - {name: A.x, in: {S: A}, out: {R: A.x}}
      - {name: A.y, in: {S: A}, out: {R: A.y}}
      - {name: B.y, in: {S: B}, out: {R: B.y}}
      - {name: B.z, in: {S: B}, out: {R: B.z}}
  next:
    modes:
      - {name: A.x.x, weight: go_A_x_x, in: {R: A.x}, out: {R: A.x}}
      - {name: A.x.y, weight: go_A_x_y, in: {R: A.x}, out: {R: A.y}}
      - {name: A.y.x, weight: go_A_y_x, in: {R: A.y}, out: {R: A.x}}
      - {name: A.y.y, weight: go_A_y_y, in: {R: A.y}, out: {R: A.y}}
      - {name: B.y.y, weight: go_B_y_y, in: {R: B.y}, out: {R: B.y}}
      - {name: B.y.z, weight: go_B_y_z, in: {R: B.y}, out: {R: B.z}}
      - {name: B.z.y, weight: go_B_z_y, in: {R: B.z}, out: {R: B.y}}
      - {name: B.z.z, weight: go_B_z_z, in: {R: B.z}, out: {R: B.z}}
      - {name: A.x ends, weight: stop_A_x, in: {R: A.x}, out: {S: A}}
      - {name: A.y ends, weight: stop_A_y, in: {R: A.y}, out: {S: A}}
      - {name: B.y ends, weight: stop_B_y, in: {R: B.y}, out: {S: B}}
      - {name: B.z ends, weight: stop_B_z, in: {R: B.z}, out: {S: B}}
probes:
  response: {colors: [A.x, A.y, B.y, B.z], start: {place: R, when: enter}, end: {place: R, when: exit}}
"#;

#[test]
fn indexed_sets_aliases_and_sparse_tables_write_out_as_by_hand() {
    assert_same(CHAIN, CHAIN_WRITTEN_OUT);
    let m = model(CHAIN);
    // The modes of weight 0 are left out: 12 written, 4 of weight 0.
    assert_eq!(m.net.transitions[1].modes.len(), 8);
    assert_eq!(m.params["go_A_y_x"], 0.25);
    let t = Template::parse(CHAIN, LoadOptions::default().read_file).unwrap();
    let c = t.classes();
    assert_eq!(c.names().collect::<Vec<_>>(), ["p", "t", "v", "w", "q"]);
    assert_eq!(c.members("v").unwrap(), ["x", "y", "z"]);
    let names: Vec<String> = c
        .expand("d_{p}_{v}")
        .unwrap()
        .iter()
        .map(|b| b.ident("d_{p}_{v}").unwrap())
        .collect();
    assert_eq!(names, ["d_A_x", "d_A_y", "d_B_y", "d_B_z"]);
    // A setting of no parameter lists them as the file names them.
    let e = t
        .instantiate(&Params::new().with("go_A_x", 1.0), Stability::Reject)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "go_A_x=1: the model has no parameter `go_A_x` (it has: users_{p}, d_{t}, go_{p}_{v}_{w}, stop_{p}_{v})"
    );
}

#[test]
fn placeholders_expand_places_transitions_and_probes_by_their_names() {
    let per_class = r#"classes: [a, b]
params: {"rate_{c}": {a: 1, b: 2}}
colors: ["{c}"]
places:
  "Q_{c}": {queue: fcfs, service: {"{c}": {exponential: 0.1}}}
transitions:
  "in_{c}": {delay: {exponential: "1 / rate_{c}"}, out: {"Q_{c}": "{c}"}}
  "out_{c}": {in: {"Q_{c}": "{c}"}}
probes:
  "r_{c}": {colors: ["{c}"], start: {transition: "in_{c}"}, end: {place: "Q_{c}", when: exit}}
"#;
    let written_out = r#"params: {rate_a: 1, rate_b: 2}
colors: [a, b]
places:
  Q_a: {queue: fcfs, service: {a: {exponential: 0.1}}}
  Q_b: {queue: fcfs, service: {b: {exponential: 0.1}}}
transitions:
  in_a: {delay: {exponential: 1 / rate_a}, out: {Q_a: a}}
  in_b: {delay: {exponential: 1 / rate_b}, out: {Q_b: b}}
  out_a: {in: {Q_a: a}}
  out_b: {in: {Q_b: b}}
probes:
  r_a: {colors: [a], start: {transition: in_a}, end: {place: Q_a, when: exit}}
  r_b: {colors: [b], start: {transition: in_b}, end: {place: Q_b, when: exit}}
"#;
    assert_same(per_class, written_out);
}

#[test]
fn members_stand_as_written_in_names_and_as_identifiers_in_parameters() {
    let m = model(
        r#"classes: [GET /a, b-2]
params: {"d_{c}": {GET /a: 0.1, b-2: 0.2}}
colors: ["{c}"]
places: {Q: {queue: ps, service: {"{c}": {exponential: "d_{c}"}}}}
transitions:
  arrive: {delay: {exponential: 1}, modes: [{each: c, out: {Q: "{c}"}}]}
  leave: {each: c, in: {Q: "{c}"}}
"#,
    );
    assert_eq!(m.net.colors, ["GET /a", "b-2"]);
    assert_eq!(m.params.keys().collect::<Vec<_>>(), ["d_GET__a", "d_b_2"]);
    let modes: Vec<&str> = m.net.transitions[1]
        .modes
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(modes, ["GET /a", "b-2"]);
}

const SMALL: &str = r#"classes: [a, b]
params:
  d_{c}: {a: 0.1, b: 0.2}
colors: ["{c}"]
places:
  Q: {queue: ps, service: {"{c}": {exponential: "d_{c}"}}}
transitions:
  arrive: {delay: {exponential: 1}, modes: [{each: c, out: {Q: "{c}"}}]}
  leave: {each: c, in: {Q: "{c}"}}
"#;

#[test]
fn the_small_model_loads() {
    let m = model(SMALL);
    assert_eq!(m.net.colors, ["a", "b"]);
}

/// Each mistake as an edit of [`SMALL`] (`from` → `to`) and the start of
/// the message, which names its line and column.
const MISTAKES: &[(&str, &str, &str)] = &[
    // An unknown set in a key, in `each`, in a sum.
    (
        "\"{c}\": {exponential",
        "\"{k}\": {exponential",
        "line 6, column 28: `{k}` names no class set (sets: c)",
    ),
    (
        "modes: [{each: c,",
        "modes: [{each: k,",
        "line 8, column 52: `each: k` names no place and no class set (sets: c)",
    ),
    (
        "{exponential: 1}, modes",
        "{exponential: \"1 / sum(d_{k})\"}, modes",
        "line 8, column 33: `{k}` names no class set (sets: c)",
    ),
    // A placeholder nothing binds.
    (
        "leave: {each: c, in",
        "leave: {in",
        "line 9, column 19: `{c}` stands for no member here",
    ),
    // A sum over nothing.
    (
        "{exponential: 1}, modes",
        "{exponential: \"1 / sum(d_a)\"}, modes",
        "line 8, column 33: `sum(d_a)` has nothing to add up",
    ),
    // A table missing a member, naming a non-member, too deep; a table without placeholders.
    (
        "{a: 0.1, b: 0.2}",
        "{a: 0.1}",
        "line 3, column 10: parameter `d_{c}`: the table has no entry for `b`",
    ),
    (
        "{a: 0.1, b: 0.2}",
        "{a: 0.1, b: 0.2, x: 1}",
        "line 3, column 27: parameter `d_{c}`: `x` is not a member `{c}` ranges over (members: a, b)",
    ),
    (
        "{a: 0.1, b: 0.2}",
        "{a: 0.1, b: {x: 1}}",
        "line 3, column 22: parameter `d_{c}`: a number or an expression is expected here",
    ),
    (
        "d_{c}: {a: 0.1, b: 0.2}",
        "d_{c}: 0.1\n  e: {a: 1}",
        "line 4, column 6: parameter `e`: a table needs placeholders",
    ),
    // A name given twice; a parameter name expressions cannot use.
    (
        "d_{c}: {a: 0.1, b: 0.2}",
        "d_{c}: 0.1\n  d_a: 2",
        "line 4, column 3: parameter `d_a` is defined twice (also at line 3, column 3)",
    ),
    // Sets: empty, a member twice, an index or alias naming no set.
    (
        "classes: [a, b]",
        "classes: []",
        "line 1, column 10: set `c` has no members",
    ),
    (
        "classes: [a, b]",
        "classes: [a, b, a]",
        "line 1, column 17: set `c` lists `a` twice",
    ),
    (
        "classes: [a, b]",
        "classes: {c: [a, b], v: {a: [x], q: [y]}}",
        "line 1, column 25: set `v`: a set written as a map needs one list for each member of a set declared before it",
    ),
    (
        "classes: [a, b]",
        "classes: {c: [a, b], w: k}",
        "line 1, column 25: set `w` = `k`: no set `k` is declared before it (sets: c)",
    ),
];

#[test]
fn every_mistake_is_reported_where_it_is_written() {
    let cases = MISTAKES;
    let mut wrong = Vec::new();
    for (from, to, want) in cases {
        let yaml = SMALL.replacen(from, to, 1);
        assert_ne!(yaml, SMALL, "{from}");
        let e = err(&yaml);
        if !e.starts_with(want) {
            wrong.push(format!("{to}:\n  got  {e}\n  want {want}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let yaml = SMALL
        .replace("classes: [a, b]", "classes: [a, 2b]")
        .replace("d_{c}: {a: 0.1, b: 0.2}", "d_{c}: 0.1\n  \"{c}_x\": 1");
    assert!(
        err(&yaml).starts_with(
            "line 4, column 3: parameter `2b_x` (from `{c}_x`): a parameter's name is letters"
        ),
        "{}",
        err(&yaml)
    );
}

#[test]
fn an_indexed_set_needs_its_index_bound_beside_it() {
    let yaml = CHAIN.replace("start: {each: [p, v], in", "start: {each: v, in");
    let e = err(&yaml);
    assert!(
        e.starts_with(
            "line 20, column 17: `{v}` has a list per member of `p`: bind `{p}` beside it"
        ),
        "{e}"
    );
    let e = err(&CHAIN.replace("d_{t}: 0.01", "d_{v}: 0.01"));
    assert!(
        e.starts_with("line 9, column 3: `{v}` has a list per member of `p`"),
        "{e}"
    );
}

#[test]
fn defaults_may_be_expressions_of_the_member_and_sums_over_a_set() {
    let per_class = r#"classes: {c: [a, b], s: [x, y]}
params:
  r_{c}: {a: 1, b: 3}
  total: "sum(r_{c})"
  share_{c}: "r_{c} / total"
  d_{c}_{s}: {a: 0.01, b: {x: 0.02, y: 0.03}}
colors: ["{c}"]
places:
  "Q_{s}": {queue: ps, service: {"{c}": {exponential: "d_{c}_{s}"}}}
transitions:
  arrive: {delay: {exponential: "1 / total"}, modes: [{each: c, weight: "share_{c}", out: {Q_x: "{c}"}}]}
  "hop_{c}": {modes: [{each: {from: s, to: s}, weight: 1, in: {"Q_{from}": "{c}"}, out: {"Q_{to}": "{c}"}}, {in: {Q_y: "{c}"}}]}
"#;
    let written_out = r#"params:
  r_a: 1
  r_b: 3
  total: (r_a + r_b)
  share_a: r_a / total
  share_b: r_b / total
  d_a_x: 0.01
  d_a_y: 0.01
  d_b_x: 0.02
  d_b_y: 0.03
colors: [a, b]
places:
  Q_x: {queue: ps, service: {a: {exponential: d_a_x}, b: {exponential: d_b_x}}}
  Q_y: {queue: ps, service: {a: {exponential: d_a_y}, b: {exponential: d_b_y}}}
transitions:
  arrive: {delay: {exponential: 1 / total}, modes: [{name: a, weight: share_a, out: {Q_x: a}}, {name: b, weight: share_b, out: {Q_x: b}}]}
  hop_a:
    modes:
      - {name: x.x, in: {Q_x: a}, out: {Q_x: a}}
      - {name: x.y, in: {Q_x: a}, out: {Q_y: a}}
      - {name: y.x, in: {Q_y: a}, out: {Q_x: a}}
      - {name: y.y, in: {Q_y: a}, out: {Q_y: a}}
      - {in: {Q_y: a}}
  hop_b:
    modes:
      - {name: x.x, in: {Q_x: b}, out: {Q_x: b}}
      - {name: x.y, in: {Q_x: b}, out: {Q_y: b}}
      - {name: y.x, in: {Q_y: b}, out: {Q_x: b}}
      - {name: y.y, in: {Q_y: b}, out: {Q_y: b}}
      - {in: {Q_y: b}}
"#;
    assert_same(per_class, written_out);
    assert_eq!(model(per_class).params["share_b"], 0.75);
}
