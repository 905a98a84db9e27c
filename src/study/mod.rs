//! Studies: many experiments, each running the whole method — traces →
//! estimation → simulation (and the analytic solver where it applies) →
//! comparison — in parallel, with one failing experiment reported while the
//! others finish.
//!
//! A [`Study`] is plain data; [`crate::study_file::load_study`] reads one
//! from YAML. Models are parsed once per experiment into a
//! [`crate::model::Template`] and instantiated with typed parameters.
//! Files (traces, models, truths) are read through the caller's [`Files`],
//! with paths as the study names them; this module opens nothing itself.
//!
//! Seeds: experiment `i` of a study with seed `s` uses seeds derived from
//! `(s, i)` alone, so results do not depend on the number of threads.

mod comparison;
mod error;
mod estimation;
mod experiment;
mod metadata;
mod models;
mod offset;
mod params;
mod prediction;
mod summary;
mod traces;

use std::io::BufRead;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::compare::{Comparison, Summary};
use crate::estimate::{Method, Report};
use crate::model::ParamValue;
use crate::qpn::Warmup;

pub use error::ExperimentError;
pub use experiment::run_experiment;
pub use metadata::{MetadataError, MetadataField, RunLoad};
pub use offset::{LatencyOffset, OffsetRun, Reading};
pub use summary::{
    ExperimentSummary, Gap, OneOrSeveral, ShardMark, ShardMergeError, StudySummary, merge_shards,
    read_summaries,
};

/// Reads the files a study names (paths as written in the study; the
/// implementation resolves them, usually against the study file's folder).
pub trait Files: Sync {
    /// Opens a file for reading (decompressing gzip where it applies).
    ///
    /// # Errors
    /// An I/O error whose message names the file.
    fn open(&self, path: &Path) -> std::io::Result<Box<dyn BufRead + Send + '_>>;

    /// Reads a whole text file.
    ///
    /// # Errors
    /// An I/O error whose message names the file.
    fn read_to_string(&self, path: &Path) -> std::io::Result<String> {
        let mut s = String::new();
        self.open(path)?.read_to_string(&mut s).map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display()))
        })?;
        Ok(s)
    }
}

/// A study: named experiments and a seed.
#[derive(Debug, Clone, PartialEq)]
pub struct Study {
    /// Name.
    pub name: String,
    /// What it shows.
    pub description: String,
    /// Where its numbers come from (`data:` in the file).
    pub data: Option<DataKind>,
    /// Seed from the study file (a caller's seed wins).
    pub seed: Option<u64>,
    /// Experiments.
    pub experiments: Vec<Experiment>,
    /// How `demandsim validate` holds runs out (`validate:` in the file).
    pub validate: Option<ValidateSpec>,
}

/// Which measured quantity sets a model parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measured {
    /// Completed requests per second over the trace (all containers).
    Throughput,
    /// 1 / throughput, seconds.
    Interarrival,
    /// Think time by the interactive response-time law, Z = N / X − R,
    /// seconds, with N the experiment's `clients` parameter.
    ThinkTime,
    /// Mean measured response time, seconds.
    ResponseTime,
}

/// Which estimate sets a model parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Pick {
    /// The average of the `combine` methods.
    Combined,
    /// The method the cross-validation recommends.
    Recommended,
    /// One method.
    Method(Method),
}

/// How a model parameter is set.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamSource {
    /// A number or an expression over the model's parameters.
    Value(ParamValue),
    /// A measured quantity of the experiment's traces, of one request
    /// class or of all.
    Measured {
        /// Which quantity.
        what: Measured,
        /// The class [default: all requests].
        class: Option<String>,
    },
    /// A demand estimate (of `class`, default the first).
    Estimate {
        /// Which estimate.
        pick: Pick,
        /// Class.
        class: Option<String>,
        /// A resource estimated on its own (one of the utilization's
        /// resources, e.g. the database's CPU beside the API's) [default:
        /// the experiment's resources].
        resource: Option<String>,
    },
    /// A field of the run's metadata (the experiment's `metadata` file,
    /// e.g. the testbed's `run.json`): a closed generator's users, their
    /// think time.
    Metadata(MetadataField),
    /// The fitted background utilization (`estimate: {background: …}`) at
    /// the experiment's measured per-class throughputs.
    Background,
}

