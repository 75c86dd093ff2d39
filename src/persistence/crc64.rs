//! CRC-64/Jones, as Redis uses for RDB files and DUMP payloads (reflected, init 0, no xorout).
//!
//! Whole RDB files go through this, so it works 16 bytes at a time ("slicing-by-16": sixteen
//! 256-entry tables, built at compile time, let one step fold 16 input bytes with 16 independent
//! lookups instead of a dependent chain of 16).

/// The Jones polynomial 0xad93d23594c935a9, bit-reversed for the reflected algorithm.
const POLY_REFLECTED: u64 = 0x95ac_9329_ac4b_c9b5;

const SLICES: usize = 16;

/// TABLES[0][b]: the CRC of the single byte b. TABLES[k][b]: the same byte followed by k zero
/// bytes, so a byte k positions before the end of a block contributes TABLES[k][b].
static TABLES: [[u64; 256]; SLICES] = build_tables();

const fn build_tables() -> [[u64; 256]; SLICES] {
    let mut t = [[0u64; 256]; SLICES];
    let mut b = 0;
    while b < 256 {
        let mut crc = b as u64;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ POLY_REFLECTED
            } else {
                crc >> 1
            };
            bit += 1;
        }
        t[0][b] = crc;
        b += 1;
    }
    let mut k = 1;
    while k < SLICES {
        let mut b = 0;
        while b < 256 {
            let prev = t[k - 1][b];
            t[k][b] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            b += 1;
        }
        k += 1;
    }
    t
}

#[inline]
fn step_byte(crc: u64, b: u8) -> u64 {
    TABLES[0][((crc ^ b as u64) & 0xff) as usize] ^ (crc >> 8)
}

/// Continues `crc` over `data` (start with 0).
pub fn crc64(crc: u64, data: &[u8]) -> u64 {
    let t = &TABLES;
    let mut crc = crc;
    let mut chunks = data.chunks_exact(SLICES);
    for c in &mut chunks {
        let mut lo = [0u8; 8];
        let mut hi = [0u8; 8];
        lo.copy_from_slice(&c[..8]);
        hi.copy_from_slice(&c[8..]);
        // The running CRC folds into the first 8 bytes; the last 8 are taken as they are.
        let a = (u64::from_le_bytes(lo) ^ crc).to_le_bytes();
        let h = hi;
        crc = t[15][a[0] as usize]
            ^ t[14][a[1] as usize]
            ^ t[13][a[2] as usize]
            ^ t[12][a[3] as usize]
            ^ t[11][a[4] as usize]
            ^ t[10][a[5] as usize]
            ^ t[9][a[6] as usize]
            ^ t[8][a[7] as usize]
            ^ t[7][h[0] as usize]
            ^ t[6][h[1] as usize]
            ^ t[5][h[2] as usize]
            ^ t[4][h[3] as usize]
            ^ t[3][h[4] as usize]
            ^ t[2][h[5] as usize]
            ^ t[1][h[6] as usize]
            ^ t[0][h[7] as usize];
    }
    for &b in chunks.remainder() {
        crc = step_byte(crc, b);
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Bit by bit, straight from the definition: the reference the tables are checked against.
    fn crc64_bitwise(mut crc: u64, data: &[u8]) -> u64 {
        for &b in data {
            crc ^= b as u64;
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ POLY_REFLECTED
                } else {
                    crc >> 1
                };
            }
        }
        crc
    }

    #[test]
    fn check_value() {
        assert_eq!(crc64(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
        assert_eq!(crc64_bitwise(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
    }

    #[test]
    fn matches_a_redis_dump_payload() {
        // DUMP of "hello" from redis-server 7.0: type, string, version 10, then the CRC of all
        // that, little-endian.
        let body = b"\x00\x05hello\x0a\x00";
        assert_eq!(
            crc64(0, body).to_le_bytes(),
            [0x63, 0x72, 0xdf, 0x76, 0x65, 0x34, 0x20, 0x0a]
        );
    }

    #[test]
    fn empty_input_keeps_crc() {
        assert_eq!(crc64(0, b""), 0);
        assert_eq!(crc64(12345, b""), 12345);
    }

    #[test]
    fn every_length_matches_bitwise() {
        let data: Vec<u8> = (0..200u32).map(|i| (i * 7 + 3) as u8).collect();
        for n in 0..data.len() {
            assert_eq!(
                crc64(0, &data[..n]),
                crc64_bitwise(0, &data[..n]),
                "len {n}"
            );
        }
    }

    proptest! {
        #[test]
        fn incremental_equals_one_shot(data in proptest::collection::vec(any::<u8>(), 0..600),
                                       cut in 0usize..600) {
            let cut = cut.min(data.len());
            let whole = crc64(0, &data);
            prop_assert_eq!(crc64(crc64(0, &data[..cut]), &data[cut..]), whole);
            prop_assert_eq!(whole, crc64_bitwise(0, &data));
        }
    }
}
