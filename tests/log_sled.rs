//! The sled event log through its public API: round trips, group commit under
//! concurrency, reopening, a torn tail cut on open, the lagging stream index, snapshots,
//! refused appends, and a model-based property test with restarts (in the style of sled's
//! own tests: the real log and a `Vec` driven by the same random operations, compared
//! after every step).

use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};

use helpline::domain::event::{Envelope, Event};
use helpline::domain::ids::{AgentId, AppId, SessionId, StreamId};
use helpline::log::{
    Draft, Durability, EventLog, EventLogExt, LogError, MAX_APPEND_EVENTS, MAX_EVENT_BYTES,
    SledLog, decode_frame, encode_frame,
};
use proptest::prelude::*;

const APP: AppId = AppId(3);

fn session(id: u64) -> StreamId {
    StreamId::session(SessionId(id))
}

fn draft(stream: StreamId, text: &str) -> Draft {
    Draft {
        app: APP,
        stream,
        event: Event::SessionUserMessage {
            text: text.to_owned(),
        },
    }
}

/// What the log should hold for `draft` appended with `seq` at `at_ms`.
fn stored(seq: u64, at_ms: i64, draft: &Draft) -> Envelope {
    Envelope {
        seq,
        at_ms,
        app: draft.app,
        stream: draft.stream,
        event: draft.event.clone(),
    }
}

fn open(dir: &Path) -> SledLog {
    SledLog::open(dir, Durability::Fsync).expect("open log").0
}

fn read_all(log: &SledLog, from: u64) -> Vec<Envelope> {
    log.read_from(from)
        .collect::<Result<_, _>>()
        .expect("read_from")
}

/// Appends `count` single-event appends to `stream`, each its own frame (sync between).
fn append_frames(log: &SledLog, stream: StreamId, count: usize, at_ms: i64) -> Vec<Envelope> {
    let mut written = Vec::new();
    for i in 0..count {
        let drafts = vec![
            draft(stream, &format!("frame {i} first")),
            draft(stream, &format!("frame {i} second")),
        ];
        let seqs = log.append(at_ms, drafts.clone(), None).unwrap();
        written.extend(seqs.zip(&drafts).map(|(seq, d)| stored(seq, at_ms, d)));
        log.sync().unwrap();
    }
    written
}

/// Opens the closed log's sled database directly, as a disk fault would reach it.
fn with_raw_frames(dir: &Path, damage: impl FnOnce(&sled::Tree)) {
    let db = raw_open(dir);
    let frames = db.open_tree("log").unwrap();
    damage(&frames);
    db.flush().unwrap();
}

/// `sled::open`, once the log just closed has let go of sled's lock file: sled 0.34
/// releases it from background threads a moment after the last handle drops.
fn raw_open(dir: &Path) -> sled::Db {
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.join("db"))
        .unwrap();
    lock.lock().unwrap();
    drop(lock);
    sled::open(dir).expect("raw open")
}

#[test]
fn appended_events_read_back_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let (tx, rx) = mpsc::channel();
    let a = vec![draft(session(1), "hello"), draft(session(2), "hi")];
    let b = vec![Draft {
        app: APP,
        stream: StreamId::agent(AgentId(9)),
        event: Event::AgentResumed,
    }];
    let seqs_a = log
        .append(100, a.clone(), Some(Box::new(move |r| tx.send(r).unwrap())))
        .unwrap();
    let seqs_b = log.append(200, b.clone(), None).unwrap();
    assert_eq!((seqs_a, seqs_b), (1..=2, 3..=3));
    assert!(
        rx.recv().unwrap().unwrap() >= 2,
        "completion reports a durable seq covering the append"
    );
    assert_eq!(log.sync().unwrap(), 3);
    assert_eq!((log.last_seq(), log.durable_seq()), (3, 3));

    let expected = vec![
        stored(1, 100, &a[0]),
        stored(2, 100, &a[1]),
        stored(3, 200, &b[0]),
    ];
    assert_eq!(read_all(&log, 1), expected);
    assert_eq!(read_all(&log, 0), expected, "seq 0 reads from the start");
    assert_eq!(read_all(&log, 2), expected[1..]);
    assert_eq!(read_all(&log, 4), []);
    assert_eq!(
        log.read_stream(session(2), 1).unwrap(),
        [expected[1].clone()]
    );
    assert_eq!(log.read_stream(session(1), 2).unwrap(), []);
    assert_eq!(log.read_stream(session(7), 1).unwrap(), []);
    assert!(log.verify().unwrap().is_clean());
}

