//! Any command's stdout may be a pipe whose reader stops early (`hgf estimate --json | head
//! -1`): hgf then ends as Unix filters do (`ls | head`), killed by SIGPIPE, with no panic.

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::util::{hgf, stderr};

/// Linux's default pipe capacity. When hgf prints more than this plus what the reader took,
/// the rest cannot be in the pipe when the reader closes it: hgf then surely writes to a
/// closed pipe.
const PIPE_CAPACITY: usize = 64 * 1024;

#[test]
fn a_reader_that_stops_after_one_line_ends_hgf_by_sigpipe_without_a_panic() {
    let args = ["estimate", "--json"];
    let whole = hgf(&args);
    assert!(whole.status.success(), "{}", stderr(&whole));

    let mut child = Command::new(env!("CARGO_BIN_EXE_hgf"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the hgf binary runs");
    let mut pipe = child.stdout.take().expect("stdout is piped");
    // One byte at a time, so that the reader takes the first line and nothing more.
    let mut first_line = Vec::new();
    let mut byte = [0u8];
    while first_line.last() != Some(&b'\n') {
        pipe.read_exact(&mut byte).expect("hgf prints a first line");
        first_line.push(byte[0]);
    }
    assert!(
        whole.stdout.len() > PIPE_CAPACITY + first_line.len(),
        "`hgf {}` prints {} bytes: all of it may fit in the pipe before the reader closes it, \
         and this test would prove nothing; pick a command that prints more",
        args.join(" "),
        whole.stdout.len()
    );
    drop(pipe);

    let out = child.wait_with_output().expect("hgf ends");
    let err = stderr(&out);
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "hgf panicked on the closed pipe: {err}"
    );
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGPIPE),
        "hgf ends by SIGPIPE, as `ls | head` does: {:?}, stderr: {err}",
        out.status
    );
}
