//! The one configuration of an HGF projection engine and the layer it runs.
//!
//! A config is read from TOML (every field optional: a missing field takes the value of the
//! chosen `preset`, which defaults to `"default"`), resolved, and validated once. After that
//! `&HgfConfig` is passed everywhere: golden model, generator, estimator and co-simulation.
//! Quantities derived from it (accumulator width, buffer depths, cycle counts) live in
//! [`crate::derived`], and nowhere else.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Largest `d_in` for which the ternary path stays exact (docs/arithmetic.md §T2):
/// `|acc| <= 128 * d_in` must not exceed 2^24, the largest magnitude below which every integer
/// converts to FP32 exactly (§T3).
pub const MAX_D_IN: usize = 1 << 17;
/// Largest `d_out`. No arithmetic bound applies; the hardware counts outputs in 20 bits.
pub const MAX_D_OUT: usize = 1 << 19;
/// Largest number of output rows the ternary array computes at once.
pub const MAX_ARRAY_ROWS: usize = 64;
/// Largest number of inputs per row the ternary array consumes per cycle.
pub const MAX_ARRAY_INPUTS: usize = 320;
/// Beats of one stream per token must stay below this: the hardware counts them in 20 bits.
pub const MAX_BEATS: usize = 1 << 20;
/// Largest number of FP16 MAC lanes (a power of two, docs/arithmetic.md §L2).
pub const MAX_FP_LANES: usize = 64;
/// Largest rank: the hardware counts the sums of a pass in 20 bits, and a rank this high is
/// far beyond the low-rank corrections of the paper (4 to 16).
pub const MAX_RANK: usize = 1 << 17;

/// How ternary weights are packed into bytes (docs/arithmetic.md §P).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Packing {
    /// Five trits per byte as one base-3 number (3^5 = 243 <= 256): 1.6 bits per weight.
    #[serde(rename = "base3")]
    Base3,
    /// Four trits per byte, two bits each (two's complement): 2 bits per weight.
    #[serde(rename = "2bit")]
    TwoBit,
}

impl Packing {
    pub const ALL: [Packing; 2] = [Packing::Base3, Packing::TwoBit];

    /// Trits held by one packed byte.
    pub fn trits_per_byte(self) -> usize {
        match self {
            Packing::Base3 => 5,
            Packing::TwoBit => 4,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Packing::Base3 => "base3",
            Packing::TwoBit => "2bit",
        }
    }
}

impl fmt::Display for Packing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The device the generated core is built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Target {
    #[serde(rename = "ice40-up5k")]
    Ice40Up5k,
    #[serde(rename = "ice40-hx8k")]
    Ice40Hx8k,
    #[serde(rename = "ecp5-25k")]
    Ecp5_25k,
    #[serde(rename = "ecp5-85k")]
    Ecp5_85k,
}

