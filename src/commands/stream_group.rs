//! Consumer-group commands (Redis's t_stream.c, second half): XGROUP, XACK, XPENDING, XCLAIM,
//! XAUTOCLAIM, and XINFO (STREAM, GROUPS, CONSUMERS).

use super::Command;

pub fn commands() -> Vec<Command> {
    Vec::new()
}
