//! OpenTelemetry traces in OTLP JSON → requests: one per server span, or
//! one per root span (`roots`).
//!
//! Reads what the OTLP file exporter writes (one `ExportTraceServiceRequest`
//! per line) and a single request document, pretty-printed or not, in
//! either JSON form: the OTLP/JSON specification's (hex ids, enums as
//! integers) or protobuf's own JSON mapping (base64 ids, enums by name,
//! 64-bit integers as text, field names in camelCase or snake_case). The
//! input streams through: memory holds one span at a time (and the
//! requests of one resource whose `resource` comes after its spans).
//!
//! A request's timestamp is its span's start, its response time end −
//! start (taken in whole nanoseconds, then turned into seconds once,
//! correctly rounded), its class the span's name or an attribute's value,
//! its resource the resource's `service.name` (or another attribute), and
//! it failed when the span's status code is ERROR. Every span is checked,
//! imported or not; what a span must hold is in `span.rs`.

mod span;
mod stream;

use std::borrow::Cow;
use std::cell::Cell;
use std::io::BufRead;

use serde::de;
use serde_json::{Map, Value};

use super::{
    Imported, Importer, Note, Opt, OptionError, Reader, RequestRow, RequestSink, TraceError, Values,
};
use span::{ATTRIBUTES, Span, Where, attributes, field};
use stream::{At, Counted};

/// The importer of OTLP JSON traces.
#[derive(Debug)]
pub struct Otlp;

const ROOTS: Opt = Opt::switch(
    "roots",
    "One request per root span (a span without a parent), whatever its kind, instead of one \
     per server span.",
);
const CLASS_ATTR: Opt = Opt::text(
    "class-attr",
    "KEY",
    "The class is the value of this span attribute (e.g. `http.route`); a span without it is \
     classed by its name.",
);
const RESOURCE_ATTR: Opt = Opt::text(
    "resource-attr",
    "KEY",
    "The resource is the value of this resource attribute.",
)
.default("service.name");
const USER_ATTR: Opt = Opt::text(
    "user-attr",
    "KEY",
    "The user is the value of this span attribute (e.g. `enduser.id`).",
);
const SESSION_ATTR: Opt = Opt::text(
    "session-attr",
    "KEY",
    "The session is the value of this span attribute (e.g. `session.id`).",
);

impl Importer for Otlp {
    fn name(&self) -> &'static str {
        "otlp"
    }

    fn about(&self) -> &'static str {
        "OpenTelemetry traces in OTLP JSON (the file exporter's JSON lines, or one request \
         document) → requests, one per server span."
    }

    fn options(&self) -> &'static [Opt] {
        &[ROOTS, CLASS_ATTR, RESOURCE_ATTR, USER_ATTR, SESSION_ATTR]
    }

    /// A line of the file exporter's holds a whole export request.
    fn max_line(&self) -> u64 {
        crate::trace::MAX_DOCUMENT_BYTES
    }

    fn configure(&self, values: &Values) -> Result<Reader, OptionError> {
        let text = |opt: &Opt| values.text(opt).map(str::to_string);
        let opts = Options {
            roots: values.is_set(&ROOTS),
            class_attr: text(&CLASS_ATTR),
            resource_attr: text(&RESOURCE_ATTR).unwrap_or_default(),
            user_attr: text(&USER_ATTR),
            session_attr: text(&SESSION_ATTR),
        };
        let origin = opts.user_attr.is_some() || opts.session_attr.is_some();
        Ok(
            Reader::requests(origin, move |input, _, sink| read(input, &opts, sink))
                .with_resource(),
        )
    }
}

/// Options for [`read`].
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// One request per root span instead of one per server span.
    pub roots: bool,
    /// The span attribute that names the class (else the span's name).
    pub class_attr: Option<String>,
    /// The resource attribute that names the resource.
    pub resource_attr: String,
    /// The span attribute that names the user.
    pub user_attr: Option<String>,
    /// The span attribute that names the session.
    pub session_attr: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            roots: false,
            class_attr: None,
            resource_attr: "service.name".into(),
            user_attr: None,
            session_attr: None,
        }
    }
}

/// Streams OTLP JSON (any number of export requests, one after another)
/// into `sink`: one request per server span, or per root span.
///
/// # Errors
/// Text that is not JSON, or a document, list or span that is not what
/// OTLP puts there: the line (where the span starts), the field's path
/// (`resourceSpans[0].scopeSpans[1].spans[3].kind`) and what it must be.
pub fn read<R: BufRead>(
    input: R,
    opts: &Options,
    sink: &mut RequestSink<'_>,
) -> Result<Imported, TraceError> {
    let lines = Cell::new(0);
    let mut input = Counted::new(input, &lines);
    let mut ctx = Ctx::new(opts, sink, &lines);
    let mut documents = 0u64;
    while stream::next_document(&mut input, &mut ctx)? {
        documents += 1;
    }
    if documents == 0 {
        return Err(TraceError::Empty {
            what: "OTLP JSON",
            expected: "OTLP trace export requests, `{\"resourceSpans\": [...]}`".into(),
        });
    }
    Ok(ctx.imported())
}

