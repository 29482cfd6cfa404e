//! What every command shares at its outputs (issue 17): no output over an input, whatever
//! the paths look like; outputs written whole or not at all; a stdout that cannot be written
//! is an error (exit 2), not a panic; an output directory that is a file is named as such.

use std::path::Path;

use crate::util::{hgf_in, stderr, stdout};

fn run_in(dir: &Path, args: &[&str]) -> std::process::Output {
    hgf_in(dir, args)
}

/// Exit code 2 and one line on stderr that contains `needle`.
fn assert_refused(out: &std::process::Output, needle: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "`{needle}` missing from: {err}");
}

fn write_layer(dir: &Path) {
    let out = run_in(
        dir,
        &[
            "golden",
            "--random",
            "--preset",
            "up5k",
            "--weights",
            "w.st",
            "--input",
            "x.npy",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

// See: issue #17 (`--output` equal to `--weights` replaced the weights with an npy file).
#[test]
fn golden_refuses_an_output_that_is_one_of_its_inputs_by_any_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_layer(d);
    let weights = std::fs::read(d.join("w.st")).unwrap();
    let input = std::fs::read(d.join("x.npy")).unwrap();
    std::fs::create_dir(d.join("sub")).unwrap();
    std::fs::hard_link(d.join("w.st"), d.join("hard.st")).unwrap();
    std::os::unix::fs::symlink("x.npy", d.join("soft.npy")).unwrap();
    for (output, input_flag) in [
        ("w.st", "--weights"),
        ("x.npy", "--input"),
        ("sub/../w.st", "--weights"),
        ("./x.npy", "--input"),
        ("hard.st", "--weights"),
        ("soft.npy", "--input"),
    ] {
        let out = run_in(
            d,
            &[
                "golden",
                "--weights",
                "w.st",
                "--input",
                "x.npy",
                "--output",
                output,
            ],
        );
        assert_refused(&out, &format!("--output {output} is the file {input_flag}"));
    }
    std::fs::write(d.join("c.toml"), "preset = \"up5k\"\n").unwrap();
    let out = run_in(
        d,
        &[
            "golden",
            "--config",
            "c.toml",
            "--weights",
            "w.st",
            "--input",
            "x.npy",
            "--output",
            "c.toml",
        ],
    );
    assert_refused(&out, "--output c.toml is the file --config c.toml");
    // --random writes its weights and tokens: not over the config, nor two at one file.
    let out = run_in(
        d,
        &[
            "golden",
            "--random",
            "--force",
            "--config",
            "c.toml",
            "--weights",
            "c.toml",
            "--input",
            "y.npy",
        ],
    );
    assert_refused(&out, "--weights c.toml is the file --config c.toml");
    let out = run_in(
        d,
        &[
            "golden",
            "--random",
            "--weights",
            "n.st",
            "--input",
            "n.npy",
            "--output",
            "sub/../n.npy",
        ],
    );
    assert_refused(&out, "--input and --output both name n.npy");
    assert_eq!(std::fs::read(d.join("w.st")).unwrap(), weights);
    assert_eq!(std::fs::read(d.join("x.npy")).unwrap(), input);
    assert!(!d.join("n.st").exists());
}

// See: issue #17 (the generated layer and tokens stayed behind when the output failed).
#[test]
fn a_failed_golden_random_leaves_none_of_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = run_in(
        d,
        &[
            "golden",
            "--random",
            "--weights",
            "w.st",
            "--input",
            "x.npy",
            "--output",
            "missing/y.npy",
        ],
    );
    assert_refused(&out, "missing/y.npy");
    let left: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

// See: issue #17.
#[test]
fn plots_and_configs_are_not_written_over_their_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("c.toml"), "preset = \"up5k\"\n").unwrap();
    let config = std::fs::read(d.join("c.toml")).unwrap();
    let out = run_in(d, &["estimate", "--config", "c.toml", "--plot", "./c.toml"]);
    assert_refused(&out, "--plot ./c.toml is the file --config c.toml");
    let out = run_in(d, &["generate", "--config", "c.toml", "--out", "."]);
    assert!(out.status.success(), "{}", stderr(&out));
    let model = "name = \"m\"\nlayers = 2\n\
                 [q]\nd_in = 64\nd_out = 64\nrank = 4\n[k]\nd_in = 64\nd_out = 64\n\
                 [v]\nd_in = 64\nd_out = 64\n[o]\nd_in = 64\nd_out = 64\n\
                 [up]\nd_in = 64\nd_out = 128\n[down]\nd_in = 128\nd_out = 64\n";
    std::fs::write(d.join("m.toml"), model).unwrap();
    let out = run_in(
        d,
        &[
            "explore",
            "--model-file",
            "m.toml",
            "--board",
            "ulx3s",
            "--target",
            "ecp5-25k",
            "--write-config",
            "m.toml",
        ],
    );
    assert_refused(
        &out,
        "--write-config m.toml is the file --model-file m.toml",
    );
    let out = run_in(
        d,
        &[
            "explore",
            "--model-file",
            "m.toml",
            "--board",
            "ulx3s",
            "--target",
            "ecp5-25k",
            "--write-config",
            "b.toml",
            "--plot",
            "b.toml",
        ],
    );
    assert_refused(&out, "--plot and --write-config both name b.toml");
    assert_eq!(std::fs::read(d.join("c.toml")).unwrap(), config);
}

// See: issue #17 (`hgf run --out FILE` said "File exists (os error 17)").
#[test]
fn an_output_directory_that_is_a_file_is_named_as_not_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("f"), "x").unwrap();
    for args in [
        &["run", "--preset", "up5k", "--out", "f"][..],
        &["generate", "--out", "f"][..],
        &["synth", "--preset", "up5k", "--no-pnr", "--out", "f"][..],
    ] {
        let out = run_in(d, args);
        assert_refused(&out, "--out f is not a directory");
    }
    assert_eq!(std::fs::read(d.join("f")).unwrap(), b"x");
}

// See: issue #17 (`hgf config > /dev/full` panicked with exit code 101).
#[test]
fn a_stdout_that_cannot_be_written_is_an_error_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("golden/tests/vectors/f32_to_f16_rne_level1.txt.gz");
    let vectors = vectors.to_str().unwrap();
    let commands: [&[&str]; 7] = [
        &["config"],
        &["config", "--json"],
        &["estimate", "--model", "hgf-25m"],
        &["golden", "--random"],
        &["generate", "--preset", "up5k", "--out", "g"],
        &["fpcheck", "--op", "f32_to_f16", vectors],
        &[
            "explore", "--model", "hgf-25m", "--board", "ulx3s", "--target", "ecp5-25k",
        ],
    ];
    for args in commands {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full opens");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_hgf"))
            .args(args)
            .current_dir(d)
            .stdout(full)
            .output()
            .expect("hgf runs");
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "hgf {}: {err}", args.join(" "));
        assert_eq!(
            err.lines()
                .filter(|l| l.starts_with("hgf: error:"))
                .collect::<Vec<_>>(),
            vec!["hgf: error: cannot write to standard output: No space left on device (os error 28)"],
            "hgf {}: {err}",
            args.join(" ")
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    // Stdout is intact otherwise.
    assert!(stdout(&run_in(d, &["config"])).contains("name = \"hgf_core\""));
}
