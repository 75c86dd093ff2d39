//! Redis-compatible glob matching (`KEYS`, `SCAN ... MATCH`, `PSUBSCRIBE`,
//! `CONFIG GET`, ...).
//!
//! [`glob_match`] reproduces the semantics of Redis 7.0's `stringmatchlen()`
//! byte for byte, including its corner cases:
//!
//! * `*` matches any run of bytes, `?` any single byte.
//! * `[abc]`, `[^abc]`, `[a-z]` classes; a reversed range such as `[z-a]`
//!   is treated as `[a-z]`. Range bounds are compared as *signed* bytes, as
//!   C `char` is signed on x86-64, so `[a-\xff]` is really the range
//!   `-1..=97` and matches `'0'` but neither `'b'` nor `0x80`.
//! * Inside a class `\x` matches `x` literally (always case-sensitively);
//!   a `-` right after the first member builds a range even when it is
//!   followed by `]` (`[a-]` is the range `]`..=`a`, still unterminated).
//! * An unterminated class (`[abc` at the end of the pattern) behaves as if
//!   it were closed at the end of the pattern; `[` alone never matches and
//!   `[^` alone matches any single byte.
//! * `\x` outside a class matches `x` literally; a trailing lone `\` matches
//!   a `\`.
//! * A non-empty pattern never matches the empty string, not even `*`
//!   (Redis's `KEYS` and `SCAN` special-case the exact pattern `*` before
//!   calling the matcher; callers that want that behaviour must do the same).
//! * `nocase` lowers ASCII `A`-`Z` only (C locale `tolower`).
//!
//! Hostile patterns cannot blow up: like Redis, once the rest of the pattern
//! after a `*` has failed to match at every remaining position, every
//! enclosing `*` gives up at once instead of trying longer matches, and the
//! nesting of `*` is capped at 1000 (deeper levels simply fail to match,
//! exactly as in Redis). Matching is therefore polynomial and the recursion
//! depth is bounded.

/// Maximum `*` nesting depth, as in Redis (`nesting > 1000` fails the match).
const MAX_NESTING: u32 = 1000;

/// Glob-style match of `string` against `pattern` with Redis's
/// `stringmatchlen()` semantics. See the module documentation for details.
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    match_impl(pattern, string, nocase, &mut skip_longer, 0)
}

/// Byte at `i`, or 0 past the end (Redis patterns are NUL-terminated sds
/// strings and the C code peeks at the terminator in a few places).
#[inline]
fn at(s: &[u8], i: usize) -> u8 {
    match s.get(i) {
        Some(&b) => b,
        None => 0,
    }
}

/// C-locale `tolower` on a byte value.
#[inline]
fn lower(b: u8) -> u8 {
    b.to_ascii_lowercase()
}

/// C-locale `tolower` on a (signed) `char` promoted to `int`.
#[inline]
fn lower_signed(c: i32) -> i32 {
    if (i32::from(b'A')..=i32::from(b'Z')).contains(&c) {
        c + 32
    } else {
        c
    }
}

#[inline]
fn eq_byte(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        lower(a) == lower(b)
    } else {
        a == b
    }
}

