//! QPME's `.qpe` models in and out: [`import`] reads QPME 2.x (and 1.5)
//! XML into a model document for the subset both tools share, refusing
//! everything else by element, id, name and line; [`export`] writes a
//! checked net back as QPME XML, refusing what QPME cannot express.
//!
//! Nothing here opens files or knows the command line; the engine never
//! sees XML.

mod export;
mod read;
mod to_model;

/// The unit of the file's times (QPME's have none).
pub use crate::import::TimeUnit;
pub use export::{ExportError, export};
pub use to_model::{Imported, import};

/// A `.qpe` that cannot be imported.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum QpeError {
    /// Not well-formed XML, or not a QPME net.
    #[error("not a QPME model: {0}")]
    Xml(String),
    /// An element outside the subset, or inconsistent.
    #[error("line {line}: <{element}>{} {message}", describe(id, name))]
    At {
        /// 1-based line of the element.
        line: u32,
        /// The element (`place`, `queue`, `color-ref`...).
        element: String,
        /// Its `id`.
        id: String,
        /// Its `name`, if it has one.
        name: String,
        /// What is wrong.
        message: String,
    },
}

fn describe(id: &str, name: &str) -> String {
    match (id.is_empty(), name.is_empty()) {
        (true, true) => String::new(),
        (false, true) => format!(" id {id:?}"),
        (true, false) => format!(" {name:?}"),
        (false, false) => format!(" {name:?} (id {id:?})"),
    }
}
