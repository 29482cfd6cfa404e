//! Verilator co-simulation bridge of hgf-hw: Verilog text in, a cycle-accurate model driven
//! from Rust out.
//!
//! Why this shape (docs: shared/reference/toolchain-notes.md §2):
//! - The `verilator`/`verilated` crates do not build against Debian's Verilator 5.006 and
//!   `marlin` needs a newer one, so the bridge is our own: run `verilator --cc`, compile its
//!   C++ with `g++` into a shared library, `dlopen` it with `libloading`.
//! - It runs at *run time*, not in a `build.rs`: a test verilates exactly the designs and
//!   configurations it uses, straight from the output of `hgf_hdl::verilog::emit_named`, and
//!   a cache (keyed by Verilog, top, options and tool versions) makes every later run a
//!   `dlopen`. See [`VerilatedLib::build`] and the `cache` module for the atomic creation.
//! - No Rust code is generated per design. A small generated C++ shim exposes a port table,
//!   the address of every port of at most 64 bits (read and written in place), and `set`/`get`
//!   by port index on arrays of 32-bit words for the wider ones, so one [`Model`] type drives
//!   every design, whatever its port widths.
//!
//! ```no_run
//! # fn main() -> Result<(), hgf_sim::SimError> {
//! use hgf_sim::{BuildOptions, Model, VerilatedLib};
//! # let verilog = String::new();
//! let opts = BuildOptions { trace: true, ..BuildOptions::default() };
//! let lib = VerilatedLib::build(&verilog, "acc8", &opts)?;
//! let mut m = Model::new(&lib)?;
//! let (clock, din, sum) = (m.port("clock")?, m.port("din")?, m.port("sum")?);
//! m.trace_open("acc8.vcd")?;
//! m.set(din, 3)?;
//! m.tick(clock)?;
//! assert_eq!(m.get(sum), 3);
//! # Ok(()) }
//! ```
//!
//! Drivers built on it: [`core_driver`] streams a layer through the generated core, [`cosim`]
//! compares it with the golden model and names the first stage that differs, [`cosim_job`]
//! runs one co-simulation from build to report, [`infer`] runs
//! a whole transformer with every projection on one instance of the core, and
//! [`fp_units`] runs Berkeley TestFloat vectors through the FP units (`hgf fpcheck --rtl`).
//!
//! Requirements: Linux, `verilator` (5.006 tested) and `g++` on `PATH`
//! (`scripts/setup.sh` installs them). A Verilog `$fatal` or a Verilator internal error
//! aborts the process, as it does in a C++ testbench.

mod cache;
pub mod core_driver;
pub mod cosim;
pub mod cosim_job;
mod cpu_time;
mod error;
mod ffi;
pub mod fp_units;
mod hash;
pub mod infer;
mod mk;
mod model;
mod ports;
mod shim;
mod toolchain;
mod verilate;

pub use cache::{default_cache_root, CacheOutcome, CACHE_ENV};
pub use cpu_time::{cpu_model, thread_cpu_time};
pub use error::SimError;
pub use model::{InputGroup, Model, PortId, HALF_PERIOD};
pub use ports::{decode_name, Direction, Port};
pub use verilate::{BuildOptions, VerilatedLib};
