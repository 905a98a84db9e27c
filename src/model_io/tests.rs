//! Loader tests: see the parent module.
