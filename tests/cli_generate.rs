//! `hgf generate`: the Verilog (and its copy for event-driven simulators), the manifest and the
//! constraints of a config.

use crate::util::{hgf_in, stderr, stdout};

#[test]
fn generate_writes_verilog_manifest_and_constraints() {
    let dir = tempfile::tempdir().unwrap();
    let out = hgf_in(
        dir.path(),
        &["generate", "--preset", "up5k", "--out", "gen", "--json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let manifest: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("manifest JSON");
    // See: issue #17: each preset has a name of its own (both were `hgf_core`).
    assert_eq!(manifest["top"], "hgf_core_up5k");
    assert_eq!(manifest["config"]["target"], "ice40-up5k");
    assert_eq!(manifest["derived"]["acc_bits"], 17);
    // The cycle model's figures (co-simulation checks them: sim/tests/schedule.rs).
    let up5k = hgf_golden::HgfConfig::preset("up5k").unwrap();
    let expected = hgf_hdl::schedule::expected_cycles(&up5k, up5k.max_shape());
    let cycles = &manifest["expected_cycles_per_token"];
    assert_eq!(cycles["steady"], expected.steady);
    assert_eq!(cycles["first_token"], expected.first_token);
    assert_eq!(cycles["limited_by"], "ternary_flow");
    assert_eq!(
        cycles["milestones"]["last_output"],
        expected.steady - 1,
        "{cycles}"
    );
    assert!(expected.steady > up5k.max_layout().ideal_cycles() as u64);
    // One byte port per weight-beat byte (up5k: 1 row of 20 trits in 2bit, 5 bytes).
    let ports = manifest["ports"].as_array().unwrap();
    let last_byte = format!("t_data_{}", up5k.weight_beat_bytes() - 1);
    let past_last = format!("t_data_{}", up5k.weight_beat_bytes());
    assert!(ports
        .iter()
        .any(|p| p["name"] == last_byte.as_str() && p["bits"] == 8));
    assert!(!ports.iter().any(|p| p["name"] == past_last.as_str()));
    let gen = dir.path().join("gen");
    let verilog = std::fs::read_to_string(gen.join("hgf_core_up5k.v")).unwrap();
    assert!(verilog.contains("module hgf_core_up5k("));
    assert!(!verilog.contains("module top("));
    assert!(!verilog.contains('$'), "a `$` is left in a name");
    assert!(verilog.contains("//   hgf generate --config hgf_core_up5k.toml\n"));
    // The copy for event-driven simulators: the same modules, settled only there.
    let sim = std::fs::read_to_string(gen.join("hgf_core_up5k_sim.v")).unwrap();
    let modules = |v: &str| -> Vec<String> {
        v.lines()
            .filter(|l| l.starts_with("module "))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(modules(&sim), modules(&verilog));
    assert!(sim.starts_with("// hgf_core_up5k_sim.v: hgf_core_up5k.v for event-driven"));
    assert!(sim.contains("__comb") && !verilog.contains("__comb"));
    let files = manifest["files"].as_array().unwrap();
    assert!(
        files.iter().any(|f| f == "hgf_core_up5k_sim.v"),
        "{files:?}"
    );
    // The AXI4-Stream top beside it, its ports in the manifest.
    let axis = std::fs::read_to_string(gen.join("hgf_core_up5k_axis.v")).unwrap();
    assert!(axis.contains("module hgf_core_up5k_axis(aclk,aresetn,"));
    assert_eq!(manifest["axis"]["top"], "hgf_core_up5k_axis");
    let axis_ports = manifest["axis"]["ports"].as_array().unwrap();
    assert!(axis_ports
        .iter()
        .any(|p| p["name"] == "s_axis_t_tdata" && p["bits"] == 8 * up5k.weight_beat_bytes()));
    assert!(axis_ports.iter().any(|p| p["name"] == "m_axis_y_tlast"));
    let written: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(gen.join("hgf_core_up5k.manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(written, manifest);
    assert!(std::fs::read_to_string(gen.join("hgf_core_up5k.pcf"))
        .unwrap()
        .contains("clock 35"));
    assert!(std::fs::read_to_string(gen.join("hgf_core_up5k.sdc"))
        .unwrap()
        .contains("create_clock"));
}

#[test]
fn generate_rejects_a_bad_config_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.toml"), "name = \"module\"\n").unwrap();
    let out = hgf_in(dir.path(), &["generate", "--config", "c.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("`name`"), "{}", stderr(&out));
}

// See: issue #17: `hgf run --preset up5k` wrote into the default's directory and left its
// ECP5 `.lpf` beside the new `.pcf`.
#[test]
fn presets_go_to_their_own_directories_and_a_new_target_removes_stale_pin_constraints() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for preset in ["default", "up5k"] {
        let out = hgf_in(d, &["generate", "--preset", preset]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert!(d.join("out/hgf_core/hgf_core.lpf").is_file());
    assert!(d.join("out/hgf_core_up5k/hgf_core_up5k.pcf").is_file());
    assert!(!d.join("out/hgf_core/hgf_core.pcf").exists());

    // The default core retargeted to the iCE40 HX8K, into the default's directory: its PCF
    // replaces the ECP5 LPF, which no longer applies.
    std::fs::write(d.join("hx.toml"), "target = \"ice40-hx8k\"\n").unwrap();
    let out = hgf_in(d, &["generate", "--config", "hx.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(d.join("out/hgf_core/hgf_core.pcf").is_file());
    assert!(!d.join("out/hgf_core/hgf_core.lpf").exists());
    // Nothing is left under a temporary name.
    let names: Vec<String> = std::fs::read_dir(d.join("out/hgf_core"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(".hgf-tmp")), "{names:?}");
}
