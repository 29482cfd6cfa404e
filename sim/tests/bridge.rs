//! Co-simulation tests of the bridge itself, on one small rust-hdl design ([`Mix`]) that has
//! every kind of port the core will have: a clock, 1-bit controls, an 8-bit input, a 136-bit
//! bus (wider than 128 bits, and not a multiple of 32, so the top word is partial), signed
//! ports, and a port array whose Verilog names contain `$`.
//!
//! Verilator is compared with two references: a plain-Rust model of [`Mix`] (catches bridge
//! bugs: wrong words, masks, port indices, clocking) and rust-hdl's own simulation of the
//! same block (catches Verilog-generation bugs of rust-hdl, which its simulator does not see).

use std::path::Path;

use hgf_sim::{BuildOptions, CacheOutcome, Model, PortId, SimError, VerilatedLib};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;

/// Test block (`Mix`): registered accumulators plus combinational expressions that mix
/// shifts, adds, comparisons and bit operations.
///
/// **Function.** On each rising `clock`: if `reset`, `acc`, `wide_acc`, `sacc` <- 0; else if
/// `en`, `acc += din`, `wide_acc += wide_in` (mod 2^136), `sacc += sin` (mod 2^16). The
/// combinational outputs are given by [`Golden::outputs`].
///
/// | port | dir | bits | meaning |
/// |---|---|---|---|
/// | `clock` | in | 1 | rising edge |
/// | `reset`, `en` | in | 1 | synchronous reset, enable |
/// | `din` | in | 8 | accumulated into `acc` |
/// | `shamt` | in | 3 | shift amount of `blend`, `wide_mix` |
/// | `sin` | in | 16 signed | accumulated into `sacc` |
/// | `wide_in` | in | 136 | accumulated into `wide_acc` |
/// | `acc` | out | 8 | register |
/// | `sacc`, `sneg` | out | 16 signed | register, `-sin` |
/// | `wide_acc`, `wide_mix` | out | 136 | register, `(wide_acc ^ wide_in) >> shamt` |
/// | `blend` | out | 16 | shifts, adds and bit operations (a port may not share the top's name in Verilator) |
/// | `flags_0..3` | out | 1 each | comparisons (masked equality, sum less-than, signed and wide compares) |
///
/// **Latency** 1 cycle for the registers, 0 for the rest. **Golden** [`Golden`].
#[derive(LogicBlock, Default)]
struct Mix {
    clock: Signal<In, Clock>,
    reset: Signal<In, Bit>,
    en: Signal<In, Bit>,
    din: Signal<In, Bits<8>>,
    shamt: Signal<In, Bits<3>>,
    sin: Signal<In, Signed<16>>,
    wide_in: Signal<In, Bits<136>>,
    acc: Signal<Out, Bits<8>>,
    sacc: Signal<Out, Signed<16>>,
    sneg: Signal<Out, Signed<16>>,
    wide_acc: Signal<Out, Bits<136>>,
    wide_mix: Signal<Out, Bits<136>>,
    blend: Signal<Out, Bits<16>>,
    flags: [Signal<Out, Bit>; 4],
    d16: Signal<Local, Bits<16>>,
    a16: Signal<Local, Bits<16>>,
    acc_r: DFF<Bits<8>>,
    sacc_r: DFF<Signed<16>>,
    wide_r: DFF<Bits<136>>,
}

// `mix` deliberately leans on operator precedence where Rust and Verilog agree.
#[allow(clippy::precedence)]
impl Logic for Mix {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, acc_r, sacc_r, wide_r);
        if self.reset.val() {
            self.acc_r.d.next = 0.into();
            self.sacc_r.d.next = 0.into();
            self.wide_r.d.next = 0.into();
        } else if self.en.val() {
            self.acc_r.d.next = self.acc_r.q.val() + self.din.val();
            self.sacc_r.d.next = self.sacc_r.q.val() + self.sin.val();
            self.wide_r.d.next = self.wide_r.q.val() + self.wide_in.val();
        }
        self.acc.next = self.acc_r.q.val();
        self.sacc.next = self.sacc_r.q.val();
        self.sneg.next = -self.sin.val();
        self.wide_acc.next = self.wide_r.q.val();
        self.wide_mix.next = (self.wide_r.q.val() ^ self.wide_in.val()) >> self.shamt.val();
        self.d16.next = bit_cast::<16, 8>(self.din.val());
        self.a16.next = bit_cast::<16, 8>(self.acc_r.q.val());
        // `+` before `<<` before `&` before `^` before `|` in both Rust and Verilog.
        self.blend.next = (self.d16.val() << self.shamt.val()) + self.a16.val() << 1
            ^ self.d16.val() & self.a16.val()
            | (self.a16.val() >> 3);
        // Verilog binds comparisons tighter than `&`, Rust looser: rust-hdl emits no
        // parentheses of its own (upstream issue 22), so these need explicit ones.
        self.flags[0].next = (self.din.val() & 15) == (self.acc_r.q.val() & 15);
        self.flags[1].next = self.d16.val() + self.a16.val() < (self.a16.val() << 1);
        self.flags[2].next = self.sin.val() < self.sacc_r.q.val();
        self.flags[3].next = self.wide_in.val() > self.wide_r.q.val();
    }
}

