//! The document as it streams: the levels that lead to spans, walked
//! without holding more than one span or resource, and the input handed
//! to the parser with the line it is on.

use std::cell::Cell;
use std::io::{self, BufRead, Read};

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Map;

use super::Ctx;
use crate::import::line_error;
use crate::trace::TraceError;

/// Reads the next document of `input` (an export request) into `ctx`;
/// `false` when only white space is left.
pub(super) fn next_document<R: BufRead>(
    input: &mut Counted<'_, R>,
    ctx: &mut Ctx<'_, '_>,
) -> Result<bool, TraceError> {
    let lines = input.lines;
    if !input
        .skip_space()
        .map_err(|e| line_error(e, lines.get() + 1))?
    {
        return Ok(false);
    }
    let first = lines.get() + 1;
    let mut de = serde_json::Deserializer::from_reader(&mut *input);
    let level = Level {
        ctx: &mut *ctx,
        at: At::Document,
    };
    match level.deserialize(&mut de) {
        Ok(()) => Ok(true),
        Err(e) => Err(ctx.error.take().unwrap_or_else(|| json_error(e, first))),
    }
}

/// A JSON error of the document that started on line `first`. The
/// parser counts a newline it stopped at (inside a string, or the last
/// before the end) as column 0 of the next line: that is the end of the
/// line before.
fn json_error(e: serde_json::Error, first: u64) -> TraceError {
    let line = first + (e.line() as u64).saturating_sub(1);
    if e.is_io() {
        return line_error(e.into(), line);
    }
    let (line, at) = match e.column() {
        0 if line > first => (line - 1, "at the end of the line".to_string()),
        c => (line, format!("at column {c}")),
    };
    let text = e.to_string();
    let what = text.split(" at line ").next().unwrap_or(&text);
    TraceError::Malformed {
        line,
        message: format!("not valid JSON {at}: {}", crate::words::serde_words(what)),
    }
}

/// The input, read in chunks and handed to the JSON parser as it asks
/// (a byte at a time), counting the newlines handed over: the line the
/// parser is on.
pub(super) struct Counted<'c, R> {
    inner: R,
    chunk: Vec<u8>,
    /// Bytes of `chunk` handed over.
    at: usize,
    lines: &'c Cell<u64>,
}

impl<'c, R: BufRead> Counted<'c, R> {
    pub(super) fn new(inner: R, lines: &'c Cell<u64>) -> Self {
        Self {
            inner,
            chunk: Vec::new(),
            at: 0,
            lines,
        }
    }

    /// The bytes not handed over yet, refilled when none are left; empty
    /// at the end.
    fn rest(&mut self) -> io::Result<&[u8]> {
        if self.at == self.chunk.len() {
            let buf = self.inner.fill_buf()?;
            self.chunk.clear();
            self.chunk.extend_from_slice(buf);
            let n = buf.len();
            self.inner.consume(n);
            self.at = 0;
        }
        Ok(&self.chunk[self.at..])
    }

    fn hand_over(&mut self, n: usize) {
        let handed = &self.chunk[self.at..self.at + n];
        let newlines = handed.iter().filter(|&&b| b == b'\n').count() as u64;
        self.lines.set(self.lines.get() + newlines);
        self.at += n;
    }

    /// Skips white space; whether a document follows.
    fn skip_space(&mut self) -> io::Result<bool> {
        loop {
            let rest = self.rest()?;
            if rest.is_empty() {
                return Ok(false);
            }
            match rest.iter().position(|b| !b.is_ascii_whitespace()) {
                Some(i) => {
                    self.hand_over(i);
                    return Ok(true);
                }
                None => {
                    let n = rest.len();
                    self.hand_over(n);
                }
            }
        }
    }
}

impl<R: BufRead> Read for Counted<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let rest = self.rest()?;
        let n = rest.len().min(out.len());
        out[..n].copy_from_slice(&rest[..n]);
        self.hand_over(n);
        Ok(n)
    }
}

/// A level of the document's nesting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum At {
    /// An export request.
    Document,
    /// Its `resourceSpans`.
    ResourceList,
    /// One of them.
    Resource,
    /// Its `resource`.
    ResourceObject,
    /// Its `scopeSpans`.
    ScopeList,
    /// One of them.
    Scope,
    /// Its `spans`.
    SpanList,
    /// One of them.
    Span,
}

