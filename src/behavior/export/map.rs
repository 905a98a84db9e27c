//! Each state's request: the mapping file (YAML, `STATE: {method, path,
//! body}`) a user edits, its draft, and the placeholders used without one.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::ExportError;

/// One state's request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// HTTP method [default: GET].
    #[serde(default = "get")]
    pub method: String,
    /// Path (with the query), appended to the host.
    pub path: String,
    /// A body sent as it is (JSON text, for example), if any.
    #[serde(default)]
    pub body: Option<String>,
}

fn get() -> String {
    "GET".into()
}

/// Every state's request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RequestMap(pub BTreeMap<String, RequestSpec>);

/// Parses a requests map.
///
/// # Errors
/// [`ExportError::Map`] with the YAML's own message (and its line) when
/// it is not a map of states to `{method, path, body}`.
pub fn parse_map(text: &str) -> Result<RequestMap, ExportError> {
    serde_saphyr::from_str::<BTreeMap<String, RequestSpec>>(text)
        .map(RequestMap)
        .map_err(|e| ExportError::Map(e.to_string()))
}

/// The request a state's name suggests: `METHOD /path` as it says, a path
/// as a GET, anything else as `GET /<name>`.
fn guess(state: &str) -> RequestSpec {
    let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
    if let Some((m, p)) = state.split_once(' ')
        && methods.contains(&m)
        && p.starts_with('/')
    {
        return RequestSpec {
            method: m.into(),
            path: p.into(),
            body: None,
        };
    }
    let path = if state.starts_with('/') {
        state.to_string()
    } else {
        format!("/{state}")
    };
    RequestSpec {
        method: "GET".into(),
        path,
        body: None,
    }
}

impl RequestMap {
    /// The placeholders: each state's guessed request.
    pub fn placeholders(states: &[String]) -> Self {
        Self(states.iter().map(|s| (s.clone(), guess(s))).collect())
    }

    /// The map, checked against the model's states.
    ///
    /// # Errors
    /// States it misses, or names it has that are no state.
    pub fn check(&self, states: &[String]) -> Result<Self, ExportError> {
        let missing: Vec<&str> = (states.iter())
            .filter(|s| !self.0.contains_key(*s))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(ExportError::Unmapped(missing.join(", ")));
        }
        let unknown: Vec<&str> = (self.0.keys())
            .filter(|k| !states.contains(k))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            return Err(ExportError::UnknownStates(unknown.join(", ")));
        }
        Ok(self.clone())
    }
}

/// A draft map for `states` (YAML text with a comment saying what to
/// edit): each state's guessed request.
pub fn draft_map(states: &[String]) -> String {
    let mut out = String::from(
        "# Each state's request for `demandsim behavior export --requests-map`:\n# STATE: {method: GET|POST|…, path: /path?query, body: '<sent as it is>'}\n# Drafted from the state names; edit the paths and add bodies.\n",
    );
    for s in states {
        let r = guess(s);
        out += &format!(
            "{}: {{method: {}, path: {}}}\n",
            super::lit(s),
            r.method,
            super::lit(&r.path)
        );
    }
    out
}
