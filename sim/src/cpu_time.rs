//! CPU time of the calling thread: the speed figures (simulated cycles per second) divide by
//! it as well as by wall-clock time, because on a shared machine the wall clock also counts
//! the time other processes had the core. A speed figure also needs the processor it was
//! measured on: the same model and driver ran at 0.78 M cycles per CPU second on one machine
//! of the project's kind and at 1.2 M on another (docs/results.md), so reports name it.

use std::time::Duration;

/// The processor's model name as Linux states it (`model name` in `/proc/cpuinfo`, the
/// first core's), or `None` where that file does not say (other systems, some ARM kernels).
pub fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    cpu_model_from(&info)
}

/// The first `model name` of a `/proc/cpuinfo` text, trimmed; `None` if there is none or it
/// is empty.
fn cpu_model_from(info: &str) -> Option<String> {
    info.lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(key, _)| key.trim() == "model name")
        .map(|(_, value)| value.trim().to_string())
        .filter(|name| !name.is_empty())
}

/// CPU time the calling thread has used so far (`CLOCK_THREAD_CPUTIME_ID`), or `None` where
/// that clock is not available. Only differences between two calls mean anything.
#[cfg(unix)]
pub fn thread_cpu_time() -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    let secs = u64::try_from(ts.tv_sec).ok()?;
    let nanos = u32::try_from(ts.tv_nsec).ok()?;
    (rc == 0).then(|| Duration::new(secs, nanos))
}

/// CPU time the calling thread has used so far: not available on this platform.
#[cfg(not(unix))]
pub fn thread_cpu_time() -> Option<Duration> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_model_is_the_first_model_name_line() {
        let info = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC  \n\n\
                    processor\t: 1\nmodel name\t: Other\n";
        assert_eq!(cpu_model_from(info).as_deref(), Some("AMD EPYC"));
        assert_eq!(cpu_model_from("processor\t: 0\nmodel name\t:   \n"), None);
        assert_eq!(cpu_model_from("Hardware\t: BCM2835\n"), None);
    }

    #[test]
    fn thread_cpu_time_advances_with_work_and_not_past_the_wall_clock() {
        let wall = std::time::Instant::now();
        let before = thread_cpu_time().expect("the thread CPU clock exists on Linux");
        let mut x = 1u64;
        for i in 0..20_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
        }
        let used = thread_cpu_time().unwrap() - before;
        let elapsed = wall.elapsed();
        assert!(
            used > Duration::ZERO,
            "no CPU time counted for 20 M multiplications"
        );
        assert!(
            used <= elapsed + Duration::from_millis(1),
            "{used:?} of CPU in {elapsed:?} of wall-clock time"
        );
    }
}
