//! XREAD and XREADGROUP, and blocking on streams.

use super::Command;

pub fn commands() -> Vec<Command> {
    Vec::new()
}