impl Target {
    pub const ALL: [Target; 4] = [
        Target::Ice40Up5k,
        Target::Ice40Hx8k,
        Target::Ecp5_25k,
        Target::Ecp5_85k,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Target::Ice40Up5k => "ice40-up5k",
            Target::Ice40Hx8k => "ice40-hx8k",
            Target::Ecp5_25k => "ecp5-25k",
            Target::Ecp5_85k => "ecp5-85k",
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One HGF projection engine (`y = BitLinear(x) + g * B(A x)`): what is built, and the
/// largest projection it runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HgfConfig {
    /// Name of the generated top module and of every artefact (a Verilog identifier).
    pub name: String,
    /// Largest `d_in` of a projection the core runs (columns of T and A); buffers, counters
    /// and the accumulator width are sized for it. Each projection's own shape comes at run
    /// time, in its descriptor ([`crate::shape::Shape`]).
    pub max_d_in: usize,
    /// Largest `d_out` (rows of T and B).
    pub max_d_out: usize,
    /// Largest rank of the low-rank correction (rows of A, columns of B); a projection may
    /// have any rank up to it, 0 (ternary-only) included.
    pub max_rank: usize,
    /// Output rows the ternary array computes in parallel.
    pub array_rows: usize,
    /// Inputs per row the ternary array consumes per cycle.
    pub array_inputs: usize,
    /// FP16 x FP16 -> FP32 multiply-accumulate lanes; fixes the FP summation order (§L2).
    pub fp_lanes: usize,
    /// binary32 multipliers of the gate: 2 gives one output per cycle, 1 (one multiplier for
    /// both `fl32(acc) * k` and `g * v`) one output every other cycle, for DSP-poor devices.
    pub gate_multipliers: usize,
    /// The gate borrows low-rank lane 0's binary32 adder and binary16 rounding instead of
    /// having its own (about 700 iCE40 logic cells fewer); the gate then starts only once the
    /// whole low-rank flow of the token is done, so the two flows no longer overlap with the
    /// gate. For small devices whose core is bound by the ternary flow or by memory.
    #[serde(default)]
    pub gate_shares_adder: bool,
    /// Weight packing of the ternary stream.
    pub packing: Packing,
    /// Device the core is built for.
    pub target: Target,
}

/// Names of the presets that ship with hgf-hw, first the default.
pub const PRESETS: [&str; 2] = ["default", "up5k"];

impl Default for HgfConfig {
    fn default() -> Self {
        Self::preset("default").expect("the default preset exists")
    }
}

impl HgfConfig {
    /// A named preset.
    ///
    /// - `default`: one 512x512 projection of a TinyStories-scale HGF model at rank 16, sized
    ///   for an ECP5-25k board.
    /// - `up5k`: a 256x256 projection at rank 8 that fits an iCE40 UP5K.
    ///
    /// Each preset names its core after itself (`hgf_core`, `hgf_core_up5k`), so that their
    /// default output directories (`out/<name>`) and files do not collide.
    pub fn preset(name: &str) -> Result<Self, ConfigError> {
        match name {
            "default" => Ok(HgfConfig {
                name: "hgf_core".into(),
                max_d_in: 1376,
                max_d_out: 1376,
                max_rank: 16,
                array_rows: 4,
                array_inputs: 25,
                fp_lanes: 4,
                gate_multipliers: 2,
                gate_shares_adder: false,
                packing: Packing::Base3,
                target: Target::Ecp5_25k,
            }),
            "up5k" => Ok(HgfConfig {
                name: "hgf_core_up5k".into(),
                max_d_in: 256,
                max_d_out: 256,
                max_rank: 8,
                array_rows: 1,
                array_inputs: 4,
                fp_lanes: 1,
                gate_multipliers: 1,
                gate_shares_adder: true,
                packing: Packing::TwoBit,
                target: Target::Ice40Up5k,
            }),
            other => Err(ConfigError::UnknownPreset {
                name: other.to_string(),
                allowed: PRESETS.join(", "),
            }),
        }
    }

    /// Parses TOML text; fields that are missing take the values of the `preset` field's
    /// preset (or `"default"`). The result is validated.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: None,
            message: e.to_string(),
        })?;
        file.resolve()
    }

    /// Reads and validates a TOML config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        Self::from_toml_str(&text).map_err(|e| e.with_path(path))
    }

    /// The engine in one line, for summaries: `up to 1376x1376 rank 16, array 4x25, 4 FP
    /// lanes, 2 gate multipliers, base3` (and `, gate borrows the low-rank adder` when
    /// [`HgfConfig::gate_shares_adder`]).
    pub fn engine_summary(&self) -> String {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        format!(
            "up to {}x{} rank {}, array {}x{}, {} FP lane{}, {} gate multiplier{}, {}{}",
            self.max_d_in,
            self.max_d_out,
            self.max_rank,
            self.array_rows,
            self.array_inputs,
            self.fp_lanes,
            plural(self.fp_lanes),
            self.gate_multipliers,
            plural(self.gate_multipliers),
            self.packing,
            if self.gate_shares_adder {
                ", gate borrows the low-rank adder"
            } else {
                ""
            }
        )
    }

    /// The config as TOML, every field written out.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("HgfConfig always serialises")
    }

    /// Checks every field and every relation between fields. Each failure names the field and
    /// the allowed range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |field: &'static str, value: usize, allowed: String| {
            Err(ConfigError::OutOfRange {
                field,
                value,
                allowed,
            })
        };
        if !is_module_name(&self.name) {
            return Err(ConfigError::BadName {
                name: self.name.clone(),
            });
        }
        if !(1..=MAX_D_IN).contains(&self.max_d_in) {
            return bad(
                "max_d_in",
                self.max_d_in,
                format!(
                    "1..={MAX_D_IN} (above that 128*d_in exceeds 2^24 and the ternary sum no \
                     longer converts to FP32 exactly, docs/arithmetic.md §T3)"
                ),
            );
        }
        if !(1..=MAX_D_OUT).contains(&self.max_d_out) {
            return bad("max_d_out", self.max_d_out, format!("1..={MAX_D_OUT}"));
        }
        let rank_limit = self.max_d_in.min(self.max_d_out).min(MAX_RANK);
        if !(1..=rank_limit).contains(&self.max_rank) {
            return bad(
                "max_rank",
                self.max_rank,
                format!("1..={rank_limit} (at most min(max_d_in, max_d_out, {MAX_RANK}))"),
            );
        }
        let max_rows = MAX_ARRAY_ROWS.min(self.max_d_out);
        if !(1..=max_rows).contains(&self.array_rows) {
            return bad(
                "array_rows",
                self.array_rows,
                format!("1..={max_rows} (at most 64 and at most max_d_out)"),
            );
        }
        let tpb = self.packing.trits_per_byte();
        let row_trits = self.max_d_in.div_ceil(tpb) * tpb;
        let max_inputs = MAX_ARRAY_INPUTS.min(row_trits);
        if self.array_inputs == 0 || self.array_inputs % tpb != 0 || self.array_inputs > max_inputs
        {
            return bad(
                "array_inputs",
                self.array_inputs,
                format!(
                    "a multiple of {tpb} (trits per byte of packing `{}`) in {tpb}..={}",
                    self.packing,
                    max_inputs / tpb * tpb
                ),
            );
        }
        let max = self.max_layout();
        if max.weight_beats() >= MAX_BEATS {
            return bad(
                "array_rows",
                self.array_rows,
                format!(
                    "large enough that the largest projection's weight stream has fewer than \
                     2^20 beats per token (the hardware counts them in 20 bits; now {})",
                    max.weight_beats()
                ),
            );
        }
        let max_lanes = MAX_FP_LANES.min(self.max_d_in);
        if !self.fp_lanes.is_power_of_two() || self.fp_lanes > max_lanes {
            return bad(
                "fp_lanes",
                self.fp_lanes,
                format!("a power of two in 1..={max_lanes} (at most max_d_in)"),
            );
        }
        if !(1..=2).contains(&self.gate_multipliers) {
            return bad(
                "gate_multipliers",
                self.gate_multipliers,
                "1 or 2".to_string(),
            );
        }
        if max.factor_beats() >= MAX_BEATS {
            return bad(
                "fp_lanes",
                self.fp_lanes,
                format!(
                    "a power of two large enough that the largest projection's factor stream \
                     has fewer than 2^20 beats per token (the hardware counts them in 20 bits; \
                     now {})",
                    max.factor_beats()
                ),
            );
        }
        Ok(())
    }
}

