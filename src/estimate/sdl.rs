//! `sdl`: the service demand law.

use super::{EstimateError, Estimator, Observations};

/// Service demand law (Brosig 2011 apportioning): class r's share of the
/// busy time is R_r·X_r / Σ_v R_v·X_v; D_r = c·Σ_i U_i·share_ri·Δ_i /
/// Σ_i X_ri·Δ_i. Summing over intervals before dividing keeps quiet
/// intervals from dragging the estimate (LibReDE averages per-interval
/// ratios and counts empty intervals as 0).
pub struct ServiceDemandLaw;

impl Estimator for ServiceDemandLaw {
    fn estimate(&self, obs: &Observations, use_rows: &[usize]) -> Result<Vec<f64>, EstimateError> {
        let n = obs.n_classes();
        let c = obs.servers as f64;
        let mut busy = vec![0.0; n];
        let mut done = vec![0.0; n];
        for &i in use_rows {
            let row = &obs.rows[i];
            let weights: Vec<f64> = (0..n)
                .map(|r| row.response[r].map_or(0.0, |rt| rt * row.throughput[r]))
                .collect();
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
                    Err(EstimateError::Failed {
                        method: "sdl",
                        message: format!("class {} never completes", obs.classes[r]),
                    })
                }
            })
            .collect()
    }
}
