//! [`SledLog`]: the embedded event log, on a local sled database.
//!
//! sled trees and their keys (all integers big endian, so keys sort by number):
//! - `log`: frame key = the frame's first seq (u64) -> the frame (see `codec`);
//! - `by_stream`: stream kind (u8) + stream id (u64) + seq (u64) -> frame key, a projection
//!   written by the indexer thread after frames are durable (see `index`);
//! - `snapshots`: stream kind (u8) + stream id (u64) -> seq (u64) + the state's bytes;
//! - `meta`: `format` (= [`FORMAT_VERSION`], written when the log is created),
//!   `indexed_through` and `indexed_frames`.
//!
//! Opening refuses a log of another format, then checks the last frame: a torn or corrupt
//! tail (truncated, bad checksum) is reported and cut back to its last good record, never
//! silently accepted. Damage a crash cannot explain (a record that passes its checksum but
//! does not decode, a frame that does not continue the one before it, damage in more than
//! the last frame) is refused with [`LogError::Corrupt`]: that is for an operator and
//! `helpline log verify`, not for an automatic cut that could throw good events away.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rkyv::rancor;
use sled::{IVec, Tree};

use crate::domain::event::{ArchivedEnvelope, Envelope};
use crate::domain::ids::{StreamId, StreamKind};
use crate::log::LogHealth;
use crate::log::codec::{self, FORMAT_VERSION};
use crate::log::index::{self, Index, IndexJob, IndexPause, IndexTrees};
use crate::log::verify::{self, VerifyReport};
use crate::log::writer::{CommitTarget, Writer};
use crate::log::{Completion, Draft, Durability, EventLog, LogError, MAX_SNAPSHOT_BYTES};

/// `meta` key of the format version.
pub const FORMAT_KEY: &[u8] = b"format";

/// How long opening waits for sled's lock on the log to be released. sled 0.34 lets go of
/// it from background threads a moment after the last handle is dropped (spacejam/sled#1234),
/// so a close followed at once by an open (a restart, a test) must wait; a log held by a
/// live process is still refused once this runs out.
pub const LOCK_WAIT_MS: u64 = 5_000;

/// The event log on sled. Share it as `Arc<SledLog>`; dropping the last handle (or
/// [`SledLog::close`]) makes pending appends durable and stops its threads.
///
/// A storage error while committing poisons it: the failed batch's completions, and all
/// queued ones, get the error, and every later append is refused with it. Reopen to recover.
pub struct SledLog {
    path: PathBuf,
    db: sled::Db,
    log: Tree,
    by_stream: Tree,
    snapshots: Tree,
    meta: Tree,
    writer: Writer,
    index: Arc<Index>,
    indexer: Mutex<Option<JoinHandle<()>>>,
    /// Set by [`SledLog::inject_write_failures`]: the store refuses writes as a full disk would.
    faults: Arc<std::sync::atomic::AtomicBool>,
}

/// What opening a log found and did, for the startup log line and the operator.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OpenReport {
    /// The log's directory.
    pub path: PathBuf,
    /// The log did not exist and was created.
    pub created: bool,
    /// Frames in the log (after any cut), when the stream index keeps the count.
    pub frames: Option<u64>,
    /// The last seq in the log (after any cut); appends continue after it.
    pub last_seq: u64,
    /// Records cut from a torn tail: the first bad one and those after it in its frame, as
    /// far as their lengths could still be read (0 when the tail was sound).
    pub cut_records: u64,
    /// Bytes cut from the tail frame.
    pub cut_bytes: u64,
    /// The seq the first cut record would have had.
    pub cut_from_seq: Option<u64>,
    /// What was wrong with the tail.
    pub cut_reason: Option<String>,
    /// Events the index had to catch up at open (it lagged the log when it was closed).
    pub index_caught_up: u64,
}

