//! Simulated cycles per second of a verilated design with a few hundred signals.
//!
//! `cargo bench -p hgf-sim` prints one line per configuration; nothing is asserted (wall-clock
//! speed depends on the machine). The design, [`Bank`], is 16 ternary accumulator lanes fed by
//! a 256-bit activation beat, the shape of the projection core's inner loop, written in the
//! usual rust-hdl style (one Verilog module per lane, clocks routed through `always @(*)`).
//! The figures to compare are ratios: Verilator against rust-hdl's simulator, and the cost of
//! tracing support, of a VCD, and of moving a 256-bit beat in and a result out every cycle.

use std::hint::black_box;
use std::time::Instant;

use hgf_sim::{BuildOptions, Model, SimError, VerilatedLib};
use rust_hdl::prelude::*;

/// Number of lanes of [`Bank`].
const LANES: usize = 16;

/// One ternary lane: `acc <- acc + x`, `acc - x` or `acc`, for weight code 1, 2 or 0/3.
#[derive(LogicBlock, Default)]
struct Lane {
    clock: Signal<In, Clock>,
    clear: Signal<In, Bit>,
    w: Signal<In, Bits<2>>,
    x: Signal<In, Bits<16>>,
    acc: Signal<Out, Bits<24>>,
    /// `x` sign-extended to 24 bits (manual: rust-hdl's `signed_bit_cast` recurses forever
    /// on the minimum value).
    xw: Signal<Local, Bits<24>>,
    r: DFF<Bits<24>>,
}

impl Logic for Lane {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, r);
        self.xw.next = bit_cast::<24, 16>(self.x.val());
        if self.x.val().get_bit(15) {
            self.xw.next = bit_cast::<24, 16>(self.x.val()) | 0xFF0000;
        }
        if self.clear.val() {
            self.r.d.next = 0.into();
        } else if self.w.val() == 1 {
            self.r.d.next = self.r.q.val() + self.xw.val();
        } else if self.w.val() == 2 {
            self.r.d.next = self.r.q.val() - self.xw.val();
        }
        self.acc.next = self.r.q.val();
    }
}

/// 16 lanes sharing a 256-bit beat `x` (lane `i` takes bits `16 i ..`) and packed 2-bit
/// weights.
#[derive(LogicBlock)]
struct Bank {
    clock: Signal<In, Clock>,
    clear: Signal<In, Bit>,
    weights: Signal<In, Bits<32>>,
    x: Signal<In, Bits<256>>,
    accs: [Signal<Out, Bits<24>>; LANES],
    lanes: [Lane; LANES],
}

impl Default for Bank {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            clear: Default::default(),
            weights: Default::default(),
            x: Default::default(),
            accs: std::array::from_fn(|_| Default::default()),
            lanes: std::array::from_fn(|_| Default::default()),
        }
    }
}

impl Logic for Bank {
    #[hdl_gen]
    fn update(&mut self) {
        for i in 0..LANES {
            self.lanes[i].clock.next = self.clock.val();
            self.lanes[i].clear.next = self.clear.val();
            self.lanes[i].w.next = self.weights.val().get_bits::<2>(2 * i);
            self.lanes[i].x.next = self.x.val().get_bits::<16>(16 * i);
            self.accs[i].next = self.lanes[i].acc.val();
        }
    }
}

/// A cheap deterministic word sequence (xorshift32).
fn next(state: &mut u32) -> u32 {
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    *state
}

