//! The Verilator configuration file (`<name>.vlt`) that waives Verilator's `WIDTH` warning on
//! exactly the lines of the emitted Verilog where rust-hdl writes a cast, and nowhere else
//! (docs/lint-waivers.md).
//!
//! rust-hdl writes a cast (`bit_cast`, `bits::<N>(..)`, `Bits::<N>::from(..)`) as a mask of
//! the target width, `((x) & 6'h3f)`, which Verilator reports whenever `x` is narrower or
//! wider; its HDL has no zero extension nor concatenation, so a widening cannot be written
//! otherwise. A line is waived when it holds such a mask and no other sized literal but a
//! shift amount (`<< 32'h17`) or a part-select base (`x[(32'h4)+:(20)]`), which Verilator does
//! not size-check: a literal written 32 bits wide against a narrower signal, the mismatch the
//! blocks are typed against, is never waived. Every Verilator run of an emitted design reads
//! this file: [`crate::verilog::verilator_lint`], the simulator build (`hgf-sim`), the
//! testbench's `verilator --binary` and the FuseSoC core's `lint` target.
//!
//! Temporary: the modules of the blocks not typed yet ([`UNTYPED_MODULES`]) are waived whole,
//! until their literals are typed (issue 18).

use std::fmt::Write as _;

/// The instance names whose modules are waived whole, for now: the blocks whose literals are
/// still written 32 bits wide. A module is one of them when its name is one of these or ends
/// in `_` and one of these (the readable pass names a module after its first instance's
/// path, [`crate::readable`]). `fp32_mul.rs`: `muls` (gate unit, quantizer);
/// `lowrank_sequencer.rs`: the low-rank unit's `sequencer`. The other names are these blocks' own tests' tops.
/// Temporary: each entry goes when its block is typed.
pub const UNTYPED_MODULES: &[&str] = &[
    "muls",
    "fp32_mul",
    "fp32_mul_b16",
    "lowrank_sequencer",
    "unit_sequencer",
    "unit_default_sequencer",
    "unit_up5k_sequencer",
    // Issue 18, not typed yet either: `fp32_div.rs` (the quantizer's `div`).
    "div",
    "fp32_div",
];

/// The name of the waiver file of the design `name`.
pub fn waiver_file_name(name: &str) -> String {
    format!("{name}.vlt")
}

/// The Verilator configuration that waives `WIDTH` on the lines of [`waived_lines`] of each
/// of `files` (file name, Verilog). A file is matched by the end of its path, so that the
/// waiver holds wherever the tool reads it from (FuseSoC copies the files into its own tree).
pub fn waiver_file(files: &[(&str, &str)]) -> String {
    let mut text = String::from(
        "`verilator_config\n\
         // WIDTH waived on the lines of rust-hdl's casts only (docs/lint-waivers.md);\n\
         // written by hgf-hw with the Verilog, do not edit.\n",
    );
    for (file, verilog) in files {
        for (first, last) in waived_lines(verilog) {
            let lines = if first == last {
                first.to_string()
            } else {
                format!("{first}-{last}")
            };
            let _ = writeln!(
                text,
                "lint_off -rule WIDTH -file \"*{file}\" -lines {lines}"
            );
        }
    }
    text
}

/// The lines of `verilog` (numbered from 1, as ranges of consecutive lines) on which `WIDTH`
/// is waived: every line of an [`UNTYPED_MODULES`] module, and the lines holding a rust-hdl
/// cast and no other sized literal ([`is_cast_line`]).
pub fn waived_lines(verilog: &str) -> Vec<(usize, usize)> {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    let mut untyped = false;
    for (index, line) in verilog.lines().enumerate() {
        if let Some(rest) = line.strip_prefix("module ") {
            let module = rest
                .split(|c: char| c == '(' || c == ';' || c.is_whitespace())
                .next()
                .unwrap_or_default();
            untyped = UNTYPED_MODULES
                .iter()
                .any(|u| module == *u || module.ends_with(&format!("_{u}")));
        }
        if untyped || is_cast_line(line) {
            let number = index + 1;
            match ranges.last_mut() {
                Some((_, last)) if *last + 1 == number => *last = number,
                _ => ranges.push((number, number)),
            }
        }
        if line.starts_with("endmodule") {
            untyped = false;
        }
    }
    ranges
}

