//! Group commit: many appends, one frame, one fsync, completions in order.
//!
//! [`Writer::append`] never waits for IO. It encodes the events on the caller's thread,
//! then, under one short lock, gives them dense seqs, queues them with their completion
//! and wakes the writer thread (`helpline-log-writer`). That thread takes everything
//! queued (whole appends, at most [`MAX_BATCH_EVENTS`] events and about [`MAX_BATCH_BYTES`]), writes it as one frame
//! through a [`CommitTarget`], makes it durable once, publishes the new durable seq, and
//! only then runs the completions, in seq order. The more appenders are waiting, the
//! bigger the batch: throughput rises with load instead of drowning in fsyncs.
//!
//! A storage error (a full disk, a failed fsync) **stalls** the log: the failed batch is
//! kept, whole, with its seqs and completions, and written again after a back-off until the
//! store takes it; appends are refused meanwhile (their callers get the error at once and
//! apply nothing), and acknowledgements are withheld, so nobody is told of an event that is
//! not durable. Appends queued before the failure stay queued behind the batch. Once a
//! retry succeeds the log goes on where it stopped, without a restart and without a hole.
//! [`Writer::health`] (and `/readyz`, and the `helpline_log_writable` gauge) tell which.
//! Closing a stalled log fails what it holds: those completions get the error.

use std::collections::VecDeque;
use std::ops::RangeInclusive;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use crate::domain::event::Envelope;
use crate::domain::ids::StreamId;
use crate::log::codec::{self, EncodedEvent};
use crate::log::{
    Completion, Draft, Durability, LogError, MAX_APPEND_EVENTS, MAX_BATCH_BYTES, MAX_BATCH_EVENTS,
};

/// Histogram: seconds one fsync (`db.flush()`) of a batch takes.
pub const METRIC_FSYNC_SECONDS: &str = crate::stats::names::LOG_FSYNC.name;
/// Histogram: seconds to write one batch's frame into the store, before fsync.
pub const METRIC_APPEND_SECONDS: &str = crate::stats::names::LOG_APPEND.name;
/// Histogram: events per committed frame.
pub const METRIC_BATCH_EVENTS: &str = crate::stats::names::LOG_BATCH_EVENTS.name;
/// Counter: events made durable.
pub const METRIC_EVENTS_APPENDED: &str = crate::stats::names::LOG_EVENTS.name;
/// Gauge: the highest durable seq.
pub const METRIC_DURABLE_SEQ: &str = crate::stats::names::LOG_DURABLE_SEQ.name;

/// Gauge: 1 while the log takes writes, 0 while a storage error stalls it.
pub const METRIC_WRITABLE: &str = crate::stats::names::LOG_WRITABLE.name;
/// Counter: failed attempts to write or fsync a batch.
pub const METRIC_WRITE_FAILURES: &str = crate::stats::names::LOG_WRITE_FAILURES.name;

/// The first wait before a failed batch is written again; it doubles up to
/// [`RETRY_BACKOFF_MAX`]. Short, since a freed disk should be used at once.
pub const RETRY_BACKOFF_FIRST: std::time::Duration = std::time::Duration::from_millis(100);
/// The longest wait between two attempts: a full disk is retried at least this often.
pub const RETRY_BACKOFF_MAX: std::time::Duration = std::time::Duration::from_secs(5);

/// Name of the writer thread (shows in `top -H`, debuggers and panics).
pub const WRITER_THREAD_NAME: &str = "helpline-log-writer";

/// Where the writer puts frames: the sled trees in production, memory in tests.
pub trait CommitTarget: Send + 'static {
    /// Stores one frame under its first seq (not yet durable).
    fn write_frame(&mut self, first_seq: u64, frame: &[u8]) -> Result<(), LogError>;
    /// Makes everything written so far durable (fsync).
    fn make_durable(&mut self) -> Result<(), LogError>;
    /// Told once a frame is durable, with the stream of each of its events in seq order.
    fn frame_durable(&mut self, first_seq: u64, streams: Vec<StreamId>);
}

