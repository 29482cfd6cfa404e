//! With `verilator` missing, building fails with an error that names the tool and the setup
//! command. A test binary of its own: it empties `PATH` for the whole process, which would
//! break any test running beside it.

use hgf_sim::{BuildOptions, SimError, VerilatedLib};

#[test]
fn a_missing_verilator_names_the_install_command() {
    let empty = tempfile::tempdir().expect("a temporary directory");
    // The only test in this process, so changing the environment races with nothing.
    std::env::set_var("PATH", empty.path());
    let opts = BuildOptions {
        cache_root: Some(empty.path().join("cache")),
        ..BuildOptions::default()
    };
    let err = VerilatedLib::build("module t(input a); endmodule\n", "t", &opts)
        .expect_err("verilator cannot run without PATH");
    let text = err.to_string();
    assert!(
        matches!(
            err,
            SimError::ToolMissing {
                tool: "verilator",
                ..
            }
        ),
        "{text}"
    );
    assert!(text.contains("scripts/setup.sh"), "{text}");
    assert!(text.contains("apt-get install verilator"), "{text}");
}
