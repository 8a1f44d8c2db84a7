//! Per-path session behaviour (`SESSION_POLICY`), matched on the path as origin servers read
//! it ([`normalize`]). An entry is `<path prefix>=<options>`; the options, separated by spaces
//! or `+`:
//! - `<seconds>`: the request sets its session's idle timeout, as a ColdFusion
//!   `Application.cfc` with its own `sessionTimeout` does for its directory (`/admin/=300`);
//! - `norefresh`: the request is served with its session but does not extend its idle timeout
//!   or slide its cookie (a page that polls `/api/poll/` every 30 s still times out);
//! - `none`: no session at all, like `SESSION_BYPASS` (alone);
//! - `ajax-401` / `ajax-redirect`: what a non-navigation request whose session ended gets
//!   (overrides `AJAX_ENDS`, see [`crate::core::ajax`]).
//!
//! The longest matching prefix wins, whole; a request under no prefix leaves the timeout as it
//! is (add `/=1200` to set it back outside `/admin/`).

use super::{ajax::AjaxEnds, protocol::MAX_TIMEOUT_S};

/// How request paths are compared with configured prefixes (`PATH_CASE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PathCase {
    /// `/Admin/` matches `/admin/`, as IIS (Adobe ColdFusion on Windows) serves them. The default:
    /// a short timeout cannot be escaped by changing case.
    #[default]
    Insensitive,
    /// Exact case, for origins (Tomcat, Lucee on Linux) where `/Admin/` is another page.
    Sensitive,
}

/// What one `SESSION_POLICY` entry sets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PathRule {
    /// The idle timeout (seconds) a request under the prefix sets.
    pub timeout_s: Option<u64>,
    /// `norefresh`: requests under the prefix do not count as activity.
    pub no_refresh: bool,
    /// `none`: requests under the prefix have no session.
    pub sessionless: bool,
    /// `ajax-401` / `ajax-redirect`.
    pub ajax: Option<AjaxEnds>,
}

/// The parsed `SESSION_POLICY` and `PATH_CASE`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Normalised prefixes, longest first, so the first match is the longest.
    rules: Vec<(String, PathRule)>,
    pub case: PathCase,
}

impl SessionPolicy {
    /// Parses `SESSION_POLICY`: comma-separated `<path prefix>=<options>` entries, such as
    /// `/admin/=300, /api/poll/=norefresh, /public/=none`; empty or `off` for none. `Err` says
    /// what is wrong.
    pub fn parse(raw: &str, case: PathCase) -> Result<Self, &'static str> {
        if raw.trim().eq_ignore_ascii_case("off") {
            return Ok(Self { rules: Vec::new(), case });
        }
        let mut rules: Vec<(String, PathRule)> = Vec::new();
        for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let Some((prefix, options)) = item.rsplit_once('=') else {
                return Err("each entry is <path prefix>=<options>, such as /admin/=300 or /api/poll/=norefresh");
            };
            let prefix = prefix.trim();
            if !prefix.starts_with('/') || prefix.starts_with("//") || prefix.contains(['?', '#', ' ', '\\', '=']) {
                return Err("a path prefix must be a plain path such as /admin/");
            }
            let rule = parse_rule(options)?;
            let prefix = normalize(prefix, case);
            if rules.iter().any(|(p, _)| *p == prefix) {
                return Err("a path prefix is listed twice");
            }
            rules.push((prefix, rule));
        }
        rules.sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
        Ok(Self { rules, case })
    }

    /// The rule for a request path as [`normalize`] made it: the longest matching prefix's.
    pub fn rule_for(&self, normalized: &str) -> PathRule {
        self.rules
            .iter()
            .find(|(prefix, _)| normalized.starts_with(prefix.as_str()))
            .map(|(_, r)| *r)
            .unwrap_or_default()
    }

    /// `path` as the prefixes are compared with it (see [`normalize`]).
    pub fn normalize(&self, path: &str) -> String {
        normalize(path, self.case)
    }

    /// Whether no entry is configured.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

fn parse_rule(options: &str) -> Result<PathRule, &'static str> {
    let mut rule = PathRule::default();
    let mut count = 0;
    for option in options.split([' ', '+']).filter(|o| !o.is_empty()) {
        count += 1;
        match option.to_ascii_lowercase().as_str() {
            "norefresh" => rule.no_refresh = true,
            "none" => rule.sessionless = true,
            "ajax-401" => rule.ajax = Some(AjaxEnds::Unauthorized),
            "ajax-redirect" => rule.ajax = Some(AjaxEnds::Redirect),
            seconds => match seconds.parse::<u64>() {
                Ok(s) if (1..=MAX_TIMEOUT_S).contains(&s) && rule.timeout_s.is_none() => rule.timeout_s = Some(s),
                Ok(_) | Err(_) if seconds.bytes().all(|b| b.is_ascii_digit() || b == b'-') => {
                    return Err("the timeout is whole seconds from 1 to 2592000 (30 days), once")
                }
                _ => return Err("options are <seconds>, norefresh, none, ajax-401 or ajax-redirect"),
            },
        }
    }
    if count == 0 {
        return Err("each entry is <path prefix>=<options>, such as /admin/=300 or /api/poll/=norefresh");
    }
    if rule.sessionless && count > 1 {
        return Err("none stands alone: a path without a session has no timeout or refresh");
    }
    Ok(rule)
}

/// A request path as origin servers resolve it, for matching: `%XX` decoded (`%2F` is a `/`),
/// `\` read as `/` (IIS), `;` path parameters removed from every segment (Tomcat's
/// `/x/..;/admin/` is `/admin/`), empty segments merged, `.` and `..` resolved (never above
/// the root), and ASCII lower-cased with [`PathCase::Insensitive`]. A trailing `/` is kept.
pub fn normalize(path: &str, case: PathCase) -> String {
    let decoded = percent_decode(path).replace('\\', "/");
    let mut segments: Vec<&str> = Vec::new();
    let raw: Vec<&str> = decoded.split('/').collect();
    let last = raw.len().saturating_sub(1);
    let mut trailing = false;
    for (i, segment) in raw.iter().enumerate() {
        let segment = segment.split(';').next().unwrap_or("");
        match segment {
            "" | "." => trailing = i == last && i > 0,
            ".." => {
                segments.pop();
                trailing = i == last;
            }
            s => {
                segments.push(s);
                trailing = false;
            }
        }
    }
    let mut out = String::with_capacity(decoded.len() + 1);
    for s in &segments {
        out.push('/');
        out.push_str(s);
    }
    if trailing || segments.is_empty() {
        out.push('/');
    }
    match case {
        PathCase::Insensitive => out.to_ascii_lowercase(),
        PathCase::Sensitive => out,
    }
}

/// `%XX` decoded once (invalid escapes kept as written; bytes that are not UTF-8 replaced).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let hex = |c: u8| (c as char).to_digit(16);
    while let Some(&c) = b.get(i) {
        match (c, b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests;
