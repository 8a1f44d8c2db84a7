//! How four origin-side parsers split a `Cookie` header, written from their sources, so tests
//! can ask what an origin would read from what the edge forwards. Each returns every
//! `(name, value)` pair it reads, in order, names as the server's application sees them.
//! - Tomcat 10's `Rfc6265CookieProcessor` (`org.apache.tomcat.util.http.parser.Cookie`);
//! - PHP's `php_default_treat_data` + `php_register_variable_ex` for `$_COOKIE`;
//! - Node's `cookie` package 0.7 (`parse`), used by express-session and Express;
//! - Python's `http.cookies.SimpleCookie.load` (`_CookiePattern`).
#![allow(dead_code)] // each test binary uses a different subset

use std::sync::OnceLock;

/// A parser: every `(name, value)` it reads from a `Cookie` header.
pub type Parser = fn(&str) -> Vec<(String, String)>;

/// All four, by name.
pub const PARSERS: [(&str, Parser); 4] = [("tomcat", tomcat), ("php", php), ("node", node), ("python", python)];

fn is_lws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// RFC 2616 token bytes (Tomcat's `HttpParser.isToken`).
fn is_token(b: u8) -> bool {
    b > 0x20 && b < 0x7f && !b"()<>@,;:\\\"/[]?={}".contains(&b)
}

/// RFC 6265 cookie-octet.
fn is_cookie_octet(b: u8) -> bool {
    b == 0x21
        || (0x23..=0x2b).contains(&b)
        || (0x2d..=0x3a).contains(&b)
        || (0x3c..=0x5b).contains(&b)
        || (0x5d..=0x7e).contains(&b)
}

/// Tomcat: name is a token; the value is cookie-octets or `"cookie-octets"` (quotes kept);
/// anything else makes the pair invalid, skipped up to the next `;`.
pub fn tomcat(header: &str) -> Vec<(String, String)> {
    let b = header.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let skip_invalid = |mut i: usize| {
        while i < b.len() && b[i] != b';' {
            i += 1;
        }
        i + 1
    };
    while i < b.len() {
        while i < b.len() && is_lws(b[i]) {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        if b[i] == b';' {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && is_token(b[i]) {
            i += 1;
        }
        let name = &header[start..i];
        if name.is_empty() {
            i = skip_invalid(i);
            continue;
        }
        while i < b.len() && is_lws(b[i]) {
            i += 1;
        }
        let mut value = String::new();
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && is_lws(b[i]) {
                i += 1;
            }
            let vstart = i;
            if i < b.len() && b[i] == b'"' {
                i += 1;
                while i < b.len() && is_cookie_octet(b[i]) {
                    i += 1;
                }
                if i < b.len() && b[i] == b'"' {
                    i += 1;
                } else {
                    i = skip_invalid(i);
                    continue;
                }
            } else {
                while i < b.len() && is_cookie_octet(b[i]) {
                    i += 1;
                }
            }
            value = header[vstart..i].to_owned();
            while i < b.len() && is_lws(b[i]) {
                i += 1;
            }
        }
        if i < b.len() && b[i] != b';' {
            i = skip_invalid(i);
            continue;
        }
        out.push((name.to_owned(), value));
        i += 1;
    }
    out
}

fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'+' {
            out.push(b' ');
            i += 1;
        } else if b[i] == b'%' && b.len() >= i + 3 {
            match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16) {
                Ok(v) => {
                    out.push(v);
                    i += 3;
                }
                Err(_) => {
                    out.push(b'%');
                    i += 1;
                }
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// PHP 8: split at `;` (no quotes), leading whitespace skipped, the value url-decoded; in the
/// name, ` ` and `.` become `_`, `name[…]` is the array `name`, a lone `[` becomes `_`.
/// The first pair of a name wins (later ones are dropped).
pub fn php(header: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for part in header.split(';').filter(|p| !p.is_empty()) {
        let part = part.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '\u{b}');
        let (raw_name, value) = part.split_once('=').unwrap_or((part, ""));
        let raw_name = raw_name.trim_start_matches(' ');
        if raw_name.is_empty() {
            continue;
        }
        let name = php_name(raw_name);
        if name.is_empty() || out.iter().any(|(n, _)| *n == name) {
            continue;
        }
        out.push((name, url_decode(value)));
    }
    out
}

/// `php_register_variable_ex`'s name: ` ` and `.` become `_` up to the first `[`; with a `]`
/// after it the name ends there (an array), else that `[` becomes `_` and the rest stays.
fn php_name(raw: &str) -> String {
    let mut name = String::new();
    for (i, c) in raw.char_indices() {
        match c {
            ' ' | '.' => name.push('_'),
            '[' if raw[i..].contains(']') => return name,
            '[' => {
                name.push('_');
                name.push_str(&raw[i + 1..]);
                return name;
            }
            c => name.push(c),
        }
    }
    name
}

/// Node's `cookie` 0.7: pairs end at `;`; a pair without `=` before the next `;` is skipped;
/// name and value trimmed, one pair of surrounding quotes removed, the value url-decoded
/// (kept as is if that fails). The first pair of a name wins.
pub fn node(header: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut index = 0;
    let len = header.len();
    while index < len {
        let Some(eq) = header[index..].find('=').map(|i| i + index) else { break };
        let end = match header[index..].find(';').map(|i| i + index) {
            None => len,
            Some(end) if end < eq => {
                index = header[..eq].rfind(';').map_or(0, |i| i + 1);
                continue;
            }
            Some(end) => end,
        };
        let key = header[index..eq].trim_matches([' ', '\t']).to_owned();
        if !out.iter().any(|(k, _)| *k == key) {
            let mut val = header[eq + 1..end].trim_matches([' ', '\t']);
            if let Some(rest) = val.strip_prefix('"') {
                // `val.slice(1, -1)`: the first and the last character go, whatever the last is.
                val = rest.char_indices().last().map_or("", |(i, _)| &rest[..i]);
            }
            let decoded = if val.contains('%') { node_decode(val) } else { val.to_owned() };
            out.push((key, decoded));
        }
        index = end + 1;
    }
    out
}

/// `decodeURIComponent`, or the input when it throws.
fn node_decode(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(x) => {
                    out.push(x);
                    i += 3;
                }
                None => return v.to_owned(),
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| v.to_owned())
}