impl fmt::Display for OpenReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.created { "created" } else { "opened" };
        write!(
            f,
            "{verb} event log {}: last seq {}",
            self.path.display(),
            self.last_seq
        )?;
        if let Some(frames) = self.frames {
            write!(f, " in {frames} frames")?;
        }
        if let (Some(from), Some(reason)) = (self.cut_from_seq, &self.cut_reason) {
            write!(
                f,
                "; cut a torn tail of {} records ({} bytes) from seq {from}: {reason}",
                self.cut_records, self.cut_bytes
            )?;
        }
        if self.index_caught_up > 0 {
            write!(f, "; indexed {} lagging events", self.index_caught_up)?;
        }
        Ok(())
    }
}

/// How to open a [`SledLog`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogOptions {
    /// fsync per batch, or not.
    pub durability: Durability,
    /// Keep the `by_stream` index (one sled key per event, written by the indexer thread).
    ///
    /// Off by default for serving: on this 2-core machine sled takes about 100k small
    /// inserts/s, so indexing every event caps the commit rate near 60k events/s and burns a
    /// core, while only an actor rebuilt after a crash and `helpline replay --session` read a
    /// single stream; without the index they scan the frames (millions of events/s).
    /// Turned on again, the indexer catches up from where it last stopped.
    pub stream_index: bool,
}

impl Default for LogOptions {
    fn default() -> Self {
        Self {
            durability: Durability::Fsync,
            stream_index: false,
        }
    }
}

/// sled's segment size. sled stores a value larger than a quarter segment as a blob file of
/// its own (a file create and an fsync more per frame); 8 MiB segments keep frames of up to
/// 2 MiB inline, and a batch of `MAX_BATCH_EVENTS` typical events is a few hundred KiB.
/// sled records it at creation: a log made with another size is refused at open.
const SEGMENT_BYTES: usize = 512 * 1024;

impl SledLog {
    /// Opens (or creates) the log in directory `path` with the stream index on.
    pub fn open(path: &Path, durability: Durability) -> Result<(SledLog, OpenReport), LogError> {
        Self::open_with(
            path,
            LogOptions {
                durability,
                stream_index: true,
            },
        )
    }

    /// Opens (or creates) the log in directory `path`, checking and repairing its tail and,
    /// when the stream index is on, catching it up; then starts the writer (and indexer).
    pub fn open_with(path: &Path, options: LogOptions) -> Result<(SledLog, OpenReport), LogError> {
        let durability = options.durability;
        wait_for_lock(path)?;
        let db = sled::Config::new()
            .path(path)
            .segment_size(SEGMENT_BYTES)
            .mode(sled::Mode::HighThroughput)
            .flush_every_ms(None)
            .open()
            .map_err(|e| {
                LogError::Storage(format!("cannot open event log {}: {e}", path.display()))
            })?;
        let tree = |name: &str| {
            db.open_tree(name)
                .map_err(|e| LogError::Storage(format!("cannot open tree {name}: {e}")))
        };
        let (log, by_stream, snapshots, meta) = (
            tree("log")?,
            tree("by_stream")?,
            tree("snapshots")?,
            tree("meta")?,
        );

        let created = check_format(&log, &meta)?;
        let tail = recover_tail(&log)?;
        let trees = IndexTrees {
            log: log.clone(),
            by_stream: by_stream.clone(),
            meta: meta.clone(),
        };
        if let Some(cut) = &tail.cut {
            tracing::warn!(
                path = %path.display(), records = cut.records, bytes = cut.bytes, from_seq = cut.from_seq,
                reason = %cut.reason, "event log tail is torn; cut back to the last good record"
            );
            index::forget_after(&trees, tail.last_seq, cut.frame_removed)?;
        }
        let (indexed_before, frames_before) = index::read_mark(&meta)?;
        let (indexed_through, frames) = if options.stream_index {
            let caught_up = index::catch_up(&trees, tail.last_seq)?;
            debug_assert_eq!(
                caught_up.0, tail.last_seq,
                "the catch-up indexes the whole log"
            );
            caught_up
        } else {
            (indexed_before.min(tail.last_seq), frames_before)
        };
        // New frames must not become durable before the format header, the cut and the
        // caught-up index they build on.
        db.flush().map_err(storage("flush after open"))?;

        let (index, index_jobs, indexer) = if options.stream_index {
            let index = Index::new(indexed_through, frames);
            let (index_jobs, jobs) = mpsc::channel();
            let indexer = index::spawn(Arc::clone(&index), trees, jobs)?;
            (index, Some(index_jobs), Some(indexer))
        } else {
            (Index::off(indexed_through, frames), None, None)
        };
        let faults = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let target = SledTarget {
            db: db.clone(),
            log: log.clone(),
            index_jobs,
            faults: Arc::clone(&faults),
        };
        let writer = Writer::start(tail.last_seq, durability, target)?;

        let report = OpenReport {
            path: path.to_owned(),
            created,
            frames: options.stream_index.then_some(frames),
            last_seq: tail.last_seq,
            cut_records: tail.cut.as_ref().map_or(0, |c| c.records),
            cut_bytes: tail.cut.as_ref().map_or(0, |c| c.bytes),
            cut_from_seq: tail.cut.as_ref().map(|c| c.from_seq),
            cut_reason: tail.cut.map(|c| c.reason),
            index_caught_up: indexed_through.saturating_sub(indexed_before),
        };
        tracing::info!(%report, "event log ready");
        let log = SledLog {
            path: path.to_owned(),
            db,
            log,
            by_stream,
            snapshots,
            meta,
            writer,
            index,
            indexer: Mutex::new(indexer),
            faults,
        };
        Ok((log, report))
    }

