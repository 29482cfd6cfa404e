//! The core against the golden model: every output compared bit for bit, and on a mismatch
//! the first stage that differs, read back from a VCD of the failing token.
//!
//! The core exposes its stages' results at the inputs of its gate unit (docs/architecture.md):
//! the dequantization factor `k` (from the quantizer), the ternary sum `acc_j` (from the
//! ternary flow) and the correction `v_j` (from the low-rank flow). [`diagnose`] runs the
//! tokens up to the failing one again with a VCD of that token, reads those inputs back at
//! every rising edge where the gate's `valid_in` is high (`acc` at the enabled edge
//! `GateUnit::ACC_LEAD` before), and compares them with the golden
//! [`TokenTrace`]. The gate's signals are found by name (a scope named like `gate` holding
//! `valid_in`, `acc`, `k`, `v`, or wires `…gate_valid_in` …), so that internal renames
//! elsewhere in the core do not matter; when they cannot be found the diagnosis says so and
//! the VCD is still there to read.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use half::f16;
use hgf_golden::output::temporary_beside;
use hgf_golden::{HgfProjection, HgfWeights, TokenTrace};
use hgf_hdl::gate_unit::GateUnit;
use ndarray::{s, ArrayView2};
use vcd::{Command, IdCode, ScopeItem, Value, Var};

use crate::core_driver::{CoreSim, RunOptions, TraceRequest};
use crate::SimError;

/// The golden outputs of every token, binary16 bit patterns.
pub fn golden_outputs(golden: &HgfProjection, tokens: ArrayView2<'_, f16>) -> Vec<Vec<u16>> {
    tokens
        .rows()
        .into_iter()
        .map(|row| {
            golden
                .forward(&row.to_vec())
                .iter()
                .map(|v| v.to_bits())
                .collect()
        })
        .collect()
}

/// One output that differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// Token index in the run.
    pub token: usize,
    /// Output index `j` within the token.
    pub output: usize,
    /// What the core gave (binary16 bits).
    pub rtl: u16,
    /// What the golden model gives (binary16 bits).
    pub golden: u16,
}

/// Outcome of comparing the core's outputs with the expected ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Outputs compared.
    pub outputs_compared: usize,
    /// Outputs whose bits differ, plus expected outputs the core did not produce.
    pub mismatches: usize,
    /// The first differing output, in stream order.
    pub first: Option<Mismatch>,
}

/// Compares `got` (per token, as [`crate::core_driver::CoreRun::outputs`]) with `expected`
/// bit for bit. An expected token or output that `got` lacks counts as a mismatch.
pub fn compare(expected: &[Vec<u16>], got: &[Vec<u16>]) -> Comparison {
    let mut c = Comparison::default();
    for (t, want) in expected.iter().enumerate() {
        let row = got.get(t).map_or(&[][..], Vec::as_slice);
        for (j, &w) in want.iter().enumerate() {
            match row.get(j) {
                Some(&y) => {
                    c.outputs_compared += 1;
                    if y != w {
                        c.mismatches += 1;
                        c.first.get_or_insert(Mismatch {
                            token: t,
                            output: j,
                            rtl: y,
                            golden: w,
                        });
                    }
                }
                None => c.mismatches += 1,
            }
        }
    }
    c
}

/// The part of the core a gate input comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// `k = beta / s` (§Q, §T3).
    Quantizer,
    /// `acc_j` (§T1).
    TernaryFlow,
    /// `v_j` (§L).
    LowRankFlow,
    /// Dequantization and gate (§T3, §G1), or the output path after it: every input of the
    /// gate matches the golden model.
    Gate,
}

impl Stage {
    /// Human name.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Quantizer => "quantizer",
            Stage::TernaryFlow => "ternary flow",
            Stage::LowRankFlow => "low-rank flow",
            Stage::Gate => "gate",
        }
    }

    /// Machine name (JSON).
    pub fn key(self) -> &'static str {
        match self {
            Stage::Quantizer => "quantizer",
            Stage::TernaryFlow => "ternary_flow",
            Stage::LowRankFlow => "lowrank_flow",
            Stage::Gate => "gate",
        }
    }
}

/// A gate input that differs from the golden model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StageDifference {
    /// The gate input: `k`, `acc` or `v`.
    pub signal: &'static str,
    /// The core's value: binary32 bits (`k`, `v`), or the two's complement sum (`acc`).
    pub rtl: i64,
    /// The golden value, in the same form.
    pub golden: i64,
}