/// Python's `SimpleCookie.load`: `_CookiePattern` matched from the start, again and again; a
/// quoted value may hold `;`; a pair also ends at whitespace; parsing stops at the first
/// position that does not match. `$`-names and attribute names (`path`, `expires`, …) are
/// not cookies. Values are unquoted (`"…"` with `\` escapes).
pub fn python(header: &str) -> Vec<(String, String)> {
    static PATTERN: OnceLock<regex::Regex> = OnceLock::new();
    let re = PATTERN.get_or_init(|| {
        let key = r#"[\w\d!#%&'~_`><@,:/\$\*\+\-\.\^\|\)\(\?\}\{\=]+?"#;
        let val = r#""(?:[^\\"]|\\.)*"|\w{3},\s[\w\d\s-]{9,11}\s[\d:]{8}\sGMT|[\w\d!#%&'~_`><@,:/\$\*\+\-\.\^\|\)\(\?\}\{\=\[\]]*"#;
        regex::Regex::new(&format!(r"^\s*(?P<key>{key})(\s*=\s*(?P<val>{val}))?\s*(\s+|;|$)")).unwrap()
    });
    const RESERVED: [&str; 10] =
        ["expires", "path", "comment", "domain", "max-age", "secure", "httponly", "version", "samesite", "partitioned"];
    let mut out = Vec::new();
    let mut i = 0;
    while i < header.len() {
        let Some(m) = re.captures(&header[i..]) else { break };
        let whole = m.get(0).unwrap();
        if whole.end() == 0 {
            break;
        }
        i += whole.end();
        let key = m.name("key").unwrap().as_str();
        let Some(val) = m.name("val") else { continue };
        if key.starts_with('$') || RESERVED.contains(&key.to_ascii_lowercase().as_str()) {
            continue;
        }
        let v = val.as_str();
        let v = match v.strip_prefix('"').and_then(|q| q.strip_suffix('"')) {
            Some(inner) => inner.replace("\\\"", "\"").replace("\\\\", "\\"),
            None => v.to_owned(),
        };
        out.push((key.to_owned(), v));
    }
    out
}

#[test]
fn the_parsers_split_as_their_servers_do() {
    let smuggled = "a=\"; PHPSESSID=victim; z=\"";
    for (name, parse) in [("tomcat", tomcat as Parser), ("php", php), ("node", node)] {
        assert!(parse(smuggled).contains(&("PHPSESSID".into(), "victim".into())), "{name}: {:?}", parse(smuggled));
    }
    assert!(!python(smuggled).iter().any(|(n, _)| n == "PHPSESSID"), "{:?}", python(smuggled));
    assert_eq!(python("a=1 PHPSESSID=v"), vec![("a".into(), "1".into()), ("PHPSESSID".into(), "v".into())]);
    assert_eq!(php("x.y=1; x_y=2; a[b]=3"), vec![("x_y".into(), "1".into()), ("a".into(), "3".into())]);
    assert_eq!(node("a=\"q\"; a=2; b=%41"), vec![("a".into(), "q".into()), ("b".into(), "A".into())]);
    assert_eq!(tomcat("a=1 2; b=\"x\"; c=3"), vec![("b".into(), "\"x\"".into()), ("c".into(), "3".into())]);
}
