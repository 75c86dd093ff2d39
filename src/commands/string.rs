//! String commands (Redis's t_string.c).

use super::{args, err, flags::*, CmdResult, Command, Ctx, Route, Run};
use crate::protocol::Out;

#[allow(clippy::too_many_arguments)]
const fn data(
    name: &'static str,
    arity: i32,
    flags: u32,
    first: i32,
    last: i32,
    step: i32,
    categories: &'static str,
    summary: &'static str,
    since: &'static str,
    f: super::DataFn,
) -> Command {
    Command {
        name,
        arity,
        flags,
        first_key: first,
        last_key: last,
        step,
        categories,
        group: "string",
        summary,
        since,
        run: Run::Data(f, Route::Keys),
    }
}

pub fn commands() -> Vec<Command> {
    vec![
        data("get", 2, READONLY | FAST, 1, 1, 1, "@read @string @fast", "Returns the string value of a key.", "1.0.0", get),
        data("set", -3, WRITE | DENYOOM, 1, 1, 1, "@write @string @slow", "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", "1.0.0", set),
    ]
}

fn get(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    match ctx.lookup_read(argv[1]) {
        Some(e) => out.bulk(e.value()),
        None => out.null(),
    }
    Ok(())
}

fn set(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let _ = args::is;
    if argv.len() > 3 {
        return Err(err::SYNTAX);
    }
    ctx.set(argv[1], argv[2], None);
    out.ok();
    Ok(())
}
