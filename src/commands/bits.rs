//! Bit commands (Redis's bitops.c).

use super::{args, err, flags::*, CmdError, CmdResult, Command, Ctx, Route, Run};
use crate::protocol::Out;
use crate::runtime::proto_max_bulk_len;
use crate::storage::Entry;
use crate::util::num::parse_i64;

#[allow(clippy::too_many_arguments)]
const fn data(
    name: &'static str,
    arity: i32,
    flags: u32,
    first: i32,
    last: i32,
    categories: &'static str,
    summary: &'static str,
    since: &'static str,
    f: super::DataFn,
) -> Command {
    let run = Run::Data(f, Route::Keys);
    Command::new(
        name,
        arity,
        flags,
        (first, last, 1),
        categories,
        "bitmap",
        summary,
        since,
        run,
    )
}

pub fn commands() -> Vec<Command> {
    vec![
        data("setbit", 4, WRITE | DENYOOM, 1, 1, "@write @bitmap @slow", "Sets or clears the bit at offset in the string value stored at key", "2.2.0", setbit),
        data("getbit", 3, READONLY | FAST, 1, 1, "@read @bitmap @fast", "Returns the bit value at offset in the string value stored at key", "2.2.0", getbit),
        data("bitcount", -2, READONLY, 1, 1, "@read @bitmap @slow", "Count set bits in a string", "2.6.0", bitcount),
        data("bitpos", -3, READONLY, 1, 1, "@read @bitmap @slow", "Find first bit set or clear in a string", "2.8.7", bitpos),
        data("bitop", -4, WRITE | DENYOOM, 2, -1, "@write @bitmap @slow", "Perform bitwise operations between strings", "2.6.0", bitop),
        data("bitfield", -2, WRITE | DENYOOM, 1, 1, "@write @bitmap @slow", "Perform arbitrary bitfield integer operations on strings", "3.2.0", bitfield),
        data("bitfield_ro", -2, READONLY | FAST, 1, 1, "@read @bitmap @fast", "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD", "6.0.0", bitfield_ro),
    ]
}

/// A bit offset argument: 0 up to proto-max-bulk-len bytes' worth of bits.
fn bit_offset(a: &[u8]) -> Result<u64, CmdError> {
    match parse_i64(a) {
        Some(n) if n >= 0 && ((n >> 3) as u64) < proto_max_bulk_len() => Ok(n as u64),
        _ => Err(err::BIT_OFFSET),
    }
}

/// The mask of bit `off` inside its byte (bit 0 is the most significant, as in Redis).
#[inline]
fn bit_mask(off: u64) -> u8 {
    0x80 >> (off & 7)
}

fn setbit(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let key = argv[1];
    let off = bit_offset(argv[2])?;
    let on = match parse_i64(argv[3]) {
        Some(v @ (0 | 1)) => v == 1,
        _ => return Err(err::BIT_VALUE),
    };
    let byte = (off >> 3) as usize;
    let mask = bit_mask(off);
    let lru = ctx.shard.lru_clock;
    let new = match ctx.lookup_str(key)? {
        None => {
            let mut v = vec![0u8; byte + 1];
            if on {
                v[byte] |= mask;
            }
            // A bitmap Redis creates is a raw string.
            let mut e = Entry::new(key, &v, None, lru);
            e.set_raw();
            e
        }
        Some(e) if byte < e.value().len() => {
            // In place; Redis unshares (so raw-encodes) the string even when the bit stays.
            let b = &mut e.value_mut()[byte];
            let old = *b & mask != 0;
            if old != on {
                *b ^= mask;
                ctx.shard.dirty += 1;
            }
            out.int(old as i64);
            return Ok(());
        }
        Some(e) => {
            let mut v = Vec::with_capacity(byte + 1);
            v.extend_from_slice(e.value());
            v.resize(byte + 1, 0);
            if on {
                v[byte] |= mask;
            }
            e.with_value(&v)
        }
    };
    ctx.insert(new);
    out.int(0);
    Ok(())
}

fn getbit(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let off = bit_offset(argv[2])?;
    let byte = (off >> 3) as usize;
    let bit = ctx
        .lookup_read_str(argv[1])?
        .and_then(|e| e.value().get(byte).copied())
        .is_some_and(|b| b & bit_mask(off) != 0);
    out.int(bit as i64);
    Ok(())
}

