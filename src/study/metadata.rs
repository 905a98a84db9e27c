//! A run's metadata: the load a closed generator applied (the testbed's
//! `run.json`: `load.users`, `load.think_s`, `load.api_workers`,
//! `load.containers`, `load.cpu_limit`), read so
//! that a closed model's users and think time come from the run itself
//! (`users: {metadata: users}` in a study).
//!
//! Reads a typed slice of the file, nothing else; the study opens it.

use serde::Deserialize;

/// A field of the run's `load` a parameter may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataField {
    /// `load.users`: the generator's users (a whole number ≥ 1).
    Users,
    /// `load.think_s`: their mean think time, seconds (> 0).
    ThinkS,
    /// `load.api_workers`: the server's worker processes (≥ 1).
    ApiWorkers,
    /// `load.containers`: the API's containers (≥ 1).
    Containers,
    /// `load.cpu_limit`: each container's CFS limit, CPUs (> 0).
    CpuLimit,
}

impl MetadataField {
    /// Every field, in the order the messages list them.
    pub const ALL: [Self; 5] = [
        Self::Users,
        Self::ThinkS,
        Self::ApiWorkers,
        Self::Containers,
        Self::CpuLimit,
    ];

    /// The field's name under `load`.
    pub fn id(self) -> &'static str {
        match self {
            Self::Users => "users",
            Self::ThinkS => "think_s",
            Self::ApiWorkers => "api_workers",
            Self::Containers => "containers",
            Self::CpuLimit => "cpu_limit",
        }
    }

    /// The field of that name.
    pub fn from_id(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.id() == s)
    }

    /// The field names, for messages.
    pub fn ids() -> String {
        Self::ALL.map(Self::id).join(", ")
    }
}

/// What is wrong with a run's metadata (the study adds the file).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataError {
    /// Not JSON, or not an object.
    #[error("not a run's metadata (JSON with a `load` object): {0}")]
    Json(String),
    /// A field the parameter needs is not there.
    #[error("no `load.{field}`")]
    Missing {
        /// The field.
        field: &'static str,
    },
    /// A field of the wrong kind or out of range.
    #[error("`load.{field}`: expected {expected}, got {got}")]
    Malformed {
        /// The field.
        field: &'static str,
        /// What it should be.
        expected: &'static str,
        /// What it is.
        got: String,
    },
}

/// The `load` of a run's metadata, as written (checked when a field is
/// asked for, so a run that lacks a field no parameter uses still reads).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct RunLoad {
    users: Option<Scalar>,
    think_s: Option<Scalar>,
    api_workers: Option<Scalar>,
    containers: Option<Scalar>,
    cpu_limit: Option<Scalar>,
}

/// A JSON value as far as the checks need it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
enum Scalar {
    Number(f64),
    Text(String),
    Other(serde::de::IgnoredAny),
}

#[derive(Deserialize)]
struct RunFile {
    load: Option<RunLoad>,
}

impl RunLoad {
    /// Reads the `load` object of a run's metadata.
    ///
    /// # Errors
    /// [`MetadataError::Json`] for text that is not JSON or has no `load`.
    /// Text that is not JSON is read as a `run.yaml`
    /// ([`crate::run_dir::RunMeta`]): its closed workload's users and think
    /// time, and its workers.
    pub fn parse(text: &str) -> Result<Self, MetadataError> {
        let f: RunFile = match serde_json::from_str(text) {
            Ok(f) => f,
            Err(e) => {
                return crate::run_dir::RunMeta::from_yaml(text)
                    .map(|m| Self::from_meta(&m))
                    .map_err(|_| MetadataError::Json(e.to_string()));
            }
        };
        f.load
            .ok_or_else(|| MetadataError::Json("no `load` object".into()))
    }

    /// The load of a `run.yaml`.
    fn from_meta(m: &crate::run_dir::RunMeta) -> Self {
        let closed = match m.workload {
            Some(crate::run_dir::Workload::Closed {
                users,
                think_time_s,
            }) => Some((users, think_time_s)),
            _ => None,
        };
        Self {
            users: closed.map(|(u, _)| Scalar::Number(f64::from(u))),
            think_s: closed.map(|(_, z)| Scalar::Number(z)),
            api_workers: m.workers.map(|w| Scalar::Number(f64::from(w))),
            containers: m.containers.map(|k| Scalar::Number(f64::from(k))),
            cpu_limit: m.cpu_limit.map(Scalar::Number),
        }
    }

