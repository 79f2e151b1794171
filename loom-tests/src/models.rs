//! The models: each runs a few writer threads and a reader over one structure, in every
//! interleaving loom explores (bounded by `LOOM_MAX_PREEMPTIONS`), and asserts what the
//! structure promises (see `src/stats/mod.rs`). Each check is written once over plain
//! functions and run against the real structure and against its broken twin
//! (`crate::broken`), which must fail.

use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::thread;

use crate::broken;
use crate::cell::GroupStats;
use crate::counter::Counter;
use crate::gauge::Gauge;
use crate::histogram::Histogram;
use crate::queue::{QueueGauge, QueueSnapshot};
use crate::status::{StatusGauges, StatusKind};

// ---- gauge: no lost update, never below zero, never above the contributions ----

/// Two writers each add one contribution and take it back while a reader watches.
fn gauge_bounds<G: Send + Sync + 'static>(
    new: fn() -> G,
    inc: fn(&G),
    dec: fn(&G),
    get: fn(&G) -> u64,
) {
    loom::model(move || {
        let gauge = Arc::new(new());
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let gauge = gauge.clone();
                thread::spawn(move || {
                    inc(&gauge);
                    dec(&gauge);
                })
            })
            .collect();
        let seen = get(&gauge);
        assert!(
            seen <= 2,
            "gauge out of bounds: {seen} with 2 contributions"
        );
        for w in writers {
            w.join().unwrap();
        }
        assert_eq!(get(&gauge), 0, "gauge lost an update");
    });
}

#[test]
fn gauge_never_leaves_its_bounds_nor_loses_an_update() {
    gauge_bounds(Gauge::new, Gauge::inc, Gauge::dec, Gauge::get);
}

#[test]
#[should_panic(expected = "gauge")]
fn a_load_store_gauge_is_caught() {
    gauge_bounds(
        broken::LoadStoreGauge::new,
        broken::LoadStoreGauge::inc,
        broken::LoadStoreGauge::dec,
        broken::LoadStoreGauge::get,
    );
}

// ---- counter: no lost increment; an effect is never seen without its cause ----

#[test]
fn counter_loses_no_increment() {
    loom::model(|| {
        let counter = Arc::new(Counter::new());
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let counter = counter.clone();
                thread::spawn(move || counter.inc())
            })
            .collect();
        let seen = counter.get();
        assert!(seen <= 2);
        for w in writers {
            w.join().unwrap();
        }
        assert_eq!(counter.get(), 2);
    });
}

/// A session actor counts an offer, then (in another thread, told by a message) the
/// accept; a reader reads the accept first, then the offer.
fn cause_before_effect<C: Send + Sync + 'static>(new: fn() -> C, inc: fn(&C), get: fn(&C) -> u64) {
    loom::model(move || {
        let offers = Arc::new(new());
        let accepts = Arc::new(new());
        let told = Arc::new(AtomicBool::new(false));
        let offering = {
            let (offers, told) = (offers.clone(), told.clone());
            thread::spawn(move || {
                inc(&offers);
                told.store(true, Ordering::Release);
            })
        };
        let accepting = {
            let (accepts, told) = (accepts.clone(), told.clone());
            thread::spawn(move || {
                if told.load(Ordering::Acquire) {
                    inc(&accepts);
                }
            })
        };
        let accepted = get(&accepts);
        let offered = get(&offers);
        assert!(
            accepted <= offered,
            "counter shows an effect without its cause: {accepted} accepts, {offered} offers"
        );
        offering.join().unwrap();
        accepting.join().unwrap();
    });
}

#[test]
fn counters_never_show_an_effect_without_its_cause() {
    cause_before_effect(Counter::new, Counter::inc, Counter::get);
}

#[test]
#[should_panic(expected = "without its cause")]
fn relaxed_counters_are_caught() {
    cause_before_effect(
        broken::RelaxedCounter::new,
        broken::RelaxedCounter::inc,
        broken::RelaxedCounter::get,
    );
}

/// The group cell's snapshot reads its counters in the order that keeps the promise.
#[test]
fn a_group_snapshot_never_shows_an_accept_or_timeout_without_its_offer() {
    loom::model(|| {
        let group = Arc::new(GroupStats::new());
        let session = {
            let group = group.clone();
            thread::spawn(move || {
                group.offers.inc();
                group.accepts.inc();
                group.offers.inc();
                group.timeouts.inc();
            })
        };
        let s = group.snapshot();
        assert!(s.accepts <= s.offers && s.timeouts <= s.offers, "{s:?}");
        session.join().unwrap();
        let s = group.snapshot();
        assert_eq!((s.offers, s.accepts, s.timeouts), (2, 1, 1));
    });
}

// ---- queue pair: a reader sees a published pair, never one torn from two ----

/// A group publishes 1 waiting since 100, then 2 since 100, then empty, while another
/// writer (a rebuilt group actor) publishes 1 since 300; a reader must see one of those.
fn queue_never_torn<Q: Send + Sync + 'static>(
    new: fn() -> Q,
    publish: fn(&Q, u64, u64),
    read: fn(&Q) -> (u64, Option<u64>),
) {
    loom::model(move || {
        let queue = Arc::new(new());
        let group = {
            let queue = queue.clone();
            thread::spawn(move || {
                publish(&queue, 1, 100);
                publish(&queue, 2, 100);
                publish(&queue, 0, 0);
            })
        };
        let rebuilt = {
            let queue = queue.clone();
            thread::spawn(move || publish(&queue, 1, 300))
        };
        let published = [(0, None), (1, Some(100)), (2, Some(100)), (1, Some(300))];
        let seen = read(&queue);
        assert!(
            published.contains(&seen),
            "queue pair read torn: {seen:?} was never published"
        );
        group.join().unwrap();
        rebuilt.join().unwrap();
    });
}

