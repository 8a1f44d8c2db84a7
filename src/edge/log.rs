//! Writes structured log lines ([`LogLine`]) to the console, one JSON object per line, at the
//! console level of the line (Workers Logs and Logpush keep both).

use worker::{console_error, console_log, console_warn};

use super::platform::now_ms;
use crate::core::log::Level;
pub use crate::core::log::LogLine;

/// Writes `line`.
pub fn emit(line: LogLine) {
    let json = line.to_json(now_ms());
    match line.level {
        Level::Info => console_log!("{json}"),
        Level::Warn => console_warn!("{json}"),
        Level::Error => console_error!("{json}"),
    }
}
