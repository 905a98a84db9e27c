//! Product-form queueing networks and their exact solutions: open BCMP
//! networks station by station (M/M/c by Erlang-C, M/M/∞, PS), exact MVA
//! for closed multi-class networks with load-dependent multi-server
//! stations, and approximate MVA (Schweitzer–Bard with Seidmann's
//! multi-server split) for populations too large for the exact one.
//!
//! References: Reiser & Lavenberg, "Mean-value analysis of closed
//! multichain queuing networks", JACM 27(2), 1980; Schweitzer, "Approximate
//! analysis of multiclass closed networks of queues", 1979; Seidmann,
//! Schweitzer & Shalev-Oren, "Computerized closed queueing network models
//! of flexible manufacturing systems", 1987.

use crate::numeric::erlang_c;

/// What kind of station.
#[derive(Debug, Clone, PartialEq)]
pub enum StationKind {
    /// Infinite server (pure delay).
    Delay,
    /// FCFS (class-independent exponential service), PS or LCFS-PR with
    /// `servers` servers: rate min(j, servers) with j jobs present.
    Queue {
        /// Servers.
        servers: u32,
    },
    /// PS with a load-dependent rate (LINE's `setLoadDependence`): with j
    /// jobs present, `rate[min(j, len) − 1]` times one server's rate in
    /// all, shared equally; `servers` only counts busy servers
    /// (utilization is the mean of min(j, servers) / servers).
    LoadDependent {
        /// Servers, for utilization.
        servers: u32,
        /// alpha(1), alpha(2), …, the last for every j beyond; each > 0.
        rate: Vec<f64>,
    },
}

impl StationKind {
    /// Servers; 0 for a delay station.
    fn servers(&self) -> u32 {
        match self {
            StationKind::Delay => 0,
            StationKind::Queue { servers } | StationKind::LoadDependent { servers, .. } => *servers,
        }
    }
}

/// A station: per class, visits (per reference visit, closed; per second,
/// open: arrival rate) and mean service time per visit (seconds).
#[derive(Debug, Clone, PartialEq)]
pub struct Station {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: StationKind,
    /// Mean service time per visit, per class, seconds.
    pub service: Vec<f64>,
    /// Closed: visits per visit to the class's reference station. Open:
    /// arrival rate per class, 1/s.
    pub visits: Vec<f64>,
}

/// Per station and class results.
#[derive(Debug, Clone, PartialEq)]
pub struct StationResult {
    /// Throughput per class, 1/s.
    pub throughput: Vec<f64>,
    /// Mean residence time per visit per class, seconds.
    pub residence: Vec<f64>,
    /// Mean number present per class.
    pub population: Vec<f64>,
    /// Utilization (busy servers / servers); `None` for a delay station.
    pub utilization: Option<f64>,
}

/// Which method produced a solution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// Open product-form network, station by station.
    Open,
    /// Exact MVA.
    ExactMva,
    /// Schweitzer–Bard approximate MVA with Seidmann's multi-server split.
    ApproximateMva,
}

impl Algorithm {
    /// How the method is named in output.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Open => "open product-form (Erlang-C, M/M/inf, PS)",
            Algorithm::ExactMva => "exact MVA (load-dependent, multi-class)",
            Algorithm::ApproximateMva => "approximate MVA (Schweitzer-Bard, Seidmann multi-server)",
        }
    }
}

/// A solution.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    /// Algorithm used.
    pub method: Algorithm,
    /// Per class: throughput at the reference station (closed) or arrival
    /// rate (open), 1/s.
    pub class_throughput: Vec<f64>,
    /// Per station.
    pub stations: Vec<StationResult>,
}

/// Why a network cannot be solved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SolveError {
    /// An open station is offered at least its capacity.
    #[error("station {station} is unstable: offered load {load:.4} >= {servers} server(s)")]
    Unstable {
        /// Station name.
        station: String,
        /// Offered load, erlangs.
        load: f64,
        /// Servers.
        servers: u32,
    },
    /// An open load-dependent station is offered at least the rate it
    /// tends to with many jobs.
    #[error(
        "station {station} is unstable: offered load {load:.4} >= {limit}, its load-dependent rate with many jobs"
    )]
    UnstableRate {
        /// Station name.
        station: String,
        /// Offered load, erlangs.
        load: f64,
        /// The last alpha.
        limit: f64,
    },
    /// The exact MVA lattice is too large.
    #[error("exact MVA would need {0} population vectors x stations; use the approximate method")]
    TooLarge(u128),
}

