//! Operating-system helpers: futex wait/wake, advisory file locks, process
//! liveness. Every function has a portable fallback.

use std::sync::atomic::AtomicU32;
use std::time::Duration;

/// Blocks while `word` holds `expected`, at most `timeout`. Spurious and
/// early returns are fine: callers re-check their condition.
pub(crate) fn futex_wait(word: &AtomicU32, expected: u32, timeout: Duration, shared: bool) {
    #[cfg(target_os = "linux")]
    {
        let ts = libc::timespec {
            tv_sec: timeout.as_secs().min(i64::MAX as u64) as libc::time_t,
            tv_nsec: timeout.subsec_nanos() as libc::c_long,
        };
        let op = if shared {
            libc::FUTEX_WAIT
        } else {
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG
        };
        // SAFETY: `word` is a live, aligned 32-bit atomic for the duration of
        // the call; FUTEX_WAIT only reads it and compares it with `expected`
        // atomically in the kernel; `ts` outlives the call. The kernel accepts
        // FUTEX_WAIT on a read-only shared mapping.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                op,
                expected,
                &ts as *const libc::timespec,
                std::ptr::null::<u32>(),
                0u32,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (shared, expected, word);
        std::thread::sleep(timeout.min(Duration::from_micros(50)));
    }
}

/// Wakes every thread blocked on `word`.
pub(crate) fn futex_wake_all(word: &AtomicU32, shared: bool) {
    #[cfg(target_os = "linux")]
    {
        let op = if shared {
            libc::FUTEX_WAKE
        } else {
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG
        };
        // SAFETY: `word` is a live, aligned 32-bit atomic; FUTEX_WAKE does not
        // access memory beyond hashing its address.
        unsafe {
            libc::syscall(libc::SYS_futex, word.as_ptr(), op, i32::MAX);
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (word, shared);
    }
}

/// Whether process `pid` is alive (a zombie counts as dead).
pub(crate) fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(raw) = libc::pid_t::try_from(pid) else {
            return false;
        };
        if raw <= 0 {
            return false;
        }
        // SAFETY: signal 0 performs only the existence and permission check.
        let rc = unsafe { libc::kill(raw, 0) };
        if rc != 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EPERM) {
            return false;
        }
        #[cfg(target_os = "linux")]
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            // The state follows the parenthesised command name.
            if let Some(state) = stat
                .rsplit(')')
                .next()
                .and_then(|s| s.trim_start().chars().next())
            {
                return !matches!(state, 'Z' | 'X');
            }
        }
        true
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// Takes an exclusive advisory lock on `file` without blocking; `false` if
/// another open file description holds it.
pub(crate) fn try_lock_exclusive(file: &std::fs::File) -> std::io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a valid descriptor owned by `file`.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(true);
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
            Ok(false)
        } else {
            Err(err)
        }
    }
    #[cfg(not(unix))]
    {
        // No advisory lock off Unix: only the in-process guard applies.
        let _ = file;
        Ok(true)
    }
}

/// Nanoseconds on the system's monotonic clock (`CLOCK_MONOTONIC` on Unix),
/// which every process on the machine shares: a writer can stamp records
/// with it and readers in other processes can measure write-to-observe
/// latency. Off Unix it counts from the first call in this process.
pub fn monotonic_nanos() -> u64 {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid out-pointer; CLOCK_MONOTONIC always exists.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
    }
    #[cfg(not(unix))]
    {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        START
            .get_or_init(std::time::Instant::now)
            .elapsed()
            .as_nanos() as u64
    }
}

/// Releases the advisory lock [`try_lock_exclusive`] took.
pub(crate) fn unlock(file: &std::fs::File) {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a valid descriptor owned by `file`.
        unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_UN) };
    }
    #[cfg(not(unix))]
    let _ = file;
}
