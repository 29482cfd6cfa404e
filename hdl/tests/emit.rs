//! The whole core, emitted for the presets and a sweep of configs, passes yosys
//! (`check -assert`), `verilator --lint-only -Wall` (with docs/lint-waivers.md) and iverilog.

use hgf_golden::HgfConfig;
use hgf_hdl::emit::generate;
use hgf_hdl::verilog::check_all_tools;

fn check(cfg: &HgfConfig) {
    let g = generate(cfg).unwrap_or_else(|e| panic!("{}: {e}", cfg.to_toml()));
    assert!(g.verilog.contains(&format!("module {}(", cfg.name)));
    check_all_tools(&cfg.name, &g.verilog).unwrap_or_else(|e| panic!("{}: {e}", cfg.to_toml()));
    let names: Vec<&str> = g.manifest.ports.iter().map(|p| p.name.as_str()).collect();
    for port in [
        "clock", "reset", "x_valid", "x_ready", "x_data", "t_valid", "f_ready", "y_data",
    ] {
        assert!(names.contains(&port), "{port} missing from {names:?}");
    }
    let t_ports = names.iter().filter(|n| n.starts_with("t_data$")).count();
    assert_eq!(t_ports, cfg.weight_beat_bytes());
    let f_ports = names.iter().filter(|n| n.starts_with("f_data$")).count();
    assert_eq!(f_ports, cfg.fp_lanes);
}

#[test]
fn presets_pass_the_tools() {
    for preset in hgf_golden::config::PRESETS {
        check(&HgfConfig::preset(preset).unwrap());
    }
}

#[test]
fn a_sweep_of_small_configs_passes_the_tools() {
    let sweep = [
        "name = \"tiny\"\nmax_d_in = 5\nmax_d_out = 2\nmax_rank = 1\narray_rows = 1\narray_inputs = 5\nfp_lanes = 1",
        "name = \"odd\"\nmax_d_in = 37\nmax_d_out = 12\nmax_rank = 3\narray_rows = 3\narray_inputs = 10\nfp_lanes = 4",
        "name = \"twobit\"\nmax_d_in = 64\nmax_d_out = 32\nmax_rank = 8\narray_rows = 8\narray_inputs = 16\nfp_lanes = 2\npacking = \"2bit\"",
    ];
    for text in sweep {
        check(&HgfConfig::from_toml_str(text).unwrap());
    }
}