/// The reading of one file: where it is, the resource being read, what
/// was counted.
struct Ctx<'a, 's> {
    opts: &'a Options,
    sink: &'a mut RequestSink<'s>,
    /// Newlines handed to the parser.
    lines: &'a Cell<u64>,
    /// What stopped the parser, when it is this reader's finding.
    error: Option<TraceError>,
    /// Indices of the resource spans, scope spans and span being read.
    index: [usize; 3],
    /// The resource of the resource spans being read; `None` until its
    /// `resource` is read.
    resource: Option<Option<String>>,
    /// Its spans to import read before its `resource`.
    pending: Vec<Span<'static>>,
    counts: Counts,
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    spans: u64,
    rows: u64,
    /// Rows whose span lacks the class attribute.
    unnamed: u64,
    /// Rows whose resource lacks the resource attribute.
    no_resource: u64,
}

impl<'a, 's> Ctx<'a, 's> {
    fn new(opts: &'a Options, sink: &'a mut RequestSink<'s>, lines: &'a Cell<u64>) -> Self {
        Self {
            opts,
            sink,
            lines,
            error: None,
            index: [0; 3],
            resource: None,
            pending: Vec::new(),
            counts: Counts::default(),
        }
    }

    /// Keeps `e` and gives the parser an error that stops it.
    fn fail<E: de::Error>(&mut self, e: TraceError) -> E {
        self.error = Some(e);
        E::custom("stopped")
    }

    /// The resource of the resource spans being read, then its spans
    /// read before it.
    fn read_resource(&mut self, obj: &Map<String, Value>, line: u64) -> Result<(), TraceError> {
        let at = Where {
            line,
            index: self.index,
            at: At::ResourceObject,
        };
        let key = Some(self.opts.resource_attr.as_str());
        let [name] = attributes(field(obj, ATTRIBUTES), &at, "attributes", [key])?;
        self.resource = Some(name.map(Cow::into_owned));
        for span in std::mem::take(&mut self.pending) {
            self.emit(&span)?;
        }
        Ok(())
    }

    /// The end of a resource spans: its spans, if it had no `resource`.
    fn end_resource(&mut self) -> Result<(), TraceError> {
        for span in std::mem::take(&mut self.pending) {
            self.emit(&span)?;
        }
        self.resource = None;
        Ok(())
    }

    fn read_span(&mut self, obj: &Map<String, Value>, line: u64) -> Result<(), TraceError> {
        let at = Where {
            line,
            index: self.index,
            at: At::Span,
        };
        self.counts.spans += 1;
        let Some(span) = span::parse(obj, &at, self.opts)? else {
            return Ok(());
        };
        if self.opts.class_attr.is_some() && !span.named {
            self.counts.unnamed += 1;
        }
        match self.resource {
            Some(_) => self.emit(&span),
            None => {
                self.pending.push(span.into_owned());
                Ok(())
            }
        }
    }

    fn emit(&mut self, s: &Span<'_>) -> Result<(), TraceError> {
        let resource = self.resource.as_ref().and_then(Option::as_deref);
        if resource.is_none() {
            self.counts.no_resource += 1;
        }
        (self.sink)(RequestRow {
            start: seconds(s.start_ns),
            response_time: seconds(s.end_ns - s.start_ns),
            class: if s.class.is_empty() {
                "default"
            } else {
                &s.class
            },
            success: !s.error,
            resource,
            user_class: None,
            user: s.user.as_deref(),
            session: s.session.as_deref(),
        })?;
        self.counts.rows += 1;
        Ok(())
    }

    /// The records and what is worth saying about them.
    fn imported(&self) -> Imported {
        let c = self.counts;
        let what = if self.opts.roots {
            "root spans"
        } else {
            "server spans"
        };
        if c.spans > 0 && c.rows == 0 && !self.opts.roots {
            log::warn!(
                "{} spans, none of them a server span (kind SERVER); `roots` imports the root spans instead",
                c.spans
            );
        }
        let mut notes = vec![Note::Read(format!(
            "{} spans, {} of them {what}",
            c.spans, c.rows
        ))];
        if let Some(key) = &self.opts.class_attr
            && c.unnamed > 0
        {
            notes.push(Note::Read(format!(
                "{} {what} without the attribute `{key}`: their class is their name",
                c.unnamed
            )));
        }
        if c.no_resource > 0 {
            notes.push(Note::Read(format!(
                "{} {what} of a resource without `{}`: their resource is left empty",
                c.no_resource, self.opts.resource_attr
            )));
        }
        Imported {
            records: c.rows,
            notes,
        }
    }
}

/// `ns` nanoseconds in seconds, correctly rounded: the decimal
/// `s.nnnnnnnnn` parsed (a sum or quotient of floats would round twice
/// for epoch times).
fn seconds(ns: u64) -> f64 {
    const NANOS: u64 = 1_000_000_000;
    let text = format!("{}.{:09}", ns / NANOS, ns % NANOS);
    text.parse().unwrap_or(ns as f64 / 1e9)
}

#[cfg(test)]
mod tests;
