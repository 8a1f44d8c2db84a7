//! A `Cookie` header read the way origin servers read it, so that what the edge removes or
//! lets through is what the origin would have used.
//!
//! Servers disagree on the details (`docs/security.md`, "One cookie model"):
//! - Tomcat (RFC 6265 processor), PHP, Node's `cookie` (express-session), Django and Werkzeug
//!   split at every `;`, quotes or not: `a="; SID=x; z="` is three pairs to them;
//! - Python's `http.cookies` and Werkzeug 3 keep a quoted value whole, but also end a pair at
//!   whitespace or right after a closing quote (`a=1 SID=x` is two pairs);
//! - RFC 2965-era parsers (Tomcat's legacy processor) also split at `,`, and the platform joins
//!   repeated `Cookie` headers with `, `;
//! - PHP maps `.`, ` ` and `[` in names to `_` (and url-decoded names before PHP 8), and
//!   ColdFusion engines match names case-insensitively.
//!
//! So the edge splits at every `;` (and at `, ` before a `name=`) into [`pairs`], and reads as
//! a name not only each pair's leading name but any `name=` after whitespace, `,` or `"` inside
//! it ([`names_read`]), compared as any server might map them ([`same_name`]). A session
//! cookie that any of these parsers would see is then either exactly the one the edge allows,
//! or removed ([`rebuild`]).

/// Why [`rebuild`] removed a pair. Never carries a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Removed {
    /// A session cookie that is not the one allowed (edge mode: every CFID/CFTOKEN; guard
    /// mode: an id without a valid binding, or the binding cookie itself).
    Session,
    /// A second copy, or another spelling a server maps to the same name, of an allowed one.
    Copy,
    /// A session cookie name inside another pair (after a quote, whitespace or a comma), where
    /// some server would read it as a cookie of its own.
    Smuggled,
}

impl Removed {
    /// The reason as the log line names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::Copy => "copy",
            Self::Smuggled => "smuggled",
        }
    }
}

/// The pairs of a `Cookie` header value, trimmed and non-empty, split at every `;` and at a
/// `,` followed by whitespace and a `name=` (headers the platform joined). Quotes do not
/// protect a separator: servers split there too.
pub fn pairs(header: &str) -> impl Iterator<Item = &str> {
    header.split(';').flat_map(split_joined).map(str::trim).filter(|p| !p.is_empty())
}

/// Splits a `;`-segment at each `, ` that starts another `name=` pair.
fn split_joined(segment: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(segment);
    std::iter::from_fn(move || {
        let s = rest?;
        let cut = s.match_indices(',').map(|(i, _)| i).find(|&i| starts_pair(s.get(i + 1..).unwrap_or("")));
        match cut {
            Some(i) => {
                rest = s.get(i + 1..);
                s.get(..i)
            }
            None => rest.take(),
        }
    })
}

/// Whether `rest` (after a comma) is whitespace, then a cookie name and `=`.
fn starts_pair(rest: &str) -> bool {
    if !rest.starts_with([' ', '\t']) {
        return false;
    }
    match rest.trim_start().split_once('=') {
        Some((name, _)) => !name.is_empty() && name.bytes().all(is_token_byte),
        None => false,
    }
}

/// A byte a cookie name can have (RFC 6265's token: printable, no separators).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !b"\"(),/:;<=>?@[\\]{}".contains(&b)
}

/// A pair's leading name and value (both trimmed). `None` for a pair without `=`.
pub fn split_pair(pair: &str) -> Option<(&str, &str)> {
    pair.split_once('=').map(|(n, v)| (n.trim(), v.trim()))
}

/// Every name some server could read from `pair`: its leading name (the whole pair when it has
/// no `=`: Tomcat and PHP read that as a cookie with an empty value), then each `name=` that
/// follows whitespace (or a control character), a `,` or a `"` anywhere in it (Python reads
/// `a b=1` as `a` and `b`).
pub fn names_read(pair: &str) -> impl Iterator<Item = &str> {
    let leading = Some(split_pair(pair).map_or(pair.trim(), |(n, _)| n));
    let bytes = pair.as_bytes();
    let inner = (1..bytes.len())
        .filter(move |&i| bytes.get(i - 1).is_some_and(|&b| is_gap(b) || b == b',' || b == b'"'))
        .filter_map(move |i| {
            let rest = pair.get(i..)?;
            let end = rest.find(|c: char| c == '=' || c.is_ascii_control() || c == ' ' || c == '"' || c == ',')?;
            let after = rest.get(end..)?.trim_start();
            (end > 0 && after.starts_with('=')).then(|| rest.get(..end)).flatten()
        });
    leading.into_iter().chain(inner)
}

/// Whitespace or a control character: Python's `\s` and PHP's `isspace()` end or skip there
/// (form feed and vertical tab included), where a header may carry them.
fn is_gap(b: u8) -> bool {
    b <= b' ' || b == 0x7f
}

