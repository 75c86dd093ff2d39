//! Incremental RESP request parser: RESP2 multibulk requests and inline commands.
//!
//! Mirrors Redis 7.0 `processMultibulkBuffer` / `processInlineBuffer` (networking.c),
//! `string2ll` (util.c) and `sdssplitargs` (sds.c), including their quirks:
//!
//! * `*` and `$` header lines end at the first `'\r'`, and the byte after it is skipped
//!   unchecked; a bulk payload is followed by two bytes that are skipped unchecked too.
//! * Redis finds line ends with `strchr` on a NUL-terminated buffer, so a NUL byte before the
//!   terminator means "no line end yet": the request waits until it outgrows
//!   `max_inline_len` and then fails with the matching "too big" error.
//! * Integers follow `string2ll`: optional `-`, no `+`, no leading zeros (except `0`), no
//!   spaces, no overflow.
//! * Inline empty arguments (`""`, `''`) are kept as empty arguments, as Redis 7 does.
//!
//! The parser is stateless: a partial command at the end of the buffer is re-parsed from its
//! start on the next call (only its headers are re-read; bulk payloads are skipped by length).
//! Nothing is ever reserved from a declared length: only what is in the buffer is looked at.

use std::ops::Range;

/// Where one argument's bytes are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    /// A byte range of the parsed input buffer (zero-copy; multibulk and plain inline words).
    Buf(Range<usize>),
    /// A byte range of `ParsedCommands::scratch` (inline words that needed unquoting).
    Scratch(Range<usize>),
}

/// Limits a client cannot raise: they keep a garbage length from reserving memory.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// proto-max-bulk-len (Redis default 512 MB).
    pub max_bulk_len: u64,
    /// Largest multibulk count Redis accepts (INT_MAX).
    pub max_multibulk_len: u64,
    /// PROTO_INLINE_MAX_SIZE (64 KiB): an inline line or a `*`/`$` header without its newline.
    pub max_inline_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            // Redis 7.0 accepts any count up to INT_MAX (arguments arrive one by one).
            max_multibulk_len: i32::MAX as u64,
            max_inline_len: 64 * 1024,
        }
    }
}

/// A protocol error; the text is the whole error line Redis sends, without the leading '-'
/// and trailing CRLF, e.g. `ERR Protocol error: invalid multibulk length`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolError(pub String);

/// Output of [`parse`], reused between reads so parsing allocates nothing per command.
#[derive(Default, Debug)]
pub struct ParsedCommands {
    pub args: Vec<Arg>,
    /// One entry per complete command: the range of `args` holding its arguments.
    pub commands: Vec<Range<usize>>,
    pub scratch: Vec<u8>,
}

impl ParsedCommands {
    pub fn clear(&mut self) {
        self.args.clear();
        self.commands.clear();
        self.scratch.clear();
    }
}

/// Parses every complete command at the start of `buf`, appending to `out`.
/// Returns the number of bytes consumed (complete commands only; a partial command at the end is
/// left for the next call) and the protocol error that stopped parsing, if any. Commands parsed
/// before the error are still in `out` and must be executed before the error is sent.
pub fn parse(
    buf: &[u8],
    limits: &Limits,
    out: &mut ParsedCommands,
) -> (usize, Option<ProtocolError>) {
    let mut pos = 0usize;
    while pos < buf.len() {
        let step = if buf[pos] == b'*' {
            multibulk(buf, pos, limits, out)
        } else {
            inline(buf, pos, limits, out)
        };
        match step {
            Ok(Some(next)) => pos = next,
            Ok(None) => break,
            Err(fault) => return (pos, Some(fault.into_error())),
        }
    }
    (pos, None)
}

/// The protocol errors, kept as a small value until one is actually reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    TooBigMbulkCount,
    InvalidMultibulkLen,
    TooBigBulkCount,
    InvalidBulkLen,
    ExpectedDollar(u8),
    TooBigInline,
    UnbalancedQuotes,
}

impl Fault {
    #[cold]
    fn into_error(self) -> ProtocolError {
        let text = match self {
            Fault::TooBigMbulkCount => "ERR Protocol error: too big mbulk count string",
            Fault::InvalidMultibulkLen => "ERR Protocol error: invalid multibulk length",
            Fault::TooBigBulkCount => "ERR Protocol error: too big bulk count string",
            Fault::InvalidBulkLen => "ERR Protocol error: invalid bulk length",
            Fault::TooBigInline => "ERR Protocol error: too big inline request",
            Fault::UnbalancedQuotes => "ERR Protocol error: unbalanced quotes in request",
            Fault::ExpectedDollar(b) => {
                // Redis formats the raw byte with %c, then addReplyErrorFormat maps '\r' and
                // '\n' to ' '. A String cannot hold a lone byte >= 0x80, so such a byte becomes
                // the char with the same code point (U+0080..U+00FF).
                let shown = match b {
                    b'\r' | b'\n' => ' ',
                    _ => char::from(b),
                };
                return ProtocolError(format!("ERR Protocol error: expected '$', got '{shown}'"));
            }
        };
        ProtocolError(text.to_owned())
    }
}

/// One multibulk request starting at `start` (where `buf[start] == b'*'`).
/// `Ok(Some(end))`: a command was pushed (or an empty one skipped) and ends at `end`;
/// `Ok(None)`: incomplete. `out` is left unchanged unless a command is complete.
#[inline]
fn multibulk(
    buf: &[u8],
    start: usize,
    limits: &Limits,
    out: &mut ParsedCommands,
) -> Result<Option<usize>, Fault> {
    let len = buf.len();
    let Some(cr) = find_line_end(buf, start + 1, b'\r') else {
        return if len - start > limits.max_inline_len {
            Err(Fault::TooBigMbulkCount)
        } else {
            Ok(None)
        };
    };
    // The byte after '\r' must be there too (it is skipped without being checked).
    if cr + 1 >= len {
        return Ok(None);
    }
    let count = match string2ll(&buf[start + 1..cr]) {
        Some(n) if n <= 0 || n as u64 <= limits.max_multibulk_len => n,
        _ => return Err(Fault::InvalidMultibulkLen),
    };
    let pos = cr + 2;
    if count <= 0 {
        return Ok(Some(pos));
    }
    let mark = out.args.len();
    let result = bulks(buf, pos, count as u64, limits, out);
    match result {
        Ok(Some(_)) => out.commands.push(mark..out.args.len()),
        _ => out.args.truncate(mark),
    }
    result
}

