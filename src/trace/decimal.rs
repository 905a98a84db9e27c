//! A number's shortest decimal text, as `format!("{v}")` writes it, made
//! without the general float formatter where the number is a decimal of
//! a few places (a timestamp in milliseconds, a response time read from a
//! log): the formatter was a fifth of an access log's import.
//!
//! Why it is the same text. Take the fewest places `d` for which some
//! decimal `k / 10^d` reads back as `v`, where `10^-d` is at least four
//! times the spacing of floats at `v`. Two decimals of `d` places that
//! both read back as `v` would lie within one spacing of each other, so
//! there is one, and its `k` is `v × 10^d` rounded (the product is within
//! an eighth of it). `k / 10^d` in floats is correctly rounded, as
//! reading the text is (k below 2^53 and 10^d up to 10^22 are exact), so
//! comparing it with `v` checks the reading exactly. No text with fewer
//! significant digits reads back as `v` (it would have fewer places), so
//! this is the shortest text, the one Rust's formatter writes, in the
//! same positional notation. Where no `d` qualifies, the formatter writes
//! it.

use std::fmt::Write;

/// Appends `format!("{v}")` to `out`.
pub(super) fn push_shortest(out: &mut String, v: f64) {
    if !few_places(out, v) {
        let _ = write!(out, "{v}");
    }
}

/// The most places tried.
const MAX_PLACES: i32 = 9;

/// Appends `v` as `k / 10^d` where that is its shortest text; `false`
/// (nothing appended) where it is not sure to be.
fn few_places(out: &mut String, v: f64) -> bool {
    if !(v > 0.0 && v < 1e15) {
        return false;
    }
    let spacing = v.next_up() - v;
    let mut scale = 1.0_f64;
    for d in 0..=MAX_PLACES {
        if 4.0 * spacing * scale > 1.0 {
            return false;
        }
        let k = (v * scale).round();
        if k < 9_007_199_254_740_992.0 && k / scale == v {
            push_fixed(out, k as u64, d as usize);
            return true;
        }
        scale *= 10.0;
    }
    false
}

/// Appends `k / 10^places` in positional notation, no trailing zeros
/// beyond those `places` asks for.
fn push_fixed(out: &mut String, k: u64, places: usize) {
    let mut digits = [0u8; 24];
    let mut n = 0;
    let mut rest = k;
    while rest > 0 || n <= places {
        digits[n] = b'0' + (rest % 10) as u8;
        rest /= 10;
        n += 1;
    }
    for i in (places..n).rev() {
        out.push(char::from(digits[i]));
    }
    if places > 0 {
        out.push('.');
        for i in (0..places).rev() {
            out.push(char::from(digits[i]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    fn text(v: f64) -> String {
        let mut s = String::new();
        push_shortest(&mut s, v);
        s
    }

    #[test]
    fn decimals_of_few_places_are_written_as_the_formatter_writes_them() {
        for v in [
            0.007,
            0.5,
            1.0,
            10.0,
            100.25,
            1732267830.993,
            1732267831.0,
            0.1 + 0.2,
            1e-9,
            1.5e-9,
            123456789.123456,
            999999999999999.9,
            1e15,
            1e16,
            0.0,
            -0.0,
            -1.5,
            f64::MIN_POSITIVE,
            5e-324,
            f64::MAX,
            f64::INFINITY,
            f64::NAN,
            0.30000000000000004,
        ] {
            assert_eq!(text(v), format!("{v}"), "{v:e}");
        }
        let mut s = String::new();
        assert!(few_places(&mut s, 1732267830.993) && s == "1732267830.993");
    }

    #[test]
    fn random_values_of_every_kind_are_written_as_the_formatter_writes_them() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        let mut fast = 0;
        for i in 0..300_000u32 {
            let v = match i % 4 {
                // What logs hold: epoch seconds less a response time, in
                // milliseconds or microseconds, and short durations.
                0 => {
                    let end = f64::from(rng.random_range(1_600_000_000u32..1_800_000_000));
                    end - f64::from(rng.random_range(0u32..100_000)) / 1000.0
                }
                1 => {
                    let end = f64::from(rng.random_range(1_600_000_000u32..1_800_000_000));
                    end - f64::from(rng.random_range(0u32..100_000_000)) * 1e-6
                }
                2 => {
                    f64::from(rng.random_range(0u32..10_000_000))
                        / 10f64.powi(rng.random_range(0..10))
                }
                // Any bits at all.
                _ => f64::from_bits(rng.random()),
            };
            let mut s = String::new();
            fast += usize::from(few_places(&mut s, v));
            assert_eq!(text(v), format!("{v}"), "{v:e} ({:#x})", v.to_bits());
        }
        // The fast path takes most of what logs hold.
        assert!(fast > 150_000, "{fast}");
    }
}
