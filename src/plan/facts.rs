//! What a run's traces hold, read before anything is decided: the
//! utilization's series and the distinct values of the requests' class
//! columns. One streaming pass over each file, in bounded memory (at most
//! [`MAX_VALUES`] values a column are kept).

use std::collections::BTreeSet;
use std::io::BufRead;

/// The columns that may name a request's class.
pub const CLASS_COLUMNS: [&str; 2] = ["class", "user_class"];

/// The most distinct values kept per column.
pub const MAX_VALUES: usize = 10_000;

/// What the traces hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunFacts {
    /// The utilization's resources, sorted.
    pub resources: Vec<String>,
    /// Per class column present in the requests: its distinct values
    /// (successful requests only), sorted.
    pub classes: Vec<(String, Vec<String>)>,
}

/// A file that is not a canonical trace.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {why}")]
pub struct FactsError {
    /// 1-based line.
    pub line: u64,
    /// What was expected.
    pub why: String,
}

impl RunFacts {
    /// Reads the canonical requests (`class`, `user_class`, `success`
    /// columns) and utilization (`resource` column).
    ///
    /// # Errors
    /// Which file (`requests` or `utilization`) and line is not CSV or
    /// lacks the column.
    pub fn read(
        requests: &mut dyn BufRead,
        utilization: &mut dyn BufRead,
    ) -> Result<Self, (&'static str, FactsError)> {
        let (util, span) =
            distinct(utilization, &["resource"], None).map_err(|e| ("utilization", e))?;
        let resources = util.into_iter().next().map(|(_, v)| v).unwrap_or_default();
        if resources.is_empty() {
            return Err((
                "utilization",
                FactsError {
                    line: 1,
                    why: "no `resource` column or no rows".into(),
                },
            ));
        }
        // Only the classes seen while the CPU was measured: a load tester's
        // history may also hold a warm-up (logins, registrations) that no
        // estimate can see.
        let (classes, _) = distinct(requests, &CLASS_COLUMNS, span).map_err(|e| ("requests", e))?;
        Ok(Self { resources, classes })
    }

    /// The distinct values of `column`, if the requests have it.
    pub fn values(&self, column: &str) -> Option<&[String]> {
        self.classes
            .iter()
            .find(|(c, _)| c == column)
            .map(|(_, v)| v.as_slice())
    }
}

/// Per column: its distinct values.
type ColumnValues = Vec<(String, Vec<String>)>;

/// The distinct values of each of `columns` the CSV has, skipping rows
/// whose `success` is `false` and, given a `span`, rows whose
/// `timestamp` lies outside it; and the span of the rows' timestamps
/// (widened by their `interval` where there is one: a utilization
/// sample's or an interval row's timestamp is the interval's end).
fn distinct(
    r: &mut dyn BufRead,
    columns: &[&str],
    span: Option<(f64, f64)>,
) -> Result<(ColumnValues, Option<(f64, f64)>), FactsError> {
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(r);
    let bad = |line: u64, e: csv::Error| FactsError {
        line,
        why: format!("not CSV: {}", crate::words::serde_words(&e.to_string())),
    };
    let header = csv.headers().map_err(|e| bad(1, e))?.clone();
    let idx: Vec<(usize, &str)> = columns
        .iter()
        .filter_map(|c| header.iter().position(|h| h.trim() == *c).map(|i| (i, *c)))
        .collect();
    let success = header.iter().position(|h| h.trim() == "success");
    let col = |name: &str| header.iter().position(|h| h.trim() == name);
    let (time, width) = (col("timestamp"), col("interval"));
    let mut seen: Option<(f64, f64)> = None;
    let mut sets: Vec<BTreeSet<String>> = vec![BTreeSet::new(); idx.len()];
    let mut row = csv::StringRecord::new();
    let mut line = 1u64;
    loop {
        line += 1;
        match csv.read_record(&mut row) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(bad(line, e)),
        }
        if success
            .and_then(|i| row.get(i))
            .is_some_and(|s| s.trim() == "false")
        {
            continue;
        }
        let number = |i: Option<usize>| i.and_then(|i| row.get(i)?.trim().parse::<f64>().ok());
        if let Some(t) = number(time).filter(|t| t.is_finite()) {
            let lo = t - number(width)
                .filter(|w| w.is_finite() && *w > 0.0)
                .unwrap_or(0.0);
            seen = Some(seen.map_or((lo, t), |(a, b)| (a.min(lo), b.max(t))));
            if span.is_some_and(|(a, b)| t < a || t > b) {
                continue;
            }
        }
        for ((i, _), set) in idx.iter().zip(&mut sets) {
            if let Some(v) = row.get(*i).map(str::trim)
                && !v.is_empty()
                && set.len() < MAX_VALUES
                && !set.contains(v)
            {
                set.insert(v.to_string());
            }
        }
    }
    let values = idx
        .iter()
        .zip(sets)
        .map(|((_, c), s)| (c.to_string(), s.into_iter().collect()))
        .collect();
    Ok((values, seen))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_facts_are_the_series_and_the_class_values_of_successful_requests() {
        let mut req = "timestamp,response_time,class,success,user_class\n1,0.1,buy,true,A\n2,0.1,sell,false,B\n3,0.2,rate,true,A\n".as_bytes();
        let mut util =
            "timestamp,utilization,resource\n1,0.5,cpu\n1,0.2,host\n3,0.4,cpu\n".as_bytes();
        let f = RunFacts::read(&mut req, &mut util).unwrap();
        assert_eq!(f.resources, ["cpu", "host"]);
        assert_eq!(f.values("class").unwrap(), ["buy", "rate"]);
        assert_eq!(f.values("user_class").unwrap(), ["A"]);
        // Interval-level rows outside the utilization's span (a warm-up)
        // name no class; an interval row counts by its end.
        let mut rows = "timestamp,interval,class,completions,mean_response_time\n5,5,login,3,0.1\n15,5,buy,3,0.1\n25,5,rate,3,0.1\n".as_bytes();
        let mut util =
            "timestamp,utilization,resource,interval\n15,0.5,cpu,5\n20,0.4,cpu,5\n".as_bytes();
        let f = RunFacts::read(&mut rows, &mut util).unwrap();
        assert_eq!(f.values("class").unwrap(), ["buy"]);
        let mut none = "timestamp,utilization\n1,0.5\n".as_bytes();
        let mut req = "timestamp,response_time\n".as_bytes();
        let (file, e) = RunFacts::read(&mut req, &mut none).unwrap_err();
        assert_eq!(file, "utilization");
        assert!(e.why.contains("resource"), "{e}");
    }
}
