//! Integration tests of the `hgf` command. One test binary; each module covers one command.

mod util;

mod cli_config;
mod cli_cosim;
mod cli_estimate;
mod cli_explore;
mod cli_fpcheck;
mod cli_generate;
mod cli_golden;
mod cli_run;
mod cli_synth;
