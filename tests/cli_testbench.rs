//! `hgf generate --testbench` and the FuseSoC core: the generated testbench passes in iverilog
//! (on the core's settled copy `<name>_sim.v`) and in a Verilator `--binary` model (on
//! `<name>.v`) on both presets, fails when one expected word is changed, and FuseSoC runs the
//! core's `sim` and `lint` targets. The testbench of the AXI4-Stream top (`<name>_axis_tb.v`,
//! on `<name>_axis_sim.v`) passes in iverilog, `tlast` checked, and fails on a changed word.
//!
//! The runs are small: a 24 x 20 rank-2 layer of two tokens on the presets' cores (their
//! shapes are run-time descriptors), and a user config whose maxima are that small.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use hgf_golden::io::{save_tokens, save_weights};
use hgf_golden::weights::random_tokens;
use hgf_golden::{HgfWeights, Shape};

use crate::util::{hgf_in, stderr, stdout};

/// Writes a small layer and two tokens into `dir`: (weights, input).
fn small_layer(dir: &Path) -> (PathBuf, PathBuf) {
    let shape = Shape::new(24, 20, 2);
    let w = dir.join("w.safetensors");
    let x = dir.join("x.npy");
    save_weights(&w, &HgfWeights::random(shape, 5)).unwrap();
    save_tokens(&x, random_tokens(shape.d_in, 2, 6).view()).unwrap();
    (w, x)
}

