//! Redis-style log lines (`pid:M 24 Nov 2026 21:36:52.123 * message`) to stdout or --logfile,
//! filtered by --loglevel.

use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;

static LEVEL: AtomicU8 = AtomicU8::new(2);
static FILE: Mutex<Option<std::fs::File>> = Mutex::new(None);

const DEBUG: u8 = 0;
const VERBOSE: u8 = 1;
const NOTICE: u8 = 2;
const WARNING: u8 = 3;

/// Applies --loglevel and --logfile.
pub fn init(level: &str, logfile: &str) -> Result<(), String> {
    set_level(level);
    if !logfile.is_empty() {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(logfile)
            .map_err(|e| format!("Can't open the log file: {e}"))?;
        *FILE.lock().unwrap_or_else(|e| e.into_inner()) = Some(f);
    }
    Ok(())
}

pub fn set_level(level: &str) {
    let l = match level {
        "debug" => DEBUG,
        "verbose" => VERBOSE,
        "notice" => NOTICE,
        "warning" => WARNING,
        _ => u8::MAX,
    };
    LEVEL.store(l, Ordering::Relaxed);
}

fn civil(days: i64) -> (i64, u32, u32) {
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z.rem_euclid(146097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn write(level: u8, mark: char, msg: &str) {
    if level < LEVEL.load(Ordering::Relaxed) {
        return;
    }
    let ms = crate::storage::now_ms();
    let secs = (ms / 1000) as i64;
    let (y, mo, d) = civil(secs.div_euclid(86400));
    let tod = secs.rem_euclid(86400);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let line = format!(
        "{}:M {:02} {} {} {:02}:{:02}:{:02}.{:03} {} {}\n",
        std::process::id(),
        d,
        MONTHS[(mo as usize + 11) % 12],
        y,
        tod / 3600,
        tod / 60 % 60,
        tod % 60,
        ms % 1000,
        mark,
        msg
    );
    let mut f = FILE.lock().unwrap_or_else(|e| e.into_inner());
    match f.as_mut() {
        Some(file) => {
            let _ = file.write_all(line.as_bytes());
        }
        None => {
            let _ = std::io::stdout().write_all(line.as_bytes());
        }
    }
}

pub fn debug(msg: &str) {
    write(DEBUG, '.', msg)
}
pub fn verbose(msg: &str) {
    write(VERBOSE, '-', msg)
}
pub fn notice(msg: &str) {
    write(NOTICE, '*', msg)
}
pub fn warning(msg: &str) {
    write(WARNING, '#', msg)
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates() {
        assert_eq!(super::civil(0), (1970, 1, 1));
        assert_eq!(super::civil(20_416), (2025, 11, 24));
    }
}
