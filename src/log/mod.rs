//! The durable, ordered event log: the single source of truth of helpline.
//!
//! Every actor appends its events here; the log gives them a dense global sequence,
//! makes them durable in batches (group commit: one frame and one fsync for many appends),
//! and only then runs the completions attached to them. Completions are how effects reach
//! the outside world: a reply to an API caller or a frame to a WebSocket is sent from a
//! completion, so nobody is ever told about an event a crash could lose.
//!
//! Why messages between actors need not wait for durability: the log is one total order,
//! appends enter it in the order they are made, and a crash keeps a prefix of it. An actor
//! that appends and then messages another actor has its event ordered before anything the
//! receiver appends in response, so every state a crash can leave is a causally consistent
//! cut. Only effects that leave the process wait for the fsync.
//!
//! [`EventLog`] is the seam for other backends; [`SledLog`] is the embedded default.

mod codec;
mod index;
mod mem;
mod sled_log;
mod verify;
mod writer;

pub use codec::{Damage, FORMAT_VERSION, decode_frame, encode_frame};
pub use index::IndexPause;
pub use mem::MemLog;
pub use sled_log::{LogOptions, OpenReport, SledLog};
pub use verify::VerifyReport;
pub use writer::{LogHealth, WriterFigures};

use std::ops::RangeInclusive;

use crate::domain::event::{Envelope, Event};
use crate::domain::ids::{AppId, StreamId};

/// Most events one frame (one sled key, one fsync) carries; larger backlogs take several.
pub const MAX_BATCH_EVENTS: usize = 4_096;
/// Most payload bytes one frame gathers before the writer closes it (an append that alone is
/// larger still makes one frame). sled keeps a value over a quarter of its 512 KiB segment in
/// a blob file of its own, a file create and an fsync more per frame: measured in the storm,
/// frames kept under that size give p99 latencies several times lower than large segments.
pub const MAX_BATCH_BYTES: usize = 96 * 1024;
/// Most events one append may carry: an append always lands whole in one frame.
pub const MAX_APPEND_EVENTS: usize = 256;
/// Most bytes one snapshot may take: a stream whose state outgrows this needs a new shape.
pub const MAX_SNAPSHOT_BYTES: usize = 16 * 1024 * 1024;
/// Most bytes one encoded event may take; larger ones are refused, not written.
pub const MAX_EVENT_BYTES: usize = 64 * 1024;

/// When the writer makes a batch durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// fsync once per batch before completions run (the default).
    #[default]
    Fsync,
    /// Completions run once the batch is written to the store's buffers; a crash of the
    /// machine (not only of the process) may lose the latest batches. For tests and benches.
    None,
}

/// An event on its way into the log: seq and time are stamped by the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draft {
    /// The tenant.
    pub app: AppId,
    /// The stream (one writer per stream).
    pub stream: StreamId,
    /// What happened.
    pub event: Event,
}

/// Run by the writer once the append it is attached to is durable (or has failed), with
/// the last sequence number made durable. Keep it short: it runs on the writer thread.
pub type Completion = Box<dyn FnOnce(Result<u64, LogError>) + Send + 'static>;

/// Errors of the event log.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LogError {
    /// The store below failed.
    #[error("storage error: {0}")]
    Storage(String),
    /// The log on disk was written by another format version.
    #[error("unsupported log format version {found:?} (this build reads {expected:?})")]
    UnknownFormat {
        /// What the log says.
        found: String,
        /// What this build writes.
        expected: &'static str,
    },
    /// A record failed its checksum or could not be decoded.
    #[error("corrupt record at frame {frame}: {reason}")]
    Corrupt {
        /// The frame's key (its first sequence number).
        frame: u64,
        /// What was wrong.
        reason: String,
    },
    /// An append was refused before it was written.
    #[error("invalid append: {0}")]
    InvalidAppend(String),
    /// The log is shut down.
    #[error("event log is closed")]
    Closed,
}

/// An append-only, totally ordered, durable log of [`Envelope`]s.
pub trait EventLog: Send + Sync + 'static {
    /// Appends `events` as one unit (they land in the same frame, in order), stamped with
    /// `at_ms`, and returns the sequence numbers they got. Never blocks on IO: `on_durable`
    /// runs once they (and everything appended before them) are durable.
    fn append(
        &self,
        at_ms: i64,
        events: Vec<Draft>,
        on_durable: Option<Completion>,
    ) -> Result<RangeInclusive<u64>, LogError>;

    /// Runs `on_durable` once everything appended so far is durable: for an effect that
    /// depends on events this caller did not append itself.
    fn barrier(&self, on_durable: Completion);

    /// The highest sequence number handed out (0 for an empty log).
    fn last_seq(&self) -> u64;

    /// The highest sequence number known durable.
    fn durable_seq(&self) -> u64;

    /// Every envelope with `seq >= from`, in order. Includes appends not yet durable only
    /// if they have been written; reading is for replay, export and verification.
    fn read_from(
        &self,
        from: u64,
    ) -> Box<dyn Iterator<Item = Result<Envelope, LogError>> + Send + '_>;

    /// The envelopes of one stream with `seq >= from`, in order.
    fn read_stream(&self, stream: StreamId, from: u64) -> Result<Vec<Envelope>, LogError>;

    /// Stores a snapshot of a stream's state as of `seq` (opaque bytes to the log).
    fn save_snapshot(&self, stream: StreamId, seq: u64, state: &[u8]) -> Result<(), LogError>;

    /// The latest snapshot of a stream, with the sequence number it covers.
    fn load_snapshot(&self, stream: StreamId) -> Result<Option<(u64, Vec<u8>)>, LogError>;

    /// Waits (blocking the calling thread) until everything appended so far is durable.
    fn sync(&self) -> Result<u64, LogError>;
    /// Whether the log takes writes now (a backend without storage errors always does).
    fn health(&self) -> LogHealth {
        LogHealth {
            writable: true,
            error: None,
            failed_attempts: 0,
            durable_seq: self.durable_seq(),
        }
    }

    /// Checks the whole log: checksums, sequence density, stream index, decodability.
    fn verify(&self) -> Result<VerifyReport, LogError>;
}

/// Async helpers over [`EventLog`] for callers that want to wait for durability.
pub trait EventLogExt: EventLog {
    /// Appends and resolves once the events are durable.
    fn append_durable(
        &self,
        at_ms: i64,
        events: Vec<Draft>,
    ) -> impl std::future::Future<Output = Result<RangeInclusive<u64>, LogError>> + Send {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let appended = self.append(
            at_ms,
            events,
            Some(Box::new(move |r| {
                let _ = tx.send(r);
            })),
        );
        async move {
            let seqs = appended?;
            rx.await.map_err(|_| LogError::Closed)??;
            Ok(seqs)
        }
    }

    /// Resolves once everything appended so far is durable.
    fn durable_barrier(&self) -> impl std::future::Future<Output = Result<u64, LogError>> + Send {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.barrier(Box::new(move |r| {
            let _ = tx.send(r);
        }));
        async move { rx.await.map_err(|_| LogError::Closed)? }
    }
}

impl<T: EventLog + ?Sized> EventLogExt for T {}
