//! Arithmetic on model parameters: numbers, names, `+ - * / ^`, unary
//! minus, parentheses and `min(a, b)`, `max(a, b)`, `sqrt(x)`, `ceil(x)`,
//! `floor(x)`.
//!
//! Hand-written: a 100-line recursive-descent parser is smaller than any
//! expression crate and gives the error messages we want.

use std::collections::BTreeMap;

use super::ParamValue;

/// A parse or evaluation error, with the byte offset in the expression.
#[derive(Debug, Clone, PartialEq)]
pub struct ExprError {
    /// Byte offset in the expression text.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

/// How deeply parentheses, unary signs, powers and function calls may nest.
/// The parser recurses once per level, so the limit bounds its stack
/// whatever the input (a model, `--set`, or a study's worker thread).
pub const MAX_DEPTH: usize = 256;

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
    vars: &'a dyn Fn(&str) -> Option<f64>,
}

/// Evaluates `text` with parameter values from `vars`.
pub fn eval(text: &str, vars: &dyn Fn(&str) -> Option<f64>) -> Result<f64, ExprError> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
        depth: 0,
        vars,
    };
    let v = p.sum()?;
    p.ws();
    if p.i < p.s.len() {
        return Err(p.err(format!("unexpected `{}`", p.s[p.i] as char)));
    }
    Ok(v)
}

/// Names an expression refers to (functions excluded).
pub fn names(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_alphabetic() || b[i] == b'_' {
            let st = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let name = &text[st..i];
            let is_call = text[i..].trim_start().starts_with('(');
            if !is_call {
                out.push(name.to_string());
            }
        } else if b[i].is_ascii_digit() || b[i] == b'.' {
            // Skip numbers, including exponents like 1e-3.
            while i < b.len()
                && (b[i].is_ascii_alphanumeric()
                    || b[i] == b'.'
                    || ((b[i] == b'-' || b[i] == b'+') && (b[i - 1] == b'e' || b[i - 1] == b'E')))
            {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    out
}

impl Parser<'_> {
    fn err(&self, message: String) -> ExprError {
        ExprError {
            offset: self.i,
            message,
        }
    }
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.i < self.s.len() && self.s[self.i] == c {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn sum(&mut self) -> Result<f64, ExprError> {
        let mut v = self.product()?;
        loop {
            if self.eat(b'+') {
                v += self.product()?;
            } else if self.eat(b'-') {
                v -= self.product()?;
            } else {
                return Ok(v);
            }
        }
    }
    fn product(&mut self) -> Result<f64, ExprError> {
        let mut v = self.unary()?;
        loop {
            if self.eat(b'*') {
                v *= self.unary()?;
            } else if self.eat(b'/') {
                let at = self.i;
                let d = self.unary()?;
                if d == 0.0 {
                    return Err(ExprError {
                        offset: at,
                        message: "division by zero".into(),
                    });
                }
                v /= d;
            } else {
                return Ok(v);
            }
        }
    }
    /// Unary minus binds looser than `^`: `-a ^ 2` is `-(a ^ 2)`.
    /// Every recursion of the grammar passes through here, so this is where
    /// the nesting depth is counted.
    fn unary(&mut self) -> Result<f64, ExprError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.err(format!(
                "nested more than {MAX_DEPTH} deep (parentheses, signs, powers or calls)"
            )));
        }
        self.depth += 1;
        let v = self.unary_inner();
        self.depth -= 1;
        v
    }
    fn unary_inner(&mut self) -> Result<f64, ExprError> {
        if self.eat(b'-') {
            return Ok(-self.unary()?);
        }
        if self.eat(b'+') {
            return self.unary();
        }
        self.power()
    }
    fn power(&mut self) -> Result<f64, ExprError> {
        let base = self.atom()?;
        if self.eat(b'^') {
            let e = self.unary()?;
            return Ok(base.powf(e));
        }
        Ok(base)
    }
    fn atom(&mut self) -> Result<f64, ExprError> {
        self.ws();
        if self.eat(b'(') {
            let v = self.sum()?;
            if !self.eat(b')') {
                return Err(self.err("expected `)`".into()));
            }
            return Ok(v);
        }
        let st = self.i;
        let Some(&c) = self.s.get(self.i) else {
            return Err(self.err("expected a number, a parameter or `(`".into()));
        };
        if c.is_ascii_digit() || c == b'.' {
            while self.i < self.s.len() {
                let c = self.s[self.i];
                let exp_sign =
                    (c == b'-' || c == b'+') && matches!(self.s[self.i - 1], b'e' | b'E');
                if c.is_ascii_digit() || c == b'.' || c == b'e' || c == b'E' || exp_sign {
                    self.i += 1;
                } else {
                    break;
                }
            }
            let t = std::str::from_utf8(&self.s[st..self.i]).unwrap();
            return t.parse().map_err(|_| ExprError {
                offset: st,
                message: format!("`{t}` is not a number"),
            });
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            while self.i < self.s.len()
                && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_')
            {
                self.i += 1;
            }
            let name = std::str::from_utf8(&self.s[st..self.i])
                .unwrap()
                .to_string();
            if self.eat(b'(') {
                let mut args = vec![self.sum()?];
                while self.eat(b',') {
                    args.push(self.sum()?);
                }
                if !self.eat(b')') {
                    return Err(self.err("expected `)`".into()));
                }
                let bad = |n: usize| ExprError {
                    offset: st,
                    message: format!("{name}() takes {n} argument(s), got {}", args.len()),
                };
                return match name.as_str() {
                    "min" if args.len() == 2 => Ok(args[0].min(args[1])),
                    "max" if args.len() == 2 => Ok(args[0].max(args[1])),
                    "sqrt" if args.len() == 1 => Ok(args[0].sqrt()),
                    "ceil" if args.len() == 1 => Ok(args[0].ceil()),
                    "floor" if args.len() == 1 => Ok(args[0].floor()),
                    "min" | "max" => Err(bad(2)),
                    "sqrt" | "ceil" | "floor" => Err(bad(1)),
                    _ => Err(ExprError {
                        offset: st,
                        message: format!("unknown function `{name}` (min, max, sqrt, ceil, floor)"),
                    }),
                };
            }
            return (self.vars)(&name).ok_or_else(|| ExprError {
                offset: st,
                message: format!("unknown parameter `{name}`"),
            });
        }
        Err(self.err(format!("unexpected `{}`", c as char)))
    }
}