/// BYTE or BIT unit argument.
fn is_bit_unit(a: &[u8]) -> Result<bool, CmdError> {
    if args::is(a, "BIT") {
        Ok(true)
    } else if args::is(a, "BYTE") {
        Ok(false)
    } else {
        Err(err::SYNTAX)
    }
}

/// Clamps a Redis start/end pair (negative = from the end) to `0..total`; None if empty.
fn clamp_range(mut start: i64, mut end: i64, total: i64) -> Option<(u64, u64)> {
    // total is at most 2^32 bytes' worth of bits, so these additions cannot overflow.
    if start < 0 {
        start += total;
    }
    if end < 0 {
        end += total;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= total {
        end = total - 1;
    }
    (start <= end).then_some((start as u64, end as u64))
}

/// Set bits in `v[..]` counted fast, eight bytes at a time.
fn popcount(v: &[u8]) -> u64 {
    let mut chunks = v.chunks_exact(8);
    let mut n: u64 = 0;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        n += u64::from_ne_bytes(w).count_ones() as u64;
    }
    n + chunks
        .remainder()
        .iter()
        .map(|b| b.count_ones() as u64)
        .sum::<u64>()
}

/// The byte at `i` restricted to the bits of the bit range `[sbit, ebit]`.
#[inline]
fn masked(v: &[u8], i: usize, sbit: u64, ebit: u64) -> u8 {
    let mut b = v[i];
    if i as u64 == sbit >> 3 {
        b &= 0xFFu8 >> (sbit & 7);
    }
    if i as u64 == ebit >> 3 {
        b &= !(0x7Fu8 >> (ebit & 7));
    }
    b
}

/// Set bits in the bit range `[sbit, ebit]` (inclusive, within `v`).
fn count_bits(v: &[u8], sbit: u64, ebit: u64) -> u64 {
    let (fb, lb) = ((sbit >> 3) as usize, (ebit >> 3) as usize);
    if fb == lb {
        return masked(v, fb, sbit, ebit).count_ones() as u64;
    }
    masked(v, fb, sbit, ebit).count_ones() as u64
        + popcount(&v[fb + 1..lb])
        + masked(v, lb, sbit, ebit).count_ones() as u64
}

fn bitcount(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    // As Redis 7.0: a missing key answers 0 before the arguments are even looked at.
    let Some(e) = ctx.lookup_read_str(argv[1])? else {
        out.int(0);
        return Ok(());
    };
    let v = e.value();
    let len = v.len() as i64;
    let (sbit, ebit) = match argv.len() {
        2 => {
            out.int(popcount(v) as i64);
            return Ok(());
        }
        4 | 5 => {
            let start = args::int(argv[2])?;
            let end = args::int(argv[3])?;
            // Redis answers this empty range before it even reads the unit.
            if start < 0 && end < 0 && start > end {
                out.int(0);
                return Ok(());
            }
            let isbit = match argv.get(4) {
                Some(a) => is_bit_unit(a)?,
                None => false,
            };
            let total = if isbit { len << 3 } else { len };
            match clamp_range(start, end, total) {
                None => {
                    out.int(0);
                    return Ok(());
                }
                Some((s, e)) if isbit => (s, e),
                Some((s, e)) => (s << 3, (e << 3) | 7),
            }
        }
        _ => return Err(err::SYNTAX),
    };
    out.int(count_bits(v, sbit, ebit) as i64);
    Ok(())
}

/// First bit equal to `bit` in the bit range `[sbit, ebit]` of `v`.
fn find_bit(v: &[u8], sbit: u64, ebit: u64, bit: bool) -> Option<u64> {
    let (fb, lb) = ((sbit >> 3) as usize, (ebit >> 3) as usize);
    // Bits we look for become ones: flip the bytes when searching for a clear bit.
    let flip = if bit { 0x00 } else { 0xFF };
    let mut i = fb;
    while i <= lb {
        // Skip whole 8-byte words with nothing to find, strictly inside the range.
        if i > fb && i + 8 <= lb {
            let mut w = [0u8; 8];
            w.copy_from_slice(&v[i..i + 8]);
            let skip = if bit { 0 } else { u64::MAX };
            if u64::from_ne_bytes(w) == skip {
                i += 8;
                continue;
            }
        }
        let mut x = v[i] ^ flip;
        if i == fb {
            x &= 0xFFu8 >> (sbit & 7);
        }
        if i == lb {
            x &= !(0x7Fu8 >> (ebit & 7));
        }
        if x != 0 {
            return Some(((i as u64) << 3) + x.leading_zeros() as u64);
        }
        i += 1;
    }
    None
}

