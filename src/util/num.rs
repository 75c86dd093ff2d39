//! Redis-compatible number parsing and formatting.
//!
//! | function               | Redis 7.0 counterpart                              |
//! |------------------------|----------------------------------------------------|
//! | [`parse_i64`]          | `string2ll()`                                      |
//! | [`parse_f64`]          | `string2ld()` / `string2d()` (`strtold`/`strtod`)  |
//! | [`format_i64`]         | `ll2string()`                                      |
//! | [`format_double`]      | `addReplyDouble()` (`"%.17g"`)                     |
//! | [`format_incrbyfloat`] | `ld2string(..., LD_STR_HUMAN)` (`"%.17Lf"`, trimmed) |
//! | [`incr_by_float`]      | INCRBYFLOAT / HINCRBYFLOAT arithmetic, exactly     |
//!
//! [`format_incrbyfloat`] works from an `f64` sum and can only approximate
//! Redis's 80-bit long double results (see its docs); [`incr_by_float`]
//! takes the two strings and emulates the long double arithmetic, matching
//! Redis 7.0 on x86-64 byte for byte.
//!
//! All functions are total: they never panic and never read out of bounds,
//! whatever bytes they are given. Inputs are bounded (floats to 5119 bytes,
//! as in Redis), so the worst case of the big-number paths is a few
//! milliseconds.

use std::fmt::Write as _;

// ---------------------------------------------------------------------------
// Integers
// ---------------------------------------------------------------------------

/// Longest accepted integer text, as Redis's `LONG_STR_SIZE - 1`
/// (`"-9223372036854775808"` is 20 bytes).
const MAX_I64_LEN: usize = 20;

/// Parses a signed 64-bit integer with the strictness of Redis's
/// `string2ll()`: optional `-`, then `0` alone or a digit 1-9 followed by
/// digits. Rejected: empty input, a leading `+`, leading zeros (`"01"`),
/// `"-0"`, any whitespace or other byte, more than 20 bytes, and values
/// outside the `i64` range.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > MAX_I64_LEN {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    if negative {
        if v <= i64::MAX as u64 {
            Some(-(v as i64))
        } else if v == i64::MIN.unsigned_abs() {
            Some(i64::MIN)
        } else {
            None
        }
    } else {
        i64::try_from(v).ok()
    }
}

const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Appends the decimal form of `v` to `out` (like Redis's `ll2string()`).
/// Uses a stack buffer; the only possible allocation is `out` growing.
pub fn format_i64(v: i64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let mut pos = buf.len();
    let mut n = v.unsigned_abs();
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        pos -= 2;
        buf[pos..pos + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    }
    if n >= 10 {
        let pair = n as usize * 2;
        pos -= 2;
        buf[pos..pos + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    } else {
        pos -= 1;
        buf[pos] = b'0' + n as u8;
    }
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[pos..]);
}

// ---------------------------------------------------------------------------
// Float parsing
// ---------------------------------------------------------------------------

/// `string2ld()` copies the argument into a `MAX_LONG_DOUBLE_CHARS` (5 KiB)
/// buffer and rejects anything that does not fit with its terminator.
const MAX_FLOAT_LEN: usize = 5 * 1024 - 1;

/// Parses a float argument the way Redis's `string2ld()` (INCRBYFLOAT,
/// HINCRBYFLOAT) and `string2d()` (ZADD, ZINCRBY, ...) do, i.e. exactly what
/// glibc `strtold`/`strtod` accept, with the whole input consumed:
///
/// * optional `+`/`-`, then decimal digits with an optional `.` (`"1."`,
///   `".5"` are fine, `"."` is not) and an optional exponent `e`/`E`
///   `[+-]digits` (`"1e"` is rejected);
/// * C99 hex floats: `0x`/`0X`, hex digits with an optional `.`, optional
///   binary exponent `p`/`P` `[+-]digits` (`"0x10"` = 16, `"0x1p-3"` =
///   0.125, `"0x"` is rejected), correctly rounded;
/// * `inf` / `infinity`, any case, with optional sign, giving ±infinity
///   (INCRBYFLOAT then fails with "increment would produce NaN or
///   Infinity", as in Redis);
/// * rejected: empty input, any whitespace (leading, trailing or inside),
///   embedded NUL, `nan` in any form, and inputs of 5120 bytes or more.
///
/// Decimal input is correctly rounded to the nearest `f64`. Values whose
/// magnitude overflows `f64`, or that are non-zero but round to zero, are
/// rejected (`None`), as `string2d()` does (ERANGE). `string2ld()` parses
/// into an 80-bit `long double` with a far wider exponent range, so for
/// INCRBYFLOAT Redis accepts e.g. `"1e400"` (storing a 401-digit number) and
/// `"1e-400"` (result `"0"`), which this function rejects; that is the only
/// difference in acceptance. Denormal results are accepted, as in Redis.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    if s.is_empty() || s.len() > MAX_FLOAT_LEN {
        return None;
    }
    let (negative, body) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    let magnitude = if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        f64::INFINITY
    } else if body.len() > 2
        && body[0] == b'0'
        && (body[1] | 0x20) == b'x'
        && is_hex_float(&body[2..])
    {
        parse_hex_float(&body[2..])?
    } else {
        parse_dec_float(body)?
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// True if `s` (after "0x") starts with a hex mantissa that strtod would
/// consume, i.e. at least one hex digit before or right after the point.
fn is_hex_float(s: &[u8]) -> bool {
    match s.first() {
        Some(b) if b.is_ascii_hexdigit() => true,
        Some(b'.') => s.get(1).is_some_and(|b| b.is_ascii_hexdigit()),
        _ => false,
    }
}

/// Length of the run of bytes at the start of `s` satisfying `pred`.
fn span(s: &[u8], pred: impl Fn(u8) -> bool) -> usize {
    s.iter().position(|&b| !pred(b)).unwrap_or(s.len())
}

/// Unsigned decimal float; the whole of `s` must be consumed.
fn parse_dec_float(s: &[u8]) -> Option<f64> {
    let int_len = span(s, |b| b.is_ascii_digit());
    let mut pos = int_len;
    let mut frac_len = 0;
    if s.get(pos) == Some(&b'.') {
        frac_len = span(&s[pos + 1..], |b| b.is_ascii_digit());
        pos += 1 + frac_len;
    }
    if int_len + frac_len == 0 {
        return None;
    }
    let mantissa_end = pos;
    if matches!(s.get(pos), Some(b'e') | Some(b'E')) {
        let mut q = pos + 1;
        if matches!(s.get(q), Some(b'+') | Some(b'-')) {
            q += 1;
        }
        let exp_digits = span(s.get(q..).unwrap_or(&[]), |b| b.is_ascii_digit());
        if exp_digits > 0 {
            pos = q + exp_digits;
        }
    }
    if pos != s.len() {
        return None;
    }
    // The grammar checked above is a subset of what Rust's parser accepts,
    // and both round correctly (to nearest, ties to even).
    let text = std::str::from_utf8(s).ok()?;
    let v: f64 = text.parse().ok()?;
    if v.is_infinite() {
        return None; // overflow (ERANGE)
    }
    if v == 0.0
        && s[..mantissa_end]
            .iter()
            .any(|&b| (b'1'..=b'9').contains(&b))
    {
        return None; // non-zero value underflowed to zero (ERANGE)
    }
    Some(v)
}

fn hex_val(b: u8) -> u64 {
    match b {
        b'0'..=b'9' => u64::from(b - b'0'),
        b'a'..=b'f' => u64::from(b - b'a' + 10),
        b'A'..=b'F' => u64::from(b - b'A' + 10),
        _ => 0,
    }
}

/// Unsigned hex float body (after "0x"); the whole of `s` must be consumed.
/// Correctly rounded to nearest, ties to even, including denormals.
fn parse_hex_float(s: &[u8]) -> Option<f64> {
    let mut mant: u64 = 0; // first 16 significant hex digits
    let mut kept = 0u32;
    let mut sticky = false; // any non-zero digit beyond those
    let mut exp: i64 = 0; // value = (mant + sticky) * 2^exp
    let mut pos = 0;
    let mut seen_point = false;
    let mut any_digit = false;
    while let Some(&b) = s.get(pos) {
        if b == b'.' && !seen_point {
            seen_point = true;
        } else if b.is_ascii_hexdigit() {
            any_digit = true;
            let d = hex_val(b);
            if kept == 0 && d == 0 {
                if seen_point {
                    exp -= 4;
                }
            } else if kept < 16 {
                mant = (mant << 4) | d;
                kept += 1;
                if seen_point {
                    exp -= 4;
                }
            } else {
                sticky |= d != 0;
                if !seen_point {
                    exp += 4;
                }
            }
        } else {
            break;
        }
        pos += 1;
    }
    if !any_digit {
        return None;
    }
    if matches!(s.get(pos), Some(b'p') | Some(b'P')) {
        let mut q = pos + 1;
        let mut exp_negative = false;
        if let Some(&sign @ (b'+' | b'-')) = s.get(q) {
            exp_negative = sign == b'-';
            q += 1;
        }
        let exp_digits = span(s.get(q..).unwrap_or(&[]), |b| b.is_ascii_digit());
        if exp_digits > 0 {
            let mut e: i64 = 0;
            for &b in &s[q..q + exp_digits] {
                // Saturate far outside the double range; 5119 hex digits
                // shift the exponent by at most ~20k.
                e = (e * 10 + i64::from(b - b'0')).min(1 << 24);
            }
            exp += if exp_negative { -e } else { e };
            pos = q + exp_digits;
        }
    }
    if pos != s.len() {
        return None;
    }
    if mant == 0 {
        return Some(0.0);
    }
    let bits = i64::from(64 - mant.leading_zeros());
    let top = exp + bits - 1; // value is in [2^top, 2^(top+1))
    if top > 1023 {
        return None;
    }
    // Lowest representable bit: 53 significant bits, but never below 2^-1074.
    let low = (top - 52).max(-1074);
    let drop = low - exp; // low-order bits of `mant` to round away
    let (q, shift) = if drop <= 0 {
        (mant << (-drop) as u32, exp + drop) // exact, fits in 53 bits
    } else {
        let m = u128::from(mant);
        let d = drop as u32;
        let (q, half, below) = if d >= 128 {
            (0u128, false, true)
        } else {
            let q = m >> d;
            let half = (m >> (d - 1)) & 1 == 1;
            let below = d >= 2 && (m & ((1u128 << (d - 1)) - 1)) != 0;
            (q, half, below)
        };
        let round_up = half && (below || sticky || q & 1 == 1);
        ((q + u128::from(round_up)) as u64, low)
    };
    if q == 0 {
        return None; // underflow to zero
    }
    let v = scale_pow2(q as f64, shift);
    if v.is_infinite() {
        None
    } else {
        Some(v)
    }
}

/// `v * 2^e` for an integer-valued `v <= 2^53` whose product is known to be
/// exactly representable (or to overflow).
fn scale_pow2(v: f64, e: i64) -> f64 {
    fn pow2(e: i64) -> f64 {
        // Valid for -1022 <= e <= 1023.
        f64::from_bits(((e + 1023) as u64) << 52)
    }
    if e > 1023 {
        f64::INFINITY
    } else if e >= -1022 {
        v * pow2(e)
    } else {
        // Two exact steps so that the intermediate stays normal.
        v * pow2(e + 64) * pow2(-64)
    }
}

// ---------------------------------------------------------------------------
// Float formatting helpers
// ---------------------------------------------------------------------------

/// Fixed-size `fmt::Write` sink, to run Rust's exact float formatting
/// without allocating.
struct StackBuf {
    buf: [u8; 64],
    len: usize,
}

impl StackBuf {
    fn new() -> Self {
        StackBuf {
            buf: [0; 64],
            len: 0,
        }
    }
    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl std::fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        match self.buf.get_mut(self.len..end) {
            Some(dst) => {
                dst.copy_from_slice(s.as_bytes());
                self.len = end;
                Ok(())
            }
            None => Err(std::fmt::Error),
        }
    }
}

