//! Configuration: one table of parameters read by the command line (clap), redis.conf-style files,
//! CONFIG GET and CONFIG SET, so every parameter is settable the same way everywhere.

use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Int {
        min: i64,
        max: i64,
    },
    /// A byte count that accepts units (1gb, 512mb, 100k); CONFIG GET prints plain bytes.
    Memory,
    Bool,
    Str,
    Enum(&'static [&'static str]),
    /// Like Str but validated by a custom rule at set time (save points, bind list...).
    Special,
}

pub struct Param {
    pub name: &'static str,
    pub default: &'static str,
    pub kind: Kind,
    /// Only settable at start-up (CONFIG SET refuses).
    pub immutable: bool,
}

const fn p(name: &'static str, default: &'static str, kind: Kind, immutable: bool) -> Param {
    Param {
        name,
        default,
        kind,
        immutable,
    }
}

const LOGLEVELS: &[&str] = &["debug", "verbose", "notice", "warning"];
/// enable-debug-command / enable-protected-configs (Redis's protected actions).
const PROTECTED_ACTION: &[&str] = &["no", "yes", "local"];
const POLICIES: &[&str] = &[
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "noeviction",
];
const I: Kind = Kind::Int {
    min: 0,
    max: i64::MAX,
};
/// Redis's C `int` parameters.
const INT: Kind = Kind::Int {
    min: 0,
    max: i32::MAX as i64,
};

/// Every parameter shoal has. `shards`' default is filled in at start-up (online CPUs).
pub const PARAMS: &[Param] = &[
    p("port", "6379", Kind::Int { min: 0, max: 65535 }, true),
    p("bind", "127.0.0.1", Kind::Special, true),
    p("shards", "0", Kind::Int { min: 1, max: 1024 }, true),
    p("dir", "", Kind::Special, false),
    p("dbfilename", "dump.rdb", Kind::Special, false),
    p("loglevel", "notice", Kind::Enum(LOGLEVELS), false),
    p("logfile", "", Kind::Str, true),
    p("databases", "16", Kind::Int { min: 16, max: 16 }, true),
    p(
        "maxclients",
        "10000",
        Kind::Int {
            min: 1,
            max: u32::MAX as i64,
        },
        false,
    ),
    p("timeout", "0", INT, false),
    p("tcp-keepalive", "300", INT, false),
    p("tcp-backlog", "511", INT, true),
    // Redis accepts any int and clamps to 1..500 where it uses it.
    p("hz", "10", INT, false),
    p("save", "3600 1 300 100 60 10000", Kind::Special, false),
    p("appendonly", "no", Kind::Bool, false),
    p("appendfilename", "appendonly.aof", Kind::Str, true),
    p("rdbcompression", "yes", Kind::Bool, false),
    p("rdbchecksum", "yes", Kind::Bool, false),
    p("stop-writes-on-bgsave-error", "yes", Kind::Bool, false),
    p("requirepass", "", Kind::Str, false),
    p("maxmemory", "0", Kind::Memory, false),
    p(
        "maxmemory-policy",
        "noeviction",
        Kind::Enum(POLICIES),
        false,
    ),
    p(
        "maxmemory-samples",
        "5",
        Kind::Int {
            min: 1,
            max: i32::MAX as i64,
        },
        false,
    ),
    p("stream-node-max-bytes", "4096", Kind::Memory, false),
    p("stream-node-max-entries", "100", INT, false),
    p("proto-max-bulk-len", "536870912", Kind::Memory, false),
    p(
        "client-query-buffer-limit",
        "1073741824",
        Kind::Memory,
        false,
    ),
    p("protected-mode", "yes", Kind::Bool, false),
    p("daemonize", "no", Kind::Bool, true),
    p("replica-read-only", "yes", Kind::Bool, false),
    // "HOST PORT" of the master to replicate, or empty (Redis's `replicaof`); REPLICAOF changes
    // it at run time.
    p("replicaof", "", Kind::Special, true),
    p("masterauth", "", Kind::Str, false),
    p("masteruser", "", Kind::Str, false),
    p(
        "repl-timeout",
        "60",
        Kind::Int {
            min: 1,
            max: i32::MAX as i64,
        },
        false,
    ),
    p("replica-priority", "100", INT, false),
    p("repl-backlog-size", "1048576", Kind::Memory, false),
    p(
        "repl-ping-replica-period",
        "10",
        Kind::Int {
            min: 1,
            max: i32::MAX as i64,
        },
        false,
    ),
    p("replica-announced", "yes", Kind::Bool, false),
    p("lazyfree-lazy-user-del", "no", Kind::Bool, false),
    p("lazyfree-lazy-user-flush", "no", Kind::Bool, false),
    p(
        "slowlog-log-slower-than",
        "10000",
        Kind::Int {
            min: -1,
            max: i64::MAX,
        },
        false,
    ),
    p("slowlog-max-len", "128", I, false),
    p("latency-tracking", "yes", Kind::Bool, false),
    p("lfu-log-factor", "10", INT, false),
    p("lfu-decay-time", "1", INT, false),
    p("notify-keyspace-events", "", Kind::Str, false),
    p("io-threads", "1", Kind::Int { min: 1, max: 128 }, true),
    p(
        "enable-debug-command",
        "no",
        Kind::Enum(PROTECTED_ACTION),
        true,
    ),
    p(
        "enable-protected-configs",
        "no",
        Kind::Enum(PROTECTED_ACTION),
        true,
    ),
];

