//! Giving free memory back to the system after a burst.
//!
//! The binary allocates with mimalloc (see `main.rs`). mimalloc keeps
//! freed pages of a busy heap for reuse; after a burst of large bodies
//! that left the resident set near its peak (see BENCHMARKS.md, "Bursts").
//! [`release_free_memory`] asks it to purge what is free now; it is called
//! when the in-flight budget drains after holding a burst's worth of bytes
//! ([`super::admission`]), so once per burst, never in steady load.
//!
//! In a process that allocates otherwise (tests, embedders), mimalloc's
//! own heap is empty and the call does nothing of note.

/// Return the allocator's free memory to the system.
pub fn release_free_memory() {
    // SAFETY: `mi_collect` takes no pointer and may be called from any
    // thread at any time; `force` also collects other threads' abandoned
    // pages.
    #[allow(unsafe_code, reason = "the one allocator call; no pointer is passed")]
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
}
