//! Small observation sets the validation tests share.

use super::{Config, Diagnostics, Discipline, Method, Observations, Report, Row, estimate};

/// Two rows on one server: X = 2 and 4 /s, U = 0.3 and 0.5, R = 0.2
/// and 0.4 s (5 and 10 completions).
pub(super) fn two_rows() -> Observations {
    let row = |x: f64, u: f64, r: f64, n: u64| Row {
        length: 30.0,
        throughput: vec![x],
        response: vec![Some(r)],
        completions: vec![n],
        utilization: u,
        in_system: vec![x * r],
        arrived: Vec::new(),
    };
    Observations::new(
        vec!["a".into()],
        1,
        vec![row(2.0, 0.3, 0.2, 5), row(4.0, 0.5, 0.4, 10)],
    )
}

/// Two classes (0.05 and 0.02 s) on one processor-sharing server, 60
/// rows of 30 s at throughputs `mix(i)`: U = Σ X·D (±1 %), each class's
/// response D·f(U) with a ±5 % wobble, as the discipline says.
pub(super) fn two_classes(mix: impl Fn(usize) -> (f64, f64)) -> Observations {
    two_classes_over(60, mix)
}

/// [`two_classes`] over `n` rows.
pub(super) fn two_classes_over(n: usize, mix: impl Fn(usize) -> (f64, f64)) -> Observations {
    let rows = (0..n)
        .map(|i| {
            let (xa, xb) = mix(i);
            let u = (0.05 * xa + 0.02 * xb) * (1.0 + 0.01 * (i as f64 * 1.7).cos());
            let f = 1.0 / (1.0 - u);
            let wobble = 1.0 + 0.05 * (i as f64 * 0.9).sin();
            Row {
                length: 30.0,
                throughput: vec![xa, xb],
                response: vec![Some(0.05 * f * wobble), Some(0.02 * f * wobble)],
                completions: vec![(xa * 30.0) as u64, (xb * 30.0) as u64],
                utilization: u,
                in_system: vec![xa * 0.05 * f, xb * 0.02 * f],
                arrived: Vec::new(),
            }
        })
        .collect();
    let mut obs = Observations::new(vec!["a".into(), "b".into()], 1, rows);
    obs.discipline = Discipline::Ps;
    obs
}

/// Mixes that vary from row to row (2–6 and 3–13 requests/s).
pub(super) fn varying(i: usize) -> (f64, f64) {
    let t = i as f64;
    (4.0 + 2.0 * (t * 0.37).sin(), 8.0 + 5.0 * (t * 0.61).cos())
}

/// [`estimate`] of `obs` with `cfg` (a CPU, 30 s intervals).
pub(super) fn estimated(obs: &Observations, cfg: &Config) -> Report {
    estimate(obs, Diagnostics::default(), cfg, "cpu", 30.0)
}

/// `methods` with five folds and no bootstrap.
pub(super) fn quick(methods: &[Method]) -> Config {
    Config {
        methods: methods.to_vec(),
        bootstrap: 0,
        ..Config::default()
    }
}