/// An unsigned 136-bit value (the width of `Mix`'s bus): `hi:lo`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
struct W136 {
    hi: u8,
    lo: u128,
}

impl W136 {
    const ONES: W136 = W136 {
        hi: u8::MAX,
        lo: u128::MAX,
    };

    fn wrapping_add(self, o: W136) -> W136 {
        let (lo, carry) = self.lo.overflowing_add(o.lo);
        W136 {
            hi: self.hi.wrapping_add(o.hi).wrapping_add(u8::from(carry)),
            lo,
        }
    }

    fn xor(self, o: W136) -> W136 {
        W136 {
            hi: self.hi ^ o.hi,
            lo: self.lo ^ o.lo,
        }
    }

    /// Logical shift right by `s` < 8.
    fn shr(self, s: u32) -> W136 {
        if s == 0 {
            return self;
        }
        W136 {
            hi: self.hi >> s,
            lo: (self.lo >> s) | (u128::from(self.hi) << (128 - s)),
        }
    }

    /// Little-endian 32-bit words, as the bridge moves them.
    fn words(self) -> [u32; 5] {
        let mut w = [0u32; 5];
        for (i, word) in w.iter_mut().take(4).enumerate() {
            *word = (self.lo >> (32 * i)) as u32;
        }
        w[4] = u32::from(self.hi);
        w
    }

    fn from_words(w: &[u32]) -> W136 {
        assert_eq!(w.len(), 5, "a 136-bit port has 5 words");
        let lo = (0..4).fold(0u128, |acc, i| acc | (u128::from(w[i]) << (32 * i)));
        assert!(w[4] <= 0xff, "bits above 136 are set: {:#x}", w[4]);
        W136 { hi: w[4] as u8, lo }
    }

    fn to_bits(self) -> Bits<136> {
        let mut b = Bits::<136>::default();
        for (i, w) in self.words().iter().take(4).enumerate() {
            b.set_bits::<32>(32 * i, u64::from(*w).into());
        }
        b.set_bits::<8>(128, u64::from(self.hi).into());
        b
    }

    fn from_bits(b: Bits<136>) -> W136 {
        let mut w = [0u32; 5];
        for (i, word) in w.iter_mut().take(4).enumerate() {
            *word = b.get_bits::<32>(32 * i).to_u32();
        }
        w[4] = b.get_bits::<8>(128).to_u32();
        W136::from_words(&w)
    }
}

/// One cycle's inputs.
#[derive(Clone, Copy, Debug, Default)]
struct Stim {
    reset: bool,
    en: bool,
    din: u8,
    shamt: u8,
    sin: i16,
    wide_in: W136,
}

/// Every output of `Mix` after a clock edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Outs {
    acc: u8,
    sacc: i16,
    sneg: i16,
    wide_acc: W136,
    wide_mix: W136,
    blend: u16,
    flags: [bool; 4],
}

/// Plain-Rust model of `Mix`.
#[derive(Clone, Debug, Default)]
struct Golden {
    acc: u8,
    sacc: i16,
    wide: W136,
}

impl Golden {
    /// The rising edge.
    fn clock(&mut self, s: &Stim) {
        if s.reset {
            *self = Golden::default();
        } else if s.en {
            self.acc = self.acc.wrapping_add(s.din);
            self.sacc = self.sacc.wrapping_add(s.sin);
            self.wide = self.wide.wrapping_add(s.wide_in);
        }
    }

    /// Outputs for the current state and inputs.
    fn outputs(&self, s: &Stim) -> Outs {
        let (d16, a16) = (u16::from(s.din), u16::from(self.acc));
        let shifted = d16.wrapping_shl(u32::from(s.shamt));
        let blend = (shifted.wrapping_add(a16).wrapping_shl(1) ^ (d16 & a16)) | (a16 >> 3);
        Outs {
            acc: self.acc,
            sacc: self.sacc,
            sneg: s.sin.wrapping_neg(),
            wide_acc: self.wide,
            wide_mix: self.wide.xor(s.wide_in).shr(u32::from(s.shamt)),
            blend,
            flags: [
                (s.din & 15) == (self.acc & 15),
                d16.wrapping_add(a16) < a16.wrapping_shl(1),
                s.sin < self.sacc,
                s.wide_in > self.wide,
            ],
        }
    }
}

/// The Verilog of `Mix`, with top module `mix`.
fn mix_verilog() -> String {
    let mut uut = Mix::default();
    uut.connect_all();
    match hgf_hdl::verilog::emit_named(&uut, "mix") {
        Ok(v) => v,
        Err(e) => panic!("rust-hdl could not emit Mix: {e}"),
    }
}

