//! Stream entry IDs (`<ms>-<seq>`), parsed and formatted exactly as Redis 7.0
//! does, and the error values the stream layer can produce.

use std::fmt;

use crate::util::num::parse_i64;

/// The ID of a stream entry: a millisecond time and a sequence number within
/// that millisecond. The derived ordering (by `ms`, then `seq`) is the order
/// of entries in a stream.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    /// `0-0`, what `-` means in a range; never a valid entry ID.
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    /// The largest ID, what `+` means in a range.
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }

    /// The next ID (Redis's `streamIncrID`), or `None` after [`StreamId::MAX`].
    pub fn next(self) -> Option<StreamId> {
        if self.seq < u64::MAX {
            Some(StreamId::new(self.ms, self.seq + 1))
        } else if self.ms < u64::MAX {
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            None
        }
    }

    /// The previous ID (Redis's `streamDecrID`), or `None` before `0-0`.
    pub fn prev(self) -> Option<StreamId> {
        if self.seq > 0 {
            Some(StreamId::new(self.ms, self.seq - 1))
        } else if self.ms > 0 {
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            None
        }
    }

    /// Appends the reply form `<ms>-<seq>`.
    pub fn write_to(self, out: &mut Vec<u8>) {
        use std::io::Write as _;
        // Writing to a Vec cannot fail.
        let _ = write!(out, "{}-{}", self.ms, self.seq);
    }

    /// Parses an ID where `-` and `+` are allowed (Redis's
    /// `streamParseIDOrReply`, used by XGROUP SETID and range ends). A
    /// missing sequence part (`"5"`) becomes `missing_seq`.
    pub fn parse(arg: &[u8], missing_seq: u64) -> Result<StreamId, StreamError> {
        parse_generic(arg, missing_seq, false, false).map(|(id, _)| id)
    }

    /// Parses an ID where `-` and `+` are rejected (Redis's
    /// `streamParseStrictIDOrReply`, used by XDEL, XACK, XCLAIM, XSETID,
    /// XGROUP CREATE and exclusive range bounds).
    pub fn parse_strict(arg: &[u8], missing_seq: u64) -> Result<StreamId, StreamError> {
        parse_generic(arg, missing_seq, true, false).map(|(id, _)| id)
    }

    /// Parses the start of an XRANGE/XREVRANGE/XPENDING/XAUTOCLAIM interval
    /// and returns it as an inclusive bound: `"5"` is `5-0`, `"(5-3"` is
    /// `5-4`. Excluding the largest ID is an error, as in Redis.
    pub fn parse_range_start(arg: &[u8]) -> Result<StreamId, StreamError> {
        let (id, exclusive) = parse_interval(arg, 0)?;
        if exclusive {
            id.next().ok_or(StreamError::InvalidStartInterval)
        } else {
            Ok(id)
        }
    }

    /// Parses the end of an interval as an inclusive bound: `"5"` is
    /// `5-18446744073709551615`, `"(5-3"` is `5-2`. Excluding `0-0` is an
    /// error, as in Redis.
    pub fn parse_range_end(arg: &[u8]) -> Result<StreamId, StreamError> {
        let (id, exclusive) = parse_interval(arg, u64::MAX)?;
        if exclusive {
            id.prev().ok_or(StreamError::InvalidEndInterval)
        } else {
            Ok(id)
        }
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// The ID argument of XADD.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AddId {
    /// `*`: the current time, or the last ID plus one if the clock is behind.
    Auto,
    /// `<ms>-*`: the given time with the next free sequence number.
    AutoSeq(u64),
    /// A full ID (`<ms>-<seq>`, or `<ms>` meaning `<ms>-0`).
    Explicit(StreamId),
}

impl AddId {
    /// Parses XADD's ID argument the way Redis 7.0 does.
    pub fn parse(arg: &[u8]) -> Result<AddId, StreamError> {
        // Redis compares with strcmp, so anything after a NUL byte is unseen.
        if until_nul(arg) == b"*" {
            return Ok(AddId::Auto);
        }
        match parse_generic(arg, 0, true, true)? {
            (id, true) => Ok(AddId::Explicit(id)),
            (id, false) => Ok(AddId::AutoSeq(id.ms)),
        }
    }
}

