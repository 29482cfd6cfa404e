//! The readable-Verilog pass: what every design goes through after rust-hdl emits it
//! ([`crate::verilog::emit_named`]).
//!
//! rust-hdl writes one module per instance, named by the instance's path (`top$accs$banks$0`),
//! and joins every hierarchical or indexed name with `$` (`t_data$0`, `accs$sums$3`). The pass
//! rewrites that text, and nothing but names and module sharing changes:
//!
//! 1. **Plain names.** Every `$` inside an identifier becomes `_` ([`plain_name`]): ports
//!    (`t_data$3` → `t_data_3`), signals, instances and localparams. System tasks (`$display`)
//!    keep theirs. The mapping is collision-free by check: within each module no two
//!    distinct names may map to the same plain name, or the pass fails with
//!    [`ReadableError::Collision`] naming both (the blocks are written so it never does; every
//!    emitted design goes through the check).
//! 2. **Shared modules.** Two modules whose text is the same once renamed, apart from their own
//!    name, are written once, and every instance points at that one module. Sharing runs
//!    bottom-up, so two parents whose children were shared are compared with the shared
//!    children's names. A shared module is named `<top>_<path>`, `<path>` being the rust-hdl
//!    path of its first instance without the top and without the indices
//!    (`hgf_core$accs$banks$0$tiles$1` → `hgf_core_accs_banks_tiles`); a single register
//!    (rust-hdl's `DFF`, ports `d`, `q`, `clock`) is `<top>_dff_w<bits>`. A later, different
//!    module that would get a name already taken gets `_2`, `_3`, ... appended.
//! 3. **Tidy text.** Trailing blanks go, modules are separated by one blank line.
//!
//! The top module keeps its name. [`Readable::instances`] tells, for each module written, the
//! rust-hdl modules it stands for (one per instance), for tools that attribute cells to
//! instances (the area calibration).

use std::collections::{BTreeMap, HashMap, HashSet};

use thiserror::Error;

/// Why the pass could not rewrite a design.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ReadableError {
    #[error("module `{module}`: `{first}` and `{second}` would both be named `{plain}`")]
    Collision {
        module: String,
        first: String,
        second: String,
        plain: String,
    },
    #[error("the emitted Verilog has no module `{top}`")]
    NoTop { top: String },
    #[error("module `{module}` has no `endmodule`")]
    Unterminated { module: String },
}

/// The rewritten design.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Readable {
    /// The Verilog, top module first.
    pub verilog: String,
    /// For every module written: the rust-hdl modules (one per instance, by their original
    /// `$`-joined names) it stands for, in emission order.
    pub instances: BTreeMap<String, Vec<String>>,
}

/// The plain form of a rust-hdl name: every `$` becomes `_` (`t_data$3` → `t_data_3`). The
/// Verilator bridge and the manifest name ports with it.
pub fn plain_name(name: &str) -> String {
    name.replace('$', "_")
}

/// One module as rust-hdl wrote it.
struct RawModule {
    name: String,
    text: String,
}

/// Splits rust-hdl's output into its modules (`module NAME(` at the start of a line up to the
/// next `endmodule` line).
fn split_modules(verilog: &str) -> Result<Vec<RawModule>, ReadableError> {
    let mut modules = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in verilog.lines() {
        match &mut current {
            None => {
                if let Some(rest) = line.strip_prefix("module ") {
                    let name = rest.split('(').next().unwrap_or(rest).trim().to_string();
                    current = Some((name, format!("{line}\n")));
                }
            }
            Some((name, text)) => {
                text.push_str(line);
                text.push('\n');
                if line.starts_with("endmodule") {
                    modules.push(RawModule {
                        name: std::mem::take(name),
                        text: std::mem::take(text),
                    });
                    current = None;
                }
            }
        }
    }
    if let Some((name, _)) = current {
        return Err(ReadableError::Unterminated { module: name });
    }
    Ok(modules)
}

