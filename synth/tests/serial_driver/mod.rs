//! Drives the place-and-route wrapper (`hgf_hdl::pnr_wrapper`) through its 19 serial pins, as a
//! board would, and checks every output bit-exact with the golden model. Shared by the RTL
//! co-simulation (`wrapper_cosim.rs`) and the gate-level one (`gate_level_cosim.rs`), so both
//! simulate exactly the same pin activity.

use half::f16;
use hgf_golden::streams::{descriptor_beats, factor_beats, weight_beats};
use hgf_golden::{HgfConfig, HgfProjection, HgfWeights};
use hgf_hdl::pnr_wrapper::PnrWrapper;
use hgf_sim::{Model, PortId};
use ndarray::Array2;

/// Cycles one handshake may wait before the test calls it a hang.
const PATIENCE: u32 = 100_000;

/// The wrapper's pins; streams in the order s, x, t, f.
struct Pins {
    clock: PortId,
    reset: PortId,
    sdi: PortId,
    shift: [PortId; 4],
    valid: [PortId; 4],
    ready: [PortId; 4],
    y_valid: PortId,
    y_ready: PortId,
    out_load: PortId,
    sdo: PortId,
}

impl Pins {
    fn new(m: &Model) -> Pins {
        let p = |n: &str| m.port(n).unwrap_or_else(|e| panic!("{n}: {e}"));
        let each = |suffix: &str| ["s", "x", "t", "f"].map(|s| p(&format!("{s}_{suffix}")));
        Pins {
            clock: p("clock"),
            reset: p("reset"),
            sdi: p("sdi"),
            shift: each("shift"),
            valid: each("valid"),
            ready: each("ready"),
            y_valid: p("y_valid"),
            y_ready: p("y_ready"),
            out_load: p("out_load"),
            sdo: p("sdo"),
        }
    }
}

/// Loads one beat (`words[i]` for data port `i`, `width` bits each) into stream `s`'s shift
/// registers, then offers it until the core takes it.
fn send(m: &mut Model, pins: &Pins, s: usize, words: &[u64], width: usize) {
    m.set(pins.shift[s], 1).unwrap();
    for w in words.iter().rev() {
        for b in (0..width).rev() {
            m.set(pins.sdi, (w >> b) & 1).unwrap();
            m.tick(pins.clock).unwrap();
        }
    }
    m.set(pins.shift[s], 0).unwrap();
    m.set(pins.valid[s], 1).unwrap();
    let mut waited = 0;
    loop {
        m.eval();
        let taken = m.get(pins.ready[s]) == 1;
        m.tick(pins.clock).unwrap();
        if taken {
            break;
        }
        waited += 1;
        assert!(waited < PATIENCE, "stream {s} never became ready");
    }
    m.set(pins.valid[s], 0).unwrap();
}

/// Takes one output: loads it into the output shift register at the edge that transfers it,
/// then reads the 41 bits on `sdo` (y_data first).
fn receive(m: &mut Model, pins: &Pins) -> u16 {
    let mut waited = 0;
    loop {
        m.eval();
        if m.get(pins.y_valid) == 1 {
            break;
        }
        m.tick(pins.clock).unwrap();
        waited += 1;
        assert!(waited < PATIENCE, "no output");
    }
    m.set(pins.y_ready, 1).unwrap();
    m.set(pins.out_load, 1).unwrap();
    m.tick(pins.clock).unwrap();
    m.set(pins.y_ready, 0).unwrap();
    m.set(pins.out_load, 0).unwrap();
    let mut word = 0u64;
    for bit in 0..PnrWrapper::OUTPUT_REGISTER_BITS {
        m.eval();
        word |= m.get(pins.sdo) << bit;
        m.tick(pins.clock).unwrap();
    }
    (word & 0xffff) as u16
}

/// Resets the wrapper `m` (built from `cfg`), then runs `tokens` (one per row) with the
/// weights `w` through its serial pins (one descriptor, then the tokens, the weights
/// streamed again for every token), and
/// asserts that every output equals the golden model's, bit for bit. `what` names the model
/// in the failure messages. Returns the number of outputs compared.
pub fn tokens_match_golden(
    m: &mut Model,
    cfg: &HgfConfig,
    tokens: &Array2<f16>,
    w: &HgfWeights,
    what: &str,
) -> usize {
    let pins = Pins::new(m);
    m.set(pins.reset, 1).unwrap();
    for _ in 0..3 {
        m.tick(pins.clock).unwrap();
    }
    m.set(pins.reset, 0).unwrap();
    for _ in 0..2 {
        m.tick(pins.clock).unwrap();
    }

    let golden = HgfProjection::new(cfg, w.clone()).unwrap();
    let layout = cfg.layout(w.projection_shape());
    let t_beats = weight_beats(&layout, w).unwrap();
    let f_beats = factor_beats(&layout, w);
    let mut compared = 0;
    // One run: the descriptor, then every token.
    let run_tokens = u32::try_from(tokens.nrows()).expect("a run of fewer than 2^32 tokens");
    for s in descriptor_beats(w, run_tokens) {
        send(m, &pins, 0, &[u64::from(s)], 32);
    }
    for (k, token) in tokens.rows().into_iter().enumerate() {
        for x in token {
            send(m, &pins, 1, &[u64::from(x.to_bits())], 16);
        }
        for beat in &t_beats {
            let words: Vec<u64> = beat.iter().map(|&b| u64::from(b)).collect();
            send(m, &pins, 2, &words, 8);
        }
        for beat in &f_beats {
            let words: Vec<u64> = beat.iter().map(|v| u64::from(v.to_bits())).collect();
            send(m, &pins, 3, &words, 16);
        }
        let expected: Vec<f16> = golden.run_token(&token.to_vec()).y;
        for (j, gold) in expected.iter().enumerate() {
            let y = receive(m, &pins);
            assert_eq!(
                y,
                gold.to_bits(),
                "token {k} output {j}: {what} {y:#06x} golden {:#06x}",
                gold.to_bits()
            );
            compared += 1;
        }
    }
    compared
}
