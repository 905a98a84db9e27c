//! Placeholders in expressions: `sum(e)` written out over the sets `e`
//! ranges over, then every placeholder replaced by its member's
//! identifier form.

use crate::model::classes::{Binding, Classes, unbound};

/// `text` with every `sum(e)` written out as `(e1 + e2 + …)` over the
/// members of the sets whose placeholders `e` has and `b` does not bind
/// (first placeholder slowest, so the terms add up in the order the sets
/// list them), and the remaining placeholders replaced from `b`.
///
/// # Errors
/// A `sum` over nothing, a `sum(` without `)`, a placeholder `b` does not
/// bind, a set that does not exist.
pub(crate) fn expression(text: &str, b: &Binding, classes: &Classes) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = (bytes[i].is_ascii_alphabetic() || bytes[i] == b'_')
            && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_'));
        if !starts_word {
            let ch = text[i..].chars().next().expect("in bounds");
            out.push(ch);
            i += ch.len_utf8();
            continue;
        }
        let st = i;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
            i += 1;
        }
        let open = i + (text[i..].len() - text[i..].trim_start().len());
        if &text[st..i] == "sum" && bytes.get(open) == Some(&b'(') {
            let close = closing(text, open)
                .ok_or_else(|| format!("`{text}`: `sum(` has no closing `)`"))?;
            out.push_str(&sum(&text[open + 1..close], b, classes)?);
            i = close + 1;
        } else {
            out.push_str(&text[st..i]);
        }
    }
    b.ident(&out).map_err(|var| unbound_message(&var))
}

/// `(e1 + e2 + …)`: `arg` for every binding of its unbound placeholders.
fn sum(arg: &str, b: &Binding, classes: &Classes) -> Result<String, String> {
    let vars: Vec<(&str, &str)> = unbound(arg, b).into_iter().map(|v| (v, v)).collect();
    if vars.is_empty() {
        return Err(format!(
            "`sum({arg})` has nothing to add up: it needs a placeholder of a class set that nothing binds here, as in `sum(rate_{{c}})`"
        ));
    }
    let terms = classes
        .bindings(&vars, b)?
        .iter()
        .map(|b| expression(arg, b, classes))
        .collect::<Result<Vec<_>, _>>()?;
    if terms.is_empty() {
        return Ok("0".to_string());
    }
    Ok(format!("({})", terms.join(" + ")))
}

/// The index of the `)` that closes the `(` at `open`.
fn closing(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text.bytes().enumerate().skip(open) {
        match c {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Why a placeholder cannot be replaced where it is.
pub(crate) fn unbound_message(var: &str) -> String {
    format!(
        "`{{{var}}}` stands for no member here: range over it with `each: {var}` on the mode (or transition), or write `{{{var}}}` in the name of the entry that holds this"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::classes::Classes;

    fn classes() -> Classes {
        let spec: crate::model::spec::ModelSpec = serde_saphyr::from_str(
            "classes: {c: [a, b-x, c], p: [P, Q], t: {P: [a], Q: [a, c]}}\ncolors: [x]\nplaces: {}\n",
        )
        .unwrap();
        Classes::parse(spec.classes.as_ref()).unwrap()
    }

    #[test]
    fn sum_writes_its_terms_out_in_the_sets_order() {
        let c = classes();
        let b = Binding::default();
        assert_eq!(
            expression("1 / sum(rate_{c})", &b, &c).unwrap(),
            "1 / (rate_a + rate_b_x + rate_c)"
        );
        assert_eq!(
            expression("sum(w_{p}_{t}) + mysum(x)", &b, &c).unwrap(),
            "(w_P_a + w_Q_a + w_Q_c) + mysum(x)"
        );
        let p = c.expand("{p}").unwrap();
        assert_eq!(
            expression("2 * sum (w_{p}_{t} * (1 + y))", &p[1], &c).unwrap(),
            "2 * (w_Q_a * (1 + y) + w_Q_c * (1 + y))"
        );
    }

    #[test]
    fn a_sum_over_nothing_and_an_unbound_placeholder_are_explained() {
        let c = classes();
        let b = Binding::default();
        let e = expression("sum(rate)", &b, &c).unwrap_err();
        assert!(e.contains("`sum(rate)` has nothing to add up"), "{e}");
        let e = expression("rate_{c}", &b, &c).unwrap_err();
        assert!(e.starts_with("`{c}` stands for no member here"), "{e}");
        let e = expression("sum(x_{zz})", &b, &c).unwrap_err();
        assert!(e.contains("`{zz}` names no class set"), "{e}");
        let e = expression("sum(x_{t})", &b, &c).unwrap_err();
        assert!(e.contains("has a list per member of `p`"), "{e}");
        assert!(
            expression("sum(x_{c}", &b, &c)
                .unwrap_err()
                .contains("no closing")
        );
    }
}