fn match_impl(pat: &[u8], s: &[u8], nocase: bool, skip_longer: &mut bool, nesting: u32) -> bool {
    if nesting > MAX_NESTING {
        return false;
    }
    // `p` / `i` index the next unconsumed byte of pattern / string; the C
    // code's `patternLen` is `pat.len() - p` and `stringLen` is
    // `s.len() - i`. Invariant: p <= pat.len(), i <= s.len().
    let mut p = 0usize;
    let mut i = 0usize;
    while p < pat.len() && i < s.len() {
        match pat[p] {
            b'*' => {
                while p + 1 < pat.len() && pat[p + 1] == b'*' {
                    p += 1;
                }
                if p + 1 == pat.len() {
                    return true; // trailing '*' matches the rest
                }
                let rest = &pat[p + 1..];
                while i < s.len() {
                    if match_impl(rest, &s[i..], nocase, skip_longer, nesting + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    i += 1;
                }
                // The rest of the pattern matched nowhere in the remaining
                // string: a longer match for any earlier '*' cannot help.
                *skip_longer = true;
                return false;
            }
            b'?' => {
                i += 1;
            }
            b'[' => {
                let c = s[i];
                p += 1;
                let negate = at(pat, p) == b'^';
                if negate {
                    p += 1;
                }
                let mut matched = false;
                loop {
                    let rem = pat.len() - p;
                    let pc = at(pat, p);
                    if pc == b'\\' && rem >= 2 {
                        p += 1;
                        if pat[p] == c {
                            matched = true;
                        }
                    } else if pc == b']' {
                        break;
                    } else if rem == 0 {
                        // Unterminated class: step back so that the common
                        // "advance pattern" below lands exactly on the end.
                        p -= 1;
                        break;
                    } else if rem >= 3 && pat[p + 1] == b'-' {
                        // Bounds compare as signed chars, as in C on x86-64.
                        let mut start = i32::from(pat[p] as i8);
                        let mut end = i32::from(pat[p + 2] as i8);
                        let mut cc = i32::from(c as i8);
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        if nocase {
                            start = lower_signed(start);
                            end = lower_signed(end);
                            cc = lower_signed(cc);
                        }
                        p += 2;
                        if cc >= start && cc <= end {
                            matched = true;
                        }
                    } else if eq_byte(pc, c, nocase) {
                        matched = true;
                    }
                    p += 1;
                }
                if negate {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                i += 1;
            }
            b => {
                let mut lit = b;
                if b == b'\\' && pat.len() - p >= 2 {
                    p += 1;
                    lit = pat[p];
                }
                if !eq_byte(lit, s[i], nocase) {
                    return false;
                }
                i += 1;
            }
        }
        p += 1;
        if i == s.len() {
            while at(pat, p) == b'*' {
                p += 1;
            }
            break;
        }
    }
    p == pat.len() && i == s.len()
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }
    fn mb(p: &[u8], s: &[u8]) -> bool {
        glob_match(p, s, false)
    }
    fn mi(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), true)
    }

    #[test]
    fn literals() {
        assert!(m("hello", "hello"));
        assert!(!m("hello", "hell"));
        assert!(!m("hell", "hello"));
        assert!(!m("hello", "Hello"));
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(!m("a", ""));
        assert!(mb(b"a\x00b", b"a\x00b"));
        assert!(!mb(b"a\x00b", b"a\x00c"));
        assert!(mb(b"\xff\x80", b"\xff\x80"));
    }

    #[test]
    fn star() {
        assert!(m("*", "anything"));
        assert!(m("*", "x"));
        assert!(m("h*o", "hello"));
        assert!(m("h*o", "ho"));
        assert!(!m("h*o", "hola"));
        assert!(m("*llo", "hello"));
        assert!(m("he*", "he"));
        assert!(m("he**", "he"));
        assert!(m("a*b*c", "aXbYc"));
        assert!(m("a*b*c", "abc"));
        assert!(!m("a*b*c", "acb"));
        assert!(m("***a***", "a"));
        assert!(m("*a*", "bab"));
        assert!(m("user:*:name", "user:1000:name"));
        assert!(!m("user:*:name", "user:1000:names"));
        assert!(m("a*a", "aaa"));
        assert!(m("*a*a*a*", "xaxaxa"));
    }

    #[test]
    fn empty_string_never_matches_nonempty_pattern() {
        // Redis's stringmatchlen: even "*" fails on the empty string (KEYS
        // and SCAN special-case the exact pattern "*" themselves).
        assert!(!m("*", ""));
        assert!(!m("**", ""));
        assert!(!m("?*", ""));
        assert!(!m("[^", ""));
    }

    #[test]
    fn question_mark() {
        assert!(m("h?llo", "hello"));
        assert!(m("h?llo", "hallo"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("???", "abc"));
        assert!(!m("???", "ab"));
        assert!(!m("a*?", "a"));
        assert!(m("a*?", "ab"));
        assert!(mb(b"?", b"\xff"));
    }

    #[test]
    fn classes() {
        assert!(m("h[ae]llo", "hello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(!m("h[a-b]llo", "hcllo"));
        assert!(m("[a-z0-9]", "5"));
        assert!(m("[^a-z]", "A"));
        assert!(!m("[^a-z]", "q"));
        assert!(!m("[^a]", "a"));
        assert!(mb(b"[^a]", b"\x00"));
        // "[!a]" is not negation in Redis: '!' is a member.
        assert!(m("[!a]", "!"));
        assert!(!m("[!a]", "b"));
        // ']' first is not literal: "[]]" is an empty class followed by ']'.
        assert!(!m("[]]", "]"));
        assert!(!m("[]a]", "a"));
        // '^' not first is a member.
        assert!(m("[a^]", "^"));
    }

    #[test]
    fn reversed_ranges() {
        assert!(m("[z-a]", "m"));
        assert!(m("[z-a]", "a"));
        assert!(m("[z-a]", "z"));
        assert!(!m("[z-a]", "A"));
        assert!(m("[9-0]", "5"));
    }

    #[test]
    fn range_edge_cases() {
        // "[a-]" is the range ']'..='a' and swallows the ']'.
        assert!(m("[a-]", "]"));
        assert!(m("[a-]", "_"));
        assert!(!m("[a-]", "b"));
        // "[-a]" has '-' as a member.
        assert!(m("[-a]", "-"));
        assert!(m("[-a]", "a"));
        // "[a-" is too short for a range: members 'a' and '-'.
        assert!(m("[a-", "-"));
        assert!(m("[a-", "a"));
        assert!(!m("[a-", "b"));
        // Signed-char comparison of range bounds (x86-64 C semantics).
        assert!(!mb(b"[a-\xff]", b"b"));
        assert!(mb(b"[a-\xff]", b"0"));
        assert!(!mb(b"[a-\xff]", b"\x80"));
        assert!(mb(b"[\x80-\xff]", b"\x90"));
        assert!(!mb(b"[\x80-\xff]", b"a"));
        assert!(mb(b"[\x00-\x7f]", b"a"));
        assert!(!mb(b"[\x00-\x7f]", b"\xa0"));
    }

    #[test]
    fn escapes() {
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("\\?", "?"));
        assert!(!m("\\?", "x"));
        assert!(m("\\[a]", "[a]"));
        assert!(m("a\\\\b", "a\\b"));
        assert!(m("\\a", "a"));
        // Trailing lone backslash matches a backslash.
        assert!(m("a\\", "a\\"));
        assert!(!m("a\\", "a"));
        // Escapes inside classes.
        assert!(m("[\\]]", "]"));
        assert!(m("[\\^a]", "^"));
        assert!(m("[\\-]", "-"));
        assert!(m("[a\\-z]", "-"));
        assert!(!m("[a\\-z]", "m"));
        // "[\" : the backslash is a plain member when nothing follows it.
        assert!(m("[\\", "\\"));
        assert!(!m("[\\", "x"));
        // "[\]" : escaped ']' then unterminated.
        assert!(m("[\\]", "]"));
        assert!(!m("[\\]", "\\"));
    }

    #[test]
    fn unterminated_classes() {
        assert!(!m("[", "["));
        assert!(!m("[", "a"));
        assert!(m("[a", "a"));
        assert!(!m("[a", "ab"));
        assert!(m("[ab", "b"));
        assert!(m("x[ab", "xa"));
        assert!(m("[^", "x"));
        assert!(m("[^", "^"));
        assert!(!m("[^", "xy"));
        assert!(m("[^a", "b"));
        assert!(!m("[^a", "a"));
    }

    #[test]
    fn nocase() {
        assert!(mi("HeLLo", "hello"));
        assert!(mi("hello", "HELLO"));
        assert!(mi("h?LLO*", "HeLlOworld"));
        assert!(mi("[A-C]", "b"));
        assert!(mi("[a-c]", "B"));
        assert!(mi("[ABC]", "b"));
        assert!(!mi("[^ABC]", "b"));
        // Range bounds are swapped before being lowered: [A-z] becomes a-z,
        // so '[' (between 'Z' and 'a') no longer matches...
        assert!(!mi("[A-z]", "["));
        assert!(m("[A-z]", "["));
        // ...and escaped class members stay case-sensitive.
        assert!(!mi("[\\A]", "a"));
        assert!(mi("[\\A]", "A"));
        assert!(mi("\\A", "a"));
        assert!(!mi("\u{e9}", "\u{c9}"));
    }

    #[test]
    fn hostile_patterns_are_fast() {
        use std::time::{Duration, Instant};
        let start = Instant::now();
        let s = vec![b'a'; 10_000];
        let mut p = Vec::new();
        for _ in 0..100 {
            p.extend_from_slice(b"a*");
        }
        p.push(b'b');
        assert!(!glob_match(&p, &s, false));
        let p2: Vec<u8> = b"*a".repeat(3000).into_iter().chain(*b"*b").collect();
        assert!(!glob_match(&p2, &s, false));
        let p3 = b"*?".repeat(5000);
        assert!(!glob_match(&p3, b"short", false));
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn nesting_limit() {
        // More than 1000 nested '*' fails even though it should match,
        // exactly as in Redis.
        let s = vec![b'a'; 2000];
        let ok: Vec<u8> = b"*a".repeat(1000);
        assert!(glob_match(&ok, &s, false));
        let too_deep: Vec<u8> = b"*a".repeat(1002);
        assert!(!glob_match(&too_deep, &s, false));
        // Consecutive stars collapse and do not count as nesting.
        let mut many = vec![b'*'; 5000];
        many.push(b'a');
        assert!(glob_match(&many, b"xxa", false));
    }

    #[test]
    fn never_panics_on_random_input() {
        // Small deterministic xorshift fuzz over an alphabet rich in
        // metacharacters.
        let alphabet = b"ab*?[]^-\\\x00\xff\x80Az";
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            let pl = (next() % 12) as usize;
            let sl = (next() % 8) as usize;
            let p: Vec<u8> = (0..pl)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let s: Vec<u8> = (0..sl)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let _ = glob_match(&p, &s, false);
            let _ = glob_match(&p, &s, true);
        }
    }
}
