//! Live estimation: demands that follow a running system.
//!
//! A [`Watch`] takes requests and utilization samples as they are written
//! (records, or pieces of a growing file through a [`LineFeed`]) and a
//! clock: at every `every` seconds of it ([`Watch::tick`]) it fits the
//! chosen methods over the sliding window of closed intervals
//! (`window.rs`: a ring buffer of intervals, so memory does not grow with
//! the request rate), with the estimators' own bootstrap intervals, and
//! runs each demand's drift test (`drift.rs`) on the block of intervals
//! closed since the last update. It does no I/O: the command line opens
//! and follows the files, and a test drives it with a simulated clock.

mod drift;
mod feed;
#[cfg(test)]
mod tests;
mod update;
mod window;

use std::collections::HashMap;

pub use drift::DriftConfig;
pub use feed::{LineFeed, ReadPiece};
pub use update::Update;

use crate::estimate::Method;
use crate::import::{ReadRequests, ReadUtilization};
use crate::trace::{Labels, RequestReader, RequestRow, TraceError, UtilSample, UtilizationReader};
use drift::Detector;
use window::Window;

/// Most classes a watched trace may have: each is a column of every
/// fit (a log whose class is its raw URL would otherwise grow without
/// end).
pub const MAX_CLASSES: usize = 64;

/// Fewest closed intervals in the window before the first estimate.
pub const MIN_ROWS: usize = 10;

/// What to watch and how.
#[derive(Debug, Clone)]
pub struct Config {
    /// Interval length, seconds.
    pub interval_s: f64,
    /// The sliding window, seconds.
    pub window_s: f64,
    /// Seconds of the clock between updates.
    pub every_s: f64,
    /// Seconds an interval waits after the newest completion before it
    /// is closed (requests logged late still land in it).
    pub lag_s: f64,
    /// The resource whose utilization is read (samples of others are
    /// left out).
    pub resource: String,
    /// Its servers (cores).
    pub servers: u32,
    /// The methods fitted, side by side.
    pub methods: Vec<Method>,
    /// Bootstrap resamples for each update's intervals.
    pub bootstrap: usize,
    /// The drift test.
    pub drift: DriftConfig,
    /// Replays a finished trace on the data's own clock: after every
    /// record the watch ticks at [`Watch::frontier`], keeping the updates
    /// for [`Watch::take_updates`].
    pub replay: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            interval_s: 1.0,
            window_s: 60.0,
            every_s: 5.0,
            lag_s: 2.0,
            resource: "cpu".into(),
            servers: 1,
            methods: live_methods(),
            bootstrap: 100,
            drift: DriftConfig::default(),
            replay: false,
        }
    }
}

/// The methods that fit the utilization law interval by interval (no
/// response-time equation, no whole-trace law, no bound): what a log and
/// a utilization series determine, cheap enough to refit every update.
/// They are the Kalman filter and the regression on it.
pub fn live_methods() -> Vec<Method> {
    Method::ALL
        .iter()
        .copied()
        .filter(|m| {
            let t = m.traits();
            !t.fits_response_times && !t.upper_bound && !t.law_over_the_trace
        })
        .collect()
}

/// What cannot be watched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// A setting out of its range.
    #[error("{setting} must be {expected}, not {value}")]
    Setting {
        /// The setting (`window`, `every`, `interval`).
        setting: &'static str,
        /// What it must be.
        expected: &'static str,
        /// What it was.
        value: f64,
    },
    /// More classes than a fit can take.
    #[error(
        "more than {MAX_CLASSES} classes (the {n}th is `{class}`); group the requests into fewer classes"
    )]
    TooManyClasses {
        /// Classes seen.
        n: usize,
        /// The class that was one too many.
        class: String,
    },
    /// The trace could not be read.
    #[error(transparent)]
    Trace(#[from] TraceError),
}

