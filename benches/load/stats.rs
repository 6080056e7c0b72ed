//! What a run reports: latency percentiles, and the server process's CPU and memory read
//! from /proc.

use std::time::{SystemTime, UNIX_EPOCH};

/// Microseconds since the Unix epoch: stamped into each payload by its publisher and read
/// back by each receiver (same machine, same clock).
pub fn now_micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

/// The marker in front of the timestamp inside every payload.
pub const MARK: &str = "@@T=";

/// A payload of `size` bytes carrying the send time and a sequence number.
pub fn payload(size: usize, n: u64) -> String {
    let mut s = format!("{MARK}{:016};{n};", now_micros());
    while s.len() < size {
        s.push('x');
    }
    s
}

/// The send time inside a frame that carries a payload, if any.
pub fn stamp(frame: &[u8]) -> Option<u64> {
    let at = frame.windows(MARK.len()).position(|w| w == MARK.as_bytes())? + MARK.len();
    let digits = frame.get(at..at + 16)?;
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// The post's `created_at` in a frame (RFC 3339, microseconds, UTC), as microseconds
/// since the epoch.
pub fn created_at_micros(frame: &str) -> Option<u64> {
    const KEY: &str = "\"created_at\":\"";
    let at = frame.find(KEY)? + KEY.len();
    let t = frame.get(at..at + 26)?; // 2026-12-01T23:55:01.123456
    let num = |r: std::ops::Range<usize>| t.get(r).and_then(|d| d.parse::<i64>().ok());
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss, us) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..26)?);
    // Days since the epoch of a proleptic Gregorian date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    u64::try_from(secs * 1_000_000 + us).ok()
}

/// The number after the first `"name":` in a JSON frame.
pub fn json_number(frame: &str, name: &str) -> Option<u64> {
    let key = format!("\"{name}\":");
    let at = frame.find(&key)? + key.len();
    let digits: &str = &frame[at..];
    let end = digits.find(|c: char| !c.is_ascii_digit()).unwrap_or(digits.len());
    digits[..end].parse().ok()
}

/// Latencies in microseconds, merged from every receiver.
#[derive(Default)]
pub struct Latencies(pub Vec<u32>);

impl Latencies {
    pub fn push(&mut self, sent: u64) {
        let micros = now_micros().saturating_sub(sent);
        self.0.push(u32::try_from(micros).unwrap_or(u32::MAX));
    }

    pub fn merge(&mut self, other: Latencies) {
        self.0.extend(other.0);
    }

    /// p50, p99, p99.9 in milliseconds.
    pub fn percentiles(&mut self) -> [f64; 3] {
        if self.0.is_empty() {
            return [f64::NAN; 3];
        }
        self.0.sort_unstable();
        let at = |q: f64| {
            let i = ((self.0.len() as f64 * q) as usize).min(self.0.len() - 1);
            self.0[i] as f64 / 1000.0
        };
        [at(0.5), at(0.99), at(0.999)]
    }
}

/// CPU seconds (user + system) the process has used so far.
pub fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return f64::NAN };
    // Fields after the command name (which is in parentheses and may hold spaces).
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { return f64::NAN };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: f64 = fields.get(11..13).map(|f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum()).unwrap_or(0.0);
    ticks / clock_ticks()
}

/// CPU seconds of each of a process's live threads, by thread id, with its name, and the
/// process's total (which also counts threads that have ended).
pub struct ThreadCpu {
    total: f64,
    threads: std::collections::HashMap<u32, (String, f64)>,
}

impl ThreadCpu {
    pub fn read(pid: u32) -> ThreadCpu {
        let ticks = clock_ticks();
        let mut threads = std::collections::HashMap::new();
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
            for task in tasks.flatten() {
                let Some(tid) = task.file_name().to_str().and_then(|t| t.parse::<u32>().ok()) else { continue };
                let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else { continue };
                let Some((head, rest)) = stat.rsplit_once(')') else { continue };
                // The name without its trailing number: `sled-io-3` and `sled-io-5` are `sled-io`.
                let name = head.split_once('(').map_or("?", |(_, n)| n);
                let name = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-' || c == '_');
                let fields: Vec<&str> = rest.split_whitespace().collect();
                let t: f64 = fields.get(11..13).map_or(0.0, |f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum());
                threads.insert(tid, (name.to_owned(), t / ticks));
            }
        }
        ThreadCpu { total: cpu_seconds(pid), threads }
    }

    /// What each group of same-named threads used since `before`, the busiest first, then
    /// what threads that ended in between used (in the process's total, gone from /proc),
    /// as one line: `store-writer 2.86, tokio-rt-worker 1.68, ...`.
    pub fn since(&self, before: &ThreadCpu) -> String {
        let mut groups: std::collections::HashMap<&str, f64> = std::collections::HashMap::new();
        let mut counted = 0.0;
        for (tid, (name, now)) in &self.threads {
            let earlier = before.threads.get(tid).map_or(0.0, |(_, t)| *t);
            *groups.entry(name).or_insert(0.0) += now - earlier;
            counted += now - earlier;
        }
        let mut list: Vec<(&str, f64)> = groups.into_iter().filter(|(_, s)| *s >= 0.005).collect();
        list.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        let mut line: Vec<String> = list.iter().map(|(n, s)| format!("{n} {s:.2}")).collect();
        let ended = (self.total - before.total) - counted;
        if ended >= 0.005 {
            line.push(format!("threads that ended {ended:.2}"));
        }
        line.join(", ")
    }
}

fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// A field of /proc/PID/status in bytes (`VmRSS`, `VmHWM`).
pub fn memory(pid: u32, field: &str) -> u64 {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { return 0 };
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}
