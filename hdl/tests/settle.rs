//! The settle pass (`hgf_hdl::settle`) changes no logic: yosys proves the core before and
//! after it equivalent (`equiv_make`, `equiv_simple`, `equiv_induct`, `equiv_status -assert`).

use hgf_golden::HgfConfig;
use hgf_hdl::projection_core::HgfCore;
use hgf_hdl::settle::settle_combinational;
use hgf_hdl::verilog::emit_named;
use rust_hdl::prelude::Block;

/// yosys's equivalence check of `gold` and `gate`, two Verilog texts of the top `top`.
fn assert_equivalent(top: &str, gold: &str, gate: &str) {
    let dir = std::env::temp_dir().join(format!("hgf-settle-{top}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("gold.v"), gold).unwrap();
    std::fs::write(dir.join("gate.v"), gate).unwrap();
    let read = |file: &str, name: &str| {
        format!(
            "read_verilog {file}; prep -flatten -top {top}; memory -nomap; rename {top} {name}; \
             design -stash {name}; "
        )
    };
    let script = format!(
        "{}{}design -copy-from gold -as gold gold; design -copy-from gate -as gate gate; \
         equiv_make gold gate equiv; hierarchy -top equiv; equiv_simple -seq 2; equiv_induct; \
         equiv_status -assert",
        read("gold.v", "gold"),
        read("gate.v", "gate")
    );
    let out = std::process::Command::new("yosys")
        .args(["-p", &script])
        .current_dir(&dir)
        .output()
        .expect("yosys runs (scripts/setup.sh installs it)");
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && log.contains("Equivalence successfully proven!"),
        "{top}: {}{}",
        log.lines()
            .filter(|l| l.contains("unproven") || l.contains("ERROR"))
            .collect::<Vec<_>>()
            .join("\n"),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn settled_core_is_equivalent_to_rust_hdl_output() {
    let cfg = HgfConfig::from_toml_str(
        "preset = \"up5k\"\nname = \"settle_small\"\nmax_d_in = 24\nmax_d_out = 20\nmax_rank = 2",
    )
    .unwrap();
    let mut core = HgfCore::new(&cfg);
    core.connect_all();
    let gold = emit_named(&core, &cfg.name).unwrap();
    let gate = settle_combinational(&gold);
    assert_ne!(gold, gate, "the pass changed nothing to check");
    assert!(gate.contains("__comb"));
    assert_equivalent(&cfg.name, &gold, &gate);
}
