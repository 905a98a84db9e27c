//! A span and a resource as OTLP JSON holds them, checked field by field.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::stream::At;
use super::{Options, seconds};
use crate::trace::TraceError;

/// A field's name in protobuf's JSON (camelCase) and in the `.proto`
/// (snake_case), which protobuf's JSON parsers also take.
#[derive(Debug, Clone, Copy)]
pub(super) struct Name(&'static str, &'static str);

const TRACE_ID: Name = Name("traceId", "trace_id");
const SPAN_ID: Name = Name("spanId", "span_id");
const PARENT: Name = Name("parentSpanId", "parent_span_id");
const NAME: Name = Name("name", "name");
const KIND: Name = Name("kind", "kind");
const START: Name = Name("startTimeUnixNano", "start_time_unix_nano");
const END: Name = Name("endTimeUnixNano", "end_time_unix_nano");
pub(super) const ATTRIBUTES: Name = Name("attributes", "attributes");
const STATUS: Name = Name("status", "status");

/// The field `name` of `obj`; `None` when it is missing or `null`.
pub(super) fn field(obj: &Map<String, Value>, name: Name) -> Option<&Value> {
    obj.get(name.0)
        .or_else(|| obj.get(name.1))
        .filter(|v| !v.is_null())
}

const KINDS: [&str; 6] = [
    "SPAN_KIND_UNSPECIFIED",
    "SPAN_KIND_INTERNAL",
    "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",
    "SPAN_KIND_PRODUCER",
    "SPAN_KIND_CONSUMER",
];
const SERVER: usize = 2;
const CODES: [&str; 3] = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];
const ERROR: usize = 2;

/// An enum's value given by number or by name: its number.
fn enum_index(v: &Value, names: &[&str]) -> Option<usize> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .and_then(|k| usize::try_from(k).ok())
            .filter(|&k| k < names.len()),
        Value::String(s) => names.iter().position(|n| n == s),
        _ => None,
    }
}

/// Where a span or a resource is, for messages.
#[derive(Debug, Clone, Copy)]
pub(super) struct Where {
    /// The line where it starts.
    pub(super) line: u64,
    pub(super) index: [usize; 3],
    pub(super) at: At,
}

impl Where {
    fn field(&self, field: &str) -> String {
        format!("{}.{field}", self.at.path(self.index))
    }

    fn bad(&self, field: &str, found: &Value, expected: &str) -> TraceError {
        let found = match found {
            Value::String(s) => Cow::Borrowed(s.as_str()),
            other => Cow::Owned(other.to_string()),
        };
        TraceError::bad_value(self.line, &self.field(field), found.as_bytes(), expected)
    }

    fn malformed(&self, what: String) -> TraceError {
        TraceError::Malformed {
            line: self.line,
            message: format!("`{}`: {what}", self.at.path(self.index)),
        }
    }

    fn missing(&self, field: &str, expected: &str) -> TraceError {
        self.malformed(format!("no `{field}`; expected {expected}"))
    }
}

/// What a span gives a request; its texts are borrowed from the span
/// where they can be.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Span<'v> {
    pub(super) start_ns: u64,
    pub(super) end_ns: u64,
    pub(super) error: bool,
    pub(super) class: Cow<'v, str>,
    /// Whether the class is the class attribute's value.
    pub(super) named: bool,
    pub(super) user: Option<Cow<'v, str>>,
    pub(super) session: Option<Cow<'v, str>>,
}

impl Span<'_> {
    pub(super) fn into_owned(self) -> Span<'static> {
        fn own(t: Option<Cow<'_, str>>) -> Option<Cow<'static, str>> {
            t.map(|t| Cow::Owned(t.into_owned()))
        }
        Span {
            start_ns: self.start_ns,
            end_ns: self.end_ns,
            error: self.error,
            class: Cow::Owned(self.class.into_owned()),
            named: self.named,
            user: own(self.user),
            session: own(self.session),
        }
    }
}