/// Estimation settings of an experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct EstimateSpec {
    /// Methods to run.
    pub methods: Vec<Method>,
    /// Methods to average into `combined`.
    pub combine: Vec<Method>,
    /// Bootstrap resamples for the CIs.
    pub bootstrap: usize,
    /// Cross-validation folds.
    pub folds: usize,
    /// Interval length, seconds [default: the utilization sampling interval].
    pub interval_s: Option<f64>,
    /// How the resource shares itself among classes.
    pub discipline: crate::estimate::Discipline,
    /// Fit each class's load form through the runs and pass the demand at
    /// the experiment's load (see [`LoadAdjustment`]): `auto` (chosen by
    /// leave-one-run-out error), or one form.
    pub load_dependence: Option<crate::estimate::LoadChoice>,
    /// Estimate a constant non-CPU time per request (network, client) from
    /// the estimation runs, and add it to the predictions (see
    /// [`LatencyOffset`]).
    pub latency_offset: bool,
    /// The total (host or core) utilization series the resources share
    /// with background work: fits the background law beside the demands.
    pub background: Option<String>,
}

/// The estimated demands moved to the experiment's own load, when the
/// estimation fitted each class's load form through runs at other loads
/// ([`crate::estimate::LoadModel`]): U is the fixed point U = Σ_r
/// λ_r·D_r(U, X)/c at the experiment's measured per-class throughputs per
/// container λ_r (X their sum) and c servers, solved by bisection, and each
/// class's demand and interval are its form's there (in place of the
/// method's estimate).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadAdjustment {
    /// Ū, the mean utilization of the estimation runs.
    pub mean_utilization: f64,
    /// The load model's choice, in words.
    pub chosen: String,
    /// The utilization at the experiment's load.
    pub utilization: f64,
    /// Per class.
    pub classes: Vec<ClassAtLoad>,
    /// Why the estimate's own demands stood in for the chosen forms at
    /// this load (then `classes` is empty and `utilization` the runs'
    /// mean).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
}

/// One class's demand at the experiment's load.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassAtLoad {
    /// The class.
    pub class: String,
    /// Its load form.
    pub form: crate::estimate::LoadForm,
    /// Its demand at the experiment's load, seconds.
    pub demand_s: f64,
    /// Its interval, seconds.
    pub ci_s: (f64, f64),
}

impl Default for EstimateSpec {
    fn default() -> Self {
        Self {
            methods: Method::ALL.to_vec(),
            combine: Vec::new(),
            bootstrap: 200,
            folds: 5,
            interval_s: None,
            discipline: crate::estimate::Discipline::Fcfs,
            load_dependence: None,
            latency_offset: false,
            background: None,
        }
    }
}

/// How long to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSpec {
    /// Probe passages to measure after warm-up.
    pub requests: u64,
    /// Independent replications.
    pub replications: usize,
    /// Warm-up.
    pub warmup: Warmup,
}

impl Default for RunSpec {
    fn default() -> Self {
        Self {
            requests: 100_000,
            replications: 1,
            warmup: Warmup::Auto,
        }
    }
}