#[test]
fn concurrent_appends_get_dense_seqs_and_ordered_completions() {
    const THREADS: u64 = 8;
    const EVENTS_PER_THREAD: usize = 2_000;
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(open(dir.path()));
    // (thread, append number, durable seq reported), in the order completions ran.
    let completed = Arc::new(Mutex::new(Vec::<(u64, usize, u64)>::new()));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (log, completed) = (Arc::clone(&log), Arc::clone(&completed));
            std::thread::spawn(move || {
                let mut ranges = Vec::new();
                let mut i = 0;
                while i < EVENTS_PER_THREAD {
                    let n = (1 + (i + t as usize) % 4).min(EVENTS_PER_THREAD - i);
                    let drafts: Vec<_> = (i..i + n)
                        .map(|k| draft(session(t), &format!("t{t} e{k}")))
                        .collect();
                    let (completed, tag) = (Arc::clone(&completed), ranges.len());
                    let on_durable = Box::new(move |durable: Result<u64, LogError>| {
                        completed.lock().unwrap().push((t, tag, durable.unwrap()));
                    });
                    let seqs = log.append(t as i64, drafts, Some(on_durable)).unwrap();
                    ranges.push(seqs);
                    i += n;
                }
                ranges
            })
        })
        .collect();
    let ranges: Vec<Vec<_>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let total = THREADS * EVENTS_PER_THREAD as u64;
    // A barrier completes after every earlier completion (sync only waits for durability).
    let (tx, rx) = mpsc::channel();
    log.barrier(Box::new(move |durable| tx.send(durable).unwrap()));
    assert_eq!(rx.recv().unwrap().unwrap(), total);
    assert_eq!(log.durable_seq(), total);

    // Dense: the ranges tile 1..=total with no gap and no overlap.
    let mut all: Vec<_> = ranges.iter().flatten().cloned().collect();
    all.sort_by_key(|r| *r.start());
    let mut next = 1;
    for range in &all {
        assert_eq!(*range.start(), next, "ranges tile the seqs");
        next = range.end() + 1;
    }
    assert_eq!(next, total + 1);

    // Every completion ran exactly once, in seq order, after its events were durable.
    let completed = completed.lock().unwrap();
    assert_eq!(completed.len(), all.len());
    let mut last_end = 0;
    for &(t, tag, durable) in completed.iter() {
        let range = &ranges[t as usize][tag];
        assert!(*range.start() > last_end, "completions run in seq order");
        assert!(
            durable >= *range.end(),
            "completion ran before its events were durable"
        );
        last_end = *range.end();
    }

    // Everything reads back, in seq order, each thread's events in the order it appended them.
    let read = read_all(&log, 1);
    assert_eq!(
        read.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=total).collect::<Vec<_>>()
    );
    for t in 0..THREADS {
        let texts: Vec<_> = read
            .iter()
            .filter(|e| e.stream == session(t))
            .map(|e| match &e.event {
                Event::SessionUserMessage { text } => text.clone(),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        let expected: Vec<_> = (0..EVENTS_PER_THREAD)
            .map(|k| format!("t{t} e{k}"))
            .collect();
        assert_eq!(texts, expected);
        assert_eq!(
            log.read_stream(session(t), 1).unwrap().len(),
            EVENTS_PER_THREAD
        );
    }
    log.sync_index().unwrap();
    let report = log.verify().unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!((report.events, report.streams), (total, THREADS));
}

#[test]
fn reopening_keeps_everything_and_continues_the_seqs() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let first = append_frames(&log, session(1), 3, 10);
    // Not synced: closing must make it durable anyway.
    let pending = draft(session(2), "written at close");
    log.append(11, vec![pending.clone()], None).unwrap();
    drop(log);

    let (log, report) = SledLog::open(dir.path(), Durability::Fsync).unwrap();
    assert!(!report.created);
    assert_eq!(
        (report.last_seq, report.frames, report.cut_records),
        (7, Some(4), 0)
    );
    let mut expected = first;
    expected.push(stored(7, 11, &pending));
    assert_eq!(read_all(&log, 1), expected);
    assert_eq!(
        log.append(12, vec![draft(session(1), "after")], None)
            .unwrap(),
        8..=8
    );
    log.sync().unwrap();
    assert_eq!(log.read_stream(session(1), 1).unwrap().len(), 7);
    assert!(log.verify().unwrap().is_clean());
}

