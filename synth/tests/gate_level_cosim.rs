//! Gate-level co-simulation of the iCE40 netlist: the `up5k` core (its config pinned below, as
//! the preset is at the time of writing: 256 x 256, rank 8, 1 x 4 array, 1 FP lane, 1 gate
//! multiplier, the gate borrowing the lane's adder, `2bit` packing), inside its place-and-route
//! wrapper, is synthesised exactly as `hgf synth --preset up5k` does it
//! ([`hgf_synth::synthesize`] with the UP5K's `synth_ice40 -dsp -abc9 -dff -device u`, on the
//! same Verilog). The mapped netlist that nextpnr places (`SB_LUT4`, `SB_CARRY`, `SB_DFF*`,
//! `SB_MAC16`, `SB_RAM40_4K`) is written as Verilog and simulated in Verilator with the cell
//! models that ship with yosys (`share/yosys/ice40/cells_sim.v`), driven through its serial
//! pins exactly as the RTL is in `wrapper_cosim.rs`, with two random tokens and the six edge
//! tokens of the contract (zeros, NaN, infinity, subnormals, huge values), then two tokens
//! with tiny scalars so that the gate's binary32 products underflow into subnormals. Every
//! output must equal the golden model's bit for bit.
//!
//! What this proves: yosys's iCE40 mapping (ABC9 with the flip-flops visible, DSP and block
//! RAM inference) preserves the function of the core, as yosys's own cell models define the
//! cells, for the logic these tokens exercise. It does not check timing (that is nextpnr's
//! report) nor the cell models against the silicon.

mod serial_driver;

use hgf_golden::weights::{edge_tokens, random_tokens};
use hgf_golden::{HgfConfig, HgfProjection, HgfWeights, Target};
use hgf_hdl::emit::generate_pnr_top;
use hgf_sim::{BuildOptions, Model, VerilatedLib};
use hgf_synth::yosys::{cell_models, write_netlist_verilog};
use hgf_synth::{synthesize, Device, Family, Tool, Toolbox};

/// The `up5k` preset, pinned (a later change of the preset does not change this test).
fn up5k() -> HgfConfig {
    HgfConfig::from_toml_str(
        "name = \"hgf_core\"\nmax_d_in = 256\nmax_d_out = 256\nmax_rank = 8\narray_rows = 1\n\
         array_inputs = 4\nfp_lanes = 1\ngate_multipliers = 1\ngate_shares_adder = true\n\
         packing = \"2bit\"\ntarget = \"ice40-up5k\"",
    )
    .unwrap()
}

/// Verilator options for the netlist and yosys's iCE40 models.
fn verilator_args() -> Vec<String> {
    [
        // Verilator 5.006 cannot parse the models' default values of input ports
        // (`input RE = 1'b0`); this define of cells_sim.v leaves them out. Defaults only
        // matter for pins left unconnected, and the next flag makes any such pin an error.
        "-DNO_ICE40_DEFAULT_ASSIGNMENTS",
        "-Werror-PINMISSING",
        // Multi-bit wires of the netlist whose bits feed each other (not a real loop):
        // Verilator evaluates them correctly, only more slowly.
        "-Wno-UNOPTFLAT",
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn synthesised_ice40_netlist_matches_golden_through_the_serial_pins() {
    let cfg = up5k();
    let device = Device::of(cfg.target);
    assert_eq!(device.target, Target::Ice40Up5k);
    let top = generate_pnr_top(&cfg).expect("the wrapper emits");
    let dir = tempfile::tempdir().unwrap();
    let yosys = Toolbox::from_env()
        .find(Tool::Yosys)
        .expect("yosys installed");
    let synthesis = synthesize(&yosys, &device, &top.verilog, &top.top, dir.path())
        .unwrap_or_else(|e| panic!("synthesis: {e}"));
    assert!(
        synthesis
            .script
            .contains("synth_ice40 -dsp -abc9 -dff -device u"),
        "{}",
        synthesis.script
    );
    // Only device cells are left, and the ones that matter are there: the simulation below
    // runs yosys's models of them, not the RTL.
    for cell in ["SB_LUT4", "SB_CARRY", "SB_DFF", "SB_MAC16", "SB_RAM40_4K"] {
        assert!(
            synthesis.cells.contains_key(cell),
            "{cell}: {:?}",
            synthesis.cells
        );
    }
    assert!(
        synthesis.cells.keys().all(|c| c.starts_with("SB_")),
        "{:?}",
        synthesis.cells
    );

    let netlist_path = write_netlist_verilog(&yosys, &synthesis.netlist).unwrap();
    let netlist = std::fs::read_to_string(&netlist_path).unwrap();
    // One module, the wrapper: every cell inside it comes from the models below.
    assert_eq!(netlist.matches("\nmodule ").count(), 1, "{netlist_path:?}");
    assert!(netlist.contains(&format!("module {}(", top.top)));
    let models_path = cell_models(&yosys, Family::Ice40).unwrap();
    let models = std::fs::read_to_string(&models_path).unwrap();
    let verilog = format!("{models}\n{netlist}");

    let opts = BuildOptions {
        verilator_args: verilator_args(),
        ..BuildOptions::default()
    };
    let lib = VerilatedLib::build(&verilog, &top.top, &opts)
        .unwrap_or_else(|e| panic!("verilating the netlist: {e}"));
    let mut m = Model::new(&lib).unwrap();
    // Two random tokens, then the edges of the contract (zeros, NaN, infinity, subnormals,
    // huge values), whose special cases are logic of their own in the netlist.
    let tokens = ndarray::concatenate(
        ndarray::Axis(0),
        &[
            random_tokens(cfg.max_d_in, 2, 5).view(),
            edge_tokens(cfg.max_d_in, 5).view(),
        ],
    )
    .unwrap();
    let w = HgfWeights::random(cfg.max_shape(), 5);
    let outputs =
        serial_driver::tokens_match_golden(&mut m, &cfg, &tokens, &w, "gate-level netlist");
    assert_eq!(outputs, tokens.nrows() * cfg.max_d_out);

    // Tiny scalars: `g · v_j` and `fl32(acc_j) · k` underflow into binary32 subnormals (the
    // multiplier's subnormal-result path, which the tokens above never reach) and most
    // outputs round to signed zeros.
    let mut tiny = HgfWeights::random(cfg.max_shape(), 6);
    tiny.gate = 1.0e-38;
    tiny.beta = 1.0e-38;
    let tokens = random_tokens(cfg.max_d_in, 2, 6);
    let golden = HgfProjection::new(&cfg, tiny.clone()).unwrap();
    let subnormal = |v: f32| v != 0.0 && !v.is_normal();
    let underflows = tokens
        .rows()
        .into_iter()
        .map(|x| golden.run_token(&x.to_vec()))
        .map(|t| {
            let gated = t.v.iter().filter(|&&v| subnormal(tiny.gate * v)).count();
            let dequantized = t.yt.iter().filter(|&&y| subnormal(y)).count();
            (gated, dequantized)
        })
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    assert!(
        underflows.0 > 0 && underflows.1 > 0,
        "the tiny scalars must give subnormal products: {underflows:?}"
    );
    let outputs =
        serial_driver::tokens_match_golden(&mut m, &cfg, &tokens, &tiny, "gate-level netlist");
    assert_eq!(outputs, tokens.nrows() * cfg.max_d_out);
}
