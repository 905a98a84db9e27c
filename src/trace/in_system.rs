//! The requests in the system at the end of a trace, per class: those
//! that started by the last start and had not finished by then. Streamed
//! through a heap of the open requests' ends, so memory is the number in
//! system, not the trace's length.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::{Request, TraceError};

/// A completion time ordered by `total_cmp`, with its class.
#[derive(Debug, Clone, Copy, PartialEq)]
struct End(f64, u32);

impl Eq for End {}

impl PartialOrd for End {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for End {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0).then(self.1.cmp(&other.1))
    }
}

/// The number in system at the end of a trace.
#[derive(Debug, Clone, PartialEq)]
pub struct InSystem {
    /// The end: the last request's start, seconds.
    pub at: f64,
    /// Per class id (as the reader's labels), requests started at or
    /// before `at` and finishing after it.
    pub per_class: Vec<u64>,
}

/// Counts, from `requests` (failed ones too: they held the system), the
/// requests in the system at the last start.
///
/// # Errors
/// The reader's.
pub fn in_system_at_end(
    requests: impl Iterator<Item = Result<Request, TraceError>>,
) -> Result<InSystem, TraceError> {
    let mut open: BinaryHeap<Reverse<End>> = BinaryHeap::new();
    let mut at = f64::NEG_INFINITY;
    for r in requests {
        let r = r?;
        at = at.max(r.start);
        open.push(Reverse(End(r.end(), r.class.0)));
        while open.peek().is_some_and(|Reverse(e)| e.0 <= at) {
            open.pop();
        }
    }
    let mut per_class = Vec::new();
    for Reverse(End(_, class)) in open {
        let c = class as usize;
        if per_class.len() <= c {
            per_class.resize(c + 1, 0);
        }
        per_class[c] += 1;
    }
    Ok(InSystem { at, per_class })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::RequestReader;

    #[test]
    fn requests_open_at_the_last_start_are_counted_per_class() {
        // At t = 10 (the last start): a (2..12) and b (9..20) are open,
        // a (1..3) is done, b (10..10.5) has just started; a (5..10)
        // finished at the instant itself.
        let csv = "timestamp,response_time,class\n1,2,a\n2,10,a\n5,5,a\n9,11,b\n10,0.5,b\n";
        let mut reader = RequestReader::new(csv.as_bytes()).unwrap();
        let got = in_system_at_end(&mut reader).unwrap();
        let (a, b) = (
            reader.classes().get("a").unwrap().0 as usize,
            reader.classes().get("b").unwrap().0 as usize,
        );
        assert_eq!(got.at, 10.0);
        assert_eq!((got.per_class[a], got.per_class[b]), (1, 2));
    }
}