/// Solves an open network: every station is an independent M/M/c (FCFS,
/// or PS with the same mean population), M/M/∞, M/M/1-PS, or a
/// load-dependent PS station (a birth-death chain).
///
/// # Errors
/// [`SolveError::Unstable`] or [`SolveError::UnstableRate`] for a station
/// at or above capacity.
pub fn solve_open(stations: &[Station], classes: usize) -> Result<Solution, SolveError> {
    let mut out = Vec::with_capacity(stations.len());
    for st in stations {
        let throughput = st.visits.clone();
        let (residence, utilization) = match st.kind {
            StationKind::Delay => (st.service.clone(), None),
            StationKind::LoadDependent { servers, ref rate } => {
                let a: f64 = (0..classes).map(|r| st.visits[r] * st.service[r]).sum();
                let (mean, busy) =
                    birth_death(a, servers, rate).ok_or_else(|| SolveError::UnstableRate {
                        station: st.name.clone(),
                        load: a,
                        limit: rate[rate.len() - 1],
                    })?;
                // By BCMP, class r holds the share λ_r S_r / a of the mean.
                let stretch = if a > 0.0 { mean / a } else { 1.0 };
                (
                    st.service.iter().map(|s| s * stretch).collect(),
                    Some(busy / f64::from(servers)),
                )
            }
            StationKind::Queue { servers } => {
                let a: f64 = (0..classes).map(|r| st.visits[r] * st.service[r]).sum();
                if a >= servers as f64 {
                    return Err(SolveError::Unstable {
                        station: st.name.clone(),
                        load: a,
                        servers,
                    });
                }
                // M/M/c mean population is a + C·a/(c − a); by BCMP, class r
                // holds the share λ_r S_r / a, so R_r = S_r (1 + C/(c − a)).
                let factor = 1.0 + erlang_c(servers, a) / (servers as f64 - a);
                (
                    st.service.iter().map(|s| s * factor).collect(),
                    Some(a / servers as f64),
                )
            }
        };
        let population = (0..classes).map(|r| throughput[r] * residence[r]).collect();
        out.push(StationResult {
            throughput,
            residence,
            population,
            utilization,
        });
    }
    let class_throughput = (0..classes)
        .map(|r| stations.iter().map(|s| s.visits[r]).fold(0.0, f64::max))
        .collect();
    Ok(Solution {
        method: Algorithm::Open,
        class_throughput,
        stations: out,
    })
}

/// An open load-dependent station offered `a` erlangs: p(j) ∝ Π_{i ≤ j}
/// a / alpha(i), geometric beyond the list. Its mean population and mean
/// busy servers (E min(j, servers)); `None` when a ≥ the last alpha.
fn birth_death(a: f64, servers: u32, rate: &[f64]) -> Option<(f64, f64)> {
    let last = rate[rate.len() - 1];
    let ratio = a / last;
    if ratio >= 1.0 {
        return None;
    }
    // Terms j < m by the product, j ≥ m geometric from w_m: alpha and
    // min(j, servers) are constant beyond m.
    let m = rate.len().max(servers as usize);
    let alpha = |j: usize| rate[j.min(rate.len()) - 1];
    let (mut w, mut total, mut mean, mut busy) = (1.0, 0.0, 0.0, 0.0);
    for j in 0..m {
        if j > 0 {
            w *= a / alpha(j);
        }
        total += w;
        mean += j as f64 * w;
        busy += j.min(servers as usize) as f64 * w;
    }
    let w_m = w * a / alpha(m);
    let g = 1.0 / (1.0 - ratio);
    total += w_m * g;
    mean += w_m * (m as f64 * g + ratio * g * g);
    busy += f64::from(servers) * w_m * g;
    Some((mean / total, busy / total))
}

/// Demand per station and class: visits × mean service time, seconds.
fn demands(stations: &[Station], classes: usize) -> Vec<Vec<f64>> {
    stations
        .iter()
        .map(|s| (0..classes).map(|r| s.visits[r] * s.service[r]).collect())
        .collect()
}

/// Servers per station; 0 for a delay station.
fn server_counts(stations: &[Station]) -> Vec<u32> {
    stations.iter().map(|s| s.kind.servers()).collect()
}

/// Largest lattice (population vectors × station memory) for exact MVA.
const MAX_CELLS: u128 = 200_000_000;

