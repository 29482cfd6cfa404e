//! Progress on stderr during steps that run for a long time without reporting anything
//! themselves (verilating, yosys, nextpnr): a line every [`EVERY`] with the time so far, so
//! that a long step is never a long silence.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
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

    /// [`Heartbeat::start`] with the last line of the tool's `log` after the time, so that
    /// each line says where the tool is (`...: 12 s; log: Executing ABC9 pass.`).
    pub fn following(what: String, log: PathBuf) -> Heartbeat {
        Heartbeat::with(what, EVERY, move |line| match last_line(&log) {
            Some(last) => eprintln!("{line}; log: {last}"),
            None => eprintln!("{line}"),
        })
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

/// The last non-blank line of the file at `path` (read from its last 4 KiB), at most 100
/// characters; `None` when there is none or it cannot be read.
fn last_line(path: &Path) -> Option<String> {
    const TAIL: u64 = 4096;
    const MAX_CHARS: usize = 100;
    let mut file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(TAIL))).ok()?;
    let mut tail = Vec::new();
    file.take(TAIL).read_to_end(&mut tail).ok()?;
    let text = String::from_utf8_lossy(&tail);
    let line = text.lines().rev().map(str::trim).find(|l| !l.is_empty())?;
    Some(if line.chars().count() > MAX_CHARS {
        format!("{}...", line.chars().take(MAX_CHARS).collect::<String>())
    } else {
        line.to_string()
    })
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

    #[test]
    fn the_last_line_of_a_log_is_its_last_non_blank_line_shortened() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("tool.log");
        assert_eq!(last_line(&log), None, "no log yet");
        std::fs::write(&log, "first\n\n  second  \n\n").unwrap();
        assert_eq!(last_line(&log).as_deref(), Some("second"));
        std::fs::write(&log, format!("{}\n", "x".repeat(5000))).unwrap();
        let long = last_line(&log).unwrap();
        assert!(long.len() == 103 && long.ends_with("..."), "{long}");
    }
}