#[test]
fn the_queue_pair_is_never_read_torn() {
    queue_never_torn(
        QueueGauge::new,
        |q, len, oldest| {
            q.publish(len, oldest as i64);
        },
        |q| {
            let QueueSnapshot { len, oldest_ms } = q.read();
            (len, oldest_ms)
        },
    );
}

#[test]
#[should_panic(expected = "torn")]
fn a_queue_pair_in_two_words_is_caught() {
    queue_never_torn(
        broken::TwoWordQueue::new,
        broken::TwoWordQueue::publish,
        broken::TwoWordQueue::read,
    );
}

#[test]
fn the_queue_length_stays_at_its_bound() {
    loom::model(|| {
        let queue = QueueGauge::new();
        queue.publish(u64::MAX, 5);
        assert_eq!(queue.read().len, crate::queue::MAX_LEN);
        queue.publish(3, -7);
        assert_eq!(queue.read().oldest_ms, Some(0));
    });
}

// ---- agents by status: every move seen whole ----

/// Two agents, both free, move at once (one to busy, one to rest) while a reader counts.
#[test]
fn status_moves_are_seen_whole() {
    loom::model(|| {
        let status = Arc::new(StatusGauges::new());
        status.add(StatusKind::Free);
        status.add(StatusKind::Free);
        let writers: Vec<_> = [StatusKind::Busy, StatusKind::Rest]
            .into_iter()
            .map(|to| {
                let status = status.clone();
                thread::spawn(move || status.move_to(StatusKind::Free, to))
            })
            .collect();
        let seen = status.read();
        let (free, busy, rest) = (seen[0], seen[1], seen[2]);
        let whole = [(2, 0, 0), (1, 1, 0), (1, 0, 1), (0, 1, 1)];
        assert!(
            whole.contains(&(free, busy, rest)) && seen[3..].iter().all(|c| *c == 0),
            "status move seen half done: {seen:?}"
        );
        for w in writers {
            w.join().unwrap();
        }
        assert_eq!(status.read(), [0, 1, 1, 0, 0, 0]);
    });
}

/// One agent moves twice in a row while another joins, and a reader counts.
#[test]
fn successive_moves_and_joins_are_seen_in_order() {
    loom::model(|| {
        let status = Arc::new(StatusGauges::new());
        status.add(StatusKind::Free);
        let mover = {
            let status = status.clone();
            thread::spawn(move || {
                status.move_to(StatusKind::Free, StatusKind::Busy);
                status.move_to(StatusKind::Busy, StatusKind::Offline);
            })
        };
        let joiner = {
            let status = status.clone();
            thread::spawn(move || status.add(StatusKind::NotReady))
        };
        let seen = status.read();
        let mover_counted = seen[0] + seen[1] + seen[5];
        assert_eq!(mover_counted, 1, "status move seen half done: {seen:?}");
        assert!(seen[4] <= 1 && seen[2] == 0 && seen[3] == 0, "{seen:?}");
        mover.join().unwrap();
        joiner.join().unwrap();
        assert_eq!(status.read(), [0, 0, 0, 0, 1, 1]);
    });
}

#[test]
#[should_panic(expected = "half done")]
fn unchecked_status_reads_are_caught() {
    loom::model(|| {
        let status = Arc::new(broken::UncheckedStatus::new(2));
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let status = status.clone();
                thread::spawn(move || status.free_to_busy())
            })
            .collect();
        let [free, busy] = status.read();
        assert_eq!(
            free + busy,
            2,
            "status move seen half done: {free} free, {busy} busy"
        );
        for w in writers {
            w.join().unwrap();
        }
    });
}

// ---- histogram: no lost observation; _count is the +Inf bucket ----

const BOUNDS_MS: &[u64] = &[10, 100];

#[test]
fn histograms_lose_no_observation() {
    loom::model(|| {
        let h = Arc::new(Histogram::new(BOUNDS_MS));
        let writers: Vec<_> = [5, 50]
            .into_iter()
            .map(|ms| {
                let h = h.clone();
                thread::spawn(move || {
                    h.observe(ms);
                    h.observe(ms);
                })
            })
            .collect();
        let seen = h.read();
        assert!(seen.count() <= 4 && seen.sum_ms <= 110, "{seen:?}");
        for w in writers {
            w.join().unwrap();
        }
        let done = h.read();
        assert_eq!(done.counts, vec![2, 2, 0], "histogram lost an observation");
        assert_eq!(done.sum_ms, 110);
    });
}

#[test]
#[should_panic(expected = "lost an observation")]
fn a_load_store_histogram_is_caught() {
    loom::model(|| {
        let bucket = Arc::new(broken::LoadStoreBucket::new());
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let bucket = bucket.clone();
                thread::spawn(move || bucket.observe())
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        assert_eq!(bucket.get(), 2, "histogram lost an observation");
    });
}
