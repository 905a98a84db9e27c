//! What a run needs besides the net: the stop rule, the warm-up, the
//! replications and their seed, checked against the net.

use super::engine::DEFAULT_TOKEN_LIMIT;
use super::net::Net;

/// When to stop measuring.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StopRule {
    /// After this many passages of the first probe (all colours).
    Requests(u64),
    /// After this much simulated time, seconds.
    Time(f64),
    /// When every probe's 95 % CI half-width is at most this fraction of
    /// its mean (checked every 1,000 passages).
    Precision(f64),
}

/// How long to run before measuring.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Warmup {
    /// Measure from the start.
    None,
    /// Discard this many passages of the first probe.
    Count(u64),
    /// Discard this much simulated time, seconds.
    Time(f64),
    /// Detect the end of the transient with MSER-5 on the first probe.
    Auto,
}

/// A warm-up that is not `auto`, `none`, a count or a time.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("`{text}`: expected auto, none, a count (5000) or a time (300s)")]
pub struct WarmupError {
    /// The text given.
    pub text: String,
}

impl std::str::FromStr for Warmup {
    type Err = WarmupError;

    /// `auto`, `none`, a passage count (`5000`) or a time (`300s`).
    fn from_str(s: &str) -> Result<Self, WarmupError> {
        let bad = || WarmupError {
            text: s.to_string(),
        };
        Ok(match s.trim() {
            "auto" => Warmup::Auto,
            "none" | "0" => Warmup::None,
            t if t.ends_with('s') => {
                let v: f64 = t.trim_end_matches('s').trim().parse().map_err(|_| bad())?;
                if !(v.is_finite() && v >= 0.0) {
                    return Err(bad());
                }
                Warmup::Time(v)
            }
            n => Warmup::Count(n.parse().map_err(|_| bad())?),
        })
    }
}

/// Everything a run needs besides the net.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Stopping rule.
    pub stop: StopRule,
    /// Warm-up.
    pub warmup: Warmup,
    /// Independent replications (run in parallel).
    pub replications: usize,
    /// Master seed; replication r uses the stream jumped r times.
    pub seed: u64,
    /// Tokens in the net (queued, in service or waiting to be taken),
    /// beyond the initial marking, above which the run stops as unstable.
    pub token_limit: u64,
    /// Confidence level of intervals (0.95).
    pub confidence: f64,
    /// Events per replication after which the run stops with an error;
    /// `None`: [`RunConfig::event_limit`]'s default from the stop rule.
    pub max_events: Option<u64>,
}

impl RunConfig {
    /// Checks the configuration against `net`: the rules a run needs, once.
    ///
    /// # Errors
    /// [`ConfigError`] for the first rule broken.
    pub fn check(&self, net: &Net) -> Result<(), ConfigError> {
        if self.replications == 0 {
            return Err(ConfigError::ZeroReplications);
        }
        if net.probes.is_empty() && !matches!(self.stop, StopRule::Time(_)) {
            return Err(ConfigError::StopWithoutProbe);
        }
        if net.probes.is_empty() && matches!(self.warmup, Warmup::Auto | Warmup::Count(_)) {
            return Err(ConfigError::WarmupWithoutProbe);
        }
        Ok(())
    }
}

/// Events a passage may take on average before a run by passages is
/// stopped: the shipped models take 3 to 7.
pub const EVENTS_PER_PASSAGE: u64 = 1_000;

/// The event limit of runs by time or precision, and the least of any.
pub const BASE_EVENT_LIMIT: u64 = 1_000_000_000;

impl RunConfig {
    /// Events per replication after which the run stops: `max_events`, else
    /// [`EVENTS_PER_PASSAGE`] for each passage asked for (the measured ones
    /// and a warm-up's), at least [`BASE_EVENT_LIMIT`].
    pub fn event_limit(&self) -> u64 {
        if let Some(n) = self.max_events {
            return n;
        }
        let measured = match self.stop {
            StopRule::Requests(n) => n,
            _ => 0,
        };
        let warmup = match self.warmup {
            Warmup::Count(n) => n,
            // The pilot runs of the automatic warm-up: at most 15 × 50,000.
            Warmup::Auto => 750_000,
            _ => 0,
        };
        measured
            .saturating_add(warmup)
            .saturating_mul(EVENTS_PER_PASSAGE)
            .max(BASE_EVENT_LIMIT)
    }
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            stop: StopRule::Requests(100_000),
            warmup: Warmup::Auto,
            replications: 1,
            seed: 1,
            token_limit: DEFAULT_TOKEN_LIMIT,
            confidence: 0.95,
            max_events: None,
        }
    }
}

/// A run configuration that does not fit the net.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Zero replications.
    #[error("at least one replication is needed")]
    ZeroReplications,
    /// A stop by passages (or precision) with no probe to count.
    #[error("the model has no probe: stop by time or add a probe")]
    StopWithoutProbe,
    /// A warm-up by passages with no probe to count.
    #[error("the model has no probe: give the warm-up as a time")]
    WarmupWithoutProbe,
}
