//! Code as the documentation gives it: the fenced blocks of one section of a Markdown file,
//! for tests that run a README's example as written.

use std::{fs, path::Path};

/// A fenced block: its info string (`js`, `sh`, …) and its text.
#[derive(Debug, Clone)]
pub struct Block {
    pub lang: String,
    pub code: String,
}

/// The fenced blocks of the section headed `heading` (a `## ` heading) in `path`, in order.
pub fn section_blocks(path: &Path, heading: &str) -> Vec<Block> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let start = format!("## {heading}\n");
    let section = text.split(&start).nth(1).unwrap_or_else(|| panic!("no {start:?} in {}", path.display()));
    let section = section.split("\n## ").next().unwrap_or_default();
    section
        .split("```")
        .skip(1)
        .step_by(2)
        .map(|block| {
            let (lang, code) = block.split_once('\n').unwrap_or((block, ""));
            Block { lang: lang.trim().to_owned(), code: code.to_owned() }
        })
        .collect()
}