/// Reads a span: `None` when it is not one to import (not a server span,
/// or not a root with `roots`). Every field is checked either way: the
/// trace and span ids (hex or base64), the parent's if any, the kind
/// (a number or a name), the name (text), the start and end (whole
/// nanoseconds, as numbers or text; the end not before the start), the
/// status code and the attributes.
pub(super) fn parse<'v>(
    obj: &'v Map<String, Value>,
    at: &Where,
    opts: &Options,
) -> Result<Option<Span<'v>>, TraceError> {
    let get = |name: Name| field(obj, name);
    id(get(TRACE_ID), 16, at, TRACE_ID.0, true)?;
    id(get(SPAN_ID), 8, at, SPAN_ID.0, true)?;
    let root = !id(get(PARENT), 8, at, PARENT.0, false)?;
    let kind = match get(KIND) {
        None => 0,
        Some(v) => enum_index(v, &KINDS).ok_or_else(|| {
            at.bad(KIND.0, v, "a span kind: 0 to 5, or SPAN_KIND_INTERNAL, SPAN_KIND_SERVER, SPAN_KIND_CLIENT, SPAN_KIND_PRODUCER or SPAN_KIND_CONSUMER")
        })?,
    };
    let name = match get(NAME) {
        None => "",
        Some(Value::String(s)) => s.as_str(),
        Some(v) => return Err(at.bad(NAME.0, v, "text")),
    };
    let (start_ns, end_ns) = times(obj, at)?;
    let error = status(get(STATUS), at)?;
    let wanted = if opts.roots { root } else { kind == SERVER };
    let keys = match wanted {
        true => [&opts.class_attr, &opts.user_attr, &opts.session_attr].map(|k| k.as_deref()),
        false => [None; 3],
    };
    let [class, user, session] = attributes(get(ATTRIBUTES), at, ATTRIBUTES.0, keys)?;
    Ok(wanted.then(|| Span {
        start_ns,
        end_ns,
        error,
        named: class.is_some(),
        class: class.unwrap_or(Cow::Borrowed(name)),
        user,
        session,
    }))
}

/// Checks the id `name` of `bytes` bytes; whether the span has it (an
/// empty parent id is none).
fn id(
    v: Option<&Value>,
    bytes: usize,
    at: &Where,
    name: &str,
    required: bool,
) -> Result<bool, TraceError> {
    let expected = || format!("{} hex digits or {bytes} bytes in base64", 2 * bytes);
    match v {
        None if required => Err(at.missing(name, &expected())),
        None => Ok(false),
        Some(Value::String(s)) if s.is_empty() && !required => Ok(false),
        Some(Value::String(s)) if is_id(s, bytes) => Ok(true),
        Some(v) => Err(at.bad(name, v, &expected())),
    }
}

/// Whether `text` is an id of `bytes` bytes: hex (the OTLP/JSON form,
/// either case) or base64 (protobuf's JSON mapping; the standard or the
/// URL-safe alphabet, padded or not).
pub(super) fn is_id(text: &str, bytes: usize) -> bool {
    if text.len() == 2 * bytes && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return true;
    }
    let digits = (bytes * 8).div_ceil(6);
    let body = text.trim_end_matches('=');
    body.len() == digits
        && (text.len() == digits || text.len() == bytes.div_ceil(3) * 4)
        && body.bytes().all(is_base64_digit)
}

fn is_base64_digit(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
}

/// The span's start and end, nanoseconds since the epoch.
fn times(obj: &Map<String, Value>, at: &Where) -> Result<(u64, u64), TraceError> {
    let expected = "nanoseconds since the epoch, a whole number (or one written as text)";
    let ns = |name: Name| {
        let v = field(obj, name).ok_or_else(|| at.missing(name.0, expected))?;
        nanos(v).ok_or_else(|| at.bad(name.0, v, expected))
    };
    let (start, end) = (ns(START)?, ns(END)?);
    if end < start {
        return Err(at.malformed(format!(
            "it ends {} s before it starts (`{}` is less than `{}`)",
            crate::words::readable(seconds(start - end)),
            END.0,
            START.0
        )));
    }
    Ok((start, end))
}

/// A whole number of nanoseconds, as a JSON number or as text.
fn nanos(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok()
        }
        _ => None,
    }
}

/// Whether the status says the span failed (code ERROR).
fn status(v: Option<&Value>, at: &Where) -> Result<bool, TraceError> {
    let Some(v) = v else { return Ok(false) };
    let Value::Object(s) = v else {
        return Err(at.bad(STATUS.0, v, "a status, an object with a `code`"));
    };
    match s.get("code").filter(|c| !c.is_null()) {
        None => Ok(false),
        Some(c) => enum_index(c, &CODES).map(|k| k == ERROR).ok_or_else(|| {
            at.bad(
                "status.code",
                c,
                "a status code: 0, 1 or 2, or STATUS_CODE_UNSET, STATUS_CODE_OK or STATUS_CODE_ERROR",
            )
        }),
    }
}

/// Checks a list of attributes (the field `name`) and gives the text of
/// each of `keys` it holds.
pub(super) fn attributes<'v, const N: usize>(
    list: Option<&'v Value>,
    at: &Where,
    name: &str,
    keys: [Option<&str>; N],
) -> Result<[Option<Cow<'v, str>>; N], TraceError> {
    let mut found = [const { None }; N];
    let Some(list) = list else { return Ok(found) };
    let Value::Array(items) = list else {
        return Err(at.bad(name, list, "a list of attributes"));
    };
    for (i, item) in items.iter().enumerate() {
        let (key, value) = key_value(item).ok_or_else(|| {
            at.bad(
                &format!("{name}[{i}]"),
                item,
                "an attribute, an object with `key` and `value`",
            )
        })?;
        let value = any(value).ok_or_else(|| {
            at.bad(
                &format!("{name}[{i}].value"),
                item.get("value").unwrap_or(&Value::Null),
                ANY,
            )
        })?;
        for (slot, wanted) in found.iter_mut().zip(keys) {
            if wanted == Some(key) {
                *slot = Some(value.text());
            }
        }
    }
    Ok(found)
}