/// One experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    /// Name (unique in the study).
    pub name: String,
    /// Model file.
    pub model: PathBuf,
    /// Measured canonical request traces (merged).
    pub requests: Vec<PathBuf>,
    /// Canonical utilization traces (merged).
    pub utilization: Vec<PathBuf>,
    /// Runs to estimate the demands from, each aggregated on its own and
    /// fitted together [default: the experiment's own traces].
    pub estimate_from: Vec<RunFiles>,
    /// The containers' resources in the utilization traces [default: all
    /// of them].
    pub resources: Vec<String>,
    /// Servers (CPUs) per container.
    pub servers: u32,
    /// Containers behind an equal-split balancer.
    pub containers: u32,
    /// Estimation, when the experiment has traces.
    pub estimate: Option<EstimateSpec>,
    /// Model parameters, in order; a model parameter named `servers` or
    /// `containers` that is not listed takes the experiment's value.
    pub params: Vec<(String, ParamSource)>,
    /// A published measured mean response time, seconds (used when there
    /// are no request traces).
    pub measured_mean_s: Option<f64>,
    /// The true per-container demand, seconds, if known.
    pub true_demand_s: Option<f64>,
    /// A `truth.json` of `demandsim generate` holding the true demand.
    pub truth: Option<PathBuf>,
    /// Simulation length.
    pub run: RunSpec,
    /// Probe to compare [default: `response`, or the first].
    pub probe: Option<String>,
    /// A closed workload from a behaviour model: the model is generated
    /// from it and the estimated per-class demands (`model` is then the
    /// behaviour file).
    pub workload: Option<BehaviorWorkload>,
    /// The requests' column that names their class, for the estimation,
    /// the measured per-class values and the comparison alike (e.g.
    /// `user_class`: the classes are then the user classes) [default:
    /// `class`].
    pub class_column: Option<String>,
    /// The run's metadata file (the testbed's `run.json`), for parameters
    /// bound to its fields ([`ParamSource::Metadata`]).
    pub metadata: Option<PathBuf>,
}

/// A closed workload learnt from sessions (`behavior learn`): users who
/// follow the profiles' chains, with the experiment's estimated per-class
/// demands on its resources as one processor-sharing station.
#[derive(Debug, Clone, PartialEq)]
pub struct BehaviorWorkload {
    /// The behaviour model (JSON of `behavior learn`).
    pub behavior: PathBuf,
    /// Users.
    pub users: crate::behavior::to_qpn::Users,
    /// Which estimate gives the per-class demands.
    pub demands: Pick,
    /// Think times.
    pub think: crate::behavior::to_qpn::ThinkTimes,
    /// Mean gap between a user's sessions, seconds [default: the learnt
    /// mean think time].
    pub session_gap_s: Option<f64>,
}

/// The files of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunFiles {
    /// Its name in reports.
    pub name: String,
    /// Canonical request traces (merged).
    pub requests: Vec<PathBuf>,
    /// Canonical utilization traces (merged).
    pub utilization: Vec<PathBuf>,
    /// The run's metadata file, for a closed model's users and think time
    /// when the run is predicted (the latency offset's runs).
    pub metadata: Option<PathBuf>,
}

/// One interval of the measured traces, for plots.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesPoint {
    /// Interval end, seconds since the first interval's start.
    pub t_s: f64,
    /// Mean response time of the requests completing in it, seconds.
    pub response_s: Option<f64>,
    /// Utilization, mean over the containers (fraction).
    pub utilization: Option<f64>,
}

/// What the traces of an experiment say.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasuredTraces {
    /// Requests used (successful ones).
    pub requests: u64,
    /// Seconds covered.
    pub duration_s: f64,
    /// Completions per second, all containers.
    pub throughput: f64,
    /// Mean utilization over time and containers (fraction).
    pub mean_utilization: Option<f64>,
    /// The per-interval series.
    pub series: Vec<SeriesPoint>,
}