/// Exact MVA for a closed multi-class network with load-dependent
/// stations: multi-server (rate min(j, c) with j jobs present) and PS
/// with a load-dependent rate alpha(j) (LINE's `pfqn_mvald` recursion).
///
/// A queue station keeps its marginal probabilities p(j | n) below the
/// point from which its rate is constant (c, or the rate list's length),
/// only: the mean queue length comes from Little's law, and p(0 | n) from
/// the throughput identity Σ_j alpha(j) p(j | n) = Σ_r X_r D_r, instead
/// of 1 − Σ_{j≥1} p(j | n), whose cancellation makes the textbook
/// recursion go negative near saturation.
///
/// # Errors
/// [`SolveError::TooLarge`] when the population lattice is too large.
pub fn solve_exact(stations: &[Station], population: &[u32]) -> Result<Solution, SolveError> {
    let (nr, nk) = (population.len(), stations.len());
    let mut lattice = Lattice::new(stations, population)?;
    let mut n = vec![0u32; nr];
    let mut x = vec![0.0; nr];
    let mut resid = vec![vec![0.0; nr]; nk];
    for idx in 1..lattice.size {
        // Next population vector in mixed-radix order.
        for r in 0..nr {
            if n[r] < population[r] {
                n[r] += 1;
                break;
            }
            n[r] = 0;
        }
        lattice.residences(idx, &n, &mut x, &mut resid);
        lattice.record(idx, &n, &x, &resid);
    }
    let mut solution = closed_solution(Algorithm::ExactMva, stations, &lattice.demand, &x, &resid);
    for (k, st) in stations.iter().enumerate() {
        if let StationKind::LoadDependent { servers, .. } = st.kind {
            let u = lattice.busy(lattice.size - 1, k, servers) / f64::from(servers);
            solution.stations[k].utilization = Some(u);
        }
    }
    Ok(solution)
}

/// A queue station's rate in the recursion: alpha(j) for j = 1..=kept as
/// listed, `tail` for every j beyond.
struct Rates {
    alpha: Vec<f64>,
    tail: f64,
}

impl Rates {
    /// The rates of `kind`, `kept` of them listed; `None` for a delay.
    fn of(kind: &StationKind, kept: usize) -> Option<Self> {
        match kind {
            StationKind::Delay => None,
            StationKind::Queue { servers } => Some(Self {
                alpha: (1..=kept).map(|j| j as f64).collect(),
                tail: f64::from(*servers),
            }),
            StationKind::LoadDependent { rate, .. } => Some(Self {
                alpha: (1..=kept).map(|j| rate[j.min(rate.len()) - 1]).collect(),
                tail: rate[rate.len() - 1],
            }),
        }
    }
}

/// The exact MVA recursion's results over the population lattice, in flat
/// arrays indexed by population vector (mixed radix, class 0 fastest): each
/// station's mean queue length, and for a station whose rate varies the
/// marginal probabilities p(j | n) below the point where it stops
/// varying. Each population's results are read from those at n − e_r,
/// written before it (Reiser and Lavenberg 1980; Bruell et al. 1984).
struct Lattice {
    /// Demand per station and class, seconds.
    demand: Vec<Vec<f64>>,
    /// Rates per station; `None` for a delay station.
    rates: Vec<Option<Rates>>,
    /// Marginals kept per station: j < min(c, N + 1) for c servers (none
    /// for one), j < min(max(len, servers), N + 1) and at least p(0) for
    /// a load-dependent rate of `len` values.
    kept: Vec<usize>,
    /// Index step of one more customer of each class.
    strides: Vec<usize>,
    /// Each station's offset among a population's marginals.
    poff: Vec<usize>,
    /// Marginals per population.
    pwidth: usize,
    /// Population vectors.
    size: usize,
    /// Mean queue length per population and station.
    q: Vec<f64>,
    /// Marginals per population.
    p: Vec<f64>,
}

/// Marginals a station keeps when the network holds `total` customers.
fn kept(kind: &StationKind, total: u32) -> usize {
    let most = total as usize + 1;
    match kind {
        StationKind::Delay => 0,
        StationKind::Queue { servers } => match *servers as usize {
            c if c > 1 => c.min(most),
            _ => 0,
        },
        StationKind::LoadDependent { servers, rate } => rate.len().max(*servers as usize).min(most),
    }
}

