//! Processes that live exactly as long as the test process.

use std::{os::unix::process::CommandExt, process::Command, sync::mpsc};

/// Spawns `cmd` from a thread that lives as long as the process, with `PR_SET_PDEATHSIG`:
/// the child is killed when that thread (so the test process) ends. Returns its pid.
pub fn spawn_for_the_process(mut cmd: Command) -> i32 {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        match cmd.spawn() {
            Ok(child) => {
                tx.send(Ok(child.id() as i32)).unwrap();
                loop {
                    std::thread::park();
                }
            }
            Err(e) => tx.send(Err(e.to_string())).unwrap(),
        }
    });
    rx.recv().unwrap().unwrap_or_else(|e| panic!("start {program}: {e}"))
}
