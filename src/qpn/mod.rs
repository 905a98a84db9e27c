//! Queueing Petri nets: the net, its distributions, the discrete-event
//! engine and run control.
//!
//! Semantics follow QPME/SimQPN (coloured places, queueing places as queue
//! plus depository, transitions with modes, routing by normalised weights)
//! and add what SimQPN lacks: timed transitions, LCFS-PR, PS in O(log n),
//! priorities, probes with true per-token percentiles, CI-based stopping,
//! MSER-5 warm-up and reproducible parallel replications.
//!
//! This module knows nothing of YAML or files: nets are built in code or by
//! [`crate::model`].

mod config;
mod dist;
mod engine;
mod event;
mod flows;
mod net;
pub mod queue;
mod results;
mod run;
#[cfg(test)]
mod testing;
mod warm;

pub use config::{
    BASE_EVENT_LIMIT, ConfigError, EVENTS_PER_PASSAGE, RunConfig, StopRule, Warmup, WarmupError,
};
pub use dist::{Dist, DistError};
pub use engine::{ProbeRecord, SimError, Simulation, replication_rng};
pub use event::MAX_PROBES;
pub use flows::open_flows;
pub use net::{
    ArcSpec, ColorId, CpuLimit, Departure, Mode, Net, NetError, NoSuchProbe, Place, PlaceId,
    Policy, Probe, ProbePoint, Queue, Scheduling, SharedQueue, Timing, Transition, TransitionId,
    ValidNet, choose_probe, default_probe, reachable,
};
pub use queue::Throttling;
pub use results::{PlaceResult, ProbeResult, QueueResult, SimReport, ThrottleResult, WarmupReport};
pub use run::{Control, NO_PASSAGE_EVENTS, RunError, simulate};
pub(crate) use run::{Watch, warm_up};
pub use warm::{Placed, WarmError, warm_start};
