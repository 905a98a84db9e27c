//! Numbers and serde messages in the project's words, for every module's
//! errors (a leaf: it names no other module).

/// A number readable in a message: plain, or in scientific notation (four
/// significant digits) when huge or tiny, so that 1e300 is not printed
/// with its 300 digits.
pub fn readable(x: f64) -> String {
    if x == 0.0 || !x.is_finite() || (1e-6..1e15).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:.3e}")
    }
}

/// A serde message (JSON or YAML) in the words of a file's reader: the
/// names of the Rust types it was read into (`expected struct Record`,
/// `untagged enum ArcColorsRaw`) become what the file should hold there,
/// and Rust's number types become "number".
pub fn serde_words(message: &str) -> String {
    static RULES: std::sync::LazyLock<Vec<(regex::Regex, &str)>> = std::sync::LazyLock::new(|| {
        [
            (
                r"expected (?:tuple )?struct \w+ with (\d+) elements?",
                "expected a list of $1 values",
            ),
            (
                r"data did not match any variant of untagged enum \w+",
                "not one of the forms this field takes",
            ),
            (
                r"expected (?:tuple |unit )?struct \w+",
                "expected a mapping of fields",
            ),
            (
                r"expected (?:a )?(?:unit )?enum \w+",
                "expected one of the names this field takes",
            ),
            (
                r"expected (?:a )?(?:variant|newtype variant) of \w+",
                "expected one of the names this field takes",
            ),
            (
                r"\b(?:u8|u16|u32|u64|usize|i32|i64|isize)\b",
                "whole number",
            ),
            (r"\bf(?:32|64)\b", "number"),
            (r"floating point `", "the number `"),
            (r"invalid type: ", "found "),
            (r"invalid value: ", "found "),
            (r"invalid length (\d+)", "a list of $1 values"),
            (r"\bsequence\b", "list"),
            (r"\ba map\b", "a mapping"),
            (r",? set \w+ in Options if acceptable", ""),
        ]
        .into_iter()
        .map(|(r, to)| (regex::Regex::new(r).expect("a valid pattern"), to))
        .collect()
    });
    RULES.iter().fold(message.to_string(), |m, (r, to)| {
        r.replace_all(&m, *to).into_owned()
    })
}
