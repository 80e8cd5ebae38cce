//! The recent requests: a ring of the last N can-send requests the service
//! decided, kept so that a rule change can be replayed against them before
//! (`POST /v1/rules/validate`) and after (every reload) it applies: "what
//! would this change change?".
//!
//! It sits on the hot path of `POST /v1/can-send`, so recording is made
//! to cost next to nothing:
//! - the **decoded request is moved** into its slot, not copied or
//!   re-serialized: the strings it owns were allocated by decoding anyway,
//!   and the entry it replaces is dropped instead of the request — the same
//!   frees, later. One allocation per record: the `Arc` around it.
//! - the slot is chosen by one relaxed `fetch_add` on a counter; each slot
//!   has its own small mutex, taken with `try_lock`: a request that finds
//!   its slot busy (a reader copying it, another writer that wrapped
//!   around) is **not recorded** rather than made to wait. No request ever
//!   blocks here.
//! - the entry pushed out is dropped after the slot's lock is released.
//!
//! - a request larger than [`MAX_REQUEST_BYTES`] as received (for a batch
//!   item: the batch's body over its items) is not kept: any caller may
//!   send bodies up to the body limit, and the ring would otherwise pin
//!   capacity × body limit of memory. Kept, it holds at most about
//!   capacity × 64 KiB.
//!
//! Readers (replay) take each slot's lock in turn and clone its `Arc`:
//! that is the reload or validate path, off the async threads, bounded by
//! N, and a copy of the ring costs N pointers however large the requests
//! (one small allocation per record buys that). Capacity 0 turns
//! recording off (nothing is kept at all).
//!
//! What it holds is **client data** (identifiers, message text): in memory
//! only, never written anywhere, gone on restart; shown only to admins
//! (see [`crate::impact`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, TryLockError};

use crate::request::CanSendRequest;

/// The default number of requests kept (`--replay-capacity`).
pub const DEFAULT_CAPACITY: usize = 1000;

/// Most requests a ring may keep: replay is bounded by it.
pub const MAX_CAPACITY: usize = 100_000;

/// Largest request kept, in bytes of its body as received (the longest
/// text a request may carry is 64 KiB).
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// One decided request, and the instant it was decided at (ms since the
/// epoch): a request without `at` is replayed at that instant, so time
/// does not change its answer between the two sides of a comparison.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The request, as decoded.
    pub request: CanSendRequest,
    /// When it was decided, ms since the epoch.
    pub now: i64,
}

/// The last N decided requests (see the module docs).
pub struct Recent {
    slots: Box<[Mutex<Option<Arc<Recorded>>>]>,
    /// Requests offered so far; the next slot is this modulo the capacity.
    offered: AtomicU64,
    /// Requests not kept because their slot was busy.
    skipped: AtomicU64,
}

impl std::fmt::Debug for Recent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recent").field("capacity", &self.capacity()).field("offered", &self.offered()).finish()
    }
}

impl Recent {
    /// A ring of `capacity` requests (at most [`MAX_CAPACITY`]); 0 keeps none.
    pub fn new(capacity: usize) -> Self {
        let slots = (0..capacity.min(MAX_CAPACITY)).map(|_| Mutex::new(None)).collect();
        Self { slots, offered: AtomicU64::new(0), skipped: AtomicU64::new(0) }
    }

    /// How many requests the ring keeps.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Requests offered since start (kept or not).
    pub fn offered(&self) -> u64 {
        self.offered.load(Ordering::Relaxed)
    }