/// `Mix` verilated with tracing and the default cache (built once per cache, then reused by
/// every test and every later run).
fn mix_lib() -> Result<VerilatedLib, SimError> {
    let opts = BuildOptions {
        trace: true,
        ..BuildOptions::default()
    };
    let lib = VerilatedLib::build(&mix_verilog(), "mix", &opts)?;
    println!(
        "mix: {:?} in {:.2} s ({})",
        lib.outcome(),
        lib.elapsed().as_secs_f64(),
        lib.cache_dir().display()
    );
    Ok(lib)
}

/// The ports of `Mix`, looked up once.
struct MixPorts {
    clock: PortId,
    reset: PortId,
    en: PortId,
    din: PortId,
    shamt: PortId,
    sin: PortId,
    wide_in: PortId,
    acc: PortId,
    sacc: PortId,
    sneg: PortId,
    wide_acc: PortId,
    wide_mix: PortId,
    blend: PortId,
    flags: [PortId; 4],
}

/// `Mix` under Verilator.
struct Rtl {
    m: Model,
    p: MixPorts,
}

impl Rtl {
    fn new(lib: &VerilatedLib) -> Result<Self, SimError> {
        let m = Model::new(lib)?;
        let p = MixPorts {
            clock: m.port("clock")?,
            reset: m.port("reset")?,
            en: m.port("en")?,
            din: m.port("din")?,
            shamt: m.port("shamt")?,
            sin: m.port("sin")?,
            wide_in: m.port("wide_in")?,
            acc: m.port("acc")?,
            sacc: m.port("sacc")?,
            sneg: m.port("sneg")?,
            wide_acc: m.port("wide_acc")?,
            wide_mix: m.port("wide_mix")?,
            blend: m.port("blend")?,
            flags: [
                m.port("flags_0")?,
                m.port("flags_1")?,
                m.port("flags_2")?,
                m.port("flags_3")?,
            ],
        };
        Ok(Self { m, p })
    }

    /// Applies `s` and one clock cycle; returns the outputs after the edge.
    fn cycle(&mut self, s: &Stim) -> Result<Outs, SimError> {
        let (m, p) = (&mut self.m, &self.p);
        m.set(p.reset, u64::from(s.reset))?;
        m.set(p.en, u64::from(s.en))?;
        m.set(p.din, u64::from(s.din))?;
        m.set(p.shamt, u64::from(s.shamt))?;
        m.set(p.sin, u64::from(s.sin as u16))?;
        m.set_wide(p.wide_in, &s.wide_in.words())?;
        m.tick(p.clock)?;
        Ok(Outs {
            acc: m.get(p.acc) as u8,
            sacc: m.get_signed(p.sacc) as i16,
            sneg: m.get_signed(p.sneg) as i16,
            wide_acc: W136::from_words(&m.get_wide(p.wide_acc)),
            wide_mix: W136::from_words(&m.get_wide(p.wide_mix)),
            blend: m.get(p.blend) as u16,
            flags: p.flags.map(|f| m.get(f) != 0),
        })
    }
}

/// `Mix` under rust-hdl's own simulator, driven by `hgf_hdl::harness`.
struct HdlSim {
    uut: Mix,
}

impl HdlSim {
    fn new() -> Self {
        let mut uut = Mix::default();
        uut.connect_all();
        Self { uut }
    }

    fn cycle(&mut self, s: &Stim) -> Outs {
        let u = &mut self.uut;
        u.reset.next = s.reset;
        u.en.next = s.en;
        u.din.next = u64::from(s.din).into();
        u.shamt.next = u64::from(s.shamt).into();
        u.sin.next = signed_cast(u64::from(s.sin as u16).into());
        u.wide_in.next = s.wide_in.to_bits();
        hgf_hdl::harness::tick(u, |u| &mut u.clock);
        Outs {
            acc: u.acc.val().to_u8(),
            sacc: u.sacc.val().inner().to_u16() as i16,
            sneg: u.sneg.val().inner().to_u16() as i16,
            wide_acc: W136::from_bits(u.wide_acc.val()),
            wide_mix: W136::from_bits(u.wide_mix.val()),
            blend: u.blend.val().to_u16(),
            flags: [
                u.flags[0].val(),
                u.flags[1].val(),
                u.flags[2].val(),
                u.flags[3].val(),
            ],
        }
    }
}