fn bitpos(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let bit = match args::int(argv[2])? {
        0 => false,
        1 => true,
        _ => return Err(CmdError::new("ERR The bit argument must be 1 or 0.")),
    };
    // A missing key is an endless run of zeros.
    let Some(e) = ctx.lookup_read_str(argv[1])? else {
        out.int(if bit { -1 } else { 0 });
        return Ok(());
    };
    let v = e.value();
    let len = v.len() as i64;
    let mut end_given = false;
    let range = match argv.len() {
        3 => clamp_range(0, len - 1, len).map(|(s, e)| (s << 3, (e << 3) | 7)),
        4..=6 => {
            let start = args::int(argv[3])?;
            let isbit = match argv.get(5) {
                Some(a) => is_bit_unit(a)?,
                None => false,
            };
            let end = match argv.get(4) {
                Some(a) => {
                    end_given = true;
                    args::int(a)?
                }
                None => len - 1,
            };
            if isbit {
                clamp_range(start, end, len << 3)
            } else {
                clamp_range(start, end, len).map(|(s, e)| (s << 3, (e << 3) | 7))
            }
        }
        _ => return Err(err::SYNTAX),
    };
    let Some((sbit, ebit)) = range else {
        out.int(-1);
        return Ok(());
    };
    let pos = match find_bit(v, sbit, ebit, bit) {
        Some(p) => p as i64,
        // Past the string's end everything is zero, unless the caller bounded the range.
        None if !bit && !end_given => ebit as i64 + 1,
        None => -1,
    };
    out.int(pos);
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    And,
    Or,
    Xor,
    Not,
}

fn bitop(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let op = match argv[1] {
        a if args::is(a, "AND") => Op::And,
        a if args::is(a, "OR") => Op::Or,
        a if args::is(a, "XOR") => Op::Xor,
        a if args::is(a, "NOT") => Op::Not,
        _ => return Err(err::SYNTAX),
    };
    if op == Op::Not && argv.len() != 4 {
        return Err(CmdError::new(
            "ERR BITOP NOT must be called with a single source key.",
        ));
    }
    let dest = argv[2];
    // Folded source by source; a missing key or a shorter string reads as zero bytes, so the
    // result grows with zeros when a longer source shows up.
    let mut res: Vec<u8> = Vec::new();
    for (n, k) in argv[3..].iter().enumerate() {
        let src: &[u8] = match ctx.lookup_read_str(k)? {
            Some(e) => e.value(),
            None => &[],
        };
        if src.len() > res.len() {
            res.resize(src.len(), 0);
        }
        if n == 0 {
            res[..src.len()].copy_from_slice(src);
            if op == Op::Not {
                res.iter_mut().for_each(|b| *b = !*b);
            }
            continue;
        }
        let pad = std::iter::repeat(&0u8);
        let pairs = res.iter_mut().zip(src.iter().chain(pad));
        match op {
            Op::And => pairs.for_each(|(r, s)| *r &= s),
            Op::Or => pairs.for_each(|(r, s)| *r |= s),
            Op::Xor => pairs.for_each(|(r, s)| *r ^= s),
            Op::Not => {}
        }
    }
    let n = res.len();
    if n > 0 {
        let mut e = Entry::new(dest, &res, None, ctx.shard.lru_clock);
        e.set_raw();
        ctx.insert(e);
    } else {
        ctx.remove(dest);
    }
    out.int(n as i64);
    Ok(())
}

/// What BITFIELD does when a SET or INCRBY result does not fit its type.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FieldOpKind {
    Get,
    Set,
    Incrby,
}

