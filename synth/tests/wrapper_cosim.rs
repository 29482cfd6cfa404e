//! The place-and-route wrapper in Verilator: tokens loaded bit by bit through its serial pins
//! come out of its serial output bit-exact with the golden model. The Fmax figures are then
//! those of a design that computes the projection, not of a core whose inputs were cut.

mod serial_driver;

use hgf_golden::weights::random_tokens;
use hgf_golden::{HgfConfig, HgfWeights};
use hgf_hdl::emit::generate_pnr_top;
use hgf_sim::{BuildOptions, Model, VerilatedLib};

#[test]
fn tokens_through_the_serial_pins_match_golden() {
    let cfg = HgfConfig::from_toml_str(
        "name = \"wrapped\"\nmax_d_in = 10\nmax_d_out = 4\nmax_rank = 2\narray_rows = 2\narray_inputs = 10\nfp_lanes = 2",
    )
    .unwrap();
    let top = generate_pnr_top(&cfg).unwrap();
    let lib = VerilatedLib::build(&top.verilog, &top.top, &BuildOptions::default()).unwrap();
    let mut m = Model::new(&lib).unwrap();
    let tokens = random_tokens(cfg.max_d_in, 2, 3);
    let w = HgfWeights::random(cfg.max_shape(), 3);
    let outputs = serial_driver::tokens_match_golden(&mut m, &cfg, &tokens, &w, "rtl");
    assert_eq!(outputs, 2 * cfg.max_d_out);
}
