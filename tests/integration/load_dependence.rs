//! A load-dependent service rate (LINE's `setLoadDependence`): exact MVA
//! against a CTMC solved here, the open birth-death solution against its
//! sum, and the simulator against both.

use super::solve::probes_agree;
use demandsim::model::{LoadOptions, load};
use demandsim::qpn::{Control, RunConfig, StopRule, simulate};
use demandsim::solve::{Station, StationKind, analyse, solve_exact, solve_open};
use nalgebra::{DMatrix, DVector};

/// alpha(j) of a rate list, the last value for every j beyond.
fn alpha(rate: &[f64], j: usize) -> f64 {
    rate[j.min(rate.len()) - 1]
}

/// A cyclic closed network 0 → 1 → … → 0 for every class, as a CTMC
/// over the per-class counts at each station, solved by nalgebra's LU.
/// `rate[k]`: station k's alpha (empty for a delay). Returns per station
/// and class (throughput, mean population), and per station the mean of
/// min(j, servers[k]).
struct Ctmc {
    x: Vec<Vec<f64>>,
    q: Vec<Vec<f64>>,
    busy: Vec<f64>,
}

/// Every state of a closed network of `nk` stations: per class, its
/// `pop` customers spread over the stations.
fn states(nk: usize, pop: &[usize]) -> Vec<Vec<Vec<usize>>> {
    fn spread(n: usize, k: usize) -> Vec<Vec<usize>> {
        if k == 1 {
            return vec![vec![n]];
        }
        (0..=n)
            .flat_map(|i| {
                spread(n - i, k - 1).into_iter().map(move |mut rest| {
                    rest.insert(0, i);
                    rest
                })
            })
            .collect()
    }
    let mut states: Vec<Vec<Vec<usize>>> = vec![Vec::new()];
    for &n in pop {
        states = states
            .into_iter()
            .flat_map(|s| {
                spread(n, nk).into_iter().map(move |c| {
                    let mut s = s.clone();
                    s.push(c);
                    s
                })
            })
            .collect();
    }
    states
}

fn ctmc(service: &[Vec<f64>], rate: &[Vec<f64>], servers: &[usize], pop: &[usize]) -> Ctmc {
    let (nk, nr) = (service.len(), pop.len());
    let states = states(nk, pop);
    let index = |s: &Vec<Vec<usize>>| states.iter().position(|x| x == s).unwrap();
    // Rate at which class r leaves station k in state s.
    let out = |s: &Vec<Vec<usize>>, k: usize, r: usize| -> f64 {
        let n = s[r][k] as f64;
        if n == 0.0 {
            return 0.0;
        }
        if rate[k].is_empty() {
            return n / service[k][r];
        }
        let j: usize = (0..nr).map(|c| s[c][k]).sum();
        n / j as f64 * alpha(&rate[k], j) / service[k][r]
    };
    let m = states.len();
    let mut a = DMatrix::<f64>::zeros(m, m);
    for (i, s) in states.iter().enumerate() {
        for k in 0..nk {
            for r in 0..nr {
                let mu = out(s, k, r);
                if mu == 0.0 {
                    continue;
                }
                let mut t = s.clone();
                t[r][k] -= 1;
                t[r][(k + 1) % nk] += 1;
                // Transposed generator: column i is where i goes.
                a[(index(&t), i)] += mu;
                a[(i, i)] -= mu;
            }
        }
    }
    // Σ π = 1 replaces the last balance equation.
    a.row_mut(m - 1).fill(1.0);
    let mut b = DVector::<f64>::zeros(m);
    b[m - 1] = 1.0;
    let pi = a.lu().solve(&b).unwrap();
    let mut out_x = vec![vec![0.0; nr]; nk];
    let mut out_q = vec![vec![0.0; nr]; nk];
    let mut busy = vec![0.0; nk];
    for (s, p) in states.iter().zip(pi.iter()) {
        for k in 0..nk {
            let j: usize = (0..nr).map(|c| s[c][k]).sum();
            busy[k] += p * j.min(servers[k]) as f64;
            for r in 0..nr {
                out_x[k][r] += p * out(s, k, r);
                out_q[k][r] += p * s[r][k] as f64;
            }
        }
    }
    Ctmc {
        x: out_x,
        q: out_q,
        busy,
    }
}

