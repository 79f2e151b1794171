//! The `by_stream` index: which frame holds each event of a stream.
//!
//! It is a projection of the log, kept off the commit path: the writer commits a frame
//! (one key, one fsync) and hands the frame's streams to the indexer thread
//! (`helpline-log-indexer`), which writes the index entries and moves `meta/indexed_through`
//! afterwards, without fsync of its own. After a crash the index may lag the log; opening
//! the log catches it up from the tail. Readers never trust it beyond `indexed_through`:
//! they scan the frames after it instead, so a lagging index is slower, never wrong.

use std::sync::mpsc::Receiver;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use rkyv::rancor;
use sled::{Batch, Tree};

use crate::domain::ids::StreamId;
use crate::log::LogError;
use crate::log::codec;
use crate::log::sled_log::{frame_key, index_key, parse_index_key, parse_seq, storage};

/// `meta` key: every event with seq <= this value is in `by_stream`.
pub const INDEXED_THROUGH: &[u8] = b"indexed_through";
/// `meta` key: how many frames have been indexed (so opening need not count the log).
pub const INDEXED_FRAMES: &[u8] = b"indexed_frames";
/// Most frames the indexer folds into one sled batch: bounds its memory after a stall.
pub const MAX_INDEX_BATCH_FRAMES: usize = 256;
/// Name of the indexer thread.
pub const INDEXER_THREAD_NAME: &str = "helpline-log-indexer";

/// One durable frame to index: its first seq and the stream of each event, in seq order.
pub struct IndexJob {
    /// The frame's key.
    pub first_seq: u64,
    /// The stream of event `first_seq + i` at position `i`.
    pub streams: Vec<StreamId>,
}

/// Where the index stands, shared by the indexer thread and readers.
pub struct Index {
    state: Mutex<IndexState>,
    changed: Condvar,
}

struct IndexState {
    indexed_through: u64,
    frames: u64,
    paused: bool,
    closing: bool,
    stopped: bool,
    failed: Option<LogError>,
}

/// While held, the indexer applies nothing (for tests of a lagging index, and for bulk
/// loads); dropping it lets the indexer catch up.
pub struct IndexPause {
    index: Arc<Index>,
}

impl Drop for IndexPause {
    fn drop(&mut self) {
        self.index.lock().paused = false;
        self.index.changed.notify_all();
    }
}

impl Index {
    /// An index that no indexer maintains: it covers what earlier runs indexed, and waiting
    /// on it fails at once instead of blocking forever.
    pub fn off(indexed_through: u64, frames: u64) -> Arc<Self> {
        let index = Self::new(indexed_through, frames);
        index.lock().stopped = true;
        index
    }

