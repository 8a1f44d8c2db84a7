//! Structured log lines: one JSON object per line, for Workers Logs and Logpush. Every line
//! has `ts` (ms), `level` (`info`, `warn`, `error`) and `event` (a dotted name, listed in
//! `docs/logging.md`); most have `cfid`, and some `reason`, `user` and `msg` (a sentence for
//! people). A line never holds a CFTOKEN: the builder takes no token type, and the values
//! it is given are ids, reasons and error texts that carry none.

use serde_json::{Map, Value};

use super::clock::UnixMs;

/// The id a request's lines carry (`request`): its `cf-ray` (Cloudflare's id of the request,
/// the join key with HTTP logs and Logpush) when it has a sane one, else `prefix` and the hex
/// of `random` (`wrangler dev`, alarms, the cron sweep).
pub fn request_id(cf_ray: Option<&str>, prefix: &str, random: &[u8]) -> String {
    match cf_ray.map(str::trim) {
        Some(ray)
            if !ray.is_empty() && ray.len() <= 64 && ray.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            ray.to_owned()
        }
        _ => format!("{prefix}{}", super::crypto::hex(random)),
    }
}

/// How serious a line is; picks `console.log`, `console.warn` or `console.error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// One log line, built field by field.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub level: Level,
    pub event: &'static str,
    fields: Map<String, Value>,
}

impl LogLine {
    pub fn new(level: Level, event: &'static str) -> Self {
        Self { level, event, fields: Map::new() }
    }

    pub fn info(event: &'static str) -> Self {
        Self::new(Level::Info, event)
    }

    pub fn warn(event: &'static str) -> Self {
        Self::new(Level::Warn, event)
    }

    pub fn error(event: &'static str) -> Self {
        Self::new(Level::Error, event)
    }

    /// The session's CFID (guard mode: its guard id). Public; never the CFTOKEN.
    pub fn cfid(self, cfid: impl ToString) -> Self {
        self.field("cfid", cfid.to_string())
    }

    pub fn reason(self, reason: impl Into<Value>) -> Self {
        self.field("reason", reason)
    }

    /// A sentence for people (stable wording is not promised; match on `event` and fields).
    pub fn msg(self, msg: impl Into<String>) -> Self {
        self.field("msg", msg.into())
    }

    pub fn field(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.fields.insert(name.to_owned(), value.into());
        self
    }

    /// The line as JSON: `ts`, `level`, `event`, then the fields (in name order).
    pub fn to_json(&self, ts: UnixMs) -> String {
        let head = format!(r#"{{"ts":{ts},"level":"{}","event":{}"#, self.level.as_str(), Value::from(self.event));
        let rest = serde_json::to_string(&self.fields).unwrap_or_else(|_| "{}".into());
        match rest.strip_prefix('{') {
            Some("}") | None => head + "}",
            Some(tail) => head + "," + tail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_named_by_its_ray_or_a_random_id() {
        assert_eq!(request_id(Some("8c2f1a9b3d4e5f60-FRA"), "r-", &[1]), "8c2f1a9b3d4e5f60-FRA");
        assert_eq!(request_id(None, "r-", &[0xab, 0x01]), "r-ab01");
        for forged in ["", "with space", "\"quote", &"a".repeat(65)] {
            assert_eq!(request_id(Some(forged), "r-", &[7]), "r-07", "{forged:?}");
        }
    }

    #[test]
    fn a_line_is_one_json_object_with_the_fixed_fields_first() {
        let line = LogLine::warn("session.end").cfid("ab12").reason("killed").msg("a \"quoted\"\nline");
        let json = line.to_json(1_700_000_000_000);
        assert!(!json.contains('\n'), "one line: {json}");
        let v: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["ts"], 1_700_000_000_000u64);
        assert_eq!(v["level"], "warn");
        assert_eq!(v["event"], "session.end");
        assert_eq!(v["cfid"], "ab12");
        assert_eq!(v["reason"], "killed");
        assert_eq!(v["msg"], "a \"quoted\"\nline");
        assert!(json.starts_with(r#"{"ts":1700000000000,"level":"warn","event":"session.end","#), "{json}");
        assert_eq!(LogLine::info("x").to_json(1), r#"{"ts":1,"level":"info","event":"x"}"#);
    }
}
