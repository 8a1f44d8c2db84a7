//! The layering, read from the source: `src/core/` imports nothing from `src/edge/`, and no
//! modules import each other in a circle, of any length. A module is a file; an import is any `crate::…`, `super::…`
//! or `self::…` path in it (in `use` lines or inline), resolved to the file it names.
//! Unit tests (`tests.rs` files and inline `mod tests { … }`) are left out: test code may
//! reach anywhere.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::Path,
};

/// Module path (`core::session`) → its source text, for every file under `src/`.
fn modules() -> BTreeMap<String, String> {
    fn walk(dir: &Path, prefix: &[String], out: &mut BTreeMap<String, String>) {
        for entry in fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                walk(&path, &[prefix, &[name]].concat(), out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let module = match name.as_str() {
                    "mod" | "lib" => prefix.to_vec(),
                    _ => [prefix, &[name]].concat(),
                };
                out.insert(module.join("::"), fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &[], &mut out);
    out
}

/// The text without comments (line comments and doc comments), so prose naming a path does
/// not count as an import, and without visibilities (`pub(super)` names no item).
fn code(text: &str) -> String {
    let visibility = regex::Regex::new(r"pub\((?:crate|super|self|in [\w:]+)\)").unwrap();
    let text: Vec<&str> = text.lines().map(|l| l.split("//").next().unwrap_or("")).collect();
    visibility.replace_all(&text.join("\n"), "pub").into_owned()
}

/// The path segments of every `crate::`/`super::`/`self::` path in `text`, including each
/// name of a `use a::{b, c::d}` group.
fn paths(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    // `crate::`, `super::`, `self::`, or a name followed by `::` (a submodule, resolved
    // against the module's children by [`resolve`]).
    let re = regex::Regex::new(r"(?:^|[^:\w])(\w+)((?:::\w+)*)(::\{)?").unwrap();
    for m in re.captures_iter(text) {
        let head: Vec<String> = std::iter::once(m[1].to_owned())
            .chain(m[2].split("::").filter(|s| !s.is_empty()).map(str::to_owned))
            .collect();
        if m.get(3).is_none() {
            out.push(head);
            continue;
        }
        // A group: every path inside the braces, nested groups included.
        group(&text[m.get(0).unwrap().end()..], &head, &mut out);
    }
    out
}

/// `text` without its inline unit tests (`#[cfg(test)] mod tests { … }`, to its closing brace).
fn without_inline_tests(text: &str) -> String {
    let Some(start) = text.find("#[cfg(test)]\nmod tests {") else { return text.to_owned() };
    let open = start + text[start..].find('{').unwrap();
    let mut depth = 0;
    for (i, c) in text[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        if depth == 0 {
            return format!("{}{}", &text[..start], without_inline_tests(&text[open + i + 1..]));
        }
    }
    text[..start].to_owned()
}

/// The paths of the `use` group whose text (after its `{`) starts `rest`, each prefixed with
/// `prefix`; returns how much of `rest` the group took (up to its `}`).
fn group(rest: &str, prefix: &[String], out: &mut Vec<Vec<String>>) -> usize {
    let mut item = String::new();
    let mut i = 0;
    let bytes = rest.as_bytes();
    while i < bytes.len() {
        let c = bytes[i] as char;
        match c {
            '{' => {
                let nested: Vec<String> = [prefix, &segments(&item)].concat();
                i += 1 + group(&rest[i + 1..], &nested, out);
                item.clear();
                continue;
            }
            ',' | '}' => {
                let segs = segments(&item);
                if !segs.is_empty() && segs[0] != "self" {
                    out.push([prefix, &segs].concat());
                } else if item.trim() == "self" {
                    out.push(prefix.to_vec());
                }
                item.clear();
                if c == '}' {
                    return i + 1;
                }
            }
            _ => item.push(c),
        }
        i += 1;
    }
    i
}

/// `a::b as c` → `["a", "b"]`.
fn segments(item: &str) -> Vec<String> {
    let first = item.split_whitespace().next().unwrap_or("");
    first.split("::").filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// The longest known module a path names, seen from module `from`.
fn resolve(from: &str, path: &[String], known: &BTreeMap<String, String>) -> Option<String> {
    let mut base: Vec<String> = if from.is_empty() { vec![] } else { from.split("::").map(str::to_owned).collect() };
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &path[1..];
        }
        Some("self") => {
            // `self::x` inside `a/mod.rs` names `a::x`; inside `a/b.rs` it names `a::b::x`.
            rest = &path[1..];
        }
        Some("super") => {
            let mut parent = base.clone();
            let mut r = path;
            while r.first().is_some_and(|s| s == "super") {
                parent.pop();
                r = &r[1..];
            }
            base = parent;
            rest = r;
        }
        // Any other name: a child module named without `self::` (`mod resume;` …
        // `resume::start`), else not a module of this crate (`std::…`, a local). A name
        // alone is not a path (`mod resume;`, a variable).
        _ if path.len() == 1 => return None,
        _ => {}
    }
    let mut best = None;
    let mut current = base;
    if known.contains_key(&current.join("::")) {
        best = Some(current.join("::"));
    }
    for seg in rest {
        current.push(seg.clone());
        if known.contains_key(&current.join("::")) {
            best = Some(current.join("::"));
        } else {
            break;
        }
    }
    best
}

/// Module → the modules it imports (itself and the crate root left out), for the crate's
/// own files.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    imports_of(&modules())
}