    /// An index that covers the log through `indexed_through`, in `frames` frames.
    pub fn new(indexed_through: u64, frames: u64) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(IndexState {
                indexed_through,
                frames,
                paused: false,
                closing: false,
                stopped: false,
                failed: None,
            }),
            changed: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, IndexState> {
        // Updates under this lock are plain assignments: a panic cannot tear them.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every event with seq <= this is in `by_stream`.
    pub fn indexed_through(&self) -> u64 {
        self.lock().indexed_through
    }

    /// Stops the indexer until the returned guard is dropped.
    pub fn pause(self: &Arc<Self>) -> IndexPause {
        self.lock().paused = true;
        IndexPause {
            index: Arc::clone(self),
        }
    }

    /// Blocks until the index covers `seq`. Never returns while paused, unless closed.
    pub fn wait_for(&self, seq: u64) -> Result<u64, LogError> {
        let mut state = self.lock();
        loop {
            if state.indexed_through >= seq {
                return Ok(state.indexed_through);
            }
            if let Some(err) = &state.failed {
                return Err(err.clone());
            }
            if state.stopped {
                return Err(LogError::Closed);
            }
            state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Tells the indexer to stop once its queue is empty (at once, if paused: the next
    /// open catches up).
    pub fn close(&self) {
        self.lock().closing = true;
        self.changed.notify_all();
    }
}

/// The trees the indexer reads and writes.
#[derive(Clone)]
pub struct IndexTrees {
    /// Frames, by first seq.
    pub log: Tree,
    /// The index.
    pub by_stream: Tree,
    /// Where `indexed_through` lives.
    pub meta: Tree,
}

/// Starts the indexer thread; it stops when the job sender is dropped (the writer stopped)
/// and the queue is drained, or at once when closed while paused, or on a storage error.
pub fn spawn(
    index: Arc<Index>,
    trees: IndexTrees,
    jobs: Receiver<IndexJob>,
) -> Result<JoinHandle<()>, LogError> {
    std::thread::Builder::new()
        .name(INDEXER_THREAD_NAME.to_owned())
        .spawn(move || {
            run_indexer(&index, &trees, &jobs);
            index.lock().stopped = true;
            index.changed.notify_all();
        })
        .map_err(|e| LogError::Storage(format!("cannot start {INDEXER_THREAD_NAME} thread: {e}")))
}

fn run_indexer(index: &Index, trees: &IndexTrees, jobs: &Receiver<IndexJob>) {
    while let Ok(first) = jobs.recv() {
        let mut state = index.lock();
        while state.paused && !state.closing {
            state = index.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        if state.paused {
            return;
        }
        let (through, frames) = (state.indexed_through, state.frames);
        drop(state);

        let mut batch: Vec<IndexJob> = vec![first];
        batch.extend(jobs.try_iter().take(MAX_INDEX_BATCH_FRAMES - 1));
        let last = batch.last().expect("one job at least");
        let new_through = last.first_seq + last.streams.len() as u64 - 1;
        debug_assert_eq!(
            batch[0].first_seq,
            through + 1,
            "frames reach the indexer dense and in order"
        );
        let entries = batch.iter().flat_map(|job| {
            (job.first_seq..)
                .zip(job.streams.iter().copied())
                .map(|(seq, stream)| (job.first_seq, seq, stream))
        });
        let new_frames = frames + batch.len() as u64;
        let applied = write_entries(trees, entries, new_through, new_frames);

        let mut state = index.lock();
        match applied {
            Ok(()) => {
                state.indexed_through = new_through;
                state.frames = new_frames;
            }
            Err(err) => {
                tracing::error!(error = %err, "stream index write failed; reads fall back to scanning frames");
                state.failed = Some(err);
            }
        }
        let failed = state.failed.is_some();
        drop(state);
        index.changed.notify_all();
        if failed {
            return;
        }
    }
}

/// Writes index entries `(frame key, seq, stream)`, then moves `indexed_through`: in that
/// order, so that a crash between the two leaves entries ahead of the mark (harmless,
/// rewritten by the catch-up), never a mark ahead of its entries.
fn write_entries(
    trees: &IndexTrees,
    entries: impl Iterator<Item = (u64, u64, StreamId)>,
    indexed_through: u64,
    frames: u64,
) -> Result<(), LogError> {
    let mut batch = Batch::default();
    for (frame, seq, stream) in entries {
        batch.insert(&index_key(stream, seq)[..], &frame_key(frame)[..]);
    }
    trees
        .by_stream
        .apply_batch(batch)
        .map_err(storage("write stream index"))?;
    let mut meta = Batch::default();
    meta.insert(INDEXED_THROUGH, &indexed_through.to_be_bytes()[..]);
    meta.insert(INDEXED_FRAMES, &frames.to_be_bytes()[..]);
    trees
        .meta
        .apply_batch(meta)
        .map_err(storage("write indexed_through"))
}

/// Reads `(indexed_through, indexed_frames)` from `meta` (zero for a new log).
pub fn read_mark(meta: &Tree) -> Result<(u64, u64), LogError> {
    let read = |key: &[u8]| -> Result<u64, LogError> {
        let Some(value) = meta.get(key).map_err(storage("read index mark"))? else {
            return Ok(0);
        };
        parse_seq(&value).ok_or_else(|| {
            LogError::Storage(format!(
                "meta {} is not a u64: {value:?}",
                String::from_utf8_lossy(key)
            ))
        })
    };
    Ok((read(INDEXED_THROUGH)?, read(INDEXED_FRAMES)?))
}

/// Indexes every frame after the mark, synchronously (at open, before the writer starts).
/// Returns the new `(indexed_through, indexed_frames)`.
pub fn catch_up(trees: &IndexTrees, last_seq: u64) -> Result<(u64, u64), LogError> {
    let (mut through, mut frames) = read_mark(&trees.meta)?;
    if through >= last_seq {
        return Ok((through, frames));
    }
    let mut pending: Vec<(u64, u64, StreamId)> = Vec::new();
    for item in trees.log.range(&frame_key(through + 1)[..]..) {
        let (key, frame) = item.map_err(storage("read frame to index"))?;
        let first_seq = parse_seq(&key).ok_or_else(|| LogError::Corrupt {
            frame: 0,
            reason: format!("bad frame key {key:?}"),
        })?;
        codec::visit_frame(&frame, |archived| {
            let stream = rkyv::deserialize::<StreamId, rancor::Error>(&archived.stream)
                .map_err(|e| e.to_string())?;
            pending.push((first_seq, archived.seq.to_native(), stream));
            Ok(())
        })
        .map_err(|damage| LogError::Corrupt {
            frame: first_seq,
            reason: damage.reason,
        })?;
        frames += 1;
        through = pending.last().map_or(through, |entry| entry.1);
        if pending.len() >= MAX_INDEX_BATCH_FRAMES * crate::log::MAX_APPEND_EVENTS {
            write_entries(trees, pending.drain(..), through, frames)?;
        }
    }
    write_entries(trees, pending.drain(..), through, frames)?;
    Ok((through, frames))
}

/// Removes index entries for seqs after `last_seq` (left by a tail the open cut off) and
/// pulls the mark back to `last_seq`, one frame fewer if the cut removed a whole frame the
/// index had counted. A full scan of the index: it runs only after a cut.
pub fn forget_after(
    trees: &IndexTrees,
    last_seq: u64,
    frame_removed: bool,
) -> Result<usize, LogError> {
    let mut stale = Batch::default();
    let mut removed = 0;
    for key in trees.by_stream.iter().keys() {
        let key = key.map_err(storage("scan stream index"))?;
        if parse_index_key(&key).is_none_or(|(_, seq)| seq > last_seq) {
            stale.remove(key);
            removed += 1;
        }
    }
    trees
        .by_stream
        .apply_batch(stale)
        .map_err(storage("remove stale index entries"))?;
    let (through, frames) = read_mark(&trees.meta)?;
    if through > last_seq {
        // The mark sits on frame boundaries and only the last frame was cut.
        let frames = frames - u64::from(frame_removed);
        let mut meta = Batch::default();
        meta.insert(INDEXED_THROUGH, &last_seq.to_be_bytes()[..]);
        meta.insert(INDEXED_FRAMES, &frames.to_be_bytes()[..]);
        trees
            .meta
            .apply_batch(meta)
            .map_err(storage("write indexed_through"))?;
    }
    Ok(removed)
}
