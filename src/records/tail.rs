//! The imperative shell of the service records: a task that follows the log's durable tail,
//! folds each envelope into the [`Projection`] and keeps the search index in step with it,
//! committing the index in batches.
//!
//! Readers never wait for a poll: a request first asks for the log's durable seq, then
//! waits (bounded) until the projection, and for a keyword the index, covers it, waking the
//! task so it folds and, if needed, commits at once. So whatever a caller was told is
//! durable, the records show.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustc_hash::{FxHashMap, FxHashSet};
use tokio::sync::{Notify, oneshot, watch};

use crate::domain::event::Envelope;
use crate::domain::ids::SessionId;
use crate::log::{EventLog, LogError};
use crate::records::index::{self, IndexError, Writer};
use crate::records::projection::{Change, Projection};
use crate::records::view::View;

/// How often the task looks at the log's tail when nobody wakes it.
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// Polls between index commits while changes wait and nobody asks for them: a commit
/// writes segment files and syncs them, so many small ones cost more than a late one.
pub const COMMIT_EVERY_POLLS: u32 = 4;
/// Envelopes folded under one hold of the projection's lock: readers wait at most that long.
pub const FOLD_CHUNK: usize = 4_096;
/// Sessions changed since the last commit that force a commit mid-catch-up: bounds the
/// transcripts held in memory while a large log is indexed.
pub const MAX_UNCOMMITTED_SESSIONS: usize = 20_000;
/// How long a request waits for the records to reach the log's durable seq.
pub const MAX_CATCH_UP_WAIT: Duration = Duration::from_secs(10);

/// Errors of the service records.
#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    /// The search index failed.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The log could not be read.
    #[error("reading the event log: {0}")]
    Log(#[from] LogError),
    /// The records did not reach the log's durable seq in time.
    #[error("the service records are still catching up with the log (at seq {at} of {target})")]
    Behind {
        /// Where they are.
        at: u64,
        /// Where the request needed them.
        target: u64,
    },
}

/// The task's state: the projection it writes, the index writer, the transcripts of the
/// sessions whose documents it is rewriting.
pub struct Follower {
    projection: Arc<RwLock<Projection>>,
    writer: Writer,
    /// Transcript text of sessions changed since the last commit, and of live sessions
    /// (their next message comes soon); others are read back from the index when touched.
    drafts: FxHashMap<SessionId, String>,
    dirty: FxHashSet<SessionId>,
    /// Changes folded into the projection but not yet into the drafts (an index read
    /// failed): taken first at the next step, so the index never misses one.
    backlog: VecDeque<Change>,
    folded: watch::Sender<u64>,
    indexed: watch::Sender<u64>,
}

impl Follower {
    /// A follower over an empty projection and `writer`'s index.
    pub fn new(writer: Writer) -> Self {
        Self {
            projection: Arc::default(),
            writer,
            drafts: FxHashMap::default(),
            dirty: FxHashSet::default(),
            backlog: VecDeque::new(),
            folded: watch::channel(0).0,
            indexed: watch::channel(0).0,
        }
    }

    /// The reading side.
    pub fn view(&self) -> View {
        View::new(self.projection.clone(), self.writer.searcher())
    }

    /// The last seq folded into the projection.
    pub fn folded_seq(&self) -> u64 {
        *self.folded.borrow()
    }

    /// The last seq keyword search answers for: what is folded, when the committed index
    /// holds every change up to it.
    pub fn indexed_seq(&self) -> u64 {
        *self.indexed.borrow()
    }

    /// Folds `envelopes` (in order, those up to `until`) and indexes what they changed;
    /// commits on the way when too many sessions wait.
    pub fn ingest(
        &mut self,
        envelopes: impl Iterator<Item = Result<Envelope, LogError>>,
        until: u64,
    ) -> Result<(), RecordsError> {
        self.absorb()?;
        let mut envelopes = envelopes.peekable();
        let mut chunk = Vec::with_capacity(FOLD_CHUNK);
        loop {
            chunk.clear();
            while chunk.len() < FOLD_CHUNK {
                match envelopes.next_if(|e| e.as_ref().map_or(true, |e| e.seq <= until)) {
                    Some(e) => chunk.push(e?),
                    None => break,
                }
            }
            let Some(last) = chunk.last().map(|e| e.seq) else {
                break;
            };
            let committed = self.writer.committed_seq();
            let mut changes = Vec::new();
            {
                let mut projection = self.projection.write().unwrap_or_else(|e| e.into_inner());
                for env in &chunk {
                    if env.seq <= projection.last_seq() {
                        continue;
                    }
                    let before = changes.len();
                    projection.apply(env, &mut changes);
                    // The index already holds what this envelope changed.
                    if env.seq <= committed {
                        changes.truncate(before);
                    }
                }
            }
            self.backlog.extend(changes);
            self.folded.send_replace(last);
            self.absorb()?;
            if self.dirty.len() >= MAX_UNCOMMITTED_SESSIONS {
                self.commit()?;
            } else {
                self.publish_indexed();
            }
        }
        Ok(())
    }