#[test]
fn a_log_of_another_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (log, report) = SledLog::open(dir.path(), Durability::Fsync).unwrap();
    assert!(report.created);
    drop(log);
    {
        let db = raw_open(dir.path());
        db.open_tree("meta")
            .unwrap()
            .insert("format", "helpline-log/0")
            .unwrap();
        db.flush().unwrap();
    }
    match SledLog::open(dir.path(), Durability::Fsync) {
        Err(LogError::UnknownFormat { found, expected }) => {
            assert_eq!(
                (found.as_str(), expected),
                ("helpline-log/0", helpline::log::FORMAT_VERSION)
            );
        }
        Err(other) => panic!("expected UnknownFormat, got {other}"),
        Ok(_) => panic!("expected UnknownFormat, the log opened"),
    }
}

/// Damages the last frame of a closed log, reopens it, and checks that the damage was
/// reported and cut, the log verifies clean and appends continue densely.
fn assert_tail_cut(damage: impl FnOnce(&sled::Tree), cut_records: u64, kept: usize) {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let written = append_frames(&log, session(4), 3, 20);
    log.sync_index().unwrap();
    drop(log);
    with_raw_frames(dir.path(), damage);

    let (log, report) = SledLog::open(dir.path(), Durability::Fsync).unwrap();
    assert_eq!(report.cut_records, cut_records, "{report}");
    assert_eq!(report.cut_from_seq, Some(kept as u64 + 1), "{report}");
    assert_eq!(report.last_seq, kept as u64);
    assert_eq!(
        report.frames,
        Some(kept.div_ceil(2) as u64),
        "frames of two events each"
    );
    assert!(
        report.cut_reason.is_some() && report.to_string().contains("torn tail"),
        "{report}"
    );
    assert_eq!(read_all(&log, 1), written[..kept]);
    let verified = log.verify().unwrap();
    assert!(verified.is_clean(), "{verified}");

    // Another stream takes the cut seq: an index entry left from the cut would now lie.
    let after = draft(session(5), "after the cut");
    let seqs = log.append(21, vec![after.clone()], None).unwrap();
    assert_eq!(seqs, kept as u64 + 1..=kept as u64 + 1);
    log.sync().unwrap();
    log.sync_index().unwrap();
    assert_eq!(log.read_stream(session(4), 1).unwrap(), written[..kept]);
    assert_eq!(
        log.read_stream(session(5), 1).unwrap(),
        [stored(kept as u64 + 1, 21, &after)]
    );
    let verified = log.verify().unwrap();
    assert!(verified.is_clean(), "{verified}");
}

#[test]
fn garbage_in_the_last_record_is_reported_and_cut() {
    assert_tail_cut(
        |frames| {
            let (key, frame) = frames.last().unwrap().unwrap();
            let mut frame = frame.to_vec();
            let end = frame.len();
            frame[end - 40..end - 20].fill(0x5a);
            frames.insert(key, frame).unwrap();
        },
        1,
        5,
    );
}

