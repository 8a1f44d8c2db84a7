//! A request's `Cookie` header, and the rule that decides which of its pairs may carry a
//! session cookie to the origin.
//!
//! Servers read a `Cookie` header in many ways (`docs/security.md`, "One cookie model"):
//! Tomcat, PHP, Node and Django split at every `;`, quotes or not; Python's `http.cookies`
//! also ends a pair at whitespace or after a closing quote; RFC 2965-era parsers split at
//! `,`; PHP maps `.`, ` ` and `[` in names to `_`; Lucee parses the raw header itself, trims
//! each name, strips its quotes, url-decodes it twice and splits at every `=`; ColdFusion
//! engines fold case. The rule here does not enumerate them. It over-approximates: a name
//! *may be read as* a session cookie's name when, at any of its percent-decoding rounds, its
//! letters and digits ([`letters_and_digits`]) are the session name's ([`SessionNames`]). Such
//! a pair reaches the origin only when it is exactly the pair the edge allows, once; a pair
//! with such a name anywhere after an `=` inside it is removed too ([`Removed::Smuggled`]).
//! Every other pair passes byte for byte. The one cost: a cookie whose name reduces to a
//! session name's letters (`c.f.i.d`, `"CFID"`, `cf%69d`) never reaches the origin.

use std::borrow::Cow;

/// `Cookie` headers larger than this in total (bytes) are refused before any parse: the
/// request is answered `431` (`docs/security.md`). Tomcat's whole request head defaults to 8 KiB.
pub const MAX_COOKIE_BYTES: usize = 16 * 1024;

/// Percent-decoding rounds a name is read through (Lucee decodes names twice). A name still
/// decoding after them is taken to be a session name.
const MAX_DECODE_ROUNDS: usize = 4;

/// Why [`rebuild`] removed a pair. Never carries a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Removed {
    /// A pair whose name may be read as a session cookie's and that is not the one allowed
    /// (edge mode: every CFID/CFTOKEN; guard mode: an id without a valid binding, another
    /// spelling of a bound one, or the binding cookie itself).
    Session,
    /// A second copy of an allowed pair.
    Copy,
    /// A pair whose name a server may read as a session cookie's but that is spelled
    /// otherwise (quoted, percent-encoded, `c.f.i.d`, `cfid[x]`…): no browser sends the edge's
    /// or the origin's own cookie that way.
    Spelling,
    /// A session cookie's name after an `=` inside another pair, where some server would
    /// read it as a cookie of its own.
    Smuggled,
}

impl Removed {
    /// The reason as the log line names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::Copy => "copy",
            Self::Spelling => "spelling",
            Self::Smuggled => "smuggled",
        }
    }
}

/// The `Cookie` headers of a request were larger than [`MAX_COOKIE_BYTES`] in total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge;

/// Refuses `Cookie` headers of `total` bytes beyond [`MAX_COOKIE_BYTES`], before any parse.
///
/// # Errors
/// [`TooLarge`] past the limit.
pub fn check_size(total: usize) -> Result<(), TooLarge> {
    if total > MAX_COOKIE_BYTES {
        Err(TooLarge)
    } else {
        Ok(())
    }
}

/// A `Cookie` header split into its pairs, once per request.
#[derive(Debug, Clone, Default)]
pub struct CookieHeader<'a> {
    text: &'a str,
    pairs: Vec<&'a str>,
}

impl<'a> CookieHeader<'a> {
    /// Splits `text` into [`pairs`]. Linear in its length.
    pub fn new(text: &'a str) -> Self {
        Self { text, pairs: pairs(text) }
    }

    /// The header as sent.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// The pairs, in order (see [`pairs`]).
    pub fn pairs(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.pairs.iter().copied()
    }

    /// The `(name, value)` of each pair with an `=` (see [`split_pair`]).
    pub fn named(&self) -> impl Iterator<Item = (&'a str, &'a str)> + '_ {
        self.pairs().filter_map(split_pair)
    }
}