/// An error a stream operation reports to the client, carrying Redis's text.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum StreamError {
    InvalidId,
    InvalidStartInterval,
    InvalidEndInterval,
    /// XADD with an explicit `0-0`.
    ZeroId,
    /// XADD with an ID not above the stream's last ID.
    IdNotGreater,
    /// XADD on a stream whose last ID is the largest possible.
    IdExhausted,
    /// XADD whose fields and values exceed 1 GiB, or `<ms>-*` when the
    /// sequence of `<ms>` is used up (Redis 7.0.15 replies this text there).
    ElementsTooLarge,
    /// XSETID below the last entry still in the stream.
    SetIdBelowTop,
    /// XSETID with MAXDELETEDID above the new last ID.
    SetIdBelowMaxDeleted,
    /// XSETID with ENTRIESADDED below the stream's length.
    EntriesAddedBelowLength,
    /// XGROUP CREATE of a group that exists.
    BusyGroup,
}

impl StreamError {
    /// The error line without the leading `-`, exactly as Redis 7.0.15 sends it.
    pub fn message(self) -> &'static str {
        match self {
            StreamError::InvalidId => "ERR Invalid stream ID specified as stream command argument",
            StreamError::InvalidStartInterval => "ERR invalid start ID for the interval",
            StreamError::InvalidEndInterval => "ERR invalid end ID for the interval",
            StreamError::ZeroId => "ERR The ID specified in XADD must be greater than 0-0",
            StreamError::IdNotGreater => {
                "ERR The ID specified in XADD is equal or smaller than the target stream top item"
            }
            StreamError::IdExhausted => {
                "ERR The stream has exhausted the last possible ID, unable to add more items"
            }
            StreamError::ElementsTooLarge => "ERR Elements are too large to be stored",
            StreamError::SetIdBelowTop => {
                "ERR The ID specified in XSETID is smaller than the target stream top item"
            }
            StreamError::SetIdBelowMaxDeleted => {
                "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"
            }
            StreamError::EntriesAddedBelowLength => {
                "ERR The entries_added specified in XSETID is smaller than the target stream length"
            }
            StreamError::BusyGroup => "BUSYGROUP Consumer Group name already exists",
        }
    }
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for StreamError {}

/// Redis copies the argument into a 128-byte C buffer and parses it with C
/// string functions, so a longer argument is invalid and a NUL ends it.
const MAX_ID_ARG: usize = 127;

fn until_nul(arg: &[u8]) -> &[u8] {
    match arg.iter().position(|&b| b == 0) {
        Some(i) => &arg[..i],
        None => arg,
    }
}

/// Redis's `streamGenericParseIDOrReply`. `with_auto_seq` enables the
/// `<ms>-*` form (XADD only); the returned flag says whether the sequence was
/// given (false only for `<ms>-*`).
fn parse_generic(
    arg: &[u8],
    missing_seq: u64,
    strict: bool,
    with_auto_seq: bool,
) -> Result<(StreamId, bool), StreamError> {
    if arg.len() > MAX_ID_ARG {
        return Err(StreamError::InvalidId);
    }
    let s = until_nul(arg);
    match s {
        b"-" | b"+" if strict => Err(StreamError::InvalidId),
        b"-" => Ok((StreamId::MIN, true)),
        b"+" => Ok((StreamId::MAX, true)),
        _ => {
            let (ms_part, seq_part) = match s.iter().position(|&b| b == b'-') {
                Some(i) => (&s[..i], Some(&s[i + 1..])),
                None => (s, None),
            };
            let ms = string_to_u64(ms_part).ok_or(StreamError::InvalidId)?;
            match seq_part {
                None => Ok((StreamId::new(ms, missing_seq), true)),
                Some(b"*") if with_auto_seq => Ok((StreamId::new(ms, 0), false)),
                Some(seq) => {
                    let seq = string_to_u64(seq).ok_or(StreamError::InvalidId)?;
                    Ok((StreamId::new(ms, seq), true))
                }
            }
        }
    }
}

