//! LZF compression, the format of Redis's compressed RDB strings.

/// Appends the compressed form of `input` to `out`; false (and `out` unchanged) when it would
/// not be smaller than `input`.
pub fn compress(input: &[u8], out: &mut Vec<u8>) -> bool {
    let _ = (input, out);
    false
}

/// Decompresses `input`, which must expand to exactly `len` bytes.
pub fn decompress(input: &[u8], len: usize) -> Option<Vec<u8>> {
    let _ = (input, len);
    None
}
