//! Glitch-free combinational blocks, so that event-driven simulators (iverilog) run the core:
//! the settled copy `<name>_sim.v` that `hgf generate` writes beside `<name>.v`.
//!
//! rust-hdl writes each module's combinational logic as one `always @(*)` block of blocking
//! assignments that give a signal a default and then override it (`a_d = a_q; if (en) a_d =
//! x;`). Verilator and synthesis see only each signal's final value, but an event-driven
//! simulator propagates every intermediate value: the default wakes the blocks that read the
//! signal, and two modules whose blocks read each other's outputs (a parent's block drives a
//! child's inputs and reads its outputs) wake each other for ever in one time step, although
//! no signal depends on itself. iverilog hangs so on the core at the first token.
//!
//! [`settle_combinational`] gives each signal that such a block assigns more than once and
//! another block reads a shadow variable, `<name>__comb`: the block computes on the shadows,
//! exactly as before, and assigns each such signal once, at its end, from its shadow. Every
//! signal then changes at most once per evaluation and only to its final value, which is what
//! Verilator and synthesis compute anyway. A block it cannot read (an assigned name without a
//! plain declaration in its module) is left as it is.
//!
//! The logic is the same, but its text is not, and yosys maps the settled text differently
//! (about 10% more ECP5 LUT4s; the area calibration failed on it): so the pass makes a copy
//! for event-driven simulators only ([`simulation_copy`]), and `<name>.v`, which synthesis,
//! lint and the Verilator co-simulations read, stays as the readable pass writes it. yosys
//! proves the two the same circuit (hdl/tests/equivalence.rs).

use std::collections::{BTreeSet, HashMap};

use crate::verilog::header;

/// Suffix of the shadow variables.
const SHADOW: &str = "__comb";

/// The file name of the settled copy of the core `name`.
pub fn simulation_file_name(name: &str) -> String {
    format!("{name}_sim.v")
}

/// The settled copy of `verilog`, the design `top` as [`crate::verilog::emit_readable`]
/// writes it with `notes` (`<top>.v`): the same modules under the same names, each
/// combinational block settled ([`settle_combinational`]), under one header, `<top>.v`'s
/// with a note that says what the copy is for before `notes`.
pub fn simulation_copy(top: &str, verilog: &str, notes: &[String]) -> String {
    let file = simulation_file_name(top);
    let own_header = format!("{}\n", header(top, notes));
    let body = verilog.strip_prefix(&own_header).unwrap_or(verilog);
    let mut copy_notes = vec![format!(
        "The copy of {top}.v for event-driven simulators such as iverilog: the same modules\n\
         under the same names, but each combinational block assigns each signal it shares\n\
         with other blocks once, at its end, so that the simulator settles\n\
         (hgf_hdl::settle). yosys proves it the same circuit as {top}.v. Read one of the\n\
         two, never both; synthesis, lint and Verilator read {top}.v (docs/interfaces.md,\n\
         \"The copy for event-driven simulators\")."
    )];
    copy_notes.extend(notes.iter().cloned());
    format!(
        "{}\n{}",
        header(&file, &copy_notes),
        settle_combinational(body)
    )
}

/// `verilog` with every `always @(*)` block assigning each signal once, at its end.
pub fn settle_combinational(verilog: &str) -> String {
    let lines: Vec<&str> = verilog.lines().collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len() + lines.len() / 4);
    let mut i = 0;
    while i < lines.len() {
        if !lines[i].trim_start().starts_with("module ") {
            out.push(lines[i].to_string());
            i += 1;
            continue;
        }
        let end = lines[i..]
            .iter()
            .position(|l| l.trim_start().starts_with("endmodule"))
            .map_or(lines.len(), |n| i + n + 1);
        out.extend(settle_module(&lines[i..end]));
        i = end;
    }
    let mut text = out.join("\n");
    if verilog.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// One module, `module` to `endmodule`.
