//! Verilator's WIDTH warnings of the cores of the presets and of the place-and-route wrapper,
//! per module (docs/lint-waivers.md): the blocks whose literals are typed have none but the
//! casts listed in [`CASTS`], so a typed block cannot regress; and the lint, which waives
//! `WIDTH` on the cast lines only (`hgf_hdl::width_waiver`), fails on any other mismatch.
//! `cargo test -p hgf-hdl --test width -- --nocapture` prints the counts.

use std::collections::BTreeMap;

use hgf_golden::HgfConfig;
use hgf_hdl::emit::{generate, generate_pnr_top};
use hgf_hdl::verilog::{verilator_lint, width_warnings, VerilogError};

/// The modules (names after the top's `<name>_`) of the blocks whose literals are still
/// written 32 bits wide, by source file: `fp32_mul.rs` (`gate_muls`, `quantizer_muls`),
/// `fp32_div.rs` (`quantizer_div`) and `lowrank_sequencer.rs`.
/// The readable pass names a shared module after its first instance, hence two names for one
/// block on the two presets. The lint waives these modules whole for now
/// (`hgf_hdl::width_waiver::UNTYPED_MODULES`).
const UNTYPED: &[&str] = &[
    "gate_muls",
    "quantizer_muls",
    "quantizer_div",
    "lowrank_sequencer",
];

/// The warnings left in typed modules: each is a `bit_cast` that rust-hdl writes as a mask
/// of another width (`((x) & 32'hffffffff)`), since it has no zero extension or
/// concatenation (docs/lint-waivers.md lists them). `""` is the core's own module, `"pnr"`
/// the place-and-route wrapper's.
const CASTS: &[(&str, usize)] = &[
    ("", 1),
    ("pnr", 3),
    ("array_select", 1),
    ("unpacker_base3", 1),
    ("quantizer", 1),
    ("weights", 1),
    ("queue", 2),
    ("accs", 2),
    ("quantizer_to_f32", 3),
    ("quantizer_to_f32_lzc", 3),
    ("gate_adds_lzc", 3),
    ("lowrank_lanes_add_lzc", 3),
    ("lowrank_lanes_mul", 5),
    ("lowrank_lanes", 3),
    // The binary32-to-binary16 converter's fields widened (the quotient to the packed
    // magnitude, that to the result) and its shift distance narrowed; the v buffer's
    // `d_out` widened to a row number.
    ("gate_to_f16s", 7),
    ("lowrank_to_f16", 7),
    ("lowrank_v_buffer", 2),
    // The binary32 adder (`fp32_add.rs`): its significands widened into the 29-bit carry chain
    // (x and y), the sum narrowed back (2: mask and assignment), the normalising shift widened
    // to the exponent, `{exponent, fraction}` widened into the rounded word (2) and that into
    // the packed one. The readable pass names it after its first instance.
    ("gate_adds", 8),
    ("lowrank_lanes_add", 8),
    // The int32 conversion (`i32_to_f32.rs`): the magnitude widened to 33 bits (twice), the
    // count to the exponent's 8 bits (twice), the exponent and fraction to the 31-bit packed
    // word, that word to the 32-bit result.
    ("gate_to_f32", 7),
    // The shared rounding block (`round_nearest_even.rs`) adds its 1-bit round-up to the
    // word (a word-wide increment cost `Fp32Add` 48 ECP5 LUT4s), and its R = W + 1 form
    // widens the word first. The readable pass names each width's module after its first
    // instance: 31 bits (adder, int32 conversion), 24 + 1 (multiplier, divider), 15 (binary16).
    ("gate_adds_round", 1),
    ("gate_to_f32_round", 1),
    ("gate_muls_round", 2),
    ("gate_to_f16s_round", 1),
    ("lowrank_to_f16_round", 1),
];

