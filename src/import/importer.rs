//! What every importer declares (its name, its options, what it produces)
//! and how a caller runs one: [`Importer::configure`] checks the option
//! values once and gives a [`Reader`], which reads one file at a time into
//! the sink for what it produces.
//!
//! Options are data ([`Opt`]), so the command line can offer each
//! importer's own flags without this module knowing about flags: the
//! caller collects their [`Values`] and names the option in an
//! [`OptionError`] as it likes.

use std::io::BufRead;

use regex::Regex;

use super::{IntervalSink, RequestSink, UtilSink};
use crate::trace::TraceError;

/// A trace format. Each lives in its own file and is listed once, in
/// [`super::ALL`].
pub trait Importer: Sync + std::fmt::Debug {
    /// Its name (`access-log`): the command line's word for it.
    fn name(&self) -> &'static str;

    /// One line: what it reads and what it gives.
    fn about(&self) -> &'static str;

    /// The options it takes.
    fn options(&self) -> &'static [Opt] {
        &[]
    }

    /// The longest line its files may have, bytes: a longer one is refused
    /// as the file's error before it is buffered whole.
    fn max_line(&self) -> u64 {
        crate::trace::MAX_LINE_BYTES
    }

    /// Checks the options' values and sets up the reader they describe.
    ///
    /// # Errors
    /// A value its option cannot take (a regular expression that does not
    /// compile, a log format without a duration), or a required option
    /// without a value.
    fn configure(&self, values: &Values) -> Result<Reader, OptionError>;
}

/// One option of an importer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Opt {
    /// Its name (`exclude-label`).
    pub name: &'static str,
    /// What stands for its value in help (`REGEX`); empty for a switch.
    pub placeholder: &'static str,
    /// What it takes.
    pub takes: Takes,
    /// What it does, one or two sentences.
    pub help: &'static str,
    /// Its value when none is given.
    pub default: Option<&'static str>,
    /// Whether a value must be given.
    pub required: bool,
    /// Options it cannot be given with.
    pub conflicts: &'static [&'static str],
    /// Options it needs.
    pub requires: &'static [&'static str],
}

/// What an option takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Takes {
    /// Nothing: a switch.
    Nothing,
    /// Text.
    Text,
    /// A number.
    Number,
    /// One of these words, each with what it means.
    Choice(&'static [(&'static str, &'static str)]),
}

impl Opt {
    const fn new(
        name: &'static str,
        placeholder: &'static str,
        takes: Takes,
        help: &'static str,
    ) -> Self {
        Self {
            name,
            placeholder,
            takes,
            help,
            default: None,
            required: false,
            conflicts: &[],
            requires: &[],
        }
    }

    /// A switch.
    pub const fn switch(name: &'static str, help: &'static str) -> Self {
        Self::new(name, "", Takes::Nothing, help)
    }

    /// An option that takes text.
    pub const fn text(name: &'static str, placeholder: &'static str, help: &'static str) -> Self {
        Self::new(name, placeholder, Takes::Text, help)
    }

    /// An option that takes a number.
    pub const fn number(name: &'static str, placeholder: &'static str, help: &'static str) -> Self {
        Self::new(name, placeholder, Takes::Number, help)
    }

    /// An option that takes one of `choices` (word, meaning).
    pub const fn choice(
        name: &'static str,
        placeholder: &'static str,
        choices: &'static [(&'static str, &'static str)],
        help: &'static str,
    ) -> Self {
        Self::new(name, placeholder, Takes::Choice(choices), help)
    }

    /// With a value when none is given.
    pub const fn default(mut self, value: &'static str) -> Self {
        self.default = Some(value);
        self
    }

    /// Which must be given.
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Which cannot be given with `others`.
    pub const fn conflicts(mut self, others: &'static [&'static str]) -> Self {
        self.conflicts = others;
        self
    }

    /// Which needs `others`.
    pub const fn requires(mut self, others: &'static [&'static str]) -> Self {
        self.requires = others;
        self
    }
}

/// A value given to an option.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A switch turned on.
    Set,
    /// Text, or a choice.
    Text(String),
    /// A number.
    Number(f64),
}

/// The values given to an importer's options, by option name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Values(Vec<(&'static str, Value)>);

impl Values {
    /// No values.
    pub fn new() -> Self {
        Self::default()
    }

    /// With `value` for the option `name`.
    pub fn with(mut self, name: &'static str, value: Value) -> Self {
        self.set(name, value);
        self
    }

