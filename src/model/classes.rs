//! Class sets: a model's `classes:`, the placeholders `{name}` that range
//! over them, and the [`Binding`]s that say which member each placeholder
//! stands for.
//!
//! ```yaml
//! classes: [login, buy]                 # one set, placeholder {c}
//! classes:
//!   profile: [Reader, Buyer]
//!   type: [login, buy, rate]
//!   visits: {Reader: [login, rate], Buyer: [login, buy, rate]}   # one list per profile
//!   to: visits                          # the same members, a second placeholder
//! ```
//!
//! A set written as a map is indexed by the earlier set whose members are
//! its keys: `{visits}` ranges over the list of the profile `{profile}`
//! stands for, so `{visits}` needs `{profile}` bound beside or around it.
//! Nothing here reads YAML or knows places and transitions.

use serde_saphyr::Spanned;

use super::spec::{ClassesSpec, Name, SetSpec};
use super::{ModelError, at};

/// The set `classes: [..]` defines.
pub const DEFAULT_SET: &str = "c";

/// The model's class sets, in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Classes {
    sets: Vec<Set>,
}

#[derive(Debug, Clone, PartialEq)]
struct Set {
    name: String,
    /// The set it is an alias of (itself if none).
    root: usize,
    def: Def,
}

#[derive(Debug, Clone, PartialEq)]
enum Def {
    Flat(Vec<String>),
    /// A list per member of the set `by`, in that set's order.
    Indexed {
        by: usize,
        lists: Vec<Vec<String>>,
    },
    Alias,
}

/// Which member each placeholder stands for: (placeholder, set, member),
/// outermost first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Binding(Vec<(String, usize, String)>);

impl Binding {
    /// The member `var` stands for.
    pub fn get(&self, var: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(v, _, _)| v == var)
            .map(|(_, _, m)| m.as_str())
    }

    /// The placeholders bound, outermost first.
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(v, _, _)| v.as_str())
    }

    /// The members, outermost placeholder first.
    pub fn members(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(_, _, m)| m.as_str())
    }

    fn with(&self, var: &str, set: usize, member: &str) -> Self {
        let mut b = self.clone();
        b.0.push((var.to_string(), set, member.to_string()));
        b
    }

    /// `text` with its placeholders replaced by the members they stand
    /// for, as written (names of colours, places, modes).
    ///
    /// # Errors
    /// The first placeholder this binding does not bind.
    pub fn name(&self, text: &str) -> Result<String, String> {
        self.replace(text, |m| m.to_string())
    }

    /// `text` with its placeholders replaced by the members' identifier
    /// forms (every character but letters, digits and `_` as `_`): for
    /// parameter names and expressions.
    ///
    /// # Errors
    /// The first placeholder this binding does not bind.
    pub fn ident(&self, text: &str) -> Result<String, String> {
        self.replace(text, identifier)
    }

    fn replace(&self, text: &str, form: impl Fn(&str) -> String) -> Result<String, String> {
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for (range, var) in placeholders(text) {
            let m = self.get(var).ok_or_else(|| var.to_string())?;
            out.push_str(&text[last..range.start]);
            out.push_str(&form(m));
            last = range.end;
        }
        out.push_str(&text[last..]);
        Ok(out)
    }
}