/// Everything an experiment produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExperimentResult {
    /// The experiment's place in the study file (0-based; set by [`run`],
    /// 0 from [`run_experiment`] alone).
    pub index: usize,
    /// Name.
    pub name: String,
    /// Model name (from the model file).
    pub model: String,
    /// Model file as the study names it.
    pub model_file: String,
    /// Seed of estimation and simulation.
    pub seed: u64,
    /// The model's parameters as simulated.
    pub params: std::collections::BTreeMap<String, f64>,
    /// Trace figures, when the experiment has traces.
    pub traces: Option<MeasuredTraces>,
    /// The estimation report, when it estimated.
    pub estimation: Option<Report>,
    /// The estimation reports of resources that parameters estimate on
    /// their own (`resource:`).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub resource_estimations: std::collections::BTreeMap<String, Report>,
    /// The demand the model ran with (the estimated parameter, or the
    /// `demand` parameter), seconds.
    pub demand_s: Option<f64>,
    /// Its CI, seconds, when it was estimated.
    pub demand_ci_s: Option<(f64, f64)>,
    /// How the demand was moved to the experiment's load, with
    /// `estimate: {load_dependence: true}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub demand_at_load: Option<LoadAdjustment>,
    /// The true demand, when known, seconds.
    pub true_demand_s: Option<f64>,
    /// (true − estimated) / true × 100.
    pub demand_error_pct: Option<f64>,
    /// Simulated response time.
    pub simulated: Summary,
    /// Mean simulated response time, seconds.
    pub simulated_s: Option<f64>,
    /// Mean response time from the analytic solver, seconds.
    pub analytic_s: Option<f64>,
    /// The predicted mean at the ends of the estimated demand's 95 %
    /// interval (analytic where solved, else simulated with the same
    /// seed), seconds; an end without a steady state is `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prediction_band_s: Option<[Option<f64>; 2]>,
    /// The analytic solution's method, or why there is none. (Written as
    /// `analytic_method` in results.json: a method or a reason, in words.)
    #[serde(rename = "analytic_method")]
    pub analytic: Analytic,
    /// Mean measured response time, seconds.
    pub measured_s: Option<f64>,
    /// Measured response time (the mean only, for a published figure).
    pub measured: Option<Summary>,
    /// (measured − simulated) / measured × 100.
    pub error_pct: Option<f64>,
    /// (measured − analytic) / measured × 100.
    pub analytic_error_pct: Option<f64>,
    /// The full comparison.
    pub comparison: Option<Comparison>,
    /// Mean utilization of the containers in the simulation.
    pub simulated_utilization: Option<f64>,
    /// Why the prediction should not be trusted, in words (e.g. the
    /// model's utilization far from the measured one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Simulation events.
    pub events: u64,
    /// Measured against predicted per request class, when the probe has a
    /// colour per class.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<ClassComparison>,
    /// Measured against predicted per user class (a behaviour workload
    /// whose profiles are the traces' user classes): each profile's
    /// requests together.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub user_classes: Vec<ClassComparison>,
    /// How the workload was read: open at the measured throughput, or
    /// closed with the generator's users and think time (then with the
    /// throughput measured against predicted).
    pub reading: Reading,
    /// The constant non-CPU time per request added to every prediction
    /// above, with `estimate: {latency_offset: true}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_offset: Option<LatencyOffset>,
}

/// Measured against predicted for one request class (the probe's colour
/// of the class's name). Errors with the study's sign: (measured −
/// predicted) / measured × 100.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ClassComparison {
    /// The class.
    pub class: String,
    /// Successful requests measured.
    pub requests: u64,
    /// Their rate, per second.
    pub throughput: f64,
    /// Measured mean response time, seconds.
    pub measured_mean_s: Option<f64>,
    /// Measured 95th percentile (none from interval-level input), seconds.
    pub measured_p95_s: Option<f64>,
    /// Simulated mean, seconds (none when the model lacks the class).
    pub predicted_mean_s: Option<f64>,
    /// Simulated 95th percentile, seconds.
    pub predicted_p95_s: Option<f64>,
    /// Analytic mean, seconds, where the model is solved.
    pub analytic_s: Option<f64>,
    /// Error of the mean, %.
    pub error_pct: Option<f64>,
    /// Error of the 95th percentile, %.
    pub p95_error_pct: Option<f64>,
}

/// The analytic solver's word on an experiment's model.
#[derive(Debug, Clone, PartialEq)]
pub enum Analytic {
    /// Solved by `method`.
    Solved {
        /// The method, in words (e.g. "Erlang C").
        method: String,
    },
    /// Not product-form, for the reasons given.
    NotSolved {
        /// Why, in words.
        reason: String,
    },
}

