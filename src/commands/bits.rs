//! Bit commands (Redis's bitops.c).

use crate::runtime::proto_max_bulk_len;
use super::{args, err, flags::*, CmdError, CmdResult, Command, Ctx, Route, Run};
use crate::protocol::Out;
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
    Command {
        name,
        arity,
        flags,
        first_key: first,
        last_key: last,
        step: 1,
        categories,
        group: "bitmap",
        summary,
        since,
        run: Run::Data(f, Route::Keys),
    }
}

pub fn commands() -> Vec<Command> {
    vec![
        data("setbit", 4, WRITE | DENYOOM, 1, 1, "@write @bitmap @slow", "Sets or clears the bit at offset in the string value stored at key", "2.2.0", setbit),
        data("getbit", 3, READONLY | FAST, 1, 1, "@read @bitmap @fast", "Returns the bit value at offset in the string value stored at key", "2.2.0", getbit),
        data("bitcount", -2, READONLY, 1, 1, "@read @bitmap @slow", "Count set bits in a string", "2.6.0", bitcount),
        data("bitpos", -3, READONLY, 1, 1, "@read @bitmap @slow", "Find first bit set or clear in a string", "2.8.7", bitpos),
        data("bitop", -4, WRITE | DENYOOM, 2, -1, "@write @bitmap @slow", "Perform bitwise operations between strings", "2.6.0", bitop),
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
    let new = match ctx.lookup(key) {
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
        .lookup_read(argv[1])
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
    let Some(e) = ctx.lookup_read(argv[1]) else {
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
    let Some(e) = ctx.lookup_read(argv[1]) else {
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
        let src: &[u8] = match ctx.lookup_read(k) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitop_keys_start_at_the_destination() {
        let c = commands().into_iter().find(|c| c.name == "bitop").expect("bitop");
        assert_eq!(c.key_positions(6).collect::<Vec<_>>(), vec![2, 3, 4, 5]);
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
}
