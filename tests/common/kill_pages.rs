//! The `ORIGIN_KILL_URL` pages docs/guard-mode.md gives, taken as written: the tests run them
//! against the applications they are written for.

use std::fs;

use super::edge::repo_root;

/// The page `name` (`django`, `php`, `express`, `jsp`): the fenced block that follows the line
/// `<!-- kill page: NAME -->` in docs/guard-mode.md.
pub fn documented_kill_page(name: &str) -> String {
    let doc = fs::read_to_string(repo_root().join("docs/guard-mode.md")).unwrap();
    let marker = format!("<!-- kill page: {name} -->");
    let after = doc.split(&marker).nth(1).unwrap_or_else(|| panic!("no {marker} in docs/guard-mode.md"));
    let block = after.split("```").nth(1).expect("a fenced block after the marker");
    block.split_once('\n').map_or("", |(_, code)| code).to_owned()
}
