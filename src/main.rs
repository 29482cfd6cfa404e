//! `hgf`: generate, co-simulate, estimate and check Hybrid Gated Flow (HGF) inference hardware.

mod cli;
mod cmd;
mod progress;
mod stdout;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    end_quietly_when_stdout_closes();
    let args = cli::Cli::parse();
    match cmd::run(args).and_then(|code| stdout::flush().map(|()| code)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("hgf: error: {err:#}");
            ExitCode::from(cmd::exit_code_for(&err))
        }
    }
}

/// Restores SIGPIPE's default action, so that a reader that stops early (`hgf estimate |
/// head -1`) ends hgf as it ends `ls` or `cat`: killed by SIGPIPE (a shell shows 141), with
/// nothing on stderr.
///
/// Rust's runtime ignores SIGPIPE, so a write to a closed pipe returns `BrokenPipe`, and
/// `println!` panics on it. Restoring the signal once here covers every print of every
/// command; mapping `BrokenPipe` instead would need every print to go through one writer.
/// Nothing else in hgf writes to a pipe it does not read (tools run with their output
/// captured, and `std::process::Command` resets SIGPIPE in children anyway). `libc` (already
/// hgf-sim's) names the signal and the action for each platform, where a hand-written
/// `extern "C"` declaration would hard-code them.
fn end_quietly_when_stdout_closes() {
    #[cfg(unix)]
    // SAFETY: `signal` with a valid signal number and `SIG_DFL` has no preconditions; it runs
    // before any thread is started, so no other code observes the change midway.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
