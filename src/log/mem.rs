//! An in-memory [`EventLog`]: every append is durable the moment it is made, and its
//! completion runs before `append` returns.
//!
//! For engine tests under `tokio::time::pause()`: a real writer thread would leave the
//! runtime idle while it fsyncs, and a paused runtime that is idle jumps its clock to the
//! next timer. Shared through an `Arc`, it also survives an engine restart inside a test.

use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::sync::Mutex;

use crate::domain::event::Envelope;
use crate::domain::ids::StreamId;
use crate::log::{Completion, Draft, EventLog, LogError, MAX_APPEND_EVENTS, VerifyReport};

/// The in-memory log.
#[derive(Default)]
pub struct MemLog {
    events: Mutex<Vec<Envelope>>,
    snapshots: Mutex<HashMap<StreamId, (u64, Vec<u8>)>>,
}

impl MemLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every envelope, in order.
    pub fn all(&self) -> Vec<Envelope> {
        self.events.lock().expect("mem log lock").clone()
    }
}

impl EventLog for MemLog {
    fn append(
        &self,
        at_ms: i64,
        events: Vec<Draft>,
        on_durable: Option<Completion>,
    ) -> Result<RangeInclusive<u64>, LogError> {
        if events.is_empty() || events.len() > MAX_APPEND_EVENTS {
            return Err(LogError::InvalidAppend(format!(
                "an append carries 1 to {MAX_APPEND_EVENTS} events, got {}",
                events.len()
            )));
        }
        let range = {
            let mut log = self.events.lock().expect("mem log lock");
            let first = log.len() as u64 + 1;
            for (i, d) in events.into_iter().enumerate() {
                log.push(Envelope {
                    seq: first + i as u64,
                    at_ms,
                    app: d.app,
                    stream: d.stream,
                    event: d.event,
                });
            }
            first..=log.len() as u64
        };
        if let Some(done) = on_durable {
            done(Ok(*range.end()));
        }
        Ok(range)
    }

    fn barrier(&self, on_durable: Completion) {
        on_durable(Ok(self.last_seq()));
    }

    fn last_seq(&self) -> u64 {
        self.events.lock().expect("mem log lock").len() as u64
    }

    fn durable_seq(&self) -> u64 {
        self.last_seq()
    }

    fn read_from(
        &self,
        from: u64,
    ) -> Box<dyn Iterator<Item = Result<Envelope, LogError>> + Send + '_> {
        let log = self.events.lock().expect("mem log lock");
        let start = from.saturating_sub(1) as usize;
        let tail: Vec<Envelope> = log.get(start..).unwrap_or_default().to_vec();
        Box::new(tail.into_iter().map(Ok))
    }

    fn read_stream(&self, stream: StreamId, from: u64) -> Result<Vec<Envelope>, LogError> {
        let log = self.events.lock().expect("mem log lock");
        Ok(log
            .iter()
            .filter(|e| e.stream == stream && e.seq >= from)
            .cloned()
            .collect())
    }

    fn save_snapshot(&self, stream: StreamId, seq: u64, state: &[u8]) -> Result<(), LogError> {
        self.snapshots
            .lock()
            .expect("mem log lock")
            .insert(stream, (seq, state.to_vec()));
        Ok(())
    }

    fn load_snapshot(&self, stream: StreamId) -> Result<Option<(u64, Vec<u8>)>, LogError> {
        Ok(self
            .snapshots
            .lock()
            .expect("mem log lock")
            .get(&stream)
            .cloned())
    }

    fn sync(&self) -> Result<u64, LogError> {
        Ok(self.last_seq())
    }

    fn verify(&self) -> Result<VerifyReport, LogError> {
        let log = self.events.lock().expect("mem log lock");
        let mut report = VerifyReport {
            events: log.len() as u64,
            first_seq: log.first().map_or(0, |e| e.seq),
            last_seq: log.last().map_or(0, |e| e.seq),
            ..VerifyReport::default()
        };
        for (i, e) in log.iter().enumerate() {
            if e.seq != i as u64 + 1 {
                report
                    .problems
                    .push(format!("seq {} at position {}", e.seq, i + 1));
            }
        }
        Ok(report)
    }
}
