//! The keyspace of one shard: per-database tables of entries, with expiry stored in each entry.

pub mod db;
pub mod entry;
pub mod object;
pub mod stream;
pub mod table;

pub use db::Db;
pub use entry::Entry;

/// Milliseconds since the Unix epoch (the clock expiry is measured on, as in Redis).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