/// Decimal digits of a non-negative finite double in scientific form:
/// value = 0.d1 d2 ... dn * 10^(exp10 + 1), i.e. d1.d2...dn * 10^exp10.
struct SciDigits {
    digits: [u8; 40],
    len: usize,
    exp10: i32,
}

impl SciDigits {
    fn digits(&self) -> &[u8] {
        &self.digits[..self.len]
    }

    /// The value as `"<digits>e<exp>"` with an integer mantissa, e.g.
    /// `"30000000000000004e-17"`.
    fn integer_text(&self) -> StackBuf {
        let mut text = StackBuf::new();
        for &d in self.digits() {
            let _ = text.write_char(char::from(d));
        }
        let _ = write!(text, "e{}", self.exp10 - (self.len as i32 - 1));
        text
    }
}

/// Parses Rust's `{:e}` / `{:.Ne}` output ("d.ddde-5", no sign).
fn parse_sci(text: &[u8]) -> Option<SciDigits> {
    let e_pos = text.iter().position(|&b| b == b'e')?;
    let mut out = SciDigits {
        digits: [0; 40],
        len: 0,
        exp10: 0,
    };
    for &b in &text[..e_pos] {
        if b.is_ascii_digit() {
            *out.digits.get_mut(out.len)? = b;
            out.len += 1;
        }
    }
    let exp = std::str::from_utf8(&text[e_pos + 1..]).ok()?;
    out.exp10 = exp.parse().ok()?;
    if out.len == 0 {
        None
    } else {
        Some(out)
    }
}

/// `|v|` rounded (exactly, ties to even) to `sig` significant digits, or the
/// shortest round-tripping digits when `sig` is `None`.
fn sci_digits(v: f64, sig: Option<usize>) -> Option<SciDigits> {
    let mut buf = StackBuf::new();
    let v = v.abs();
    let res = match sig {
        Some(n) => write!(buf, "{:.*e}", n.saturating_sub(1), v),
        None => write!(buf, "{:e}", v),
    };
    res.ok()?;
    parse_sci(buf.as_bytes())
}

// ---------------------------------------------------------------------------
// format_double: "%.17g"
// ---------------------------------------------------------------------------

/// Appends `v` formatted like C's `printf("%.17g")`, which is what Redis 7.0's
/// `addReplyDouble()` sends for ZSCORE, ZMSCORE, ZINCRBY, ZRANGE ...
/// WITHSCORES and RESP3 doubles (7.2 switched to shortest round-trip output;
/// 7.0 did not; GEODIST uses `"%.4f"` instead). Examples: 1.5 -> `1.5`, 0.1 -> `0.10000000000000001`,
/// 1e17 -> `1e+17`, 1e16 -> `10000000000000000`, 1e-5 ->
/// `1.0000000000000001e-05`, -0.0 -> `-0`. Infinities are `inf` / `-inf`
/// (Redis special-cases them); NaN, which Redis never stores, is `nan`.
/// Rounding is exact, ties to even, as glibc.
pub fn format_double(v: f64, out: &mut Vec<u8>) {
    if v.is_nan() {
        out.extend_from_slice(b"nan");
        return;
    }
    if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"inf" } else { b"-inf" });
        return;
    }
    if v.is_sign_negative() {
        out.push(b'-');
    }
    let sci = match sci_digits(v, Some(17)) {
        Some(sci) => sci,
        None => {
            // Unreachable in practice; never emit nothing.
            out.push(b'0');
            return;
        }
    };
    let digits = sci.digits();
    // %g drops trailing zeros (no '#' flag).
    let sig_len = digits.iter().rposition(|&d| d != b'0').map_or(1, |i| i + 1);
    let digits = &digits[..sig_len];
    let x = sci.exp10;
    if !(-4..17).contains(&x) {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if x < 0 { b'-' } else { b'+' });
        let ax = x.unsigned_abs();
        if ax < 10 {
            out.push(b'0');
        }
        format_i64(i64::from(ax), out);
    } else if x >= 0 {
        let int_len = x as usize + 1;
        for k in 0..int_len {
            out.push(digits.get(k).copied().unwrap_or(b'0'));
        }
        if digits.len() > int_len {
            out.push(b'.');
            out.extend_from_slice(&digits[int_len..]);
        }
    } else {
        out.extend_from_slice(b"0.");
        for _ in 0..(-x - 1) {
            out.push(b'0');
        }
        out.extend_from_slice(digits);
    }
}

// ---------------------------------------------------------------------------
// format_incrbyfloat: "%.17Lf" of an 80-bit long double, trimmed
// ---------------------------------------------------------------------------