/// One lexical piece of Verilog text, as far as names are concerned.
enum Piece<'a> {
    /// An identifier (may contain `$` after its first character).
    Name(&'a str),
    /// Anything else: numbers (`32'h1f`), system tasks (`$display`), strings, punctuation.
    Other(&'a str),
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

/// Cuts `text` into [`Piece`]s. Numbers and based literals (`32'h1f`, `4'b0`) are one piece
/// each, so that their digits are never taken for names; strings are kept whole.
fn pieces(text: &str) -> Vec<Piece<'_>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let c = bytes[i];
        if is_name_start(c) {
            while i < bytes.len() && is_name_char(bytes[i]) {
                i += 1;
            }
            out.push(Piece::Name(&text[start..i]));
        } else if c.is_ascii_digit() || c == b'\'' || c == b'$' {
            i += 1;
            while i < bytes.len() && (is_name_char(bytes[i]) || bytes[i] == b'\'') {
                i += 1;
            }
            out.push(Piece::Other(&text[start..i]));
        } else if c == b'"' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(bytes.len());
            out.push(Piece::Other(&text[start..i]));
        } else {
            // Up to the next byte that may start a piece of another kind (multi-byte UTF-8
            // in comments stays within this run, since its bytes are not ASCII).
            i += 1;
            while i < bytes.len()
                && !is_name_start(bytes[i])
                && !bytes[i].is_ascii_digit()
                && !matches!(bytes[i], b'\'' | b'$' | b'"')
            {
                i += 1;
            }
            out.push(Piece::Other(&text[start..i]));
        }
    }
    out
}

/// Marks a module reference in the renamed text until shared names are known. NUL never
/// occurs in rust-hdl's output.
const MARK: char = '\u{0}';

/// The text of one module with every name made plain, its own name and the names of the
/// modules it instantiates replaced by marks (`\0<index>\0`, index into `modules`), and
/// trailing blanks removed. Fails on a collision.
fn rename_module(
    module: &RawModule,
    index_of: &HashMap<&str, usize>,
) -> Result<(String, Vec<usize>), ReadableError> {
    let mut out = String::with_capacity(module.text.len());
    let mut children = Vec::new();
    let mut plain_of: HashMap<String, &str> = HashMap::new();
    let mut names: HashSet<&str> = HashSet::new();
    for piece in pieces(&module.text) {
        match piece {
            Piece::Name(name) => {
                if let Some(&index) = index_of.get(name) {
                    if name != module.name && !children.contains(&index) {
                        children.push(index);
                    }
                    out.push(MARK);
                    out.push_str(&index.to_string());
                    out.push(MARK);
                    continue;
                }
                names.insert(name);
                out.push_str(&plain_name(name));
            }
            Piece::Other(text) => out.push_str(text),
        }
    }
    let mut sorted: Vec<&str> = names.into_iter().collect();
    sorted.sort_unstable();
    for name in sorted {
        let plain = plain_name(name);
        if let Some(first) = plain_of.insert(plain.clone(), name) {
            return Err(ReadableError::Collision {
                module: module.name.clone(),
                first: first.to_string(),
                second: name.to_string(),
                plain,
            });
        }
    }
    let tidy: String = out
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n");
    Ok((tidy, children))
}

/// `module NAME(d,q,clock);` with `output reg [W-1:0] q;`: rust-hdl's `DFF`. Returns its width.
fn dff_width(text: &str) -> Option<usize> {
    let header = text.lines().next()?;
    if !header.ends_with("(d,q,clock);") {
        return None;
    }
    let q = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("output reg") && l.ends_with(" q;"))?;
    match q.split_whitespace().find(|w| w.starts_with('[')) {
        Some(range) => {
            let msb: usize = range
                .trim_start_matches('[')
                .split(':')
                .next()?
                .parse()
                .ok()?;
            Some(msb + 1)
        }
        None => Some(1),
    }
}

