//! How a resource shares itself among the classes it serves, and what
//! that makes of one class's mean response time.

use serde::Serialize;

/// How the resource shares itself among requests: this decides how one
/// class's response time depends on the others' demands, so every method
/// that reads response times with more than one class assumes one. With
/// one class, or equal demands, both give the same equations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Discipline {
    /// First come, first served (the shipped models' CPU queues): every
    /// class waits the same time W for the work ahead, R_r = D_r + W.
    #[default]
    Fcfs,
    /// Processor sharing (a time-sliced CPU): every class is slowed down
    /// by the same factor S, R_r = D_r·S.
    Ps,
}

impl Discipline {
    /// Class `r`'s steady-state mean response time at throughputs `x` and
    /// demands `d`, given the M/M/c factor `f` (see
    /// `Observations::predicted_response`).
    pub fn response(self, x: &[f64], r: usize, d: &[f64], f: f64) -> f64 {
        match self {
            Discipline::Ps => d[r] * f,
            Discipline::Fcfs => {
                let work: f64 = x.iter().zip(d).map(|(x, d)| x * d).sum();
                let work2: f64 = x.iter().zip(d).map(|(x, d)| x * d * d).sum();
                let mean = if work > 0.0 { work2 / work } else { d[r] };
                d[r] + (f - 1.0) * mean
            }
        }
    }
}
