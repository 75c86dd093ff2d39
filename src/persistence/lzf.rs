//! LZF compression, the format of Redis's compressed RDB strings.
//!
//! The stream is a sequence of items, each starting with a control byte `c`:
//! - `c < 32`: a literal run; the next `c + 1` bytes are copied to the output;
//! - otherwise a back reference: `n = c >> 5` (1..=7; 7 means "add the next byte"), then one
//!   more byte completes the 13-bit distance `d = ((c & 31) << 8 | byte)`; `n + 2` bytes are
//!   copied from `d + 1` bytes back in the output (the copy may overlap what it produces).
//!
//! Any compressor producing this format is compatible with liblzf's decompressor; this one is
//! a small greedy matcher over a hash of 3-byte prefixes.

const MAX_LITERAL: usize = 32;
const MAX_DISTANCE: usize = 1 << 13;
const MIN_MATCH: usize = 3;
/// 7 in the control byte plus 255 in the extra byte, plus the implicit 2.
const MAX_MATCH: usize = 7 + 255 + 2;
/// The largest hash table (entries); small inputs use smaller ones, so compressing many short
/// strings does not pay for clearing a big table each time.
const MAX_HASH_BITS: u32 = 14;
const MIN_HASH_BITS: u32 = 8;
/// An empty hash slot.
const NONE: usize = usize::MAX;

/// Most output bytes one input byte can turn into: a back reference of 3 bytes yields at most
/// MAX_MATCH bytes. A claimed length above `compressed_len * MAX_EXPANSION` is corrupt.
pub const MAX_EXPANSION: usize = MAX_MATCH.div_ceil(3);

#[inline]
fn hash(b: &[u8], bits: u32) -> usize {
    let v = (b[0] as u32) | (b[1] as u32) << 8 | (b[2] as u32) << 16;
    (v.wrapping_mul(0x9e37_79b1) >> (32 - bits)) as usize
}

/// Appends the compressed form of `input` to `out`; false (and `out` unchanged) when it would
/// not be smaller than `input`.
pub fn compress(input: &[u8], out: &mut Vec<u8>) -> bool {
    match input.len().checked_sub(1) {
        Some(max) => compress_bounded(input, out, max).is_some(),
        None => false,
    }
}

/// Appends the compressed form of `input` to `out` if it takes at most `max_len` bytes, and
/// returns its length; otherwise None and `out` is left as it was (liblzf's `out_len` limit,
/// which Redis sets to `len - 4` so that compression must save at least four bytes).
pub fn compress_bounded(input: &[u8], out: &mut Vec<u8>, max_len: usize) -> Option<usize> {
    let start = out.len();
    let limit = start.checked_add(max_len)?;
    let r = compress_inner(input, out, limit);
    if r.is_none() {
        out.truncate(start);
    }
    r.map(|()| out.len() - start)
}

fn compress_inner(input: &[u8], out: &mut Vec<u8>, limit: usize) -> Option<()> {
    let n = input.len();
    // Reserve the bound (a little above `n` for incompressible data), never past the limit.
    out.reserve((n + n / MAX_LITERAL + 1).min(limit - out.len()));
    let bits = (usize::BITS - n.leading_zeros()).clamp(MIN_HASH_BITS, MAX_HASH_BITS);
    let mut table = vec![NONE; 1 << bits];
    let mut lit_start = 0;
    let mut ip = 0;
    while ip + MIN_MATCH <= n {
        let h = hash(&input[ip..], bits);
        let cand = table[h];
        table[h] = ip;
        if cand != NONE
            && ip - cand <= MAX_DISTANCE
            && input[cand..cand + MIN_MATCH] == input[ip..ip + MIN_MATCH]
        {
            let max = MAX_MATCH.min(n - ip);
            let mut len = MIN_MATCH;
            while len < max && input[cand + len] == input[ip + len] {
                len += 1;
            }
            emit_literals(&input[lit_start..ip], out, limit)?;
            emit_match(ip - cand - 1, len, out, limit)?;
            // Index the positions the match covered (all but the last two, which have no
            // 3-byte prefix inside the match), so following data can refer to them.
            let end = ip + len;
            let mut p = ip + 1;
            while p + MIN_MATCH <= n && p < end {
                table[hash(&input[p..], bits)] = p;
                p += 1;
            }
            ip = end;
            lit_start = ip;
        } else {
            ip += 1;
        }
    }
    emit_literals(&input[lit_start..], out, limit)
}

fn emit_literals(lit: &[u8], out: &mut Vec<u8>, limit: usize) -> Option<()> {
    for run in lit.chunks(MAX_LITERAL) {
        if out.len() + 1 + run.len() > limit {
            return None;
        }
        out.push((run.len() - 1) as u8);
        out.extend_from_slice(run);
    }
    Some(())
}

/// A back reference `len` bytes long, `dist + 1` bytes back.
fn emit_match(dist: usize, len: usize, out: &mut Vec<u8>, limit: usize) -> Option<()> {
    let code = len - 2;
    let hi = (dist >> 8) as u8;
    let lo = (dist & 0xff) as u8;
    if code < 7 {
        if out.len() + 2 > limit {
            return None;
        }
        out.extend_from_slice(&[(code as u8) << 5 | hi, lo]);
    } else {
        if out.len() + 3 > limit {
            return None;
        }
        out.extend_from_slice(&[7 << 5 | hi, (code - 7) as u8, lo]);
    }
    Some(())
}