impl Lattice {
    fn new(stations: &[Station], population: &[u32]) -> Result<Self, SolveError> {
        let (nr, nk) = (population.len(), stations.len());
        let total: u32 = population.iter().sum();
        let kept: Vec<usize> = stations.iter().map(|s| kept(&s.kind, total)).collect();
        let mut strides = vec![1usize; nr];
        let mut size: u128 = 1;
        for r in 0..nr {
            strides[r] = size as usize;
            size *= population[r] as u128 + 1;
        }
        let per_point: u128 = nk as u128 + kept.iter().map(|&k| k as u128).sum::<u128>();
        if size * per_point > MAX_CELLS {
            return Err(SolveError::TooLarge(size * per_point));
        }
        let size = size as usize;
        let poff: Vec<usize> = kept
            .iter()
            .scan(0, |acc, &k| {
                let o = *acc;
                *acc += k;
                Some(o)
            })
            .collect();
        let pwidth: usize = kept.iter().sum();
        let mut p = vec![0.0f64; size * pwidth];
        for k in 0..nk {
            if kept[k] > 0 {
                p[poff[k]] = 1.0;
            }
        }
        Ok(Self {
            demand: demands(stations, nr),
            rates: (0..nk)
                .map(|k| Rates::of(&stations[k].kind, kept[k]))
                .collect(),
            kept,
            strides,
            poff,
            pwidth,
            size,
            q: vec![0.0f64; size * nk],
            p,
        })
    }

    /// Marginals of station `k` at population index `m`.
    fn marginals(&self, m: usize, k: usize) -> &[f64] {
        let start = m * self.pwidth + self.poff[k];
        &self.p[start..start + self.kept[k]]
    }

    /// Mean busy servers, E min(j, servers), of station `k` at population
    /// index `m` (one that keeps at least `servers` marginals or all).
    fn busy(&self, m: usize, k: usize, servers: u32) -> f64 {
        let c = servers as usize;
        let (mut below, mut busy) = (0.0, 0.0);
        for (j, &pj) in self.marginals(m, k).iter().enumerate() {
            below += pj;
            busy += j.min(c) as f64 * pj;
        }
        busy + c as f64 * (1.0 - below).max(0.0)
    }

    /// Residence of each class at each station at population `n` (index
    /// `idx`), from the results at n − e_r, and the classes' throughputs:
    /// R = D Σ_j j / alpha(j) p(j − 1 | n − e_r), the terms beyond the
    /// kept marginals by Little's law at the constant tail rate.
    fn residences(&self, idx: usize, n: &[u32], x: &mut [f64], resid: &mut [Vec<f64>]) {
        let nk = self.rates.len();
        for r in 0..n.len() {
            if n[r] == 0 {
                x[r] = 0.0;
                for k in 0..nk {
                    resid[k][r] = 0.0;
                }
                continue;
            }
            let m = idx - self.strides[r];
            let mut cycle = 0.0;
            for k in 0..nk {
                let d = self.demand[k][r];
                let q = self.q[m * nk + k];
                let rk = match &self.rates[k] {
                    None => d,
                    Some(rates) if self.kept[k] == 0 => d * (1.0 + q) / rates.tail,
                    Some(rates) => {
                        let (mut below, mut below_j, mut head) = (0.0, 0.0, 0.0);
                        for (i, &pi) in self.marginals(m, k).iter().enumerate() {
                            below += pi;
                            below_j += i as f64 * pi;
                            head += (i + 1) as f64 / rates.alpha[i] * pi;
                        }
                        d * (head + (q - below_j + 1.0 - below) / rates.tail)
                    }
                };
                resid[k][r] = rk;
                cycle += rk;
            }
            x[r] = n[r] as f64 / cycle;
        }
    }