/// The typed modules of `counts` whose count is not that of [`CASTS`], as text. `short` names
/// a module after its top's prefix.
fn unexpected(counts: &BTreeMap<String, usize>, short: impl Fn(&str) -> String) -> Vec<String> {
    let total: usize = counts.values().sum();
    println!("{total} WIDTH warnings");
    let mut by_count: Vec<(&String, &usize)> = counts.iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (module, count) in &by_count {
        println!("  {count:5}  {module}");
    }
    let mut wrong = Vec::new();
    for (module, &count) in counts {
        let name = short(module);
        if UNTYPED.contains(&name.as_str()) {
            continue;
        }
        let allowed = CASTS.iter().find(|(m, _)| *m == name).map_or(0, |c| c.1);
        if count != allowed {
            wrong.push(format!("{module}: {count}, not {allowed}"));
        }
    }
    wrong
}

#[test]
fn typed_blocks_have_only_their_listed_casts() {
    for preset in hgf_golden::config::PRESETS {
        let cfg = HgfConfig::preset(preset).unwrap();
        let g = generate(&cfg).unwrap();
        print!("{preset}: ");
        let counts = width_warnings(&cfg.name, &g.verilog).unwrap();
        let prefix = format!("{}_", cfg.name);
        let wrong = unexpected(&counts, |m| {
            m.strip_prefix(&prefix).unwrap_or_default().to_string()
        });
        assert!(wrong.is_empty(), "{preset}: {}", wrong.join("; "));
    }
}

#[test]
fn the_pnr_wrapper_has_only_its_listed_casts() {
    let cfg = HgfConfig::preset("up5k").unwrap();
    let pnr = generate_pnr_top(&cfg).unwrap();
    print!("up5k, place-and-route wrapper: ");
    let counts = width_warnings(&pnr.top, &pnr.verilog).unwrap();
    let core = format!("{}_core", pnr.top);
    let wrong = unexpected(&counts, |m| {
        if m == pnr.top {
            "pnr".to_string()
        } else if m == core {
            String::new()
        } else {
            m.strip_prefix(&format!("{core}_"))
                .unwrap_or_default()
                .to_string()
        }
    });
    assert!(wrong.is_empty(), "{}", wrong.join("; "));
}

#[test]
fn the_count_finds_a_width_mismatch() {
    let verilog = "module narrow(a, y);\n    input wire [3:0] a;\n    output reg [3:0] y;\n    \
                   always @(*) begin\n        y = a + 32'h1;\n    end\nendmodule\n";
    let counts = width_warnings("narrow", verilog).unwrap();
    // The sum is 32 bits wide (from `a`, 4 bits), and it is assigned to 4 bits.
    assert_eq!(counts.get("narrow"), Some(&2), "{counts:?}");
    let typed = verilog
        .replace("32'h1", "one")
        .replace("    always", "    localparam one = 4'h1;\n    always");
    assert!(width_warnings("narrow", &typed).unwrap().is_empty());
}

#[test]
fn the_lint_fails_on_a_width_mismatch_outside_the_waived_lines() {
    let cfg = HgfConfig::preset("up5k").unwrap();
    let g = generate(&cfg).unwrap();
    verilator_lint(&cfg.name, &g.verilog).unwrap();
    // A 32-bit literal assigned to 4 bits, on the line of the top module's `endmodule`: no
    // line moves, so the waiver file still names the same lines, none of them this one.
    let end = format!("\nendmodule // {}\n", cfg.name);
    assert!(g.verilog.contains(&end));
    let narrow = g.verilog.replacen(
        &end,
        &format!("\n    wire [3:0] narrow = 32'h1; {}", &end[1..]),
        1,
    );
    assert_eq!(narrow.lines().count(), g.verilog.lines().count());
    let text = match verilator_lint(&cfg.name, &narrow) {
        Err(VerilogError::ToolFailed { excerpt, .. }) => excerpt,
        other => panic!("the lint passed a width mismatch: {other:?}"),
    };
    assert!(text.contains("%Warning-WIDTH"), "{text}");
}