    /// Takes the backlog's changes into the drafts; a change whose draft cannot be read
    /// back from the index stays first in line.
    fn absorb(&mut self) -> Result<(), RecordsError> {
        while let Some(change) = self.backlog.pop_front() {
            let (session, text) = match &change {
                Change::Record(session) => (*session, None),
                Change::Text { session, text, .. } => (*session, Some(text)),
            };
            let draft = match self.draft(session) {
                Ok(draft) => draft,
                Err(e) => {
                    self.backlog.push_front(change);
                    return Err(e);
                }
            };
            if let Some(text) = text {
                if !draft.is_empty() {
                    draft.push('\n');
                }
                draft.push_str(text);
            }
            self.dirty.insert(session);
        }
        Ok(())
    }

    /// The transcript being rewritten for `session`, read back from the index the first
    /// time it is touched since its last commit.
    fn draft(&mut self, session: SessionId) -> Result<&mut String, RecordsError> {
        if !self.drafts.contains_key(&session) {
            let created_seq = self
                .projection
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .get(session)
                .map_or(0, |r| r.created_seq);
            // A session opened after the index's last commit has no document in it yet.
            let stored = if created_seq > self.writer.committed_seq() {
                None
            } else {
                self.writer.searcher().transcript(session)?
            };
            self.drafts.insert(session, stored.unwrap_or_default());
        }
        Ok(self.drafts.entry(session).or_default())
    }

    /// Writes every changed session's document and commits, as covering what is folded.
    /// On failure nothing is lost: the index goes back to its last commit and every changed
    /// session is written again by the next commit.
    pub fn commit(&mut self) -> Result<(), RecordsError> {
        self.absorb()?;
        let seq = self.folded_seq().max(self.writer.committed_seq());
        if self.dirty.is_empty() && seq == self.writer.committed_seq() {
            return Ok(());
        }
        if let Err(e) = self.write_dirty(seq) {
            if let Err(rollback) = self.writer.rollback() {
                tracing::error!(error = %rollback, "the search index cannot roll back");
            }
            return Err(e);
        }
        self.dirty.clear();
        {
            let projection = self.projection.read().unwrap_or_else(|e| e.into_inner());
            // Ended sessions rarely change again; live ones will, soon.
            self.drafts
                .retain(|s, _| projection.get(*s).is_some_and(|r| r.ended_at_ms.is_none()));
        }
        self.publish_indexed();
        Ok(())
    }

    fn write_dirty(&mut self, seq: u64) -> Result<(), RecordsError> {
        {
            let projection = self.projection.read().unwrap_or_else(|e| e.into_inner());
            for session in &self.dirty {
                if let Some(record) = projection.get(*session) {
                    let text = self.drafts.get(session).map_or("", String::as_str);
                    self.writer.put(record, text)?;
                }
            }
        }
        self.writer.commit(seq)?;
        Ok(())
    }

    /// Keyword search needs both sides: the projection (to filter and show) and the index.
    fn publish_indexed(&self) {
        let folded = self.folded_seq();
        let seq = if self.dirty.is_empty() && self.backlog.is_empty() {
            folded
        } else {
            folded.min(self.writer.committed_seq())
        };
        self.indexed.send_if_modified(|s| {
            let newer = seq > *s;
            if newer {
                *s = seq;
            }
            newer
        });
    }

    /// Folds the log's durable tail; commits when `commit_due`, or when a reader waits for
    /// a seq the index does not cover yet.
    fn step(
        &mut self,
        log: &dyn EventLog,
        commit_due: bool,
        demand: u64,
    ) -> Result<(), RecordsError> {
        let durable = log.durable_seq();
        let next = self.folded_seq() + 1;
        if durable >= next {
            self.ingest(log.read_from(next), durable)?;
        }
        let waiting = !self.dirty.is_empty() || !self.backlog.is_empty();
        if waiting && (commit_due || demand > self.indexed_seq()) {
            self.commit()?;
        }
        Ok(())
    }
}