/// Decompresses `input`, which must expand to exactly `len` bytes.
pub fn decompress(input: &[u8], len: usize) -> Option<Vec<u8>> {
    // No valid stream expands more than this: refuse a corrupt length before allocating it.
    if len > input.len().saturating_mul(MAX_EXPANSION) {
        return None;
    }
    let mut out = Vec::with_capacity(len);
    let mut ip = 0;
    while ip < input.len() {
        let c = input[ip] as usize;
        ip += 1;
        if c < 32 {
            let run = c + 1;
            let lit = input.get(ip..ip + run)?;
            if out.len() + run > len {
                return None;
            }
            out.extend_from_slice(lit);
            ip += run;
        } else {
            let mut n = c >> 5;
            if n == 7 {
                n += *input.get(ip)? as usize;
                ip += 1;
            }
            let n = n + 2;
            let back = ((c & 31) << 8 | *input.get(ip)? as usize) + 1;
            ip += 1;
            if back > out.len() || out.len() + n > len {
                return None;
            }
            let from = out.len() - back;
            if back >= n {
                out.extend_from_within(from..from + n);
            } else {
                // Overlapping: each byte may be one this copy just produced.
                for i in 0..n {
                    let b = out[from + i];
                    out.push(b);
                }
            }
        }
    }
    (out.len() == len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(data: &[u8]) {
        let mut c = Vec::new();
        if compress_bounded(data, &mut c, data.len() + data.len() / 32 + 1).is_some() {
            assert_eq!(decompress(&c, data.len()).as_deref(), Some(data));
        } else {
            panic!("the worst-case bound must always fit");
        }
    }

    #[test]
    fn decodes_redis_output() {
        // Redis 7.0 DUMPs "a" x 100 as these 9 bytes.
        let c = [0x01, 0x61, 0x61, 0xe0, 0x57, 0x00, 0x01, 0x61, 0x61];
        assert_eq!(decompress(&c, 100), Some(vec![b'a'; 100]));
        assert_eq!(decompress(&c, 99), None);
        assert_eq!(decompress(&c, 101), None);
    }

    #[test]
    fn compresses_repetitive_data() {
        let data = vec![b'a'; 100];
        let mut c = Vec::new();
        assert!(compress(&data, &mut c));
        assert!(c.len() < 12, "{c:?}");
        assert_eq!(decompress(&c, 100), Some(data));
        let text = b"hello world hello world hello world hello world hello world".repeat(50);
        let mut c = Vec::new();
        assert!(compress(&text, &mut c));
        assert!(c.len() < text.len() / 4, "{}", c.len());
        assert_eq!(decompress(&c, text.len()), Some(text));
    }

    #[test]
    fn bounded_output_leaves_out_untouched() {
        let data: Vec<u8> = (0..100u32).map(|i| (i * 131 % 251) as u8).collect();
        let mut out = vec![9, 9];
        assert!(compress_bounded(&data, &mut out, 50).is_none());
        assert_eq!(out, vec![9, 9]);
        assert!(!compress(&data, &mut out));
        assert_eq!(out, vec![9, 9]);
        assert!(!compress(b"", &mut out));
        assert_eq!(compress_bounded(b"", &mut out, 0), Some(0));
    }

    #[test]
    fn edge_sizes() {
        for n in [
            0, 1, 2, 3, 4, 31, 32, 33, 64, 263, 264, 265, 8191, 8192, 8193, 20000,
        ] {
            round_trip(&vec![b'x'; n]);
            let v: Vec<u8> = (0..n).map(|i| (i % 7) as u8).collect();
            round_trip(&v);
            let v: Vec<u8> = (0..n as u64)
                .map(|i| (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as u8)
                .collect();
            round_trip(&v);
        }
    }

    #[test]
    fn far_repeats_stay_in_range() {
        // A block repeated beyond the 8 KiB window must not be referenced.
        let block: Vec<u8> = (0..9000u64)
            .map(|i| (i.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8)
            .collect();
        let mut data = block.clone();
        data.extend_from_slice(&block);
        round_trip(&data);
    }

    #[test]
    fn rejects_bad_streams() {
        // Reference before the start.
        assert_eq!(decompress(&[0x20, 0x00], 3), None);
        // Truncated literal, truncated reference, truncated long reference.
        assert_eq!(decompress(&[0x03, b'a'], 4), None);
        assert_eq!(decompress(&[0x00, b'a', 0x20], 4), None);
        assert_eq!(decompress(&[0x00, b'a', 0xe0, 0x01], 100), None);
        // Output longer or shorter than claimed.
        assert_eq!(decompress(&[0x01, b'a', b'b'], 1), None);
        assert_eq!(decompress(&[0x01, b'a', b'b'], 3), None);
        // A claimed length no stream of this size can reach is refused before allocating.
        assert_eq!(decompress(&[0x00, b'a'], usize::MAX), None);
        assert_eq!(decompress(&[], 0), Some(Vec::new()));
        assert_eq!(decompress(&[], 1), None);
    }

    proptest! {
        #[test]
        fn random_round_trip(data in proptest::collection::vec(any::<u8>(), 0..3000)) {
            round_trip(&data);
        }

        #[test]
        fn low_entropy_round_trip(data in proptest::collection::vec(0u8..4, 0..20000)) {
            let mut c = Vec::new();
            if compress(&data, &mut c) {
                prop_assert!(c.len() < data.len());
                prop_assert_eq!(decompress(&c, data.len()), Some(data));
            } else {
                prop_assert!(c.is_empty());
            }
        }

        #[test]
        fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..500),
                                len in 0usize..5000) {
            if let Some(out) = decompress(&data, len) {
                prop_assert_eq!(out.len(), len);
            }
        }
    }
}
