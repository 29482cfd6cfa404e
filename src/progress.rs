//! Progress on stderr during steps that run for a long time without reporting anything
//! themselves (verilating, yosys, nextpnr): a line every [`EVERY`] with the time so far, so
//! that a long step is never a long silence.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Interval between two progress lines.
pub const EVERY: Duration = Duration::from_secs(2);

/// Prints `<what>: <seconds> s` on stderr every [`EVERY`] until dropped. The first line comes
/// after one interval: a step that ends sooner prints nothing.
pub struct Heartbeat {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Heartbeat {
    pub fn start(what: String) -> Heartbeat {
        let (stop, stopped) = mpsc::channel::<()>();
        let started = Instant::now();
        let thread = std::thread::spawn(move || loop {
            match stopped.recv_timeout(EVERY) {
                Err(RecvTimeoutError::Timeout) => {
                    eprintln!("{what}: {:.0} s", started.elapsed().as_secs_f64());
                }
                // Stopped, or the sender dropped.
                _ => return,
            }
        });
        Heartbeat {
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