/// The first stage that differs for one output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageReport {
    /// The failing token.
    pub token: usize,
    /// The failing output (row of the gate).
    pub row: usize,
    /// The first stage whose result differs ([`Stage::Gate`] when all gate inputs match).
    pub stage: Stage,
    /// The differing gate input (none for [`Stage::Gate`]).
    pub difference: Option<StageDifference>,
    /// VCD time at which the gate took the failing row's inputs.
    pub time: u64,
    /// Rows of the token with at least one differing gate input.
    pub rows_differing: usize,
    /// Where the gate's signals were found in the VCD.
    pub scope: String,
}

/// The gate's inputs at one rising edge where it takes a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GateSample {
    /// VCD time of the values (the half cycle before the edge).
    pub time: u64,
    /// `acc`, raw bits.
    pub acc: u64,
    /// `k`, raw bits.
    pub k: u64,
    /// `v`, raw bits.
    pub v: u64,
}

/// Every row the gate took in a VCD, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateTrace {
    /// Where the gate's signals were found (dotted scope path, `$` joins a flattened name).
    pub scope: String,
    /// Width of the `acc` input (sign-extended from it).
    pub acc_width: u32,
    /// The samples.
    pub samples: Vec<GateSample>,
}

/// The gate inputs the diagnosis needs, and the one it uses when present.
const GATE_INPUTS: [&str; 4] = ["valid_in", "acc", "k", "v"];
const GATE_ENABLE: &str = "enable";

fn vcd_error(path: &Path, reason: impl Into<String>) -> SimError {
    SimError::Vcd {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Every variable of the header with its scope path.
fn flatten<'a>(items: &'a [ScopeItem], path: &mut Vec<&'a str>, out: &mut Vec<(String, &'a Var)>) {
    for item in items {
        match item {
            ScopeItem::Scope(s) => {
                path.push(&s.identifier);
                flatten(&s.items, path, out);
                path.pop();
            }
            ScopeItem::Var(v) => out.push((path.join("."), v)),
            _ => {}
        }
    }
}

/// Folds a VCD vector (most significant bit first) into an integer; x and z read as 0
/// (Verilator is two-state).
fn vector_value(bits: &vcd::Vector) -> u64 {
    bits.iter()
        .fold(0u64, |acc, v| (acc << 1) | u64::from(v == Value::V1))
}