/// Runs `cycles` cycles on a fresh model; `drive` feeds new inputs every cycle.
fn run(lib: &VerilatedLib, cycles: u64, drive: bool, vcd: bool) -> Result<f64, SimError> {
    let mut m = Model::new(lib)?;
    let (clock, clear, weights, x) = (
        m.port("clock")?,
        m.port("clear")?,
        m.port("weights")?,
        m.port("x")?,
    );
    let acc0 = m.port("accs$0")?;
    let dir = std::env::temp_dir().join(format!("hgf-sim-bench-{}", std::process::id()));
    if vcd {
        std::fs::create_dir_all(&dir).map_err(|error| SimError::Io {
            action: "creating",
            path: dir.clone(),
            error,
        })?;
        m.trace_open(dir.join("bank.vcd"))?;
    }
    m.set(clear, 0)?;
    let mut state = 0x1234_5678u32;
    let mut beat = [0u32; 8];
    m.set(weights, u64::from(next(&mut state)))?;
    let start = Instant::now();
    for _ in 0..cycles {
        if drive {
            beat.iter_mut().for_each(|w| *w = next(&mut state));
            m.set_wide(x, &beat)?;
            m.set(weights, u64::from(next(&mut state)))?;
        }
        m.tick(clock)?;
        if drive {
            black_box(m.get(acc0));
        }
    }
    let secs = start.elapsed().as_secs_f64();
    if vcd {
        m.trace_close();
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(cycles as f64 / secs)
}

/// Cycles per second of rust-hdl's own simulator on the same block.
fn run_rust_hdl(cycles: u64) -> f64 {
    let mut uut = Bank::default();
    uut.connect_all();
    let mut state = 0x1234_5678u32;
    let start = Instant::now();
    for _ in 0..cycles {
        let mut x = Bits::<256>::default();
        for i in 0..8 {
            x.set_bits::<32>(32 * i, u64::from(next(&mut state)).into());
        }
        uut.x.next = x;
        uut.weights.next = u64::from(next(&mut state)).into();
        hgf_hdl::harness::tick(&mut uut, |u| &mut u.clock);
        black_box(uut.accs[0].val());
    }
    cycles as f64 / start.elapsed().as_secs_f64()
}

/// Signals in a VCD of the design (ports and internal nets).
fn count_signals(lib: &VerilatedLib) -> Result<usize, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("count.vcd");
    let mut m = Model::new(lib)?;
    m.trace_open(&path)?;
    let clock = m.port("clock")?;
    m.tick(clock)?;
    m.trace_close();
    let mut parser = vcd::Parser::new(std::io::BufReader::new(std::fs::File::open(&path)?));
    let header = parser.parse_header()?;
    fn vars(items: &[vcd::ScopeItem]) -> usize {
        items
            .iter()
            .map(|item| match item {
                vcd::ScopeItem::Var(_) => 1,
                vcd::ScopeItem::Scope(s) => vars(&s.items),
                _ => 0,
            })
            .sum()
    }
    Ok(vars(&header.items))
}

fn mcps(x: f64) -> String {
    format!("{:8.3} M cycles/s", x / 1e6)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut uut = Bank::default();
    uut.connect_all();
    let verilog = hgf_hdl::verilog::emit_named(&uut, "bank16")?;
    let traced = VerilatedLib::build(
        &verilog,
        "bank16",
        &BuildOptions {
            trace: true,
            ..BuildOptions::default()
        },
    )?;
    println!(
        "bank16: {} Verilog lines, {} ports, {} traced signals; build {:?} in {:.2} s",
        verilog.lines().count(),
        traced.ports().len(),
        count_signals(&traced)?,
        traced.outcome(),
        traced.elapsed().as_secs_f64()
    );
    let untraced = VerilatedLib::build(&verilog, "bank16", &BuildOptions::default())?;
    println!(
        "bank16 without --trace: build {:?} in {:.2} s",
        untraced.outcome(),
        untraced.elapsed().as_secs_f64()
    );
    const N: u64 = 1_000_000;
    // Warm up caches and the CPU clock once.
    run(&traced, N / 10, true, false)?;
    println!(
        "{}  verilator, --trace build, tick only",
        mcps(run(&traced, N, false, false)?)
    );
    println!(
        "{}  verilator, --trace build, 256-bit beat + weights in, one result out per cycle",
        mcps(run(&traced, N, true, false)?)
    );
    println!(
        "{}  verilator, no --trace, tick only",
        mcps(run(&untraced, N, false, false)?)
    );
    println!(
        "{}  verilator, no --trace, 256-bit beat + weights in, one result out per cycle",
        mcps(run(&untraced, N, true, false)?)
    );
    println!(
        "{}  verilator, writing a VCD, beat in and result out",
        mcps(run(&traced, N / 20, true, true)?)
    );
    println!(
        "{}  rust-hdl simulator (hgf_hdl::harness::tick), same stimulus",
        mcps(run_rust_hdl(5_000))
    );
    Ok(())
}