/// One parsed BITFIELD subcommand.
#[derive(Clone, Copy)]
struct FieldOp {
    kind: FieldOpKind,
    signed: bool,
    /// Width in bits, 1..=64 (signed) or 1..=63 (unsigned).
    bits: u32,
    offset: u64,
    /// SET value or INCRBY increment.
    arg: i64,
    overflow: Overflow,
}

/// The argument as C's string functions see it: cut at the first NUL byte (Redis compares
/// subcommand names with strcasecmp and reads the type width with strlen).
fn c_str(a: &[u8]) -> &[u8] {
    match a.iter().position(|&b| b == 0) {
        Some(n) => &a[..n],
        None => a,
    }
}

/// A bitfield type: `i1`..`i64` or `u1`..`u63` (lower-case sign letter only, as Redis).
fn field_type(a: &[u8]) -> Result<(bool, u32), CmdError> {
    const ERR: CmdError = CmdError(std::borrow::Cow::Borrowed(
        "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
    ));
    let a = c_str(a);
    let signed = match a.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(ERR),
    };
    let max = if signed { 64 } else { 63 };
    match parse_i64(&a[1..]) {
        Some(n) if (1..=max).contains(&n) => Ok((signed, n as u32)),
        _ => Err(ERR),
    }
}

/// A bitfield offset: a bit number, or `#N` meaning N fields of `bits` width.
fn field_offset(a: &[u8], bits: u32) -> Result<u64, CmdError> {
    let (hash, digits) = match a.split_first() {
        Some((b'#', rest)) => (true, rest),
        _ => (false, a),
    };
    let mut n = parse_i64(digits).ok_or(err::BIT_OFFSET)?;
    if hash {
        // Redis multiplies in a C long long, which wraps on overflow; the range check follows.
        n = n.wrapping_mul(bits as i64);
    }
    if n < 0 || ((n >> 3) as u64) >= proto_max_bulk_len() {
        return Err(err::BIT_OFFSET);
    }
    Ok(n as u64)
}

#[inline]
fn width_mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// The 9 bytes from `start` (enough for any 64-bit field at any bit shift) as one
/// big-endian number; bytes past the string's end read as zeros.
#[inline]
fn window(v: &[u8], start: usize) -> u128 {
    (0..9).fold(0u128, |w, i| {
        let b = start
            .checked_add(i)
            .and_then(|j| v.get(j))
            .copied()
            .unwrap_or(0);
        (w << 8) | b as u128
    })
}

/// The unsigned field of `bits` bits at bit `offset` (bit 0 = most significant of byte 0).
fn get_unsigned(v: &[u8], offset: u64, bits: u32) -> u64 {
    let w = window(v, (offset >> 3) as usize);
    // 72 window bits; the field's low bit sits this far from the window's low end (>= 1).
    let shift = 72 - (offset & 7) as u32 - bits;
    (w >> shift) as u64 & width_mask(bits)
}

fn get_signed(v: &[u8], offset: u64, bits: u32) -> i64 {
    let u = get_unsigned(v, offset, bits);
    // Sign-extend from the field's top bit.
    if bits < 64 && u & (1u64 << (bits - 1)) != 0 {
        (u | (u64::MAX << bits)) as i64
    } else {
        u as i64
    }
}

/// Stores the low `bits` bits of `value` at bit `offset`; `v` must hold the field's last byte.
fn set_field(v: &mut [u8], offset: u64, bits: u32, value: u64) {
    let start = (offset >> 3) as usize;
    let shift = 72 - (offset & 7) as u32 - bits;
    let mask = (width_mask(bits) as u128) << shift;
    let w = (window(v, start) & !mask) | (((value & width_mask(bits)) as u128) << shift);
    for i in 0..9usize {
        match start.checked_add(i).and_then(|j| v.get_mut(j)) {
            Some(b) => *b = (w >> (8 * (8 - i))) as u8,
            // Bytes past the end hold no field bits (the caller sized the string).
            None => break,
        }
    }
}