/// The name part of a shared module: its first instance's rust-hdl path without the top
/// and without the indices, or `dff_w<bits>` for a single register.
fn base_name(top: &str, raw_name: &str, renamed: &str) -> String {
    if let Some(bits) = dff_width(renamed) {
        return format!("dff_w{bits}");
    }
    let path = raw_name
        .strip_prefix(top)
        .and_then(|p| p.strip_prefix('$'))
        .unwrap_or(raw_name);
    let parts: Vec<&str> = path
        .split('$')
        .filter(|p| !p.is_empty() && !p.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    if parts.is_empty() {
        "module".to_string()
    } else {
        parts.join("_")
    }
}

/// Runs the pass on rust-hdl's output for the design whose top module is `top`.
pub fn make_readable(verilog: &str, top: &str) -> Result<Readable, ReadableError> {
    let modules = split_modules(verilog)?;
    let top_index =
        modules
            .iter()
            .position(|m| m.name == top)
            .ok_or_else(|| ReadableError::NoTop {
                top: top.to_string(),
            })?;
    let index_of: HashMap<&str, usize> = modules
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name.as_str(), i))
        .collect();
    let renamed: Vec<(String, Vec<usize>)> = modules
        .iter()
        .map(|m| rename_module(m, &index_of))
        .collect::<Result<_, _>>()?;

    // Children before parents (the instance graph of rust-hdl's output is a tree).
    let mut order = Vec::with_capacity(modules.len());
    let mut state = vec![0u8; modules.len()];
    let mut stack = vec![(top_index, false)];
    while let Some((m, expanded)) = stack.pop() {
        if expanded {
            state[m] = 2;
            order.push(m);
            continue;
        }
        if state[m] != 0 {
            continue;
        }
        state[m] = 1;
        stack.push((m, true));
        for &c in renamed[m].1.iter().rev() {
            if state[c] == 0 {
                stack.push((c, false));
            }
        }
    }

    // Group identical modules: the key is the text with the module's own mark and its
    // children's marks replaced by their group numbers.
    let mut group_of = vec![usize::MAX; modules.len()];
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for &m in &order {
        let key = substitute(&renamed[m].0, |i| {
            if i == m {
                "\u{1}self".to_string()
            } else {
                format!("\u{1}{}", group_of[i])
            }
        });
        // The top is never shared: it keeps its name.
        let key = if m == top_index {
            format!("\u{2}{key}")
        } else {
            key
        };
        let g = *by_key.entry(key).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(m);
        group_of[m] = g;
    }
    for members in &mut groups {
        members.sort_unstable();
    }

    // Name the groups in emission order of their first member.
    let mut by_first: Vec<usize> = (0..groups.len()).collect();
    by_first.sort_by_key(|&g| groups[g][0]);
    let mut used: HashSet<String> = HashSet::new();
    let mut name_of_group = vec![String::new(); groups.len()];
    used.insert(top.to_string());
    for &g in &by_first {
        let first = groups[g][0];
        if first == top_index {
            name_of_group[g] = top.to_string();
            continue;
        }
        let base = format!(
            "{top}_{}",
            base_name(top, &modules[first].name, &renamed[first].0)
        );
        let mut name = base.clone();
        let mut k = 2;
        while used.contains(&name) {
            name = format!("{base}_{k}");
            k += 1;
        }
        used.insert(name.clone());
        name_of_group[g] = name;
    }

    let mut verilog = String::new();
    let mut instances = BTreeMap::new();
    for &g in &by_first {
        let first = groups[g][0];
        let text = substitute(&renamed[first].0, |i| name_of_group[group_of[i]].clone());
        if !verilog.is_empty() {
            verilog.push_str("\n\n");
        }
        verilog.push_str(text.trim_matches('\n'));
        verilog.push('\n');
        instances.insert(
            name_of_group[g].clone(),
            groups[g].iter().map(|&m| modules[m].name.clone()).collect(),
        );
    }
    Ok(Readable { verilog, instances })
}