/// Directed edge cases (carries out of every word, extreme signed values, reset, hold),
/// then `random` seeded random cycles.
fn stimulus(seed: u64, random: usize) -> Vec<Stim> {
    let ones = W136::ONES;
    let one = W136 { hi: 0, lo: 1 };
    let word_carry = W136 {
        hi: 0,
        lo: u128::from(u32::MAX),
    };
    let mut v = vec![
        Stim {
            reset: true,
            ..Stim::default()
        },
        Stim {
            en: true,
            din: 255,
            sin: i16::MAX,
            wide_in: ones,
            shamt: 7,
            ..Stim::default()
        },
        Stim {
            en: true,
            din: 1,
            sin: i16::MAX,
            wide_in: one,
            ..Stim::default()
        },
        Stim {
            en: true,
            din: 255,
            sin: i16::MIN,
            wide_in: word_carry,
            shamt: 1,
            ..Stim::default()
        },
        Stim {
            en: false,
            din: 77,
            sin: i16::MIN,
            wide_in: ones,
            shamt: 3,
            ..Stim::default()
        },
        Stim {
            en: true,
            din: 0,
            sin: -1,
            wide_in: W136 { hi: 0x80, lo: 0 },
            shamt: 7,
            ..Stim::default()
        },
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for _ in 0..random {
        let wide_in = match rng.random_range(0..8) {
            0 => ones,
            1 => W136::default(),
            _ => W136 {
                hi: rng.random(),
                lo: rng.random(),
            },
        };
        let sin = match rng.random_range(0..16) {
            0 => i16::MIN,
            1 => i16::MAX,
            _ => rng.random(),
        };
        v.push(Stim {
            reset: rng.random_range(0..64) == 0,
            en: rng.random_range(0..8) != 0,
            din: rng.random(),
            shamt: rng.random_range(0..8),
            sin,
            wide_in,
        });
    }
    v
}

/// Mismatches between the design and a reference, reported in the house format
/// (`mix: 3/10000 mismatch (seed 0x5eed), first #1187: ...`); keeps the first 20.
struct Mismatches {
    what: &'static str,
    seed: u64,
    compared: usize,
    count: usize,
    first: Vec<String>,
}

impl Mismatches {
    fn new(what: &'static str, seed: u64) -> Self {
        Self {
            what,
            seed,
            compared: 0,
            count: 0,
            first: Vec::new(),
        }
    }

    fn check(&mut self, i: usize, s: &Stim, rtl: &Outs, reference: &Outs) {
        self.compared += 1;
        if rtl != reference {
            self.count += 1;
            if self.first.len() < 20 {
                self.first.push(format!(
                    "#{i}: {s:?}\n    rtl={rtl:?}\n    ref={reference:?}"
                ));
            }
        }
    }

    /// Panics with the report unless something was compared and all of it matched.
    fn assert_clean(&self) {
        assert!(self.compared > 0, "{}: nothing was compared", self.what);
        assert!(
            self.count == 0,
            "{}: {}/{} mismatch (seed {:#x}), first {}",
            self.what,
            self.count,
            self.compared,
            self.seed,
            self.first.join("\n")
        );
        println!(
            "{}: {}/{} bit-exact (seed {:#x})",
            self.what, self.compared, self.compared, self.seed
        );
    }
}

#[test]
fn verilator_matches_the_rust_model_over_10k_cycles() -> Result<(), SimError> {
    let seed = 0x5eed_0001;
    let lib = mix_lib()?;
    let mut rtl = Rtl::new(&lib)?;
    let mut gold = Golden::default();
    let mut report = Mismatches::new("mix vs Rust model", seed);
    for (i, s) in stimulus(seed, 10_000).iter().enumerate() {
        let got = rtl.cycle(s)?;
        gold.clock(s);
        report.check(i, s, &got, &gold.outputs(s));
    }
    assert_eq!(rtl.m.cycles(), 10_006);
    report.assert_clean();
    Ok(())
}

#[test]
fn verilator_matches_rust_hdl_simulation_of_the_same_block() -> Result<(), SimError> {
    let seed = 0x5eed_0002;
    let lib = mix_lib()?;
    let mut rtl = Rtl::new(&lib)?;
    let mut hdl = HdlSim::new();
    let mut report = Mismatches::new("mix vs rust-hdl simulation", seed);
    for (i, s) in stimulus(seed, 10_000).iter().enumerate() {
        let got = rtl.cycle(s)?;
        report.check(i, s, &got, &hdl.cycle(s));
    }
    report.assert_clean();
    Ok(())
}

#[test]
fn models_in_parallel_threads_keep_their_own_state() -> Result<(), SimError> {
    let lib = mix_lib()?;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4u64)
            .map(|t| {
                let lib = &lib;
                scope.spawn(move || -> Result<usize, SimError> {
                    // Two models per thread, interleaved, on different stimulus.
                    let mut a = Rtl::new(lib)?;
                    let mut b = Rtl::new(lib)?;
                    let (sa, sb) = (stimulus(100 + t, 2_000), stimulus(200 + t, 2_000));
                    let (mut ga, mut gb) = (Golden::default(), Golden::default());
                    let mut checked = 0;
                    for (x, y) in sa.iter().zip(&sb) {
                        let (oa, ob) = (a.cycle(x)?, b.cycle(y)?);
                        ga.clock(x);
                        gb.clock(y);
                        assert_eq!(oa, ga.outputs(x), "thread {t}, model a");
                        assert_eq!(ob, gb.outputs(y), "thread {t}, model b");
                        checked += 2;
                    }
                    Ok(checked)
                })
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(result) => assert_eq!(result?, 2 * 2_006),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(())
    })
}