/// Formats the result of INCRBYFLOAT / HINCRBYFLOAT as Redis 7.0 stores and
/// replies it.
///
/// Redis adds in x87 80-bit `long double` (64-bit mantissa) and prints with
/// `ld2string(LD_STR_HUMAN)`: `"%.17Lf"` (never an exponent), trailing zeros
/// and a trailing `.` removed, `"-0"` turned into `"0"`. Hence `10.5 + 0.1`
/// gives `10.6`, `3.0e3 + 200` gives `3200`, `1e20` gives
/// `100000000000000000000`, tiny values collapse (`5e-18` -> `0`, `6e-18` ->
/// `0.00000000000000001`), and once the integer part takes more than a few
/// mantissa bits the 17 decimals expose long-double noise: `5000 + 1.1`
/// gives `5001.10000000000000009`, `1000 + 0.1` gives
/// `1000.09999999999999998`, `1e30` gives `1000000000000000000024696061952`.
///
/// This function only sees the `f64` sum, so it reconstructs the decimal
/// Redis would have computed, then prints that the way Redis does:
///
/// 1. Take the shortest decimal that round-trips to `v` (`10.6`, not the
///    binary expansion of the nearest double).
/// 2. If that needs 16 or 17 significant digits, `v` is most likely an `f64`
///    rounding artifact of adding short decimals (`0.1 + 0.2` =
///    `0.30000000000000004`, `1 - 1.1` = `-0.10000000000000009`) that the
///    wider long double would not show. Use instead the shortest decimal `C`
///    of at most 15 significant digits that is either the neighbouring
///    double of `v`, or close enough that `|v - C|` is at least
///    `NOISE_GAP` (10) decimal places below `C`'s last digit. Otherwise keep
///    the 16/17-digit value.
/// 3. Round that decimal to the nearest 64-bit-mantissa long double (ties to
///    even) and print it exactly as glibc's `"%.17Lf"` does, trimmed as
///    Redis does.
///
/// Where the output differs from Redis (limits of working from an `f64`;
/// [`incr_by_float`] has none of them), measured against a model of
/// Redis's code (`strtold` + `"%.17Lf"`) and spot-checked on redis-server:
/// * About 3% of sums of random 1-9 digit decimals differ, almost all only
///   in the long-double noise digits of results above ~64 with a fraction:
///   Redis rounds each operand to long double before adding, which this
///   function cannot know, so `71.84 + 19.99` is `91.82999999999999999` in
///   Redis and `91.83` here. Repeated money-style increments hit this
///   quickly once the value passes ~64. Small values, integers and sums of
///   short decimals below that match.
/// * Heavy cancellation between much larger operands leaves f64 error
///   beyond the reach of step 2: `-852 + 855.66646` gives
///   `3.666460000000029` here, `3.66646` in Redis; `1000000.1 + -1000000`
///   gives `0.09999999997671694` (Redis: `0.10000000000002274`); an addend
///   below f64 precision is lost (`-5.027e8 + 9.66e-7`).
/// * Values with more than ~15 significant digits do not survive `f64`
///   (`9007199254740993` -> `9007199254740992`, `3.14159265358979323846`
///   -> `3.141592653589793` vs Redis `3.14159265358979324`), and step 2 may
///   shorten some 16/17-digit values (an exact `0.30000000000000004` is
///   indistinguishable from `0.1 + 0.2` and prints as `0.3`).
/// * Magnitudes beyond the f64 range, which Redis's long double accepts
///   (`1e400`, `1e-400`), are rejected earlier by [`parse_f64`], and
///   `1e308 + 1e308` overflows f64 but not long double.
///
/// `v` is expected to be finite (Redis rejects NaN/Infinity results before
/// formatting); infinities format as `inf` / `-inf` and NaN as `nan`.
pub fn format_incrbyfloat(v: f64) -> Vec<u8> {
    if v.is_nan() {
        return b"nan".to_vec();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            b"inf".to_vec()
        } else {
            b"-inf".to_vec()
        };
    }
    if v == 0.0 {
        return b"0".to_vec();
    }
    let sci = match reconstruct_decimal(v) {
        Some(sci) => sci,
        None => return b"0".to_vec(), // unreachable in practice
    };
    // Step 3: the nearest long double, printed like Redis.
    let text = sci.integer_text();
    match dec_to_ld(v < 0.0, text.as_bytes()) {
        Some(Ld::Finite {
            negative,
            mant,
            exp,
        }) => ld_human(negative, mant, exp),
        _ => b"0".to_vec(), // unreachable: every finite double is in range
    }
}

/// `ld2string(LD_STR_HUMAN)` of the finite long double `±mant * 2^exp2`:
/// `"%.17Lf"`, trailing zeros and point trimmed, `"-0"` -> `"0"`.
fn ld_human(negative: bool, mant: u64, exp2: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(24);
    if negative {
        out.push(b'-');
    }
    write_fixed17(mant, exp2, &mut out);
    // Trim trailing zeros after the point, then a bare point.
    while out.last() == Some(&b'0') {
        out.pop();
    }
    if out.last() == Some(&b'.') {
        out.pop();
    }
    if out == b"-0" {
        out = b"0".to_vec();
    }
    out
}

/// Step 2 of [`format_incrbyfloat`]: how many decimal places below a
/// candidate's last digit the f64 residue must lie for it to count as noise.
const NOISE_GAP: i32 = 10;

/// Steps 1 and 2 of [`format_incrbyfloat`]: the decimal Redis most likely
/// computed.
fn reconstruct_decimal(v: f64) -> Option<SciDigits> {
    let shortest = sci_digits(v, None)?;
    if shortest.len <= 15 {
        return Some(shortest);
    }
    let target = ordered_bits(v);
    for sig in 1..=15 {
        let cand = match sci_digits(v, Some(sig)) {
            Some(c) => c,
            None => continue,
        };
        let text = cand.integer_text();
        let back = match std::str::from_utf8(text.as_bytes())
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
        {
            Some(b) => b,
            None => continue,
        };
        if !back.is_finite() {
            continue; // e.g. 2e308 for f64::MAX
        }
        let back = if v < 0.0 { -back } else { back };
        if ordered_bits(back).abs_diff(target) <= 1 {
            return Some(cand);
        }
        // |v - C| <= unit(C) * 10^-NOISE_GAP, unit(C) being the place value
        // of C's last digit. Only the order of magnitude matters here.
        let unit_exp = cand.exp10 - (cand.len as i32 - 1) - NOISE_GAP;
        if (v - back).abs() <= 10f64.powi(unit_exp) {
            return Some(cand);
        }
    }
    Some(shortest)
}

/// Maps a double to an integer such that adjacent doubles map to adjacent
/// integers (for ulp distances).
fn ordered_bits(v: f64) -> i64 {
    let b = v.to_bits() as i64;
    if b < 0 {
        i64::MIN - b
    } else {
        b
    }
}

/// Appends `mant * 2^exp2` printed like `"%.17Lf"` (exact value, rounded to
/// 17 decimals, ties to even), without sign.
fn write_fixed17(mant: u64, exp2: i64, out: &mut Vec<u8>) {
    const SCALE: u128 = 100_000_000_000_000_000; // 10^17
    if exp2 >= 0 {
        let mut n = Big::from_u64(mant);
        n.shl(exp2 as usize);
        n.write_decimal(out);
        out.extend_from_slice(b".00000000000000000");
        return;
    }
    let s = exp2.unsigned_abs(); // value = mant / 2^s
    let (mut int_part, frac) = if s < 64 {
        (mant >> s, u128::from(mant & ((1u64 << s) - 1)))
    } else {
        (0, u128::from(mant))
    };
    // frac / 2^s * 10^17, rounded; frac * 10^17 < 2^121.
    let scaled = frac * SCALE;
    let mut dec = if s >= 128 {
        0 // scaled < 2^121 <= 2^(s-1): below one half
    } else {
        let q = scaled >> s;
        let rem = scaled & ((1u128 << s) - 1);
        let half = 1u128 << (s - 1);
        if rem > half || (rem == half && q & 1 == 1) {
            q + 1
        } else {
            q
        }
    };
    if dec >= SCALE {
        dec -= SCALE;
        int_part += 1;
    }
    format_i64(int_part as i64, out);
    out.push(b'.');
    let mut buf = [b'0'; 17];
    let mut d = dec as u64;
    for slot in buf.iter_mut().rev() {
        *slot = b'0' + (d % 10) as u8;
        d /= 10;
    }
    out.extend_from_slice(&buf);
}

// ---------------------------------------------------------------------------
// Exact INCRBYFLOAT: x87 80-bit long double emulation
// ---------------------------------------------------------------------------