/// The pairs of a `Cookie` header value, trimmed and non-empty, split at every `;` and at a
/// `,` followed by whitespace and a `name=` (headers the platform joined). Quotes do not
/// protect a separator: servers split there too. Linear in the header's length.
pub fn pairs(header: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for segment in header.split(';') {
        let bytes = segment.as_bytes();
        let mut start = 0;
        for (i, _) in bytes.iter().enumerate().filter(|(_, &b)| b == b',') {
            if starts_pair(bytes.get(i + 1..).unwrap_or_default()) {
                out.extend(segment.get(start..i));
                start = i + 1;
            }
        }
        out.extend(segment.get(start..));
    }
    out.retain(|p| !p.trim().is_empty());
    out.iter_mut().for_each(|p| *p = p.trim());
    out
}

/// Whether `rest` (after a comma) is whitespace, then a cookie name, then `=`. Reads at most
/// up to the next comma (which is no name byte), so splitting stays linear.
fn starts_pair(rest: &[u8]) -> bool {
    let after_space = rest.iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(rest.len());
    if after_space == 0 {
        return false;
    }
    let name = rest.get(after_space..).unwrap_or_default();
    let len = name.iter().position(|&b| !is_token_byte(b)).unwrap_or(name.len());
    len > 0 && name.get(len) == Some(&b'=')
}

/// A byte a cookie name can have (RFC 6265's token: printable, no separators).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !b"\"(),/:;<=>?@[\\]{}".contains(&b)
}

/// A pair's leading name and value (both trimmed). `None` for a pair without `=`.
pub fn split_pair(pair: &str) -> Option<(&str, &str)> {
    pair.split_once('=').map(|(n, v)| (n.trim(), v.trim()))
}

/// Whitespace or a control character (Python's `\s` and PHP's `isspace()` stop there).
fn is_gap(b: u8) -> bool {
    b <= b' ' || b == 0x7f
}

/// The ASCII letters and digits of `text`, lower-cased: what is left of a name once every
/// server's mapping (trimming, quotes, `.`/` `/`-`/`[` as `_`, case) has been applied and more.
/// A non-ASCII character counts as the ASCII letters its Unicode case mapping gives (Java's
/// `toUpperCase` makes `ı` an `I`, `ſ` an `S` and `ﬁ` an `FI`: [`CASE_TO_ASCII`]), a
/// full-width one as its ASCII twin; any other is dropped.
pub fn letters_and_digits(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if ('\u{FF10}'..='\u{FF5A}').contains(&c) {
            let twin = char::from_u32(u32::from(c) - 0xFEE0).filter(char::is_ascii_alphanumeric);
            out.extend(twin.map(|t| t.to_ascii_lowercase()));
        } else if let Ok(i) = CASE_TO_ASCII.binary_search_by_key(&c, |(from, _)| *from) {
            out.push_str(CASE_TO_ASCII.get(i).map_or("", |(_, to)| *to));
        }
    }
    out
}

/// Every non-ASCII character whose Unicode case mappings (upper or lower, full) hold ASCII
/// letters, with those letters lower-cased; sorted. Unicode's tables are fixed: the unit test
/// `the_case_table_is_unicodes` checks this against every code point (kept as a table so the
/// Worker does not carry Unicode's case tables).
const CASE_TO_ASCII: [(char, &str); 19] = [
    ('\u{DF}', "ss"),
    ('\u{130}', "i"),
    ('\u{131}', "i"),
    ('\u{149}', "n"),
    ('\u{17F}', "s"),
    ('\u{1F0}', "j"),
    ('\u{1E96}', "h"),
    ('\u{1E97}', "t"),
    ('\u{1E98}', "w"),
    ('\u{1E99}', "y"),
    ('\u{1E9A}', "a"),
    ('\u{212A}', "k"),
    ('\u{FB00}', "ff"),
    ('\u{FB01}', "fi"),
    ('\u{FB02}', "fl"),
    ('\u{FB03}', "ffi"),
    ('\u{FB04}', "ffl"),
    ('\u{FB05}', "st"),
    ('\u{FB06}', "st"),
];