/// What a core's name may be, in words: [`is_module_name`].
pub const MODULE_NAME_RULE: &str = "a letter, then letters, digits or `_`, at most 64 \
                                    characters, not a (System)Verilog keyword";

/// The one rule for a core's name ([`MODULE_NAME_RULE`]): it names the Verilog module, its
/// files, and the C++ class and library Verilator makes of it, so it has to suit all of them
/// (Verilator's classes and the model's files take no leading `_`).
pub fn is_module_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 64
        && !VERILOG_KEYWORDS.contains(&name)
}

/// Reserved words of Verilog-2005 and SystemVerilog that a module name cannot be (the
/// emitted top is read by Verilator, yosys and iverilog, some in SystemVerilog mode).
const VERILOG_KEYWORDS: &[&str] = &[
    "alias",
    "always",
    "always_comb",
    "always_ff",
    "always_latch",
    "and",
    "assert",
    "assign",
    "assume",
    "automatic",
    "before",
    "begin",
    "bind",
    "bins",
    "binsof",
    "bit",
    "break",
    "buf",
    "bufif0",
    "bufif1",
    "byte",
    "case",
    "casex",
    "casez",
    "cell",
    "chandle",
    "class",
    "clocking",
    "cmos",
    "config",
    "const",
    "constraint",
    "context",
    "continue",
    "cover",
    "covergroup",
    "coverpoint",
    "cross",
    "deassign",
    "default",
    "defparam",
    "design",
    "disable",
    "dist",
    "do",
    "edge",
    "else",
    "end",
    "endcase",
    "endclass",
    "endclocking",
    "endconfig",
    "endfunction",
    "endgenerate",
    "endgroup",
    "endinterface",
    "endmodule",
    "endpackage",
    "endprimitive",
    "endprogram",
    "endproperty",
    "endspecify",
    "endsequence",
    "endtable",
    "endtask",
    "enum",
    "event",
    "expect",
    "export",
    "extends",
    "extern",
    "final",
    "first_match",
    "for",
    "force",
    "foreach",
    "forever",
    "fork",
    "forkjoin",
    "function",
    "generate",
    "genvar",
    "highz0",
    "highz1",
    "if",
    "iff",
    "ifnone",
    "ignore_bins",
    "illegal_bins",
    "import",
    "incdir",
    "include",
    "initial",
    "inout",
    "input",
    "inside",
    "instance",
    "int",
    "integer",
    "interface",
    "intersect",
    "join",
    "join_any",
    "join_none",
    "large",
    "liblist",
    "library",
    "local",
    "localparam",
    "logic",
    "longint",
    "macromodule",
    "matches",
    "medium",
    "modport",
    "module",
    "nand",
    "negedge",
    "new",
    "nmos",
    "nor",
    "noshowcancelled",
    "not",
    "notif0",
    "notif1",
    "null",
    "or",
    "output",
    "package",
    "packed",
    "parameter",
    "pmos",
    "posedge",
    "primitive",
    "priority",
    "program",
    "property",
    "protected",
    "pull0",
    "pull1",
    "pulldown",
    "pullup",
    "pulsestyle_ondetect",
    "pulsestyle_onevent",
    "pure",
    "rand",
    "randc",
    "randcase",
    "randsequence",
    "rcmos",
    "real",
    "realtime",
    "ref",
    "reg",
    "release",
    "repeat",
    "return",
    "rnmos",
    "rpmos",
    "rtran",
    "rtranif0",
    "rtranif1",
    "scalared",
    "sequence",
    "shortint",
    "shortreal",
    "showcancelled",
    "signed",
    "small",
    "solve",
    "specify",
    "specparam",
    "static",
    "string",
    "strong0",
    "strong1",
    "struct",
    "super",
    "supply0",
    "supply1",
    "table",
    "tagged",
    "task",
    "this",
    "throughout",
    "time",
    "timeprecision",
    "timeunit",
    "tran",
    "tranif0",
    "tranif1",
    "tri",
    "tri0",
    "tri1",
    "triand",
    "trior",
    "trireg",
    "type",
    "typedef",
    "union",
    "unique",
    "unsigned",
    "use",
    "uwire",
    "var",
    "vectored",
    "virtual",
    "void",
    "wait",
    "wait_order",
    "wand",
    "weak0",
    "weak1",
    "while",
    "wildcard",
    "wire",
    "with",
    "within",
    "wor",
    "xnor",
    "xor",
];

