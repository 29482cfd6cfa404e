//! Integration tests of the `hgf` command. One test binary; each module covers one command
//! (`cli_closed_stdout`: what every command shares at the edge, its stdout).

mod util;

#[cfg(unix)]
mod cli_closed_stdout;
mod cli_config;
mod cli_cosim;
mod cli_estimate;
mod cli_explore;
mod cli_fpcheck;
mod cli_generate;
mod cli_golden;
mod cli_infer;
#[cfg(unix)]
mod cli_outputs;
mod cli_run;
mod cli_synth;
mod cli_testbench;
mod train_smoke;