/// Redis's checkUnsignedBitfieldOverflow: whether `value + incr` leaves the type's range,
/// and the value to store instead under WRAP or SAT.
fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> Option<u64> {
    let max = width_mask(bits);
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = value.wrapping_neg() as i64;
    let limit = if value > max || (incr > 0 && incr > maxincr) {
        max
    } else if incr < 0 && incr < minincr {
        0
    } else {
        return None;
    };
    Some(match ow {
        Overflow::Wrap => value.wrapping_add(incr as u64) & max,
        Overflow::Sat | Overflow::Fail => limit,
    })
}

/// Redis's checkSignedBitfieldOverflow (its intermediate differences wrap as in C).
fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> Option<i64> {
    let max = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let maxincr = max.wrapping_sub(value);
    let minincr = min.wrapping_sub(value);
    let limit = if value > max
        || (bits != 64 && incr > maxincr)
        || (value >= 0 && incr > 0 && incr > maxincr)
    {
        max
    } else if value < min
        || (bits != 64 && incr < minincr)
        || (value < 0 && incr < 0 && incr < minincr)
    {
        min
    } else {
        return None;
    };
    Some(match ow {
        Overflow::Wrap => {
            let c = value.wrapping_add(incr) as u64;
            // Keep the low `bits` bits, sign-extended.
            if bits < 64 && c & (1u64 << (bits - 1)) != 0 {
                (c | (u64::MAX << bits)) as i64
            } else {
                (c & width_mask(bits)) as i64
            }
        }
        Overflow::Sat | Overflow::Fail => limit,
    })
}

/// Parses the subcommands; also returns whether any writes and the highest bit written.
fn parse_field_ops(argv: &[&[u8]]) -> Result<(Vec<FieldOp>, Option<u64>), CmdError> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut highest: Option<u64> = None;
    let mut j = 2;
    while j < argv.len() {
        let rem = argv.len() - j - 1;
        let sub = c_str(argv[j]);
        let kind = if args::is(sub, "GET") && rem >= 2 {
            FieldOpKind::Get
        } else if args::is(sub, "SET") && rem >= 3 {
            FieldOpKind::Set
        } else if args::is(sub, "INCRBY") && rem >= 3 {
            FieldOpKind::Incrby
        } else if args::is(sub, "OVERFLOW") && rem >= 1 {
            let name = c_str(argv[j + 1]);
            overflow = if args::is(name, "WRAP") {
                Overflow::Wrap
            } else if args::is(name, "SAT") {
                Overflow::Sat
            } else if args::is(name, "FAIL") {
                Overflow::Fail
            } else {
                return Err(CmdError::new("ERR Invalid OVERFLOW type specified"));
            };
            j += 2;
            continue;
        } else {
            return Err(err::SYNTAX);
        };
        let (signed, bits) = field_type(argv[j + 1])?;
        let offset = field_offset(argv[j + 2], bits)?;
        let mut arg = 0;
        if kind != FieldOpKind::Get {
            // offset <= i64::MAX and bits <= 64: no u64 overflow.
            let last = offset + bits as u64 - 1;
            highest = Some(highest.map_or(last, |h| h.max(last)));
            arg = args::int(argv[j + 3])?;
        }
        ops.push(FieldOp {
            kind,
            signed,
            bits,
            offset,
            arg,
            overflow,
        });
        j += if kind == FieldOpKind::Get { 3 } else { 4 };
    }
    Ok((ops, highest))
}

/// GET's reply: the field's value, zero padded past the string's end.
fn reply_get(v: &[u8], op: &FieldOp, out: &mut Out) {
    if op.signed {
        out.int(get_signed(v, op.offset, op.bits));
    } else {
        // At most 63 bits: never negative.
        out.int(get_unsigned(v, op.offset, op.bits) as i64);
    }
}

