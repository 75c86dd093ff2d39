//! Persistence: the RDB file format (read Redis's files, write files Redis reads), DUMP/RESTORE
//! payloads, and snapshots taken across shards without fork.

pub mod crc64;
pub mod load;
pub mod lzf;
pub mod rdb;
pub mod snapshot;