/// Reads a VCD of the core and returns the gate's inputs at every rising edge of `clock`
/// where its `valid_in` (and `enable`, if it has one) is high.
pub fn read_gate_inputs(path: &Path) -> Result<GateTrace, SimError> {
    let file = File::open(path).map_err(|e| SimError::Io {
        action: "opening the VCD",
        path: path.to_path_buf(),
        error: e,
    })?;
    let mut parser = vcd::Parser::new(BufReader::new(file));
    let header = parser
        .parse_header()
        .map_err(|e| vcd_error(path, format!("unreadable header: {e}")))?;
    let mut vars = Vec::new();
    flatten(&header.items, &mut Vec::new(), &mut vars);

    // The clock: the shallowest variable named `clock`.
    let clock = vars
        .iter()
        .filter(|(_, v)| v.reference == "clock")
        .min_by_key(|(scope, _)| scope.matches('.').count())
        .map(|(_, v)| v.code)
        .ok_or_else(|| vcd_error(path, "no signal named `clock`"))?;

    // Candidate gate signal groups: a scope named like `gate` with the inputs as variables, or
    // variables `<prefix>gate_<input>` in any scope (the readable pass writes rust-hdl's `$`
    // as `_`, hgf_hdl::readable::plain_name).
    let mut groups: HashMap<String, HashMap<&str, &Var>> = HashMap::new();
    for (scope, var) in &vars {
        let wanted = GATE_INPUTS.iter().chain([&GATE_ENABLE]);
        for &name in wanted {
            let last = scope.rsplit('.').next().unwrap_or("");
            if var.reference == name && last.contains("gate") {
                groups.entry(scope.clone()).or_default().insert(name, var);
            } else if let Some(prefix) = var.reference.strip_suffix(&format!("_{name}")) {
                if prefix
                    .rsplit('_')
                    .next()
                    .is_some_and(|p| p.contains("gate"))
                {
                    groups
                        .entry(format!("{scope}.{prefix}"))
                        .or_default()
                        .insert(name, var);
                }
            }
        }
    }
    let complete = groups
        .iter()
        .filter(|(_, g)| GATE_INPUTS.iter().all(|n| g.contains_key(n)))
        .min_by_key(|(scope, _)| (scope.matches(['.', '$']).count(), scope.len()));
    let Some((scope, group)) = complete else {
        let mut partial: Vec<String> = groups
            .iter()
            .map(|(s, g)| {
                let mut names: Vec<&str> = g.keys().copied().collect();
                names.sort_unstable();
                format!("{s} ({})", names.join(", "))
            })
            .collect();
        partial.sort();
        return Err(vcd_error(
            path,
            format!(
                "no gate-unit signals: looked for a scope named like `gate` holding {}, or \
                 wires `…gate_{{name}}`; candidates found: {}",
                GATE_INPUTS.join(", "),
                if partial.is_empty() {
                    "none".to_string()
                } else {
                    partial.join("; ")
                }
            ),
        ));
    };
    for name in ["acc", "k", "v"] {
        if group[name].size > 64 {
            return Err(vcd_error(
                path,
                format!(
                    "gate input `{name}` in {scope} is {} bits wide",
                    group[name].size
                ),
            ));
        }
    }
    let code = |name: &str| group.get(name).map(|v| v.code);
    let (valid, acc, k, v, enable) = (
        code("valid_in"),
        code("acc"),
        code("k"),
        code("v"),
        code(GATE_ENABLE),
    );
    let tracked: Vec<IdCode> = [Some(clock), valid, acc, k, v, enable]
        .into_iter()
        .flatten()
        .collect();
    let mut values: HashMap<IdCode, u64> = tracked.iter().map(|&c| (c, 0)).collect();
    let value = |values: &HashMap<IdCode, u64>, c: Option<IdCode>| c.map_or(1, |c| values[&c]);

    let mut samples = Vec::new();
    let mut time: Option<u64> = None;
    // `acc` leads the row's other inputs by `GateUnit::ACC_LEAD` enabled edges: the values it
    // had at the last ones, oldest first.
    let mut acc_lead: VecDeque<u64> = VecDeque::with_capacity(GateUnit::ACC_LEAD + 1);
    for cmd in parser {
        let cmd = cmd.map_err(|e| vcd_error(path, e.to_string()))?;
        match cmd {
            Command::Timestamp(next) => {
                // The values of the half cycle that just ended: with the clock low, they are
                // what the next rising edge samples.
                if let Some(t) = time {
                    if values[&clock] == 0 && value(&values, enable) == 1 {
                        acc_lead.push_back(value(&values, acc));
                        let led = if acc_lead.len() > GateUnit::ACC_LEAD {
                            acc_lead.pop_front().unwrap_or(0)
                        } else {
                            0
                        };
                        if value(&values, valid) == 1 {
                            samples.push(GateSample {
                                time: t,
                                acc: led,
                                k: value(&values, k),
                                v: value(&values, v),
                            });
                        }
                    }
                }
                time = Some(next);
            }
            Command::ChangeScalar(id, val) => {
                if let Some(slot) = values.get_mut(&id) {
                    *slot = u64::from(val == Value::V1);
                }
            }
            Command::ChangeVector(id, bits) => {
                if let Some(slot) = values.get_mut(&id) {
                    *slot = vector_value(&bits);
                }
            }
            _ => {}
        }
    }
    Ok(GateTrace {
        scope: scope.clone(),
        acc_width: group["acc"].size,
        samples,
    })
}

/// Sign-extends the `width`-bit two's complement `bits`.
fn sign_extend(bits: u64, width: u32) -> i64 {
    let shift = 64 - width.clamp(1, 64);
    ((bits << shift) as i64) >> shift
}

/// The gate inputs of one row that differ from the golden model, in stage order.
fn row_differences(
    sample: &GateSample,
    acc_width: u32,
    golden: &TokenTrace,
    row: usize,
) -> Vec<(Stage, StageDifference)> {
    let checks = [
        Some((
            Stage::Quantizer,
            "k",
            sample.k as i64,
            i64::from(golden.k.to_bits()),
        )),
        Some((
            Stage::TernaryFlow,
            "acc",
            sign_extend(sample.acc, acc_width),
            i64::from(golden.acc[row]),
        )),
        // A ternary-only projection (rank 0) has no low-rank flow and no golden v.
        golden.v.get(row).map(|v| {
            (
                Stage::LowRankFlow,
                "v",
                sample.v as i64,
                i64::from(v.to_bits()),
            )
        }),
    ];
    checks
        .into_iter()
        .flatten()
        .filter(|(_, _, rtl, gold)| rtl != gold)
        .map(|(stage, signal, rtl, golden)| {
            (
                stage,
                StageDifference {
                    signal,
                    rtl,
                    golden,
                },
            )
        })
        .collect()
}