    /// Queue lengths (Little) and marginals at population index `idx`
    /// from its throughputs and residences: p(j | n) = Σ_r D_r X_r
    /// p(j − 1 | n − e_r) / alpha(j).
    fn record(&mut self, idx: usize, n: &[u32], x: &[f64], resid: &[Vec<f64>]) {
        let (nr, nk) = (n.len(), self.rates.len());
        for k in 0..nk {
            self.q[idx * nk + k] = (0..nr).map(|r| x[r] * resid[k][r]).sum();
            let Some(rates) = self.rates[k].as_ref().filter(|_| self.kept[k] > 0) else {
                continue;
            };
            let base = idx * self.pwidth + self.poff[k];
            let mut weighted = 0.0;
            for j in 1..self.kept[k] {
                let mut v = 0.0;
                for r in 0..nr {
                    if n[r] > 0 {
                        let m = idx - self.strides[r];
                        v += self.demand[k][r]
                            * x[r]
                            * self.p[m * self.pwidth + self.poff[k] + j - 1];
                    }
                }
                v /= rates.alpha[j - 1];
                self.p[base + j] = v;
                weighted += (rates.tail - rates.alpha[j - 1]) * v;
            }
            let busy: f64 = (0..nr).map(|r| x[r] * self.demand[k][r]).sum();
            self.p[base] = ((rates.tail - busy - weighted) / rates.tail).max(0.0);
        }
    }
}

fn closed_solution(
    method: Algorithm,
    stations: &[Station],
    demand: &[Vec<f64>],
    x: &[f64],
    resid: &[Vec<f64>],
) -> Solution {
    let nr = x.len();
    let results = stations
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let throughput: Vec<f64> = (0..nr).map(|r| x[r] * s.visits[r]).collect();
            let residence = (0..nr)
                .map(|r| {
                    if s.visits[r] > 0.0 {
                        resid[k][r] / s.visits[r]
                    } else {
                        0.0
                    }
                })
                .collect();
            let population = (0..nr).map(|r| x[r] * resid[k][r]).collect();
            let utilization = match s.kind {
                StationKind::Delay => None,
                StationKind::Queue { servers } | StationKind::LoadDependent { servers, .. } => {
                    Some((0..nr).map(|r| x[r] * demand[k][r]).sum::<f64>() / servers as f64)
                }
            };
            StationResult {
                throughput,
                residence,
                population,
                utilization,
            }
        })
        .collect();
    Solution {
        method,
        class_throughput: x.to_vec(),
        stations: results,
    }
}

/// Approximate MVA: Schweitzer–Bard's fixed point, with each c-server
/// station split (Seidmann) into a single server of demand D/c and a delay
/// of D(c−1)/c. Accurate to a few per cent; exact for one customer. It
/// has no load-dependent rate: such a station counts as its `servers`
/// servers (`analyse` sends it only to [`solve_exact`]).
pub fn solve_approximate(stations: &[Station], population: &[u32]) -> Solution {
    let nr = population.len();
    let nk = stations.len();
    let demand = demands(stations, nr);
    let servers: Vec<f64> = server_counts(stations).into_iter().map(f64::from).collect();
    let mut q = vec![vec![0.0; nr]; nk];
    for k in 0..nk {
        for r in 0..nr {
            q[k][r] = if servers[k] > 0.0 {
                population[r] as f64 / nk as f64
            } else {
                0.0
            };
        }
    }
    let mut x = vec![0.0; nr];
    let mut resid = vec![vec![0.0; nr]; nk];
    for _ in 0..100_000 {
        let mut change: f64 = 0.0;
        for r in 0..nr {
            if population[r] == 0 {
                continue;
            }
            let nrf = population[r] as f64;
            let mut cycle = 0.0;
            for k in 0..nk {
                let d = demand[k][r];
                let rk = if servers[k] == 0.0 {
                    d
                } else {
                    let c = servers[k];
                    let seen: f64 = (0..nr)
                        .map(|s| {
                            if s == r {
                                q[k][s] * (nrf - 1.0) / nrf
                            } else {
                                q[k][s]
                            }
                        })
                        .sum();
                    d / c * (1.0 + seen) + d * (c - 1.0) / c
                };
                resid[k][r] = rk;
                cycle += rk;
            }
            x[r] = nrf / cycle;
        }
        for k in 0..nk {
            for r in 0..nr {
                let c = servers[k];
                // Only the queueing part of a split station holds the
                // customers others see.
                let new = if c == 0.0 {
                    0.0
                } else {
                    x[r] * (resid[k][r] - demand[k][r] * (c - 1.0) / c)
                };
                change = change.max((new - q[k][r]).abs());
                q[k][r] = new;
            }
        }
        if change < 1e-12 {
            break;
        }
    }
    closed_solution(Algorithm::ApproximateMva, stations, &demand, &x, &resid)
}

/// Exact MVA when the lattice is small enough, approximate MVA otherwise.
pub fn solve_closed(stations: &[Station], population: &[u32]) -> Solution {
    solve_exact(stations, population).unwrap_or_else(|_| solve_approximate(stations, population))
}
