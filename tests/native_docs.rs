//! The documentation a newcomer reads first: the README stays short, every relative link in
//! the README, `docs/` and `kits/` leads to a file (and heading) that exists, and
//! `docs/configuration.md` lists exactly the variables the configuration reads, and
//! `docs/storage.md` every key, table and stored field.

mod common;

use std::{collections::BTreeSet, fs, path::Path};

use common::edge::repo_root;

/// The Markdown files checked: the README, `docs/*.md`, the kits' READMEs.
fn markdown_files() -> Vec<std::path::PathBuf> {
    let root = repo_root();
    let mut files = vec![root.join("README.md"), root.join("kits/README.md")];
    for dir in ["docs", "kits/node", "kits/php", "kits/cfml"] {
        for e in fs::read_dir(root.join(dir)).unwrap().flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "md") {
                files.push(p);
            }
        }
    }
    files
}

/// `](target)` links, without external ones.
fn relative_links(text: &str) -> Vec<String> {
    let re = regex::Regex::new(r"\]\(([^)\s]+)\)").unwrap();
    re.captures_iter(text)
        .map(|c| c[1].to_owned())
        .filter(|l| !l.starts_with("http://") && !l.starts_with("https://") && !l.starts_with("mailto:"))
        .collect()
}

/// GitHub's anchor for a heading: lower-case, punctuation other than `-` and `_` dropped,
/// spaces as `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(markdown: &str) -> BTreeSet<String> {
    markdown.lines().filter_map(|l| l.strip_prefix('#')).map(|h| slug(h.trim_start_matches('#'))).collect()
}

#[test]
fn the_readme_is_short() {
    let size = fs::metadata(repo_root().join("README.md")).unwrap().len();
    assert!(size < 8 * 1024, "README.md is {size} bytes: move detail to docs/");
}

#[test]
fn every_relative_link_leads_somewhere() {
    let mut broken = Vec::new();
    for file in markdown_files() {
        let text = fs::read_to_string(&file).unwrap();
        let dir = file.parent().unwrap();
        for link in relative_links(&text) {
            let (path, anchor) = link.split_once('#').map_or((link.as_str(), None), |(p, a)| (p, Some(a)));
            let target = if path.is_empty() { file.clone() } else { dir.join(path) };
            if !target.exists() {
                broken.push(format!("{}: {link} (no such file)", file.display()));
                continue;
            }
            let is_markdown = target.extension().is_some_and(|x| x == "md");
            if let (Some(anchor), true) = (anchor, is_markdown) {
                if !anchors(&fs::read_to_string(&target).unwrap()).contains(anchor) {
                    broken.push(format!("{}: {link} (no such heading)", file.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The variables the configuration reads: every name its parse asks for.
fn variables_read() -> BTreeSet<String> {
    cfsession_edge::core::config::known_variables().into_iter().collect()
}

fn variables_documented(path: &Path) -> BTreeSet<String> {
    let re = regex::Regex::new(r"(?m)^\| `([A-Z][A-Z0-9_]+)` \|").unwrap();
    re.captures_iter(&fs::read_to_string(path).unwrap()).map(|c| c[1].to_owned()).collect()
}

#[test]
fn the_configuration_table_matches_what_the_configuration_reads() {
    let read = variables_read();
    assert!(read.len() > 40, "the parse asked only for {read:?}");
    let documented = variables_documented(&repo_root().join("docs/configuration.md"));
    let undocumented: Vec<_> = read.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&read).collect();
    assert!(undocumented.is_empty(), "read but not in docs/configuration.md: {undocumented:?}");
    assert!(stale.is_empty(), "in docs/configuration.md but never read: {stale:?}");
}

/// The hooks' documentation names every reason a session can end with.
#[test]
fn every_end_reason_is_documented() {
    let text = fs::read_to_string(repo_root().join("docs/lifecycle.md")).unwrap();
    for reason in cfsession_edge::core::end_reason::EndReason::ALL {
        assert!(
            text.contains(&format!("`{}`", reason.as_str())),
            "docs/lifecycle.md does not name `{}`",
            reason.as_str()
        );
    }
}

/// `docs/storage.md` names every storage key the objects use, every index table, and every
/// field of a stored session record.
#[test]
fn the_storage_document_names_every_key_table_and_field() {
    let root = repo_root();
    let doc = fs::read_to_string(root.join("docs/storage.md")).unwrap();
    let read = |p: &str| fs::read_to_string(root.join(p)).unwrap();
    let mut names = BTreeSet::new();
    let key = regex::Regex::new(r#"const [A-Z_]+: &str = "([^"]+)";"#).unwrap();
    for file in ["src/edge/session_object.rs", "src/edge/app_object.rs"] {
        names.extend(key.captures_iter(&read(file)).map(|c| c[1].to_owned()));
    }
    let table = regex::Regex::new(r"CREATE TABLE IF NOT EXISTS (\w+) \(").unwrap();
    let tables: Vec<String> = table.captures_iter(&read("src/edge/index_object.rs")).map(|c| c[1].to_owned()).collect();
    assert!(tables.len() >= 4, "{tables:?}");
    names.extend(tables);
    let record = read("src/core/record.rs");
    let body = &record[record.find("pub struct SessionRecord {").unwrap()..];
    let body = &body[..body.find("\n}").unwrap()];
    let field = regex::Regex::new(r"(?m)^    pub (\w+):").unwrap();
    let fields: Vec<String> = field.captures_iter(body).map(|c| c[1].to_owned()).collect();
    assert!(fields.len() > 10, "{fields:?}");
    names.extend(fields);
    let missing: Vec<&String> = names.iter().filter(|n| !doc.contains(&format!("`{n}`"))).collect();
    assert!(missing.is_empty(), "docs/storage.md does not name: {missing:?}");
}