    /// Makes the store refuse every write as a full disk would (`true`), or take them again
    /// (`false`, and the stalled writer retries at once): how tests drive a storage failure
    /// through a real server.
    #[doc(hidden)]
    pub fn inject_write_failures(&self, fail: bool) {
        self.faults
            .store(fail, std::sync::atomic::Ordering::Release);
        if !fail {
            self.writer.retry_now();
        }
    }

    /// Frames, events and time spent writing and in fsync since the log was opened.
    pub fn writer_stats(&self) -> crate::log::WriterFigures {
        self.writer.stats()
    }

    /// The log's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every event with seq <= this is in the stream index (reads scan the frames after it).
    pub fn indexed_through(&self) -> u64 {
        self.index.indexed_through()
    }

    /// Waits until the stream index covers everything durable at call time. Never returns
    /// while the index is paused.
    pub fn sync_index(&self) -> Result<u64, LogError> {
        self.index.wait_for(self.writer.durable_seq())
    }

    /// Holds the indexer until the guard is dropped (for bulk loads, and tests of a
    /// lagging index). Closing the log while paused leaves the catch-up to the next open.
    pub fn pause_index(&self) -> IndexPause {
        self.index.pause()
    }

    /// Refuses further appends, makes everything appended durable (running completions),
    /// lets the indexer finish (unless paused), stops both threads and flushes. Idempotent;
    /// dropping the log does it too.
    pub fn close(&self) {
        self.writer.close();
        self.index.close();
        let indexer = self
            .indexer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let Some(indexer) = indexer else { return };
        if indexer.join().is_err() {
            tracing::error!("{} thread panicked", index::INDEXER_THREAD_NAME);
        }
        if let Err(e) = self.db.flush() {
            tracing::error!(error = %e, "flush at close failed");
        }
    }

    /// The frame with key `first_seq`.
    fn frame(&self, first_seq: u64) -> Result<IVec, LogError> {
        self.log
            .get(frame_key(first_seq))
            .map_err(storage("read frame"))?
            .ok_or_else(|| LogError::Corrupt {
                frame: first_seq,
                reason: format!("the stream index names frame {first_seq}, which is missing"),
            })
    }

    /// Frames from the one holding `seq` on.
    fn frames_from(&self, seq: u64) -> Result<sled::Iter, LogError> {
        let start = match self.log.range(..=frame_key(seq)).next_back() {
            Some(found) => found.map_err(storage("find frame"))?.0,
            None => IVec::from(&frame_key(0)),
        };
        Ok(self.log.range(start..))
    }