fn station(k: usize, kind: StationKind, service: &[f64]) -> Station {
    Station {
        name: format!("S{k}"),
        kind,
        service: service.to_vec(),
        visits: vec![1.0; service.len()],
    }
}

/// Worst relative difference seen, asserted below `tol`.
fn assert_close(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol * want.abs().max(1e-3),
        "{what}: {got} against {want}"
    );
}

#[test]
fn load_dependent_exact_mva_equals_the_ctmc_to_1e_9() {
    // A delay, a load-dependent PS station whose rate rises then falls
    // (1, 1.8, 2.2, then 2.0 for 4 jobs and more; 3 servers for
    // utilization) and a two-server queue, two classes.
    let service = vec![vec![3.0, 2.0], vec![0.5, 0.9], vec![0.4, 0.4]];
    let ld = vec![1.0, 1.8, 2.2, 2.0];
    let rates = vec![vec![], ld.clone(), vec![1.0, 2.0]];
    let servers = [0, 3, 2];
    for pop in [[1u32, 0], [3, 2], [5, 4], [0, 7]] {
        let stations = vec![
            station(0, StationKind::Delay, &service[0]),
            station(
                1,
                StationKind::LoadDependent {
                    servers: 3,
                    rate: ld.clone(),
                },
                &service[1],
            ),
            station(2, StationKind::Queue { servers: 2 }, &service[2]),
        ];
        let mva = solve_exact(&stations, &pop).unwrap();
        let want = ctmc(&service, &rates, &servers, &pop.map(|n| n as usize));
        for k in 0..3 {
            let s = &mva.stations[k];
            for r in 0..2 {
                let what = format!("N={pop:?} station {k} class {r}");
                assert_close(s.throughput[r], want.x[k][r], 1e-9, &format!("{what}: X"));
                assert_close(s.population[r], want.q[k][r], 1e-9, &format!("{what}: Q"));
            }
            if k > 0 {
                let u = want.busy[k] / servers[k] as f64;
                assert_close(s.utilization.unwrap(), u, 1e-9, &format!("{pop:?} U{k}"));
            }
        }
    }
}

#[test]
fn a_rate_list_longer_than_the_population_and_one_value_lists_are_exact_too() {
    // Two customers on a rate that varies up to 6 jobs (the lattice keeps
    // only what two customers reach), and a constant alpha of 1.5 (one
    // server 1.5 times as fast).
    let service = vec![vec![1.0], vec![0.6], vec![0.3]];
    for ld in [vec![1.0, 1.2, 1.3, 1.9, 2.0, 2.4], vec![1.5]] {
        let rates = vec![vec![], ld.clone(), vec![1.0]];
        let stations = vec![
            station(0, StationKind::Delay, &service[0]),
            station(
                1,
                StationKind::LoadDependent {
                    servers: 1,
                    rate: ld.clone(),
                },
                &service[1],
            ),
            station(2, StationKind::Queue { servers: 1 }, &service[2]),
        ];
        for n in 1..=4u32 {
            let mva = solve_exact(&stations, &[n]).unwrap();
            let want = ctmc(&service, &rates, &[0, 1, 1], &[n as usize]);
            for k in 0..3 {
                let what = format!("{ld:?} N={n} station {k}");
                let s = &mva.stations[k];
                assert_close(s.throughput[0], want.x[k][0], 1e-9, &what);
                assert_close(s.population[0], want.q[k][0], 1e-9, &what);
            }
            assert_close(
                mva.stations[1].utilization.unwrap(),
                want.busy[1],
                1e-9,
                "U",
            );
        }
    }
}

