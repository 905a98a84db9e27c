use super::*;

#[test]
fn a_class_placeholder_the_parameter_name_lacks_is_refused() {
    let study = |params: &str| {
        load_study(&format!(
            "experiments:\n  - {{name: e, model: m.yaml, requests: r.csv, utilization: u.csv, params: {{{params}}}}}\n"
        ))
    };
    assert!(study("\"d_{c}\": {estimate: sdl, class: \"{c}\"}").is_ok());
    let e = study("d: {estimate: sdl, class: \"{c}\"}").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("experiment `e`: parameter `d`: `{c}` stands for no class here"),
        "{e}"
    );
    let e = study("\"r_{c}\": \"2 * d_{k}\"").unwrap_err();
    assert!(
        e.to_string().contains("`{k}` stands for no class here"),
        "{e}"
    );
}

#[test]
fn load_dependence_takes_a_flag_or_a_form_and_class_column_is_kept() {
    let study = |extra: &str| {
        load_study(&format!(
            "experiments:\n  - {{name: e, model: m.yaml, requests: r.csv, utilization: u.csv, {extra}}}\n"
        ))
    };
    let choice = |ld: &str| {
        study(&format!("estimate: {{load_dependence: {ld}}}"))
            .map(|s| s.experiments[0].estimate.as_ref().unwrap().load_dependence)
    };
    assert_eq!(choice("false").unwrap(), None);
    assert_eq!(choice("true").unwrap(), Some(LoadChoice::Auto));
    assert_eq!(choice("auto").unwrap(), Some(LoadChoice::Auto));
    assert_eq!(
        choice("inverse_x").unwrap(),
        Some(LoadChoice::Only(LoadForm::InverseX))
    );
    let e = choice("cubic").unwrap_err();
    assert_eq!(
        e.to_string(),
        "experiment `e`: estimate.load_dependence: unknown `cubic`; expected true, false, auto, constant, linear_u, inverse_x"
    );
    let s = study("class_column: user_class").unwrap();
    assert_eq!(s.experiments[0].class_column.as_deref(), Some("user_class"));
}

#[test]
fn the_background_binding_needs_the_background_estimate() {
    let study = |estimate: &str| {
        load_study(&format!(
            "experiments:\n  - {{name: e, model: m.yaml, requests: r.csv, utilization: u.csv, estimate: {{{estimate}}}, params: {{bg: {{background: utilization}}}}}}\n"
        ))
    };
    let s = study("background: services").unwrap();
    let e = &s.experiments[0];
    assert_eq!(
        e.estimate.as_ref().unwrap().background.as_deref(),
        Some("services")
    );
    assert_eq!(e.params, vec![("bg".to_string(), ParamSource::Background)]);
    let err = study("methods: all").unwrap_err().to_string();
    assert!(
        err.contains("needs `estimate: {background: RESOURCE}`"),
        "{err}"
    );
}
