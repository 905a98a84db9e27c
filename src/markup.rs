//! Escaping text for HTML and XML: the one function the report page and
//! the QPME exporter share, so that neither depends on the other.

/// Escapes text for HTML, and for XML in double-quoted attributes
/// (`&`, `<`, `>`, `"`).
pub(crate) fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn the_four_special_characters_become_entities_and_the_rest_stays() {
        assert_eq!(
            escape(r#"a < b && "c" > d's"#),
            "a &lt; b &amp;&amp; &quot;c&quot; &gt; d's"
        );
        assert_eq!(escape("Ω ≤ 1"), "Ω ≤ 1");
    }
}
