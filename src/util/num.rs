pub fn parse_i64(s: &[u8]) -> Option<i64> { std::str::from_utf8(s).ok()?.parse().ok() }
pub fn parse_f64(s: &[u8]) -> Option<f64> { std::str::from_utf8(s).ok()?.parse().ok() }
pub fn format_i64(v: i64, out: &mut Vec<u8>) { out.extend_from_slice(v.to_string().as_bytes()) }
pub fn format_incrbyfloat(v: f64) -> Vec<u8> { v.to_string().into_bytes() }
pub fn format_double(v: f64, out: &mut Vec<u8>) { out.extend_from_slice(v.to_string().as_bytes()) }
