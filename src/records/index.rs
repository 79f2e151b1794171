//! The keyword index of transcripts (tantivy): one document per session with its app,
//! agents, skill groups, start and transcript text. It lives in the data directory beside
//! the log and is only ever a copy of it: each commit carries the last log seq it covers
//! (in the commit's payload), so a restart indexes the log from there on, and an index that
//! is missing, unreadable, of another format or ahead of the log is thrown away and built
//! again from the log.

use std::ops::Bound;
use std::path::Path;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::{
    DocId, Index, IndexReader, IndexWriter, ReloadPolicy, Score, SegmentOrdinal, SegmentReader,
    TantivyDocument, TantivyError, Term,
};

use crate::domain::ids::{AppId, SessionId};
use crate::records::projection::Record;
use crate::records::text;

/// The index's format: a change of schema or analyzer bumps it, and an index of another
/// format is rebuilt from the log.
/// 2: CJK runs cut into bigrams (format 1 indexed a Chinese sentence as one word).
pub const FORMAT: u32 = 2;
/// Memory the index writer gathers documents in before it writes a segment. tantivy asks
/// for at least 15 MB per indexing thread.
pub const WRITER_MEMORY_BYTES: usize = 32 * 1024 * 1024;

/// Errors of the index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// tantivy failed.
    #[error("search index: {0}")]
    Tantivy(#[from] TantivyError),
    /// The file system failed.
    #[error("search index directory {path}: {source}")]
    Io {
        /// The directory.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
}

/// The index's fields.
#[derive(Clone, Copy, Debug)]
pub struct Fields {
    session: Field,
    app: Field,
    agent: Field,
    group: Field,
    started_at: Field,
    transcript: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let words = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(text::ANALYZER)
                // Keywords are all-words matches: no frequencies or positions needed.
                .set_index_option(IndexRecordOption::Basic),
        )
        .set_stored();
    let fields = Fields {
        session: b.add_u64_field("session", INDEXED | FAST | STORED),
        app: b.add_u64_field("app", INDEXED | FAST),
        agent: b.add_u64_field("agent", INDEXED | STORED),
        group: b.add_u64_field("group", INDEXED | STORED),
        started_at: b.add_i64_field("started_at", INDEXED | FAST | STORED),
        transcript: b.add_text_field("transcript", words),
    };
    (b.build(), fields)
}

/// What a commit says about itself.
#[derive(serde::Serialize, serde::Deserialize)]
struct Payload {
    format: u32,
    seq: u64,
}

/// The reading side, shared with request handlers.
#[derive(Clone)]
pub struct Searcher {
    reader: IndexReader,
    fields: Fields,
}

/// The writing side, owned by the task that follows the log.
pub struct Writer {
    writer: IndexWriter,
    searcher: Searcher,
    committed_seq: u64,
}

/// An index opened (or made anew) in a directory.
pub struct Opened {
    /// Its writer.
    pub writer: Writer,
    /// Why it was thrown away and is being rebuilt from the log, if it was.
    pub rebuilt: Option<String>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> IndexError + '_ {
    move |source| IndexError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Opens the index in `dir`, or makes it anew (empty, to be filled from the log) when it
/// is missing, unreadable, of another format, or claims more of the log than `log_last_seq`.
pub fn open(dir: &Path, log_last_seq: u64) -> Result<Opened, IndexError> {
    let exists = dir.join("meta.json").exists();
    let problem = if exists {
        match open_existing(dir, log_last_seq) {
            Ok(writer) => {
                return Ok(Opened {
                    writer,
                    rebuilt: None,
                });
            }
            // Another process holds the index: never throw away what it is writing.
            Err(IndexError::Tantivy(e @ TantivyError::LockFailure(..))) => {
                return Err(IndexError::Tantivy(e));
            }
            Err(e) => Some(e.to_string()),
        }
    } else {
        None
    };
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(io(dir))?;
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let (schema, fields) = schema();
    let index = Index::create_in_dir(dir, schema)?;
    let mut writer = Writer::new(index, fields, 0)?;
    // The first commit says what the index is, so an index without one is never trusted.
    writer.commit(0)?;
    Ok(Opened {
        writer,
        rebuilt: problem,
    })
}

fn open_existing(dir: &Path, log_last_seq: u64) -> Result<Writer, IndexError> {
    let index = Index::open_in_dir(dir)?;
    let (schema, fields) = schema();
    let bad = |why: String| IndexError::Tantivy(TantivyError::SchemaError(why));
    if index.schema() != schema {
        return Err(bad("its schema is not this build's".to_owned()));
    }
    let meta = index.load_metas()?;
    let payload: Payload = meta
        .payload
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok())
        .ok_or_else(|| bad("its last commit does not say which log seq it covers".to_owned()))?;
    if payload.format != FORMAT {
        return Err(bad(format!(
            "it is of format {}, this build writes {FORMAT}",
            payload.format
        )));
    }
    if payload.seq > log_last_seq {
        return Err(bad(format!(
            "it covers the log up to seq {}, but the log ends at {log_last_seq}",
            payload.seq
        )));
    }
    Writer::new(index, fields, payload.seq)
}