impl At {
    /// What it must be.
    fn what(self) -> &'static str {
        match self {
            At::Document => "an OTLP trace export request, `{\"resourceSpans\": [...]}`",
            At::ResourceList => "a list of resource spans",
            At::Resource => "resource spans, an object with `resource` and `scopeSpans`",
            At::ResourceObject => "a resource, an object with `attributes`",
            At::ScopeList => "a list of scope spans",
            At::Scope => "scope spans, an object with `scope` and `spans`",
            At::SpanList => "a list of spans",
            At::Span => "a span, an object",
        }
    }

    /// Where it is, by the indices of the resource spans, scope spans and
    /// span.
    pub(super) fn path(self, [r, s, k]: [usize; 3]) -> String {
        match self {
            At::Document => String::new(),
            At::ResourceList => "resourceSpans".into(),
            At::Resource => format!("resourceSpans[{r}]"),
            At::ResourceObject => format!("resourceSpans[{r}].resource"),
            At::ScopeList => format!("resourceSpans[{r}].scopeSpans"),
            At::Scope => format!("resourceSpans[{r}].scopeSpans[{s}]"),
            At::SpanList => format!("resourceSpans[{r}].scopeSpans[{s}].spans"),
            At::Span => format!("resourceSpans[{r}].scopeSpans[{s}].spans[{k}]"),
        }
    }

    /// The level a key of this one's object leads to; `None` for a key
    /// that is skipped.
    fn child(self, key: Key) -> Option<At> {
        match (self, key) {
            (At::Document, Key::ResourceSpans) => Some(At::ResourceList),
            (At::Resource, Key::Resource) => Some(At::ResourceObject),
            (At::Resource, Key::ScopeSpans) => Some(At::ScopeList),
            (At::Scope, Key::Spans) => Some(At::SpanList),
            _ => None,
        }
    }

    /// For a list: the level of its items and which index counts them.
    fn item(self) -> Option<(At, usize)> {
        match self {
            At::ResourceList => Some((At::Resource, 0)),
            At::ScopeList => Some((At::Scope, 1)),
            At::SpanList => Some((At::Span, 2)),
            _ => None,
        }
    }
}

/// The keys that lead somewhere, in either spelling (and
/// `instrumentationLibrarySpans`, the name of `scopeSpans` before OTLP
/// 0.15).
#[derive(Debug, Clone, Copy)]
enum Key {
    ResourceSpans,
    Resource,
    ScopeSpans,
    Spans,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_identifier(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(match v {
            "resourceSpans" | "resource_spans" => Key::ResourceSpans,
            "resource" => Key::Resource,
            "scopeSpans"
            | "scope_spans"
            | "instrumentationLibrarySpans"
            | "instrumentation_library_spans" => Key::ScopeSpans,
            "spans" => Key::Spans,
            _ => Key::Other,
        })
    }
}

/// Reads the value at one level as it streams: the objects and lists
/// that lead to spans are walked, a span or a resource is read whole and
/// handed to the [`Ctx`], `null` (protobuf's "not set") is nothing, and
/// anything else is refused with where it is.
struct Level<'c, 'a, 's> {
    ctx: &'c mut Ctx<'a, 's>,
    at: At,
}

impl Level<'_, '_, '_> {
    fn refuse<E: de::Error>(self, found: String) -> E {
        let path = self.at.path(self.ctx.index);
        let place = match path.is_empty() {
            true => String::new(),
            false => format!("`{path}`: "),
        };
        let e = TraceError::Malformed {
            line: self.ctx.lines.get() + 1,
            message: format!("{place}expected {}, found {found}", self.at.what()),
        };
        self.ctx.fail(e)
    }

    fn list<'de, A: SeqAccess<'de>>(
        self,
        mut seq: A,
        item: At,
        slot: usize,
    ) -> Result<(), A::Error> {
        self.ctx.index[slot] = 0;
        while seq
            .next_element_seed(Level {
                ctx: &mut *self.ctx,
                at: item,
            })?
            .is_some()
        {
            self.ctx.index[slot] += 1;
        }
        Ok(())
    }

    /// An object on the way to spans: the keys that lead there are
    /// followed, the others skipped.
    fn object<'de, A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Key>()? {
            match self.at.child(key) {
                Some(at) => map.next_value_seed(Level {
                    ctx: &mut *self.ctx,
                    at,
                })?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if self.at == At::Resource {
            self.ctx.end_resource().map_err(|e| self.ctx.fail(e))?;
        }
        Ok(())
    }

    /// A span or a resource, read whole from the line where it starts.
    fn whole<'de, A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let line = self.ctx.lines.get() + 1;
        let obj = Map::deserialize(de::value::MapAccessDeserializer::new(map))?;
        let done = match self.at {
            At::Span => self.ctx.read_span(&obj, line),
            _ => self.ctx.read_resource(&obj, line),
        };
        done.map_err(|e| self.ctx.fail(e))
    }
}

impl<'de> DeserializeSeed<'de> for Level<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Level<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.at.what())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        Err(self.refuse(format!("`{v}`")))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        Err(self.refuse(format!("the number {v}")))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        Err(self.refuse(format!("the number {v}")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        Err(self.refuse(format!("the number {}", crate::words::readable(v))))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        Err(self.refuse(format!("the text {:?}", crate::trace::clip(v))))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        match self.at.item() {
            Some((item, slot)) => self.list(seq, item, slot),
            None => Err(self.refuse("a list".into())),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        match self.at {
            At::Document | At::Resource | At::Scope => self.object(map),
            At::ResourceObject | At::Span => self.whole(map),
            At::ResourceList | At::ScopeList | At::SpanList => Err(self.refuse("an object".into())),
        }
    }
}
