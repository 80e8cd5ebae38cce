//! The allowed decision path allocates nothing inside the engine: counted
//! with a global allocator wrapper (a count, not a timing, so it is exact).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const NOW: i64 = 1_795_521_600_000;

fn allocations_of(f: impl FnOnce()) -> usize {
    let before = ALLOCS.load(Ordering::SeqCst);
    f();
    ALLOCS.load(Ordering::SeqCst) - before
}

// One test function: the counter is global, and tests run on threads.
#[test]
fn engine_allocations() {
    let rs = cansend::Engine::builtin().expect("builtin rules").rule_set().clone();
    let bodies = [
        serde_json::json!({"sender": {"role": "agent"}, "client": {"status": "existing", "channels": ["whatsapp"]},
                           "channel": "whatsapp", "message": {"text": "Hello"}}),
        serde_json::json!({"tenant": "demo-limits", "sender": {"role": "agent"}, "action": "send_and_assign_self",
                           "client": {"status": "existing", "active_thread": true, "email": "a@b.c"},
                           "channel": "email", "message": {"attachments": [{"name": "a.pdf", "size": 1}, {"name": "B.XLSX", "size": 50000000}]}}),
        serde_json::json!({"tenant": "demo-tags", "sender": {"role": "supervisor"}, "client": {"status": "new", "phone": "+7"},
                           "channel": "viber", "thread": {"tags": ["sales"]}, "message": {"template": {"name": "t"}}}),
    ];
    for body in &bodies {
        let input = cansend::internals::parse(&rs, body, NOW).expect("valid request");
        let mut allowed = false;
        let n = allocations_of(|| allowed = cansend::internals::evaluate(&rs, &input, false).allowed);
        assert!(allowed, "{body}");
        assert_eq!(n, 0, "allowed decision allocated {n} times: {body}");
    }

    // A denial allocates its violations vector, once.
    let body = serde_json::json!({"sender": {"role": "agent"}, "client": {"status": "existing", "blocked": true, "channels": ["whatsapp"]},
                                  "channel": "whatsapp", "message": {"text": "Hello"}});
    let input = cansend::internals::parse(&rs, &body, NOW).expect("valid request");
    let mut violations = 0;
    let n = allocations_of(|| violations = cansend::internals::evaluate(&rs, &input, false).violations.len());
    assert_eq!(violations, 1);
    assert_eq!(n, 1, "one allocation: the violations vector");
}
