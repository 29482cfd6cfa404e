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

/// A golden transformer small enough to generate a thousand tokens in well under a second,
/// with the context to hold them (fields in docs/model.md §M1).
const LONG_CONTEXT_MODEL: &str = "n_layers = 1\nd_model = 16\nn_heads = 1\nn_kv_heads = 1\n\
                                  head_dim = 16\nffn_dim = 16\nvocab_size = 48\n\
                                  context_len = 1024\nnorm_eps = 0.00001\n\
                                  rope_base = 10000.0\nattention = \"standard\"\n\
                                  [projections.q]\nrank = 0\n[projections.k]\nrank = 0\n\
                                  [projections.v]\nrank = 0\n[projections.o]\nrank = 0\n\
                                  [projections.gate]\nrank = 0\n[projections.up]\nrank = 0\n\
                                  [projections.down]\nrank = 4\n";

#[test]
fn a_reader_that_stops_after_one_line_ends_hgf_by_sigpipe_without_a_panic() {
    // `hgf infer --json` prints every generated token with its logit: about 90 bytes a
    // token, well over the pipe's capacity for a thousand of them. (`hgf estimate --json`
    // of every built-in model prints less than 64 KiB since one core runs them all.)
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("long.toml");
    std::fs::write(&model, LONG_CONTEXT_MODEL).unwrap();
    let args = [
        "infer",
        "--random",
        "--model-config",
        model.to_str().unwrap(),
        "--tokens",
        "1000",
        "--json",
    ];
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