/// Why [`incr_by_float`] failed; each maps to a Redis error reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncrFloatError {
    /// The increment argument is not a valid float:
    /// `ERR value is not a valid float`.
    InvalidIncrement,
    /// The stored value is not a valid float: `ERR value is not a valid
    /// float` for INCRBYFLOAT, `ERR hash value is not a float` for
    /// HINCRBYFLOAT.
    InvalidCurrent,
    /// The sum is NaN or infinite: `ERR increment would produce NaN or
    /// Infinity`.
    NanOrInfinity,
}

/// INCRBYFLOAT / HINCRBYFLOAT arithmetic done exactly as Redis 7.0 does it
/// on x86-64: both strings parsed with `string2ld()` (glibc `strtold` into an
/// 80-bit long double), added in long double, and the sum formatted with
/// `ld2string(LD_STR_HUMAN)`. Returns the bytes Redis stores and replies
/// (pass `b"0"` as `current` for a missing key or field).
///
/// Unlike `parse_f64` + `+` + [`format_incrbyfloat`], this reproduces Redis
/// bit for bit, including its long-double noise digits (`71.84 + 19.99` ->
/// `91.82999999999999999`) and its long-double range (`1e400` is accepted;
/// `1e-400` gives `0`). The increment is validated first, as Redis does.
pub fn incr_by_float(current: &[u8], incr: &[u8]) -> Result<Vec<u8>, IncrFloatError> {
    let inc = parse_long_double(incr).ok_or(IncrFloatError::InvalidIncrement)?;
    let cur = parse_long_double(current).ok_or(IncrFloatError::InvalidCurrent)?;
    match ld_add(cur, inc) {
        Ld::Finite {
            negative,
            mant,
            exp,
        } => Ok(ld_human(negative, mant, exp)),
        Ld::Inf(_) | Ld::Nan => Err(IncrFloatError::NanOrInfinity),
    }
}

/// Smallest exponent of a long double `mant * 2^exp` (denormals included):
/// the minimum normal is 2^63 * 2^-16445 = 2^-16382.
const LD_MIN_EXP: i64 = -16445;
/// Largest exponent: the maximum is (2^64 - 1) * 2^16320 < 2^16384.
const LD_MAX_EXP: i64 = 16320;

/// An x87 extended-precision value: `±mant * 2^exp` (zero when `mant` is 0).
#[derive(Debug, Clone, Copy)]
enum Ld {
    Finite { negative: bool, mant: u64, exp: i64 },
    Inf(bool),
    Nan,
}

/// Rounds `±(q + sticky) * 2^x` to a long double (nearest, ties to even),
/// where `q` has at most 66 bits (bit 65 set unless exact) and `sticky` says
/// the true value is a little above `q * 2^x`. Handles denormals and
/// overflow (to infinity). Returns a zero `mant` on underflow.
fn round_to_ld(negative: bool, q: u128, sticky: bool, x: i64) -> Ld {
    // Two guard bits by default; more for results below the normal range.
    let drop = 2 + (LD_MIN_EXP - (x + 2)).max(0);
    let (mut m, below, half) = if drop >= 128 {
        (0u128, true, false)
    } else {
        let d = drop as u32;
        let m = q >> d;
        let half = (q >> (d - 1)) & 1 == 1;
        let below = sticky || (q & ((1u128 << (d - 1)) - 1)) != 0;
        (m, below, half)
    };
    let mut exp = x + drop;
    if half && (below || m & 1 == 1) {
        m += 1;
    }
    if m >> 64 != 0 {
        m >>= 1;
        exp += 1;
    }
    if exp > LD_MAX_EXP {
        return Ld::Inf(negative);
    }
    Ld::Finite {
        negative,
        mant: m as u64,
        exp,
    }
}

/// Rounds `±n * 2^e` (exact big integer) to a long double.
fn big_to_ld(negative: bool, n: &Big, e: i64) -> Ld {
    let bits = n.bit_len();
    if bits == 0 {
        return Ld::Finite {
            negative,
            mant: 0,
            exp: 0,
        };
    }
    if bits > 66 {
        let shift = bits - 66;
        let mut top = n.clone();
        top.shr(shift);
        round_to_ld(
            negative,
            top.low_u128(),
            n.any_below(shift),
            e + shift as i64,
        )
    } else {
        let shift = 66 - bits;
        round_to_ld(negative, n.low_u128() << shift, false, e - shift as i64)
    }
}

/// Long double addition, round to nearest even.
fn ld_add(a: Ld, b: Ld) -> Ld {
    let (an, am, ae, bn, bm, be) = match (a, b) {
        (Ld::Nan, _) | (_, Ld::Nan) => return Ld::Nan,
        (Ld::Inf(x), Ld::Inf(y)) => return if x == y { Ld::Inf(x) } else { Ld::Nan },
        (Ld::Inf(x), _) | (_, Ld::Inf(x)) => return Ld::Inf(x),
        (
            Ld::Finite {
                negative: an,
                mant: am,
                exp: ae,
            },
            Ld::Finite {
                negative: bn,
                mant: bm,
                exp: be,
            },
        ) => (an, am, ae, bn, bm, be),
    };
    if am == 0 {
        return if bm == 0 {
            Ld::Finite {
                negative: an && bn,
                mant: 0,
                exp: 0,
            }
        } else {
            b
        };
    }
    if bm == 0 {
        return a;
    }
    // Far apart: the smaller operand is below a quarter ulp of the larger
    // and cannot change the rounded result.
    let (top_a, top_b) = (ae + 63, be + 63);
    if top_a - top_b > 130 {
        return a;
    }
    if top_b - top_a > 130 {
        return b;
    }
    let e = ae.min(be);
    let mut x = Big::from_u64(am);
    x.shl((ae - e) as usize);
    let mut y = Big::from_u64(bm);
    y.shl((be - e) as usize);
    if an == bn {
        x.add_assign(&y);
        big_to_ld(an, &x, e)
    } else {
        match x.cmp(&y) {
            std::cmp::Ordering::Equal => Ld::Finite {
                negative: false,
                mant: 0,
                exp: 0,
            },
            std::cmp::Ordering::Greater => {
                x.sub_assign(&y);
                big_to_ld(an, &x, e)
            }
            std::cmp::Ordering::Less => {
                y.sub_assign(&x);
                big_to_ld(bn, &y, e)
            }
        }
    }
}

/// Redis's `string2ld()`: same grammar as [`parse_f64`], parsed exactly
/// into a long double; rejects overflow and non-zero values that underflow
/// to zero (ERANGE), keeps long-double denormals.
fn parse_long_double(s: &[u8]) -> Option<Ld> {
    if s.is_empty() || s.len() > MAX_FLOAT_LEN {
        return None;
    }
    let (negative, body) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        return Some(Ld::Inf(negative));
    }
    let ld = if body.len() > 2
        && body[0] == b'0'
        && (body[1] | 0x20) == b'x'
        && is_hex_float(&body[2..])
    {
        hex_to_ld(negative, &body[2..])?
    } else {
        dec_to_ld(negative, body)?
    };
    match ld {
        Ld::Finite { .. } => Some(ld),
        _ => None, // overflow
    }
}

/// Parses the digits of an exponent (after `e`/`p`), saturating far beyond
/// any meaningful range. Returns the value and the number of bytes used
/// (sign included), or `None` if there is no digit (then the exponent
/// marker is not part of the number).
fn scan_exponent(s: &[u8]) -> Option<(i64, usize)> {
    let mut q = 0;
    let mut negative = false;
    if let Some(&sign @ (b'+' | b'-')) = s.first() {
        negative = sign == b'-';
        q = 1;
    }
    let digits = span(s.get(q..).unwrap_or(&[]), |b| b.is_ascii_digit());
    if digits == 0 {
        return None;
    }
    let mut e: i64 = 0;
    for &b in &s[q..q + digits] {
        e = (e * 10 + i64::from(b - b'0')).min(1 << 40);
    }
    Some((if negative { -e } else { e }, q + digits))
}