/// Verilator's runtime finds file descriptors (and `$time`, `$finish`, fatal errors, a new
/// VCD's time unit) through "the thread's context", which the last model created on a thread
/// used to set for good. Model `a` reads `/dev/zero` through a descriptor its own context
/// opened; after `b` is created on the same thread, a read through `b`'s context finds no
/// such descriptor (`$fgetc` gives -1), and after `b` is dropped it would read freed memory
/// (which valgrind reports).
#[test]
fn models_on_one_thread_each_use_their_own_verilator_context() -> Result<(), SimError> {
    // `fd` is a port so that Verilator keeps it (5.006 turns it into a local of each block).
    let verilog = r#"module ctxio(input wire clock, output reg [31:0] fd, output reg [31:0] c);
  initial fd = $fopen("/dev/zero", "r");
  always @(posedge clock) c <= $fgetc(fd);
endmodule
"#;
    let lib = VerilatedLib::build(verilog, "ctxio", &BuildOptions::default())?;
    let mut a = Model::new(&lib)?;
    let (clock, fd, c) = (a.port("clock")?, a.port("fd")?, a.port("c")?);
    a.tick(clock)?;
    assert_ne!(a.get(fd), 0, "$fopen failed");
    assert_eq!(a.get(c), 0, "a alone");
    let mut b = Model::new(&lib)?;
    a.tick(clock)?;
    assert_eq!(
        a.get(c),
        0,
        "a after b was created (-1: read through b's context)"
    );
    b.tick(clock)?;
    assert_eq!(b.get(c), 0, "b");
    a.tick(clock)?;
    assert_eq!(a.get(c), 0, "a after b ran");
    drop(b);
    a.tick(clock)?;
    assert_eq!(a.get(c), 0, "a after b was dropped");
    Ok(())
}

/// The number of cache entries of designs (not runtime objects, not temporaries).
fn design_entries(root: &Path) -> usize {
    std::fs::read_dir(root)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    !name.starts_with('.') && !name.starts_with("runtime-")
                })
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn second_build_is_a_cache_hit_and_changed_verilog_a_miss() -> Result<(), Box<dyn std::error::Error>>
{
    let cache = tempfile::tempdir()?;
    let opts = BuildOptions {
        cache_root: Some(cache.path().to_path_buf()),
        ..BuildOptions::default()
    };
    let verilog = mix_verilog();
    let first = VerilatedLib::build(&verilog, "mix", &opts)?;
    assert_eq!(first.outcome(), CacheOutcome::Built);
    println!(
        "first build of mix (including the Verilator runtime): {:.2} s",
        first.elapsed().as_secs_f64()
    );
    let library_mtime = std::fs::metadata(first.library_path())?.modified()?;
    let log_mtime = std::fs::metadata(first.cache_dir().join("logs/verilator.log"))?.modified()?;

    let second = VerilatedLib::build(&verilog, "mix", &opts)?;
    assert_eq!(second.outcome(), CacheOutcome::Reused);
    assert!(!second.was_built());
    assert_eq!(second.cache_dir(), first.cache_dir());
    assert_eq!(
        std::fs::metadata(second.library_path())?.modified()?,
        library_mtime
    );
    assert_eq!(
        std::fs::metadata(second.cache_dir().join("logs/verilator.log"))?.modified()?,
        log_mtime,
        "verilator ran again"
    );
    println!("cache hit: {:.3} s", second.elapsed().as_secs_f64());
    assert_eq!(design_entries(cache.path()), 1);

    // Any change to the text is a new design, even one Verilator would ignore.
    let changed = format!("{verilog}\n// changed\n");
    let third = VerilatedLib::build(&changed, "mix", &opts)?;
    assert_eq!(third.outcome(), CacheOutcome::Built);
    assert_ne!(third.cache_dir(), first.cache_dir());
    println!(
        "build of changed mix (runtime reused): {:.2} s",
        third.elapsed().as_secs_f64()
    );
    assert_eq!(design_entries(cache.path()), 2);

    // Both libraries are usable side by side.
    let (mut a, mut b) = (Rtl::new(&first)?, Rtl::new(&third)?);
    let s = Stim {
        en: true,
        din: 9,
        ..Stim::default()
    };
    assert_eq!(a.cycle(&s)?, b.cycle(&s)?);
    assert_eq!(a.m.get(a.p.acc), 9);
    Ok(())
}

/// Folds a VCD vector (most significant bit first) into an integer; `None` for x/z bits.
fn vcd_value(bits: &vcd::Vector) -> Option<u128> {
    bits.iter().try_fold(0u128, |acc, v| match v {
        vcd::Value::V0 => Some(acc << 1),
        vcd::Value::V1 => Some((acc << 1) | 1),
        _ => None,
    })
}