/// Names the first stage that differs for output `row` of `token`, from a gate trace covering
/// exactly that token (its `d_out` rows, in order) and the token's golden trace.
pub fn locate_stage(
    trace: &GateTrace,
    golden: &TokenTrace,
    token: usize,
    row: usize,
) -> Result<StageReport, String> {
    let d_out = golden.y.len();
    if trace.samples.len() != d_out {
        return Err(format!(
            "the gate took {} rows in the trace of token {token} ({}), expected d_out = {d_out}; \
             cannot tell which row is which",
            trace.samples.len(),
            trace.scope
        ));
    }
    let rows_differing = trace
        .samples
        .iter()
        .enumerate()
        .filter(|(j, s)| !row_differences(s, trace.acc_width, golden, *j).is_empty())
        .count();
    let sample = &trace.samples[row];
    let first = row_differences(sample, trace.acc_width, golden, row)
        .into_iter()
        .next();
    Ok(StageReport {
        token,
        row,
        stage: first.map_or(Stage::Gate, |(stage, _)| stage),
        difference: first.map(|(_, d)| d),
        time: sample.time,
        rows_differing,
        scope: trace.scope.clone(),
    })
}

/// What [`diagnose`] found.
#[derive(Debug)]
pub struct Diagnosis {
    /// The VCD of the failing token.
    pub vcd: PathBuf,
    /// Whether the run again gave the same output at the mismatch.
    pub reproduced: bool,
    /// The first stage that differs, or why it could not be named (the VCD lacks the gate's
    /// signals, or they do not line up with the token's rows).
    pub stage: Result<StageReport, String>,
}

/// Runs `tokens` up to and including `mismatch.token` again with the same options (so the
/// same stalls), writing a VCD of that token to `vcd`, and names the first stage that differs
/// from `golden` at the failing output. `sim` needs tracing support
/// ([`crate::BuildOptions::trace`]).
pub fn diagnose(
    sim: &CoreSim,
    weights: &HgfWeights,
    tokens: ArrayView2<'_, f16>,
    opts: &RunOptions,
    golden: &HgfProjection,
    mismatch: &Mismatch,
    vcd: &Path,
) -> Result<Diagnosis, SimError> {
    let t = mismatch.token;
    if t >= tokens.nrows() {
        return Err(SimError::Driver(format!(
            "mismatch at token {t}, but the run has {} tokens",
            tokens.nrows()
        )));
    }
    let opts = RunOptions {
        trace: Some(TraceRequest {
            path: vcd.to_path_buf(),
            from_token: t,
        }),
        reset_at: None,
        ..opts.clone()
    };
    let run = sim.run_with(weights, tokens.slice(s![..=t, ..]), &opts, &mut |_, _| {})?;
    let reproduced = run
        .outputs
        .get(t)
        .and_then(|o| o.get(mismatch.output))
        .is_some_and(|&y| y == mismatch.rtl);
    let golden_trace = golden.run_token(&tokens.row(t).to_vec());
    let stage = read_gate_inputs(vcd)
        .map_err(|e| e.to_string())
        .and_then(|trace| locate_stage(&trace, &golden_trace, t, mismatch.output));
    Ok(Diagnosis {
        vcd: vcd.to_path_buf(),
        reproduced,
        stage,
    })
}

/// [`diagnose`] with the VCD written whole or not at all: it goes to a temporary file beside
/// `vcd` (its directory created) and is renamed to `vcd` once the diagnosis has read it. The
/// error is the reason, for a report line.
pub fn diagnose_to(
    sim: &CoreSim,
    weights: &HgfWeights,
    tokens: ArrayView2<'_, f16>,
    opts: &RunOptions,
    golden: &HgfProjection,
    mismatch: &Mismatch,
    vcd: &Path,
) -> Result<Diagnosis, String> {
    if let Some(dir) = vcd.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let temporary = temporary_beside(vcd).map_err(|e| e.to_string())?;
    let diagnosis = diagnose(sim, weights, tokens, opts, golden, mismatch, &temporary)
        .map_err(|e| e.to_string())
        .and_then(|mut d| {
            std::fs::rename(&temporary, vcd)
                .map_err(|e| format!("cannot rename the VCD to {}: {e}", vcd.display()))?;
            d.vcd = vcd.to_path_buf();
            Ok(d)
        });
    if diagnosis.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    diagnosis
}