fn dec_to_ld(negative: bool, s: &[u8]) -> Option<Ld> {
    let int_len = span(s, |b| b.is_ascii_digit());
    let mut pos = int_len;
    let mut frac_len = 0;
    if s.get(pos) == Some(&b'.') {
        frac_len = span(&s[pos + 1..], |b| b.is_ascii_digit());
        pos += 1 + frac_len;
    }
    if int_len + frac_len == 0 {
        return None;
    }
    let int_digits = &s[..int_len];
    let frac_digits = if frac_len > 0 {
        &s[int_len + 1..int_len + 1 + frac_len]
    } else {
        &[][..]
    };
    let mut exp10: i64 = 0;
    if matches!(s.get(pos), Some(b'e') | Some(b'E')) {
        if let Some((e, used)) = scan_exponent(&s[pos + 1..]) {
            exp10 = e;
            pos += 1 + used;
        }
    }
    if pos != s.len() {
        return None;
    }
    // value = digits * 10^exp10, without leading / trailing zero digits.
    let digits = || int_digits.iter().chain(frac_digits.iter());
    let total = int_len + frac_len;
    let lead = digits().take_while(|&&b| b == b'0').count();
    if lead == total {
        return Some(Ld::Finite {
            negative,
            mant: 0,
            exp: 0,
        });
    }
    let trail = digits().rev().take_while(|&&b| b == b'0').count();
    let ndigits = total - lead - trail;
    exp10 = exp10 - frac_len as i64 + trail as i64;
    // Decimal exponent of the leading digit; outside these bounds the value
    // certainly overflows (max ~1.19e4932) or rounds to zero (the smallest
    // denormal is ~3.6e-4951).
    let top10 = exp10 + ndigits as i64 - 1;
    if !(-4953..=4933).contains(&top10) {
        return None;
    }
    let mut n = Big::from_u64(0);
    let mut chunk: u32 = 0;
    let mut chunk_len = 0;
    for &b in digits().skip(lead).take(ndigits) {
        chunk = chunk * 10 + u32::from(b - b'0');
        chunk_len += 1;
        if chunk_len == 9 {
            n.mul_small(1_000_000_000);
            n.add_small(chunk);
            chunk = 0;
            chunk_len = 0;
        }
    }
    if chunk_len > 0 {
        n.mul_small(10u32.pow(chunk_len));
        n.add_small(chunk);
    }
    let ld = if exp10 >= 0 {
        n.mul_pow10(exp10 as u32);
        big_to_ld(negative, &n, 0)
    } else {
        let mut den = Big::from_u64(1);
        den.mul_pow10(exp10.unsigned_abs() as u32);
        // Scale so that the quotient has 66 or 67 bits.
        let k = 66 + den.bit_len() as i64 - n.bit_len() as i64;
        if k >= 0 {
            n.shl(k as usize);
        } else {
            den.shl(k.unsigned_abs() as usize);
        }
        let (mut q, rem) = n.div_small_quotient(&den);
        let mut sticky = !rem.is_zero();
        let mut x = -k;
        if q >> 66 != 0 {
            sticky |= q & 1 == 1;
            q >>= 1;
            x += 1;
        }
        round_to_ld(negative, q, sticky, x)
    };
    match ld {
        Ld::Finite { mant: 0, .. } => None, // underflow to zero
        other => Some(other),
    }
}

fn hex_to_ld(negative: bool, s: &[u8]) -> Option<Ld> {
    let mut mant: u128 = 0; // first 32 significant hex digits
    let mut kept = 0u32;
    let mut sticky = false;
    let mut exp: i64 = 0; // value = (mant + sticky) * 2^exp
    let mut pos = 0;
    let mut seen_point = false;
    while let Some(&b) = s.get(pos) {
        if b == b'.' && !seen_point {
            seen_point = true;
        } else if b.is_ascii_hexdigit() {
            let d = u128::from(hex_val(b));
            if kept == 0 && d == 0 {
                if seen_point {
                    exp -= 4;
                }
            } else if kept < 32 {
                mant = (mant << 4) | d;
                kept += 1;
                if seen_point {
                    exp -= 4;
                }
            } else {
                sticky |= d != 0;
                if !seen_point {
                    exp += 4;
                }
            }
        } else {
            break;
        }
        pos += 1;
    }
    if matches!(s.get(pos), Some(b'p') | Some(b'P')) {
        if let Some((e, used)) = scan_exponent(&s[pos + 1..]) {
            exp += e;
            pos += 1 + used;
        }
    }
    if pos != s.len() {
        return None;
    }
    if mant == 0 {
        return Some(Ld::Finite {
            negative,
            mant: 0,
            exp: 0,
        });
    }
    let bits = 128 - i64::from(mant.leading_zeros());
    // Far outside the long double range: decide without shifting.
    if exp + bits > LD_MAX_EXP + 70 {
        return None;
    }
    if exp + bits < LD_MIN_EXP - 10 {
        return None;
    }
    let ld = if bits > 66 {
        let shift = (bits - 66) as u32;
        let low = mant & ((1u128 << shift) - 1);
        round_to_ld(
            negative,
            mant >> shift,
            sticky || low != 0,
            exp + i64::from(shift),
        )
    } else {
        let shift = (66 - bits) as u32;
        round_to_ld(negative, mant << shift, sticky, exp - i64::from(shift))
    };
    match ld {
        Ld::Finite { mant: 0, .. } => None,
        other => Some(other),
    }
}

/// Minimal unsigned big integer (little-endian base-2^32 limbs), just enough
/// for exact decimal <-> long double conversion. Sizes stay below ~1.2k bits.
#[derive(Clone)]
struct Big {
    limbs: Vec<u32>,
}

impl Big {
    fn from_u64(v: u64) -> Self {
        let mut b = Big {
            limbs: vec![v as u32, (v >> 32) as u32],
        };
        b.trim();
        b
    }

    fn trim(&mut self) {
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
    }

    fn is_zero(&self) -> bool {
        self.limbs.is_empty()
    }

    fn bit_len(&self) -> usize {
        match self.limbs.last() {
            Some(&top) => self.limbs.len() * 32 - top.leading_zeros() as usize,
            None => 0,
        }
    }

    /// True if any bit strictly below position `i` is set.
    fn any_below(&self, i: usize) -> bool {
        let whole = i / 32;
        if self.limbs.iter().take(whole).any(|&l| l != 0) {
            return true;
        }
        let part = i % 32;
        part > 0
            && self
                .limbs
                .get(whole)
                .is_some_and(|&l| l & ((1u32 << part) - 1) != 0)
    }

    fn low_u128(&self) -> u128 {
        self.limbs
            .iter()
            .take(4)
            .enumerate()
            .fold(0u128, |acc, (i, &l)| acc | (u128::from(l) << (32 * i)))
    }

    fn add_small(&mut self, k: u32) {
        let mut carry = u64::from(k);
        for l in self.limbs.iter_mut() {
            if carry == 0 {
                break;
            }
            let v = u64::from(*l) + carry;
            *l = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.limbs.push(carry as u32);
        }
    }

    fn add_assign(&mut self, other: &Big) {
        if self.limbs.len() < other.limbs.len() {
            self.limbs.resize(other.limbs.len(), 0);
        }
        let mut carry = 0u64;
        for (idx, l) in self.limbs.iter_mut().enumerate() {
            let v = u64::from(*l) + u64::from(other.limbs.get(idx).copied().unwrap_or(0)) + carry;
            *l = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.limbs.push(carry as u32);
        }
    }

    fn mul_small(&mut self, k: u32) {
        let mut carry: u64 = 0;
        for l in self.limbs.iter_mut() {
            let p = u64::from(*l) * u64::from(k) + carry;
            *l = p as u32;
            carry = p >> 32;
        }
        if carry != 0 {
            self.limbs.push(carry as u32);
        }
    }

    fn mul_pow10(&mut self, mut n: u32) {
        while n >= 9 {
            self.mul_small(1_000_000_000);
            n -= 9;
        }
        if n > 0 {
            self.mul_small(10u32.pow(n));
        }
    }

    fn shl(&mut self, n: usize) {
        if self.is_zero() {
            return;
        }
        let words = n / 32;
        let bits = n % 32;
        if bits > 0 {
            let mut carry = 0u32;
            for l in self.limbs.iter_mut() {
                let v = *l;
                *l = (v << bits) | carry;
                carry = v >> (32 - bits);
            }
            if carry != 0 {
                self.limbs.push(carry);
            }
        }
        if words > 0 {
            self.limbs.splice(0..0, std::iter::repeat_n(0, words));
        }
    }

    fn shr(&mut self, n: usize) {
        let words = n / 32;
        if words >= self.limbs.len() {
            self.limbs.clear();
            return;
        }
        self.limbs.drain(..words);
        let bits = n % 32;
        if bits > 0 {
            let len = self.limbs.len();
            for idx in 0..len {
                let hi = if idx + 1 < len {
                    self.limbs[idx + 1] << (32 - bits)
                } else {
                    0
                };
                self.limbs[idx] = (self.limbs[idx] >> bits) | hi;
            }
        }
        self.trim();
    }

