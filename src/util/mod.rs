//! Small, dependency-free helpers shared by the command implementations:
//! Redis-compatible glob matching and number parsing / formatting.
//!
//! Every function here is total: it never panics, whatever bytes a client
//! sends.

pub mod clock;
pub mod glob;
pub mod num;

pub use glob::glob_match;
pub use num::{
    format_double, format_i64, format_incrbyfloat, incr_by_float, parse_f64, parse_i64,
    IncrFloatError,
};