#[cfg(test)]
mod tests {
    use super::*;
    use hgf_golden::HgfConfig;

    /// A VCD with a clock and the gate's inputs: in scope `gate` (Verilator's hierarchy) or as
    /// flattened wires `gate_…` in the parent scope.
    fn vcd_text(flattened: bool, with_k: bool, enable: bool) -> String {
        let names = ["valid_in", "acc", "k", "v", "enable"];
        let codes = ["\"", "#", "$", "%", "&"];
        let widths = [1, 32, 32, 32, 1];
        let mut vars = String::new();
        for ((name, code), width) in names.iter().zip(codes).zip(widths) {
            if (*name == "k" && !with_k) || (*name == "enable" && !enable) {
                continue;
            }
            let reference = if flattened {
                format!("gate_{name}")
            } else {
                name.to_string()
            };
            let index = if width > 1 { " [31:0]" } else { "" };
            vars += &format!("$var wire {width} {code} {reference}{index} $end\n");
        }
        let (open, close) = if flattened {
            ("", "")
        } else {
            ("$scope module gate $end\n", "$upscope $end\n")
        };
        // Edges sample the values of times 0, 10, 20, 30: valid_in high at 0, 20 and 30;
        // enable low at 30; `acc` one enabled edge ahead (GateUnit::ACC_LEAD): -3 at 10 for
        // the row at 20 (none before the row at 0: 0).
        format!(
            "$timescale 1ps $end\n$scope module TOP $end\n$var wire 1 ! clock $end\n\
             $scope module core $end\n{open}{vars}{close}$upscope $end\n$upscope $end\n\
             $enddefinitions $end\n\
             #0\n0!\n1\"\nb101 #\nb1 $\nb10 %\n1&\n#5\n1!\n\
             #10\n0!\n0\"\nb11111111111111111111111111111101 #\n#15\n1!\n\
             #20\n0!\n1\"\nb1000 #\n#25\n1!\n\
             #30\n0!\n0&\n#35\n1!\n"
        )
    }