    fn cmp(&self, other: &Big) -> std::cmp::Ordering {
        self.limbs
            .len()
            .cmp(&other.limbs.len())
            .then_with(|| self.limbs.iter().rev().cmp(other.limbs.iter().rev()))
    }

    /// self -= other; requires self >= other.
    fn sub_assign(&mut self, other: &Big) {
        let mut borrow = 0i64;
        for (idx, l) in self.limbs.iter_mut().enumerate() {
            let o = i64::from(other.limbs.get(idx).copied().unwrap_or(0));
            let mut d = i64::from(*l) - o - borrow;
            borrow = 0;
            if d < 0 {
                d += 1 << 32;
                borrow = 1;
            }
            *l = d as u32;
        }
        self.trim();
    }

    /// (self / den, self % den) for a quotient known to fit in 128 bits.
    /// `den` must be non-zero.
    fn div_small_quotient(&self, den: &Big) -> (u128, Big) {
        let mut rem = self.clone();
        let mut q: u128 = 0;
        if den.is_zero() {
            return (0, rem);
        }
        let span = self.bit_len().saturating_sub(den.bit_len()).min(127);
        let mut shifted = den.clone();
        shifted.shl(span);
        for bit in (0..=span).rev() {
            if rem.cmp(&shifted) != std::cmp::Ordering::Less {
                rem.sub_assign(&shifted);
                q |= 1u128 << bit;
            }
            shifted.shr(1);
        }
        (q, rem)
    }