/// A member's identifier form.
pub fn identifier(member: &str) -> String {
    member
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Whether `s` is a name expressions can use.
pub(crate) fn is_identifier(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The placeholders `{name}` of `text`, with their byte ranges.
pub fn placeholders(text: &str) -> Vec<(std::ops::Range<usize>, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find('{').map(|i| i + from) {
        let Some(close) = text[open..].find('}').map(|i| i + open) else {
            break;
        };
        let inner = &text[open + 1..close];
        if is_identifier(inner) {
            out.push((open..close + 1, inner));
            from = close + 1;
        } else {
            from = open + 1;
        }
    }
    out
}

/// The placeholders of `text` not bound by `b`, each once, in order.
pub(crate) fn unbound<'t>(text: &'t str, b: &Binding) -> Vec<&'t str> {
    let mut out: Vec<&str> = Vec::new();
    for (_, v) in placeholders(text) {
        if b.get(v).is_none() && !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

impl Classes {
    /// Reads `classes:`.
    ///
    /// # Errors
    /// An empty set, a member listed twice, a set name that is not an
    /// identifier, an alias or index naming no earlier set.
    pub(crate) fn parse(spec: Option<&Spanned<ClassesSpec>>) -> Result<Self, ModelError> {
        let mut c = Self::default();
        let Some(spec) = spec else { return Ok(c) };
        match &spec.value {
            ClassesSpec::One(list) => {
                let def = Def::Flat(members(DEFAULT_SET, list, spec)?);
                c.push(DEFAULT_SET, def);
            }
            ClassesSpec::Named(sets) => {
                if sets.is_empty() {
                    return Err(at(spec, "`classes` names no set"));
                }
                for (name, set) in sets {
                    c.add(name, set)?;
                }
            }
        }
        Ok(c)
    }

    fn push(&mut self, name: &str, def: Def) {
        let root = match def {
            Def::Alias => unreachable!("aliases are pushed with their root"),
            _ => self.sets.len(),
        };
        self.sets.push(Set {
            name: name.to_string(),
            root,
            def,
        });
    }

    fn add(&mut self, name: &Name, set: &Spanned<SetSpec>) -> Result<(), ModelError> {
        if !is_identifier(&name.value) {
            return Err(at(
                name,
                format!(
                    "set name `{}`: use letters, digits and _ (it is written `{{{}}}`)",
                    name.value, name.value
                ),
            ));
        }
        let def = match &set.value {
            SetSpec::List(list) => Def::Flat(members(&name.value, list, set)?),
            SetSpec::Alias(other) => {
                let Some(i) = self.index(other) else {
                    return Err(at(
                        set,
                        format!(
                            "set `{}` = `{other}`: no set `{other}` is declared before it{}",
                            name.value,
                            self.known()
                        ),
                    ));
                };
                let root = self.sets[i].root;
                self.sets.push(Set {
                    name: name.value.clone(),
                    root,
                    def: Def::Alias,
                });
                return Ok(());
            }
            SetSpec::Indexed(lists) => self.indexed(&name.value, lists, set)?,
        };
        self.push(&name.value, def);
        Ok(())
    }

    /// A set written as a map: one list per member of an earlier set.
    fn indexed(
        &self,
        name: &str,
        lists: &[(Name, Vec<Name>)],
        set: &Spanned<SetSpec>,
    ) -> Result<Def, ModelError> {
        let mut keys: Vec<&str> = lists.iter().map(|(k, _)| k.value.as_str()).collect();
        keys.sort_unstable();
        let by = self.sets.iter().position(|s| {
            let Def::Flat(m) = &s.def else { return false };
            let mut m: Vec<&str> = m.iter().map(String::as_str).collect();
            m.sort_unstable();
            m == keys
        });
        let Some(by) = by else {
            return Err(at(
                set,
                format!(
                    "set `{name}`: a set written as a map needs one list for each member of a set declared before it, and its keys ({}) are not the members of one{}",
                    lists
                        .iter()
                        .map(|(k, _)| k.value.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    self.known()
                ),
            ));
        };
        let Def::Flat(order) = &self.sets[by].def else {
            unreachable!("found among the flat sets")
        };
        let mut out = Vec::new();
        for m in order {
            let (_, list) = lists
                .iter()
                .find(|(k, _)| &k.value == m)
                .expect("same keys");
            out.push(list_members(name, list)?);
        }
        Ok(Def::Indexed { by, lists: out })
    }

    fn known(&self) -> String {
        if self.sets.is_empty() {
            String::new()
        } else {
            format!(" (sets: {})", self.names().collect::<Vec<_>>().join(", "))
        }
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.sets.iter().position(|s| s.name == name)
    }

    /// Whether the model has a set `name`.
    pub fn has(&self, name: &str) -> bool {
        self.index(name).is_some()
    }

    /// Whether the model has no class sets.
    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// The sets' names, in file order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.sets.iter().map(|s| s.name.as_str())
    }

    /// The members of set `name`; an indexed set's lists joined, each
    /// member once, in order. `None`: no such set.
    pub fn members(&self, name: &str) -> Option<Vec<&str>> {
        let s = &self.sets[self.sets[self.index(name)?].root];
        Some(match &s.def {
            Def::Flat(m) => m.iter().map(String::as_str).collect(),
            Def::Indexed { lists, .. } => {
                let mut out: Vec<&str> = Vec::new();
                for m in lists.iter().flatten() {
                    if !out.contains(&m.as_str()) {
                        out.push(m);
                    }
                }
                out
            }
            Def::Alias => unreachable!("a root is no alias"),
        })
    }

    /// Every binding of the placeholders of `pattern` (each names a set),
    /// the first slowest: `demand_{c}` → one binding per member of `c`;
    /// [`Binding::ident`] or [`Binding::name`] then writes the pattern.
    ///
    /// # Errors
    /// A placeholder that names no set, or an indexed set without its
    /// index.
    pub fn expand(&self, pattern: &str) -> Result<Vec<Binding>, String> {
        let vars: Vec<(&str, &str)> = unbound(pattern, &Binding::default())
            .into_iter()
            .map(|v| (v, v))
            .collect();
        self.bindings(&vars, &Binding::default())
    }

    /// Every binding of `vars` (placeholder, set) inside `outer`, the
    /// first placeholder slowest (an indexed set after the one it is
    /// indexed by).
    ///
    /// # Errors
    /// A set that does not exist, a placeholder bound already, an indexed
    /// set whose index is not bound.
    pub(crate) fn bindings(
        &self,
        vars: &[(&str, &str)],
        outer: &Binding,
    ) -> Result<Vec<Binding>, String> {
        let mut pending: Vec<(&str, usize)> = Vec::new();
        for &(var, set) in vars {
            let Some(i) = self.index(set) else {
                return Err(match self.sets.is_empty() {
                    true => format!("`{{{set}}}`: the model has no `classes`"),
                    false => format!("`{{{set}}}` names no class set{}", self.known()),
                });
            };
            if outer.get(var).is_some() || pending.iter().any(|(v, _)| *v == var) {
                return Err(format!("`{{{var}}}` is bound already here"));
            }
            pending.push((var, self.sets[i].root));
        }
        let mut out = vec![outer.clone()];
        while !pending.is_empty() {
            // The first placeholder whose index (if any) is bound.
            let next = pending
                .iter()
                .position(|&(_, s)| self.index_var(s, &out[0]).is_ok())
                .unwrap_or(0);
            let (var, set) = pending.remove(next);
            let mut grown = Vec::new();
            for b in &out {
                for m in self.members_in(set, var, b)? {
                    grown.push(b.with(var, set, m));
                }
            }
            out = grown;
            if out.is_empty() {
                break;
            }
        }
        Ok(out)
    }

    /// The placeholder of `b` that an indexed set `set` takes its list
    /// from (`Ok(None)` for a flat set).
    fn index_var<'b>(&self, set: usize, b: &'b Binding) -> Result<Option<&'b str>, String> {
        let Def::Indexed { by, .. } = &self.sets[set].def else {
            return Ok(None);
        };
        let mut vars = b.0.iter().filter(|(_, s, _)| s == by);
        match (vars.next(), vars.next()) {
            (Some(v), None) => Ok(Some(v.2.as_str())),
            (None, _) => Err(format!(
                "`{{{}}}` has a list per member of `{}`: bind `{{{}}}` beside it (`each: [{}, {}]`, or both in the name)",
                self.sets[set].name,
                self.sets[*by].name,
                self.sets[*by].name,
                self.sets[*by].name,
                self.sets[set].name
            )),
            (Some(_), Some(_)) => Err(format!(
                "`{{{}}}` has a list per member of `{}`, and two placeholders stand for members of `{}` here",
                self.sets[set].name, self.sets[*by].name, self.sets[*by].name
            )),
        }
    }

    /// The members placeholder `vars[prefix.len()]` ranges over when the
    /// placeholders before it stand for `prefix` (every placeholder a
    /// set's name): which keys a table may have at that level.
    pub(crate) fn level(&self, vars: &[&str], prefix: &[&str]) -> Result<&[String], String> {
        let root = |v: &str| {
            self.index(v)
                .map(|i| self.sets[i].root)
                .ok_or_else(|| format!("`{{{v}}}` names no class set"))
        };
        let mut b = Binding::default();
        for (v, m) in vars.iter().zip(prefix) {
            b = b.with(v, root(v)?, m);
        }
        let var = vars[prefix.len()];
        self.members_in(root(var)?, var, &b)
    }

    fn members_in(&self, set: usize, var: &str, b: &Binding) -> Result<&[String], String> {
        match &self.sets[set].def {
            Def::Flat(m) => Ok(m),
            Def::Indexed { by, lists } => {
                let member = self.index_var(set, b)?.expect("indexed");
                let Def::Flat(keys) = &self.sets[*by].def else {
                    unreachable!("an index is flat")
                };
                let k = keys.iter().position(|k| k == member).expect("a member");
                Ok(&lists[k])
            }
            Def::Alias => unreachable!("`{var}`: bindings take roots"),
        }
    }
}

fn members<T>(set: &str, list: &[Name], loc: &Spanned<T>) -> Result<Vec<String>, ModelError> {
    if list.is_empty() {
        return Err(at(loc, format!("set `{set}` has no members")));
    }
    list_members(set, list)
}

fn list_members(set: &str, list: &[Name]) -> Result<Vec<String>, ModelError> {
    let mut out: Vec<String> = Vec::new();
    for m in list {
        if m.value.is_empty() || m.value.contains(['{', '}']) {
            return Err(at(
                m,
                format!(
                    "set `{set}`: `{}` is not a member's name (no braces, not empty)",
                    m.value
                ),
            ));
        }
        if out.contains(&m.value) {
            return Err(at(m, format!("set `{set}` lists `{}` twice", m.value)));
        }
        out.push(m.value.clone());
    }
    Ok(out)
}