/// Whether a server could read cookie name `name` as `wanted`: compared case-insensitively
/// (ColdFusion engines), url-decoded (PHP before 8), with `.`, ` ` and `[` as `_` (PHP), and
/// `name[...]` as `name` (PHP's array syntax).
pub fn same_name(name: &str, wanted: &str) -> bool {
    let (name, wanted) = (normalise(name), normalise(wanted));
    name == wanted || name.split_once('[').is_some_and(|(base, _)| base == wanted)
}

fn normalise(name: &str) -> String {
    let decoded = percent_decode(name.trim());
    let mut out = String::with_capacity(decoded.len());
    for (i, c) in decoded.chars().enumerate() {
        match c {
            '.' | ' ' => out.push('_'),
            // The first `[` stays for the array-syntax check; PHP maps a lone one to `_`.
            '[' if i > 0 && !out.contains('[') && decoded.contains(']') => out.push('['),
            '[' => out.push('_'),
            c => out.push(c.to_ascii_lowercase()),
        }
    }
    out
}

/// `%XX` escapes and `+` decoded (invalid escapes kept as they are).
fn percent_decode(s: &str) -> String {
    if !s.contains(['%', '+']) {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (b, hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A `Cookie` header for the origin, and what was removed from it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rebuilt {
    /// The header to forward; `None` when nothing is left.
    pub header: Option<String>,
    /// Why pairs were removed (each reason once, in order); empty when none was.
    pub removed: Vec<Removed>,
}

/// The `Cookie` header for the origin. A pair from which some server could read a session
/// cookie (a name `is_session` matches, per [`names_read`]) is kept only when it is a plain
/// `name=value` pair with no session name inside it and `allow(name, value)` says so, once:
/// a later pair a server would read under the same name is a [`Removed::Copy`]. Every other
/// pair is kept byte for byte, in order; a header with nothing removed is returned unchanged.
pub fn rebuild(header: &str, is_session: impl Fn(&str) -> bool, allow: impl Fn(&str, &str) -> bool) -> Rebuilt {
    let mut removed: Vec<Removed> = Vec::new();
    let mut forwarded: Vec<&str> = Vec::new();
    let mut out = String::new();
    // The end of the previous pair, kept or not: a kept pair brings the separator before it.
    // Next to an allowed session pair, a `, ` the platform joined headers with becomes `; `
    // (PHP, Tomcat and Node split only at `;`: the comma would join the pairs), and so does one
    // that starts with whitespace after it (PHP would read that as part of the value).
    let mut previous_end = None;
    let mut after_session = false;
    let mut respaced = false;
    for pair in pairs(header) {
        let start = offset(header, pair);
        // PHP keeps whitespace after a value: such a pair is not exactly what was allowed.
        let padded = header.as_bytes().get(start + pair.len()).is_some_and(|&b| is_gap(b));
        match judge(pair, padded, &is_session, &allow, &forwarded) {
            Ok(session) => {
                if !out.is_empty() {
                    let separator = previous_end.and_then(|end| header.get(end..start)).unwrap_or("; ");
                    let joined = separator.contains(',');
                    let padded_after = after_session && separator.bytes().next().is_some_and(is_gap);
                    let plain = ((after_session || session.is_some()) && joined) || padded_after;
                    respaced |= plain;
                    out.push_str(if plain { "; " } else { separator });
                }
                out.push_str(pair);
                after_session = session.is_some();
                forwarded.extend(session);
            }
            Err(why) if !removed.contains(&why) => removed.push(why),
            Err(_) => {}
        }
        previous_end = Some(start + pair.len());
    }
    if removed.is_empty() && !respaced {
        return Rebuilt { header: (!header.trim().is_empty()).then(|| header.to_owned()), removed };
    }
    Rebuilt { header: (!out.is_empty()).then_some(out), removed }
}

/// Where `part` (a slice of `whole`) starts in `whole`.
fn offset(whole: &str, part: &str) -> usize {
    (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize)
}

/// `Ok(None)`: not a session pair; `Ok(Some(name))`: an allowed session pair; `Err`: removed.
fn judge<'a>(
    pair: &'a str,
    padded: bool,
    is_session: &impl Fn(&str) -> bool,
    allow: &impl Fn(&str, &str) -> bool,
    forwarded: &[&str],
) -> Result<Option<&'a str>, Removed> {
    let mut names = names_read(pair);
    let leading_is_session = names.next().is_some_and(&is_session);
    if names.any(&is_session) {
        return Err(Removed::Smuggled);
    }
    if !leading_is_session {
        return Ok(None);
    }
    // A bare name (no `=`) is a session cookie with an empty value: never allowed.
    let Some((name, value)) = split_pair(pair) else { return Err(Removed::Session) };
    if forwarded.iter().any(|f| same_name(f, name)) {
        Err(Removed::Copy)
    } else if !padded && allow(name, value) {
        Ok(Some(name))
    } else {
        Err(Removed::Session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sid(name: &str) -> bool {
        same_name(name, "PHPSESSID")
    }

    #[test]
    fn pairs_split_at_every_semicolon_whatever_the_quotes() {
        let p: Vec<&str> = pairs("a=\"; PHPSESSID=v; z=\"").collect();
        assert_eq!(p, ["a=\"", "PHPSESSID=v", "z=\""]);
        let p: Vec<&str> = pairs("a=1, CFID=2;b=x, y; ;").collect();
        assert_eq!(p, ["a=1", "CFID=2", "b=x, y"]);
    }

    #[test]
    fn names_inside_a_pair_are_read_after_whitespace_commas_and_quotes() {
        let names = |p| names_read(p).collect::<Vec<_>>();
        assert_eq!(names("a=1 SID=x"), ["a", "SID"]);
        assert_eq!(names("a=\"x\"SID=y"), ["a", "SID"]);
        assert_eq!(names("a=1,SID=x"), ["a", "SID"]);
        assert_eq!(names("a=x=y"), ["a"]);
        assert_eq!(names(" bare "), ["bare"]);
        assert_eq!(names("a=b c"), ["a"]);
        assert_eq!(names("& SID=x"), ["& SID", "SID"]);
        // Found by the fuzzer: Python's `\s` includes form feed and carriage return.
        assert_eq!(names("fi\u{c}SID="), ["fi\u{c}SID", "SID"]);
        assert_eq!(names("4\r\rSID=km"), ["4\r\rSID", "SID"]);
    }

    #[test]
    fn names_compare_as_servers_map_them() {
        for n in ["PHPSESSID", "phpsessid", " PHPSESSID", "PHP%53ESSID", "PHPSESSID[x]"] {
            assert!(sid(n), "{n}");
        }
        assert!(same_name("connect_sid", "connect.sid") && same_name("laravel.session", "laravel_session"));
        assert!(same_name("laravel session", "laravel_session") && same_name("a[b", "a_b"));
        for n in ["PHPSESSIDX", "XPHPSESSID", "PHP.SESSID", "%zz"] {
            assert!(!sid(n), "{n}");
        }
    }

    #[test]
    fn smuggled_copied_and_unallowed_session_pairs_are_removed() {
        let allow = |n: &str, v: &str| n == "PHPSESSID" && v == "mine";
        let r = rebuild("a=\"; PHPSESSID=victim; z=\"", sid, allow);
        assert_eq!((r.header.as_deref(), r.removed), (Some("a=\"; z=\""), vec![Removed::Session]));
        let r = rebuild("PHPSESSID=mine; x=1 PHPSESSID=victim; phpsessid=mine; b=2", sid, allow);
        assert_eq!(r.header.as_deref(), Some("PHPSESSID=mine; b=2"));
        assert_eq!(r.removed, vec![Removed::Smuggled, Removed::Copy]);
        let r = rebuild("PHPSESSID=mine", sid, allow);
        assert_eq!((r.header.as_deref(), r.removed), (Some("PHPSESSID=mine"), vec![]));
        // A joined header's `, ` next to an allowed pair becomes `; ` (PHP splits only at `;`).
        let r = rebuild("x=1, PHPSESSID=mine, y=2; copy=1 PHPSESSID=z", sid, allow);
        assert_eq!(r.header.as_deref(), Some("x=1; PHPSESSID=mine; y=2"));
        assert_eq!(rebuild("PHPSESSID=mine, .=", sid, allow).header.as_deref(), Some("PHPSESSID=mine; .="));
        // PHP would read the value with its trailing space.
        assert_eq!(rebuild("a=1; PHPSESSID=mine ", sid, allow).header.as_deref(), Some("a=1"));
        assert_eq!(rebuild("PHPSESSID=victim", sid, allow).header, None);
    }

    #[test]
    fn other_pairs_are_kept_byte_for_byte() {
        let h = "theme=\"dark; mode\";  json={\"a\":1}; x=a, b";
        assert_eq!(rebuild(h, sid, |_, _| false).header.as_deref(), Some(h));
        let r = rebuild("a=\"x, y\"; PHPSESSID=1; b=\"p;q\"", sid, |_, _| false);
        assert_eq!(r.header.as_deref(), Some("a=\"x, y\"; b=\"p;q\""));
        let r = rebuild("a=1, CFID=2, b=3;PHPSESSID=4;c", sid, |_, _| false);
        assert_eq!(r.header.as_deref(), Some("a=1, CFID=2, b=3;c"));
        assert_eq!(rebuild("  ", sid, |_, _| true).header, None);
    }

    #[test]
    fn odd_input_does_not_panic() {
        for h in ["%", "=", "\"", ";;;", "a=%", "a=\u{e9}%e9 b=", ",", ", =", "a=b ,", &"; x".repeat(5_000)] {
            let _ = rebuild(h, sid, |_, _| true);
            let _ = names_read(h).count();
        }
    }
}
