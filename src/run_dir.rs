//! A run directory's metadata: what the load was and what the traces
//! measure, from the run's own `run.yaml` (written by the user) or the
//! testbed's `run.json` (written by `testbed/run.sh`).
//!
//! ```yaml
//! name: mixed-n57                 # default: the directory's name
//! workload: {type: closed, users: 57, think_time_s: 1.0}   # or {type: open}
//! resource: request-path          # the requests' CPU series
//! background: services            # the total CPU series of the same core
//! servers: 1                      # CPUs
//! workers: 2                      # a pool of workers the requests hold
//! containers: 1
//! cpu_limit: 1.0                  # CPUs per container (a quota)
//! ```
//!
//! Every field is optional; an unknown one is an error. The module reads
//! text it is given; the caller finds and opens the files.

use serde::Deserialize;

/// How the load was applied.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Workload {
    /// Requests arrived on their own (a rate).
    Open,
    /// A fixed number of users, each thinking between requests.
    Closed {
        /// Users.
        users: u32,
        /// Their mean think time, seconds.
        think_time_s: f64,
    },
}

/// A run's metadata; `None`: not given.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunMeta {
    /// The run's name.
    pub name: Option<String>,
    /// The workload.
    pub workload: Option<Workload>,
    /// The utilization series of the CPU the requests use.
    pub resource: Option<String>,
    /// The utilization series of the whole core or host (the requests'
    /// own and the background work's).
    pub background: Option<String>,
    /// CPUs.
    pub servers: Option<u32>,
    /// Workers (processes or threads) a request holds while served.
    pub workers: Option<u32>,
    /// Containers behind the balancer.
    pub containers: Option<u32>,
    /// CPUs per container (a CFS quota).
    pub cpu_limit: Option<f64>,
}

/// What is wrong with a run's metadata (the caller adds the file).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunMetaError {
    /// Not the YAML of a `run.yaml`.
    #[error("{0}")]
    Yaml(String),
    /// Not the testbed's `run.json`.
    #[error("not the testbed's run.json: {0}")]
    Json(String),
    /// A value out of range.
    #[error("`{field}`: expected {expected}, got {got}")]
    Range {
        /// The field.
        field: &'static str,
        /// What it should be.
        expected: &'static str,
        /// What it is.
        got: String,
    },
}

/// The slice of the testbed's `run.json` read here.
#[derive(Deserialize)]
struct TestbedRun {
    name: Option<String>,
    load: Option<TestbedLoad>,
    pinning: Option<TestbedPinning>,
}

#[derive(Deserialize)]
struct TestbedLoad {
    users: Option<u32>,
    think_s: Option<f64>,
    api_workers: Option<u32>,
}

#[derive(Deserialize)]
struct TestbedPinning {
    services: Option<String>,
}

impl RunMeta {
    /// Reads a `run.yaml`.
    ///
    /// # Errors
    /// Malformed YAML, an unknown field (with its line), a value out of
    /// range.
    pub fn from_yaml(text: &str) -> Result<Self, RunMetaError> {
        let m: Self = serde_saphyr::from_str(text)
            .map_err(|e| RunMetaError::Yaml(crate::model::yaml_message(&e)))?;
        m.checked()
    }

    /// Reads the testbed's `run.json`: its name, `load.users`,
    /// `load.think_s` (a closed workload), `load.api_workers` (the
    /// workers) and `pinning.services` (the CPUs the services were pinned
    /// to, e.g. `0` or `0-1`: the servers).
    ///
    /// # Errors
    /// Text that is not JSON, a value out of range.
    pub fn from_testbed_json(text: &str) -> Result<Self, RunMetaError> {
        let t: TestbedRun =
            serde_json::from_str(text).map_err(|e| RunMetaError::Json(e.to_string()))?;
        let load = t.load.as_ref();
        let workload = match load.map(|l| (l.users, l.think_s)) {
            Some((Some(users), Some(think_time_s))) => Some(Workload::Closed {
                users,
                think_time_s,
            }),
            _ => None,
        };
        let servers = match t.pinning.and_then(|p| p.services) {
            Some(list) => Some(cpu_count(&list).ok_or_else(|| RunMetaError::Range {
                field: "pinning.services",
                expected: "a CPU list such as 0, 0-1 or 0,2",
                got: format!("\"{list}\""),
            })?),
            None => None,
        };
        Self {
            name: t.name,
            workload,
            workers: load.and_then(|l| l.api_workers),
            servers,
            ..Self::default()
        }
        .checked()
    }