/// The `count` bulk strings of a multibulk request, from `pos`; pushes them onto `out.args`.
#[inline]
fn bulks(
    buf: &[u8],
    mut pos: usize,
    count: u64,
    limits: &Limits,
    out: &mut ParsedCommands,
) -> Result<Option<usize>, Fault> {
    let len = buf.len();
    for _ in 0..count {
        let Some(cr) = find_line_end(buf, pos, b'\r') else {
            return if len - pos > limits.max_inline_len {
                Err(Fault::TooBigBulkCount)
            } else {
                Ok(None)
            };
        };
        if cr + 1 >= len {
            return Ok(None);
        }
        // pos <= cr < len.
        let first = buf[pos];
        if first != b'$' {
            return Err(Fault::ExpectedDollar(first));
        }
        // buf[pos] is '$', not '\r', so cr > pos.
        let bulk_len = match string2ll(&buf[pos + 1..cr]) {
            Some(n) if n >= 0 && n as u64 <= limits.max_bulk_len => n as u64,
            _ => return Err(Fault::InvalidBulkLen),
        };
        pos = cr + 2; // <= len
                      // bulk_len <= i64::MAX, so + 2 cannot overflow u64.
        if ((len - pos) as u64) < bulk_len + 2 {
            return Ok(None);
        }
        let end = pos + bulk_len as usize; // fits: end + 2 <= len
        out.args.push(Arg::Buf(pos..end));
        pos = end + 2;
    }
    Ok(Some(pos))
}

/// One inline request starting at `start`. Same contract as [`multibulk`].
#[inline]
fn inline(
    buf: &[u8],
    start: usize,
    limits: &Limits,
    out: &mut ParsedCommands,
) -> Result<Option<usize>, Fault> {
    let Some(nl) = find_line_end(buf, start, b'\n') else {
        return if buf.len() - start > limits.max_inline_len {
            Err(Fault::TooBigInline)
        } else {
            Ok(None)
        };
    };
    let end = if nl > start && buf[nl - 1] == b'\r' {
        nl - 1
    } else {
        nl
    };
    let args_mark = out.args.len();
    let scratch_mark = out.scratch.len();
    if !split_args(buf, start, end, out) {
        out.args.truncate(args_mark);
        out.scratch.truncate(scratch_mark);
        return Err(Fault::UnbalancedQuotes);
    }
    if out.args.len() > args_mark {
        out.commands.push(args_mark..out.args.len());
    }
    Ok(Some(nl + 1))
}

/// `isspace` in the C locale.
#[inline]
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

#[inline]
fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The bytes of one inline word being built: a contiguous range of the line while possible
/// (zero copy), spilled into `scratch` once a quote or escape breaks contiguity.
struct Word {
    lit: Range<usize>,
    spilled_at: Option<usize>,
}

impl Word {
    #[inline]
    fn new() -> Self {
        Word {
            lit: 0..0,
            spilled_at: None,
        }
    }

    #[inline]
    fn spill(&mut self, line: &[u8], scratch: &mut Vec<u8>) {
        if self.spilled_at.is_none() {
            self.spilled_at = Some(scratch.len());
            scratch.extend_from_slice(&line[self.lit.clone()]);
        }
    }

    /// Appends `line[i]` as is.
    #[inline]
    fn literal(&mut self, line: &[u8], i: usize, scratch: &mut Vec<u8>) {
        if self.spilled_at.is_none() {
            if self.lit.is_empty() {
                self.lit = i..i + 1;
                return;
            }
            if self.lit.end == i {
                self.lit.end += 1;
                return;
            }
            self.spill(line, scratch);
        }
        scratch.push(line[i]);
    }

    /// Appends a byte that is not in the line as is (an unescaped one).
    #[inline]
    fn synthetic(&mut self, line: &[u8], b: u8, scratch: &mut Vec<u8>) {
        self.spill(line, scratch);
        scratch.push(b);
    }

    /// Pushes the word; an empty one (`""`) is an empty argument, as in Redis 7.
    #[inline]
    fn finish(self, line_start: usize, out: &mut ParsedCommands) {
        match self.spilled_at {
            Some(s) => out.args.push(Arg::Scratch(s..out.scratch.len())),
            None if self.lit.is_empty() => {
                let at = out.scratch.len();
                out.args.push(Arg::Scratch(at..at));
            }
            None => out.args.push(Arg::Buf(
                line_start + self.lit.start..line_start + self.lit.end,
            )),
        }
    }
}

/// Splits `buf[start..end]` into words like Redis's `sdssplitargs`, pushing them onto
/// `out.args`. Returns false on unbalanced quotes (the caller rolls `out` back).
/// The line holds no NUL byte (the line end search stops at one), so its end plays the part
/// of the C string's terminator.
fn split_args(buf: &[u8], start: usize, end: usize, out: &mut ParsedCommands) -> bool {
    let line = &buf[start..end];
    let n = line.len();
    let mut i = 0usize;
    loop {
        while i < n && is_c_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return true;
        }
        // Fast path: a plain word (no quotes) up to a separator or the end.
        let word_start = i;
        while i < n && !matches!(line[i], b' ' | b'\n' | b'\r' | b'\t' | b'"' | b'\'') {
            i += 1;
        }
        if i >= n || (line[i] != b'"' && line[i] != b'\'') {
            out.args.push(Arg::Buf(start + word_start..start + i));
            if i < n {
                i += 1; // the separator
            }
            continue;
        }
        // General path: the word has quotes; the plain bytes so far are its start.
        let mut word = Word::new();
        word.lit = word_start..i;
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if i >= n {
                if in_dq || in_sq {
                    return false; // unterminated quotes
                }
                break;
            }
            let c = line[i];
            let next = line.get(i + 1).copied();
            if in_dq {
                if c == b'\\' && next == Some(b'x') {
                    let hex = match (
                        line.get(i + 2).copied().and_then(hex_val),
                        line.get(i + 3).copied().and_then(hex_val),
                    ) {
                        (Some(h), Some(l)) => Some(h * 16 + l),
                        _ => None,
                    };
                    if let Some(b) = hex {
                        word.synthetic(line, b, &mut out.scratch);
                        i += 4;
                        continue;
                    }
                }
                if c == b'\\' && next.is_some() {
                    i += 1;
                    let e = match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    };
                    word.synthetic(line, e, &mut out.scratch);
                } else if c == b'"' {
                    // A closing quote must be followed by a space or nothing at all.
                    if matches!(next, Some(nx) if !is_c_space(nx)) {
                        return false;
                    }
                    i += 1;
                    break;
                } else {
                    word.literal(line, i, &mut out.scratch);
                }
            } else if in_sq {
                if c == b'\\' && next == Some(b'\'') {
                    i += 1;
                    word.literal(line, i, &mut out.scratch);
                } else if c == b'\'' {
                    if matches!(next, Some(nx) if !is_c_space(nx)) {
                        return false;
                    }
                    i += 1;
                    break;
                } else {
                    word.literal(line, i, &mut out.scratch);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' => {
                        i += 1;
                        break;
                    }
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    _ => word.literal(line, i, &mut out.scratch),
                }
            }
            i += 1;
        }
        word.finish(start, out);
    }
}