#[test]
fn an_open_load_dependent_station_is_its_birth_death_chain() {
    // Two classes offering 0.5 + 0.6 erlangs to a rate 1, 1.6, then 2.
    let ld = [1.0, 1.6, 2.0];
    let st = Station {
        name: "CPU".into(),
        kind: StationKind::LoadDependent {
            servers: 2,
            rate: ld.to_vec(),
        },
        service: vec![0.5, 1.0],
        visits: vec![1.0, 0.6],
    };
    let sol = solve_open(std::slice::from_ref(&st), 2).unwrap();
    // The chain summed term by term far into its geometric tail.
    let a = 1.1;
    let (mut w, mut total, mut mean, mut busy) = (1.0, 0.0, 0.0, 0.0);
    for j in 0..2000usize {
        if j > 0 {
            w *= a / alpha(&ld, j);
        }
        total += w;
        mean += j as f64 * w;
        busy += j.min(2) as f64 * w;
    }
    let (mean, busy) = (mean / total, busy / total);
    let s = &sol.stations[0];
    assert_close(s.population.iter().sum(), mean, 1e-12, "L");
    assert_close(s.utilization.unwrap(), busy / 2.0, 1e-12, "U");
    // Each class in proportion to its offered load (BCMP).
    assert_close(s.residence[0], 0.5 * mean / a, 1e-12, "R a");
    assert_close(s.residence[1], 1.0 * mean / a, 1e-12, "R b");
    // Offered 2 erlangs or more it is unstable, whatever the servers.
    let mut hot = st.clone();
    hot.visits = vec![2.0, 1.0];
    let e = solve_open(&[hot], 2).unwrap_err().to_string();
    assert!(e.contains("load-dependent rate"), "{e}");
}

const OPEN: &str = "params: {rate_a: 1.0, rate_b: 0.6}
colors: [a, b]
places:
  CPU:
    queue: ps
    servers: 2
    load_dependence: [1, 1.6, 2]
    service: {a: {exponential: 0.5}, b: {erlang: {k: 3, mean: 1.0}}}
transitions:
  arrive_a: {delay: {exponential: 1 / rate_a}, out: {CPU: a}}
  arrive_b: {delay: {exponential: 1 / rate_b}, out: {CPU: b}}
  leave: {modes: [{in: {CPU: a}}, {in: {CPU: b}}]}
probes:
  response:
    colors: [a, b]
    start: {place: CPU, when: enter}
    end: {place: CPU, when: exit}
";

/// Delay (think 2 s) and a CPU whose rate falls off with concurrency.
const CLOSED: &str = "params: {users: 6}
colors: [user]
places:
  Think: {queue: is, service: {user: {exponential: 2}}, initial: {user: users}}
  CPU:
    queue: ps
    load_dependence: [1, 1.7, 2.1, 2.3]
    service: {user: {lognormal: {mean: 0.6, cv: 2}}}
transitions:
  go: {in: {Think: user}, out: {CPU: user}}
  back: {in: {CPU: user}, out: {Think: user}}
probes:
  response:
    start: {place: CPU, when: enter}
    end: {place: CPU, when: exit}
";

#[test]
fn the_closed_model_is_solved_as_its_birth_death_chain() {
    // One class at a delay and one station: p(j) ∝ Z^(N−j)/(N−j)! ·
    // Π_{i≤j} S/alpha(i); R = Q/X with X = Σ p(j) alpha(j)/S.
    let (z, s, n, ld) = (2.0f64, 0.6f64, 6usize, [1.0, 1.7, 2.1, 2.3]);
    let (mut p, mut w) = (vec![0.0; n + 1], 1.0);
    for j in 0..=n {
        if j > 0 {
            w *= s / alpha(&ld, j);
        }
        let fact: f64 = (1..=n - j).map(|i| i as f64).product();
        p[j] = z.powi((n - j) as i32) / fact * w;
    }
    let g: f64 = p.iter().sum();
    let q: f64 = (0..=n).map(|j| j as f64 * p[j] / g).sum();
    let x: f64 = (1..=n).map(|j| alpha(&ld, j) / s * p[j] / g).sum();
    let m = load(CLOSED, &LoadOptions::default()).unwrap();
    let a = analyse(&m.net).unwrap();
    assert!(a.method.starts_with("exact MVA"), "{}", a.method);
    assert_close(a.probes[0].mean_s.unwrap(), q / x, 1e-9, "R");
    let cpu = a.places.iter().find(|v| v.place == "CPU").unwrap();
    assert_close(cpu.utilization.unwrap(), 1.0 - p[0] / g, 1e-9, "U");
}

