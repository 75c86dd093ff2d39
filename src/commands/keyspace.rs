//! Keyspace commands (Redis's db.c and expire.c).

use super::{flags::*, CmdResult, Command, Ctx, Route, Run};
use crate::protocol::Out;

pub fn commands() -> Vec<Command> {
    vec![
        Command { name: "del", arity: -2, flags: WRITE, first_key: 1, last_key: -1, step: 1, categories: "@keyspace @write @slow", group: "generic", summary: "Deletes one or more keys.", since: "1.0.0", run: Run::Data(del, Route::Keys) },
        Command { name: "exists", arity: -2, flags: READONLY | FAST, first_key: 1, last_key: -1, step: 1, categories: "@keyspace @read @fast", group: "generic", summary: "Determines whether one or more keys exist.", since: "1.0.0", run: Run::Data(exists, Route::Keys) },
    ]
}

fn del(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let n = argv[1..].iter().filter(|k| ctx.remove(k).is_some()).count();
    out.int(n as i64);
    Ok(())
}

fn exists(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let n = argv[1..].iter().filter(|k| ctx.exists(k)).count();
    out.int(n as i64);
    Ok(())
}