    /// Requests not kept because their slot was busy at that moment.
    pub fn skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }

    /// Keep `request`, decided at `now` and received as `size` bytes, in
    /// place of the oldest one. Never waits: on a busy slot the request is
    /// dropped instead; so is one over [`MAX_REQUEST_BYTES`].
    #[inline]
    pub fn record(&self, request: CanSendRequest, now: i64, size: usize) {
        let n = self.slots.len() as u64;
        if n == 0 || size > MAX_REQUEST_BYTES {
            return;
        }
        let i = self.offered.fetch_add(1, Ordering::Relaxed) % n;
        let Some(slot) = self.slots.get(i as usize) else { return };
        let mut guard = match slot.try_lock() {
            Ok(g) => g,
            // A slot only ever holds a value being replaced: a panic
            // elsewhere cannot have left it half-written.
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => {
                self.skipped.fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
        let old = guard.replace(Arc::new(Recorded { request, now }));
        drop(guard);
        drop(old);
    }

    /// What the ring holds, oldest first (approximately: writers race with
    /// the reader, and a skipped record leaves an older entry).
    pub fn snapshot(&self) -> Vec<Arc<Recorded>> {
        let n = self.slots.len();
        if n == 0 {
            return Vec::new();
        }
        let start = (self.offered() % n as u64) as usize;
        let mut out = Vec::with_capacity(n);
        for k in 0..n {
            let Some(slot) = self.slots.get((start + k) % n) else { continue };
            let entry = match slot.lock() {
                Ok(g) => g.clone(),
                Err(p) => p.into_inner().clone(),
            };
            out.extend(entry);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(channel: &str) -> CanSendRequest {
        let v = serde_json::json!({"sender": {"role": "r"}, "client": {"status": "s"}, "channel": channel, "message": {}});
        crate::request::decode(&v).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn channels(r: &Recent) -> Vec<String> {
        r.snapshot().iter().map(|e| e.request.channel.clone()).collect()
    }

    #[test]
    fn keeps_the_last_n_oldest_first() {
        let r = Recent::new(3);
        assert!(r.snapshot().is_empty());
        r.record(req("a"), 1, 100);
        r.record(req("b"), 2, 100);
        assert_eq!(channels(&r), ["a", "b"]);
        for (i, c) in ["c", "d", "e"].into_iter().enumerate() {
            r.record(req(c), 3 + i as i64, 100);
        }
        assert_eq!(channels(&r), ["c", "d", "e"]);
        assert_eq!(r.snapshot().iter().map(|e| e.now).collect::<Vec<_>>(), [3, 4, 5]);
        assert_eq!(r.offered(), 5);
    }

    #[test]
    fn capacity_zero_keeps_nothing() {
        let r = Recent::new(0);
        r.record(req("a"), 1, 100);
        assert!(r.snapshot().is_empty());
        assert_eq!(r.capacity(), 0);
        assert_eq!(r.offered(), 0);
    }

    #[test]
    fn large_requests_are_not_kept() {
        let r = Recent::new(2);
        r.record(req("a"), 1, MAX_REQUEST_BYTES);
        r.record(req("b"), 2, MAX_REQUEST_BYTES + 1);
        assert_eq!(channels(&r), ["a"]);
    }

    #[test]
    fn a_busy_slot_skips_instead_of_waiting() {
        let r = Recent::new(1);
        r.record(req("a"), 1, 100);
        let held = r.slots.first().map(|s| s.lock());
        r.record(req("b"), 2, 100);
        drop(held);
        assert_eq!(r.skipped(), 1);
        assert_eq!(channels(&r), ["a"], "the busy slot kept its entry");
    }

    #[test]
    fn many_writers_never_lose_the_ring() {
        let r = Arc::new(Recent::new(64));
        let writers: Vec<_> = (0..4)
            .map(|t| {
                let r = r.clone();
                std::thread::spawn(move || {
                    for i in 0..1000 {
                        r.record(req(&format!("{t}-{i}")), i, 100);
                    }
                })
            })
            .collect();
        // Readers racing the writers see whole entries only: each one a
        // request some writer recorded, with the instant it was given.
        for _ in 0..10 {
            for e in r.snapshot() {
                let (t, i) = e.request.channel.split_once('-').expect("a written channel");
                assert!(t.parse::<u32>().is_ok_and(|t| t < 4), "{}", e.request.channel);
                assert_eq!(i.parse::<i64>().ok(), Some(e.now), "{}", e.request.channel);
            }
        }
        for w in writers {
            assert!(w.join().is_ok());
        }
        assert_eq!(r.offered(), 4000);
        assert_eq!(r.snapshot().len(), 64, "every slot holds something");
    }
}