/// The TOML file as written: every field optional, plus the preset it starts from.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    preset: Option<String>,
    name: Option<String>,
    max_d_in: Option<usize>,
    max_d_out: Option<usize>,
    max_rank: Option<usize>,
    array_rows: Option<usize>,
    array_inputs: Option<usize>,
    fp_lanes: Option<usize>,
    gate_multipliers: Option<usize>,
    gate_shares_adder: Option<bool>,
    packing: Option<Packing>,
    target: Option<Target>,
}

impl ConfigFile {
    fn resolve(self) -> Result<HgfConfig, ConfigError> {
        let base = HgfConfig::preset(self.preset.as_deref().unwrap_or("default"))?;
        let cfg = HgfConfig {
            name: self.name.unwrap_or(base.name),
            max_d_in: self.max_d_in.unwrap_or(base.max_d_in),
            max_d_out: self.max_d_out.unwrap_or(base.max_d_out),
            max_rank: self.max_rank.unwrap_or(base.max_rank),
            array_rows: self.array_rows.unwrap_or(base.array_rows),
            array_inputs: self.array_inputs.unwrap_or(base.array_inputs),
            fp_lanes: self.fp_lanes.unwrap_or(base.fp_lanes),
            gate_multipliers: self.gate_multipliers.unwrap_or(base.gate_multipliers),
            gate_shares_adder: self.gate_shares_adder.unwrap_or(base.gate_shares_adder),
            packing: self.packing.unwrap_or(base.packing),
            target: self.target.unwrap_or(base.target),
        };
        cfg.validate()?;
        Ok(cfg)
    }
}

/// Why a config was rejected.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The I/O error is part of the message rather than a `#[source]`, so that printing the
    /// error alone or with its chain (as `hgf` does) shows it exactly once.
    #[error("cannot read config file {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}{message}", path.as_ref().map(|p| format!("config file {}: ", p.display())).unwrap_or_default())]
    Syntax {
        path: Option<PathBuf>,
        message: String,
    },
    #[error("unknown preset `{name}`; allowed: {allowed}")]
    UnknownPreset { name: String, allowed: String },
    #[error("config field `{field}` = {value} is out of range; allowed: {allowed}")]
    OutOfRange {
        field: &'static str,
        value: usize,
        allowed: String,
    },
    #[error("config field `name` = {name:?} is not a module name; allowed: {MODULE_NAME_RULE}")]
    BadName { name: String },
    /// An error in a config file. The message includes the inner error, so it is not also
    /// reported as the source (that would print it twice).
    #[error("{}: {error}", path.display())]
    InFile {
        path: PathBuf,
        error: Box<ConfigError>,
    },
}

impl ConfigError {
    /// The field this error is about, when it is about one field.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            ConfigError::OutOfRange { field, .. } => Some(field),
            ConfigError::BadName { .. } => Some("name"),
            ConfigError::UnknownPreset { .. } => Some("preset"),
            ConfigError::InFile { error, .. } => error.field(),
            _ => None,
        }
    }

    fn with_path(self, path: &Path) -> Self {
        match self {
            ConfigError::Syntax { message, .. } => ConfigError::Syntax {
                path: Some(path.to_path_buf()),
                message,
            },
            other => ConfigError::InFile {
                path: path.to_path_buf(),
                error: Box::new(other),
            },
        }
    }
}
