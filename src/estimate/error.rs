//! What goes wrong in estimation.

/// An estimation problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EstimateError {
    /// No resource was named.
    #[error("no resource named")]
    NoResource,
    /// A resource the interval table has no utilization for.
    #[error("no utilization for resource `{name}` (the utilization file has: {})", known.join(", "))]
    UnknownResource {
        /// The resource named.
        name: String,
        /// The resources the table has.
        known: Vec<String>,
    },
    /// The total named for background work is the requests' resource.
    #[error(
        "`{name}` is the requests' own resource; the background needs the total of the host or core they share (another utilization series)"
    )]
    TotalIsResource {
        /// The resource named for both.
        name: String,
    },
    /// Zero servers.
    #[error("servers must be at least 1")]
    NoServers,
    /// Too few intervals to fit anything.
    #[error(
        "only {used} usable interval(s) of {intervals} ({saturated} saturated, {empty} without utilization or completions); at least 2 are needed"
    )]
    TooFewIntervals {
        /// Intervals usable.
        used: usize,
        /// Intervals in the table.
        intervals: usize,
        /// Left out as saturated.
        saturated: usize,
        /// Left out as empty.
        empty: usize,
    },
    /// A method failed; no zero vector is returned in its place.
    #[error("{method}: {message}")]
    Failed {
        /// Method id.
        method: &'static str,
        /// Why.
        message: String,
    },
}
