//! QPME's `.qpe` models in and out: [`import`] reads QPME 2.x (and 1.5)
//! XML into a model document for the subset both tools share, refusing
//! everything else by element, id, name and line; [`export`] writes a
//! checked net back as QPME XML, refusing what QPME cannot express.
//!
//! Nothing here opens files or knows the command line; the engine never
//! sees XML.

mod build;
mod export;
mod read;
mod to_model;

/// The unit of the file's times (QPME's have none).
pub use crate::import::TimeUnit;
pub use export::{ExportError, export};
pub use read::QpeError;
pub use to_model::{Imported, import};
