//! Variables that are not settings but look like one (`SESION_TIMEOUT`, `session_timeout`):
//! a misspelled setting is otherwise silently ignored, and its default applies.

use std::fmt;

/// An environment variable that is not a setting, and the setting it is nearest to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub variable: String,
    pub nearest: String,
}

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is not a setting and is ignored: did you mean {}?", self.variable, self.nearest)
    }
}

/// The hints for the environment's variable names `present`, given the settings' names
/// `known`: each name that is not a setting but is within a few edits of one (case aside), with
/// the nearest setting, in the order of `present`. Other names (the application's own
/// variables) are left alone.
pub fn hints(known: &[String], present: &[String]) -> Vec<Hint> {
    present
        .iter()
        .filter(|name| !known.contains(name))
        .filter_map(|name| {
            let upper = name.to_ascii_uppercase();
            let (nearest, distance) = known.iter().map(|k| (k, edit_distance(&upper, k))).min_by_key(|(_, d)| *d)?;
            (distance <= (nearest.len() / 5).max(2)).then(|| Hint { variable: name.clone(), nearest: nearest.clone() })
        })
        .collect()
}

/// Levenshtein distance between two names, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let mut previous: Vec<usize> = (0..=b.chars().count()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for ((cb, diagonal), above) in b.chars().zip(&previous).zip(previous.iter().skip(1)) {
            let left = current.last().copied().unwrap_or(0);
            current.push((diagonal + usize::from(ca != cb)).min(left + 1).min(above + 1));
        }
        previous = current;
    }
    previous.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Some settings' names (the real list is `known_variables`, tested beside the parse).
    fn known() -> Vec<String> {
        ["SESSION_TIMEOUT", "SESSION_MAX_LIFETIME", "ADMIN_TOKEN", "ADMIN_PREFIX", "APP_NAME"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn misspellings_get_the_nearest_setting_and_other_names_nothing() {
        let present: Vec<String> = [
            "ADMINTOKEN",
            "SESION_TIMEOUT",
            "SESSION_TIMOUT",
            "session_timeout",
            "SESSION_TIMEOUT",
            "API_KEY",
            "DATABASE_URL",
            "NODE_ENV",
        ]
        .map(String::from)
        .to_vec();
        let got: Vec<(String, String)> =
            hints(&known(), &present).into_iter().map(|h| (h.variable, h.nearest)).collect();
        let want = [
            ("ADMINTOKEN", "ADMIN_TOKEN"),
            ("SESION_TIMEOUT", "SESSION_TIMEOUT"),
            ("SESSION_TIMOUT", "SESSION_TIMEOUT"),
            ("session_timeout", "SESSION_TIMEOUT"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()));
        assert_eq!(got, want);
        assert_eq!(
            hints(&known(), &["SESION_TIMEOUT".to_owned()])[0].to_string(),
            "SESION_TIMEOUT is not a setting and is ignored: did you mean SESSION_TIMEOUT?"
        );
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("SESION_TIMEOUT", "SESSION_TIMEOUT"), 1);
        assert_eq!(edit_distance("ABC", "ABC"), 0);
        assert_eq!(edit_distance("", "ABC"), 3);
        assert_eq!(edit_distance("KITTEN", "SITTING"), 3);
    }
}
