//! The release wasm's size budget, measured on what `wrangler deploy --dry-run --outdir`
//! would upload. No timing here: speed belongs to `scripts/bench`.

mod common;

use std::process::{Command, Stdio};

use common::edge::{repo_root, test_config, TempDir, TEST_WORKER};

/// Gzipped bytes of the release wasm may not exceed this. History: 331,356 bytes on
/// 2026-11-21 (`opt-level = "s"`, the ASCII-only IDNA adapter); 357,136 with the hardening
/// work of 2026-11-22 (fault points, fail-closed ends, bounded parsers); 316,321 once
/// `scripts/build` strips the wasm name section (41 KB gzipped); 323,031 with guard mode and
/// RPC; 368,235 with the operations work of 2026-11-22 (JSON log lines, history counters, the
/// origin API, the per-user limit, CSV export): raised as a decision, see docs/performance.md
/// ("Size"); 342,245 with `opt-level = "z"` and `wasm-opt -Oz` (2026-11-22, fourth session);
/// 346,426 with the cookie model that agrees with origin servers, session ids in URL path
/// parameters and cross-site requests (2026-12-01): raised as a decision (a security fix);
/// 381,493 with the session controls of 2026-12-02 (hijack detection, per-path modes, AJAX
/// ends, key rotation, jurisdiction, abuse limits, origin-API nonces): raised as a decision,
/// the size work is issue #23's; 385,309 with the operations work of the same day (request ids
/// in log lines, readiness, the live-gauge correction, Analytics Engine metrics; `std::net`
/// replaced by a hand parser, which saved little): raised as a decision again; 390,032 with the
/// application object's pacing: raised (384 KiB). 393,059 with issue #23's work (the typed
/// object protocol, `SetCookie`, claims in one call; nothing it tried brought the size down
/// by more than a few KB, see docs/performance.md, "Size, issue #23"): the budget is what is
/// reached (157 bytes of room). 393,125 with issue #28's cookie rule (its Unicode case
/// mappings as a 19-entry table: Rust's case tables cost 13 KB). 401,001 with issue #29's
/// credential sets (cookie scopes in the record and the kill's answer, the kill outcome and
/// its page, redirects pointed back at the client, `Forwarded`): raised as a decision
/// (security fixes in guard mode; docs/performance.md, "Size"). 401,428 with issue #30's
/// hook timeout (an `AbortSignal` bounds how long a receiver holds the session object, billed
/// as duration): raised to 393 KiB as a decision. 406,153 with issue #31's configuration
/// rules (optional features turned off instead of failing the site, hints for misspelled
/// variables, errors as JSON under /__session/; the parse compiled once for both its callers
/// and no generic sort saved 3 KB of it): raised to 397 KiB as a decision. 406,302 at the end
/// of issue #32; 406,080 with issue #33's refactor (refusal reasons serialised by name instead
/// of derived serde). Lower it when the wasm shrinks; raise it only as a decision.
const GZIP_BUDGET: u64 = 397 * 1024;

#[test]
fn release_wasm_fits_the_gzip_budget() {
    let status =
        Command::new(repo_root().join("scripts/build")).args(["--out", TEST_WORKER]).status().expect("scripts/build");
    assert!(status.success());
    let out = TempDir::new("dry-run");
    let status = Command::new(repo_root().join("node_modules/.bin/wrangler"))
        .current_dir(repo_root())
        .args(["deploy", "--dry-run", "--outdir"])
        .arg(&out.0)
        .arg("-c")
        .arg(test_config())
        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
        .env("WRANGLER_SEND_METRICS", "false")
        .stdout(Stdio::null())
        .status()
        .expect("wrangler deploy --dry-run");
    assert!(status.success(), "wrangler deploy --dry-run failed");
    let wasm = std::fs::read_dir(&out.0)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "wasm"))
        .expect("a .wasm in the dry-run output");
    let raw = std::fs::metadata(&wasm).unwrap().len();
    let gz = Command::new("gzip").arg("-9").arg("-c").arg(&wasm).output().expect("gzip");
    assert!(gz.status.success());
    let gzip = gz.stdout.len() as u64;
    println!("release wasm: {raw} bytes raw, {gzip} bytes gzip -9 (budget {GZIP_BUDGET})");
    assert!(gzip <= GZIP_BUDGET, "the release wasm is {gzip} bytes gzipped, over the {GZIP_BUDGET}-byte budget");
}