const ANY: &str = "an attribute value, an object with one of `stringValue`, `boolValue`, \
                   `intValue`, `doubleValue`, `arrayValue`, `kvlistValue` or `bytesValue`";

/// An attribute's key and value (`None` when it has none).
fn key_value(item: &Value) -> Option<(&str, Option<&Value>)> {
    let Value::Object(o) = item else { return None };
    let key = match o.get("key") {
        None | Some(Value::Null) => "",
        Some(Value::String(k)) => k.as_str(),
        Some(_) => return None,
    };
    Some((key, o.get("value").filter(|v| !v.is_null())))
}

/// An OTLP `AnyValue`.
#[derive(Debug, Clone, PartialEq)]
enum Any<'v> {
    Empty,
    Text(&'v str),
    Int(i64),
    Double(f64),
    Bool(bool),
    Bytes(&'v str),
    List(Vec<Any<'v>>),
    Pairs(Vec<(&'v str, Any<'v>)>),
}

/// Reads an `AnyValue`: nothing set, or one of its forms; `None` when it
/// is not one.
fn any(v: Option<&Value>) -> Option<Any<'_>> {
    let Some(v) = v else { return Some(Any::Empty) };
    let Value::Object(o) = v else { return None };
    let mut set = o.iter().filter(|(_, x)| !x.is_null());
    let Some((key, x)) = set.next() else {
        return Some(Any::Empty);
    };
    if set.next().is_some() {
        return None;
    }
    match key.as_str() {
        "stringValue" | "string_value" => x.as_str().map(Any::Text),
        "boolValue" | "bool_value" => x.as_bool().map(Any::Bool),
        "intValue" | "int_value" => int(x).map(Any::Int),
        "doubleValue" | "double_value" => double(x).map(Any::Double),
        "bytesValue" | "bytes_value" => x
            .as_str()
            .filter(|s| s.bytes().all(|b| is_base64_digit(b) || b == b'='))
            .map(Any::Bytes),
        "arrayValue" | "array_value" => values(x)?
            .iter()
            .map(|e| any(Some(e)))
            .collect::<Option<_>>()
            .map(Any::List),
        "kvlistValue" | "kvlist_value" => values(x)?
            .iter()
            .map(|e| key_value(e).and_then(|(k, v)| Some((k, any(v)?))))
            .collect::<Option<_>>()
            .map(Any::Pairs),
        _ => None,
    }
}

/// The `values` of an array or key-value list (none when missing).
fn values(x: &Value) -> Option<&[Value]> {
    let Value::Object(o) = x else { return None };
    match o.get("values") {
        None | Some(Value::Null) => Some(&[]),
        Some(Value::Array(v)) => Some(v),
        Some(_) => None,
    }
}

/// A 64-bit integer, as a JSON number or as text.
fn int(x: &Value) -> Option<i64> {
    match x {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A double, as a JSON number or as text (protobuf writes `NaN`,
/// `Infinity` and `-Infinity` as text).
fn double(x: &Value) -> Option<f64> {
    match x {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ => s.parse().ok(),
        },
        _ => None,
    }
}

impl<'v> Any<'v> {
    /// Its text: strings as they are, numbers and booleans as written,
    /// lists as `[a, b]`, key-value lists as `{k: v}`.
    fn text(&self) -> Cow<'v, str> {
        match self {
            Any::Text(s) | Any::Bytes(s) => Cow::Borrowed(s),
            other => Cow::Owned(other.to_string()),
        }
    }
}

impl std::fmt::Display for Any<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Any::Empty => Ok(()),
            Any::Text(s) | Any::Bytes(s) => f.write_str(s),
            Any::Int(i) => write!(f, "{i}"),
            Any::Double(x) => write!(f, "{x}"),
            Any::Bool(b) => write!(f, "{b}"),
            Any::List(items) => {
                f.write_str("[")?;
                for (i, x) in items.iter().enumerate() {
                    write!(f, "{}{x}", if i > 0 { ", " } else { "" })?;
                }
                f.write_str("]")
            }
            Any::Pairs(pairs) => {
                f.write_str("{")?;
                for (i, (k, x)) in pairs.iter().enumerate() {
                    write!(f, "{}{k}: {x}", if i > 0 { ", " } else { "" })?;
                }
                f.write_str("}")
            }
        }
    }
}