/// The running records: the view readers use, and the task's handles.
pub struct Service {
    view: View,
    log: Arc<dyn EventLog>,
    folded: watch::Receiver<u64>,
    indexed: watch::Receiver<u64>,
    demand: Arc<AtomicU64>,
    wake: Arc<Notify>,
    stop: std::sync::Mutex<Option<(oneshot::Sender<()>, tokio::task::JoinHandle<()>)>>,
}

impl Service {
    /// Starts following `log` with an index opened in `dir` (rebuilt from the log when it
    /// is missing or unreadable), or in memory without a directory.
    pub fn start(
        log: Arc<dyn EventLog>,
        dir: Option<&std::path::Path>,
    ) -> Result<Self, RecordsError> {
        let writer = match dir {
            Some(dir) => {
                let opened = index::open(dir, log.last_seq())?;
                if let Some(why) = &opened.rebuilt {
                    tracing::warn!(dir = %dir.display(), reason = %why, "rebuilding the search index from the log");
                }
                opened.writer
            }
            None => index::in_memory()?,
        };
        tracing::info!(
            indexed_seq = writer.committed_seq(),
            "service records start"
        );
        let follower = Follower::new(writer);
        let view = follower.view();
        let folded = follower.folded.subscribe();
        let indexed = follower.indexed.subscribe();
        let demand = Arc::new(AtomicU64::new(0));
        let wake = Arc::new(Notify::new());
        let (stop_tx, stop_rx) = oneshot::channel();
        let task = tokio::spawn(run(
            follower,
            log.clone(),
            demand.clone(),
            wake.clone(),
            stop_rx,
        ));
        Ok(Self {
            view,
            log,
            folded,
            indexed,
            demand,
            wake,
            stop: std::sync::Mutex::new(Some((stop_tx, task))),
        })
    }

    /// Waits until the records cover everything the log has made durable (the index too,
    /// when `keyword`), waking the task; `Behind` after [`MAX_CATCH_UP_WAIT`].
    pub async fn caught_up(&self, keyword: bool) -> Result<&View, RecordsError> {
        let target = self.log.durable_seq();
        let mut rx = if keyword {
            self.indexed.clone()
        } else {
            self.folded.clone()
        };
        if *rx.borrow() >= target {
            return Ok(&self.view);
        }
        self.demand.fetch_max(target, Ordering::Relaxed);
        self.wake.notify_one();
        let reached = tokio::time::timeout(MAX_CATCH_UP_WAIT, rx.wait_for(|s| *s >= target))
            .await
            .is_ok_and(|r| r.is_ok());
        if reached {
            return Ok(&self.view);
        }
        let at = *rx.borrow();
        Err(RecordsError::Behind { at, target })
    }

    /// The view as it is, caught up or not.
    pub fn view(&self) -> &View {
        &self.view
    }

    /// Stops the task after a last commit, releasing the index directory.
    pub async fn stop(&self) {
        let handles = self.stop.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some((stop, task)) = handles {
            let _ = stop.send(());
            if let Err(e) = task.await {
                tracing::error!(error = %e, "the service records task failed");
            }
        }
    }
}