    /// Gives `value` to the option `name`.
    pub fn set(&mut self, name: &'static str, value: Value) {
        self.0.retain(|(n, _)| *n != name);
        self.0.push((name, value));
    }

    fn get(&self, opt: &Opt) -> Option<&Value> {
        self.0.iter().find(|(n, _)| *n == opt.name).map(|(_, v)| v)
    }

    /// Whether the switch `opt` is on.
    pub fn is_set(&self, opt: &Opt) -> bool {
        self.get(opt).is_some()
    }

    /// The text given to `opt`, or its default.
    pub fn text(&self, opt: &Opt) -> Option<&str> {
        match self.get(opt) {
            Some(Value::Text(t)) => Some(t),
            _ => opt.default,
        }
    }

    /// The text given to `opt` (or its default), which must be there.
    ///
    /// # Errors
    /// None given and no default.
    pub fn required_text(&self, opt: &Opt) -> Result<&str, OptionError> {
        self.text(opt).ok_or(OptionError {
            option: opt.name,
            problem: OptionProblem::Missing,
        })
    }

    /// The number given to `opt`, or its default.
    pub fn number(&self, opt: &Opt) -> Option<f64> {
        match self.get(opt) {
            Some(Value::Number(x)) => Some(*x),
            _ => opt.default.and_then(|d| d.parse().ok()),
        }
    }

    /// The word given to the choice `opt` (or its default), checked
    /// against its choices; `None` when there is neither.
    ///
    /// # Errors
    /// A word that is not one of the choices.
    pub fn choice(&self, opt: &Opt) -> Result<Option<&str>, OptionError> {
        let Some(word) = self.text(opt) else {
            return Ok(None);
        };
        let choices = match opt.takes {
            Takes::Choice(c) => c,
            _ => &[],
        };
        if choices.iter().any(|(c, _)| *c == word) {
            Ok(Some(word))
        } else {
            Err(OptionError {
                option: opt.name,
                problem: OptionProblem::NotOneOf {
                    found: word.to_string(),
                    choices: choices.iter().map(|(c, _)| *c).collect(),
                },
            })
        }
    }

    /// The regular expression given to `opt`, compiled.
    ///
    /// # Errors
    /// One that does not compile.
    pub fn regex(&self, opt: &Opt) -> Result<Option<Regex>, OptionError> {
        self.text(opt)
            .map(|r| {
                Regex::new(r).map_err(|e| OptionError {
                    option: opt.name,
                    problem: OptionProblem::Regex(e),
                })
            })
            .transpose()
    }
}

/// An option's value that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("option `{option}`: {problem}")]
pub struct OptionError {
    /// The option's name.
    pub option: &'static str,
    /// What is wrong.
    pub problem: OptionProblem,
}

/// What is wrong with an option's value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OptionProblem {
    /// A required option without a value.
    #[error("a value is required")]
    Missing,
    /// A word that is not one of the choices.
    #[error("`{found}` is not one of {}", choices.join(", "))]
    NotOneOf {
        /// The word given.
        found: String,
        /// The words it may be.
        choices: Vec<&'static str>,
    },
    /// A regular expression that does not compile (in the message, not a
    /// source: printed once).
    #[error("not a valid regular expression: {0}")]
    Regex(regex::Error),
    /// A number of seconds that is not positive.
    #[error("must be a positive number of seconds, not {0}")]
    NotPositive(f64),
    /// A value the importer's own parser refuses (a log format).
    #[error("{0}")]
    Invalid(Box<dyn std::error::Error + Send + Sync>),
}

/// What an importer hands back for one file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Imported {
    /// Records read (requests, interval rows or samples).
    pub records: u64,
    /// What is worth saying about the file.
    pub notes: Vec<Note>,
}

impl From<u64> for Imported {
    fn from(records: u64) -> Self {
        Self {
            records,
            notes: Vec::new(),
        }
    }
}

/// Something worth saying about an imported file (not `non_exhaustive`:
/// a new kind must be said by every caller that logs notes).
#[derive(Debug, Clone, PartialEq)]
pub enum Note {
    /// How it was read (a unit told from the numbers' size), a sentence.
    Read(String),
    /// One class's response times over the whole file.
    Class(ClassSummary),
}

