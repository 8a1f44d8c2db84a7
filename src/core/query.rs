//! Query strings: finding and removing parameters by name while every other parameter stays
//! byte-for-byte as the client sent it.

use url::form_urlencoded;

/// One `name[=value]` segment of a query string.
struct Param {
    name: String,
    value: Option<String>,
}

fn params(query: &str) -> impl Iterator<Item = Param> + '_ {
    query.split('&').filter(|s| !s.is_empty()).map(|raw| {
        let (name, value) = match raw.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (raw, None),
        };
        Param { name: decode(name), value: value.map(decode) }
    })
}

/// `s` form-decoded (`%XX` escapes and `+`), invalid escapes kept.
pub fn decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

/// Whether a parameter named `name` (case-insensitive) is present, with any value or none.
pub fn has(query: &str, name: &str) -> bool {
    params(query).any(|p| p.name.eq_ignore_ascii_case(name))
}

/// The decoded value of the first parameter named `name` (case-insensitive).
pub fn get(query: &str, name: &str) -> Option<String> {
    params(query).find(|p| p.name.eq_ignore_ascii_case(name)).and_then(|p| p.value)
}

/// The query without any parameter named in `names` (case-insensitive); everything else,
/// empty segments included, is kept byte for byte and in order. `None` when nothing is left.
pub fn without(query: &str, names: &[&str]) -> Option<String> {
    without_where(query, |name, _| names.iter().any(|n| name.eq_ignore_ascii_case(n)))
}

/// The query without the parameters `remove(decoded name, decoded value)` picks; everything
/// else, empty segments included, byte for byte and in order. `None` when nothing is left.
pub fn without_where(query: &str, remove: impl Fn(&str, Option<&str>) -> bool) -> Option<String> {
    let removed = |segment: &str| {
        !segment.is_empty() && {
            let (name, value) = match segment.split_once('=') {
                Some((n, v)) => (decode(n), Some(decode(v))),
                None => (decode(segment), None),
            };
            remove(&name, value.as_deref())
        }
    };
    if !query.split('&').any(removed) {
        return (!query.is_empty()).then(|| query.to_owned());
    }
    let kept: Vec<&str> = query.split('&').filter(|s| !removed(s)).collect();
    let joined = kept.join("&");
    (!joined.trim_matches('&').is_empty()).then_some(joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_names_case_insensitively_with_or_without_values() {
        assert!(has("a=1&killSession", "killsession"));
        assert!(has("KILLSESSION=yes", "killSession"));
        assert!(has("kill%53ession=", "killSession"));
        assert!(!has("killSessionX=1", "killSession"));
        assert_eq!(get("cfid=abc&CFTOKEN=t%2Bk", "cftoken").as_deref(), Some("t+k"));
        assert_eq!(get("flag", "flag"), None);
    }

    #[test]
    fn removal_keeps_the_rest_byte_for_byte() {
        assert_eq!(without("a=%2F&killSession&b=x+y&&c", &["killsession"]).as_deref(), Some("a=%2F&b=x+y&&c"));
        assert_eq!(without("%zz=%&=&&=%00", &["cfid"]).as_deref(), Some("%zz=%&=&&=%00"));
        assert_eq!(without("CFID=1&CFTOKEN=2", &["cfid", "cftoken"]), None);
        assert_eq!(without("", &["x"]), None);
    }

    #[test]
    fn odd_input_does_not_panic() {
        for q in ["%", "%zz=%", "=&=&", "a=b=c", "\u{0}", &"&".repeat(10_000)] {
            let _ = has(q, "a");
            let _ = get(q, "a");
            let _ = without(q, &["a"]);
        }
    }
}