#[test]
fn a_truncated_last_frame_is_cut_to_its_good_prefix() {
    assert_tail_cut(
        |frames| {
            let (key, frame) = frames.last().unwrap().unwrap();
            assert_eq!(decode_frame(&frame).unwrap().len(), 2);
            frames.insert(key, &frame[..frame.len() - 7]).unwrap();
        },
        1,
        5,
    );
}

#[test]
fn a_last_frame_torn_in_its_first_record_is_removed() {
    assert_tail_cut(
        |frames| {
            let (key, frame) = frames.last().unwrap().unwrap();
            frames.insert(key, &frame[..5]).unwrap();
        },
        1,
        4,
    );
}

#[test]
fn damage_a_crash_cannot_explain_is_refused_not_cut() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    append_frames(&log, session(4), 2, 20);
    drop(log);
    // A well-formed frame whose seqs leave a gap after the frame before it.
    with_raw_frames(dir.path(), |frames| {
        let (key, _) = frames.last().unwrap().unwrap();
        frames.remove(key).unwrap();
        let stray = Envelope {
            seq: 9,
            at_ms: 1,
            app: APP,
            stream: session(4),
            event: Event::AgentResumed,
        };
        frames
            .insert(9u64.to_be_bytes(), encode_frame(&[stray]).unwrap())
            .unwrap();
    });
    match SledLog::open(dir.path(), Durability::Fsync) {
        Err(LogError::Corrupt { frame: 9, reason }) => {
            assert!(reason.contains("ends at seq 2"), "{reason}")
        }
        Err(other) => panic!("expected Corrupt, got {other}"),
        Ok(_) => panic!("a log with a gap opened"),
    }
}

#[test]
fn read_stream_is_right_while_the_index_lags_and_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let mut expected = append_frames(&log, session(1), 2, 1);
    expected.extend(append_frames(&log, session(2), 1, 2));
    log.sync_index().unwrap();

    let pause = log.pause_index();
    expected.extend(append_frames(&log, session(1), 2, 3));
    expected.extend(append_frames(&log, session(2), 1, 4));
    assert!(
        log.indexed_through() < log.durable_seq(),
        "the index must lag for this test"
    );
    let of = |expected: &[Envelope], stream, from| {
        expected
            .iter()
            .filter(|e| e.stream == stream && e.seq >= from)
            .cloned()
            .collect::<Vec<_>>()
    };
    for from in [0, 3, 6, 9, 12, 13] {
        assert_eq!(
            log.read_stream(session(1), from).unwrap(),
            of(&expected, session(1), from),
            "lagging, from {from}"
        );
        assert_eq!(
            log.read_stream(session(2), from).unwrap(),
            of(&expected, session(2), from),
            "lagging, from {from}"
        );
    }
    assert!(
        log.verify().unwrap().is_clean(),
        "a lagging index is not a problem"
    );
    drop(pause);
    log.sync_index().unwrap();
    assert_eq!(
        log.read_stream(session(1), 1).unwrap(),
        of(&expected, session(1), 1),
        "caught up"
    );

    // Closed while the index lags: the next open catches it up.
    let _pause = log.pause_index();
    expected.extend(append_frames(&log, session(2), 2, 5));
    drop(log);
    let (log, report) = SledLog::open(dir.path(), Durability::Fsync).unwrap();
    assert_eq!(report.index_caught_up, 4, "{report}");
    assert_eq!(log.indexed_through(), report.last_seq);
    for from in [1, 7, 14] {
        assert_eq!(
            log.read_stream(session(2), from).unwrap(),
            of(&expected, session(2), from),
            "reopened, from {from}"
        );
    }
    assert_eq!(
        log.read_stream(session(1), 1).unwrap(),
        of(&expected, session(1), 1)
    );
    assert!(log.verify().unwrap().is_clean());
}

