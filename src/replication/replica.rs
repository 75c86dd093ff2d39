//! The replica side of replication: the link to a master.

use std::sync::Arc;

use crate::runtime::Server;

/// Replica-side state (`Server::replica`): the configured master and the link's state.
#[derive(Default)]
pub struct ReplicaState {}

impl ReplicaState {
    /// Whether this server replicates a master (clients' writes are refused).
    pub fn is_replica(&self) -> bool {
        false
    }
}

/// REPLICAOF host port (Some) or NO ONE (None); also `--replicaof` at start-up.
pub fn set_master(_server: &Arc<Server>, _target: Option<(String, u16)>) -> Result<(), String> {
    Err("ERR replication is not implemented yet".into())
}
