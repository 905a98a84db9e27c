//! The model format: YAML → [`Template`] (parsed spec, parameter
//! expressions, source spans) → [`Template::instantiate`] with typed
//! [`Params`] → [`Model`] holding a validated [`crate::qpn::Net`].
//!
//! This is the only serde layer for models: the engine never sees YAML.
//! Every problem is reported with the YAML line and column it comes from.
//! Nothing here opens files: an `empirical` distribution's sample file is
//! read through a resolver the caller passes in. Nothing here knows about
//! studies or the command line.
//!
//! Per-class structure is written once and written out at parse time:
//! `classes.rs` reads the class sets, `expand/` replaces every placeholder
//! (`{c}`), `each:` over sets, parameter table and `sum()` by the entries
//! they stand for, in the same spec types, so nothing after it knows.
//! The net is then built by small builders in `build/`: colours and
//! places, transitions and their modes, probes, then the diagnostics
//! (modes that can never fire, open-model stability).

mod build;
mod classes;
pub mod doc;
mod expand;
mod expr;
mod spec;
mod template;

use serde_saphyr::Spanned;

use crate::qpn::NetError;

pub use build::open_loads;
pub use classes::{Binding, Classes, identifier, placeholders};
pub use expr::{ExprError, eval as eval_expr};
pub use template::{Model, ParamValue, Params, ReadFile, RunDefaults, Template};

const BOOL_MESSAGE: &str = "found a YAML boolean where a number or expression was expected (YAML reads bare y, n, yes, no, on, off as booleans: quote it, e.g. 'n')";

/// Largest initial marking accepted for one place and colour.
pub const MAX_INITIAL_TOKENS: u64 = 10_000_000;

/// Most servers a queue may have.
pub const MAX_SERVERS: u64 = 1_000_000;

/// A problem in a model file or with a parameter setting.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The YAML itself is malformed (or too large: a YAML bomb).
    #[error("{message}")]
    Yaml {
        /// The YAML parser's message, with its location.
        message: String,
    },
    /// A valid YAML with an invalid value.
    #[error("line {line}, column {column}: {message}")]
    At {
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: u64,
        /// What is wrong.
        message: String,
    },
    /// A setting names a parameter the model does not have.
    #[error("{name}={value}: the model has no parameter `{name}` (it has: {})", known.join(", "))]
    UnknownParam {
        /// The name set.
        name: String,
        /// The value given.
        value: ParamValue,
        /// The model's parameters, as its file names them (`rate_{c}`
        /// for every `rate_login`, …).
        known: Vec<String>,
    },
    /// A setting whose value does not evaluate.
    #[error("{name}={value}: {message}")]
    BadParam {
        /// The name set.
        name: String,
        /// The value given.
        value: ParamValue,
        /// Why it does not evaluate.
        message: String,
    },
    /// Parameters that refer to each other in a cycle.
    #[error("parameter `{name}`: parameters refer to each other in a cycle")]
    ParamCycle {
        /// One parameter of the cycle.
        name: String,
    },
    /// The model lists no colours.
    #[error("the model lists no `colors`")]
    NoColors,
    /// The initial marking is too large.
    #[error(
        "the initial marking holds {tokens} tokens, more than the {MAX_INITIAL_TOKENS} supported"
    )]
    TooManyTokens {
        /// Tokens in the whole initial marking.
        tokens: u64,
    },
    /// The net breaks a rule of valid nets.
    #[error(transparent)]
    Net(#[from] NetError),
    /// An open model whose offered load reaches a place's capacity.
    #[error(
        "the open model is unstable: place {place} is offered {load:.4} busy servers of work per second but has {servers} server(s) (utilization {:.1} %); lower the arrival rate or add servers",
        100.0 * load / servers
    )]
    Unstable {
        /// The place.
        place: String,
        /// Offered load, busy servers.
        load: f64,
        /// Its servers.
        servers: f64,
    },
}

impl ModelError {
    fn yaml(e: &serde_saphyr::Error) -> Self {
        Self::Yaml {
            message: yaml_message(e),
        }
    }

    /// Whether the error is in a parameter setting rather than the file.
    pub fn is_setting(&self) -> bool {
        matches!(self, Self::UnknownParam { .. } | Self::BadParam { .. })
    }
}

/// serde-saphyr's message already carries the location; keep it to one
/// paragraph.
pub(crate) fn yaml_message(e: &serde_saphyr::Error) -> String {
    let s = crate::words::serde_words(&e.to_string());
    s.lines()
        .filter(|l| !l.trim().is_empty())
        .take(6)
        .collect::<Vec<_>>()
        .join("\n")
}

fn at<T>(s: &Spanned<T>, message: impl Into<String>) -> ModelError {
    ModelError::At {
        line: s.referenced.line(),
        column: s.referenced.column(),
        message: message.into(),
    }
}

/// What to do with an open model whose offered load reaches capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stability {
    /// Reject it with the numbers.
    #[default]
    Reject,
    /// Accept it (the run stops when queues grow without bound).
    Allow,
}

/// Options for [`load`].
pub struct LoadOptions<'a> {
    /// Parameter settings.
    pub params: Params,
    /// Open-model stability policy.
    pub stability: Stability,
    /// Reads the text of a file named in the model (empirical samples).
    pub read_file: ReadFile<'a>,
}

impl Default for LoadOptions<'_> {
    fn default() -> Self {
        Self {
            params: Params::new(),
            stability: Stability::Reject,
            read_file: &|_| {
                Err(std::io::Error::new(
                    std::io::ErrorKind::Unsupported,
                    "no file access",
                ))
            },
        }
    }
}

/// Parses and instantiates a model in one step (for callers that build
/// it once; keep the [`Template`] to build it again with other values).
///
/// # Errors
/// [`ModelError`] with the line and column of the first problem.
pub fn load(yaml: &str, opts: &LoadOptions<'_>) -> Result<Model, ModelError> {
    Template::parse(yaml, opts.read_file)?.instantiate(&opts.params, opts.stability)
}

#[cfg(test)]
mod tests;