/// One class's figures over a whole file.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassSummary {
    /// The class.
    pub class: String,
    /// Requests completed over the file.
    pub requests: u64,
    /// Their mean response time, seconds.
    pub mean_s: Option<f64>,
    /// 50th, 95th and 99th percentiles, seconds.
    pub percentiles_s: [Option<f64>; 3],
}

/// Reads one file (with its name, `-` for standard input) into a sink of
/// requests.
pub type ReadRequests =
    Box<dyn FnMut(&mut dyn BufRead, &str, &mut RequestSink<'_>) -> Result<Imported, TraceError>>;
/// Reads one file into a sink of interval-level rows.
pub type ReadIntervals =
    Box<dyn FnMut(&mut dyn BufRead, &str, &mut IntervalSink<'_>) -> Result<Imported, TraceError>>;
/// Reads one file into a sink of utilization samples.
pub type ReadUtilization =
    Box<dyn FnMut(&mut dyn BufRead, &str, &mut UtilSink<'_>) -> Result<Imported, TraceError>>;

/// Reads several files at once into one sink of requests, merged in time
/// order as they stream; an error names the file by its index.
pub type ReadMerged =
    Box<dyn FnMut(&mut [Source<'_>], &mut RequestSink<'_>) -> Result<Imported, InFile>>;

/// One of several files read at once.
pub struct Source<'a> {
    /// Its text.
    pub input: &'a mut dyn BufRead,
    /// Its name (`-` for standard input).
    pub name: &'a str,
}

/// What is wrong in one of several files read at once (the caller names
/// the file).
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct InFile {
    /// The file's index among those read.
    pub file: usize,
    /// What is wrong in it.
    pub error: TraceError,
}

/// An importer set up with its options: what it produces, and how it
/// reads one file into the sink for that.
pub enum Reader {
    /// Requests, as `requests.csv` holds them.
    Requests {
        /// Whether they say who sent them (`user_class`, `user`, `session`).
        origin: bool,
        /// Whether they say which resource served them (`resource`).
        resource: bool,
        /// Reads one file.
        read: ReadRequests,
    },
    /// Requests, from all the files at once: each in time order (the
    /// threads of one load generator), merged into one.
    MergedRequests {
        /// Whether they say who sent them (`user_class`, `user`, `session`).
        origin: bool,
        /// Reads the files.
        read: ReadMerged,
    },
    /// Interval-level rows, as `intervals.csv` holds them.
    Intervals(ReadIntervals),
    /// Utilization samples, as `utilization.csv` holds them.
    Utilization(ReadUtilization),
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Requests {
                origin, resource, ..
            } => f
                .debug_struct("Requests")
                .field("origin", origin)
                .field("resource", resource)
                .finish_non_exhaustive(),
            Self::MergedRequests { origin, .. } => f
                .debug_struct("MergedRequests")
                .field("origin", origin)
                .finish_non_exhaustive(),
            Self::Intervals(_) => f.write_str("Intervals(..)"),
            Self::Utilization(_) => f.write_str("Utilization(..)"),
        }
    }
}

impl Reader {
    /// A reader of requests.
    pub fn requests(
        origin: bool,
        read: impl FnMut(&mut dyn BufRead, &str, &mut RequestSink<'_>) -> Result<Imported, TraceError>
        + 'static,
    ) -> Self {
        Self::Requests {
            origin,
            resource: false,
            read: Box::new(read),
        }
    }

    /// The same reader, its requests saying which resource served them.
    pub fn with_resource(mut self) -> Self {
        if let Self::Requests { resource, .. } = &mut self {
            *resource = true;
        }
        self
    }

    /// A reader of requests from several files at once, merged.
    pub fn merged_requests(
        origin: bool,
        read: impl FnMut(&mut [Source<'_>], &mut RequestSink<'_>) -> Result<Imported, InFile> + 'static,
    ) -> Self {
        Self::MergedRequests {
            origin,
            read: Box::new(read),
        }
    }

    /// A reader of interval-level rows.
    pub fn intervals(
        read: impl FnMut(&mut dyn BufRead, &str, &mut IntervalSink<'_>) -> Result<Imported, TraceError>
        + 'static,
    ) -> Self {
        Self::Intervals(Box::new(read))
    }

    /// A reader of utilization samples.
    pub fn utilization(
        read: impl FnMut(&mut dyn BufRead, &str, &mut UtilSink<'_>) -> Result<Imported, TraceError>
        + 'static,
    ) -> Self {
        Self::Utilization(Box::new(read))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABEL: Opt = Opt::text("label", "LABEL", "A label.").default("instance");
    const SKIP: Opt = Opt::number("skip", "SECONDS", "A warm-up.").default("0.5");
    const UNIT: Opt = Opt::choice("unit", "UNIT", &[("s", ""), ("ms", "")], "A unit.");
    const MATCH: Opt = Opt::text("match", "REGEX", "A pattern.");
    const ON: Opt = Opt::switch("on", "A switch.");

    #[test]
    fn values_given_win_over_defaults_and_defaults_over_nothing() {
        let none = Values::new();
        assert_eq!(none.text(&LABEL), Some("instance"));
        assert_eq!(none.number(&SKIP), Some(0.5));
        assert_eq!(none.text(&MATCH), None);
        assert!(!none.is_set(&ON));
        let given = Values::new()
            .with("label", Value::Text("pod".into()))
            .with("skip", Value::Number(20.0))
            .with("on", Value::Set)
            .with("skip", Value::Number(30.0));
        assert_eq!(given.text(&LABEL), Some("pod"));
        assert_eq!(given.number(&SKIP), Some(30.0), "the last value given");
        assert!(given.is_set(&ON));
    }

    #[test]
    fn bad_values_are_refused_with_the_option_and_what_it_takes() {
        let v = Values::new()
            .with("unit", Value::Text("h".into()))
            .with("match", Value::Text("(".into()));
        let e = v.choice(&UNIT).unwrap_err();
        assert_eq!(e.to_string(), "option `unit`: `h` is not one of s, ms");
        let e = v.regex(&MATCH).unwrap_err();
        assert_eq!(e.option, "match");
        assert!(matches!(e.problem, OptionProblem::Regex(_)), "{e}");
        let e = Values::new().required_text(&MATCH).unwrap_err();
        assert_eq!(e.to_string(), "option `match`: a value is required");
        let ok = Values::new().with("unit", Value::Text("ms".into()));
        assert_eq!(ok.choice(&UNIT).unwrap(), Some("ms"));
    }

    #[test]
    fn each_importer_configures_from_its_own_options_and_refuses_a_bad_value() {
        let jmeter = super::super::find("jmeter").unwrap();
        let bad = Values::new().with("session-start", Value::Text("(".into()));
        let e = jmeter.configure(&bad).unwrap_err();
        assert_eq!(e.option, "session-start");
        let with_sessions = Values::new().with("session-start", Value::Text("^login$".into()));
        assert!(matches!(
            jmeter.configure(&with_sessions).unwrap(),
            Reader::Requests { origin: true, .. }
        ));
        let librede = super::super::find("librede").unwrap();
        let e = librede.configure(&Values::new()).unwrap_err();
        assert_eq!(
            (e.option, e.problem.to_string()),
            ("metric", "a value is required".into())
        );
        let util = Values::new().with("metric", Value::Text("utilization".into()));
        assert!(matches!(
            librede.configure(&util).unwrap(),
            Reader::Utilization(_)
        ));
        // Every option an importer declares has a unique name and a help.
        for importer in super::super::ALL {
            let names: Vec<&str> = importer.options().iter().map(|o| o.name).collect();
            let mut unique = names.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(unique.len(), names.len(), "{}", importer.name());
            assert!(importer.options().iter().all(|o| !o.help.is_empty()));
        }
    }

    #[test]
    fn a_librede_file_names_its_class_and_a_reader_reads_it_through_the_common_signature() {
        let librede = super::super::find("librede").unwrap();
        let values = Values::new()
            .with("metric", Value::Text("response-time".into()))
            .with("time-unit", Value::Text("ms".into()));
        let Reader::Requests {
            origin, mut read, ..
        } = librede.configure(&values).unwrap()
        else {
            panic!("requests expected");
        };
        assert!(!origin);
        let mut rows = Vec::new();
        let mut input: &[u8] = b"10500,0.5\n11250,0.25\n";
        let imported = read(&mut input, "WC0_RESPONSE_TIME.csv.gz", &mut |r| {
            rows.push((r.start, r.response_time, r.class.to_string()));
            Ok(())
        })
        .unwrap();
        assert_eq!(imported, Imported::from(2));
        assert_eq!(
            rows,
            [(10.0, 0.5, "WC0".into()), (11.0, 0.25, "WC0".into())]
        );
    }
}