/// Parameters CONFIG SET refuses unless enable-protected-configs allows it (as Redis 7).
pub const PROTECTED: &[&str] = &["dir", "dbfilename"];

pub fn param_index(name: &str) -> Option<usize> {
    PARAMS
        .iter()
        .position(|p| p.name.eq_ignore_ascii_case(name))
}

/// Parses a memory amount as Redis's memtoull: digits with optional b/k/kb/m/mb/g/gb units.
pub fn parse_memory(s: &str) -> Option<u64> {
    let lower = s.to_ascii_lowercase();
    let digits_end = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (num, unit) = lower.split_at(digits_end);
    if num.is_empty() {
        return None;
    }
    let mul: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    num.parse::<u64>().ok()?.checked_mul(mul)
}

#[derive(Clone, Debug)]
pub struct Config {
    values: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        let mut values: Vec<String> = PARAMS.iter().map(|p| p.default.to_string()).collect();
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        values[param_index("shards").unwrap_or(0)] = cpus.to_string();
        values[param_index("dir").unwrap_or(0)] = std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_else(|_| ".".into());
        Config { values }
    }
}

impl Config {
    pub fn get(&self, name: &str) -> &str {
        param_index(name).map_or("", |i| &self.values[i])
    }

    pub fn get_index(&self, i: usize) -> &str {
        &self.values[i]
    }

    pub fn int(&self, name: &str) -> i64 {
        self.get(name).parse().unwrap_or(0)
    }

    pub fn bool(&self, name: &str) -> bool {
        self.get(name) == "yes"
    }

