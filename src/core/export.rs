//! CSV export of the session list (admin dashboard, `?format=csv`).

use super::{date::iso8601, index::IndexEntry};

/// The header row.
pub const CSV_HEADER: &str = "cfid,user,created,last_access,expires_at,hits";

/// The entries as CSV (RFC 4180, CRLF line ends), times in ISO 8601 UTC. A cell that a
/// spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab, CR) is prefixed with `'`; one
/// with `;` is quoted too (spreadsheets in locales that use `;` as the separator).
pub fn sessions_csv(entries: &[IndexEntry]) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push_str("\r\n");
    for e in entries {
        let row = [
            cell(&e.cfid),
            cell(e.user.as_deref().unwrap_or("")),
            iso8601(e.created),
            iso8601(e.last_access),
            iso8601(e.expires_at),
            e.hits.to_string(),
        ];
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

fn cell(value: &str) -> String {
    let value = match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    };
    if value.contains([',', ';', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(user: Option<&str>) -> IndexEntry {
        IndexEntry {
            cfid: "0123456789abcdef0123456789abcdef".into(),
            created: 0,
            last_access: 86_400_000 + 3_661_000,
            expires_at: 1_700_000_000_000,
            hits: 3,
            user: user.map(str::to_owned),
            flag: None,
        }
    }

    #[test]
    fn rows_have_iso_times_and_crlf() {
        let csv = sessions_csv(&[entry(Some("alice")), entry(None)]);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], CSV_HEADER);
        assert_eq!(
            lines[1],
            "0123456789abcdef0123456789abcdef,alice,1970-01-01T00:00:00Z,1970-01-02T01:01:01Z,2023-11-14T22:13:20Z,3"
        );
        assert!(lines[2].starts_with("0123456789abcdef0123456789abcdef,,"));
        assert_eq!(lines.len(), 4, "a CRLF after the last row");
    }

    #[test]
    fn quotes_commas_and_formulas_are_neutralised() {
        let csv = sessions_csv(&[entry(Some("=HYPERLINK(\"x\",1)")), entry(Some("a,b")), entry(Some("-2"))]);
        assert!(csv.contains(",\"'=HYPERLINK(\"\"x\"\",1)\","), "{csv}");
        assert!(csv.contains(",\"a,b\","));
        assert!(csv.contains(",'-2,"));
        let csv = sessions_csv(&[entry(Some("a;b"))]);
        assert!(csv.contains(",\"a;b\","), "{csv}");
    }
}