/// With the stream index off (the serving default) nothing is indexed and reads scan the
/// frames; turned on again, the index catches up at open and verifies.
#[test]
fn without_the_stream_index_reads_scan_and_a_later_open_catches_up() {
    use helpline::log::LogOptions;
    let dir = tempfile::tempdir().unwrap();
    let off = LogOptions {
        durability: Durability::Fsync,
        stream_index: false,
    };
    let written_a;
    let written_b;
    {
        let (log, _) = SledLog::open_with(dir.path(), off).unwrap();
        written_a = append_frames(&log, session(1), 3, 10);
        written_b = append_frames(&log, session(2), 2, 20);
        assert_eq!(log.indexed_through(), 0);
        assert_eq!(log.read_stream(session(1), 1).unwrap(), written_a);
        assert_eq!(
            log.read_stream(session(2), 3).unwrap().len(),
            written_b.iter().filter(|e| e.seq >= 3).count()
        );
        assert!(
            log.sync_index().is_err(),
            "waiting on an index nobody maintains fails at once"
        );
        assert!(log.verify().unwrap().problems.is_empty());
    }
    let log = open(dir.path());
    assert_eq!(
        log.indexed_through(),
        (written_a.len() + written_b.len()) as u64
    );
    assert_eq!(log.read_stream(session(2), 1).unwrap(), written_b);
    let report = log.verify().unwrap();
    assert!(report.problems.is_empty(), "{report}");
}

#[test]
fn snapshots_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    append_frames(&log, session(1), 2, 1);
    assert_eq!(log.load_snapshot(session(1)).unwrap(), None);
    log.save_snapshot(session(1), 2, b"state at 2").unwrap();
    log.save_snapshot(session(1), 4, b"state at 4").unwrap();
    log.save_snapshot(session(2), 3, b"").unwrap();
    let err = log.save_snapshot(session(1), 5, b"ahead").unwrap_err();
    assert!(matches!(err, LogError::InvalidAppend(_)), "{err}");
    assert_eq!(
        log.load_snapshot(session(1)).unwrap(),
        Some((4, b"state at 4".to_vec()))
    );
    drop(log);
    let log = open(dir.path());
    assert_eq!(
        log.load_snapshot(session(1)).unwrap(),
        Some((4, b"state at 4".to_vec()))
    );
    assert_eq!(
        log.load_snapshot(session(2)).unwrap(),
        Some((3, Vec::new()))
    );
    assert_eq!(log.load_snapshot(session(3)).unwrap(), None);
    assert!(log.verify().unwrap().is_clean());
}

#[test]
fn invalid_appends_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    log.append(1, vec![draft(session(1), "ok")], None).unwrap();

    let too_many: Vec<_> = (0..=MAX_APPEND_EVENTS)
        .map(|i| draft(session(1), &i.to_string()))
        .collect();
    let huge = draft(session(1), &"x".repeat(MAX_EVENT_BYTES));
    let one_bad = vec![draft(session(1), "fine"), huge.clone()];
    for bad in [too_many, vec![huge], one_bad, Vec::new()] {
        let (tx, rx) = mpsc::channel::<()>();
        let err = log
            .append(2, bad, Some(Box::new(move |_| tx.send(()).unwrap())))
            .unwrap_err();
        assert!(matches!(err, LogError::InvalidAppend(_)), "{err}");
        assert_eq!(log.last_seq(), 1);
        assert!(
            rx.recv().is_err(),
            "the completion of a refused append is dropped, never run"
        );
    }
    assert_eq!(
        log.append(3, vec![draft(session(1), "next")], None)
            .unwrap(),
        2..=2
    );
    log.sync().unwrap();
    assert_eq!(read_all(&log, 1).len(), 2);
}