    /// `self` with every field it lacks taken from `other`.
    pub fn or(self, other: Self) -> Self {
        Self {
            name: self.name.or(other.name),
            workload: self.workload.or(other.workload),
            resource: self.resource.or(other.resource),
            background: self.background.or(other.background),
            servers: self.servers.or(other.servers),
            workers: self.workers.or(other.workers),
            containers: self.containers.or(other.containers),
            cpu_limit: self.cpu_limit.or(other.cpu_limit),
        }
    }

    fn checked(self) -> Result<Self, RunMetaError> {
        let range = |field, expected, got: String| {
            Err(RunMetaError::Range {
                field,
                expected,
                got,
            })
        };
        if let Some(Workload::Closed {
            users,
            think_time_s,
        }) = self.workload
        {
            if users == 0 {
                return range("workload.users", "at least 1", "0".into());
            }
            if !(think_time_s.is_finite() && think_time_s >= 0.0) {
                return range(
                    "workload.think_time_s",
                    "seconds, 0 or more",
                    think_time_s.to_string(),
                );
            }
        }
        for (field, v) in [
            ("servers", self.servers),
            ("workers", self.workers),
            ("containers", self.containers),
        ] {
            if v == Some(0) {
                return range(field, "at least 1", "0".into());
            }
        }
        if let Some(l) = self.cpu_limit
            && !(l.is_finite() && l > 0.0)
        {
            return range("cpu_limit", "CPUs above 0", l.to_string());
        }
        Ok(self)
    }
}

/// The number of CPUs in a Linux CPU list (`0`, `0-3`, `0,2-3`).
fn cpu_count(list: &str) -> Option<u32> {
    let mut n = 0u32;
    for part in list.split(',').map(str::trim) {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a.trim().parse::<u32>().ok()?, b.trim().parse::<u32>().ok()?),
            None => {
                let a = part.parse::<u32>().ok()?;
                (a, a)
            }
        };
        n = n.checked_add(b.checked_sub(a)?.checked_add(1)?)?;
    }
    (n > 0).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_yaml_reads_every_field_and_refuses_unknown_ones() {
        let m = RunMeta::from_yaml(
            "name: a\nworkload: {type: closed, users: 57, think_time_s: 1.0}\nresource: cpu\nbackground: host\nservers: 2\nworkers: 4\ncontainers: 3\ncpu_limit: 0.5\n",
        )
        .unwrap();
        assert_eq!(
            m.workload,
            Some(Workload::Closed {
                users: 57,
                think_time_s: 1.0
            })
        );
        assert_eq!(
            (m.servers, m.workers, m.containers),
            (Some(2), Some(4), Some(3))
        );
        assert_eq!(m.cpu_limit, Some(0.5));
        let open = RunMeta::from_yaml("workload: {type: open}\n").unwrap();
        assert_eq!(open.workload, Some(Workload::Open));
        let e = RunMeta::from_yaml("resourse: cpu\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("resourse") && e.contains("line 1"), "{e}");
        let e = RunMeta::from_yaml("servers: 0\n").unwrap_err().to_string();
        assert_eq!(e, "`servers`: expected at least 1, got 0");
    }

    #[test]
    fn the_testbed_run_json_gives_the_closed_load_the_workers_and_the_pinned_cpus() {
        let m = RunMeta::from_testbed_json(
            r#"{"name": "mixed-n57", "pinning": {"services": "0"}, "load": {"users": 57, "think_s": 1.0, "api_workers": 2, "mix": {}}}"#,
        )
        .unwrap();
        assert_eq!(m.name.as_deref(), Some("mixed-n57"));
        assert_eq!(
            m.workload,
            Some(Workload::Closed {
                users: 57,
                think_time_s: 1.0
            })
        );
        assert_eq!((m.workers, m.servers), (Some(2), Some(1)));
        assert_eq!(cpu_count("0-1,4"), Some(3));
        assert_eq!(cpu_count("1-0"), None);
        let y = RunMeta::from_yaml("resource: cpu\nservers: 4\n").unwrap();
        let both = y.or(m);
        assert_eq!(
            (both.servers, both.resource.as_deref()),
            (Some(4), Some("cpu"))
        );
        assert_eq!(both.workers, Some(2));
    }
}