    /// The stream's events with seq in `from..=through`, looked up through the index.
    fn read_indexed(
        &self,
        stream: StreamId,
        from: u64,
        through: u64,
        out: &mut Vec<Envelope>,
    ) -> Result<(), LogError> {
        if from > through {
            return Ok(());
        }
        // (frame key, seqs wanted from it), in seq order.
        let mut wanted: Vec<(u64, Vec<u64>)> = Vec::new();
        for entry in self
            .by_stream
            .range(index_key(stream, from)..=index_key(stream, through))
        {
            let (key, value) = entry.map_err(storage("read stream index"))?;
            let (_, seq) = parse_index_key(&key).ok_or_else(|| bad_index_entry(&key))?;
            let frame = parse_seq(&value).ok_or_else(|| bad_index_entry(&key))?;
            match wanted.last_mut() {
                Some((last, seqs)) if *last == frame => seqs.push(seq),
                _ => wanted.push((frame, vec![seq])),
            }
        }
        for (first_seq, seqs) in wanted {
            let frame = self.frame(first_seq)?;
            let before = out.len();
            let mut next = seqs.iter().copied().peekable();
            codec::visit_frame(&frame, |archived| {
                if next.peek() != Some(&archived.seq.to_native()) {
                    return Ok(());
                }
                next.next();
                if is_stream(archived, stream) {
                    out.push(codec::deserialize(archived)?);
                }
                Ok(())
            })
            .map_err(|damage| LogError::Corrupt {
                frame: first_seq,
                reason: damage.reason,
            })?;
            if out.len() - before != seqs.len() {
                return Err(LogError::Corrupt {
                    frame: first_seq,
                    reason: format!(
                        "the stream index names events of {stream} this frame does not hold (seqs {seqs:?})"
                    ),
                });
            }
        }
        Ok(())
    }

    /// The stream's events with seq > `after`, found by scanning frames.
    fn read_scanning(
        &self,
        stream: StreamId,
        after: u64,
        out: &mut Vec<Envelope>,
    ) -> Result<(), LogError> {
        for item in self.frames_from(after + 1)? {
            let (key, frame) = item.map_err(storage("read frame"))?;
            let first_seq = parse_frame_key(&key)?;
            codec::visit_frame(&frame, |archived| {
                if archived.seq.to_native() > after && is_stream(archived, stream) {
                    out.push(codec::deserialize(archived)?);
                }
                Ok(())
            })
            .map_err(|damage| LogError::Corrupt {
                frame: first_seq,
                reason: damage.reason,
            })?;
        }
        Ok(())
    }
}

impl Drop for SledLog {
    fn drop(&mut self) {
        self.close();
    }
}

impl EventLog for SledLog {
    fn append(
        &self,
        at_ms: i64,
        events: Vec<Draft>,
        on_durable: Option<Completion>,
    ) -> Result<std::ops::RangeInclusive<u64>, LogError> {
        self.writer.append(at_ms, events, on_durable)
    }

    fn barrier(&self, on_durable: Completion) {
        self.writer.barrier(on_durable);
    }

    fn last_seq(&self) -> u64 {
        self.writer.last_seq()
    }

    fn durable_seq(&self) -> u64 {
        self.writer.durable_seq()
    }