#[test]
fn the_simulator_agrees_with_the_open_and_closed_load_dependent_solutions() {
    // Three checks together at 99.9 % (each two-sided at 1 − 0.001/3, z =
    // 3.588): PS with a load-dependent rate is insensitive, so Erlang and
    // lognormal service have the exponential's means.
    let checked: usize = [OPEN, CLOSED]
        .iter()
        .map(|yaml| {
            let m = load(yaml, &LoadOptions::default()).unwrap();
            probes_agree(&m, 400_000, crate::seed(3), 3.588)
        })
        .sum();
    assert_eq!(checked, 3);
}

#[test]
fn a_rate_of_one_two_three_four_is_four_servers_in_the_solver_and_the_simulator() {
    let four = CLOSED.replace(
        "    load_dependence: [1, 1.7, 2.1, 2.3]\n",
        "    servers: 4\n",
    );
    let listed = CLOSED.replace(
        "    load_dependence: [1, 1.7, 2.1, 2.3]\n",
        "    servers: 4\n    load_dependence: [1, 2, 3, 4]\n",
    );
    let (four, listed) = (
        load(&four, &LoadOptions::default()).unwrap(),
        load(&listed, &LoadOptions::default()).unwrap(),
    );
    let (a, b) = (analyse(&four.net).unwrap(), analyse(&listed.net).unwrap());
    for (x, y) in a.places.iter().zip(&b.places) {
        assert_close(y.mean_residence_s, x.mean_residence_s, 1e-12, &x.place);
        assert_close(
            y.utilization.unwrap_or(0.0),
            x.utilization.unwrap_or(0.0),
            1e-12,
            "U",
        );
    }
    // n jobs at min(n, 4)/n each either way: the same events, the same
    // numbers.
    let cfg = RunConfig {
        stop: StopRule::Requests(20_000),
        seed: 5,
        ..RunConfig::default()
    };
    let run = |m: &demandsim::model::Model| simulate(&m.net, &cfg, Control::default()).unwrap();
    let (x, y) = (run(&four), run(&listed));
    assert_eq!(x.probes[0].mean_s, y.probes[0].mean_s);
    assert_eq!(x.places[1].utilization, y.places[1].utilization);
}

#[test]
fn a_net_built_in_code_is_checked_for_its_load_dependent_rate_too() {
    use demandsim::qpn::{Departure, Dist, Net, Place, Queue, Scheduling};
    let net = |scheduling, load_dependence: Vec<f64>| Net {
        colors: vec!["job".into()],
        places: vec![Place {
            name: "CPU".into(),
            queue: Some(Queue {
                scheduling,
                servers: 1,
                service: vec![Some(Dist::exponential(1.0).unwrap())],
                priority: vec![0],
                shared: None,
                load_dependence,
                cpu_limit: None,
            }),
            departure: Departure::Normal,
            initial: vec![1],
        }],
        ..Net::default()
    };
    let err = |n: Net| n.into_valid().unwrap_err().to_string();
    assert_eq!(
        err(net(Scheduling::Fcfs, vec![1.0, 2.0])),
        "place CPU: a fcfs queue takes no load_dependence"
    );
    assert_eq!(
        err(net(Scheduling::Ps, vec![1.0, f64::NAN])),
        "place CPU: every load_dependence value must be positive and finite"
    );
    assert!(net(Scheduling::Ps, vec![1.0, 2.0]).into_valid().is_ok());
}