/// Redis's `streamParseIntervalIDOrReply`: a leading `(` (with something
/// after it) makes the bound exclusive and the rest is parsed strictly.
fn parse_interval(arg: &[u8], missing_seq: u64) -> Result<(StreamId, bool), StreamError> {
    if arg.len() > 1 && arg[0] == b'(' {
        Ok((StreamId::parse_strict(&arg[1..], missing_seq)?, true))
    } else {
        Ok((StreamId::parse(arg, missing_seq)?, false))
    }
}

/// Redis's `string2ull`: `string2ll` first (a negative value is rejected),
/// then C's `strtoull` in base 10, which also takes leading whitespace, a
/// sign (a `-` negates modulo 2^64) and leading zeros, but no trailing bytes
/// and no overflow.
fn string_to_u64(s: &[u8]) -> Option<u64> {
    if let Some(v) = parse_i64(s) {
        return u64::try_from(v).ok();
    }
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let mut negative = false;
    if let Some(&sign @ (b'+' | b'-')) = s.get(i) {
        negative = sign == b'-';
        i += 1;
    }
    let digits = i;
    let mut v: u64 = 0;
    let mut overflow = false;
    while let Some(&b) = s.get(i) {
        if !b.is_ascii_digit() {
            break;
        }
        match v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
        {
            Some(n) => v = n,
            None => overflow = true,
        }
        i += 1;
    }
    if i == digits || i != s.len() || overflow {
        return None;
    }
    Some(if negative { v.wrapping_neg() } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId::new(ms, seq)
    }

    #[test]
    fn next_and_prev_carry_and_stop_at_the_ends() {
        assert_eq!(id(1, 5).next(), Some(id(1, 6)));
        assert_eq!(id(1, u64::MAX).next(), Some(id(2, 0)));
        assert_eq!(StreamId::MAX.next(), None);
        assert_eq!(id(1, 5).prev(), Some(id(1, 4)));
        assert_eq!(id(2, 0).prev(), Some(id(1, u64::MAX)));
        assert_eq!(StreamId::MIN.prev(), None);
    }

    #[test]
    fn formats_as_ms_dash_seq() {
        let mut out = Vec::new();
        StreamId::MAX.write_to(&mut out);
        assert_eq!(out, b"18446744073709551615-18446744073709551615");
        assert_eq!(id(5, 0).to_string(), "5-0");
    }

    #[test]
    fn parses_full_and_partial_ids() {
        assert_eq!(StreamId::parse(b"5-3", 0), Ok(id(5, 3)));
        assert_eq!(StreamId::parse(b"5", 0), Ok(id(5, 0)));
        assert_eq!(StreamId::parse(b"5", u64::MAX), Ok(id(5, u64::MAX)));
        assert_eq!(StreamId::parse(b"-", 0), Ok(StreamId::MIN));
        assert_eq!(StreamId::parse(b"+", 0), Ok(StreamId::MAX));
        assert_eq!(
            StreamId::parse(b"18446744073709551615-18446744073709551615", 0),
            Ok(StreamId::MAX)
        );
        for strict_rejects in [&b"-"[..], b"+", b"-\0x"] {
            assert_eq!(
                StreamId::parse_strict(strict_rejects, 0),
                Err(StreamError::InvalidId)
            );
        }
    }

    #[test]
    fn accepts_what_strtoull_accepts() {
        // Verified against redis-server 7.0.15 with XADD.
        assert_eq!(StreamId::parse(b"0005-7", 0), Ok(id(5, 7)));
        assert_eq!(StreamId::parse(b" 6-+8", 0), Ok(id(6, 8)));
        assert_eq!(StreamId::parse(b"7--0", 0), Ok(id(7, 0)));
        assert_eq!(StreamId::parse(b"1--18446744073709551615", 0), Ok(id(1, 1)));
        assert_eq!(StreamId::parse(b"\t9", 0), Ok(id(9, 0)));
        // A NUL ends the C string.
        assert_eq!(StreamId::parse(b"1-2\0junk", 0), Ok(id(1, 2)));
    }

    #[test]
    fn rejects_malformed_ids() {
        for bad in [
            &b""[..],
            b"abc",
            b"1-",
            b"-1",
            b"1-2-3",
            b"1--5",
            b"1-2 ",
            b"18446744073709551616",
            b"1-18446744073709551616",
            b"+5-",
            b" ",
            b"1-*",
            b"*",
            b"0x10",
        ] {
            assert_eq!(
                StreamId::parse(bad, 0),
                Err(StreamError::InvalidId),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let long = vec![b'1'; 128];
        assert_eq!(StreamId::parse(&long, 0), Err(StreamError::InvalidId));
        let mut padded = b"1-1".to_vec();
        padded.resize(127, 0);
        assert_eq!(StreamId::parse(&padded, 0), Ok(id(1, 1)));
    }

    #[test]
    fn parses_xadd_ids() {
        assert_eq!(AddId::parse(b"*"), Ok(AddId::Auto));
        assert_eq!(AddId::parse(b"*\0x"), Ok(AddId::Auto));
        assert_eq!(AddId::parse(b"5-*"), Ok(AddId::AutoSeq(5)));
        assert_eq!(AddId::parse(b"5"), Ok(AddId::Explicit(id(5, 0))));
        assert_eq!(AddId::parse(b"5-1"), Ok(AddId::Explicit(id(5, 1))));
        assert_eq!(AddId::parse(b"0-0"), Ok(AddId::Explicit(id(0, 0))));
        for bad in [&b"+"[..], b"-", b"*-1", b"5-**", b"**"] {
            assert_eq!(AddId::parse(bad), Err(StreamError::InvalidId));
        }
    }

    #[test]
    fn range_bounds_follow_xrange() {
        // Verified against redis-server 7.0.15 (XRANGE s <start> + / - <end>).
        assert_eq!(StreamId::parse_range_start(b"-"), Ok(StreamId::MIN));
        assert_eq!(StreamId::parse_range_start(b"+"), Ok(StreamId::MAX));
        assert_eq!(StreamId::parse_range_start(b"1"), Ok(id(1, 0)));
        assert_eq!(StreamId::parse_range_start(b"(1"), Ok(id(1, 1)));
        assert_eq!(StreamId::parse_range_start(b"(1-5"), Ok(id(1, 6)));
        assert_eq!(
            StreamId::parse_range_start(b"(18446744073709551615"),
            Ok(id(u64::MAX, 1))
        );
        assert_eq!(
            StreamId::parse_range_start(b"(18446744073709551615-18446744073709551615"),
            Err(StreamError::InvalidStartInterval)
        );
        assert_eq!(StreamId::parse_range_end(b"1"), Ok(id(1, u64::MAX)));
        assert_eq!(StreamId::parse_range_end(b"(2"), Ok(id(2, u64::MAX - 1)));
        assert_eq!(StreamId::parse_range_end(b"(2-0"), Ok(id(1, u64::MAX)));
        assert_eq!(
            StreamId::parse_range_end(b"(0-0"),
            Err(StreamError::InvalidEndInterval)
        );
        for bad in [&b"(-"[..], b"(+", b"(", b"((1", b"(1-"] {
            assert_eq!(
                StreamId::parse_range_start(bad),
                Err(StreamError::InvalidId)
            );
            assert_eq!(StreamId::parse_range_end(bad), Err(StreamError::InvalidId));
        }
    }

    #[test]
    fn error_texts_are_redis_texts() {
        assert_eq!(
            StreamError::InvalidId.to_string(),
            "ERR Invalid stream ID specified as stream command argument"
        );
        assert_eq!(
            StreamError::BusyGroup.message(),
            "BUSYGROUP Consumer Group name already exists"
        );
    }
}
