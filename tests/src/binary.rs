//! The real `relaydesk` executable for tests that run it as a separate process (crash and
//! restart tests), and a guard that kills such a process when the test ends.
//!
//! Integration tests of this package get no `CARGO_BIN_EXE_relaydesk`, so the binary is found
//! in the target directory next to the running test executable
//! (`target/<profile>/deps/<test>-<hash>` → `target/<profile>/relaydesk`) and brought up to
//! date once per test process with `cargo build -p relaydesk --bin relaydesk` in the same
//! profile. `TEST_RELAYDESK_BIN=/path/to/relaydesk` runs that executable instead (another
//! checkout, a release build) and builds nothing.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// The path of an up-to-date `relaydesk` executable. Builds it the first time it is asked
/// for in this process; when the build fails but an older executable exists, that one is used
/// (with a note on stderr).
pub fn relaydesk() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| match std::env::var_os(BIN_VAR) {
        Some(path) => {
            let path = PathBuf::from(path);
            assert!(path.is_file(), "{BIN_VAR}={} is not a file", path.display());
            path
        }
        None => build(),
    })
    .clone()
}

/// Names an executable to run instead of building this workspace's.
pub const BIN_VAR: &str = "TEST_RELAYDESK_BIN";

/// `target/<profile>`: the directory the running test executable was built into.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the path of the running test executable");
    let deps = exe.parent().expect("the test executable's directory");
    if deps.file_name().is_some_and(|n| n == "deps") {
        deps.parent()
            .expect("the profile directory above deps/")
            .to_path_buf()
    } else {
        deps.to_path_buf()
    }
}

fn build() -> PathBuf {
    let profile_dir = profile_dir();
    let binary = profile_dir.join(format!("relaydesk{}", std::env::consts::EXE_SUFFIX));
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev".to_string(),
        Some(other) => other.to_string(),
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.args([
        "build",
        "-p",
        "relaydesk",
        "--bin",
        "relaydesk",
        "--profile",
        &profile,
    ]);
    if let Some(target_dir) = profile_dir.parent() {
        // Only for the plain layout (target/<profile>); with --target the triple sits between.
        if target_dir.file_name().is_some_and(|n| n == "target")
            || std::env::var_os("CARGO_TARGET_DIR").is_some()
        {
            command.arg("--target-dir").arg(target_dir);
        }
    }
    if let Some(manifest_dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
        command.current_dir(manifest_dir);
    }
    let _ = writeln!(
        std::io::stderr(),
        "building the relaydesk binary ({profile} profile) for this test…"
    );
    let status = command.status();
    match status {
        Ok(status) if status.success() && binary.exists() => binary,
        result if binary.exists() => {
            let _ = writeln!(
                std::io::stderr(),
                "note: `cargo build -p relaydesk` did not succeed ({result:?}); using the existing {}",
                binary.display()
            );
            binary
        }
        result => panic!(
            "no relaydesk binary at {} and `cargo build -p relaydesk --bin relaydesk` failed: {result:?}",
            binary.display()
        ),
    }
}

/// A child process that is killed (SIGKILL) and reaped when this value is dropped, so it never
/// outlives the test. Its stdout and stderr are appended to `log`.
#[derive(Debug)]
pub struct KillOnDrop {
    child: Option<Child>,
    log: PathBuf,
}

impl KillOnDrop {
    /// Starts `command` with stdin closed and both output streams appended to `log` (created if
    /// need be), after a line naming `label`.
    pub fn spawn(mut command: Command, log: &Path, label: &str) -> std::io::Result<Self> {
        let mut file = OpenOptions::new().create(true).append(true).open(log)?;
        writeln!(file, "===== {label} =====")?;
        let err = file.try_clone()?;
        command
            .stdin(Stdio::null())
            .stdout(Stdio::from(file))
            .stderr(Stdio::from(err));
        let child = command.spawn()?;
        Ok(Self {
            child: Some(child),
            log: log.to_path_buf(),
        })
    }

    pub fn id(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the process has not exited yet.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// SIGKILL (on Unix) and reap. Does nothing when already killed.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn log(&self) -> &Path {
        &self.log
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The last `lines` lines of a log file (for failure messages).
pub fn tail(path: &Path, lines: usize) -> String {
    let Ok(mut file) = File::open(path) else {
        return format!("(no log at {})", path.display());
    };
    // The end of the file is enough: at most 64 KiB are read.
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
    let mut bytes = Vec::new();
    let _ = file.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The lines of a log at WARN or ERROR level, the last `most` of them: what went wrong in a
/// run, for a failed test's report.
pub fn warnings(path: &Path, most: usize) -> String {
    let Ok(text) = std::fs::read_to_string(path) else {
        return format!("(no log at {})", path.display());
    };
    let found: Vec<&str> = text
        .lines()
        .filter(|line| line.contains(" WARN ") || line.contains(" ERROR "))
        .collect();
    found[found.len().saturating_sub(most)..].join("\n")
}
