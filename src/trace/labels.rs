//! A small string interner so that per-request records carry a `u32`, not a
//! heap string: parsing a million rows must not allocate a million times.

use std::collections::HashMap;

/// Index of a name in a [`Labels`] table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LabelId(pub u32);

/// Names (classes, resources) seen in a trace, in order of first appearance.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    names: Vec<String>,
    ids: HashMap<String, LabelId>,
    /// The id last returned: a trace's rows mostly repeat the previous
    /// row's class, and comparing with one name is cheaper than hashing
    /// (the hash was a tenth of parsing a large trace).
    last: Option<LabelId>,
}

impl Labels {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// The id of `name`, adding it when new.
    pub fn intern(&mut self, name: &str) -> LabelId {
        if let Some(id) = self.last
            && self.names[id.0 as usize] == name
        {
            return id;
        }
        if let Some(&id) = self.ids.get(name) {
            self.last = Some(id);
            return id;
        }
        let id = LabelId(self.names.len() as u32);
        self.last = Some(id);
        self.names.push(name.to_string());
        self.ids.insert(name.to_string(), id);
        id
    }

    /// The id of `name`, if seen.
    pub fn get(&self, name: &str) -> Option<LabelId> {
        self.ids.get(name).copied()
    }

    /// The name behind `id`.
    ///
    /// # Panics
    /// If `id` was not produced by this table.
    pub fn name(&self, id: LabelId) -> &str {
        &self.names[id.0 as usize]
    }

    /// Number of names.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no name was interned.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// All names in id order.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}
