//! The event loop allocates nothing per event in the steady state: after a
//! warm-up that lets queues reach their working size, a million more events
//! allocate (almost) nothing. A counting global allocator proves it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use demandsim::model::{LoadOptions, load};
use demandsim::qpn::{Simulation, replication_rng};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(model: &str, warm: u64, measured: u64) -> u64 {
    let text =
        std::fs::read_to_string(format!("{}/models/{model}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let m = load(&text, &LoadOptions::default()).unwrap();
    let mut sim = Simulation::new(&m.net, replication_rng(5, 0));
    sim.start().unwrap();
    while sim.events() < warm {
        sim.step().unwrap();
    }
    let before = sim.events();
    ALLOCATIONS.store(0, Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    while sim.events() < before + measured {
        sim.step().unwrap();
    }
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.load(Ordering::Relaxed)
}

#[test]
fn a_million_steady_state_events_allocate_next_to_nothing() {
    // A queue that reaches a new longest length may grow its buffer (a
    // doubling, so rarely), and a quantile sketch may add a bucket for a
    // new extreme; nothing else allocates.
    // The counter counts: the first events, while buffers grow, allocate.
    assert!(allocations_during("qpn5.yaml", 0, 1_000) > 0);
    for model in ["qpn1-open.yaml", "qpn5.yaml"] {
        let n = allocations_during(model, 1_000_000, 1_000_000);
        // README: one allocation in a million steady-state events.
        assert!(n <= 1, "{model}: {n} allocations in 1,000,000 events");
    }
}