/// Module → the modules it imports, for modules `known` (path → source).
fn imports_of(known: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, text) in known.iter().filter(|(m, _)| !m.ends_with("::tests")) {
        let targets: Vec<String> = paths(&code(&without_inline_tests(text)))
            .iter()
            .filter_map(|p| resolve(module, p, known))
            .filter(|t| t != module && !t.is_empty() && !t.ends_with("::tests"))
            .collect();
        graph.entry(module.clone()).or_default().extend(targets);
    }
    graph
}

#[test]
fn the_core_imports_nothing_from_the_edge() {
    let graph = imports();
    let upward: Vec<String> = graph
        .iter()
        .filter(|(m, _)| m.starts_with("core"))
        .flat_map(|(m, ts)| ts.iter().filter(|t| t.starts_with("edge")).map(move |t| format!("{m} -> {t}")))
        .collect();
    assert!(upward.is_empty(), "core imports the edge: {upward:#?}");
}

/// The circles of `graph`, of any length: each set of modules that reach one another through
/// their imports (a strongly connected component of two or more), as `a -> b -> … -> a`
/// along one loop through all of them, the modules sorted by name.
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut circles: Vec<String> =
        components(graph).into_iter().filter(|c| c.len() > 1).map(|c| loop_through(graph, &c).join(" -> ")).collect();
    circles.sort();
    circles
}

/// Tarjan's strongly connected components of `graph`, each sorted.
fn components(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'g> {
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        out: Vec<Vec<String>>,
    }
    impl<'g> Walk<'g> {
        fn visit(&mut self, v: &'g str) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w.to_owned());
                    if w == v {
                        break;
                    }
                }
                component.sort();
                self.out.push(component);
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v);
        }
    }
    walk.out
}

/// A shortest loop from the first module of `component` back to itself, inside it (every
/// module of a strongly connected component lies on some loop; this names one).
fn loop_through(graph: &BTreeMap<String, BTreeSet<String>>, component: &[String]) -> Vec<String> {
    let start = &component[0];
    let inside: BTreeSet<&String> = component.iter().collect();
    let mut came_from: BTreeMap<&String, &String> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for w in graph.get(v).into_iter().flatten().filter(|w| inside.contains(w)) {
            if w == start {
                let mut path = vec![v.clone()];
                let mut at = v;
                while at != start {
                    at = came_from[at];
                    path.push(at.clone());
                }
                path.reverse();
                path.push(start.clone());
                return path;
            }
            if !came_from.contains_key(w) {
                came_from.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    component.to_vec()
}

#[test]
fn no_modules_import_each_other_in_a_circle() {
    let circles = circles(&imports());
    assert!(circles.is_empty(), "modules importing each other in a circle: {circles:#?}");
}

#[test]
fn the_reader_sees_the_imports_it_should() {
    // The test's own reading, checked on known imports (a reader that saw nothing would pass
    // the two tests above).
    let graph = imports();
    assert!(
        graph["edge::store"].contains("core::rpc") || graph["edge::store"].iter().any(|t| t.starts_with("core::rpc"))
    );
    assert!(graph["edge"].contains("edge::request"), "{:?}", graph["edge"]);
    assert!(graph["core::session_state"].contains("core::record"), "{:?}", graph["core::session_state"]);
}

#[test]
fn a_circle_is_seen_however_it_is_written() {
    let known = |files: &[(&str, &str)]| -> BTreeMap<String, String> {
        files.iter().map(|(m, t)| (m.to_string(), t.to_string())).collect()
    };
    let written = [
        // `use` lines, groups (nested), inline paths and a child named without `self::`.
        ("edge::a", "use super::b::Thing;"),
        ("edge::b", "use crate::{core::x, edge::{a::{One, Two}}};"),
        ("edge::c", "fn f() { crate::edge::d::g() }"),
        ("edge::d", "pub fn g() { super::c::f() }"),
        ("edge::e", "mod f; fn h() { f::go() }"),
        ("edge::e::f", "// super::nothing (a comment)\npub(super) fn go() { super::h() }"),
        ("edge::g", "//! crate::edge::a is only named in prose\npub(super) fn alone() {}"),
        // Unit tests reach anywhere.
        ("edge::h", "#[cfg(test)]\nmod tests {\n    use crate::edge::i::x;\n}\npub fn h() {}"),
        ("edge::i", "use super::h::h;"),
        ("edge::i::tests", "use crate::edge::h;"),
        ("core::x", ""),
        ("edge", ""),
        ("core", ""),
        // A circle of three, no two of which import each other (the core's `index` -> `rpc`
        // -> `rpc::index` -> `index` was one): a child re-exported by its parent, the child
        // reaching up the tree, the first module reaching the parent.
        ("core::j", "use crate::core::k::Call;"),
        ("core::k", "mod l; pub use l::Call;"),
        ("core::k::l", "use crate::core::j::Entry;"),
        // A circle of four, each import written another way, and a chain that is no circle.
        ("core::m", "fn a() { super::n::b() }"),
        ("core::n", "use crate::core::{o::C};"),
        ("core::o", "use self::p::D; mod p;"),
        ("core::o::p", "fn d() { crate::core::m::a() }"),
        ("core::q", "use super::r::X;"),
        ("core::r", "use super::s::Y;"),
        ("core::s", ""),
    ];
    let found = circles(&imports_of(&known(&written)));
    assert_eq!(
        found,
        [
            "core::j -> core::k -> core::k::l -> core::j",
            "core::m -> core::n -> core::o -> core::o::p -> core::m",
            "edge::a -> edge::b -> edge::a",
            "edge::c -> edge::d -> edge::c",
            "edge::e -> edge::e::f -> edge::e",
        ]
    );
}