/// Whether `line` holds a rust-hdl cast, `) & N'h<N ones>)`, and no sized literal but casts,
/// shift amounts and part-select bases.
pub fn is_cast_line(line: &str) -> bool {
    let mut rest = line;
    let mut casts = 0;
    let mut others = 0;
    while let Some(at) = rest.find('\'') {
        let before = &rest[..at];
        let digits = before.len() - before.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        let after = &rest[at + 1..];
        let value_len = after
            .char_indices()
            .skip(1)
            .find(|(_, c)| !c.is_ascii_hexdigit())
            .map_or(after.len(), |(i, _)| i);
        let head = before[..before.len() - digits].trim_end();
        let width: Option<u32> = before[before.len() - digits..].parse().ok();
        let closes = after[value_len..].starts_with(')');
        let is_cast = head.ends_with(") &")
            && closes
            && after.starts_with('h')
            && width.is_some_and(|w| all_ones(&after[1..value_len], w));
        let is_shift = head.ends_with("<<") || head.ends_with(">>");
        let is_select_base = head.ends_with("[(") && after[value_len..].starts_with(")+:");
        if is_cast {
            casts += 1;
        } else if !(is_shift || is_select_base) {
            others += 1;
        }
        rest = &after[value_len..];
    }
    casts > 0 && others == 0
}

/// Whether the hexadecimal `digits` are `width` ones.
fn all_ones(digits: &str, width: u32) -> bool {
    (1..=64).contains(&width)
        && u64::from_str_radix(digits, 16).is_ok_and(|v| v == u64::MAX >> (64 - width))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cast_line_is_one_with_masks_shifts_and_selects_only() {
        assert!(is_cast_line("    row_bank = ((remainder_19) & 6'h3f);"));
        assert!(is_cast_line(
            "    mag = (((exp) & 32'hffffffff) << 32'h17) | (((frac) & 32'hffffffff) << 32'hd);"
        ));
        assert!(is_cast_line(
            "    late = (((early_q[(32'h4)+:(20)]) & 22'h3fffff) << 32'h2) | last;"
        ));
        // A 32-bit literal against a narrower signal, beside a cast or alone.
        assert!(!is_cast_line("    y = ((a) & 6'h3f) + 32'h1;"));
        assert!(!is_cast_line("    y = (count_q == 32'h1);"));
        // A mask that is not all ones of its width is logic, not a cast.
        assert!(!is_cast_line("    y = ((a) & 6'h1f);"));
        assert!(!is_cast_line("    y = a & b;"));
    }

    #[test]
    fn the_waiver_names_cast_lines_and_untyped_modules() {
        let verilog = "module top(a, y);\n\
                       y = ((a) & 8'hff);\n\
                       y = a + 32'h1;\n\
                       endmodule\n\
                       module top_gate_muls(a, y);\n\
                       y = a + 32'h1;\n\
                       endmodule\n\
                       module top_muls_round(a, y);\n\
                       y = a + 32'h1;\n\
                       endmodule\n";
        assert_eq!(waived_lines(verilog), vec![(2, 2), (5, 7)]);
        let file = waiver_file(&[("top.v", verilog)]);
        assert!(file.starts_with("`verilator_config\n"), "{file}");
        assert!(file.contains("lint_off -rule WIDTH -file \"*top.v\" -lines 2\n"));
        assert!(file.contains("lint_off -rule WIDTH -file \"*top.v\" -lines 5-7\n"));
    }
}