    fn read_from(
        &self,
        from: u64,
    ) -> Box<dyn Iterator<Item = Result<Envelope, LogError>> + Send + '_> {
        let from = from.max(1);
        match self.frames_from(from) {
            Ok(frames) => Box::new(ReadFrom {
                frames,
                from,
                buffered: Vec::new().into_iter(),
                done: false,
            }),
            Err(err) => Box::new(std::iter::once(Err(err))),
        }
    }

    fn read_stream(&self, stream: StreamId, from: u64) -> Result<Vec<Envelope>, LogError> {
        let from = from.max(1);
        // Read the mark first: everything up to it is indexed, whatever the indexer does
        // next; the rest is scanned.
        let indexed_through = self.index.indexed_through();
        let mut out = Vec::new();
        self.read_indexed(stream, from, indexed_through, &mut out)?;
        self.read_scanning(stream, indexed_through.max(from - 1), &mut out)?;
        debug_assert!(
            out.windows(2).all(|w| w[0].seq < w[1].seq),
            "stream events in seq order"
        );
        Ok(out)
    }

    fn save_snapshot(&self, stream: StreamId, seq: u64, state: &[u8]) -> Result<(), LogError> {
        if state.len() > MAX_SNAPSHOT_BYTES {
            return Err(LogError::InvalidAppend(format!(
                "snapshot of {stream} is {} bytes, more than MAX_SNAPSHOT_BYTES ({MAX_SNAPSHOT_BYTES})",
                state.len()
            )));
        }
        // A snapshot of events a crash could still lose would outlive them.
        let durable = self.writer.durable_seq();
        if seq > durable {
            return Err(LogError::InvalidAppend(format!(
                "snapshot of {stream} at seq {seq} is ahead of the durable seq {durable}"
            )));
        }
        let mut value = Vec::with_capacity(8 + state.len());
        value.extend_from_slice(&seq.to_be_bytes());
        value.extend_from_slice(state);
        self.snapshots
            .insert(stream_key(stream), value)
            .map_err(storage("write snapshot"))?;
        Ok(())
    }

    fn load_snapshot(&self, stream: StreamId) -> Result<Option<(u64, Vec<u8>)>, LogError> {
        let Some(value) = self
            .snapshots
            .get(stream_key(stream))
            .map_err(storage("read snapshot"))?
        else {
            return Ok(None);
        };
        let seq = value.get(..8).and_then(parse_seq).ok_or_else(|| {
            LogError::Storage(format!(
                "snapshot of {stream} is {} bytes, too short for its seq",
                value.len()
            ))
        })?;
        Ok(Some((seq, value[8..].to_vec())))
    }

    fn sync(&self) -> Result<u64, LogError> {
        self.writer.sync()
    }

    fn health(&self) -> LogHealth {
        self.writer.health()
    }

    fn verify(&self) -> Result<VerifyReport, LogError> {
        // The index mark first, then the durable seq: frames written after this point are
        // not checked, and index entries past the mark may still be in flight.
        let indexed_through = self.index.indexed_through();
        let durable_seq = self.writer.durable_seq();
        verify::verify(
            &verify::Trees {
                log: &self.log,
                by_stream: &self.by_stream,
                snapshots: &self.snapshots,
                meta: &self.meta,
            },
            indexed_through,
            durable_seq,
        )
    }
}

/// `read_from`: frames decoded one at a time, in order.
struct ReadFrom {
    frames: sled::Iter,
    from: u64,
    buffered: std::vec::IntoIter<Envelope>,
    done: bool,
}

impl Iterator for ReadFrom {
    type Item = Result<Envelope, LogError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(envelope) = self.buffered.next() {
                return Some(Ok(envelope));
            }
            if self.done {
                return None;
            }
            let decoded =
                self.frames
                    .next()?
                    .map_err(storage("read frame"))
                    .and_then(|(key, frame)| {
                        let first_seq = parse_frame_key(&key)?;
                        let mut envelopes = Vec::new();
                        codec::visit_frame(&frame, |archived| {
                            if archived.seq.to_native() >= self.from {
                                envelopes.push(codec::deserialize(archived)?);
                            }
                            Ok(())
                        })
                        .map_err(|damage| LogError::Corrupt {
                            frame: first_seq,
                            reason: damage.reason,
                        })?;
                        Ok(envelopes)
                    });
            match decoded {
                Ok(envelopes) => self.buffered = envelopes.into_iter(),
                Err(err) => {
                    // Reading past a bad frame would hand out a log with a hole.
                    self.done = true;
                    return Some(Err(err));
                }
            }
        }
    }
}

/// The writer's way into sled.
struct SledTarget {
    db: sled::Db,
    log: Tree,
    index_jobs: Option<Sender<IndexJob>>,
    faults: Arc<std::sync::atomic::AtomicBool>,
}