/// The group-commit front of the log: assigns seqs, queues appends, runs the writer thread.
pub struct Writer {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// One append (or a barrier, with no events) waiting for the writer.
struct Pending {
    first_seq: u64,
    events: Vec<EncodedEvent>,
    streams: Vec<StreamId>,
    completion: Option<Completion>,
}

/// What the appenders and the writer thread share, under one lock.
struct Queue {
    /// The seq the next event gets.
    next_seq: u64,
    /// The highest seq known durable.
    durable_seq: u64,
    /// Appends (and barriers) not yet taken by the writer, in seq order.
    pending: VecDeque<Pending>,
    /// The storage error that stopped the log for good (closed while stalled), if any.
    poisoned: Option<LogError>,
    /// The storage error the writer is retrying past, if any: appends are refused meanwhile.
    stalled: Option<Stall>,
    /// Wake the writer's back-off early (a test or an operator says the store is back).
    retry_now: bool,
    /// The writer has taken a batch and not yet run all its completions.
    in_flight: bool,
    /// `close` was called: no more appends; the writer drains and stops.
    closing: bool,
    /// The writer thread has stopped; nobody will take queued work any more.
    stopped: bool,
}

/// A storage error the writer is retrying past.
#[derive(Clone, Debug)]
struct Stall {
    error: LogError,
    attempts: u64,
}

/// Whether the log takes writes now.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogHealth {
    /// Appends are taken and made durable.
    pub writable: bool,
    /// The storage error that stalls it, while it does.
    pub error: Option<String>,
    /// Failed attempts at the batch it holds, while stalled.
    pub failed_attempts: u64,
    /// The highest durable seq.
    pub durable_seq: u64,
}

struct Shared {
    queue: Mutex<Queue>,
    /// Wakes the writer thread: work queued, or closing.
    work: Condvar,
    /// Wakes `sync` callers: durable seq moved, poisoned, or stopped.
    durable: Condvar,
    /// Mirrors of the queue's seqs for lock-free reads.
    last_seq: AtomicU64,
    durable_seq: AtomicU64,
    durability: Durability,
    /// The first back-off after a storage error ([`RETRY_BACKOFF_FIRST`]; tests use none).
    retry_first: std::time::Duration,
    stats: WriterStats,
}

/// What the writer has done since the log was opened (lock-free counters).
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Frames written (one per batch).
    pub frames: AtomicU64,
    /// Events written.
    pub events: AtomicU64,
    /// Time spent writing frames into the store, in nanoseconds.
    pub write_ns: AtomicU64,
    /// Time spent making batches durable (fsync), in nanoseconds.
    pub fsync_ns: AtomicU64,
    /// The longest single fsync, in nanoseconds.
    pub fsync_ns_max: AtomicU64,
}

impl WriterStats {
    /// A copy of the counters as plain numbers.
    pub fn snapshot(&self) -> WriterFigures {
        WriterFigures {
            frames: self.frames.load(Ordering::Relaxed),
            events: self.events.load(Ordering::Relaxed),
            write_ns: self.write_ns.load(Ordering::Relaxed),
            fsync_ns: self.fsync_ns.load(Ordering::Relaxed),
            fsync_ns_max: self.fsync_ns_max.load(Ordering::Relaxed),
        }
    }
}

/// [`WriterStats`] read at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct WriterFigures {
    /// Frames written.
    pub frames: u64,
    /// Events written.
    pub events: u64,
    /// Nanoseconds spent writing frames.
    pub write_ns: u64,
    /// Nanoseconds spent in fsync.
    pub fsync_ns: u64,
    /// The longest fsync, in nanoseconds.
    pub fsync_ns_max: u64,
}

