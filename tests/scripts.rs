//! The scripts a new user runs, run as they run them: `scripts/dev --origin` (your own app
//! behind the local edge) and `scripts/origin-key` (every form its usage names, and the keys it
//! must refuse).

mod common;

use std::{
    fs,
    io::Write,
    os::unix::process::CommandExt,
    process::{Command, Output, Stdio},
    time::Duration,
};

use common::{
    edge::{free_port, repo_root, signal_group, TempDir},
    verify::origin_key,
    wait, Client, Origin,
};

const KEY: &str = "production-signing-key-0123456789abcdef0123456789";
const PREVIOUS: &str = "previous-production-key-0123456789abcdef012345";

/// Runs `script` with `args`, `stdin` as its standard input. (Through `bash`, as its first line
/// asks: executing a file just copied can fail with "text file busy" while another test
/// thread forks with the copy's descriptor open.)
fn run(script: &std::path::Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new("bash")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the script");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn origin_key_script(args: &[&str], stdin: &str) -> Output {
    run(&repo_root().join("scripts/origin-key"), args, stdin)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn origin_key_prints_the_key_it_was_given() {
    let expected = format!("{}\n", origin_key(KEY));
    let by_argument = origin_key_script(&[KEY], "");
    assert!(by_argument.status.success(), "{}", stderr(&by_argument));
    assert_eq!(stdout(&by_argument), expected);
    // Standard input: with or without the final newline, with a Windows line end.
    for input in [format!("{KEY}\n"), KEY.to_owned(), format!("{KEY}\r\n")] {
        let o = origin_key_script(&["-"], &input);
        assert!(o.status.success(), "{input:?}: {}", stderr(&o));
        assert_eq!(stdout(&o), expected, "{input:?}");
    }
    // A rotation: the new key's and the previous key's, from two lines.
    let both = origin_key_script(&["--both", "-"], &format!("{KEY}\n{PREVIOUS}"));
    assert!(both.status.success(), "{}", stderr(&both));
    assert_eq!(stdout(&both), format!("current  {}\nprevious {}\n", origin_key(KEY), origin_key(PREVIOUS)));
}

#[test]
fn origin_key_refuses_what_the_edge_refuses_and_never_guesses() {
    for (args, input) in [(vec!["short"], ""), (vec!["-"], "12345\n"), (vec!["-"], ""), (vec!["--both", "-"], KEY)] {
        let o = origin_key_script(&args, input);
        assert_eq!(o.status.code(), Some(2), "{args:?} {input:?}");
        assert_eq!(stdout(&o), "", "{args:?} printed a key");
        assert!(stderr(&o).starts_with("origin-key: "), "{args:?}: {}", stderr(&o));
    }
    assert!(stderr(&origin_key_script(&["short"], "")).contains("5 characters: the edge refuses signing keys under 32"));
    // Without arguments, and with unknown ones: the usage, never the development key's origin key.
    for args in [vec![], vec!["--bogus"], vec![KEY, KEY]] {
        let o = origin_key_script(&args, "");
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_eq!(stdout(&o), "", "{args:?}");
        assert!(stderr(&o).starts_with("usage: scripts/origin-key"), "{args:?}: {}", stderr(&o));
    }
    let help = origin_key_script(&["--help"], "");
    assert!(help.status.success());
    assert!(stdout(&help).starts_with("usage: scripts/origin-key"), "{}", stdout(&help));
}

/// `--dev` reads the `.dev.vars` beside the script's `scripts/` (a copy of the script in a
/// directory of its own, so the checkout's own `.dev.vars` is not touched) and says which key it used.
#[test]
fn origin_key_dev_names_the_development_key() {
    let dir = TempDir::new("origin-key");
    fs::create_dir(dir.0.join("scripts")).unwrap();
    let script = dir.0.join("scripts/origin-key");
    fs::copy(repo_root().join("scripts/origin-key"), &script).unwrap();
    let missing = run(&script, &["--dev"], "");
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("no .dev.vars"), "{}", stderr(&missing));
    fs::write(dir.0.join(".dev.vars"), format!("SESSION_SIGNING_KEY={KEY}\nSESSION_SIGNING_KEY_PREVIOUS={PREVIOUS}\n"))
        .unwrap();
    let o = run(&script, &["--dev"], "");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("{}\n", origin_key(KEY)));
    assert!(stderr(&o).contains("the development key in .dev.vars"), "{}", stderr(&o));
    let both = run(&script, &["--both", "--dev"], "");
    assert_eq!(stdout(&both), format!("current  {}\nprevious {}\n", origin_key(KEY), origin_key(PREVIOUS)));
}

/// `scripts/dev --origin URL`: an application of your own behind the local edge, started as a
/// user starts it (it builds the Worker into `build/` when its sources changed: up to a few
/// minutes on a fresh checkout), with a quiet, offline-clean start that checks `/ready`.
#[test]
fn dev_puts_your_own_app_behind_the_edge() {
    let app = Origin::ok();
    let edge_port = free_port();
    let log = TempDir::new("dev");
    let out = fs::File::create(log.0.join("dev.log")).unwrap();
    let mut dev = Command::new(repo_root().join("scripts/dev"))
        .args(["--origin", &app.url()])
        .env("CFS_EDGE_PORT", edge_port.to_string())
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .process_group(0)
        .spawn()
        .expect("scripts/dev");
    let printed = || fs::read_to_string(log.0.join("dev.log")).unwrap_or_default();
    let started = wait::until_or_none(Duration::from_secs(600), Duration::from_millis(250), || {
        let text = printed();
        (text.contains("cfsession-edge is running") || dev.try_wait().ok().flatten().is_some()).then_some(text)
    });
    let text = started.unwrap_or_else(printed);
    let edge = format!("http://127.0.0.1:{edge_port}");
    let c = Client::new();
    let answers: Vec<u16> = (0..2).map(|_| c.get(&format!("{edge}/")).status).collect();
    signal_group(dev.id(), libc::SIGTERM);
    let _ = dev.wait();
    assert!(text.contains(&format!("(your application at {}, through the edge)", app.url())), "{text}");
    assert!(text.contains("dev: /__session/ready: ready"), "{text}");
    assert_eq!(answers, [200, 200], "{text}");
    assert!(c.jar.get("CFID").is_some(), "no session cookie");
    assert!(app.received().iter().any(|r| r.header("x-session-id").is_some()), "the app got no session header");
    for noise in ["ENOTFOUND", "Unable to fetch the Request.cf", "is in use"] {
        assert!(!text.contains(noise), "{noise}: {text}");
    }
}
