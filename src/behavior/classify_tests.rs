//! Classification of sessions generated from known, overlapping chains,
//! against the Bayes-optimal classifier that knows the true chains, the
//! true mix and which sessions the trace cut.

use rand::{RngExt, SeedableRng};
use rand_distr::Distribution;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::classify::{Options, classify};
use super::sessions::{Collector, Observed};
use super::*;

const NAMES: [&str; 3] = ["a", "b", "c"];

/// Rows a, b, c, then the entry; columns a, b, c, then the exit.
type Chain = [[f64; 4]; 4];

const P: Chain = [
    [0.3, 0.4, 0.1, 0.2],
    [0.3, 0.2, 0.2, 0.3],
    [0.2, 0.2, 0.3, 0.3],
    [0.6, 0.3, 0.1, 0.0],
];
const Q: Chain = [
    [0.1, 0.2, 0.4, 0.3],
    [0.2, 0.3, 0.3, 0.2],
    [0.1, 0.2, 0.5, 0.2],
    [0.2, 0.3, 0.5, 0.0],
];
const R: Chain = [
    [0.2, 0.2, 0.2, 0.4],
    [0.2, 0.5, 0.1, 0.2],
    [0.3, 0.3, 0.1, 0.3],
    [0.4, 0.4, 0.2, 0.0],
];

/// Mean think time, seconds, the same for every chain.
const THINK: f64 = 5.0;

fn draw(row: &[f64; 4], rng: &mut Xoshiro256PlusPlus) -> usize {
    let mut r = rng.random::<f64>();
    for (t, p) in row.iter().enumerate() {
        r -= p;
        if r <= 0.0 {
            return t;
        }
    }
    3
}

/// One generated session as the trace shows it: its chain, requests
/// (type, start) inside the trace, and whether the trace cut its start or
/// its end.
struct Truth {
    chain: usize,
    requests: Vec<(usize, f64)>,
    cut: (bool, bool),
}

/// `n` sessions drawn from `chains` by `mix`, starting uniformly in
/// [−60, `span`] s, kept where they fall inside [0, `span`].
fn trace(
    chains: &[Chain],
    mix: &[f64],
    n: usize,
    span: f64,
    rng: &mut Xoshiro256PlusPlus,
) -> Vec<Truth> {
    let think = rand_distr::Exp::new(1.0 / THINK).unwrap();
    let mut out = Vec::new();
    for _ in 0..n {
        let mut u = rng.random::<f64>();
        let chain = mix
            .iter()
            .position(|&m| {
                u -= m;
                u <= 0.0
            })
            .unwrap_or(mix.len() - 1);
        let mut t = rng.random::<f64>() * (span + 60.0) - 60.0;
        let mut state = draw(&chains[chain][3], rng);
        let mut all = Vec::new();
        while state < 3 {
            all.push((state, t));
            t += 0.01 + think.sample(rng);
            state = draw(&chains[chain][state], rng);
        }
        let requests: Vec<(usize, f64)> = all
            .iter()
            .copied()
            .filter(|r| r.1 >= 0.0 && r.1 + 0.01 <= span)
            .collect();
        if requests.is_empty() {
            continue;
        }
        let cut = (
            requests[0].1 > all[0].1,
            requests.last().unwrap().1 < all.last().unwrap().1,
        );
        out.push(Truth {
            chain,
            requests,
            cut,
        });
    }
    out
}

/// The sessions as the classifier reads them (requests in time order).
fn observed(truths: &[Truth]) -> Vec<Observed> {
    let mut steps: Vec<Step> = truths
        .iter()
        .enumerate()
        .flat_map(|(s, t)| {
            t.requests.iter().map(move |&(state, start)| Step {
                session: s as u32,
                user: Some(s as u32),
                group: Some(t.chain as u32),
                state,
                start,
                end: start + 0.01,
                line: 0,
            })
        })
        .collect();
    steps.sort_by(|a, b| a.start.total_cmp(&b.start));
    let mut c = Collector::new();
    for s in steps {
        c.push(s).unwrap();
    }
    let (mut sessions, _) = c.finish();
    sessions.sort_by_key(|s| s.id);
    sessions
}

/// Profiles learnt per chain from a long trace (few sessions cut).
fn learnt(chains: &[Chain], mix: &[f64], rng: &mut Xoshiro256PlusPlus) -> BehaviorModel {
    let truths = trace(chains, mix, 6000, 200_000.0, rng);
    let mut learner = Learner::new(false);
    for o in observed(&truths) {
        let ends = o.thinks.iter().scan(o.first_start, |t, x| {
            *t += 0.01 + x;
            Some(*t)
        });
        let starts = std::iter::once(o.first_start).chain(ends);
        for (&state, start) in o.states.iter().zip(starts) {
            let step = Step {
                session: o.id,
                user: None,
                group: o.truth,
                state,
                start,
                end: start + 0.01,
                line: 0,
            };
            learner.push(step).unwrap();
        }
    }
    let names: Vec<String> = NAMES.iter().map(|s| s.to_string()).collect();
    let groups: Vec<String> = (0..chains.len()).map(|i| format!("class{i}")).collect();
    model(learner, &names, &groups, Grouping::UserClass, 0).unwrap()
}

/// ln P(observed | chain), the cut ends left out.
fn true_ll(chain: &Chain, t: &Truth) -> f64 {
    let s: Vec<usize> = t.requests.iter().map(|r| r.0).collect();
    let mut ll = if t.cut.0 { 0.0 } else { chain[3][s[0]].ln() };
    for w in s.windows(2) {
        ll += chain[w[0]][w[1]].ln();
    }
    if !t.cut.1 {
        ll += chain[s[s.len() - 1]][3].ln();
    }
    ll
}