fn settle_module(lines: &[&str]) -> Vec<String> {
    // Declarations: name -> (the type and range for a reg of the same shape, an output).
    let mut declared: HashMap<String, (String, bool)> = HashMap::new();
    for l in lines {
        if let Some((name, kind, output)) = declaration(l.trim()) {
            declared.insert(name, (kind, output));
        }
    }
    let mut out = Vec::with_capacity(lines.len() + lines.len() / 4);
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.trim() != "always @(*) begin" {
            out.push(line.to_string());
            i += 1;
            continue;
        }
        let indent = &line[..line.len() - line.trim_start().len()];
        let Some(len) = lines[i + 1..].iter().position(|l| {
            l.trim() == "end" && l.starts_with(indent) && !l[indent.len()..].starts_with(' ')
        }) else {
            out.push(line.to_string());
            i += 1;
            continue;
        };
        let body = &lines[i + 1..i + 1 + len];
        // The rest of the module, declarations left out: a signal that appears there (or
        // an output) is read by another block, so its glitches matter.
        let elsewhere: Vec<&str> = lines[..i]
            .iter()
            .chain(&lines[i + 2 + len..])
            .filter(|l| declaration(l.trim()).is_none())
            .copied()
            .collect();
        match settle_block(body, &declared, &elsewhere, indent) {
            Some(block) => out.extend(block),
            None => out.extend(lines[i..i + 2 + len].iter().map(|l| l.to_string())),
        }
        i += len + 2;
    }
    out
}

/// A plain declaration `[input|output] wire|reg [signed] [range] name;`: the name, the
/// type and range for a reg of the same shape (`reg signed [7:0]`), and whether it is an
/// output.
fn declaration(line: &str) -> Option<(String, String, bool)> {
    let line = line.strip_suffix(';')?;
    let mut words: Vec<&str> = line.split_whitespace().collect();
    let output = words.first() == Some(&"output");
    if matches!(words.first(), Some(&"input") | Some(&"output")) {
        words.remove(0);
    }
    if !matches!(words.first(), Some(&"wire") | Some(&"reg")) {
        return None;
    }
    let name = words.pop()?;
    if !name.chars().all(is_ident_char) || name.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let rest = &words[1..];
    if rest
        .iter()
        .any(|w| *w != "signed" && !(w.starts_with('[') && w.ends_with(']')))
    {
        return None;
    }
    let mut kind = String::from("reg");
    for w in rest {
        kind.push(' ');
        kind.push_str(w);
    }
    Some((name.to_string(), kind, output))
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$'
}

/// The name a statement `name = ...;` assigns.
fn assigned(line: &str) -> Option<&str> {
    let line = line.trim();
    let end = line.find(|c: char| !is_ident_char(c))?;
    let name = &line[..end];
    let rest = line[end..].trim_start();
    (!name.is_empty() && rest.starts_with('=') && !rest.starts_with("==")).then_some(name)
}

/// The block over shadow variables for the signals it assigns more than once (a default and
/// overrides) that another block reads, with their declarations before it; `None` when it
/// has none, or when an assigned name has no plain declaration.
fn settle_block(
    body: &[&str],
    declared: &HashMap<String, (String, bool)>,
    elsewhere: &[&str],
    indent: &str,
) -> Option<Vec<String>> {
    let mut assignments: HashMap<&str, usize> = HashMap::new();
    for name in body.iter().filter_map(|l| assigned(l)) {
        *assignments.entry(name).or_default() += 1;
    }
    let mut names = BTreeSet::new();
    for (name, count) in assignments {
        let (_, output) = declared.get(name)?;
        // One assignment writes the final value at once: nothing to shadow.
        if count > 1 && (*output || elsewhere.iter().any(|l| mentions(l, name))) {
            names.insert(name);
        }
    }
    if names.is_empty() {
        return None;
    }
    let mut block = Vec::with_capacity(body.len() + 3 * names.len() + 2);
    for name in &names {
        let (kind, _) = &declared[*name];
        block.push(format!("{indent}{kind} {name}{SHADOW};"));
    }
    block.push(format!("{indent}always @(*) begin"));
    block.extend(body.iter().map(|l| rename(l, &names)));
    for name in &names {
        block.push(format!("{indent}    {name} = {name}{SHADOW};"));
    }
    block.push(format!("{indent}end"));
    Some(block)
}