#[test]
fn vcd_trace_is_readable_and_has_the_top_ports() -> Result<(), Box<dyn std::error::Error>> {
    let lib = mix_lib()?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("mix.vcd");
    let mut rtl = Rtl::new(&lib)?;
    rtl.m.trace_open(&path)?;
    let stim = stimulus(0x5eed_0003, 200);
    let mut last = None;
    for s in &stim {
        last = Some(rtl.cycle(s)?);
    }
    let last = last.ok_or("no cycle ran")?;
    assert_eq!(rtl.m.trace_close(), Some(path.clone()));

    let mut parser = vcd::Parser::new(std::io::BufReader::new(std::fs::File::open(&path)?));
    let header = parser.parse_header()?;
    println!("VCD timescale: {:?}", header.timescale);
    assert!(header.timescale.is_some(), "no $timescale in the VCD");
    // Verilator puts the ports in scope TOP, and the module's signals in TOP.mix.
    for port in lib.ports() {
        assert!(
            header.find_var(&["TOP", port.name.as_str()]).is_some(),
            "port `{}` missing from the VCD",
            port.name
        );
    }
    assert!(header.find_var(&["TOP", "mix", "flags_3"]).is_some());
    assert!(header.find_var(&["TOP", "mix", "acc_r_q"]).is_some());

    // The last value of `acc` and `blend` in the trace is what the model reports.
    let acc = header.find_var(&["TOP", "acc"]).ok_or("acc")?.code;
    let blend = header.find_var(&["TOP", "blend"]).ok_or("blend")?.code;
    let (mut acc_v, mut blend_v, mut changes, mut stamps) = (None, None, 0usize, 0usize);
    for cmd in parser {
        match cmd? {
            vcd::Command::ChangeVector(id, v) if id == acc => acc_v = vcd_value(&v),
            vcd::Command::ChangeVector(id, v) if id == blend => blend_v = vcd_value(&v),
            vcd::Command::Timestamp(_) => stamps += 1,
            _ => {}
        }
        changes += 1;
    }
    assert_eq!(acc_v, Some(u128::from(last.acc)));
    assert_eq!(blend_v, Some(u128::from(last.blend)));
    assert_eq!(stamps, 2 * stim.len(), "one time stamp per half cycle");
    assert!(changes > 1000, "only {changes} VCD commands");

    // A second trace can be opened after the first is closed.
    let again = dir.path().join("again.vcd");
    rtl.m.trace_open(&again)?;
    rtl.cycle(&Stim::default())?;
    rtl.m.trace_close();
    assert!(std::fs::metadata(&again)?.len() > 0);
    Ok(())
}

#[test]
fn unknown_port_names_are_a_clear_error() -> Result<(), SimError> {
    let lib = mix_lib()?;
    let m = Model::new(&lib)?;
    let err = m.port("flags_9").expect_err("flags_9 does not exist");
    let text = err.to_string();
    assert!(matches!(err, SimError::UnknownPort { .. }), "{text}");
    for expected in [
        "`mix`",
        "`flags_9`",
        "clock[1] in",
        "wide_in[136] in",
        "flags_3[1] out",
    ] {
        assert!(text.contains(expected), "`{expected}` not in: {text}");
    }
    Ok(())
}

#[test]
fn values_wider_than_the_port_outputs_and_bad_clocks_are_errors() -> Result<(), SimError> {
    let lib = mix_lib()?;
    let mut rtl = Rtl::new(&lib)?;
    let p = &rtl.p;
    let m = &mut rtl.m;
    assert!(matches!(
        m.set(p.din, 256),
        Err(SimError::ValueTooWide {
            width: 8,
            needed: 9,
            ..
        })
    ));
    assert!(matches!(
        m.set(p.shamt, 8),
        Err(SimError::ValueTooWide {
            width: 3,
            needed: 4,
            ..
        })
    ));
    assert!(matches!(
        m.set_wide(p.wide_in, &[0, 0, 0, 0, 0x100]),
        Err(SimError::ValueTooWide {
            width: 136,
            needed: 137,
            ..
        })
    ));
    assert!(matches!(
        m.set_wide(p.wide_in, &[0, 0, 0, 0, 0, 1]),
        Err(SimError::ValueTooWide {
            width: 136,
            needed: 161,
            ..
        })
    ));
    assert!(matches!(m.set(p.acc, 1), Err(SimError::NotAnInput { .. })));
    assert!(matches!(m.tick(p.din), Err(SimError::NotAClock { .. })));
    // The largest values fit, and a short slice is zero-extended.
    m.set(p.din, 255)?;
    m.set_wide(p.wide_in, &[1, 2, 3, 4, 0xff])?;
    assert_eq!(m.get_wide(p.wide_in), vec![1, 2, 3, 4, 0xff]);
    m.set_wide(p.wide_in, &[7])?;
    assert_eq!(m.get_wide(p.wide_in), vec![7, 0, 0, 0, 0]);
    m.set(p.wide_in, u64::MAX)?;
    assert_eq!(m.get_wide(p.wide_in), vec![u32::MAX, u32::MAX, 0, 0, 0]);
    Ok(())
}