impl CommitTarget for SledTarget {
    fn write_frame(&mut self, first_seq: u64, frame: &[u8]) -> Result<(), LogError> {
        if self.faults.load(std::sync::atomic::Ordering::Acquire) {
            return Err(LogError::Storage(
                "write frame: No space left on device (os error 28, injected)".to_owned(),
            ));
        }
        let previous = self
            .log
            .insert(frame_key(first_seq), frame)
            .map_err(storage("write frame"))?;
        // A batch retried after a failed fsync is written again, the same bytes.
        debug_assert!(
            previous.is_none_or(|p| p == frame),
            "frame {first_seq} written twice with other contents"
        );
        Ok(())
    }

    fn make_durable(&mut self) -> Result<(), LogError> {
        self.db.flush().map_err(storage("fsync"))?;
        Ok(())
    }

    fn frame_durable(&mut self, first_seq: u64, streams: Vec<StreamId>) {
        // A stopped indexer (failed, or closed while paused) is caught up at the next open.
        if let Some(jobs) = &self.index_jobs {
            let _ = jobs.send(IndexJob { first_seq, streams });
        }
    }
}

/// Waits until nobody holds sled's lock file in `path` (see [`LOCK_WAIT_MS`]).
fn wait_for_lock(path: &Path) -> Result<(), LogError> {
    let lock_path = path.join("db");
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&lock_path)
    {
        Ok(file) => file,
        // A new log: nothing to wait for.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(LogError::Storage(format!(
                "cannot open {}: {e}",
                lock_path.display()
            )));
        }
    };
    match file.try_lock() {
        Ok(()) => return Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => {}
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(LogError::Storage(format!(
                "cannot lock {}: {e}",
                lock_path.display()
            )));
        }
    }
    // A blocking lock on a helper thread, so the wait can be bounded: if it runs out the
    // thread stays blocked, and lets go of the lock (by dropping the file) once it gets it.
    let (locked, wait) = mpsc::channel();
    std::thread::Builder::new()
        .name("helpline-log-lock-wait".to_owned())
        .spawn(move || {
            let got = file.lock();
            // Unlock before telling: sled must find the lock free when the opener goes on.
            drop(file);
            let _ = locked.send(got);
        })
        .map_err(|e| LogError::Storage(format!("cannot start lock wait thread: {e}")))?;
    match wait.recv_timeout(std::time::Duration::from_millis(LOCK_WAIT_MS)) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(LogError::Storage(format!(
            "cannot lock {}: {e}",
            lock_path.display()
        ))),
        Err(_) => Err(LogError::Storage(format!(
            "event log {} is locked by another process (waited {LOCK_WAIT_MS} ms)",
            path.display()
        ))),
    }
}

/// Checks the format header, writing it into a new log. Returns whether the log is new.
fn check_format(log: &Tree, meta: &Tree) -> Result<bool, LogError> {
    let found = meta.get(FORMAT_KEY).map_err(storage("read format"))?;
    match found {
        Some(found) if found == FORMAT_VERSION.as_bytes() => Ok(false),
        Some(found) => Err(LogError::UnknownFormat {
            found: String::from_utf8_lossy(&found).into_owned(),
            expected: FORMAT_VERSION,
        }),
        None if log.is_empty() => {
            meta.insert(FORMAT_KEY, FORMAT_VERSION.as_bytes())
                .map_err(storage("write format"))?;
            Ok(true)
        }
        None => Err(LogError::UnknownFormat {
            found: "(no format header)".to_owned(),
            expected: FORMAT_VERSION,
        }),
    }
}

/// The end of the log after opening, and what was cut to get there.
struct Tail {
    last_seq: u64,
    cut: Option<Cut>,
}

struct Cut {
    records: u64,
    bytes: u64,
    from_seq: u64,
    reason: String,
    frame_removed: bool,
}