/// Whether `line` reads or writes the signal `name`: the whole word, outside a comment and
/// not as a child's port name (`.name(...)`).
fn mentions(line: &str, name: &str) -> bool {
    let code = line.split("//").next().unwrap_or("");
    code.match_indices(name).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + name.len()..].chars().next();
        !before.is_some_and(|c| is_ident_char(c) || c == '.') && !after.is_some_and(is_ident_char)
    })
}

/// `line` with every whole identifier in `names` given the shadow suffix.
fn rename(line: &str, names: &BTreeSet<&str>) -> String {
    let mut out = String::with_capacity(line.len() + 16);
    let mut rest = line;
    while let Some(start) = rest.find(is_ident_char) {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail.find(|c: char| !is_ident_char(c)).unwrap_or(tail.len());
        let word = &tail[..end];
        out.push_str(word);
        // A number's digits or base (`32'h8`) follow a digit or a quote, never start a name.
        let after_quote = out[..out.len() - word.len()].ends_with('\'');
        if names.contains(word) && !after_quote {
            out.push_str(SHADOW);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_signal_read_elsewhere_is_assigned_once_at_the_end() {
        let v = "module m(a,en,y);
    input wire [7:0] a;
    input wire en;
    output reg [7:0] y;
    reg [7:0] t$d;
    reg [7:0] local;
    reg [7:0] z;
    always @(*) begin
        t$d = 8'h0;
        if (en) begin
            t$d = a;
        end
        local = t$d;
        local = local + 8'h1;
        y = local | 32'h1;
        if (en) begin
            y = a;
        end
        z = a;
    end
    sub s(.d(t$d), .e(z));
endmodule
";
        // `local` is read by this block only: its glitches wake nothing, it keeps its name;
        // `z` is assigned once, its final value at once.
        let expected = "module m(a,en,y);
    input wire [7:0] a;
    input wire en;
    output reg [7:0] y;
    reg [7:0] t$d;
    reg [7:0] local;
    reg [7:0] z;
    reg [7:0] t$d__comb;
    reg [7:0] y__comb;
    always @(*) begin
        t$d__comb = 8'h0;
        if (en) begin
            t$d__comb = a;
        end
        local = t$d__comb;
        local = local + 8'h1;
        y__comb = local | 32'h1;
        if (en) begin
            y__comb = a;
        end
        z = a;
        t$d = t$d__comb;
        y = y__comb;
    end
    sub s(.d(t$d), .e(z));
endmodule
";
        assert_eq!(settle_combinational(v), expected);
    }

    #[test]
    fn the_simulation_copy_is_the_settled_text_under_one_header_naming_it() {
        let notes = vec!["Config:\n  x = 1".to_string()];
        let body = "module c(a,y);\n    input wire a;\n    output reg y;\n    \
                    always @(*) begin\n        y = 1'b0;\n        if (a) begin\n            \
                    y = 1'b1;\n        end\n    end\nendmodule\n";
        let v = format!("{}\n{body}", header("c", &notes));
        let copy = simulation_copy("c", &v, &notes);
        let (comment, rest) = copy.split_once("\n\n").unwrap();
        assert!(comment.starts_with("// c_sim.v: Verilog generated by hgf-hw"));
        assert!(comment.contains("// The copy of c.v for event-driven simulators"));
        assert!(comment.ends_with("// Config:\n//   x = 1"), "{comment}");
        assert!(comment.lines().all(|l| l.starts_with("//")));
        assert_eq!(comment.matches("Verilog generated by").count(), 1);
        assert_eq!(rest, settle_combinational(body));
        assert!(rest.contains("y = y__comb;") && rest.contains("module c(a,y);"));
    }

    #[test]
    fn a_block_with_an_undeclared_target_is_left_alone() {
        let v = "module m(y);\n    output reg y;\n    always @(*) begin\n        z = 1'b1;\n    \
                 end\nendmodule\n";
        assert_eq!(settle_combinational(v), v);
    }
}
