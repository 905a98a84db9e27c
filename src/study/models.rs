//! Step 3a: the experiment's model, read from its file or generated from a
//! behaviour workload and the estimated demands.

use std::path::Path;

use super::params::chosen;
use super::{Experiment, ExperimentError, Files};
use crate::behavior::to_qpn::{ColourRole, Demands, ModelOptions, to_qpn};
use crate::estimate::Report;
use crate::model::Template;

/// The model of a behaviour workload: the behaviour file and the
/// estimated per-class demands (of the experiment's resources, as one
/// processor-sharing station of `servers` servers) as a closed net, and
/// what each of its colours stands for.
pub(super) fn generated_model(
    e: &Experiment,
    w: &super::BehaviorWorkload,
    files: &dyn Files,
    estimation: Option<&Report>,
) -> Result<(Template, Vec<ColourRole>), ExperimentError> {
    let text = files.read_to_string(&w.behavior)?;
    let behavior: crate::behavior::BehaviorModel =
        serde_json::from_str(&text).map_err(|err| ExperimentError::Behavior {
            path: w.behavior.clone(),
            why: err.to_string(),
        })?;
    let r = estimation.ok_or(ExperimentError::NoTraces)?;
    let mut demands = Demands::new();
    // Each class once (estimates come method by method), without the
    // mix-weighted pseudo-class of an unidentifiable split.
    let classes: std::collections::BTreeSet<&str> = r
        .estimates
        .iter()
        .map(|x| x.class.as_str())
        .filter(|c| *c != crate::estimate::MIX)
        .collect();
    for class in classes {
        let (d, _) = chosen(r, &w.demands, Some(class)).map_err(|why| ExperimentError::Param {
            name: format!("workload demand of {class}"),
            why: why.into_owned(),
        })?;
        demands.insert(class, &r.resource, d);
    }
    let options = ModelOptions {
        users: w.users.clone(),
        think: w.think,
        session_gap_s: w.session_gap_s,
        servers: [(r.resource.clone(), u64::from(e.servers))].into(),
        name: format!("behavior of {}", w.behavior.display()),
    };
    let generated = to_qpn(&behavior, &demands, &options)?;
    let no_files = |name: &str| {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{name}: a generated model reads no sample file"),
        ))
    };
    let template = Template::parse(&generated.yaml(), &no_files)
        .map_err(|source| ExperimentError::model(e, source))?;
    Ok((template, generated.roles().to_vec()))
}

/// The experiment's model, parsed once; sample files are read beside it.
pub(super) fn read_model(e: &Experiment, files: &dyn Files) -> Result<Template, ExperimentError> {
    let text = files.read_to_string(&e.model)?;
    let dir = e.model.parent().map(Path::to_path_buf).unwrap_or_default();
    let read_file = |name: &str| files.read_to_string(&dir.join(name));
    Template::parse(&text, &read_file).map_err(|source| ExperimentError::model(e, source))
}