/// Checks the last frame, cuts a torn one back to its good prefix (removing it if nothing
/// is good), and checks that the (new) last frame continues the one before it.
fn recover_tail(log: &Tree) -> Result<Tail, LogError> {
    let Some((key, frame)) = log.last().map_err(storage("read last frame"))? else {
        return Ok(Tail {
            last_seq: 0,
            cut: None,
        });
    };
    let first_seq = parse_frame_key(&key)?;
    let damage = match check_frame(first_seq, &frame) {
        Ok(count) => {
            check_continuity(log, first_seq)?;
            return Ok(Tail {
                last_seq: first_seq + count - 1,
                cut: None,
            });
        }
        Err(damage) if !damage.torn => {
            return Err(LogError::Corrupt {
                frame: first_seq,
                reason: damage.reason,
            });
        }
        Err(damage) => damage,
    };

    let cut = Cut {
        records: codec::records_from(&frame, damage.good_bytes),
        bytes: (frame.len() - damage.good_bytes) as u64,
        from_seq: first_seq + damage.good_records as u64,
        reason: damage.reason,
        frame_removed: damage.good_records == 0,
    };
    if damage.good_records > 0 {
        log.insert(&key, &frame[..damage.good_bytes])
            .map_err(storage("rewrite torn frame"))?;
        check_continuity(log, first_seq)?;
        return Ok(Tail {
            last_seq: cut.from_seq - 1,
            cut: Some(cut),
        });
    }
    log.remove(&key).map_err(storage("remove torn frame"))?;
    let Some((key, frame)) = log.last().map_err(storage("read last frame"))? else {
        return Ok(Tail {
            last_seq: 0,
            cut: Some(cut),
        });
    };
    // One torn frame is what a crash leaves; a second damaged one is not.
    let first_seq = parse_frame_key(&key)?;
    let count = check_frame(first_seq, &frame).map_err(|damage| LogError::Corrupt {
        frame: first_seq,
        reason: format!("damaged below a torn last frame: {}", damage.reason),
    })?;
    check_continuity(log, first_seq)?;
    Ok(Tail {
        last_seq: first_seq + count - 1,
        cut: Some(cut),
    })
}

/// Decodes a frame and checks that record `i` has seq `first_seq + i`. Returns how many
/// records it holds; an empty frame (never written) counts as torn.
fn check_frame(first_seq: u64, frame: &[u8]) -> Result<u64, codec::Damage> {
    let mut expected = first_seq;
    let count = codec::visit_frame(frame, |archived| {
        let seq = archived.seq.to_native();
        if seq != expected {
            return Err(format!(
                "has seq {seq}, expected {expected} in frame {first_seq}"
            ));
        }
        expected += 1;
        Ok(())
    })?;
    if count == 0 {
        return Err(codec::Damage {
            good_records: 0,
            good_bytes: 0,
            reason: "empty frame".to_owned(),
            torn: true,
        });
    }
    Ok(count as u64)
}

/// Checks that the frame at `first_seq` starts right after the one before it ends.
fn check_continuity(log: &Tree, first_seq: u64) -> Result<(), LogError> {
    let Some((key, frame)) = log
        .get_lt(frame_key(first_seq))
        .map_err(storage("read frame"))?
    else {
        if first_seq != 1 {
            return Err(LogError::Corrupt {
                frame: first_seq,
                reason: format!("the log starts at seq {first_seq}, expected 1"),
            });
        }
        return Ok(());
    };
    let previous = parse_frame_key(&key)?;
    let count = check_frame(previous, &frame).map_err(|damage| LogError::Corrupt {
        frame: previous,
        reason: format!("damaged below the last frame: {}", damage.reason),
    })?;
    if previous + count != first_seq {
        return Err(LogError::Corrupt {
            frame: first_seq,
            reason: format!(
                "the last frame starts at seq {first_seq} but frame {previous} ends at seq {}",
                previous + count - 1
            ),
        });
    }
    Ok(())
}