/// Runs the ops on `v` (long enough for every write), replying to each. Returns the changes
/// Redis 7.0 counts as dirty: each SET/INCRBY that stores a different value, or any that
/// stores at all when the string was created or grown (`grew`); FAIL-ed ones count nothing.
fn run_field_ops(v: &mut [u8], ops: &[FieldOp], grew: bool, out: &mut Out) -> u64 {
    let mut changes = 0;
    out.array(ops.len());
    for op in ops {
        // (old bits, new bits, reply) of a write; None when OVERFLOW FAIL refuses it.
        let write: Option<(u64, u64, i64)> = match (op.kind, op.signed) {
            (FieldOpKind::Get, _) => {
                reply_get(v, op, out);
                continue;
            }
            (kind, true) => {
                let old = get_signed(v, op.offset, op.bits);
                let (ovf, new) = if kind == FieldOpKind::Incrby {
                    let ovf = signed_overflow(old, op.arg, op.bits, op.overflow);
                    (
                        ovf.is_some(),
                        ovf.unwrap_or_else(|| old.wrapping_add(op.arg)),
                    )
                } else {
                    let ovf = signed_overflow(op.arg, 0, op.bits, op.overflow);
                    (ovf.is_some(), ovf.unwrap_or(op.arg))
                };
                let reply = if kind == FieldOpKind::Incrby {
                    new
                } else {
                    old
                };
                (!(ovf && op.overflow == Overflow::Fail)).then_some((old as u64, new as u64, reply))
            }
            (kind, false) => {
                let old = get_unsigned(v, op.offset, op.bits);
                let (ovf, new) = if kind == FieldOpKind::Incrby {
                    let ovf = unsigned_overflow(old, op.arg, op.bits, op.overflow);
                    (
                        ovf.is_some(),
                        ovf.unwrap_or_else(|| old.wrapping_add(op.arg as u64)),
                    )
                } else {
                    let ovf = unsigned_overflow(op.arg as u64, 0, op.bits, op.overflow);
                    (ovf.is_some(), ovf.unwrap_or(op.arg as u64))
                };
                // Unsigned fields hold at most 63 bits: the reply is never negative.
                let reply = if kind == FieldOpKind::Incrby {
                    new
                } else {
                    old
                } as i64;
                (!(ovf && op.overflow == Overflow::Fail)).then_some((old, new, reply))
            }
        };
        match write {
            Some((old, new, reply)) => {
                out.int(reply);
                set_field(v, op.offset, op.bits, new);
                if grew || old != new {
                    changes += 1;
                }
            }
            None => out.null(),
        }
    }
    changes
}

fn bitfield(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    bitfield_generic(ctx, argv, out, false)
}

fn bitfield_ro(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    bitfield_generic(ctx, argv, out, true)
}

