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
        Heartbeat::with(what, EVERY, |line| eprintln!("{line}"))
    }

    /// A heartbeat every `every`, each line handed to `emit`.
    fn with(what: String, every: Duration, emit: impl Fn(String) + Send + 'static) -> Heartbeat {
        let (stop, stopped) = mpsc::channel::<()>();
        let started = Instant::now();
        let thread = std::thread::spawn(move || loop {
            match stopped.recv_timeout(every) {
                Err(RecvTimeoutError::Timeout) => {
                    emit(format!("{what}: {:.0} s", started.elapsed().as_secs_f64()));
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn beats_while_alive_and_never_after_the_drop() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        let beat = Heartbeat::with("step".into(), Duration::from_millis(5), move |l| {
            sink.lock().unwrap().push(l)
        });
        // Waits for two lines (however slow the machine), then stops the heartbeat.
        while lines.lock().unwrap().len() < 2 {
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(beat);
        let after_drop = lines.lock().unwrap().len();
        std::thread::sleep(Duration::from_millis(50));
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), after_drop, "no line after the drop");
        assert!(
            lines
                .iter()
                .all(|l| l.starts_with("step: ") && l.ends_with(" s")),
            "{lines:?}"
        );
    }
}