/// Whether an archived envelope belongs to `stream`.
fn is_stream(archived: &ArchivedEnvelope, stream: StreamId) -> bool {
    archived.stream.id.to_native() == stream.id
        && rkyv::deserialize::<StreamKind, rancor::Error>(&archived.stream.kind)
            .is_ok_and(|kind| kind == stream.kind)
}

fn bad_index_entry(key: &[u8]) -> LogError {
    LogError::Storage(format!("malformed stream index entry {key:?}"))
}

// ---- key layout ----

/// The `log` key of the frame starting at `seq`.
pub fn frame_key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

/// A big-endian u64 key or value.
pub fn parse_seq(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

fn parse_frame_key(key: &[u8]) -> Result<u64, LogError> {
    parse_seq(key).ok_or_else(|| LogError::Corrupt {
        frame: 0,
        reason: format!("malformed frame key {key:?}"),
    })
}

/// The on-disk byte of a stream kind: fixed here, whatever the enum's order.
fn kind_byte(kind: StreamKind) -> u8 {
    match kind {
        StreamKind::App => 0,
        StreamKind::Agent => 1,
        StreamKind::Group => 2,
        StreamKind::Session => 3,
        StreamKind::Conversation => 4,
    }
}

fn kind_from_byte(byte: u8) -> Option<StreamKind> {
    Some(match byte {
        0 => StreamKind::App,
        1 => StreamKind::Agent,
        2 => StreamKind::Group,
        3 => StreamKind::Session,
        4 => StreamKind::Conversation,
        _ => return None,
    })
}

/// The `snapshots` key of a stream, and the prefix of its `by_stream` keys.
pub fn stream_key(stream: StreamId) -> [u8; 9] {
    let mut key = [0; 9];
    key[0] = kind_byte(stream.kind);
    key[1..].copy_from_slice(&stream.id.to_be_bytes());
    key
}

/// Reads a key made by [`stream_key`].
pub fn parse_stream_key(key: &[u8]) -> Option<StreamId> {
    let [kind, id @ ..] = key else { return None };
    Some(StreamId {
        kind: kind_from_byte(*kind)?,
        id: parse_seq(id)?,
    })
}

/// The `by_stream` key of event `seq` of `stream`.
pub fn index_key(stream: StreamId, seq: u64) -> [u8; 17] {
    let mut key = [0; 17];
    key[..9].copy_from_slice(&stream_key(stream));
    key[9..].copy_from_slice(&seq.to_be_bytes());
    key
}

/// Reads a key made by [`index_key`].
pub fn parse_index_key(key: &[u8]) -> Option<(StreamId, u64)> {
    if key.len() != 17 {
        return None;
    }
    Some((parse_stream_key(&key[..9])?, parse_seq(&key[9..])?))
}

/// Maps a sled error to [`LogError::Storage`], saying what was being done.
pub fn storage(doing: &'static str) -> impl Fn(sled::Error) -> LogError {
    move |e| LogError::Storage(format!("{doing}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_sort_by_stream_then_seq() {
        let a = StreamId {
            kind: StreamKind::Agent,
            id: 300,
        };
        let s = StreamId {
            kind: StreamKind::Session,
            id: 2,
        };
        assert_eq!(parse_index_key(&index_key(a, 7)), Some((a, 7)));
        assert_eq!(parse_stream_key(&stream_key(s)), Some(s));
        assert!(index_key(a, 1_000) < index_key(a, 1_001));
        assert!(index_key(a, u64::MAX) < index_key(s, 0));
        assert!(frame_key(255) < frame_key(256));
        assert_eq!(parse_index_key(&[9; 17]), None, "unknown kind byte");
    }

    #[test]
    fn stream_kinds_keep_their_bytes() {
        // These bytes are on disk: changing them needs a new FORMAT_VERSION.
        let bytes: Vec<u8> = [
            StreamKind::App,
            StreamKind::Agent,
            StreamKind::Group,
            StreamKind::Session,
            StreamKind::Conversation,
        ]
        .into_iter()
        .map(kind_byte)
        .collect();
        assert_eq!(bytes, [0, 1, 2, 3, 4]);
    }
}