/// The task: folds and indexes on every poll and every wake, until told to stop.
async fn run(
    follower: Follower,
    log: Arc<dyn EventLog>,
    demand: Arc<AtomicU64>,
    wake: Arc<Notify>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut poll = tokio::time::interval(POLL_INTERVAL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut polls_since_commit = 0u32;
    let mut follower = Some(follower);
    loop {
        let stopping = tokio::select! {
            _ = poll.tick() => {
                polls_since_commit += 1;
                false
            }
            () = wake.notified() => false,
            _ = &mut stop => true,
        };
        let Some(mut f) = follower.take() else { return };
        let log = log.clone();
        let due = stopping || polls_since_commit >= COMMIT_EVERY_POLLS;
        let wanted = demand.load(Ordering::Relaxed);
        // Folding and indexing are CPU and disk work: off the async threads.
        let done = tokio::task::spawn_blocking(move || {
            let result = f.step(log.as_ref(), due, wanted);
            (f, result)
        })
        .await;
        match done {
            Ok((f, result)) => {
                if let Err(e) = result {
                    tracing::error!(error = %e, "service records could not follow the log; retrying");
                } else if due {
                    polls_since_commit = 0;
                }
                follower = Some(f);
            }
            Err(e) => {
                tracing::error!(error = %e, "the service records step panicked; records stop");
                return;
            }
        }
        if stopping {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::ops::Bound;

    use super::*;
    use crate::domain::ids::AppId;
    use crate::log::{Draft, MemLog};
    use crate::records::corpus::{self, Corpus, Spec};

    /// Every word of the corpus finds exactly the sessions whose transcript holds it.
    fn check_words(view: &View, corpus: &Corpus) -> Result<(), String> {
        let words: BTreeSet<&String> = corpus.truth.iter().flat_map(|t| &t.words).collect();
        for app in [AppId(1), AppId(2)] {
            for word in &words {
                let got = view
                    .searcher()
                    .sessions_with(
                        app,
                        &[(*word).clone()],
                        (Bound::Unbounded, Bound::Unbounded),
                    )
                    .map_err(|e| e.to_string())?
                    .into_iter()
                    .map(|(_, s)| s)
                    .collect::<rustc_hash::FxHashSet<SessionId>>();
                let want: rustc_hash::FxHashSet<SessionId> = corpus
                    .truth
                    .iter()
                    .filter(|t| t.app == app && t.words.contains(*word))
                    .map(|t| t.session)
                    .collect();
                if got != want {
                    return Err(format!(
                        "{app} {word}: {} found, {} expected",
                        got.len(),
                        want.len()
                    ));
                }
            }
        }
        Ok(())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(12))]

        /// Stopping at any point of the log and going on from the index's checkpoint gives
        /// the index one straight run gives, whatever the sessions live at the cut.
        #[test]
        fn going_on_from_any_checkpoint_indexes_the_same(
            seed in proptest::prelude::any::<u64>(),
            sessions in 5usize..60,
            cut_per_mille in 0u64..=1_000,
        ) {
            let corpus = corpus::generate(&Spec::of(seed, sessions));
            let last = corpus.envelopes.len() as u64;
            let cut = last * cut_per_mille / 1_000;
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("index");
            {
                let mut first = Follower::new(index::open(&path, last).unwrap().writer);
                first.ingest(corpus.envelopes.iter().cloned().map(Ok), cut).unwrap();
                first.commit().unwrap();
            }
            let opened = index::open(&path, last).unwrap();
            proptest::prop_assert!(opened.rebuilt.is_none());
            proptest::prop_assert!(opened.writer.committed_seq() <= cut);
            let mut next = Follower::new(opened.writer);
            next.ingest(corpus.envelopes.iter().cloned().map(Ok), u64::MAX).unwrap();
            next.commit().unwrap();
            proptest::prop_assert_eq!(next.view().searcher().len(), corpus.truth.len() as u64);
            let checked = check_words(&next.view(), &corpus);
            proptest::prop_assert!(checked.is_ok(), "{:?}", checked);
        }
    }

    #[test]
    fn an_index_ahead_of_its_log_is_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index");
        let mut writer = index::open(&path, 100).unwrap().writer;
        writer.commit(100).unwrap();
        drop(writer);
        let opened = index::open(&path, 40).unwrap();
        assert!(opened.rebuilt.unwrap().contains("ends at 40"));
        assert_eq!(opened.writer.committed_seq(), 0);
    }

    /// A reader that asks right after an append sees it: it wakes the task rather than
    /// waiting for a poll, and keyword search waits for the commit.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_reader_sees_what_the_log_made_durable() {
        let corpus = corpus::generate(&Spec::of(7, 40));
        let log = Arc::new(MemLog::new());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index");
        let service = Service::start(log.clone(), Some(&path)).unwrap();
        for env in &corpus.envelopes {
            let draft = Draft {
                app: env.app,
                stream: env.stream,
                event: env.event.clone(),
            };
            log.append(env.at_ms, vec![draft], None).unwrap();
        }
        let view = service.caught_up(true).await.unwrap();
        assert_eq!(view.len(), corpus.truth.len());
        check_words(view, &corpus).unwrap();
        service.stop().await;
        let reopened = index::open(&path, log.last_seq()).unwrap();
        assert_eq!(
            reopened.writer.committed_seq(),
            log.last_seq(),
            "the checkpoint is the log's end"
        );
    }
}
