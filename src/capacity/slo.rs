//! The one response-time objective syntax of `sweep`, `capacity` (and a
//! plan): `STAT<=LIMIT` with the limit's unit, `p95<=50ms`, `mean<=1.2s`.

use serde::Serialize;

use super::CapacityError;

/// The statistic an objective bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stat {
    /// The mean.
    Mean,
    /// A percentile, in percent (50, 90, 95 or 99).
    P(u8),
}

/// A response-time objective `STAT<=VALUE` (seconds).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Slo {
    /// The statistic.
    pub stat: Stat,
    /// Its bound, seconds.
    pub limit_s: f64,
}

impl Slo {
    /// Parses `STAT<=LIMIT`: `p95<=50ms`, `mean<=1.2s` (the unit is
    /// required: `ms` or `s`).
    ///
    /// # Errors
    /// [`CapacityError::Slo`], or [`CapacityError::SloUnit`] for a limit
    /// without its unit.
    pub fn parse(s: &str) -> Result<Self, CapacityError> {
        let bad = || CapacityError::Slo(s.to_string());
        let (stat, limit) = s.split_once("<=").ok_or_else(bad)?;
        let stat = match stat.trim() {
            "mean" => Stat::Mean,
            "p50" => Stat::P(50),
            "p90" => Stat::P(90),
            "p95" => Stat::P(95),
            "p99" => Stat::P(99),
            _ => return Err(bad()),
        };
        let limit = limit.trim();
        let (number, scale) = if let Some(n) = limit.strip_suffix("ms") {
            (n.trim_end(), 1e-3)
        } else if let Some(n) = limit.strip_suffix('s') {
            (n.trim_end(), 1.0)
        } else {
            (limit, f64::NAN)
        };
        let x: f64 = number.parse().map_err(|_| bad())?;
        if scale.is_nan() {
            return Err(CapacityError::SloUnit {
                given: s.to_string(),
                stat: stat.to_string(),
                number: number.to_string(),
            });
        }
        let limit_s = x * scale;
        if !(limit_s.is_finite() && limit_s > 0.0) {
            return Err(bad());
        }
        Ok(Self { stat, limit_s })
    }
}

impl std::fmt::Display for Stat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Mean => f.write_str("mean"),
            Self::P(p) => write!(f, "p{p}"),
        }
    }
}

impl std::fmt::Display for Slo {
    /// `p95 ≤ 50 ms`, `mean ≤ 1.2 s` (ms below a second).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (x, unit) = if self.limit_s < 1.0 {
            (self.limit_s * 1e3, "ms")
        } else {
            (self.limit_s, "s")
        };
        write!(f, "{} ≤ {} {unit}", self.stat, crate::number::short(x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slos_parse_with_their_unit_and_bad_ones_say_what_is_expected() {
        assert_eq!(
            Slo::parse("p95<=3.5s").unwrap(),
            Slo {
                stat: Stat::P(95),
                limit_s: 3.5
            }
        );
        let ms = Slo::parse(" mean <= 50 ms").unwrap();
        assert_eq!(ms.stat, Stat::Mean);
        assert!((ms.limit_s - 0.05).abs() < 1e-15);
        assert_eq!(ms.to_string(), "mean ≤ 50 ms");
        assert_eq!(Slo::parse("p99<=1.2s").unwrap().to_string(), "p99 ≤ 1.2 s");
        for bad in ["p97<=1s", "mean<2s", "p95<=-1s", "p95<=xs", "3", "p95<=0ms"] {
            let e = Slo::parse(bad).unwrap_err().to_string();
            assert!(e.contains("e.g. p95<=50ms or mean<=1.2s"), "{bad}: {e}");
        }
        let e = Slo::parse("p95<=3").unwrap_err().to_string();
        assert_eq!(
            e,
            "SLO `p95<=3`: the limit needs a unit: p95<=3ms or p95<=3s"
        );
    }
}
