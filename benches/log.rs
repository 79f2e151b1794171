//! Event log micro benches: what group commit and frames buy.
//!
//! - `log batch append/256` and `/1024`: append that many events (in appends of at most
//!   `MAX_APPEND_EVENTS`) with `Durability::Fsync`, then wait for the last completion, so
//!   every iteration pays at least one real fsync. The indexer thread runs meanwhile, as
//!   it does in production; the `index paused` variants show the commit path alone.
//! - `replay`: `read_from(1)` over 200,000 pre-written events, decoded into owned envelopes.
//!
//! Run: `cargo bench -j2 --bench log -- --warm-up-time 1 --measurement-time 3`.
//! Throughput is reported in events per second (`Throughput::Elements`).

use std::hint::black_box;
use std::sync::mpsc;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use helpline::domain::event::{Envelope, Event};
use helpline::domain::ids::{AppId, SessionId, StreamId};
use helpline::log::{Draft, Durability, EventLog, MAX_APPEND_EVENTS, SledLog, encode_frame};

/// Events replayed by the `replay` bench.
const REPLAY_EVENTS: u64 = 200_000;

/// A typical small event: a user's chat line.
fn drafts(count: usize, salt: u64) -> Vec<Draft> {
    (0..count as u64)
        .map(|i| Draft {
            app: AppId(1),
            stream: StreamId::session(SessionId((salt + i) % 1_000)),
            event: Event::SessionUserMessage {
                text: format!("hello, I need help with order {:08}", salt + i),
            },
        })
        .collect()
}

fn batch_append(c: &mut Criterion) {
    let sample = &drafts(1, 0)[0];
    let envelope = Envelope {
        seq: 1,
        at_ms: 0,
        app: sample.app,
        stream: sample.stream,
        event: sample.event.clone(),
    };
    println!(
        "record size: {} bytes per event in a frame",
        encode_frame(&[envelope]).unwrap().len()
    );

    let mut group = c.benchmark_group("log batch append");
    for (batch, index_paused) in [(256usize, false), (1024, false), (256, true), (1024, true)] {
        let dir = tempfile::tempdir().unwrap();
        let (log, _) = SledLog::open(dir.path(), Durability::Fsync).unwrap();
        // The commit path alone, without the indexer competing for the two cores.
        let _pause = index_paused.then(|| log.pause_index());
        let mut salt = 0;
        let name = if index_paused {
            format!("{batch} index paused")
        } else {
            batch.to_string()
        };
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    salt += batch as u64;
                    (0..batch / MAX_APPEND_EVENTS)
                        .map(|i| drafts(MAX_APPEND_EVENTS, salt + i as u64))
                        .collect::<Vec<_>>()
                },
                |appends| {
                    let (tx, rx) = mpsc::sync_channel(1);
                    let count = appends.len();
                    for (i, drafts) in appends.into_iter().enumerate() {
                        let tx = tx.clone();
                        let on_durable = (i + 1 == count).then(|| -> helpline::log::Completion {
                            Box::new(move |r| tx.send(r).unwrap())
                        });
                        log.append(1, drafts, on_durable).unwrap();
                    }
                    black_box(rx.recv().unwrap().unwrap())
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

fn replay(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = SledLog::open(dir.path(), Durability::None).unwrap();
    for salt in (0..REPLAY_EVENTS).step_by(MAX_APPEND_EVENTS) {
        let count = MAX_APPEND_EVENTS.min((REPLAY_EVENTS - salt) as usize);
        log.append(1, drafts(count, salt), None).unwrap();
    }
    log.sync().unwrap();
    log.sync_index().unwrap();
    let mut group = c.benchmark_group("replay");
    group.sample_size(10);
    group.throughput(Throughput::Elements(REPLAY_EVENTS));
    group.bench_function("read_from(1)", |b| {
        b.iter(|| {
            let mut events = 0u64;
            for envelope in log.read_from(1) {
                black_box(envelope.unwrap());
                events += 1;
            }
            assert_eq!(events, REPLAY_EVENTS);
        });
    });
    group.finish();
}

criterion_group!(benches, batch_append, replay);
criterion_main!(benches);
