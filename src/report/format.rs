//! How numbers are shown to people: one formatter with two notations,
//! [`TEXT`] for terminals and [`HTML`] for the report. They differ only in
//! the mark for a missing value, in how a range is joined, and in whether
//! very large or small values switch to scientific notation.

/// A way of writing numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notation {
    /// Written for a missing value.
    pub missing: &'static str,
    /// Between the ends of a range.
    pub range: &'static str,
    /// Scientific notation outside 1e-4 … 1e6 (else plain decimals).
    pub scientific: bool,
}

/// Terminal tables: `-` for missing, `a – b`, scientific at the extremes.
pub const TEXT: Notation = Notation {
    missing: "-",
    range: " – ",
    scientific: true,
};

/// The HTML report: `–` for missing, `a–b`, always plain decimals.
pub const HTML: Notation = Notation {
    missing: "–",
    range: "–",
    scientific: false,
};

impl Notation {
    /// Four significant digits.
    pub fn num(self, v: Option<f64>) -> String {
        match v {
            None => self.missing.into(),
            Some(x) if !x.is_finite() => format!("{x}"),
            Some(0.0) => "0".into(),
            Some(x) => {
                let mag = x.abs().log10().floor() as i32;
                if self.scientific && !(-4..6).contains(&mag) {
                    format!("{x:.3e}")
                } else {
                    let decimals = (3 - mag).clamp(0, 9) as usize;
                    format!("{x:.decimals$}")
                }
            }
        }
    }

    /// A parameter value as a person would write it: a whole number
    /// without decimals (`12`, not `12.00`), others in their shortest
    /// exact form (`0.1`, `6.242`).
    pub fn value(self, x: f64) -> String {
        if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 {
            format!("{x:.0}")
        } else {
            format!("{x}")
        }
    }

    /// A range of two numbers, or the missing mark unless both are there.
    pub fn range(self, lo: Option<f64>, hi: Option<f64>) -> String {
        match (lo, hi) {
            (Some(a), Some(b)) => {
                format!("{}{}{}", self.num(Some(a)), self.range, self.num(Some(b)))
            }
            _ => self.missing.into(),
        }
    }

    /// A signed percentage with one decimal (`+12.3 %`).
    pub fn pct(self, v: Option<f64>) -> String {
        v.map(|x| format!("{x:+.1} %"))
            .unwrap_or_else(|| self.missing.into())
    }

    /// A fraction (utilization, relative error) as a percentage with one
    /// decimal (`12.3 %`).
    pub fn frac_pct(self, v: Option<f64>) -> String {
        v.map(|x| format!("{:.1} %", x * 100.0))
            .unwrap_or_else(|| self.missing.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_values_are_written_as_people_write_them() {
        assert_eq!(TEXT.value(12.0), "12");
        assert_eq!(TEXT.value(0.1), "0.1");
        assert_eq!(TEXT.value(6.242), "6.242");
        assert_eq!(TEXT.value(-3.0), "-3");
    }

    #[test]
    fn four_significant_digits_in_both_notations() {
        for (x, want) in [
            (0.99758, "0.9976"),
            (12.029, "12.03"),
            (1234.5, "1234"),
            (0.0, "0"),
        ] {
            assert_eq!(TEXT.num(Some(x)), want);
            assert_eq!(HTML.num(Some(x)), want);
        }
        assert_eq!(TEXT.num(Some(1.5e7)), "1.500e7");
        assert_eq!(HTML.num(Some(1.5e7)), "15000000");
        assert_eq!(TEXT.num(None), "-");
        assert_eq!(HTML.num(None), "–");
        assert_eq!(TEXT.range(Some(0.5), Some(1.0)), "0.5000 – 1.000");
        assert_eq!(HTML.range(Some(0.5), None), "–");
        assert_eq!(HTML.pct(Some(-3.04)), "-3.0 %");
        assert_eq!(TEXT.frac_pct(Some(0.911)), "91.1 %");
    }
}
