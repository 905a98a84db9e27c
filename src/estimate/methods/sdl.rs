//! `sdl`: the service demand law.

use crate::estimate::discipline::Discipline;
use crate::estimate::estimator::{Estimator, Unfit};
use crate::estimate::hot::RowView;
use crate::estimate::observations::Observations;

/// Each class's weight in the row's busy time (not normalised), written
/// into `rx` (one per class).
fn shares(obs: &Observations, row: RowView<'_>, rx: &mut [f64]) {
    for (r, rx) in rx.iter_mut().enumerate() {
        *rx = row.response[r].map_or(0.0, |rt| rt * row.throughput[r]);
    }
    if obs.discipline == Discipline::Ps {
        return;
    }
    // Classes without a response time in this row have no known wait.
    let seen = |r: &usize| row.response[*r].is_some();
    let x: f64 = (0..rx.len()).filter(seen).map(|r| row.throughput[r]).sum();
    if x <= 0.0 {
        return;
    }
    let c = f64::from(obs.servers);
    let wait = ((rx.iter().sum::<f64>() - c * row.utilization) / x).max(0.0);
    for (r, rx) in rx.iter_mut().enumerate() {
        *rx = row.response[r].map_or(0.0, |rt| row.throughput[r] * (rt - wait).max(0.0));
    }
}

/// Service demand law: D_r = c·Σ_i U_i·share_ri·Δ_i / Σ_i X_ri·Δ_i, with
/// class r's share of the busy time by the resource's discipline. Processor
/// sharing (Brosig 2011): R_r·X_r / Σ_v R_v·X_v, as R_r ∝ D_r. First come,
/// first served: every class waits the same W, so D_r = R_r − W with
/// W = (Σ X·R − c·U) / Σ X from Σ X_r·D_r = c·U, and the share is
/// X_r·(R_r − W)⁺ / Σ_v X_v·(R_v − W)⁺ (Brosig's share is biased there:
/// +19 % and −7 % on demands of 0.02 and 0.05 s). With one class both
/// shares are 1. Summing over intervals before dividing keeps quiet
/// intervals from dragging the estimate (LibReDE averages per-interval
/// ratios and counts empty intervals as 0).
pub struct ServiceDemandLaw;

impl Estimator for ServiceDemandLaw {
    fn estimate(&self, obs: &Observations, use_rows: &[usize]) -> Result<Vec<f64>, Unfit> {
        let n = obs.n_classes();
        let c = obs.servers as f64;
        let mut busy = vec![0.0; n];
        let mut done = vec![0.0; n];
        let mut weights = vec![0.0; n];
        let hot = obs.hot();
        for &i in use_rows {
            let row = hot.row(i);
            shares(obs, row, &mut weights);
            let total: f64 = weights.iter().sum();
            if total <= 0.0 {
                continue;
            }
            for r in 0..n {
                busy[r] += c * row.utilization * weights[r] / total * row.length;
                done[r] += row.throughput[r] * row.length;
            }
        }
        (0..n)
            .map(|r| {
                if done[r] > 0.0 {
                    Ok(busy[r] / done[r])
                } else {
                    Err(Unfit(format!("class {} never completes", obs.classes[r])))
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::Row;

    /// Rows at mixes that vary, demands 0.05 and 0.02 s, each class
    /// waiting the same `wait(U)` (FCFS) or slowed by 1/(1 − U) (PS).
    fn rows(ps: bool) -> Observations {
        let rows = (0..6)
            .map(|i| {
                let x = [1.0 + i as f64, 8.0 - i as f64];
                let u = 0.05 * x[0] + 0.02 * x[1];
                let r = if ps {
                    [0.05 / (1.0 - u), 0.02 / (1.0 - u)]
                } else {
                    let wait = (x[0] * 0.05 * 0.05 + x[1] * 0.02 * 0.02) / (1.0 - u);
                    [0.05 + wait, 0.02 + wait]
                };
                Row {
                    length: 60.0,
                    throughput: x.to_vec(),
                    response: r.iter().map(|v| Some(*v)).collect(),
                    completions: x.iter().map(|v| (v * 60.0) as u64).collect(),
                    utilization: u,
                    in_system: vec![0.0; 2],
                    arrived: Vec::new(),
                }
            })
            .collect();
        Observations::new(vec!["a".into(), "b".into()], 1, rows)
    }

    #[test]
    fn each_discipline_splits_the_busy_time_exactly_on_its_own_data() {
        for ps in [false, true] {
            let mut obs = rows(ps);
            obs.discipline = if ps { Discipline::Ps } else { Discipline::Fcfs };
            let d = ServiceDemandLaw
                .estimate(&obs, &[0, 1, 2, 3, 4, 5])
                .unwrap();
            assert!(
                (d[0] - 0.05).abs() < 1e-12 && (d[1] - 0.02).abs() < 1e-12,
                "{ps}: {d:?}"
            );
        }
        // Brosig's R·X share on FCFS data gives the smaller class too much.
        let obs = {
            let mut o = rows(false);
            o.discipline = Discipline::Ps;
            o
        };
        let d = ServiceDemandLaw
            .estimate(&obs, &[0, 1, 2, 3, 4, 5])
            .unwrap();
        assert!(d[1] > 0.022 && d[0] < 0.048, "{d:?}");
    }
}