/// Replaces every mark `\0<index>\0` in `text` with `name(index)`.
fn substitute(text: &str, mut name: impl FnMut(usize) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(MARK) {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after.find(MARK).unwrap_or(after.len());
        let index: usize = after[..end].parse().unwrap_or(usize::MAX);
        out.push_str(&name(index));
        rest = after.get(end + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &str = "\n\nmodule top(clock,a$0,a$1,q$0,q$1);\n    input wire clock;\n    \
        input wire [3:0] a$0;\n    input wire [3:0] a$1;\n    output reg [3:0] q$0;\n    \
        output reg [3:0] q$1;\n    wire [3:0] r$0$q;\n    localparam k = 4'h1;\n    \
        always @(*) begin\n        $display(\"a$0\");\n    end\n    top$r$0 r$0(\n        \
        .d(a$0),\n        .q(r$0$q),\n        .clock(clock)\n    );\n    top$r$1 r$1(\n        \
        .d(a$1),\n        .q(q$1),\n        .clock(clock)\n    );\nendmodule // top\n\n\n\
        module top$r$0(d,q,clock);\n    input wire [3:0] d;\n    output reg [3:0] q;\n    \
        input wire clock;\n    always @(posedge clock) q <= d;\nendmodule // top$r$0\n\n\n\
        module top$r$1(d,q,clock);\n    input wire [3:0] d;\n    output reg [3:0] q;\n    \
        input wire clock;\n    always @(posedge clock) q <= d;\nendmodule // top$r$1\n";

    #[test]
    fn names_become_plain_and_identical_modules_are_shared() {
        let r = make_readable(RAW, "top").unwrap();
        assert_eq!(
            r.verilog.matches('$').count(),
            2,
            "only the task and the string keep theirs"
        );
        assert!(r.verilog.starts_with("module top(clock,a_0,a_1,q_0,q_1);"));
        let modules = r
            .verilog
            .lines()
            .filter(|l| l.starts_with("module "))
            .count();
        assert_eq!(modules, 2, "{}", r.verilog);
        assert!(r.verilog.contains("top_dff_w4 r_0("), "{}", r.verilog);
        assert!(r.verilog.contains("top_dff_w4 r_1("), "{}", r.verilog);
        assert!(r.verilog.contains("$display(\"a$0\")"), "strings are kept");
        assert!(r.verilog.contains("4'h1"), "literals are kept");
        assert_eq!(
            r.instances["top_dff_w4"],
            vec!["top$r$0".to_string(), "top$r$1".to_string()]
        );
        assert!(r.verilog.lines().all(|l| l == l.trim_end()));
    }

    #[test]
    fn a_collision_is_an_error() {
        let raw = "module top(a$0,a_0);\n    input wire a$0;\n    output wire a_0;\nendmodule\n";
        assert_eq!(
            make_readable(raw, "top"),
            Err(ReadableError::Collision {
                module: "top".into(),
                first: "a$0".into(),
                second: "a_0".into(),
                plain: "a_0".into(),
            })
        );
    }

    #[test]
    fn different_modules_with_one_path_get_numbered_names() {
        let raw = "module top(x);\n    input wire x;\n    top$u$0 u$0(.x(x));\n    \
                   top$u$1 u$1(.x(x));\nendmodule\nmodule top$u$0(x);\n    input wire x;\n\
                   endmodule\nmodule top$u$1(x);\n    input wire x;\n    wire y;\nendmodule\n";
        let r = make_readable(raw, "top").unwrap();
        assert!(r.verilog.contains("top_u u_0("), "{}", r.verilog);
        assert!(r.verilog.contains("top_u_2 u_1("), "{}", r.verilog);
    }

    #[test]
    fn a_missing_top_or_end_is_an_error() {
        assert_eq!(
            make_readable("module a(x);\nendmodule\n", "top"),
            Err(ReadableError::NoTop { top: "top".into() })
        );
        assert!(matches!(
            make_readable("module top(x);\n", "top"),
            Err(ReadableError::Unterminated { .. })
        ));
    }
}