/// `hgf generate --testbench` of `preset` on the small layer, with stalls, into `dir/<preset>`:
/// the directory and the core's name.
fn generate_bench(dir: &Path, preset: &str) -> (PathBuf, String) {
    let (w, x) = small_layer(dir);
    let out = dir.join(preset);
    let o = hgf_in(
        dir,
        &[
            "generate",
            "--preset",
            preset,
            "--testbench",
            "--weights",
            w.to_str().unwrap(),
            "--input",
            x.to_str().unwrap(),
            "--stall",
            "0.25",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("compares 40 outputs"), "{}", stdout(&o));
    let name = hgf_golden::HgfConfig::preset(preset).unwrap().name;
    (out, name)
}

fn run(dir: &Path, program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{program} does not run ({e}); scripts/setup.sh installs it"))
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The one PASS or FAIL line of a testbench run.
fn verdict(o: &Output) -> String {
    let all = text(o);
    let lines: Vec<&str> = all
        .lines()
        .filter(|l| l.starts_with("PASS: ") || l.starts_with("FAIL: "))
        .collect();
    assert_eq!(lines.len(), 1, "one PASS/FAIL line expected:\n{all}");
    lines[0].to_string()
}

/// Changes the expected word of token 1, output 7, in the `y` vectors.
fn change_one_expected_word(dir: &Path, name: &str) {
    let path = dir.join(format!("{name}_tb_y.hex"));
    let hex = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = hex.lines().map(str::to_string).collect();
    // Line 0 is the comment; token 1 output 7 is word 20 + 7.
    let word = &mut lines[1 + 27];
    let flipped = u16::from_str_radix(word, 16).unwrap() ^ 1;
    *word = format!("{flipped:04x}");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

fn assert_fails_on_the_changed_word(o: &Output) {
    assert!(!o.status.success(), "{}", text(o));
    let line = verdict(o);
    assert!(
        line.starts_with("FAIL: ") && line.contains(" 1 of 40 outputs differ"),
        "{line}"
    );
    assert!(
        text(o).contains("mismatch: token 1 output 7:"),
        "{}",
        text(o)
    );
}

#[test]
fn testbench_passes_in_iverilog_on_both_presets_and_fails_on_a_changed_word() {
    for preset in ["up5k", "default"] {
        let tmp = tempfile::tempdir().unwrap();
        let (dir, name) = generate_bench(tmp.path(), preset);
        let tb = format!("{name}_tb");
        let compiled = run(
            &dir,
            "iverilog",
            &[
                "-g2005",
                "-s",
                &tb,
                "-o",
                "tb.vvp",
                &format!("{tb}.v"),
                &format!("{name}_sim.v"),
            ],
        );
        assert!(compiled.status.success(), "{}", text(&compiled));
        let o = run(&dir, "vvp", &["-n", "tb.vvp"]);
        assert!(o.status.success(), "{preset}: {}", text(&o));
        let line = verdict(&o);
        assert!(
            line.starts_with(&format!("PASS: {tb}: 40 of 40 outputs match"))
                && line.contains("STALL 16384/65536"),
            "{line}"
        );
        change_one_expected_word(&dir, &name);
        assert_fails_on_the_changed_word(&run(&dir, "vvp", &["-n", "tb.vvp"]));
    }
}

#[test]
fn the_axis_testbench_passes_in_iverilog_with_tlast_and_fails_on_a_changed_word() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (w, x) = small_layer(d);
    write_tiny_config(d);
    let o = hgf_in(
        d,
        &[
            "generate",
            "--config",
            "tiny.toml",
            "--testbench",
            "--weights",
            w.to_str().unwrap(),
            "--input",
            x.to_str().unwrap(),
            "--stall",
            "0.25",
            "--out",
            "core",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("iverilog -g2005 -s hgf_tiny_axis_tb"),
        "{}",
        stdout(&o)
    );
    let dir = d.join("core");
    let compiled = run(
        &dir,
        "iverilog",
        &[
            "-g2005",
            "-s",
            "hgf_tiny_axis_tb",
            "-o",
            "axis_tb.vvp",
            "hgf_tiny_axis_tb.v",
            "hgf_tiny_axis_sim.v",
        ],
    );
    assert!(compiled.status.success(), "{}", text(&compiled));
    let o = run(&dir, "vvp", &["-n", "axis_tb.vvp"]);
    assert!(o.status.success(), "{}", text(&o));
    let line = verdict(&o);
    assert!(
        line.starts_with("PASS: hgf_tiny_axis_tb: 40 of 40 outputs match")
            && line.contains("STALL 16384/65536"),
        "{line}"
    );
    change_one_expected_word(&dir, "hgf_tiny");
    assert_fails_on_the_changed_word(&run(&dir, "vvp", &["-n", "axis_tb.vvp"]));
}

#[test]
fn testbench_passes_in_a_verilator_binary_on_both_presets_and_fails_on_a_changed_word() {
    for preset in ["up5k", "default"] {
        let tmp = tempfile::tempdir().unwrap();
        let (dir, name) = generate_bench(tmp.path(), preset);
        let tb = format!("{name}_tb");
        let mut args: Vec<String> = vec!["--binary".into()];
        args.extend(
            hgf_hdl::verilog::LINT_WAIVERS
                .iter()
                .map(|w| format!("-Wno-{w}")),
        );
        args.extend([
            "--top-module".into(),
            tb.clone(),
            "-o".into(),
            tb.clone(),
            format!("{name}.vlt"),
            format!("{tb}.v"),
            format!("{name}.v"),
        ]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let built = run(&dir, "verilator", &args);
        assert!(built.status.success(), "{}", text(&built));
        let binary = dir.join("obj_dir").join(&tb);
        let o = run(&dir, binary.to_str().unwrap(), &[]);
        assert!(o.status.success(), "{preset}: {}", text(&o));
        let line = verdict(&o);
        assert!(
            line.starts_with(&format!("PASS: {tb}: 40 of 40 outputs match")),
            "{line}"
        );
        change_one_expected_word(&dir, &name);
        assert_fails_on_the_changed_word(&run(&dir, binary.to_str().unwrap(), &[]));
    }
}

/// The project's FuseSoC (scripts/setup.sh installs it into .venv-fusesoc).
fn fusesoc() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-fusesoc/bin/fusesoc");
    assert!(
        path.is_file(),
        "{} is missing: run scripts/setup.sh",
        path.display()
    );
    path
}

#[test]
fn fusesoc_runs_the_sim_target_and_lints_the_core_of_a_user_config() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write_tiny_config(d);
    let o = hgf_in(
        d,
        &[
            "generate",
            "--config",
            "tiny.toml",
            "--testbench",
            "--tokens",
            "3",
            "--seed",
            "4",
            "--out",
            "core",
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let manifest: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let files = manifest["files"].as_array().unwrap();
    for f in [
        "hgf_tiny.core",
        "hgf_tiny_tb.v",
        "hgf_tiny_tb_y.hex",
        "hgf_tiny_pnr.v",
    ] {
        assert!(files.iter().any(|x| x == f), "{f} not in {files:?}");
        assert!(d.join("core").join(f).is_file(), "{f}");
    }
    let core = std::fs::read_to_string(d.join("core/hgf_tiny.core")).unwrap();
    assert!(core.contains("default_tool: icestorm"), "{core}");

    let fusesoc = fusesoc();
    let vlnv = format!("hgf-hw:hgf:hgf_tiny:{}", env!("CARGO_PKG_VERSION"));
    let target = |target: &str, extra: &[&str]| {
        let work = d.join(format!("build-{target}"));
        let mut args = vec![
            "--cores-root",
            "core",
            "run",
            "--work-root",
            work.to_str().unwrap(),
        ];
        args.extend(extra);
        args.extend(["--target", target, &vlnv]);
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(d, fusesoc.to_str().unwrap(), &args)
    };

    let sim = target("sim", &[]);
    assert!(sim.status.success(), "{}", text(&sim));
    let line = verdict(&sim);
    assert!(
        line.starts_with("PASS: hgf_tiny_tb: 60 of 60 outputs match"),
        "{line}"
    );
    let lint = target("lint", &[]);
    assert!(lint.status.success(), "{}", text(&lint));
    assert!(!text(&lint).contains("%Warning"), "{}", text(&lint));
    // The synth target is set up (its Makefile and yosys script written) by FuseSoC's own
    // parser and edalize; running it is `hgf synth`'s job.
    let synth = target("synth", &["--setup"]);
    assert!(synth.status.success(), "{}", text(&synth));
}

#[test]
fn testbench_options_are_checked_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let o = hgf_in(
        d,
        &["generate", "--testbench", "--tokens", "0", "--out", "x"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--tokens"), "{}", stderr(&o));
    let o = hgf_in(
        d,
        &["generate", "--testbench", "--stall", "1", "--out", "x"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--stall"), "{}", stderr(&o));
    // The testbench's options need --testbench.
    let o = hgf_in(d, &["generate", "--tokens", "3", "--out", "x"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!d.join("x").exists());
}

/// Writes `tiny.toml` into `dir`: a small user config (the `up5k` engine, maxima 24 × 20,
/// rank 2) whose core simulates in seconds.
fn write_tiny_config(dir: &Path) {
    std::fs::write(
        dir.join("tiny.toml"),
        "preset = \"up5k\"\nname = \"hgf_tiny\"\nmax_d_in = 24\nmax_d_out = 20\nmax_rank = 2\n",
    )
    .unwrap();
}
