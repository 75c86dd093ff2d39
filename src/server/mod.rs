//! Configuration, connections, client registry, logging.

pub mod blocking;
pub mod client;
pub mod config;
pub mod conn;
pub mod log;
pub mod transaction;