    /// Validates and sets one parameter (command line, config file or CONFIG SET).
    /// The error is the reason Redis would give after "argument ...".
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let i = param_index(name).ok_or_else(|| format!("Unknown option '{name}'"))?;
        let p = &PARAMS[i];
        let v = match p.kind {
            Kind::Int { min, max } => {
                let n: i64 = value
                    .parse()
                    .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
                if n < min || n > max {
                    return Err(format!(
                        "argument must be between {min} and {max} inclusive"
                    ));
                }
                n.to_string()
            }
            Kind::Memory => {
                let n = parse_memory(value)
                    .ok_or_else(|| "argument must be a memory value".to_string())?;
                // As Redis: these two refuse less than 1mb.
                let min = match p.name {
                    "proto-max-bulk-len" | "client-query-buffer-limit" => 1 << 20,
                    _ => 0,
                };
                if n < min || n > i64::MAX as u64 {
                    return Err(format!(
                        "argument must be between {min} and {} inclusive",
                        i64::MAX
                    ));
                }
                n.to_string()
            }
            Kind::Bool => match value.to_ascii_lowercase().as_str() {
                "yes" => "yes".into(),
                "no" => "no".into(),
                _ => return Err("argument must be 'yes' or 'no'".into()),
            },
            Kind::Enum(opts) => {
                let l = value.to_ascii_lowercase();
                if !opts.contains(&l.as_str()) {
                    return Err(
                        "argument(s) must be one of the following: ".to_string() + &opts.join(", ")
                    );
                }
                l
            }
            Kind::Str => value.to_string(),
            Kind::Special => match p.name {
                "save" => {
                    let parts: Vec<&str> = value.split_whitespace().collect();
                    if !parts.len().is_multiple_of(2)
                        || parts.iter().any(|x| x.parse::<u64>().is_err())
                    {
                        return Err("Invalid save parameters".into());
                    }
                    parts.join(" ")
                }
                "dir" => {
                    let path = PathBuf::from(value);
                    let abs = std::fs::canonicalize(&path)
                        .map_err(|e| format!("No such file or directory ({e})"))?;
                    if !abs.is_dir() {
                        return Err("Not a directory".into());
                    }
                    abs.display().to_string()
                }
                "replicaof" => {
                    let words: Vec<&str> = value.split_whitespace().collect();
                    match words[..] {
                        [] => String::new(),
                        [no, one]
                            if no.eq_ignore_ascii_case("no") && one.eq_ignore_ascii_case("one") =>
                        {
                            String::new()
                        }
                        [host, port] => {
                            if port.parse::<u16>().is_err() {
                                return Err("Invalid master port".into());
                            }
                            format!("{host} {port}")
                        }
                        _ => return Err("wrong number of arguments".into()),
                    }
                }
                "dbfilename" => {
                    if value.contains('/') {
                        return Err("dbfilename can't be a path, just a filename".into());
                    }
                    value.to_string()
                }
                _ => value.split_whitespace().collect::<Vec<_>>().join(" "),
            },
        };
        self.values[i] = v;
        Ok(())
    }

    /// Applies a redis.conf-style file: `directive arg...` per line, `#` comments.
    pub fn load_file(&mut self, path: &str) -> Result<(), String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("Fatal error, can't open config file '{path}': {e}"))?;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words = split_config_line(line)
                .ok_or_else(|| format!("config file line {}: unbalanced quotes", n + 1))?;
            let Some((name, rest)) = words.split_first() else {
                continue;
            };
            self.set(name, &rest.join(" ")).map_err(|e| {
                format!(
                    "*** FATAL CONFIG FILE ERROR ***\nline {}: >>> '{}'\n{}",
                    n + 1,
                    line,
                    e
                )
            })?;
        }
        Ok(())
    }
}

/// Splits a config line into words, honouring double and single quotes.
fn split_config_line(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some('"') if c == '\\' => {
                let n = chars.next()?;
                cur.push(match n {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    other => other,
                });
            }
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            None => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return None;
    }
    if in_word {
        words.push(cur);
    }
    Some(words)
}

