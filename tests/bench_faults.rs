//! The benchmark survives a failed instance and keeps every run it measured (issue #34): the
//! real `bench/run.mjs` on the pass-through Worker (`wrangler dev`, wrk), with an instance
//! killed mid-run by its `--kill` fault. A run whose instance dies once is retried and
//! measured; a cell whose instance dies every time is recorded as failed with its reason, the
//! report is written all the same and says so; `--resume` then measures only what is missing.

mod common;

use std::{fs, process::Command};

use common::edge::{repo_root, TempDir};

/// Runs the bench on the pass-through Worker's `new` workload with `args`; its stderr.
fn bench(out: &TempDir, args: &[&str]) -> String {
    let mut cmd = Command::new("node");
    cmd.arg(repo_root().join("bench/run.mjs"))
        .args(["--systems", "=pass-through", "--workloads", "new", "--duration", "1", "--warmup", "0"])
        .args(["--out", out.0.to_str().unwrap()])
        .args(args)
        .current_dir(repo_root());
    let output = cmd.output().expect("node bench/run.mjs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "the bench exited with {}:\n{stdout}\n{stderr}", output.status);
    assert!(stdout.contains("wrote"), "{stdout}\n{stderr}");
    stderr + &stdout
}

fn journal(out: &TempDir) -> Vec<serde_json::Value> {
    let text = fs::read_to_string(out.0.join("latest.jsonl")).expect("the journal");
    text.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect()
}

#[test]
fn a_killed_instance_is_retried_and_a_cell_that_keeps_failing_is_reported() {
    // Killed once: the retry on a fresh instance measures both runs.
    let out = TempDir::new("bench");
    let log = bench(&out, &["--runs", "2", "--kill", "pass-through/new:1"]);
    assert!(log.contains("retrying on a fresh instance"), "{log}");
    let runs: Vec<_> = journal(&out).into_iter().filter(|e| e["type"] == "run").collect();
    assert_eq!(runs.len(), 2, "{log}");

    // Killed every time: recorded as failed after its attempts; the run completes and the
    // report marks the cell.
    let out = TempDir::new("bench");
    let log = bench(&out, &["--runs", "1", "--attempts", "2", "--kill", "pass-through/new"]);
    assert!(log.contains("recorded as failed after 2 attempts"), "{log}");
    assert!(log.contains("0 runs measured, 1 failed"), "{log}");
    let failed: Vec<_> = journal(&out).into_iter().filter(|e| e["type"] == "failed").collect();
    assert_eq!(failed.len(), 1, "{log}");
    let latest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.0.join("latest.json")).unwrap()).unwrap();
    let cell = &latest["results"][0];
    assert_eq!(
        (cell["runs"].as_array().unwrap().len(), cell["failed"][0]["attempts"].as_u64()),
        (0, Some(2)),
        "{cell}"
    );
    let md = fs::read_to_string(out.0.join("latest.md")).unwrap();
    assert!(md.contains("## Failed and missing runs") && md.contains("| pass-through | 0/1 | **failed**"), "{md}");

    // --resume measures what is missing (the failed run) and keeps what the journal has.
    let log = bench(&out, &["--runs", "1", "--resume"]);
    assert!(log.contains("1 runs measured, 0 failed"), "{log}");
    let md = fs::read_to_string(out.0.join("latest.md")).unwrap();
    assert!(md.contains("| pass-through | 1/1 |") && !md.contains("Failed and missing"), "{md}");
}
