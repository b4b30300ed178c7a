//! Freed memory stays with the process for the next request.
//!
//! glibc serves every allocation above its mmap threshold (128 KiB at first) with its own mmap
//! and gives it back with munmap when freed, and trims the heap's free top above 128 KiB. A
//! request here allocates several multi-megabyte buffers (the 2–3 MB event and body, base64
//! copies, decoded pictures), so each request page-faulted all of them in afresh: with the
//! thresholds below, `cargo bench -p image-edit-lambda --bench overhead` went from a median of
//! 51–84 ms to 40–47 ms per 1024×1024 inpaint on this project's 2-core machine, peak RSS unchanged
//! (~51 MB). A sandbox serves one request at a time in a fixed memory size, so memory kept for
//! the next request costs nothing; buffers above 32 MiB (the largest pictures) still get their
//! own mapping and go back when freed (`benches/worst_memory.rs` keeps watching the peak).

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
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
    }
}
