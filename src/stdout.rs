//! What hgf prints on standard output goes through [`outln!`] and [`out!`], which return a
//! write error instead of panicking as `println!` does: `hgf config > /dev/full` then ends
//! with one line on stderr and exit code 2, like any other I/O error. A reader that closes
//! the pipe early still ends hgf by SIGPIPE (`main`), before any write can fail.

use std::fmt;
use std::io::Write;

/// `println!` that returns `anyhow::Result<()>`.
macro_rules! outln {
    () => {
        $crate::stdout::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::stdout::write_line(format_args!($($arg)*))
    };
}

/// `print!` that returns `anyhow::Result<()>`.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::stdout::write(format_args!($($arg)*))
    };
}

pub(crate) use {out, outln};

/// Writes `args` to stdout.
pub fn write(args: fmt::Arguments<'_>) -> anyhow::Result<()> {
    std::io::stdout().lock().write_fmt(args).map_err(error)
}

/// Writes `args` and a newline to stdout.
pub fn write_line(args: fmt::Arguments<'_>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_fmt(args)
        .and_then(|()| out.write_all(b"\n"))
        .map_err(error)
}

/// Flushes what is still buffered (the end of a `print!` without a newline).
pub fn flush() -> anyhow::Result<()> {
    std::io::stdout().lock().flush().map_err(error)
}

fn error(e: std::io::Error) -> anyhow::Error {
    anyhow::anyhow!("cannot write to standard output: {e}")
}