    /// Appends the decimal digits.
    fn write_decimal(&self, out: &mut Vec<u8>) {
        let mut n = self.clone();
        let mut chunks: Vec<u32> = Vec::new(); // base 10^9, least significant first
        while !n.is_zero() {
            let mut rem: u64 = 0;
            for l in n.limbs.iter_mut().rev() {
                let cur = (rem << 32) | u64::from(*l);
                *l = (cur / 1_000_000_000) as u32;
                rem = cur % 1_000_000_000;
            }
            n.trim();
            chunks.push(rem as u32);
        }
        match chunks.split_last() {
            None => out.push(b'0'),
            Some((top, rest)) => {
                format_i64(i64::from(*top), out);
                for &c in rest.iter().rev() {
                    let mut buf = [b'0'; 9];
                    let mut d = c;
                    for slot in buf.iter_mut().rev() {
                        *slot = b'0' + (d % 10) as u8;
                        d /= 10;
                    }
                    out.extend_from_slice(&buf);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fd(v: f64) -> String {
        let mut out = Vec::new();
        format_double(v, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn fi(v: i64) -> String {
        let mut out = Vec::new();
        format_i64(v, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn fif(v: f64) -> String {
        String::from_utf8(format_incrbyfloat(v)).unwrap()
    }

    fn ibf(cur: &str, inc: &str) -> Result<String, IncrFloatError> {
        incr_by_float(cur.as_bytes(), inc.as_bytes()).map(|v| String::from_utf8(v).unwrap())
    }

    /// The f64 path as a command would use it.
    fn f64_incr(cur: &str, inc: &str) -> String {
        fif(parse_f64(cur.as_bytes()).unwrap() + parse_f64(inc.as_bytes()).unwrap())
    }

    // ----- parse_i64 ------------------------------------------------------

    #[test]
    fn parse_i64_accepts() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"1"), Some(1));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"99"), Some(99));
        assert_eq!(parse_i64(b"-99"), Some(-99));
        assert_eq!(parse_i64(b"1234567890"), Some(1_234_567_890));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"-9223372036854775807"), Some(-i64::MAX));
    }

    #[test]
    fn parse_i64_rejects() {
        for s in [
            &b""[..],
            b"+1",
            b" 1",
            b"1 ",
            b"\t1",
            b"01",
            b"00",
            b"-0",
            b"-01",
            b"-",
            b"--1",
            b"1-",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"18446744073709551615",
            b"18446744073709551616",
            b"99999999999999999999",
            b"999999999999999999999999",
            b"1\x00",
            b"\x001",
            b"1a",
            b"0x10",
            b"1.0",
            b"1e3",
            b"000000000000000000001",
            "\u{ff11}".as_bytes(),
        ] {
            assert_eq!(parse_i64(s), None, "{:?}", String::from_utf8_lossy(s));
        }
    }

    // ----- format_i64 -----------------------------------------------------

    #[test]
    fn format_i64_values() {
        assert_eq!(fi(0), "0");
        assert_eq!(fi(1), "1");
        assert_eq!(fi(-1), "-1");
        assert_eq!(fi(9), "9");
        assert_eq!(fi(10), "10");
        assert_eq!(fi(99), "99");
        assert_eq!(fi(100), "100");
        assert_eq!(fi(-100), "-100");
        assert_eq!(fi(12345), "12345");
        assert_eq!(fi(-1_000_000_007), "-1000000007");
        assert_eq!(fi(i64::MAX), "9223372036854775807");
        assert_eq!(fi(i64::MIN), "-9223372036854775808");
    }

    #[test]
    fn format_i64_appends_and_round_trips() {
        let mut out = b"x=".to_vec();
        format_i64(-42, &mut out);
        assert_eq!(out, b"x=-42");
        let mut v: i64 = 1;
        for _ in 0..200 {
            for x in [v, -v, v - 1, 1 - v] {
                let mut buf = Vec::new();
                format_i64(x, &mut buf);
                assert_eq!(buf, x.to_string().as_bytes());
                assert_eq!(parse_i64(&buf), Some(x));
            }
            v = v.wrapping_mul(7).wrapping_add(3) & i64::MAX;
        }
    }

    // ----- parse_f64 ------------------------------------------------------

    #[test]
    fn parse_f64_decimal() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"+1.5"), Some(1.5));
        assert_eq!(parse_f64(b"-1.5"), Some(-1.5));
        assert_eq!(parse_f64(b"1."), Some(1.0));
        assert_eq!(parse_f64(b".5"), Some(0.5));
        assert_eq!(parse_f64(b"-.5e-3"), Some(-0.0005));
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
        assert_eq!(parse_f64(b"1E+3"), Some(1000.0));
        assert_eq!(parse_f64(b"5.0e3"), Some(5000.0));
        assert_eq!(parse_f64(b"007"), Some(7.0));
        assert_eq!(parse_f64(b"0.1"), Some(0.1));
        assert_eq!(parse_f64(b"10.50"), Some(10.5));
        assert_eq!(parse_f64(b"1.7976931348623157e308"), Some(f64::MAX));
        assert_eq!(
            parse_f64(b"2.2250738585072014e-308"),
            Some(f64::MIN_POSITIVE)
        );
        // Denormals are accepted (ERANGE with a non-zero result).
        assert_eq!(
            parse_f64(b"4.9406564584124654e-324"),
            Some(f64::from_bits(1))
        );
        assert_eq!(parse_f64(b"3e-324"), Some(f64::from_bits(1)));
        assert_eq!(parse_f64(b"1e-310"), Some(1e-310));
        // Zero in any spelling, with its sign.
        assert_eq!(parse_f64(b"0e999999999999"), Some(0.0));
        let neg_zero = parse_f64(b"-0").unwrap();
        assert!(neg_zero == 0.0 && neg_zero.is_sign_negative());
        // Long inputs are fine up to 5119 bytes.
        let mut long = b"0.".to_vec();
        long.resize(5118, b'0');
        long.push(b'1');
        assert_eq!(long.len(), 5119);
        assert_eq!(parse_f64(&long), None); // 1e-5117 underflows f64
        let mut long = vec![b'0'; 5118];
        long.push(b'7');
        assert_eq!(parse_f64(&long), Some(7.0));
        long.insert(0, b'0');
        assert_eq!(parse_f64(&long), None); // 5120 bytes
    }

    #[test]
    fn parse_f64_hex() {
        assert_eq!(parse_f64(b"0x10"), Some(16.0));
        assert_eq!(parse_f64(b"0X1P4"), Some(16.0));
        assert_eq!(parse_f64(b"0x1.8"), Some(1.5));
        assert_eq!(parse_f64(b"0x1p-3"), Some(0.125));
        assert_eq!(parse_f64(b"-0x.8p1"), Some(-1.0));
        assert_eq!(parse_f64(b"0xA.Bp0"), Some(10.6875));
        assert_eq!(parse_f64(b"0x0"), Some(0.0));
        assert_eq!(parse_f64(b"0x1.fffffffffffffp1023"), Some(f64::MAX));
        assert_eq!(parse_f64(b"0x1p-1074"), Some(f64::from_bits(1)));
        // Ties to even, also in the denormal range.
        assert_eq!(parse_f64(b"0x1.00000000000008p0"), Some(1.0));
        assert_eq!(
            parse_f64(b"0x1.00000000000018p0"),
            Some(1.0 + 2.0 * f64::EPSILON)
        );
        assert_eq!(
            parse_f64(b"0x1.000000000000080000000001p0"),
            Some(1.0 + f64::EPSILON)
        );
        assert_eq!(parse_f64(b"0x1.8p-1074"), Some(f64::from_bits(2)));
        assert_eq!(
            parse_f64(b"0x1.0000000000001p-1075"),
            Some(f64::from_bits(1))
        );
        assert_eq!(parse_f64(b"0x1p-1075"), None); // tie to zero: underflow
        assert_eq!(parse_f64(b"0x1p1024"), None); // overflow
        assert_eq!(parse_f64(b"0x1.fffffffffffff8p1023"), None); // rounds up to 2^1024
    }

    #[test]
    fn parse_f64_infinity() {
        for s in [
            &b"inf"[..],
            b"+inf",
            b"INF",
            b"Inf",
            b"infinity",
            b"+Infinity",
            b"INFINITY",
        ] {
            assert_eq!(
                parse_f64(s),
                Some(f64::INFINITY),
                "{:?}",
                String::from_utf8_lossy(s)
            );
        }
        for s in [&b"-inf"[..], b"-INF", b"-infinity"] {
            assert_eq!(parse_f64(s), Some(f64::NEG_INFINITY));
        }
    }

    #[test]
    fn parse_f64_rejects() {
        for s in [
            &b""[..],
            b" 1",
            b"1 ",
            b"\t1",
            b"1\n",
            b"1 .5",
            b"1\x00",
            b"\x001",
            b"nan",
            b"NaN",
            b"-nan",
            b"nan(1)",
            b"+",
            b"-",
            b".",
            b"-.",
            b"e5",
            b".e5",
            b"1e",
            b"1e+",
            b"1e-",
            b"1e+-5",
            b"1.5.5",
            b"0x",
            b"0x.",
            b"0x.p1",
            b"0xg",
            b"0x1p",
            b"0x1p+",
            b"0x1.8.8",
            b"1e400",
            b"-1e400",
            b"1e-400",
            b"2e-324",
            b"inff",
            b"infinit",
            b"in",
            b"++1",
            b"+-1",
            b"-+1",
            b"1_000",
            b"1,5",
            b"1f",
            b"0b101",
        ] {
            assert_eq!(parse_f64(s), None, "{:?}", String::from_utf8_lossy(s));
        }
    }

    // ----- format_double --------------------------------------------------

    #[test]
    fn format_double_matches_printf_17g() {
        // Expected strings from glibc printf("%.17g") / redis-server ZSCORE.
        let cases: &[(f64, &str)] = &[
            (0.1, "0.10000000000000001"),
            (1.5, "1.5"),
            (0.0, "0"),
            (-0.0, "-0"),
            (1e300, "1.0000000000000001e+300"),
            (1e-300, "1e-300"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (3.0000000000000004, "3.0000000000000004"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
            (0.0001, "0.0001"),
            (0.00001, "1.0000000000000001e-05"),
            (1.0 / 33_554_432.0, "2.9802322387695312e-08"), // 2^-25: exact tie, to even
            (100.0, "100"),
            (1e22, "1e+22"),
            (-2.5e-5, "-2.5000000000000001e-05"),
            (5e-324, "4.9406564584124654e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (123.456, "123.456"),
            (1.0 / 3.0, "0.33333333333333331"),
            (-2.0 / 3.0, "-0.66666666666666663"),
            (9007199254740993.0, "9007199254740992"),
            (0.3, "0.29999999999999999"),
            (1e15 + 0.3, "1000000000000000.2"),
            (12345678.9, "12345678.9"),
            (0.00030000000000000003, "0.00030000000000000003"),
            (0.000123456789, "0.000123456789"),
            (0.99609375, "0.99609375"),
            (4.35, "4.3499999999999996"),
            (1e21, "1e+21"),
            (2.5, "2.5"),
            (-1.0, "-1"),
            (1e100, "1e+100"),
            (f64::MAX / 3.0, "5.9923104495410527e+307"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
        ];
        for &(v, want) in cases {
            assert_eq!(fd(v), want, "{v:e}");
        }
    }

    #[test]
    fn format_double_appends_and_round_trips() {
        let mut out = b"$".to_vec();
        format_double(0.5, &mut out);
        assert_eq!(out, b"$0.5");
        let mut bits: u64 = 0x0123_4567_89ab_cdef;
        for _ in 0..5000 {
            bits ^= bits << 13;
            bits ^= bits >> 7;
            bits ^= bits << 17;
            let v = f64::from_bits(bits);
            if v.is_nan() {
                continue;
            }
            let s = fd(v);
            assert_eq!(s.parse::<f64>().unwrap().to_bits(), v.to_bits(), "{s}");
            assert_eq!(
                parse_f64(s.as_bytes()).map(f64::to_bits),
                Some(v.to_bits()),
                "{s}"
            );
        }
    }

    // ----- format_incrbyfloat ----------------------------------------------

    #[test]
    fn format_incrbyfloat_matches_redis() {
        // (stored value, increment, INCRBYFLOAT reply of redis-server 7.0.15)
        let cases: &[(&str, &str, &str)] = &[
            ("10.5", "0.1", "10.6"),
            ("10.50", "0.1", "10.6"),
            ("0.1", "0.2", "0.3"),
            ("1.1", "2.2", "3.3"),
            ("1", "-1.1", "-0.1"),
            ("9.79", "-10", "-0.21"),
            ("5.0e3", "2.0e2", "5200"),
            ("3.0e3", "200", "3200"),
            ("0", "5.0e3", "5000"),
            ("1.5", "1.5", "3"),
            ("0", "1.23456789", "1.23456789"),
            ("0", "100.1", "100.1"),
            ("0", "128.1", "128.10000000000000001"),
            ("5000", "1.1", "5001.10000000000000009"),
            ("1000", "0.1", "1000.09999999999999998"),
            ("12345.678", "0", "12345.67799999999999994"),
            ("99999.99", "0", "99999.99000000000000199"),
            ("0", "1700000000.123456", "1700000000.12345600000116974"),
            (
                "1700000000.123456",
                "0.000001",
                "1700000000.12345700000878423",
            ),
            ("17179869184", "1.5", "17179869185.5"),
            ("17179869184", "17179869184", "34359738368"),
            ("0", "1e20", "100000000000000000000"),
            ("0", "1e23", "100000000000000000000000"),
            ("0", "1e30", "1000000000000000000024696061952"),
            ("0", "-0", "0"),
            ("0", "-0.0", "0"),
            ("0.1", "-0.1", "0"),
            ("2.5", "-2.5", "0"),
            ("-0.5", "0.25", "-0.25"),
            ("0", "1e-20", "0"),
            ("0", "5e-18", "0"),
            ("-5e-18", "0", "0"),
            ("0", "6e-18", "0.00000000000000001"),
            ("0", "0.000003814697265625", "0.00000381469726562"), // tie, to even
            ("0", "0.000003814697265635", "0.00000381469726563"),
            ("0", "0x10", "16"),
            ("0", "0x1p-3", "0.125"),
            ("0", "+1.5", "1.5"),
            ("0", "1.", "1"),
            ("0", ".5", "0.5"),
        ];
        for &(cur, inc, want) in cases {
            assert_eq!(f64_incr(cur, inc), want, "{cur} + {inc}");
        }
    }

    #[test]
    fn format_incrbyfloat_known_differences() {
        // Documented cases where the f64 path cannot reproduce Redis
        // (Redis's reply in the comment); incr_by_float gets them right.
        assert_eq!(f64_incr("71.84", "19.99"), "91.83"); // 91.82999999999999999
        assert_eq!(f64_incr("-7.13", "75.230"), "68.1"); // 68.10000000000000001
        assert_eq!(f64_incr("-852", "855.66646"), "3.666460000000029"); // 3.66646
        assert_eq!(f64_incr("1000000.1", "-1000000"), "0.09999999997671694"); // 0.10000000000002274
        assert_eq!(f64_incr("0", "9007199254740993"), "9007199254740992"); // 9007199254740993
        assert_eq!(f64_incr("0", "0.30000000000000004"), "0.3"); // 0.30000000000000004
    }

    #[test]
    fn format_incrbyfloat_specials() {
        assert_eq!(fif(0.0), "0");
        assert_eq!(fif(-0.0), "0");
        assert_eq!(fif(f64::INFINITY), "inf");
        assert_eq!(fif(f64::NEG_INFINITY), "-inf");
        assert_eq!(fif(f64::NAN), "nan");
        assert_eq!(fif(f64::from_bits(1)), "0");
        assert_eq!(fif(-1e-300), "0");
        let max = fif(f64::MAX);
        assert_eq!(max.len(), 309);
        assert!(max.starts_with("1797693134862315"));
        assert_eq!(fif(-1e17), "-100000000000000000");
        assert_eq!(fif(0.5), "0.5");
        assert_eq!(fif(-123.25), "-123.25");
    }

    #[test]
    fn format_incrbyfloat_never_panics() {
        let mut bits: u64 = 0xdead_beef_cafe_f00d;
        for _ in 0..3000 {
            bits ^= bits << 13;
            bits ^= bits >> 7;
            bits ^= bits << 17;
            let v = f64::from_bits(bits);
            let out = format_incrbyfloat(v);
            assert!(!out.is_empty());
            if v.is_finite() {
                assert!(!out.contains(&b'e'));
                // The text parses back close to v (within long-double
                // rounding to 17 decimals and noise snapping).
                let back = parse_f64(&out).unwrap_or(0.0);
                assert!(
                    (back - v).abs() <= v.abs() * 1e-13 + 1e-17,
                    "{v:e} -> {}",
                    String::from_utf8_lossy(&out)
                );
            }
        }
    }

    // ----- incr_by_float ---------------------------------------------------

    #[test]
    fn incr_by_float_matches_redis() {
        // (stored value, increment, INCRBYFLOAT reply of redis-server 7.0.15)
        let cases: &[(&str, &str, &str)] = &[
            ("10.5", "0.1", "10.6"),
            ("0.1", "0.2", "0.3"),
            ("1", "-1.1", "-0.1"),
            ("5.0e3", "2.0e2", "5200"),
            ("3.0e3", "200", "3200"),
            ("5000", "1.1", "5001.10000000000000009"),
            ("1000", "0.1", "1000.09999999999999998"),
            ("0", "1.23456789", "1.23456789"),
            ("0", "1e20", "100000000000000000000"),
            ("0", "1e23", "100000000000000000000000"),
            ("0", "1e30", "1000000000000000000024696061952"),
            ("0", "100.1", "100.1"),
            ("0", "128.1", "128.10000000000000001"),
            ("1000000.1", "-1000000", "0.10000000000002274"),
            ("0", "0.30000000000000004", "0.30000000000000004"),
            ("0", "9007199254740993", "9007199254740993"),
            ("0", "1700000000.123456", "1700000000.12345600000116974"),
            (
                "1700000000.123456",
                "0.000001",
                "1700000000.12345700000878423",
            ),
            ("0", "-0.0", "0"),
            ("0", "3.14159265358979323846", "3.14159265358979324"),
            ("12345.678", "0", "12345.67799999999999994"),
            ("99999.99", "0", "99999.99000000000000199"),
            ("1.1", "2.2", "3.3"),
            ("0", "5e-18", "0"),
            ("0", "6e-18", "0.00000000000000001"),
            ("-5e-18", "0", "0"),
            ("123456789.123456789", "0", "123456789.12345678899873747"),
            ("71.84", "19.99", "91.82999999999999999"),
            ("81.23", "0.05", "81.28000000000000001"),
            ("119.94", "19.99", "139.93000000000000001"),
            ("17179869184", "1.5", "17179869185.5"),
            ("17179869184", "17179869184", "34359738368"),
            ("1.5", "1.5", "3"),
            ("0", "0.000003814697265625", "0.00000381469726562"),
            ("0", "0.000003814697265635", "0.00000381469726563"),
            ("-7.13", "75.230", "68.10000000000000001"),
            ("9.79", "-10", "-0.21"),
            ("0.1", "-0.1", "0"),
            ("2.5", "-2.5", "0"),
            ("-0.5", "0.25", "-0.25"),
            ("0", "0x10", "16"),
            ("0", "0x1p-3", "0.125"),
            ("0", "0X1P4", "16"),
            ("0", "0x1.8", "1.5"),
            ("0", "+1.5", "1.5"),
            ("0", "1.", "1"),
            ("0", ".5", "0.5"),
            ("0", "-0", "0"),
            ("0", "1e-20", "0"),
            ("0", "1e-400", "0"),
        ];
        for &(cur, inc, want) in cases {
            assert_eq!(ibf(cur, inc).as_deref(), Ok(want), "{cur} + {inc}");
        }
    }

    #[test]
    fn incr_by_float_long_double_range() {
        // Redis accepts magnitudes beyond f64 and prints every digit.
        let big = ibf("0", "1e400").unwrap();
        assert_eq!(big.len(), 401);
        assert!(big.starts_with("10000000000000000000281880683947586514586453433629"));
        assert!(big.ends_with("430221946880"));
        let huge = ibf("0", "1e4000").unwrap();
        assert_eq!(huge.len(), 4000);
        assert!(huge.starts_with("99999999999999999999654638730996237849324925835069"));
        assert!(huge.ends_with("349901340672"));
        let sum = ibf("1e308", "1e308").unwrap();
        assert!(sum.starts_with("1999999999999999999933717593116912913211"));
        assert_eq!(ibf("0", "1e5000"), Err(IncrFloatError::InvalidIncrement));
        assert_eq!(
            ibf("1.18e4932", "1.18e4932"),
            Err(IncrFloatError::NanOrInfinity)
        );
    }

    #[test]
    fn incr_by_float_errors() {
        use IncrFloatError::*;
        assert_eq!(ibf("0", "inf"), Err(NanOrInfinity));
        assert_eq!(ibf("0", "-Infinity"), Err(NanOrInfinity));
        assert_eq!(ibf("inf", "1"), Err(NanOrInfinity));
        assert_eq!(ibf("inf", "-inf"), Err(NanOrInfinity));
        for bad in [
            "nan", "0x", " 1", "1 ", "", ".", "1e", "1\0", "abc", "1e5000",
        ] {
            assert_eq!(ibf("0", bad), Err(InvalidIncrement), "{bad:?}");
            assert_eq!(ibf(bad, "1"), Err(InvalidCurrent), "{bad:?}");
        }
        // The increment is checked first, as in Redis.
        assert_eq!(ibf("abc", "xyz"), Err(InvalidIncrement));
    }

    #[test]
    fn incr_by_float_hostile_inputs_are_bounded() {
        let mut long = b"0.".to_vec();
        long.resize(5119, b'7');
        let mut tiny = b"0.".to_vec();
        tiny.resize(4942, b'0');
        tiny.resize(5119, b'3');
        let nines = vec![b'9'; 4932]; // 4933 digits would overflow

        let start = std::time::Instant::now();
        assert_eq!(incr_by_float(&long, b"1").unwrap(), b"1.77777777777777778");
        assert_eq!(incr_by_float(&tiny, b"0").unwrap(), b"0");
        // 10^4932 - 1 rounds up to a long double just above 10^4932.
        let sum = incr_by_float(&nines, b"1").unwrap();
        assert_eq!(sum.len(), 4933);
        assert!(sum.starts_with(b"100000000000000000000601894938"));
        let pow = incr_by_float(b"0x1p16383", b"0").unwrap();
        assert_eq!(pow.len(), 4932);
        assert!(pow.starts_with(b"594865747678615882542879663314"));
        assert!(incr_by_float(&[b'9'; 5120], b"0").is_err());
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn float_functions_never_panic_on_random_bytes() {
        let alphabet = b"0123456789.eEpPxX+-infINFatyd \x00\xff";
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            let len = (next() % 14) as usize;
            let s: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let f = parse_f64(&s);
            let _ = parse_i64(&s);
            let r = incr_by_float(&s, b"0");
            if let Some(v) = f {
                // Every f64-range value string2d accepts, string2ld accepts.
                assert!(
                    r.is_ok() || v.is_infinite(),
                    "{:?}",
                    String::from_utf8_lossy(&s)
                );
            }
        }
    }
}
