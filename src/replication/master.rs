//! The master side of replication: propagation, the backlog, replicas, WAIT.

use crate::runtime::Server;

/// Master-side state, shared by all shards (`Server::master`).
#[derive(Default)]
pub struct MasterState {}

/// Appends bytes of the stream received from our own master to our backlog and passes them on
/// to our replicas (chained replication: a replica proxies its master's stream verbatim).
pub fn feed_from_master(_server: &Server, _bytes: &[u8]) {}

/// After a full sync from a master: adopt its replication ID and offset, so our own replicas
/// can continue from it (as Redis does), and clear the backlog.
pub fn adopt_master_history(_server: &Server, _replid: &str, _offset: u64) {}

/// REPLICAOF NO ONE: the old ID becomes master_replid2 (valid up to the current offset,
/// second_repl_offset), and a new ID starts.
pub fn shift_replid(_server: &Server) {}
