//! shoal: a Redis-compatible in-memory server, thread-per-core and shared-nothing on io_uring.
//! See docs/architecture.md for how the pieces fit.

pub mod commands;
pub mod persistence;
pub mod protocol;
pub mod replication;
pub mod runtime;
pub mod server;
pub mod storage;
pub mod util;
