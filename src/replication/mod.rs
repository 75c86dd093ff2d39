//! Replication (../shared/design.md sections 5 and 6).
//!
//! - `master.rs`: the master side: writes propagated from every shard into one backlog (one byte
//!   stream, one offset, as Redis), replicas served over PSYNC (full resync from a point-in-time
//!   snapshot, or partial from the backlog), ACKs, WAIT; `backlog.rs` (the stream's encoding,
//!   SELECT and MULTI/EXEC framing, the backlog buffer) and `propagate.rs` (what each write
//!   propagates: Redis 7.0's rewrites) serve it.
//! - `replica.rs`: the replica side: the link to a master (handshake, RDB load, applying the
//!   command stream per shard in order, offsets, ACKs, reconnecting), REPLICAOF.

pub mod backlog;
pub mod master;
pub mod propagate;
pub mod replica;