/// One percent-decoding round: `%XX` and IIS's `%uXXXX` (invalid escapes kept as written,
/// bytes that are not UTF-8 replaced). `None` when there is nothing to decode.
fn decode_once(s: &str) -> Option<String> {
    if !s.contains('%') {
        return None;
    }
    let b = s.as_bytes();
    let hex = |i: usize, n: usize| {
        b.get(i..i + n).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut changed = false;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let wide = (c == b'%' && b.get(i + 1).is_some_and(|u| u.eq_ignore_ascii_case(&b'u')))
            .then(|| hex(i + 2, 4).and_then(char::from_u32))
            .flatten();
        if let Some(ch) = wide {
            out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
            i += 6;
        } else if let (b'%', Some(v)) = (c, hex(i + 1, 2)) {
            out.push(u8::try_from(v).unwrap_or(b'?'));
            i += 3;
        } else {
            out.push(c);
            i += 1;
            continue;
        }
        changed = true;
    }
    changed.then(|| String::from_utf8_lossy(&out).into_owned())
}

/// Whether `test` holds for `text` at any of its decoding rounds (the text as sent, decoded
/// once, twice, …), or the text is still decoding after [`MAX_DECODE_ROUNDS`].
fn any_round(text: &str, test: &dyn Fn(&str) -> bool) -> bool {
    let mut current = Cow::Borrowed(text);
    for _ in 0..=MAX_DECODE_ROUNDS {
        if test(&current) {
            return true;
        }
        match decode_once(&current) {
            Some(next) => current = Cow::Owned(next),
            None => return false,
        }
    }
    true
}

/// Whether cookie `name` is `pattern`, a configured cookie name (ASCII case aside) or a prefix
/// ending in `*` (`CFAUTHORIZATION_*`: any name that starts so and is longer).
pub fn named(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => {
            name.len() > prefix.len() && name.get(..prefix.len()).is_some_and(|p| p.eq_ignore_ascii_case(prefix))
        }
        None => pattern.eq_ignore_ascii_case(name),
    }
}

/// The session cookies' names (or prefixes, `NAME*`), as configured and as
/// [`letters_and_digits`] reduces them (what the rule compares).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionNames {
    names: Vec<String>,
    /// The letters and digits of each, and whether it is a prefix.
    letters: Vec<(String, bool)>,
}

impl SessionNames {
    pub fn new(names: &[&str]) -> Self {
        let letters =
            names.iter().map(|n| (letters_and_digits(n), n.ends_with('*'))).filter(|(l, _)| !l.is_empty()).collect();
        Self { names: names.iter().map(|n| (*n).to_owned()).collect(), letters }
    }

    /// Whether `name` is one of these as a cookie is sent: the name itself (ASCII case aside),
    /// or a name with the prefix.
    fn spelled_as(&self, name: &str) -> bool {
        self.names.iter().any(|n| named(n, name))
    }

    /// Whether some server may read a pair's leading name `name` as one of these: at a
    /// decoding round, its letters and digits, or those before its first `[` (PHP's
    /// `name[key]` arrays), are a session name's (start with a prefix's).
    pub fn read_in(&self, name: &str) -> bool {
        any_round(name, &|t| {
            let whole = letters_and_digits(t);
            let base = t.split_once('[').map(|(b, _)| letters_and_digits(b));
            let is = |l: &str, n: &str, prefix: bool| if prefix { l.starts_with(n) } else { l == n };
            self.letters
                .iter()
                .any(|(n, prefix)| is(&whole, n, *prefix) || base.as_deref().is_some_and(|b| is(b, n, *prefix)))
        })
    }

    /// Whether text that ends at an `=` inside a pair hides one of these: at a decoding round,
    /// its letters and digits contain a session name's (a server that ends a pair at
    /// whitespace, a quote or a comma, or splits at every `=`, reads a cookie there).
    fn hidden_in(&self, text: &str) -> bool {
        any_round(text, &|t| {
            let all = letters_and_digits(t);
            self.letters.iter().any(|(n, _)| all.contains(n.as_str()))
        })
    }