#[test]
fn half_cycles_show_the_response_before_the_edge_and_count_only_rising_edges(
) -> Result<(), SimError> {
    let lib = mix_lib()?;
    let mut rtl = Rtl::new(&lib)?;
    let mut gold = Golden::default();
    let reset = Stim {
        reset: true,
        ..Stim::default()
    };
    rtl.cycle(&reset)?;
    gold.clock(&reset);
    let s = Stim {
        en: true,
        din: 5,
        shamt: 2,
        sin: -3,
        wide_in: W136 { hi: 1, lo: 7 },
        ..Stim::default()
    };
    let (m, p) = (&mut rtl.m, &rtl.p);
    m.set(p.reset, 0)?;
    m.set(p.en, 1)?;
    m.set(p.din, 5)?;
    m.set(p.shamt, 2)?;
    m.set(p.sin, u64::from((-3i16) as u16))?;
    m.set_wide(p.wide_in, &s.wide_in.words())?;
    // Clock low: the outputs answer the new inputs, the registers have not moved.
    m.clock_low(p.clock)?;
    let before = gold.outputs(&s);
    assert_eq!(m.get(p.acc), u64::from(before.acc));
    assert_eq!(m.get(p.blend), u64::from(before.blend));
    assert_eq!(m.get_signed(p.sneg), i64::from(before.sneg));
    assert_eq!(m.get(p.flags[0]) != 0, before.flags[0]);
    assert_eq!(m.cycles(), 1);
    // The rising edge loads them.
    m.clock_high(p.clock)?;
    gold.clock(&s);
    assert_eq!(m.get(p.acc), 5);
    assert_eq!(m.get(p.acc), u64::from(gold.acc));
    assert_eq!(m.cycles(), 2);
    // Clock already high: no edge, nothing loads, no cycle counted.
    m.clock_high(p.clock)?;
    assert_eq!(m.get(p.acc), 5);
    assert_eq!(m.cycles(), 2);
    m.clock_low(p.clock)?;
    m.clock_high(p.clock)?;
    assert_eq!(m.get(p.acc), 10);
    assert_eq!(m.cycles(), 3);
    assert!(matches!(
        m.clock_low(p.din),
        Err(SimError::NotAClock { .. })
    ));
    Ok(())
}

#[test]
fn input_groups_set_narrow_inputs_together_with_the_checks_of_set() -> Result<(), SimError> {
    let lib = mix_lib()?;
    let mut rtl = Rtl::new(&lib)?;
    let (m, p) = (&mut rtl.m, &rtl.p);
    let group = m.input_group(&[p.din, p.shamt, p.en])?;
    assert_eq!(group.len(), 3);
    m.set_group(&group, &[200, 7, 1])?;
    assert_eq!([m.get(p.din), m.get(p.shamt), m.get(p.en)], [200, 7, 1]);
    // The values reach the design: acc loads din at the edge.
    m.set(p.reset, 0)?;
    m.tick(p.clock)?;
    assert_eq!(m.get(p.acc), 200);
    // A value too wide for its port sets nothing.
    assert!(matches!(
        m.set_group(&group, &[1, 8, 0]),
        Err(SimError::ValueTooWide {
            width: 3,
            needed: 4,
            ..
        })
    ));
    assert_eq!([m.get(p.din), m.get(p.shamt), m.get(p.en)], [200, 7, 1]);
    assert!(matches!(
        m.set_group(&group, &[1, 2]),
        Err(SimError::Driver(_))
    ));
    // Outputs and ports wider than 32 bits cannot join a group.
    assert!(matches!(
        m.input_group(&[p.din, p.acc]),
        Err(SimError::NotAnInput { .. })
    ));
    assert!(matches!(
        m.input_group(&[p.wide_in]),
        Err(SimError::Driver(_))
    ));
    assert!(m.input_group(&[])?.is_empty());
    Ok(())
}

#[test]
fn untraced_builds_refuse_to_trace() -> Result<(), Box<dyn std::error::Error>> {
    let opts = BuildOptions {
        trace: false,
        ..BuildOptions::default()
    };
    let lib = VerilatedLib::build(&mix_verilog(), "mix", &opts)?;
    assert!(!lib.traced());
    let mut rtl = Rtl::new(&lib)?;
    let dir = tempfile::tempdir()?;
    let err = rtl
        .m
        .trace_open(dir.path().join("x.vcd"))
        .expect_err("no --trace");
    assert!(err.to_string().contains("without tracing"), "{err}");
    // It still simulates.
    let s = Stim {
        en: true,
        din: 5,
        ..Stim::default()
    };
    let mut gold = Golden::default();
    gold.clock(&s);
    assert_eq!(rtl.cycle(&s)?, gold.outputs(&s));
    Ok(())
}