/// Evaluates parameter definitions that may refer to each other, in
/// dependency order. Numbers are taken as they are.
///
/// # Errors
/// The name of the first parameter that cannot be evaluated, and why
/// (including cycles).
pub fn resolve(
    defs: &[(String, ParamValue)],
) -> Result<BTreeMap<String, f64>, (String, ExprError)> {
    let mut done: BTreeMap<String, f64> = BTreeMap::new();
    let mut pending: Vec<&(String, ParamValue)> = defs.iter().collect();
    while !pending.is_empty() {
        let before = pending.len();
        let mut i = 0;
        while i < pending.len() {
            let (name, value) = pending[i];
            let text = match value {
                ParamValue::Number(x) => {
                    done.insert(name.clone(), *x);
                    pending.remove(i);
                    continue;
                }
                ParamValue::Expr(text) => text,
            };
            let deps = names(text);
            if deps
                .iter()
                .all(|d| done.contains_key(d) || !defs.iter().any(|(n, _)| n == d))
            {
                let v = eval(text, &|n| done.get(n).copied()).map_err(|e| (name.clone(), e))?;
                done.insert(name.clone(), v);
                pending.remove(i);
            } else {
                i += 1;
            }
        }
        if pending.len() == before {
            let (name, _) = pending[0];
            return Err((
                name.clone(),
                ExprError {
                    offset: 0,
                    message: "parameters refer to each other in a cycle".into(),
                },
            ));
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, want: f64) {
        let vars = |n: &str| match n {
            "a" => Some(2.0),
            "rate" => Some(4.0),
            _ => None,
        };
        assert_eq!(eval(text, &vars), Ok(want), "{text}");
    }

    #[test]
    fn arithmetic_follows_the_usual_precedence() {
        check("1 + 2 * 3", 7.0);
        check("(1 + 2) * 3", 9.0);
        check("2 ^ 3 ^ 2", 512.0);
        check("-a ^ 2", -4.0);
        check("1 / rate", 0.25);
        check("rate / a - 1e-1", 1.9);
        check("max(a, 3) * min(1, rate)", 3.0);
        check("ceil(2.1) + floor(2.9) + sqrt(16)", 9.0);
    }

    #[test]
    fn errors_point_at_the_offending_text() {
        let vars = |_: &str| None;
        let e = eval("1 + rate", &vars).unwrap_err();
        assert_eq!(
            (e.offset, e.message.as_str()),
            (4, "unknown parameter `rate`")
        );
        assert_eq!(
            eval("1 / (2 - 2)", &vars).unwrap_err().message,
            "division by zero"
        );
        assert_eq!(eval("(1 + 2", &vars).unwrap_err().message, "expected `)`");
        assert!(
            eval("foo(1)", &vars)
                .unwrap_err()
                .message
                .contains("unknown function")
        );
    }

    #[test]
    fn nesting_is_refused_beyond_the_limit_without_exhausting_the_stack() {
        let vars = |_: &str| None;
        let parens = |k: usize| format!("{}1{}", "(".repeat(k), ")".repeat(k));
        assert_eq!(eval(&parens(MAX_DEPTH - 1), &vars), Ok(1.0));
        let deep: [(String, usize); 4] = [
            (parens(20_000), MAX_DEPTH),
            (format!("{}1", "-".repeat(100_000)), MAX_DEPTH),
            (format!("{}2", "2^".repeat(50_000)), 2 * MAX_DEPTH),
            (
                format!("{}1{}", "max(1, ".repeat(20_000), ")".repeat(20_000)),
                7 * MAX_DEPTH,
            ),
        ];
        // A small stack, as a study's worker thread may have: the refusal
        // must come before the recursion gets anywhere near it.
        std::thread::Builder::new()
            .stack_size(512 * 1024)
            .spawn(move || {
                for (text, at) in deep {
                    let e = eval(&text, &vars).unwrap_err();
                    assert!(e.message.contains("nested more than 256"), "{}", e.message);
                    assert!(e.offset <= at, "{} > {at}", e.offset);
                }
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn parameters_resolve_in_dependency_order_and_cycles_are_caught() {
        let defs = vec![
            ("b".to_string(), ParamValue::from("a * 2")),
            ("a".to_string(), ParamValue::Number(3.0)),
        ];
        let r = resolve(&defs).unwrap();
        assert_eq!(r["b"], 6.0);
        let cyc = vec![
            ("x".to_string(), ParamValue::from("y")),
            ("y".to_string(), ParamValue::from("x + 1")),
        ];
        assert!(resolve(&cyc).unwrap_err().1.message.contains("cycle"));
    }
}