/// The Bayes-optimal accuracy on `truths`: the expected share of sessions
/// (and of requests) the true posterior's choice gets right, Σ max_c
/// posterior (weighted by requests for the second).
fn bayes(chains: &[Chain], mix: &[f64], truths: &[Truth]) -> (f64, f64) {
    let (mut s, mut r, mut n) = (0.0, 0.0, 0.0);
    for t in truths {
        let lp: Vec<f64> = chains
            .iter()
            .zip(mix)
            .map(|(c, m)| m.ln() + true_ll(c, t))
            .collect();
        let top = lp.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = lp.iter().map(|x| (x - top).exp()).sum();
        let best = 1.0 / sum;
        s += best;
        r += best * t.requests.len() as f64;
        n += t.requests.len() as f64;
    }
    (s / truths.len() as f64, r / n)
}

/// Session and request accuracy of `classify` with the learnt profiles
/// over 40 traces of 100 sessions in 150 s (a quarter or so cut),
/// and the Bayes-optimal rates on the same sessions; and the share of
/// sessions cut.
fn accuracy(chains: &[Chain], mix: &[f64], seed: u64, think: bool) -> [f64; 5] {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(crate::test_seed(seed));
    let m = learnt(chains, mix, &mut rng);
    let opts = Options {
        think,
        censor_window_s: None,
        unknown: false,
    };
    let names: Vec<String> = NAMES.iter().map(|s| s.to_string()).collect();
    let (mut hits, mut hit_requests, mut requests, mut cut) = (0.0, 0.0, 0.0, 0.0);
    let (mut bayes_s, mut bayes_r, mut sessions) = (0.0, 0.0, 0.0);
    for _ in 0..40 {
        let truths = trace(chains, mix, 100, 150.0, &mut rng);
        let c = classify(&m, &names, &observed(&truths), &opts).unwrap();
        for (t, l) in truths.iter().zip(&c.sessions) {
            let right = c.profiles[l.profile.unwrap()] == format!("class{}", t.chain);
            hits += f64::from(u8::from(right));
            hit_requests += if right { t.requests.len() as f64 } else { 0.0 };
            requests += t.requests.len() as f64;
            cut += f64::from(u8::from(t.cut.0 || t.cut.1));
        }
        let (s, r) = bayes(chains, mix, &truths);
        let n = truths.len() as f64;
        bayes_s += s * n;
        bayes_r += r * truths.iter().map(|t| t.requests.len() as f64).sum::<f64>();
        sessions += n;
    }
    [
        hits / sessions,
        bayes_s / sessions,
        hit_requests / requests,
        bayes_r / requests,
        cut / sessions,
    ]
}

#[test]
fn two_overlapping_profiles_are_told_apart_as_well_as_the_true_chains_allow() {
    for think in [false, true] {
        let [acc, bayes_acc, req, bayes_req, cut] = accuracy(&[P, Q], &[0.6, 0.4], 31, think);
        assert!(cut > 0.15, "{cut} of the sessions cut");
        assert!(bayes_acc < 0.95, "the chains overlap: Bayes {bayes_acc}");
        assert!(
            (acc - bayes_acc).abs() < 0.02,
            "sessions: {acc} vs Bayes {bayes_acc}"
        );
        assert!(
            (req - bayes_req).abs() < 0.02,
            "requests: {req} vs Bayes {bayes_req}"
        );
    }
}

#[test]
fn three_overlapping_profiles_are_told_apart_as_well_as_the_true_chains_allow() {
    for think in [false, true] {
        let [acc, bayes_acc, req, bayes_req, cut] =
            accuracy(&[P, Q, R], &[0.5, 0.3, 0.2], 32, think);
        assert!(cut > 0.15, "{cut} of the sessions cut");
        assert!(bayes_acc < 0.9, "the chains overlap: Bayes {bayes_acc}");
        assert!(
            (acc - bayes_acc).abs() < 0.02,
            "sessions: {acc} vs Bayes {bayes_acc}"
        );
        assert!(
            (req - bayes_req).abs() < 0.02,
            "requests: {req} vs Bayes {bayes_req}"
        );
    }
}

#[test]
fn the_mix_of_an_unlabelled_log_falls_in_its_interval() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(crate::test_seed(33));
    let chains = [P, Q, R];
    // Profiles learnt with one mix, the log drawn with another: the
    // estimate must come from the log, not from the profiles' prior.
    let m = learnt(&chains, &[0.34, 0.33, 0.33], &mut rng);
    let truths = trace(&chains, &[0.5, 0.3, 0.2], 1500, 3000.0, &mut rng);
    let names: Vec<String> = NAMES.iter().map(|s| s.to_string()).collect();
    let opts = Options {
        think: true,
        censor_window_s: None,
        unknown: false,
    };
    let c = classify(&m, &names, &observed(&truths), &opts).unwrap();
    for (i, truth) in [0.5, 0.3, 0.2].iter().enumerate() {
        let share = c
            .mix
            .iter()
            .find(|s| s.profile == format!("class{i}"))
            .unwrap();
        assert!(
            share.low <= *truth && *truth <= share.high,
            "class{i}: {truth} outside {share:?}"
        );
        assert!(share.high - share.low < 0.15, "{share:?}");
    }
}