impl Queue {
    /// Why an append or barrier is refused now: the log stalled or stopped on an error.
    fn refusal(&self) -> Option<LogError> {
        self.poisoned
            .as_ref()
            .or(self.stalled.as_ref().map(|s| &s.error))
            .cloned()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A panic while holding this lock cannot leave the queue half-updated (each update
        // is a few plain assignments), so a poisoned mutex is safe to keep using.
        self.queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Writer {
    /// Starts the writer thread over `target`, for a log whose last seq is `last_seq`
    /// (all of it durable).
    pub fn start(
        last_seq: u64,
        durability: Durability,
        target: impl CommitTarget,
    ) -> Result<Self, LogError> {
        Self::start_retrying(last_seq, durability, target, RETRY_BACKOFF_FIRST)
    }

    /// [`Writer::start`] with the first back-off after a storage error given.
    fn start_retrying(
        last_seq: u64,
        durability: Durability,
        target: impl CommitTarget,
        retry_first: std::time::Duration,
    ) -> Result<Self, LogError> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                next_seq: last_seq + 1,
                durable_seq: last_seq,
                pending: VecDeque::new(),
                poisoned: None,
                stalled: None,
                retry_now: false,
                in_flight: false,
                closing: false,
                stopped: false,
            }),
            work: Condvar::new(),
            durable: Condvar::new(),
            last_seq: AtomicU64::new(last_seq),
            durable_seq: AtomicU64::new(last_seq),
            durability,
            retry_first,
            stats: WriterStats::default(),
        });
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(WRITER_THREAD_NAME.to_owned())
            .spawn(move || run_writer(&thread_shared, target))
            .map_err(|e| {
                LogError::Storage(format!("cannot start {WRITER_THREAD_NAME} thread: {e}"))
            })?;
        metrics::gauge!(METRIC_DURABLE_SEQ).set(last_seq as f64);
        metrics::gauge!(METRIC_WRITABLE).set(1.0);
        metrics::counter!(METRIC_WRITE_FAILURES).increment(0);
        Ok(Self {
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Queues `drafts` as one unit and returns their seqs; `on_durable` runs on the writer
    /// thread once they are durable. On `Err` nothing was queued and `on_durable` is dropped
    /// unrun.
    pub fn append(
        &self,
        at_ms: i64,
        drafts: Vec<Draft>,
        on_durable: Option<Completion>,
    ) -> Result<RangeInclusive<u64>, LogError> {
        if drafts.is_empty() {
            return Err(LogError::InvalidAppend(
                "an append needs at least one event".to_owned(),
            ));
        }
        if drafts.len() > MAX_APPEND_EVENTS {
            return Err(LogError::InvalidAppend(format!(
                "append of {} events, more than MAX_APPEND_EVENTS ({MAX_APPEND_EVENTS})",
                drafts.len()
            )));
        }
        // Encode before taking the lock: the size check needs the bytes, and encoding is
        // the costly part, done here in parallel by every appending thread.
        let mut events = Vec::with_capacity(drafts.len());
        let mut streams = Vec::with_capacity(drafts.len());
        for Draft { app, stream, event } in drafts {
            events.push(codec::encode_event(&Envelope {
                seq: 0,
                at_ms,
                app,
                stream,
                event,
            })?);
            streams.push(stream);
        }

        let count = events.len() as u64;
        let mut queue = self.shared.lock();
        if let Some(err) = queue.refusal() {
            return Err(err);
        }
        if queue.closing {
            return Err(LogError::Closed);
        }
        let first_seq = queue.next_seq;
        for (seq, event) in (first_seq..).zip(events.iter_mut()) {
            codec::stamp_seq(event, seq);
        }
        queue.next_seq += count;
        let last_seq = queue.next_seq - 1;
        queue.pending.push_back(Pending {
            first_seq,
            events,
            streams,
            completion: on_durable,
        });
        self.shared.last_seq.store(last_seq, Ordering::Release);
        drop(queue);
        self.shared.work.notify_one();
        Ok(first_seq..=last_seq)
    }

    /// Runs `on_durable` once everything appended before this call is durable and every
    /// earlier completion has run: at once, on this thread, if the writer is idle;
    /// otherwise on the writer thread, after them.
    pub fn barrier(&self, on_durable: Completion) {
        let mut queue = self.shared.lock();
        if let Some(err) = queue.refusal() {
            drop(queue);
            return complete(on_durable, Err(err));
        }
        if queue.pending.is_empty() && !queue.in_flight {
            let durable_seq = queue.durable_seq;
            debug_assert_eq!(
                durable_seq,
                queue.next_seq - 1,
                "an idle writer has made everything durable"
            );
            drop(queue);
            return complete(on_durable, Ok(durable_seq));
        }
        // Work is queued or in flight, so the writer thread is alive and reaches this
        // entry after it: completions keep their order.
        debug_assert!(!queue.stopped);
        let first_seq = queue.next_seq;
        queue.pending.push_back(Pending {
            first_seq,
            events: Vec::new(),
            streams: Vec::new(),
            completion: Some(on_durable),
        });
        drop(queue);
        self.shared.work.notify_one();
    }

    /// What the writer has done so far.
    pub fn stats(&self) -> WriterFigures {
        self.shared.stats.snapshot()
    }

    /// The highest seq handed out.
    pub fn last_seq(&self) -> u64 {
        self.shared.last_seq.load(Ordering::Acquire)
    }

    /// The highest seq known durable.
    pub fn durable_seq(&self) -> u64 {
        self.shared.durable_seq.load(Ordering::Acquire)
    }

    /// Whether the log takes writes now, and the error that stalls it if not.
    pub fn health(&self) -> LogHealth {
        let queue = self.shared.lock();
        let error = queue
            .stalled
            .as_ref()
            .map(|s| &s.error)
            .or(queue.poisoned.as_ref());
        LogHealth {
            writable: error.is_none() && !queue.closing,
            error: error.map(ToString::to_string),
            failed_attempts: queue.stalled.as_ref().map_or(0, |s| s.attempts),
            durable_seq: queue.durable_seq,
        }
    }

    /// Ends a stalled writer's back-off: it tries the batch it holds again now.
    pub fn retry_now(&self) {
        self.shared.lock().retry_now = true;
        self.shared.work.notify_one();
    }

    /// Blocks until everything appended before the call is durable (their completions may
    /// still be running: use a barrier to wait for those). Never call it from a completion:
    /// those run on the writer thread, which would wait for itself.
    pub fn sync(&self) -> Result<u64, LogError> {
        let mut queue = self.shared.lock();
        let target = queue.next_seq - 1;
        loop {
            if queue.durable_seq >= target {
                return Ok(queue.durable_seq);
            }
            if let Some(err) = queue.refusal() {
                return Err(err);
            }
            if queue.stopped {
                return Err(LogError::Closed);
            }
            queue = self
                .shared
                .durable
                .wait(queue)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    /// Refuses further appends, lets the writer make everything queued durable (running
    /// its completions), and joins the writer thread. Idempotent.
    pub fn close(&self) {
        self.shared.lock().closing = true;
        self.shared.work.notify_one();
        let mut slot = self.thread.lock().unwrap_or_else(|p| p.into_inner());
        // Closing from a completion (say, dropping the last handle to the log in one) must
        // not join the writer thread from itself: it stops on its own once drained.
        if slot
            .as_ref()
            .is_none_or(|t| t.thread().id() == std::thread::current().id())
        {
            return;
        }
        let thread = slot.take().expect("checked above");
        drop(slot);
        if thread.join().is_err() {
            tracing::error!("{WRITER_THREAD_NAME} thread panicked");
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.close();
    }
}

/// The writer thread: take a batch, commit it, complete it; until closed and drained.
fn run_writer(shared: &Shared, mut target: impl CommitTarget) {
    let mut frame = Vec::new();
    loop {
        let batch = {
            let mut queue = shared.lock();
            queue.in_flight = false;
            while queue.pending.is_empty() && !queue.closing {
                queue = shared.work.wait(queue).unwrap_or_else(|p| p.into_inner());
            }
            if queue.pending.is_empty() {
                queue.stopped = true;
                drop(queue);
                shared.durable.notify_all();
                return;
            }
            queue.in_flight = true;
            take_batch(&mut queue.pending)
        };
        commit(shared, &mut target, &mut frame, batch);
    }
}

/// Takes whole appends from the front of the queue, up to [`MAX_BATCH_EVENTS`] events and
/// [`MAX_BATCH_BYTES`] bytes (at least one append, whatever its size).
fn take_batch(pending: &mut VecDeque<Pending>) -> Vec<Pending> {
    let mut events = 0;
    let mut bytes = 0;
    let mut batch = Vec::new();
    while let Some(next) = pending.front() {
        let next_bytes: usize = next
            .events
            .iter()
            .map(|e| e.len() + codec::RECORD_OVERHEAD)
            .sum();
        let full =
            events + next.events.len() > MAX_BATCH_EVENTS || bytes + next_bytes > MAX_BATCH_BYTES;
        if full && !batch.is_empty() {
            break;
        }
        events += next.events.len();
        bytes += next_bytes;
        batch.extend(pending.pop_front());
    }
    batch
}

/// Writes one batch as one frame, makes it durable, and runs its completions in order.
fn commit(
    shared: &Shared,
    target: &mut impl CommitTarget,
    frame: &mut Vec<u8>,
    batch: Vec<Pending>,
) {
    frame.clear();
    let mut streams = Vec::new();
    let mut completions = Vec::with_capacity(batch.len());
    let first_seq = batch[0].first_seq;
    let mut next_seq = first_seq;
    for pending in batch {
        debug_assert_eq!(pending.first_seq, next_seq, "appends in a batch are dense");
        for event in &pending.events {
            codec::push_record(frame, event);
        }
        next_seq += pending.events.len() as u64;
        streams.extend(pending.streams);
        completions.extend(pending.completion);
    }
    let count = next_seq - first_seq;

    if count > 0 && !write_until_durable(shared, target, first_seq, frame) {
        let err = shared.lock().refusal().unwrap_or(LogError::Closed);
        return poison(shared, err, completions);
    }

    let durable_seq = next_seq - 1;
    shared.stats.events.fetch_add(count, Ordering::Relaxed);
    if count > 0 {
        let mut queue = shared.lock();
        debug_assert_eq!(
            queue.durable_seq + 1,
            first_seq,
            "frames are dense: no gap, no overlap"
        );
        queue.durable_seq = durable_seq;
        shared.durable_seq.store(durable_seq, Ordering::Release);
        drop(queue);
        shared.durable.notify_all();
        metrics::histogram!(METRIC_BATCH_EVENTS).record(count as f64);
        metrics::counter!(METRIC_EVENTS_APPENDED).increment(count);
        metrics::gauge!(METRIC_DURABLE_SEQ).set(durable_seq as f64);
        target.frame_durable(first_seq, streams);
    }
    for completion in completions {
        complete(completion, Ok(durable_seq));
    }
}

/// Writes the frame durably, retrying after a storage error with a growing back-off (the
/// log refuses appends meanwhile) until it succeeds, or until the log is closed: `false`.
fn write_until_durable(
    shared: &Shared,
    target: &mut impl CommitTarget,
    first_seq: u64,
    frame: &[u8],
) -> bool {
    let mut backoff = shared.retry_first;
    loop {
        let err = match write_durably(shared, target, first_seq, frame) {
            Ok(()) => {
                let mut queue = shared.lock();
                if let Some(stall) = queue.stalled.take() {
                    drop(queue);
                    metrics::gauge!(METRIC_WRITABLE).set(1.0);
                    tracing::warn!(
                        attempts = stall.attempts,
                        "event log writable again; appends are taken"
                    );
                }
                return true;
            }
            Err(err) => err,
        };
        metrics::counter!(METRIC_WRITE_FAILURES).increment(1);
        let mut queue = shared.lock();
        match &mut queue.stalled {
            Some(stall) => {
                stall.attempts += 1;
                stall.error = err;
            }
            None => {
                tracing::error!(error = %err, "event log write failed; refusing appends and retrying");
                metrics::gauge!(METRIC_WRITABLE).set(0.0);
                queue.stalled = Some(Stall {
                    error: err,
                    attempts: 1,
                });
            }
        }
        // Callers of `sync` learn of the stall now rather than after it.
        shared.durable.notify_all();
        let deadline = backoff;
        backoff = (backoff * 2).min(RETRY_BACKOFF_MAX);
        if !queue.retry_now && !queue.closing {
            queue = shared
                .work
                .wait_timeout_while(queue, deadline, |q| !q.retry_now && !q.closing)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        queue.retry_now = false;
        if queue.closing {
            // Shutting down while the store fails: what the log holds cannot be kept.
            let err = queue.stalled.take().map(|s| s.error);
            queue.poisoned = err.or(Some(LogError::Closed));
            return false;
        }
    }
}

/// Writes the frame and, under [`Durability::Fsync`], makes it durable.
fn write_durably(
    shared: &Shared,
    target: &mut impl CommitTarget,
    first_seq: u64,
    frame: &[u8],
) -> Result<(), LogError> {
    let stats = &shared.stats;
    let started = crate::clock::stopwatch();
    target.write_frame(first_seq, frame)?;
    let took = started.elapsed();
    stats
        .write_ns
        .fetch_add(took.as_nanos() as u64, Ordering::Relaxed);
    metrics::histogram!(METRIC_APPEND_SECONDS).record(took.as_secs_f64());
    stats.frames.fetch_add(1, Ordering::Relaxed);
    if shared.durability == Durability::None {
        return Ok(());
    }
    let started = crate::clock::stopwatch();
    target.make_durable()?;
    let took = started.elapsed();
    stats
        .fsync_ns
        .fetch_add(took.as_nanos() as u64, Ordering::Relaxed);
    stats
        .fsync_ns_max
        .fetch_max(took.as_nanos() as u64, Ordering::Relaxed);
    metrics::histogram!(METRIC_FSYNC_SECONDS).record(took.as_secs_f64());
    Ok(())
}

/// Fails the batch and everything queued behind it with `err`, and refuses appends from now
/// on: a log closed while its store fails.
fn poison(shared: &Shared, err: LogError, mut completions: Vec<Completion>) {
    tracing::error!(error = %err, "event log closed while its store fails; unwritten appends are failed");
    let mut queue = shared.lock();
    queue.poisoned = Some(err.clone());
    completions.extend(queue.pending.drain(..).filter_map(|p| p.completion));
    drop(queue);
    shared.durable.notify_all();
    for completion in completions {
        complete(completion, Err(err.clone()));
    }
}

/// Runs one completion; a panicking completion is logged and must not kill the writer.
fn complete(completion: Completion, result: Result<u64, LogError>) {
    if catch_unwind(AssertUnwindSafe(|| completion(result))).is_err() {
        tracing::error!("an event log completion panicked");
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;
    use crate::domain::event::Event;
    use crate::domain::ids::{AppId, SessionId};

    /// Frames kept in memory; fails every write once `fail_from` frames are stored, and the
    /// next `failures` writes.
    #[derive(Clone, Default)]
    struct Memory {
        frames: Frames,
        fail_from: Option<usize>,
        failures: Arc<std::sync::atomic::AtomicUsize>,
        /// Held by a test to stop the writer inside `write_frame`.
        gate: Option<Arc<Mutex<()>>>,
    }

    impl CommitTarget for Memory {
        fn write_frame(&mut self, first_seq: u64, frame: &[u8]) -> Result<(), LogError> {
            if let Some(gate) = &self.gate {
                drop(gate.lock().unwrap());
            }
            let mut frames = self.frames.lock().unwrap();
            if self.fail_from.is_some_and(|n| frames.len() >= n) {
                return Err(LogError::Storage("disk on fire".into()));
            }
            let failing = self
                .failures
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if failing {
                return Err(LogError::Storage("no space left on device".into()));
            }
            frames.push((first_seq, frame.to_vec()));
            Ok(())
        }
        fn make_durable(&mut self) -> Result<(), LogError> {
            Ok(())
        }
        fn frame_durable(&mut self, _first_seq: u64, _streams: Vec<StreamId>) {}
    }

    fn drafts(n: usize) -> Vec<Draft> {
        (0..n)
            .map(|i| Draft {
                app: AppId(1),
                stream: StreamId::session(SessionId(i as u64)),
                event: Event::SessionUserMessage {
                    text: format!("m{i}"),
                },
            })
            .collect()
    }

    /// A completion's tag and what it was told.
    type Done = (u64, Result<u64, LogError>);

    /// Frames the writer stored, by first seq.
    type Frames = Arc<Mutex<Vec<(u64, Vec<u8>)>>>;

    fn recorder() -> (mpsc::Sender<Done>, mpsc::Receiver<Done>) {
        mpsc::channel()
    }

    /// Waits until everything appended is durable and every completion has run.
    fn settle(writer: &Writer) -> u64 {
        let (tx, rx) = mpsc::channel();
        writer.barrier(Box::new(move |r| tx.send(r).unwrap()));
        rx.recv().unwrap().unwrap()
    }

    fn tagged(tx: &mpsc::Sender<Done>, tag: u64) -> Option<Completion> {
        let tx = tx.clone();
        Some(Box::new(move |r| tx.send((tag, r)).unwrap()))
    }

    #[test]
    fn appends_get_dense_seqs_and_complete_in_order() {
        let memory = Memory::default();
        let writer = Writer::start(0, Durability::Fsync, memory.clone()).unwrap();
        let (tx, rx) = recorder();
        for tag in 1..=50u64 {
            let seqs = writer.append(5, drafts(3), tagged(&tx, tag)).unwrap();
            assert_eq!(seqs, tag * 3 - 2..=tag * 3);
        }
        assert_eq!(settle(&writer), 150);
        let done: Vec<_> = rx.try_iter().collect();
        assert_eq!(
            done.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
            (1..=50).collect::<Vec<_>>()
        );
        assert!(
            done.iter()
                .all(|(t, r)| r.as_ref().is_ok_and(|d| *d >= t * 3))
        );

        let frames = memory.frames.lock().unwrap();
        let all: Vec<Envelope> = frames
            .iter()
            .flat_map(|(_, f)| codec::decode_frame(f).unwrap())
            .collect();
        assert_eq!(
            all.iter().map(|e| e.seq).collect::<Vec<_>>(),
            (1..=150).collect::<Vec<_>>()
        );
        for (key, frame) in frames.iter() {
            assert_eq!(
                codec::decode_frame(frame).unwrap()[0].seq,
                *key,
                "frame key is its first seq"
            );
        }
    }

    #[test]
    fn appends_queued_behind_a_slow_write_share_one_frame() {
        let gate = Arc::new(Mutex::new(()));
        let memory = Memory {
            gate: Some(Arc::clone(&gate)),
            ..Memory::default()
        };
        let writer = Writer::start(0, Durability::Fsync, memory.clone()).unwrap();
        let held = gate.lock().unwrap();
        writer.append(1, drafts(1), None).unwrap();
        // The writer takes the first append and blocks in write_frame on the gate (or has not
        // woken yet); these queue behind it.
        for _ in 0..10 {
            writer.append(1, drafts(2), None).unwrap();
        }
        drop(held);
        assert_eq!(writer.sync().unwrap(), 21);
        let frames = memory.frames.lock().unwrap();
        assert!(frames.len() <= 2, "batched into {} frames", frames.len());
    }

    #[test]
    fn a_barrier_waits_for_earlier_appends_and_runs_at_once_when_idle() {
        let writer = Writer::start(10, Durability::Fsync, Memory::default()).unwrap();
        let (tx, rx) = recorder();
        writer.barrier(tagged(&tx, 1).unwrap());
        assert!(matches!(rx.try_recv().unwrap(), (1, Ok(10))));
        writer.append(1, drafts(4), tagged(&tx, 2)).unwrap();
        writer.barrier(tagged(&tx, 3).unwrap());
        let got: Vec<_> = (0..2).map(|_| rx.recv().unwrap()).collect();
        assert_eq!(got.iter().map(|(t, _)| *t).collect::<Vec<_>>(), vec![2, 3]);
        assert!(matches!(got[1].1, Ok(14)));
    }

    #[test]
    fn a_barrier_never_overtakes_a_completion_still_running() {
        // Regression: a barrier used to run at once on the caller when everything was
        // durable, even while the writer was still running earlier completions, so
        // effects could be released out of order.
        let writer = Writer::start(0, Durability::Fsync, Memory::default()).unwrap();
        let (order_tx, order) = mpsc::channel();
        let (started_tx, started) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let first = order_tx.clone();
        writer
            .append(
                1,
                drafts(1),
                Some(Box::new(move |_| {
                    started_tx.send(()).unwrap();
                    released.recv().unwrap();
                    first.send("append").unwrap();
                })),
            )
            .unwrap();
        started.recv().unwrap();
        assert_eq!(
            writer.durable_seq(),
            1,
            "durable, its completion still running"
        );
        writer.barrier(Box::new(move |_| order_tx.send("barrier").unwrap()));
        release.send(()).unwrap();
        assert_eq!(
            order.iter().take(2).collect::<Vec<_>>(),
            ["append", "barrier"]
        );
    }

    #[test]
    fn a_storage_error_stalls_the_log_and_closing_fails_what_it_holds() {
        let memory = Memory {
            fail_from: Some(1),
            ..Memory::default()
        };
        let writer =
            Writer::start_retrying(0, Durability::Fsync, memory, std::time::Duration::ZERO)
                .unwrap();
        let (tx, rx) = recorder();
        writer.append(1, drafts(1), tagged(&tx, 1)).unwrap();
        assert_eq!(writer.sync().unwrap(), 1);
        assert!(writer.health().writable);
        writer.append(1, drafts(1), tagged(&tx, 2)).unwrap();
        // The stall is told to `sync` and refuses appends and barriers at once; the held
        // append's acknowledgement is withheld, not failed.
        assert!(matches!(writer.sync(), Err(LogError::Storage(_))));
        assert!(matches!(rx.recv().unwrap(), (1, Ok(1))));
        assert!(matches!(
            writer.append(1, drafts(1), None),
            Err(LogError::Storage(_))
        ));
        writer.barrier(tagged(&tx, 3).unwrap());
        assert!(matches!(rx.recv().unwrap(), (3, Err(LogError::Storage(_)))));
        let health = writer.health();
        assert!(!health.writable);
        assert!(health.error.unwrap().contains("disk on fire"));
        assert_eq!(health.durable_seq, 1);
        assert_eq!(writer.last_seq(), 2, "the refused append got no seq");
        assert!(rx.try_recv().is_err(), "nothing acknowledged while stalled");
        // Closing gives up: the held append is failed, never acknowledged.
        writer.close();
        assert!(matches!(rx.recv().unwrap(), (2, Err(LogError::Storage(_)))));
        assert_eq!(writer.durable_seq(), 1);
    }

    #[test]
    fn a_stalled_log_writes_what_it_holds_once_the_store_takes_it_again() {
        let memory = Memory::default();
        let frames = memory.frames.clone();
        let failures = memory.failures.clone();
        let writer =
            Writer::start_retrying(0, Durability::Fsync, memory, std::time::Duration::ZERO)
                .unwrap();
        let (tx, rx) = recorder();
        writer.append(1, drafts(1), tagged(&tx, 1)).unwrap();
        assert_eq!(writer.sync().unwrap(), 1);
        // The next 50 attempts fail (a full disk); the writer keeps the batch and retries.
        failures.store(50, Ordering::SeqCst);
        writer.append(1, drafts(2), tagged(&tx, 2)).unwrap();
        assert!(matches!(rx.recv().unwrap(), (1, Ok(1))));
        // Acknowledged only once durable, in order, with no hole and nothing twice.
        assert_eq!(rx.recv().unwrap().1.unwrap(), 3);
        assert_eq!(failures.load(Ordering::SeqCst), 0);
        let health = writer.health();
        assert!(health.writable, "{health:?}");
        assert_eq!(health.error, None);
        writer.append(1, drafts(1), tagged(&tx, 3)).unwrap();
        assert_eq!(writer.sync().unwrap(), 4);
        assert!(matches!(rx.recv().unwrap(), (3, Ok(4))));
        let firsts: Vec<u64> = frames.lock().unwrap().iter().map(|f| f.0).collect();
        assert_eq!(firsts, [1, 2, 4], "each batch stored once, dense");
    }

    #[test]
    fn invalid_appends_change_nothing() {
        let writer = Writer::start(0, Durability::None, Memory::default()).unwrap();
        assert!(matches!(
            writer.append(1, drafts(0), None),
            Err(LogError::InvalidAppend(_))
        ));
        let err = writer
            .append(1, drafts(MAX_APPEND_EVENTS + 1), None)
            .unwrap_err();
        assert!(err.to_string().contains("MAX_APPEND_EVENTS"), "{err}");
        assert_eq!(writer.last_seq(), 0);
        assert_eq!(
            writer.append(1, drafts(MAX_APPEND_EVENTS), None).unwrap(),
            1..=MAX_APPEND_EVENTS as u64
        );
    }

    #[test]
    fn close_drains_the_queue_then_refuses_appends() {
        let memory = Memory::default();
        let writer = Writer::start(0, Durability::Fsync, memory.clone()).unwrap();
        let (tx, rx) = recorder();
        for tag in 1..=20 {
            writer.append(1, drafts(2), tagged(&tx, tag)).unwrap();
        }
        writer.close();
        assert_eq!(rx.try_iter().count(), 20);
        assert_eq!(writer.durable_seq(), 40);
        assert!(matches!(
            writer.append(1, drafts(1), None),
            Err(LogError::Closed)
        ));
        assert_eq!(writer.sync().unwrap(), 40);
    }

    #[test]
    fn closing_from_a_completion_does_not_deadlock() {
        let writer = Arc::new(Writer::start(0, Durability::Fsync, Memory::default()).unwrap());
        let (tx, rx) = mpsc::channel();
        let inner = Arc::clone(&writer);
        writer
            .append(
                1,
                drafts(1),
                Some(Box::new(move |_| {
                    inner.close();
                    tx.send(()).unwrap();
                })),
            )
            .unwrap();
        rx.recv().unwrap();
        assert!(matches!(
            writer.append(1, drafts(1), None),
            Err(LogError::Closed)
        ));
        writer.close();
    }

    #[test]
    fn a_panicking_completion_does_not_stop_the_writer() {
        let writer = Writer::start(0, Durability::Fsync, Memory::default()).unwrap();
        writer
            .append(
                1,
                drafts(1),
                Some(Box::new(|_| panic!("careless completion"))),
            )
            .unwrap();
        writer.append(1, drafts(1), None).unwrap();
        assert_eq!(writer.sync().unwrap(), 2);
    }

    #[test]
    fn a_batch_never_exceeds_max_batch_events() {
        let mut pending: VecDeque<Pending> = (0..40)
            .map(|i| Pending {
                first_seq: i * 200 + 1,
                events: vec![EncodedEvent::new(); 200],
                streams: Vec::new(),
                completion: None,
            })
            .collect();
        let batch = take_batch(&mut pending);
        let events: usize = batch.iter().map(|p| p.events.len()).sum();
        assert_eq!(events, MAX_BATCH_EVENTS / 200 * 200);
    }
}