    fn read(text: &str) -> Result<GateTrace, SimError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.vcd");
        std::fs::write(&path, text).unwrap();
        read_gate_inputs(&path)
    }

    #[test]
    fn gate_inputs_are_read_at_the_edges_where_valid_in_is_high() {
        for flattened in [false, true] {
            let trace = read(&vcd_text(flattened, true, true)).unwrap();
            assert_eq!(trace.scope, "TOP.core.gate");
            assert_eq!(trace.acc_width, 32);
            let got: Vec<(u64, i64, u64, u64)> = trace
                .samples
                .iter()
                .map(|s| (s.time, sign_extend(s.acc, 32), s.k, s.v))
                .collect();
            assert_eq!(GateUnit::ACC_LEAD, 1);
            assert_eq!(got, vec![(0, 0, 1, 2), (20, -3, 1, 2)]);
        }
        // valid_in stays high at time 30, where `enable` is low: without an `enable` signal
        // that edge counts too.
        let trace = read(&vcd_text(false, true, false)).unwrap();
        let times: Vec<u64> = trace.samples.iter().map(|s| s.time).collect();
        assert_eq!(times, vec![0, 20, 30]);
    }

    #[test]
    fn missing_gate_signals_are_a_clear_error() {
        let err = read(&vcd_text(false, false, true)).unwrap_err().to_string();
        assert!(err.contains("no gate-unit signals"), "{err}");
        assert!(
            err.contains("TOP.core.gate (acc, enable, v, valid_in)"),
            "{err}"
        );
        let err = read("not a vcd").unwrap_err().to_string();
        assert!(err.contains("t.vcd"), "{err}");
    }

    #[test]
    fn stages_are_named_in_order_and_counted_per_row() {
        let cfg = HgfConfig::from_toml_str(
            "name = \"t\"\nmax_d_in = 6\nmax_d_out = 3\nmax_rank = 1\narray_rows = 1\narray_inputs = 5\nfp_lanes = 1",
        )
        .unwrap();
        let golden = HgfProjection::new(&cfg, HgfWeights::random(cfg.max_shape(), 4)).unwrap();
        let x: Vec<f16> = (0..6).map(|i| f16::from_f32(i as f32 - 2.5)).collect();
        let t = golden.run_token(&x);
        let exact: Vec<GateSample> = (0..3)
            .map(|j| GateSample {
                time: 10 * j as u64,
                acc: t.acc[j] as u32 as u64,
                k: u64::from(t.k.to_bits()),
                v: u64::from(t.v[j].to_bits()),
            })
            .collect();
        let trace = |samples: Vec<GateSample>| GateTrace {
            scope: "TOP.t.gate".into(),
            acc_width: 32,
            samples,
        };
        let r = locate_stage(&trace(exact.clone()), &t, 0, 1).unwrap();
        assert_eq!(
            (r.stage, r.difference, r.rows_differing, r.time),
            (Stage::Gate, None, 0, 10)
        );

        let mut wrong = exact.clone();
        wrong[1].acc = (t.acc[1] + 1) as u32 as u64;
        wrong[1].v ^= 1;
        let r = locate_stage(&trace(wrong.clone()), &t, 0, 1).unwrap();
        assert_eq!(r.stage, Stage::TernaryFlow);
        let d = r.difference.unwrap();
        assert_eq!(
            (d.rtl, d.golden),
            (i64::from(t.acc[1] + 1), i64::from(t.acc[1]))
        );
        assert_eq!(r.rows_differing, 1);
        for s in &mut wrong {
            s.k ^= 1;
        }
        let r = locate_stage(&trace(wrong.clone()), &t, 0, 1).unwrap();
        assert_eq!((r.stage, r.rows_differing), (Stage::Quantizer, 3));
        // Row 0 differs in k only.
        let r = locate_stage(&trace(wrong), &t, 0, 0).unwrap();
        assert_eq!(r.difference.map(|d| d.signal), Some("k"));

        let err = locate_stage(&trace(exact[..2].to_vec()), &t, 0, 1).unwrap_err();
        assert!(
            err.contains("took 2 rows") && err.contains("d_out = 3"),
            "{err}"
        );
    }

    #[test]
    fn a_ternary_only_projection_is_diagnosed_without_a_golden_v() {
        let cfg = HgfConfig::from_toml_str(
            "name = \"t\"\nmax_d_in = 6\nmax_d_out = 3\nmax_rank = 1\narray_rows = 1\narray_inputs = 5\nfp_lanes = 1",
        )
        .unwrap();
        let w = HgfWeights::random(hgf_golden::Shape::new(6, 3, 0), 4);
        let golden = HgfProjection::new(&cfg, w).unwrap();
        let x: Vec<f16> = (0..6).map(|i| f16::from_f32(i as f32 - 2.5)).collect();
        let t = golden.run_token(&x);
        assert!(t.v.is_empty(), "rank 0 has no low-rank flow");
        let mut samples: Vec<GateSample> = (0..3)
            .map(|j| GateSample {
                time: 10 * j as u64,
                acc: t.acc[j] as u32 as u64,
                k: u64::from(t.k.to_bits()),
                // Whatever the core feeds the gate's v input at rank 0 is not compared.
                v: 0x8000_0000,
            })
            .collect();
        let trace = |samples: Vec<GateSample>| GateTrace {
            scope: "TOP.t.gate".into(),
            acc_width: 32,
            samples,
        };
        let r = locate_stage(&trace(samples.clone()), &t, 0, 2).unwrap();
        assert_eq!((r.stage, r.rows_differing), (Stage::Gate, 0));
        samples[2].acc ^= 1;
        let r = locate_stage(&trace(samples), &t, 0, 2).unwrap();
        assert_eq!((r.stage, r.rows_differing), (Stage::TernaryFlow, 1));
    }

    #[test]
    fn comparison_counts_every_difference_and_every_missing_output() {
        let expected = vec![vec![1, 2, 3], vec![4, 5, 6]];
        let c = compare(&expected, &[vec![1, 2, 3], vec![4, 9, 6]]);
        assert_eq!((c.outputs_compared, c.mismatches), (6, 1));
        assert_eq!(
            c.first,
            Some(Mismatch {
                token: 1,
                output: 1,
                rtl: 9,
                golden: 5
            })
        );
        let c = compare(&expected, &[vec![1, 2]]);
        assert_eq!((c.outputs_compared, c.mismatches, c.first), (2, 4, None));
    }
}
