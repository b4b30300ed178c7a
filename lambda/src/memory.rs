//! Freed memory stays with the process for the next request.
//!
//! glibc serves every allocation above its mmap threshold (128 KiB at first) with its own mmap
//! and gives it back with munmap when freed, and trims the heap's free top above 128 KiB. A
//! request here allocates several multi-megabyte buffers (the 2–3 MB event and body, base64
//! copies, decoded pictures), so each request page-faulted all of them in afresh (`perf` put
//! memmove, memset and page faults on top). Three settings, each needed:
//! - one arena: lambda_http runs each request on one of tokio's worker threads, and every thread
//!   would otherwise get its own arena, so memory kept by one was of no use to the next request
//!   (and the peak grew: 70.9 MB instead of 51 MB with the thresholds alone). A sandbox serves
//!   one request at a time, so there is no contention to spread;
//! - the mmap threshold at glibc's maximum (32 MiB on 64-bit) and a trim threshold of 256 MiB:
//!   buffers up to 32 MiB are reused from the heap; larger ones (the biggest pictures) still get
//!   their own mapping and go back when freed (`benches/worst_memory.rs` watches the peaks).
//!
//! `cargo bench -p image-edit-lambda --bench overhead` (handler on a worker thread, as in
//! `bootstrap`), medians per 1024×1024 inpaint on this project's 2-core machine: 69–71 ms
//! (Stability) and 78–84 ms (Titan) without these settings, 47–58 ms and 47–53 ms with them, peak
//! RSS 51–54 MB either way.

/// The mmap threshold: glibc's largest (`DEFAULT_MMAP_THRESHOLD_MAX` on 64-bit, 32 MiB).
const MMAP_THRESHOLD: i32 = 32 << 20;
/// Free heap above this is given back to the system; below it, it is kept for the next request.
const TRIM_THRESHOLD: i32 = 256 << 20;

/// Sets malloc's thresholds for this process. Called first thing by `bootstrap` (and the benches).
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes malloc's tunable parameters, under malloc's own lock; it
    // touches no memory of ours. A refused value (0) leaves glibc's default: slower, not wrong.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
    }
}
