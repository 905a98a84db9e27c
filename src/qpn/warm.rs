//! A warm start: the number in system measured at the end of a run, per
//! class, put as tokens in the queues of the places where that class is
//! served, at time 0 (`simulate --initial-from`).

use super::net::{NetError, ValidNet};

/// Tokens placed for one class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    /// The class (colour).
    pub class: String,
    /// The queueing place they went to.
    pub place: String,
    /// How many.
    pub tokens: u64,
}

/// What cannot be placed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WarmError {
    /// A class the model has no colour for.
    #[error("class `{class}` is not a colour of the model (it has {})", colors.join(", "))]
    UnknownClass {
        /// The class.
        class: String,
        /// The model's colours.
        colors: Vec<String>,
    },
    /// A colour no queueing place of the model serves.
    #[error("no queueing place of the model serves `{class}`")]
    NotServed {
        /// The class.
        class: String,
    },
    /// The net with the tokens breaks a rule of nets.
    #[error(transparent)]
    Net(#[from] NetError),
}

/// `net` with `counts` (class name, requests in system) added to the
/// initial marking: each class's tokens in the queue of the first
/// queueing place (in the model's order) whose queue serves its colour.
/// Classes with no request in system are left out of the answer.
///
/// # Errors
/// A class that is not a colour, or that no queue serves.
pub fn warm_start(
    net: ValidNet,
    counts: &[(String, u64)],
) -> Result<(ValidNet, Vec<Placed>), WarmError> {
    let mut net = net.into_inner();
    let mut placed = Vec::new();
    for (class, n) in counts.iter().filter(|(_, n)| *n > 0) {
        let Some(color) = net.colors.iter().position(|c| c == class) else {
            return Err(WarmError::UnknownClass {
                class: class.clone(),
                colors: net.colors.clone(),
            });
        };
        let Some(place) = net.places.iter_mut().find(|p| {
            p.queue
                .as_ref()
                .is_some_and(|q| q.service.get(color).is_some_and(Option::is_some))
        }) else {
            return Err(WarmError::NotServed {
                class: class.clone(),
            });
        };
        place.initial[color] += n;
        placed.push(Placed {
            class: class.clone(),
            place: place.name.clone(),
            tokens: *n,
        });
    }
    Ok((net.into_valid()?, placed))
}