    /// The value of `field`: users, workers and containers whole numbers
    /// ≥ 1, the think time positive seconds, the CPU limit positive CPUs.
    ///
    /// # Errors
    /// [`MetadataError::Missing`] or [`MetadataError::Malformed`], naming
    /// the field.
    pub fn value(&self, field: MetadataField) -> Result<f64, MetadataError> {
        let (v, expected) = match field {
            MetadataField::Users => (&self.users, "a whole number of users, at least 1"),
            MetadataField::ThinkS => (&self.think_s, "a positive number of seconds"),
            MetadataField::ApiWorkers => (&self.api_workers, "a whole number, at least 1"),
            MetadataField::Containers => (&self.containers, "a whole number, at least 1"),
            MetadataField::CpuLimit => (&self.cpu_limit, "a positive number of CPUs"),
        };
        let field_id = field.id();
        let bad = |got: String| MetadataError::Malformed {
            field: field_id,
            expected,
            got,
        };
        let x = match v {
            None => return Err(MetadataError::Missing { field: field_id }),
            Some(Scalar::Number(x)) => *x,
            Some(Scalar::Text(s)) => return Err(bad(format!("\"{s}\""))),
            Some(Scalar::Other(_)) => return Err(bad("a list, an object or null".into())),
        };
        let whole = !matches!(field, MetadataField::ThinkS | MetadataField::CpuLimit);
        if !(x.is_finite() && x > 0.0) || (whole && (x.fract() != 0.0 || x < 1.0)) {
            return Err(bad(x.to_string()));
        }
        Ok(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, field: MetadataField, expect: Result<f64, &str>) {
        let got = RunLoad::parse(text).and_then(|l| l.value(field));
        match (got, expect) {
            (Ok(v), Ok(w)) => assert_eq!(v, w),
            (Err(e), Err(w)) => assert_eq!(e.to_string(), w),
            (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn the_testbeds_run_json_gives_users_think_time_and_workers() {
        let run = r#"{"name": "mixed-n21", "load": {"name": "mixed-n21", "users": 21,
            "mix": {"ActiveUser": 1}, "api_workers": 2, "think_s": 1.0}, "window": {}}"#;
        check(run, MetadataField::Users, Ok(21.0));
        check(run, MetadataField::ThinkS, Ok(1.0));
        check(run, MetadataField::ApiWorkers, Ok(2.0));
    }

    #[test]
    fn the_containers_run_json_gives_containers_and_the_cpu_limit() {
        let run = r#"{"load": {"users": 45, "api_workers": 2, "think_s": 1.0,
            "containers": 4, "cpu_limit": 0.25, "cpu_period_s": 0.1}}"#;
        check(run, MetadataField::Containers, Ok(4.0));
        check(run, MetadataField::CpuLimit, Ok(0.25));
        check(
            r#"{"load": {"containers": 1.5}}"#,
            MetadataField::Containers,
            Err("`load.containers`: expected a whole number, at least 1, got 1.5"),
        );
        check(
            r#"{"load": {"cpu_limit": 0}}"#,
            MetadataField::CpuLimit,
            Err("`load.cpu_limit`: expected a positive number of CPUs, got 0"),
        );
        let yaml = "name: a\nworkload: {type: closed, users: 5, think_time_s: 1.0}\nresource: cpu\ncontainers: 2\ncpu_limit: 0.5\n";
        check(yaml, MetadataField::Containers, Ok(2.0));
        check(yaml, MetadataField::CpuLimit, Ok(0.5));
    }

    #[test]
    fn a_missing_or_malformed_field_is_named_with_what_it_should_be() {
        use MetadataField::{ApiWorkers, ThinkS, Users};
        check(
            r#"{"load": {"users": 21}}"#,
            ThinkS,
            Err("no `load.think_s`"),
        );
        check(
            r#"{"load": {"users": "many"}}"#,
            Users,
            Err("`load.users`: expected a whole number of users, at least 1, got \"many\""),
        );
        check(
            r#"{"load": {"users": 2.5}}"#,
            Users,
            Err("`load.users`: expected a whole number of users, at least 1, got 2.5"),
        );
        check(
            r#"{"load": {"think_s": -1}}"#,
            ThinkS,
            Err("`load.think_s`: expected a positive number of seconds, got -1"),
        );
        check(
            r#"{"load": {"api_workers": [2]}}"#,
            ApiWorkers,
            Err(
                "`load.api_workers`: expected a whole number, at least 1, got a list, an object or null",
            ),
        );
        check(
            r#"{"users": 21}"#,
            Users,
            Err("not a run's metadata (JSON with a `load` object): no `load` object"),
        );
        let e = RunLoad::parse("{\"load\": ").unwrap_err().to_string();
        assert!(
            e.starts_with("not a run's metadata") && e.contains("line 1"),
            "{e}"
        );
        assert_eq!(MetadataField::from_id("think_s"), Some(ThinkS));
        assert_eq!(MetadataField::from_id("think"), None);
    }
}