    /// Whether `pair` carries one of these names inside it: as a word of its leading name
    /// (Python reads `a b=1` as `a` and `b`, and `x"b=1` as `b`), or after an `=`.
    fn smuggled_in(&self, pair: &str) -> bool {
        let mut pieces = pair.split('=');
        let leading = pieces.next().unwrap_or_default();
        let mut words = leading.split(|c: char| !c.is_ascii() || !is_token_byte(c as u8)).filter(|w| !w.is_empty());
        if words.clone().nth(1).is_some() && words.any(|w| self.read_in(w)) {
            return true;
        }
        let mut inner: Vec<&str> = pieces.collect();
        inner.pop(); // the last piece is followed by no `=`
        inner.iter().any(|t| self.hidden_in(t))
    }
}

/// Whether a server may read cookie name `name` as `wanted` ([`SessionNames::read_in`]).
pub fn reads_as(name: &str, wanted: &str) -> bool {
    SessionNames::new(&[wanted]).read_in(name)
}

/// A `Cookie` header for the origin, and what was removed from it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rebuilt {
    /// The header to forward; `None` when nothing is left.
    pub header: Option<String>,
    /// Why pairs were removed (each reason once, in order); empty when none was.
    pub removed: Vec<Removed>,
}

/// The `Cookie` header for the origin. A pair whose leading name may be read as one of `names`
/// ([`SessionNames::read_in`]) is kept only when it is spelled as one of them, `allow(name,
/// value)` says so, it has no whitespace after it, and no earlier pair with the same letters
/// was kept; any other pair
/// that hides one of `names` after an `=` is removed. Every other pair is kept byte for byte,
/// in order; a header with nothing removed is returned unchanged.
pub fn rebuild(header: &CookieHeader, names: &SessionNames, allow: &dyn Fn(&str, &str) -> bool) -> Rebuilt {
    let text = header.text();
    let mut removed: Vec<Removed> = Vec::new();
    let mut forwarded: Vec<String> = Vec::new();
    let mut out = String::new();
    // The end of the previous pair, kept or not: a kept pair brings the separator before it.
    // Next to an allowed session pair, a `, ` the platform joined headers with becomes `; `
    // (PHP, Tomcat and Node split only at `;`: the comma would join the pairs), and so does one
    // that starts with whitespace after it (PHP would read that as part of the value).
    let mut previous_end = None;
    let mut after_session = false;
    let mut respaced = false;
    for pair in header.pairs() {
        let start = offset(text, pair);
        // PHP keeps whitespace after a value: such a pair is not exactly what was allowed.
        let padded = text.as_bytes().get(start + pair.len()).is_some_and(|&b| is_gap(b));
        match judge(pair, padded, names, allow, &forwarded) {
            Ok(session) => {
                if !out.is_empty() {
                    let separator = previous_end.and_then(|end| text.get(end..start)).unwrap_or("; ");
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
        return Rebuilt { header: (!text.trim().is_empty()).then(|| text.to_owned()), removed };
    }
    Rebuilt { header: (!out.is_empty()).then_some(out), removed }
}

/// Where `part` (a slice of `whole`) starts in `whole`.
fn offset(whole: &str, part: &str) -> usize {
    (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize)
}

/// `Ok(None)`: not a session pair; `Ok(Some(letters))`: an allowed session pair (its name's
/// letters and digits); `Err`: removed.
fn judge(
    pair: &str,
    padded: bool,
    names: &SessionNames,
    allow: &dyn Fn(&str, &str) -> bool,
    forwarded: &[String],
) -> Result<Option<String>, Removed> {
    let leading = split_pair(pair).map_or(pair, |(n, _)| n);
    if names.read_in(leading) {
        if !names.spelled_as(leading.trim()) {
            return Err(Removed::Spelling);
        }
        // A bare name (no `=`) is a session cookie with an empty value: never allowed.
        let Some((name, value)) = split_pair(pair) else { return Err(Removed::Session) };
        if padded || !allow(name, value) {
            return Err(Removed::Session);
        }
        let letters = letters_and_digits(name);
        return if forwarded.contains(&letters) { Err(Removed::Copy) } else { Ok(Some(letters)) };
    }
    if names.smuggled_in(pair) {
        return Err(Removed::Smuggled);
    }
    Ok(None)
}

#[cfg(test)]
mod tests;