#[test]
fn verilator_errors_name_the_log_and_quote_it() -> Result<(), Box<dyn std::error::Error>> {
    let cache = tempfile::tempdir()?;
    let opts = BuildOptions {
        cache_root: Some(cache.path().to_path_buf()),
        ..BuildOptions::default()
    };
    let broken = "module broken(input wire a, output wire b);\n  assign b = a +;\nendmodule\n";
    let err = VerilatedLib::build(broken, "broken", &opts).expect_err("syntax error");
    let SimError::ToolFailed {
        tool, log, excerpt, ..
    } = &err
    else {
        panic!("expected ToolFailed, got {err}");
    };
    assert_eq!(*tool, "verilator");
    assert!(log.is_file(), "log {} not kept", log.display());
    assert!(log.starts_with(cache.path()));
    assert!(excerpt.contains("%Error"), "{excerpt}");
    assert!(err.to_string().contains(&log.display().to_string()));
    assert_eq!(design_entries_complete(cache.path()), 0);
    // A top that cannot name a C++ class is refused before any tool runs.
    assert!(matches!(
        VerilatedLib::build(broken, "bro$ken", &opts),
        Err(SimError::InvalidTop { .. })
    ));
    Ok(())
}

/// Complete design entries (a failed build leaves only `failed-<key>`).
fn design_entries_complete(root: &Path) -> usize {
    std::fs::read_dir(root)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.path().join("COMPLETE").is_file())
                .filter(|e| !e.file_name().to_string_lossy().starts_with("runtime-"))
                .count()
        })
        .unwrap_or(0)
}

/// rust-hdl 0.46 writes binary operators without parentheses and literals as 32-bit
/// constants, so some Rust expressions mean something else in its Verilog:
/// - `a & b == c` is `(a & b) == c` in Rust but `a & (b == c)` in Verilog (upstream issue 22);
/// - `(a + 200) >> 1` wraps at 8 bits in Rust, but the 32-bit literal widens the Verilog sum,
///   so its carry is shifted into bit 7.
///
/// rust-hdl's simulator runs the Rust meaning, Verilator the Verilog one.
#[derive(LogicBlock, Default)]
struct Precedence {
    a: Signal<In, Bits<8>>,
    b: Signal<In, Bits<8>>,
    c: Signal<In, Bits<8>>,
    masked_eq: Signal<Out, Bit>,
    half_sum: Signal<Out, Bits<8>>,
}

// The missing parentheses are the point of this block.
#[allow(clippy::precedence)]
impl Logic for Precedence {
    #[hdl_gen]
    fn update(&mut self) {
        self.masked_eq.next = self.a.val() & self.b.val() == self.c.val();
        self.half_sum.next = (self.a.val() + 200) >> 1;
    }
}

/// The guard works: co-simulating against rust-hdl's simulator finds both known
/// Verilog-generation bugs. If this test fails, rust-hdl has changed how it emits these
/// expressions; make `Mix`-style parentheses optional only after checking why.
#[test]
fn rust_hdl_comparison_catches_known_verilog_generation_bugs(
) -> Result<(), Box<dyn std::error::Error>> {
    let mut uut = Precedence::default();
    uut.connect_all();
    let verilog = hgf_hdl::verilog::emit_named(&uut, "precedence")?;
    assert!(
        verilog.contains("masked_eq = a & b == c;"),
        "rust-hdl now emits: {verilog}"
    );
    let lib = VerilatedLib::build(&verilog, "precedence", &BuildOptions::default())?;
    let mut m = Model::new(&lib)?;
    let (a, b, c) = (m.port("a")?, m.port("b")?, m.port("c")?);
    let (masked_eq, half_sum) = (m.port("masked_eq")?, m.port("half_sum")?);
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed_0004);
    let (mut eq_diff, mut sum_diff, mut compared) = (0, 0, 0);
    for _ in 0..2_000 {
        let (va, vb): (u8, u8) = (rng.random(), rng.random());
        // Make `a & b == c` true often enough to matter.
        let vc = if rng.random_bool(0.5) {
            va & vb
        } else {
            rng.random()
        };
        uut.a.next = u64::from(va).into();
        uut.b.next = u64::from(vb).into();
        uut.c.next = u64::from(vc).into();
        hgf_hdl::harness::settle(&mut uut);
        m.set(a, u64::from(va))?;
        m.set(b, u64::from(vb))?;
        m.set(c, u64::from(vc))?;
        m.step();
        // rust-hdl's simulator implements the Rust meaning.
        assert_eq!(uut.masked_eq.val(), (va & vb) == vc);
        assert_eq!(uut.half_sum.val().to_u8(), va.wrapping_add(200) >> 1);
        // Verilator implements the Verilog meaning.
        assert_eq!(m.get(masked_eq) != 0, va & u8::from(vb == vc) & 1 != 0);
        assert_eq!(m.get(half_sum), (u64::from(va) + 200) >> 1 & 0xff);
        eq_diff += usize::from(uut.masked_eq.val() != (m.get(masked_eq) != 0));
        sum_diff += usize::from(u64::from(uut.half_sum.val().to_u8()) != m.get(half_sum));
        compared += 1;
    }
    println!(
        "precedence: masked_eq differs in {eq_diff}/{compared}, half_sum in {sum_diff}/{compared}"
    );
    assert!(eq_diff > 0 && sum_diff > 0);
    Ok(())
}