/// An index in memory (tests and tools that need no persistence).
pub fn in_memory() -> Result<Writer, IndexError> {
    let (schema, fields) = schema();
    let mut writer = Writer::new(Index::create_in_ram(schema), fields, 0)?;
    writer.commit(0)?;
    Ok(writer)
}

impl Writer {
    fn new(index: Index, fields: Fields, committed_seq: u64) -> Result<Self, IndexError> {
        index
            .tokenizers()
            .register(text::ANALYZER, text::analyzer());
        // One indexing thread: the machine's other core serves requests and the engine.
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY_BYTES)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            writer,
            searcher: Searcher { reader, fields },
            committed_seq,
        })
    }

    /// The last log seq the committed index covers.
    pub fn committed_seq(&self) -> u64 {
        self.committed_seq
    }

    /// The reading side.
    pub fn searcher(&self) -> Searcher {
        self.searcher.clone()
    }

    /// Replaces the session's document (in the next commit).
    pub fn put(&mut self, record: &Record, transcript: &str) -> Result<(), IndexError> {
        let f = self.searcher.fields;
        self.writer
            .delete_term(Term::from_field_u64(f.session, record.session.0));
        let mut doc = TantivyDocument::default();
        doc.add_u64(f.session, record.session.0);
        doc.add_u64(f.app, u64::from(record.app.0));
        for agent in &record.agents {
            doc.add_u64(f.agent, agent.0);
        }
        for group in &record.groups {
            doc.add_u64(f.group, group.0);
        }
        doc.add_i64(f.started_at, record.created_at_ms);
        doc.add_text(f.transcript, transcript);
        self.writer.add_document(doc)?;
        Ok(())
    }

    /// Drops everything put since the last commit.
    pub fn rollback(&mut self) -> Result<(), IndexError> {
        self.writer.rollback()?;
        Ok(())
    }

    /// Makes everything put so far durable and visible, as covering the log up to `seq`.
    pub fn commit(&mut self, seq: u64) -> Result<(), IndexError> {
        debug_assert!(seq >= self.committed_seq, "the index never goes back");
        let payload = serde_json::to_string(&Payload {
            format: FORMAT,
            seq,
        })
        .unwrap_or_default();
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(&payload);
        prepared.commit()?;
        self.searcher.reader.reload()?;
        self.committed_seq = seq;
        Ok(())
    }
}

impl Searcher {
    /// The app's sessions that started within `started` (ms) whose transcript holds every
    /// one of `words` (already terms), as `(start, session)`, in no order.
    pub fn sessions_with(
        &self,
        app: AppId,
        words: &[String],
        started: (Bound<i64>, Bound<i64>),
    ) -> Result<Vec<(i64, SessionId)>, IndexError> {
        let f = self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(
            Occur::Must,
            Box::new(TermQuery::new(
                Term::from_field_u64(f.app, u64::from(app.0)),
                IndexRecordOption::Basic,
            )),
        )];
        for word in words {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(f.transcript, word),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        if started != (Bound::Unbounded, Bound::Unbounded) {
            let term = |at: i64| Term::from_field_i64(f.started_at, at);
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(started.0.map(term), started.1.map(term))),
            ));
        }
        let query = BooleanQuery::new(clauses);
        Ok(self.reader.searcher().search(&query, &Starts)?)
    }

    /// The transcript text the index holds for a session (none when it has no document).
    pub fn transcript(&self, session: SessionId) -> Result<Option<String>, IndexError> {
        let f = self.fields;
        let searcher = self.reader.searcher();
        let query = TermQuery::new(
            Term::from_field_u64(f.session, session.0),
            IndexRecordOption::Basic,
        );
        let addresses = searcher.search(&query, &tantivy::collector::DocSetCollector)?;
        let Some(address) = addresses.into_iter().next() else {
            return Ok(None);
        };
        let doc: TantivyDocument = searcher.doc(address)?;
        Ok(Some(
            doc.get_first(f.transcript)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned(),
        ))
    }

    /// How many sessions the index holds.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Collects the start and the session of every match, from their fast fields (no
/// document is read).
struct Starts;

struct SegmentStarts {
    started_at: Column<i64>,
    session: Column<u64>,
    found: Vec<(i64, SessionId)>,
}

impl Collector for Starts {
    type Fruit = Vec<(i64, SessionId)>;
    type Child = SegmentStarts;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentStarts> {
        Ok(SegmentStarts {
            started_at: reader.fast_fields().i64("started_at")?,
            session: reader.fast_fields().u64("session")?,
            found: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(
        &self,
        fruits: Vec<Vec<(i64, SessionId)>>,
    ) -> tantivy::Result<Vec<(i64, SessionId)>> {
        Ok(fruits.into_iter().flatten().collect())
    }
}

impl SegmentCollector for SegmentStarts {
    type Fruit = Vec<(i64, SessionId)>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        if let (Some(at), Some(session)) = (self.started_at.first(doc), self.session.first(doc)) {
            self.found.push((at, SessionId(session)));
        }
    }

    fn harvest(self) -> Vec<(i64, SessionId)> {
        self.found
    }
}