#[test]
fn appends_after_close_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    log.append(1, vec![draft(session(1), "before")], None)
        .unwrap();
    log.close();
    assert_eq!(log.durable_seq(), 1);
    assert!(matches!(
        log.append(1, vec![draft(session(1), "after")], None),
        Err(LogError::Closed)
    ));
    let (tx, rx) = mpsc::channel();
    log.barrier(Box::new(move |r| tx.send(r).unwrap()));
    assert!(matches!(rx.recv().unwrap(), Ok(1)));
}

#[tokio::test]
async fn async_helpers_resolve_once_durable() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let seqs = log
        .append_durable(1, vec![draft(session(1), "a"), draft(session(1), "b")])
        .await
        .unwrap();
    assert_eq!(seqs, 1..=2);
    assert!(log.durable_seq() >= 2);
    log.append(2, vec![draft(session(1), "c")], None).unwrap();
    assert!(log.durable_barrier().await.unwrap() >= 3);
}

// ---- model-based test ----

#[derive(Clone, Debug)]
enum Op {
    Append { stream: u64, n: usize },
    Restart,
    ReadStream { stream: u64, from: u64 },
    ReadFrom { from: u64 },
    PauseIndex,
    ResumeIndex,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..4u64, 1..6usize).prop_map(|(stream, n)| Op::Append { stream, n }),
        1 => Just(Op::Restart),
        2 => (0..4u64, 0..40u64).prop_map(|(stream, from)| Op::ReadStream { stream, from }),
        2 => (0..40u64).prop_map(|from| Op::ReadFrom { from }),
        1 => Just(Op::PauseIndex),
        1 => Just(Op::ResumeIndex),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// The log behaves like a `Vec<Envelope>` that survives restarts.
    #[test]
    fn the_log_behaves_like_a_vec(ops in proptest::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let mut log = Some(SledLog::open(dir.path(), Durability::None).unwrap().0);
        let mut pause = None;
        let mut model: Vec<Envelope> = Vec::new();
        for (step, op) in ops.into_iter().enumerate() {
            let real = log.as_ref().unwrap();
            match op {
                Op::Append { stream, n } => {
                    let drafts: Vec<_> = (0..n).map(|i| draft(session(stream), &format!("s{step} e{i}"))).collect();
                    let seqs = real.append(step as i64, drafts.clone(), None).unwrap();
                    prop_assert_eq!(*seqs.start(), model.len() as u64 + 1);
                    model.extend(seqs.zip(&drafts).map(|(seq, d)| stored(seq, step as i64, d)));
                }
                Op::Restart => {
                    pause = None;
                    drop(log.take());
                    let (reopened, report) = SledLog::open(dir.path(), Durability::None).unwrap();
                    prop_assert_eq!(report.last_seq, model.len() as u64);
                    prop_assert_eq!(report.cut_records, 0);
                    prop_assert_eq!(read_all(&reopened, 1), model.clone());
                    log = Some(reopened);
                }
                Op::ReadStream { stream, from } => {
                    real.sync().unwrap();
                    let expected: Vec<_> = model.iter().filter(|e| e.stream == session(stream) && e.seq >= from).cloned().collect();
                    prop_assert_eq!(real.read_stream(session(stream), from).unwrap(), expected);
                }
                Op::ReadFrom { from } => {
                    real.sync().unwrap();
                    let expected: Vec<_> = model.iter().filter(|e| e.seq >= from).cloned().collect();
                    prop_assert_eq!(read_all(real, from), expected);
                }
                Op::PauseIndex => pause = Some(real.pause_index()),
                Op::ResumeIndex => pause = None,
            }
            let real = log.as_ref().unwrap();
            prop_assert_eq!(real.last_seq(), model.len() as u64);
        }
        drop(pause);
        let real = log.as_ref().unwrap();
        real.sync().unwrap();
        real.sync_index().unwrap();
        let report = real.verify().unwrap();
        prop_assert!(report.is_clean(), "{}", report);
        prop_assert_eq!(report.events, model.len() as u64);
    }
}
