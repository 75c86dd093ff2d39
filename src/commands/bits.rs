//! Bit commands (Redis's bitops.c).

use super::Command;

pub fn commands() -> Vec<Command> {
    vec![]
}