/// Index (into `buf`) of the first `needle` at or after `from`, as C's `strchr` finds it in a
/// NUL-terminated buffer: `None` if there is none, or if a NUL byte comes first.
#[inline]
fn find_line_end(buf: &[u8], from: usize, needle: u8) -> Option<usize> {
    let hay = buf.get(from..)?;
    let i = find_byte_or_nul(hay, needle)?;
    if hay[i] == needle {
        Some(from + i)
    } else {
        None
    }
}

/// Index of the first byte of `hay` that is `needle` or 0, eight bytes at a time.
#[inline]
fn find_byte_or_nul(hay: &[u8], needle: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let splat = LO.wrapping_mul(needle as u64);
    let mut chunks = hay.chunks_exact(8);
    let mut base = 0usize;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let y = x ^ splat;
        // Flags zero bytes of x or y; the lowest flag is exact (borrows only run upwards
        // from a true zero byte).
        let hits = (x.wrapping_sub(LO) & !x & HI) | (y.wrapping_sub(LO) & !y & HI);
        if hits != 0 {
            return Some(base + (hits.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == needle || b == 0)
        .map(|i| base + i)
}

/// Redis's `string2ll` (strict decimal: no '+', spaces, leading zeros, "-0" or overflow).
use crate::util::num::parse_i64 as string2ll;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Cmds = Vec<Vec<Vec<u8>>>;

    fn resolve(buf: &[u8], out: &ParsedCommands) -> Cmds {
        out.commands
            .iter()
            .map(|r| {
                out.args[r.clone()]
                    .iter()
                    .map(|a| match a {
                        Arg::Buf(r) => buf[r.clone()].to_vec(),
                        Arg::Scratch(r) => out.scratch[r.clone()].to_vec(),
                    })
                    .collect()
            })
            .collect()
    }

    fn run_with(input: &[u8], limits: &Limits) -> (usize, Cmds, Option<String>) {
        let mut out = ParsedCommands::default();
        let (n, err) = parse(input, limits, &mut out);
        (n, resolve(input, &out), err.map(|e| e.0))
    }

    fn run(input: &[u8]) -> (usize, Cmds, Option<String>) {
        run_with(input, &Limits::default())
    }

    fn cmd(args: &[&[u8]]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.to_vec()).collect()
    }

    fn multibulk(args: &[Vec<u8>]) -> Vec<u8> {
        let mut v = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            v.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            v.extend_from_slice(a);
            v.extend_from_slice(b"\r\n");
        }
        v
    }

    fn err(text: &str) -> Option<String> {
        Some(format!("ERR Protocol error: {text}"))
    }

    fn small() -> Limits {
        Limits {
            max_bulk_len: 100,
            max_multibulk_len: 10,
            max_inline_len: 16,
        }
    }

    // ---- multibulk ----

    #[test]
    fn single_multibulk() {
        let input = b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n";
        assert_eq!(
            run(input),
            (input.len(), vec![cmd(&[b"GET", b"key"])], None)
        );
        let mut out = ParsedCommands::default();
        parse(input, &Limits::default(), &mut out);
        assert_eq!(out.args, vec![Arg::Buf(8..11), Arg::Buf(17..20)]);
        assert_eq!(out.commands, vec![0..2]);
        assert!(out.scratch.is_empty());
    }

    #[test]
    fn pipelined_multibulk() {
        let mut input = Vec::new();
        input.extend(multibulk(&[b"SET".to_vec(), b"a".to_vec(), b"1".to_vec()]));
        input.extend(multibulk(&[b"GET".to_vec(), b"a".to_vec()]));
        input.extend(multibulk(&[b"PING".to_vec()]));
        let (n, cmds, e) = run(&input);
        assert_eq!(n, input.len());
        assert_eq!(
            cmds,
            vec![
                cmd(&[b"SET", b"a", b"1"]),
                cmd(&[b"GET", b"a"]),
                cmd(&[b"PING"])
            ]
        );
        assert_eq!(e, None);
    }

    #[test]
    fn appends_to_existing_output() {
        let input = b"*1\r\n$4\r\nPING\r\n";
        let mut out = ParsedCommands::default();
        parse(input, &Limits::default(), &mut out);
        parse(input, &Limits::default(), &mut out);
        assert_eq!(out.commands, vec![0..1, 1..2]);
        assert_eq!(out.args, vec![Arg::Buf(8..12), Arg::Buf(8..12)]);
        out.clear();
        assert!(out.args.is_empty() && out.commands.is_empty() && out.scratch.is_empty());
    }

    #[test]
    fn every_prefix_is_partial_not_error() {
        let a = multibulk(&[b"SET".to_vec(), b"k".to_vec(), b"v\r\nv".to_vec()]);
        let b = multibulk(&[b"ECHO".to_vec(), b"".to_vec()]);
        let input = [a.clone(), b.clone()].concat();
        for cut in 0..=input.len() {
            let (n, cmds, e) = run(&input[..cut]);
            assert_eq!(e, None, "cut {cut}");
            if cut < a.len() {
                assert_eq!((n, cmds.len()), (0, 0), "cut {cut}");
            } else if cut < input.len() {
                assert_eq!((n, cmds.len()), (a.len(), 1), "cut {cut}");
            } else {
                assert_eq!((n, cmds.len()), (input.len(), 2), "cut {cut}");
            }
        }
    }

    #[test]
    fn partial_leaves_output_untouched() {
        let mut out = ParsedCommands::default();
        let input = b"*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nval";
        let (n, e) = parse(input, &Limits::default(), &mut out);
        assert_eq!((n, e), (14, None));
        assert_eq!(out.args, vec![Arg::Buf(8..12)]);
        assert_eq!(out.commands, vec![0..1]);
    }

    #[test]
    fn empty_multibulk_is_skipped() {
        assert_eq!(run(b"*0\r\n"), (4, vec![], None));
        assert_eq!(run(b"*-1\r\n"), (5, vec![], None));
        assert_eq!(run(b"*-9223372036854775808\r\n"), (23, vec![], None));
        let input = b"*0\r\n*1\r\n$4\r\nPING\r\n*-5\r\n";
        assert_eq!(run(input), (input.len(), vec![cmd(&[b"PING"])], None));
    }

    #[test]
    fn binary_safe_bulks() {
        let arg = b"a\r\nb\0c\r\n*1\r\n$3\r\n\xff".to_vec();
        let input = multibulk(&[b"SET".to_vec(), b"k".to_vec(), arg.clone()]);
        let (n, cmds, e) = run(&input);
        assert_eq!((n, e), (input.len(), None));
        assert_eq!(cmds, vec![vec![b"SET".to_vec(), b"k".to_vec(), arg]]);
        assert_eq!(run(b"*1\r\n$0\r\n\r\n"), (10, vec![cmd(&[b""])], None));
    }

    #[test]
    fn cr_ends_headers_and_trailing_bytes_are_not_checked() {
        // Redis skips the byte after '\r' in headers and the two bytes after a payload.
        assert_eq!(run(b"*1\rX$4\rYPINGzz"), (14, vec![cmd(&[b"PING"])], None));
        // A header '\r' at the very end waits for one more byte.
        assert_eq!(run(b"*1\r"), (0, vec![], None));
        assert_eq!(run(b"*1\r\n$4\r"), (0, vec![], None));
        // Payload without its two trailing bytes waits.
        assert_eq!(run(b"*1\r\n$4\r\nPING\r"), (0, vec![], None));
    }

    #[test]
    fn nul_before_header_cr_waits_like_strchr() {
        assert_eq!(run(b"*1\0\r\n$4\r\nPING\r\n"), (0, vec![], None));
        assert_eq!(run(b"*1\r\n$4\0\r\nPING\r\n"), (0, vec![], None));
        let (n, cmds, e) = run_with(b"*1\0\r\n$4\r\nPING\r\n....", &small());
        assert_eq!((n, cmds, e), (0, vec![], err("too big mbulk count string")));
    }

    #[test]
    fn invalid_multibulk_length() {
        for bad in [
            &b"*abc\r\n"[..],
            b"*+5\r\n",
            b"*05\r\n",
            b"* 5\r\n",
            b"*5 \r\n",
            b"*\r\n",
            b"*-\r\n",
            b"*-0\r\n",
            b"*2147483648\r\n",
            b"*9223372036854775808\r\n",
            b"*99999999999999999999\r\n",
        ] {
            assert_eq!(
                run(bad),
                (0, vec![], err("invalid multibulk length")),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(run(b"*1048577\r\n"), (0, vec![], None));
        assert_eq!(run(b"*2147483647\r\n"), (0, vec![], None));
        let (_, _, e) = run_with(b"*11\r\n", &small());
        assert_eq!(e, err("invalid multibulk length"));
        assert_eq!(run_with(b"*10\r\n", &small()).2, None);
    }

    #[test]
    fn expected_dollar() {
        assert_eq!(
            run(b"*1\r\n+foo\r\n"),
            (0, vec![], err("expected '$', got '+'"))
        );
        assert_eq!(
            run(b"*2\r\n$1\r\na\r\n:1\r\n"),
            (0, vec![], err("expected '$', got ':'"))
        );
        // '\r' and '\n' are replaced by a space in Redis's formatted errors.
        assert_eq!(
            run(b"*1\r\n\r\n"),
            (0, vec![], err("expected '$', got ' '"))
        );
        assert_eq!(
            run(b"*1\r\n\n\r\n"),
            (0, vec![], err("expected '$', got ' '"))
        );
        assert_eq!(
            run(b"*1\r\n\xe9x\r\n"),
            (0, vec![], err("expected '$', got '\u{e9}'"))
        );
        // Not judged before the header line is complete.
        assert_eq!(run(b"*1\r\n+foo"), (0, vec![], None));
    }

    #[test]
    fn invalid_bulk_length() {
        for bad in [
            &b"*1\r\n$-1\r\n"[..],
            b"*1\r\n$abc\r\n",
            b"*1\r\n$+3\r\n",
            b"*1\r\n$03\r\n",
            b"*1\r\n$ 3\r\n",
            b"*1\r\n$\r\n",
            b"*1\r\n$536870913\r\n",
            b"*1\r\n$18446744073709551615\r\n",
        ] {
            assert_eq!(
                run(bad),
                (0, vec![], err("invalid bulk length")),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        // The largest allowed length just waits for its payload: nothing is reserved.
        assert_eq!(run(b"*1\r\n$536870912\r\nabc"), (0, vec![], None));
        assert_eq!(
            run_with(b"*1\r\n$101\r\n", &small()).2,
            err("invalid bulk length")
        );
    }

    #[test]
    fn too_big_count_strings() {
        let limits = Limits::default();
        let mut input = b"*".to_vec();
        input.resize(limits.max_inline_len, b'1');
        assert_eq!(run(&input), (0, vec![], None));
        input.push(b'1');
        assert_eq!(run(&input), (0, vec![], err("too big mbulk count string")));

        let mut input = b"*1\r\n$".to_vec();
        let header = input.len() - 1;
        input.resize(header + limits.max_inline_len, b'1');
        assert_eq!(run(&input), (0, vec![], None));
        input.push(b'1');
        assert_eq!(run(&input), (0, vec![], err("too big bulk count string")));

        // The cap applies before the '$' is checked.
        let mut input = b"*1\r\n".to_vec();
        input.resize(4 + limits.max_inline_len + 1, b'X');
        assert_eq!(run(&input), (0, vec![], err("too big bulk count string")));

        // A long header line is judged on its value once its '\r' is there.
        let mut input = b"*".to_vec();
        input.resize(70_000, b'1');
        input.extend_from_slice(b"\r\n");
        assert_eq!(run(&input), (0, vec![], err("invalid multibulk length")));
    }

    #[test]
    fn commands_before_error_are_kept() {
        let input = b"*1\r\n$4\r\nPING\r\nGET a\r\n*x\r\n*1\r\n$4\r\nPING\r\n";
        let (n, cmds, e) = run(input);
        assert_eq!(n, 21);
        assert_eq!(cmds, vec![cmd(&[b"PING"]), cmd(&[b"GET", b"a"])]);
        assert_eq!(e, err("invalid multibulk length"));
    }

    // ---- inline ----

    #[test]
    fn inline_basic() {
        assert_eq!(run(b"PING\r\n"), (6, vec![cmd(&[b"PING"])], None));
        assert_eq!(run(b"PING\n"), (5, vec![cmd(&[b"PING"])], None));
        assert_eq!(
            run(b"  set\t a   b \r\n"),
            (15, vec![cmd(&[b"set", b"a", b"b"])], None)
        );
        assert_eq!(run(b"a\r\r\n"), (4, vec![cmd(&[b"a"])], None));
        assert_eq!(run(b"PING"), (0, vec![], None));
        assert_eq!(run(b"PING\r"), (0, vec![], None));
        let mut out = ParsedCommands::default();
        parse(b"SET k v\r\n", &Limits::default(), &mut out);
        assert_eq!(
            out.args,
            vec![Arg::Buf(0..3), Arg::Buf(4..5), Arg::Buf(6..7)]
        );
        assert!(out.scratch.is_empty());
    }

    #[test]
    fn inline_empty_lines_are_skipped() {
        assert_eq!(run(b"\r\n"), (2, vec![], None));
        assert_eq!(run(b"\n\n"), (2, vec![], None));
        assert_eq!(run(b" \t\x0b\x0c \r\n"), (7, vec![], None));
        assert_eq!(run(b"\r\nPING\r\n\n"), (9, vec![cmd(&[b"PING"])], None));
        // Empty quoted arguments are kept, as Redis 7 does.
        assert_eq!(run(b"\"\" ''\r\n"), (7, vec![cmd(&[b"", b""])], None));
        assert_eq!(run(b"ECHO \"\"\r\n"), (9, vec![cmd(&[b"ECHO", b""])], None));
    }

    #[test]
    fn inline_quoting() {
        assert_eq!(
            run(b"SET \"a b\" 'c d'\r\n").1,
            vec![cmd(&[b"SET", b"a b", b"c d"])]
        );
        assert_eq!(
            run(b"ECHO \"\\x41\\x4a\\n\\r\\t\\b\\a\\\\\\\"\\z'\"\r\n").1,
            vec![cmd(&[b"ECHO", b"AJ\n\r\t\x08\x07\\\"z'"])]
        );
        // \x without two hex digits is an ordinary escape of 'x'.
        assert_eq!(run(b"ECHO \"\\x4g\"\n").1, vec![cmd(&[b"ECHO", b"x4g"])]);
        assert_eq!(run(b"ECHO \"\\x\"\n").1, vec![cmd(&[b"ECHO", b"x"])]);
        // Single quotes: only \' is an escape.
        assert_eq!(
            run(b"ECHO 'it\\'s \\n \"x\"'\n").1,
            vec![cmd(&[b"ECHO", b"it's \\n \"x\""])]
        );
        // Quotes may start mid-word.
        assert_eq!(
            run(b"ECHO foo\"bar baz\"\n").1,
            vec![cmd(&[b"ECHO", b"foobar baz"])]
        );
        // A closing quote followed by any C whitespace is fine; \v is not a word separator.
        assert_eq!(
            run(b"ECHO \"a\"\x0bb\n").1,
            vec![cmd(&[b"ECHO", b"a", b"b"])]
        );
        assert_eq!(run(b"ECHO a\x0bb\n").1, vec![cmd(&[b"ECHO", b"a\x0bb"])]);
        // Bytes >= 0x80 are ordinary.
        assert_eq!(
            run(b"ECHO \xff\"\xfe\"\n").1,
            vec![cmd(&[b"ECHO", b"\xff\xfe"])]
        );
    }

    #[test]
    fn inline_zero_copy_where_possible() {
        let mut out = ParsedCommands::default();
        let input = b"A \"foo\" b\"c\" \"x\\ty\"\n";
        let (n, e) = parse(input, &Limits::default(), &mut out);
        assert_eq!((n, e), (input.len(), None));
        assert_eq!(
            out.args,
            vec![
                Arg::Buf(0..1),
                Arg::Buf(3..6),
                Arg::Scratch(0..2),
                Arg::Scratch(2..5)
            ]
        );
        assert_eq!(out.scratch, b"bcx\ty");
        assert_eq!(
            resolve(input, &out),
            vec![cmd(&[b"A", b"foo", b"bc", b"x\ty"])]
        );
    }

    #[test]
    fn unbalanced_quotes() {
        for bad in [
            &b"SET \"a\r\n"[..],
            b"SET \"a\"b\r\n",
            b"SET 'a'b\r\n",
            b"SET 'a\n",
            b"SET \"a\\\"\n",
            b"SET \"\n",
            b"SET a\"b\n",
        ] {
            assert_eq!(
                run(bad),
                (0, vec![], err("unbalanced quotes in request")),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        // Output is rolled back to the last complete command.
        let mut out = ParsedCommands::default();
        let input = b"ECHO \"\\n\"\nSET \"\\t\" 'x\n";
        let (n, e) = parse(input, &Limits::default(), &mut out);
        assert_eq!(
            (n, e),
            (
                10,
                Some(ProtocolError(
                    "ERR Protocol error: unbalanced quotes in request".into()
                ))
            )
        );
        assert_eq!(out.args.len(), 2);
        assert_eq!(out.scratch, b"\n");
    }

    #[test]
    fn too_big_inline() {
        let limits = Limits::default();
        let mut input = vec![b'a'; limits.max_inline_len];
        assert_eq!(run(&input), (0, vec![], None));
        input.push(b'a');
        assert_eq!(run(&input), (0, vec![], err("too big inline request")));
        // The size counts from the start of the pending request, after complete commands.
        let mut input = b"PING\r\n".to_vec();
        input.extend(vec![b'a'; limits.max_inline_len + 1]);
        assert_eq!(
            run(&input),
            (6, vec![cmd(&[b"PING"])], err("too big inline request"))
        );
        // A NUL before the newline means the line never ends (strchr).
        assert_eq!(run(b"PI\0NG\r\n"), (0, vec![], None));
        assert_eq!(
            run_with(b"PI\0NG\r\nxxxxxxxxxxxxxxxx", &small()).2,
            err("too big inline request")
        );
        // A long line that does end is fine.
        let mut input = vec![b'a'; 100_000];
        input.push(b'\n');
        assert_eq!(run(&input).0, 100_001);
    }

    #[test]
    fn mixed_inline_and_multibulk() {
        let input = b"PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nECHO 'x y'\n";
        assert_eq!(
            run(input),
            (
                input.len(),
                vec![
                    cmd(&[b"PING"]),
                    cmd(&[b"ECHO", b"hi"]),
                    cmd(&[b"ECHO", b"x y"])
                ],
                None
            )
        );
    }

    #[test]
    fn string2ll_matches_redis() {
        assert_eq!(string2ll(b"0"), Some(0));
        assert_eq!(string2ll(b"-1"), Some(-1));
        assert_eq!(string2ll(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(string2ll(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"00",
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"1a",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"000000000000000000001",
        ] {
            assert_eq!(string2ll(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn find_byte_or_nul_is_exact() {
        let mut hay = vec![b'a'; 40];
        assert_eq!(find_byte_or_nul(&hay, b'\r'), None);
        for i in 0..40 {
            for b in [b'\r', 0u8] {
                let mut h = hay.clone();
                h[i] = b;
                if i + 1 < 40 {
                    h[i + 1] = 0;
                }
                assert_eq!(find_byte_or_nul(&h, b'\r'), Some(i));
            }
        }
        hay[3] = 0x80;
        hay[4] = 0x01;
        hay[10] = b'\r';
        assert_eq!(find_byte_or_nul(&hay, b'\r'), Some(10));
    }

    // ---- property tests ----

    #[derive(Clone, Debug)]
    enum Req {
        Bulk(Vec<Vec<u8>>),
        Empty(i64),
        Inline(Vec<String>, bool),
    }

    fn req() -> impl Strategy<Value = Req> {
        let bin_arg = prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..24),
            proptest::collection::vec(
                prop_oneof![Just(b'\r'), Just(b'\n'), Just(b'$'), Just(b'*'), Just(0u8)],
                0..6
            ),
        ];
        prop_oneof![
            6 => proptest::collection::vec(bin_arg, 1..6).prop_map(Req::Bulk),
            1 => prop_oneof![Just(0i64), Just(-1i64), -5i64..0].prop_map(Req::Empty),
            2 => (proptest::collection::vec("[a-zA-Z0-9_:.-]{1,10}", 1..5), any::<bool>())
                .prop_map(|(w, crlf)| Req::Inline(w, crlf)),
        ]
    }

    fn encode(reqs: &[Req]) -> (Vec<u8>, Cmds) {
        let mut bytes = Vec::new();
        let mut cmds = Vec::new();
        for r in reqs {
            match r {
                Req::Bulk(args) => {
                    bytes.extend(multibulk(args));
                    cmds.push(args.clone());
                }
                Req::Empty(n) => bytes.extend(format!("*{n}\r\n").into_bytes()),
                Req::Inline(words, crlf) => {
                    bytes.extend(words.join(" ").into_bytes());
                    bytes.extend_from_slice(if *crlf { b"\r\n" } else { b"\n" });
                    cmds.push(words.iter().map(|w| w.as_bytes().to_vec()).collect());
                }
            }
        }
        (bytes, cmds)
    }

    /// Feeds `input` in chunks ending at `cuts`, as a connection would: unconsumed bytes are
    /// kept and the next chunk appended. Returns the commands and the first error.
    fn feed(input: &[u8], cuts: &[usize], limits: &Limits) -> (Cmds, Option<ProtocolError>, usize) {
        let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(input.len())).collect();
        cuts.push(input.len());
        cuts.sort_unstable();
        let mut pending: Vec<u8> = Vec::new();
        let mut cmds = Vec::new();
        let mut out = ParsedCommands::default();
        let mut prev = 0;
        for cut in cuts {
            pending.extend_from_slice(&input[prev..cut]);
            prev = cut;
            out.clear();
            let (n, e) = parse(&pending, limits, &mut out);
            assert!(n <= pending.len());
            cmds.extend(resolve(&pending, &out));
            if e.is_some() {
                return (cmds, e, pending.len() - n);
            }
            pending.drain(..n);
        }
        (cmds, None, pending.len())
    }

    // ---- a literal model of Redis's stateful reader, as an oracle ----

    /// Models networking.c's processInputBuffer / processMultibulkBuffer / processInlineBuffer
    /// state machine over a query buffer that keeps growing, with C-string semantics
    /// (`strchr` stops at NUL), written independently of the parser above.
    struct RedisModel {
        qb: Vec<u8>,
        qb_pos: usize,
        reqtype: u8, // 0 none, 1 inline, 2 multibulk
        multibulklen: i64,
        bulklen: i64,
        argv: Vec<Vec<u8>>,
        limits: Limits,
        closed: bool,
    }

    enum St {
        Ok,
        Err,
    }

    impl RedisModel {
        fn new(limits: Limits) -> Self {
            RedisModel {
                qb: Vec::new(),
                qb_pos: 0,
                reqtype: 0,
                multibulklen: 0,
                bulklen: -1,
                argv: Vec::new(),
                limits,
                closed: false,
            }
        }

        fn strchr(&self, from: usize, c: u8) -> Option<usize> {
            let mut i = from;
            loop {
                let b = if i < self.qb.len() { self.qb[i] } else { 0 };
                if b == c {
                    return Some(i);
                }
                if b == 0 {
                    return None;
                }
                i += 1;
            }
        }

        fn feed(&mut self, chunk: &[u8], cmds: &mut Cmds) -> Option<String> {
            assert!(!self.closed);
            self.qb.extend_from_slice(chunk);
            while self.qb_pos < self.qb.len() {
                if self.reqtype == 0 {
                    self.reqtype = if self.qb[self.qb_pos] == b'*' { 2 } else { 1 };
                }
                let r = if self.reqtype == 1 {
                    self.inline()
                } else {
                    self.multibulk()
                };
                match r {
                    Ok(St::Ok) => {}
                    Ok(St::Err) => break,
                    Err(e) => {
                        self.closed = true;
                        return Some(format!("ERR Protocol error: {e}"));
                    }
                }
                if !self.argv.is_empty() {
                    cmds.push(std::mem::take(&mut self.argv));
                }
                self.reqtype = 0;
                self.multibulklen = 0;
                self.bulklen = -1;
                self.argv.clear();
            }
            self.qb.drain(..self.qb_pos);
            self.qb_pos = 0;
            None
        }

        fn inline(&mut self) -> Result<St, String> {
            let Some(mut newline) = self.strchr(self.qb_pos, b'\n') else {
                if self.qb.len() - self.qb_pos > self.limits.max_inline_len {
                    return Err("too big inline request".into());
                }
                return Ok(St::Err);
            };
            let mut lf = 1;
            if newline != self.qb_pos && self.qb[newline - 1] == b'\r' {
                newline -= 1;
                lf += 1;
            }
            let line = self.qb[self.qb_pos..newline].to_vec();
            let Some(args) = sdssplitargs(&line) else {
                return Err("unbalanced quotes in request".into());
            };
            self.qb_pos = newline + lf;
            self.argv = args;
            Ok(St::Ok)
        }

        fn multibulk(&mut self) -> Result<St, String> {
            if self.multibulklen == 0 {
                let Some(nl) = self.strchr(self.qb_pos, b'\r') else {
                    if self.qb.len() - self.qb_pos > self.limits.max_inline_len {
                        return Err("too big mbulk count string".into());
                    }
                    return Ok(St::Err);
                };
                if (nl - self.qb_pos) as i64 > self.qb.len() as i64 - self.qb_pos as i64 - 2 {
                    return Ok(St::Err);
                }
                let ll = std::str::from_utf8(&self.qb[self.qb_pos + 1..nl])
                    .ok()
                    .and_then(c_string2ll);
                match ll {
                    Some(ll) if ll <= 0 || ll as u64 <= self.limits.max_multibulk_len => {
                        self.qb_pos = nl + 2;
                        if ll <= 0 {
                            return Ok(St::Ok);
                        }
                        self.multibulklen = ll;
                    }
                    _ => return Err("invalid multibulk length".into()),
                }
            }
            while self.multibulklen > 0 {
                if self.bulklen == -1 {
                    let Some(nl) = self.strchr(self.qb_pos, b'\r') else {
                        if self.qb.len() - self.qb_pos > self.limits.max_inline_len {
                            return Err("too big bulk count string".into());
                        }
                        break;
                    };
                    if (nl - self.qb_pos) as i64 > self.qb.len() as i64 - self.qb_pos as i64 - 2 {
                        break;
                    }
                    let c = self.qb[self.qb_pos];
                    if c != b'$' {
                        let shown = if c == b'\r' || c == b'\n' {
                            ' '
                        } else {
                            char::from(c)
                        };
                        return Err(format!("expected '$', got '{shown}'"));
                    }
                    let ll = std::str::from_utf8(&self.qb[self.qb_pos + 1..nl])
                        .ok()
                        .and_then(c_string2ll);
                    match ll {
                        Some(ll) if ll >= 0 && ll as u64 <= self.limits.max_bulk_len => {
                            self.qb_pos = nl + 2;
                            self.bulklen = ll;
                        }
                        _ => return Err("invalid bulk length".into()),
                    }
                }
                if ((self.qb.len() - self.qb_pos) as u128) < self.bulklen as u128 + 2 {
                    break;
                }
                let end = self.qb_pos + self.bulklen as usize;
                self.argv.push(self.qb[self.qb_pos..end].to_vec());
                self.qb_pos = end + 2;
                self.bulklen = -1;
                self.multibulklen -= 1;
            }
            Ok(if self.multibulklen == 0 {
                St::Ok
            } else {
                St::Err
            })
        }
    }

    /// string2ll written differently: via Rust's parser plus the canonical-form check.
    fn c_string2ll(s: &str) -> Option<i64> {
        let v: i64 = s.parse().ok()?;
        (v.to_string() == s).then_some(v)
    }

    /// sdssplitargs over a C string: `line` plus a NUL terminator (the line has no NUL).
    fn sdssplitargs(line: &[u8]) -> Option<Vec<Vec<u8>>> {
        let mut z = line.to_vec();
        z.extend_from_slice(&[0, 0, 0, 0]);
        let at = |i: usize| z[i];
        let isspace = |b: u8| b" \t\n\r\x0b\x0c".contains(&b);
        let mut p = 0;
        let mut out = Vec::new();
        loop {
            while at(p) != 0 && isspace(at(p)) {
                p += 1;
            }
            if at(p) == 0 {
                return Some(out);
            }
            let (mut inq, mut insq, mut done) = (false, false, false);
            let mut cur = Vec::new();
            while !done {
                if inq {
                    if at(p) == b'\\'
                        && at(p + 1) == b'x'
                        && at(p + 2).is_ascii_hexdigit()
                        && at(p + 3).is_ascii_hexdigit()
                    {
                        let h = std::str::from_utf8(&z[p + 2..p + 4]).unwrap();
                        cur.push(u8::from_str_radix(h, 16).unwrap());
                        p += 3;
                    } else if at(p) == b'\\' && at(p + 1) != 0 {
                        p += 1;
                        cur.push(match at(p) {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 8,
                            b'a' => 7,
                            o => o,
                        });
                    } else if at(p) == b'"' {
                        if at(p + 1) != 0 && !isspace(at(p + 1)) {
                            return None;
                        }
                        done = true;
                    } else if at(p) == 0 {
                        return None;
                    } else {
                        cur.push(at(p));
                    }
                } else if insq {
                    if at(p) == b'\\' && at(p + 1) == b'\'' {
                        p += 1;
                        cur.push(b'\'');
                    } else if at(p) == b'\'' {
                        if at(p + 1) != 0 && !isspace(at(p + 1)) {
                            return None;
                        }
                        done = true;
                    } else if at(p) == 0 {
                        return None;
                    } else {
                        cur.push(at(p));
                    }
                } else {
                    match at(p) {
                        b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                        b'"' => inq = true,
                        b'\'' => insq = true,
                        o => cur.push(o),
                    }
                }
                if at(p) != 0 {
                    p += 1;
                }
            }
            out.push(cur);
        }
    }

    fn protocolish() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..200),
            proptest::collection::vec(proptest::sample::select(TOKENS), 0..120)
                .prop_map(|p| p.concat()),
            // Mostly valid requests with a little corruption.
            (
                proptest::collection::vec(req(), 0..6),
                proptest::collection::vec(
                    (
                        any::<prop::sample::Index>(),
                        proptest::sample::select(TOKENS)
                    ),
                    0..3
                )
            )
                .prop_map(|(reqs, edits)| {
                    let (mut bytes, _) = encode(&reqs);
                    for (at, tok) in edits {
                        let i = at.index(bytes.len() + 1);
                        bytes.splice(i..i, tok.iter().copied());
                    }
                    bytes
                }),
        ]
    }

    const TOKENS: &[&[u8]] = &[
        b"*",
        b"$",
        b"\r",
        b"\n",
        b"\r\n",
        b"1",
        b"2",
        b"0",
        b"-",
        b"3",
        b"\"",
        b"'",
        b"\\",
        b"x",
        b"a",
        b" ",
        b"\0",
        b"\xff",
        b"\x0b",
        b"99999999999999999999",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn chunked_valid_stream_equals_whole(
            reqs in proptest::collection::vec(req(), 0..12),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
        ) {
            let (bytes, expected) = encode(&reqs);
            let (n, whole, e) = run(&bytes);
            prop_assert_eq!(n, bytes.len());
            prop_assert_eq!(e, None);
            prop_assert_eq!(&whole, &expected);
            let cuts: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
            let (chunked, e, left) = feed(&bytes, &cuts, &Limits::default());
            prop_assert_eq!(e, None);
            prop_assert_eq!(left, 0);
            prop_assert_eq!(chunked, expected);
        }


        #[test]
        fn matches_redis_state_machine(
            bytes in protocolish(),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..10),
            tiny in any::<bool>(),
        ) {
            let limits = if tiny { small() } else { Limits::default() };
            let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
            cuts.push(bytes.len());
            cuts.sort_unstable();
            let mut model = RedisModel::new(limits);
            let mut model_cmds = Vec::new();
            let mut model_err = None;
            let mut prev = 0;
            for &cut in &cuts {
                model_err = model.feed(&bytes[prev..cut], &mut model_cmds);
                prev = cut;
                if model_err.is_some() {
                    break;
                }
            }
            let (cmds, err, left) = feed(&bytes, &cuts, &limits);
            prop_assert_eq!(&cmds, &model_cmds);
            prop_assert_eq!(err.map(|e| e.0), model_err.clone());
            // Redis also drops the finished arguments of a partial command; this parser keeps the
            // whole partial command.
            if model_err.is_none() {
                prop_assert!(left >= model.qb.len());
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            bytes in prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..256),
                proptest::collection::vec(
                    proptest::sample::select(TOKENS),
                    0..80,
                ).prop_map(|parts| parts.concat()),
            ],
            tiny in any::<bool>(),
        ) {
            let limits = if tiny { small() } else { Limits::default() };
            let mut out = ParsedCommands::default();
            let (n, e) = parse(&bytes, &limits, &mut out);
            prop_assert!(n <= bytes.len());
            for a in &out.args {
                match a {
                    Arg::Buf(r) => prop_assert!(r.start <= r.end && r.end <= n),
                    Arg::Scratch(r) => prop_assert!(r.start <= r.end && r.end <= out.scratch.len()),
                }
            }
            let mut next = 0;
            for c in &out.commands {
                prop_assert_eq!(c.start, next);
                prop_assert!(c.end > c.start);
                next = c.end;
            }
            prop_assert_eq!(next, out.args.len());
            if let Some(ProtocolError(text)) = e {
                prop_assert!(text.starts_with("ERR Protocol error: "));
            }
            // Feeding the same bytes in pieces agrees with one parse when no "too big" limit
            // can be hit (those depend on how much arrived before the line end, as in Redis).
            if !tiny {
                let cuts: Vec<usize> = (0..bytes.len()).step_by(7).collect();
                let (chunked, e2, _) = feed(&bytes, &cuts, &limits);
                let (n1, whole, e1) = run(&bytes);
                prop_assert_eq!(chunked, whole);
                prop_assert_eq!(e2.map(|e| e.0), e1);
                prop_assert_eq!(n1, n);
            }
        }

        #[test]
        fn inline_round_trip(
            words in proptest::collection::vec("[a-zA-Z0-9!#%&()+,./:;<=>?@^_`{|}~-]{1,12}", 1..8),
            seps in proptest::collection::vec("[ \t]{1,3}", 8),
            lead in "[ \t]{0,2}",
            crlf in any::<bool>(),
        ) {
            let mut line = lead.clone();
            for (i, w) in words.iter().enumerate() {
                if i > 0 {
                    line.push_str(&seps[i]);
                }
                line.push_str(w);
            }
            line.push_str(if crlf { "\r\n" } else { "\n" });
            let mut out = ParsedCommands::default();
            let (n, e) = parse(line.as_bytes(), &Limits::default(), &mut out);
            prop_assert_eq!(n, line.len());
            prop_assert_eq!(e, None);
            prop_assert!(out.args.iter().all(|a| matches!(a, Arg::Buf(_))));
            let expected: Cmds = vec![words.iter().map(|w| w.as_bytes().to_vec()).collect()];
            prop_assert_eq!(resolve(line.as_bytes(), &out), expected);
        }

        #[test]
        fn inline_quoted_round_trip(args in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..16), 1..6)) {
            // Quote each argument the way redis-cli / sdscatrepr would.
            let mut line = Vec::new();
            for a in &args {
                line.push(b'"');
                for &b in a {
                    match b {
                        b'\\' => line.extend_from_slice(b"\\\\"),
                        b'"' => line.extend_from_slice(b"\\\""),
                        b'\n' => line.extend_from_slice(b"\\n"),
                        b'\r' => line.extend_from_slice(b"\\r"),
                        b'\t' => line.extend_from_slice(b"\\t"),
                        0x20..=0x7e => line.push(b),
                        _ => line.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
                    }
                }
                line.extend_from_slice(b"\" ");
            }
            line.extend_from_slice(b"\r\n");
            let (n, cmds, e) = run(&line);
            prop_assert_eq!(n, line.len());
            prop_assert_eq!(e, None);
            prop_assert_eq!(cmds, vec![args]);
        }
    }
}