/// The live estimator.
#[derive(Debug)]
pub struct Watch {
    cfg: Config,
    classes: Labels,
    window: Window,
    /// Newest completion and newest utilization sample seen, seconds.
    newest_end: f64,
    newest_util: f64,
    /// The end of the previous utilization sample, for samples that do
    /// not say their length.
    previous_util: Option<f64>,
    /// The clock's reading at the next update.
    next_update: Option<f64>,
    /// The first interval not yet in a drift block.
    block_from: i64,
    /// The end of the newest interval the last update used.
    last_end: f64,
    /// Updates of a replay not yet taken.
    pending: Vec<Update>,
    /// Resources of the utilization samples seen (the first 32).
    resources: Vec<String>,
    detectors: HashMap<(usize, Method), Detector>,
}

impl Watch {
    /// A watch with `cfg`.
    ///
    /// # Errors
    /// A non-positive interval or update period, or a window of fewer
    /// than [`MIN_ROWS`] intervals.
    pub fn new(cfg: Config) -> Result<Self, WatchError> {
        let positive = |setting, value: f64| {
            (value.is_finite() && value > 0.0)
                .then_some(())
                .ok_or(WatchError::Setting {
                    setting,
                    expected: "a positive number of seconds",
                    value,
                })
        };
        positive("interval", cfg.interval_s)?;
        positive("every", cfg.every_s)?;
        if !(cfg.lag_s.is_finite() && cfg.lag_s >= 0.0) {
            return Err(WatchError::Setting {
                setting: "lag",
                expected: "a non-negative number of seconds",
                value: cfg.lag_s,
            });
        }
        let intervals = cfg.window_s / cfg.interval_s;
        if !(MIN_ROWS as f64..=1e6).contains(&intervals) {
            return Err(WatchError::Setting {
                setting: "window",
                expected: "10 to 1,000,000 intervals long",
                value: cfg.window_s,
            });
        }
        // Room for the lag and a late utilization sample beyond the window.
        let lead = ((cfg.lag_s + cfg.every_s) / cfg.interval_s).ceil() as usize + 2;
        let window = Window::new(cfg.interval_s, intervals.round() as usize + lead);
        Ok(Self {
            cfg,
            classes: Labels::new(),
            window,
            newest_end: f64::NEG_INFINITY,
            newest_util: f64::NEG_INFINITY,
            previous_util: None,
            next_update: None,
            block_from: i64::MIN,
            last_end: f64::NEG_INFINITY,
            pending: Vec::new(),
            resources: Vec::new(),
            detectors: HashMap::new(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// How far the data are complete: [`Config::lag_s`] before the newest
    /// completion, or the end of the newest utilization sample if that is
    /// earlier. Intervals up to here are closed.
    pub fn frontier(&self) -> f64 {
        (self.newest_end - self.cfg.lag_s).min(self.newest_util)
    }

    /// The newest completion and the newest utilization sample's end read
    /// so far (−∞ before the first): a replay reads the file that is
    /// behind.
    pub fn newest(&self) -> (f64, f64) {
        (self.newest_end, self.newest_util)
    }

    /// The resources of the utilization samples read so far (the first
    /// 32), for saying why a watch prints nothing.
    pub fn resources(&self) -> &[String] {
        &self.resources
    }

    /// A replay's updates since the last call.
    pub fn take_updates(&mut self) -> Vec<Update> {
        std::mem::take(&mut self.pending)
    }

    /// A replay's tick after a record.
    fn replay_tick(&mut self) {
        if self.cfg.replay {
            let lines = self.tick(self.frontier());
            self.pending.extend(lines);
        }
    }

    /// Records that came too late for the window (their interval had left
    /// it).
    pub fn late(&self) -> u64 {
        self.window.late
    }

    /// Adds one request (failed ones are left out, as `estimate` does).
    ///
    /// # Errors
    /// A class beyond [`MAX_CLASSES`].
    pub fn push_request(&mut self, r: &RequestRow<'_>) -> Result<(), WatchError> {
        if !r.success {
            return Ok(());
        }
        let class = match self.classes.get(r.class) {
            Some(id) => id,
            None if self.classes.len() >= MAX_CLASSES => {
                return Err(WatchError::TooManyClasses {
                    n: self.classes.len() + 1,
                    class: r.class.to_string(),
                });
            }
            None => self.classes.intern(r.class),
        };
        let end = r.start + r.response_time;
        self.newest_end = self.newest_end.max(end);
        self.window.complete(class.0 as usize, end, r.response_time);
        self.replay_tick();
        Ok(())
    }

    /// Adds one utilization sample (of [`Config::resource`]; others are
    /// left out).
    pub fn push_utilization(&mut self, s: &UtilSample) {
        if s.resource != self.cfg.resource {
            if self.resources.len() < 32 && !self.resources.contains(&s.resource) {
                self.resources.push(s.resource.clone());
            }
            return;
        }
        if self.resources.first() != Some(&s.resource) {
            self.resources.retain(|r| r != &s.resource);
            self.resources.insert(0, s.resource.clone());
        }
        let span = s
            .interval
            .or_else(|| self.previous_util.map(|p| s.timestamp - p))
            .filter(|x| *x > 0.0)
            .unwrap_or(self.cfg.interval_s);
        self.previous_util = Some(s.timestamp);
        self.newest_util = self.newest_util.max(s.timestamp);
        self.window.utilization(s.timestamp, span, s.utilization);
        self.replay_tick();
    }

    /// Reads `piece` of a requests file (complete lines) with `read` (an
    /// importer's, or [`canonical_requests`]) through its `feed`.
    ///
    /// # Errors
    /// The reader's (lines the file's), or a class too many.
    pub fn read_requests(
        &mut self,
        feed: &mut LineFeed,
        read: &mut ReadRequests,
        name: &str,
        piece: &[u8],
    ) -> Result<(), WatchError> {
        let mut refused = None;
        feed.feed(piece, &mut |input| {
            let imported = read(input, name, &mut |row| {
                if refused.is_none()
                    && let Err(e) = self.push_request(&row)
                {
                    refused = Some(e);
                }
                Ok(())
            })?;
            Ok(imported.records)
        })?;
        refused.map_or(Ok(()), Err)
    }

    /// Reads `piece` of a utilization file with `read`, as
    /// [`Watch::read_requests`] does.
    ///
    /// # Errors
    /// The reader's.
    pub fn read_utilization(
        &mut self,
        feed: &mut LineFeed,
        read: &mut ReadUtilization,
        name: &str,
        piece: &[u8],
    ) -> Result<(), WatchError> {
        feed.feed(piece, &mut |input| {
            let imported = read(input, name, &mut |s| {
                self.push_utilization(&s);
                Ok(())
            })?;
            Ok(imported.records)
        })?;
        Ok(())
    }

    /// The clock reads `now`: the lines of an update when one is due.
    pub fn tick(&mut self, now: f64) -> Vec<Update> {
        if !now.is_finite() {
            return Vec::new();
        }
        let due = *self.next_update.get_or_insert(now + self.cfg.every_s);
        if now < due {
            return Vec::new();
        }
        let periods = ((now - due) / self.cfg.every_s).floor() + 1.0;
        self.next_update = Some(due + periods * self.cfg.every_s);
        self.update()
    }

    /// An update now, whatever the clock (at the end of a finished file);
    /// none when no interval closed since the last.
    pub fn update(&mut self) -> Vec<Update> {
        update::run(self)
    }
}

/// Reads a canonical `requests.csv` (a piece of it, its header first).
pub fn canonical_requests() -> ReadRequests {
    Box::new(|input, _, sink| {
        let mut reader = RequestReader::new(input)?;
        let mut n = 0;
        while let Some(r) = reader.next_request() {
            let r = r?;
            let resources = reader.resources();
            sink(RequestRow {
                start: r.start,
                response_time: r.response_time,
                class: reader.classes().name(r.class),
                success: r.success,
                resource: r.resource.map(|id| resources.name(id)),
                ..RequestRow::default()
            })?;
            n += 1;
        }
        Ok(n.into())
    })
}

/// Reads a canonical `utilization.csv` (a piece of it, its header first).
pub fn canonical_utilization() -> ReadUtilization {
    Box::new(|input, _, sink| {
        let mut n = 0;
        for s in UtilizationReader::new(input)? {
            sink(s?)?;
            n += 1;
        }
        Ok(n.into())
    })
}