/// Parses the command line: `shoal [config-file] [--param value ...]`, as redis-server.
pub fn from_args(args: Vec<String>) -> Result<Config, String> {
    use clap::{Arg, ArgAction, Command};
    let mut cmd = Command::new("shoal")
        .about("A Redis-compatible in-memory server, thread-per-core on io_uring")
        .version(env!("CARGO_PKG_VERSION"))
        .arg(
            Arg::new("config-file")
                .help("redis.conf-style configuration file")
                .index(1),
        );
    for p in PARAMS {
        cmd = cmd.arg(
            Arg::new(p.name)
                .long(p.name)
                .value_name("VALUE")
                // `--replicaof HOST PORT` as two words, or "HOST PORT" as one; a second word
                // starting with '-' is the next option, not a port.
                .allow_hyphen_values(p.name != "replicaof")
                .num_args(if p.name == "replicaof" { 1..=2 } else { 1..=1 })
                .action(ArgAction::Set)
                .help(format!("default: {:?}", p.default)),
        );
    }
    let m = cmd
        .try_get_matches_from(args)
        .map_err(|e| e.render().to_string())?;
    let mut config = Config::default();
    if let Some(f) = m.get_one::<String>("config-file") {
        config.load_file(f)?;
    }
    for p in PARAMS {
        if let Some(words) = m.get_many::<String>(p.name) {
            let v = words.map(String::as_str).collect::<Vec<_>>().join(" ");
            config
                .set(p.name, &v)
                .map_err(|e| format!("invalid --{} {:?}: {}", p.name, v, e))?;
        }
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        std::iter::once("shoal")
            .chain(a.iter().copied())
            .map(String::from)
            .collect()
    }

    #[test]
    fn command_line_sets_params() {
        let c = from_args(args(&["--port", "7000", "--shards", "3", "--save", ""])).unwrap();
        assert_eq!(c.int("port"), 7000);
        assert_eq!(c.int("shards"), 3);
        assert_eq!(c.get("save"), "");
        assert!(from_args(args(&["--nosuch", "1"])).is_err());
        assert!(from_args(args(&["--port", "notanumber"])).is_err());
    }

    #[test]
    fn replicaof_forms() {
        let c = from_args(args(&["--replicaof", "10.0.0.1 6380", "--save", ""])).unwrap();
        assert_eq!(c.get("save"), "");
        assert_eq!(c.get("replicaof"), "10.0.0.1 6380");
        let c = from_args(args(&["--replicaof", "10.0.0.1", "6381", "--port", "7"])).unwrap();
        assert_eq!(c.get("replicaof"), "10.0.0.1 6381");
        assert_eq!(c.int("port"), 7);
        let c = from_args(args(&["--replicaof", "no one"])).unwrap();
        assert_eq!(c.get("replicaof"), "");
        assert!(from_args(args(&["--replicaof", "h", "notaport"])).is_err());
        assert!(from_args(args(&["--replicaof", "h"])).is_err());
        let path =
            std::env::temp_dir().join(format!("shoal-test-repl-{}.conf", std::process::id()));
        std::fs::write(&path, "replicaof 127.0.0.1 6390\n").unwrap();
        let c = from_args(args(&[path.to_str().unwrap()])).unwrap();
        assert_eq!(c.get("replicaof"), "127.0.0.1 6390");
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("1gb"), Some(1 << 30));
        assert_eq!(parse_memory("100k"), Some(100_000));
        assert_eq!(parse_memory("5MB"), Some(5 << 20));
        assert_eq!(parse_memory("x"), None);
        assert_eq!(parse_memory("99999999999999999999gb"), None);
    }

    #[test]
    fn config_file() {
        let path = std::env::temp_dir().join(format!("shoal-test-{}.conf", std::process::id()));
        std::fs::write(
            &path,
            "# comment\nport 7001\nsave \"900 1\"\nloglevel warning\n",
        )
        .unwrap();
        let c = from_args(args(&[path.to_str().unwrap(), "--port", "7002"])).unwrap();
        assert_eq!(c.int("port"), 7002);
        assert_eq!(c.get("save"), "900 1");
        assert_eq!(c.get("loglevel"), "warning");
        std::fs::write(&path, "nosuch 1\n").unwrap();
        assert!(from_args(args(&[path.to_str().unwrap()])).is_err());
        let _ = std::fs::remove_file(path);
    }
}