impl Analytic {
    /// The method, or the reason there is none, for display.
    pub fn describe(&self) -> &str {
        match self {
            Self::Solved { method } => method,
            Self::NotSolved { reason } => reason,
        }
    }
}

impl Serialize for Analytic {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.describe())
    }
}

/// A failed experiment.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Failure {
    /// The experiment's place in the study file (0-based).
    pub index: usize,
    /// Experiment name.
    pub name: String,
    /// What went wrong.
    pub error: String,
}

/// Where a study's numbers come from, which its report states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataKind {
    /// Traces measured on a real system.
    Measured,
    /// Numbers copied from a publication.
    Published,
    /// Traces from demandsim's own generator.
    Generated,
}

impl DataKind {
    /// The kind in words, for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Measured => "real measurements of a running system",
            Self::Published => "published numbers, copied from the publication",
            Self::Generated => {
                "traces generated by demandsim's own simulator (agreement is close by construction)"
            }
        }
    }
}

/// The outcome of [`run`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StudyResult {
    /// Study name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Where the numbers come from, when the study says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<DataKind>,
    /// Seed used.
    pub seed: u64,
    /// Experiments that finished, in study order.
    pub experiments: Vec<ExperimentResult>,
    /// Experiments that failed.
    pub failures: Vec<Failure>,
}

/// The seed of experiment `i` (SplitMix64 of the study seed and the index).
pub fn experiment_seed(seed: u64, i: usize) -> u64 {
    let mut z = seed ^ (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) >> 11
}

/// Runs every experiment in parallel.
pub fn run(study: &Study, files: &dyn Files, seed: u64) -> StudyResult {
    run_shard(study, files, seed, None)
}

/// [`run`] for the experiments of one shard only, `(index, of)` 1-based:
/// those whose place in the file is `index − 1` modulo `of`. Seeds come
/// from the experiment's place, so a shard's results are those of the
/// whole study.
pub fn run_shard(
    study: &Study,
    files: &dyn Files,
    seed: u64,
    shard: Option<(usize, usize)>,
) -> StudyResult {
    let chosen: Vec<(usize, &Experiment)> = study
        .experiments
        .iter()
        .enumerate()
        .filter(|(i, _)| shard.is_none_or(|(k, n)| i % n == k - 1))
        .collect();
    let outcomes: Vec<Result<ExperimentResult, ExperimentError>> = chosen
        .par_iter()
        .map(|&(i, e)| {
            run_experiment(e, files, experiment_seed(seed, i))
                .map(|r| ExperimentResult { index: i, ..r })
        })
        .collect();
    let mut experiments = Vec::new();
    let mut failures = Vec::new();
    for (&(index, e), o) in chosen.iter().zip(outcomes) {
        match o {
            Ok(r) => experiments.push(r),
            Err(error) => failures.push(Failure {
                index,
                name: e.name.clone(),
                error: error.to_string(),
            }),
        }
    }
    StudyResult {
        name: study.name.clone(),
        description: study.description.clone(),
        data: study.data,
        seed,
        experiments,
        failures,
    }
}

/// Which runs a run is predicted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldOut {
    /// The experiments' estimation runs, less the held-out one.
    EstimateFrom,
    /// Every other experiment with traces.
    Experiments,
}

/// The `validate:` section of a study.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidateSpec {
    /// Which runs are fitted [default: `estimate_from` when the experiments
    /// have estimation runs].
    pub hold_out: Option<HoldOut>,
    /// Load levels by experiment name, for leave-one-load-out [default:
    /// by utilization].
    pub levels: Vec<(String, Vec<String>)>,
    /// The utilization jump that starts a new level [default: 0.1].
    pub level_gap: f64,
    /// The band's level [default: the smallest and largest error, at
    /// (n − 1)/(n + 1)].
    pub level: Option<f64>,
}

impl Default for ValidateSpec {
    fn default() -> Self {
        Self {
            hold_out: None,
            levels: Vec::new(),
            level_gap: 0.1,
            level: None,
        }
    }
}