fn bitfield_generic(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out, ro: bool) -> CmdResult {
    let key = argv[1];
    // Every argument is checked before the key is touched.
    let (ops, highest) = parse_field_ops(argv)?;
    let Some(highest) = highest else {
        // Only GETs: a read that never creates the key; a missing key reads as zeros.
        let v: &[u8] = match ctx.lookup_read_str(key)? {
            Some(e) => e.value(),
            None => &[],
        };
        out.array(ops.len());
        for op in &ops {
            reply_get(v, op, out);
        }
        return Ok(());
    };
    if ro {
        return Err(CmdError::new(
            "ERR BITFIELD_RO only supports the GET subcommand",
        ));
    }
    // The string grows (zero padded) to hold the farthest bit written.
    let need = (highest >> 3) as usize + 1;
    let lru = ctx.shard.lru_clock;
    let (changes, new) = match ctx.lookup_str(key)? {
        None => {
            let mut v = vec![0u8; need];
            let changes = run_field_ops(&mut v, &ops, true, out);
            let mut e = Entry::new(key, &v, None, lru);
            e.set_raw();
            (changes, Some(e))
        }
        // In place; Redis unshares (raw-encodes) the string even if nothing changes.
        Some(e) if e.value().len() >= need => {
            (run_field_ops(e.value_mut(), &ops, false, out), None)
        }
        Some(e) => {
            let mut v = Vec::with_capacity(need);
            v.extend_from_slice(e.value());
            v.resize(need, 0);
            let changes = run_field_ops(&mut v, &ops, true, out);
            (changes, Some(e.with_value(&v)))
        }
    };
    if let Some(e) = new {
        // Not ctx.insert: Redis counts only the changes as dirty, even for a new key.
        ctx.db().insert(e);
    }
    ctx.shard.dirty += changes;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitop_keys_start_at_the_destination() {
        let c = commands()
            .into_iter()
            .find(|c| c.name == "bitop")
            .expect("bitop");
        assert_eq!(
            c.key_positions(&[b"x"; 6]).collect::<Vec<_>>(),
            vec![2, 3, 4, 5]
        );
        assert_eq!(c.group, "bitmap");
    }

    #[test]
    fn bit_ranges_mask_partial_bytes() {
        let v = [0xffu8, 0xff, 0xff];
        assert_eq!(count_bits(&v, 0, 23), 24);
        assert_eq!(count_bits(&v, 3, 3), 1);
        assert_eq!(count_bits(&v, 5, 17), 13);
        assert_eq!(find_bit(&[0x00, 0x01], 0, 15, true), Some(15));
        assert_eq!(find_bit(&[0xff; 20], 3, 150, false), None);
        let mut z = [0u8; 20];
        z[19] = 0x10;
        assert_eq!(find_bit(&z, 1, 159, true), Some(155));
        assert_eq!(find_bit(&z, 1, 154, true), None);
        assert_eq!(bit_offset(b"4294967295"), Ok(4294967295));
        assert!(bit_offset(b"4294967296").is_err());
        assert!(bit_offset(b"-1").is_err());
    }

    #[test]
    fn bitfields_read_and_write_across_bytes() {
        let mut v = [0u8; 10];
        set_field(&mut v, 7, 5, 23);
        assert_eq!(&v[..2], &[0b0000_0001, 0b0111_0000]);
        assert_eq!(get_unsigned(&v, 7, 5), 23);
        assert_eq!(get_signed(&v, 7, 5), -9);
        set_field(&mut v, 3, 64, u64::MAX);
        assert_eq!(
            v[..9],
            [0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xe0]
        );
        assert_eq!(get_signed(&v, 3, 64), -1);
        assert_eq!(get_unsigned(&v, 3, 63), i64::MAX as u64);
        // Past the end reads as zeros; the last byte may be cut short.
        assert_eq!(get_unsigned(&[0xff], 4, 8), 0xf0);
        assert_eq!(get_unsigned(&[], 1000, 63), 0);
        let mut one = [0u8; 1];
        set_field(&mut one, 0, 8, 0xab);
        assert_eq!(one, [0xab]);
    }

    #[test]
    fn bitfield_overflow_follows_redis() {
        use Overflow::*;
        assert_eq!(unsigned_overflow(250, 10, 8, Wrap), Some(4));
        assert_eq!(unsigned_overflow(250, 10, 8, Sat), Some(255));
        assert_eq!(unsigned_overflow(5, -10, 8, Sat), Some(0));
        assert_eq!(unsigned_overflow(5, -10, 8, Wrap), Some(251));
        assert_eq!(unsigned_overflow(5, 250, 8, Wrap), None);
        // SET of a negative value: its two's complement is out of range.
        assert_eq!(unsigned_overflow(-1i64 as u64, 0, 8, Sat), Some(255));
        assert_eq!(signed_overflow(127, 1, 8, Wrap), Some(-128));
        assert_eq!(signed_overflow(-128, -1, 8, Sat), Some(-128));
        assert_eq!(signed_overflow(i64::MAX, 1, 64, Wrap), Some(i64::MIN));
        assert_eq!(signed_overflow(i64::MIN, -1, 64, Sat), Some(i64::MIN));
        assert_eq!(signed_overflow(i64::MIN, i64::MAX, 64, Sat), None);
        assert_eq!(signed_overflow(-5, 0, 1, Wrap), Some(-1));
        assert_eq!(signed_overflow(5, 0, 1, Sat), Some(0));
    }

    #[test]
    fn bitfield_types_and_offsets() {
        assert_eq!(field_type(b"i64"), Ok((true, 64)));
        assert_eq!(field_type(b"u63"), Ok((false, 63)));
        assert_eq!(field_type(b"u8\0junk"), Ok((false, 8)));
        for bad in [&b"u64"[..], b"i65", b"i0", b"I8", b"", b"i", b"i08"] {
            assert!(field_type(bad).is_err());
        }
        assert_eq!(field_offset(b"#3", 5), Ok(15));
        assert_eq!(field_offset(b"#2305843009213693952", 8), Ok(0));
        assert!(field_offset(b"#-1", 8).is_err());
        assert!(field_offset(b"#536870912", 8).is_err());
    }
}
