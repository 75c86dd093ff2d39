//! Connection and server commands (PING, SELECT, HELLO, INFO, CONFIG, CLIENT, COMMAND...).

use super::{args, err, flags::*, CmdError, CmdResult, Command, Ctx, Route, Run};
use crate::protocol::{Out, Proto, Reply};
use crate::server::conn::{ConnCtx, Effect};

pub fn commands() -> Vec<Command> {
    vec![
        Command { name: "ping", arity: -1, flags: FAST | STALE, first_key: 0, last_key: 0, step: 0, categories: "@fast @connection", group: "connection", summary: "Returns the server's liveliness response.", since: "1.0.0", run: Run::Data(ping, Route::Keys) },
        Command { name: "select", arity: 2, flags: LOADING | STALE | FAST, first_key: 0, last_key: 0, step: 0, categories: "@fast @connection", group: "connection", summary: "Changes the selected database.", since: "1.0.0", run: Run::Conn(select) },
        Command { name: "quit", arity: -1, flags: NO_AUTH | LOADING | STALE | FAST, first_key: 0, last_key: 0, step: 0, categories: "@fast @connection", group: "connection", summary: "Closes the connection.", since: "1.0.0", run: Run::Conn(quit) },
        Command { name: "hello", arity: -1, flags: NO_AUTH | LOADING | STALE | FAST, first_key: 0, last_key: 0, step: 0, categories: "@fast @connection", group: "connection", summary: "Handshakes with the Redis server.", since: "6.0.0", run: Run::Conn(hello) },
        Command { name: "dbsize", arity: 1, flags: READONLY | FAST, first_key: 0, last_key: 0, step: 0, categories: "@keyspace @read @fast", group: "server", summary: "Returns the number of keys in the database.", since: "1.0.0", run: Run::Conn(dbsize) },
        Command { name: "flushall", arity: -1, flags: WRITE, first_key: 0, last_key: 0, step: 0, categories: "@keyspace @write @slow @dangerous", group: "server", summary: "Removes all keys from all databases.", since: "1.0.0", run: Run::Conn(flushall) },
    ]
}

fn ping(_ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    match argv.len() {
        1 => out.simple("PONG"),
        2 => out.bulk(argv[1]),
        _ => return Err(CmdError::new(super::arity_error("ping"))),
    }
    Ok(())
}

fn select(c: &mut ConnCtx, argv: &[&[u8]], out: &mut Out) -> Result<Effect, CmdError> {
    let db = args::int(argv[1]).map_err(|_| err::NOT_INT)?;
    if !(0..crate::runtime::shard::DATABASES as i64).contains(&db) {
        return Err(err::DB_INDEX);
    }
    c.db = db as usize;
    c.info.borrow_mut().db = c.db;
    out.ok();
    Ok(Effect::Done)
}

fn quit(_c: &mut ConnCtx, _argv: &[&[u8]], out: &mut Out) -> Result<Effect, CmdError> {
    out.ok();
    Ok(Effect::Close)
}

fn hello(c: &mut ConnCtx, argv: &[&[u8]], out: &mut Out) -> Result<Effect, CmdError> {
    if argv.len() >= 2 {
        match args::int(argv[1]) {
            Ok(2) => c.proto = Proto::Resp2,
            Ok(3) => c.proto = Proto::Resp3,
            _ => return Err(CmdError::new("NOPROTO unsupported protocol version")),
        }
    }
    out.proto = c.proto;
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(b"7.0.15");
    out.bulk(b"proto");
    out.int(if c.proto == Proto::Resp3 { 3 } else { 2 });
    out.bulk(b"id");
    out.int(c.id as i64);
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(b"master");
    out.bulk(b"modules");
    out.array(0);
    Ok(Effect::Done)
}

fn dbsize(c: &mut ConnCtx, _argv: &[&[u8]], _out: &mut Out) -> Result<Effect, CmdError> {
    let db = c.db;
    Ok(Effect::global(
        move |sh| Reply::Int(sh.dbs[db].len() as i64),
        |_c, replies, out| {
            let n: i64 = replies.iter().map(|r| if let Reply::Int(n) = r { *n } else { 0 }).sum();
            out.int(n);
            Ok(())
        },
    ))
}

fn flushall(_c: &mut ConnCtx, _argv: &[&[u8]], _out: &mut Out) -> Result<Effect, CmdError> {
    Ok(Effect::global(
        |sh| {
            for d in sh.dbs.iter_mut() {
                d.clear();
            }
            Reply::Ok
        },
        |_c, _r, out| {
            out.ok();
            Ok(())
        },
    ))
}
