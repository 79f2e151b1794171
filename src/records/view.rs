//! The reading side of the service records: the projection behind its lock and the search
//! index's searcher, answering lists and single records as owned values (no lock is held
//! once a call returns).

use std::ops::Bound;
use std::sync::{Arc, RwLock, RwLockReadGuard};

use crate::domain::ids::{AppId, SessionId};
use crate::records::analysis::{self, Report, Settings};
use crate::records::index::Searcher;
use crate::records::projection::{LiveOffer, Projection, Record};
use crate::records::query::{self, Cursor, Filter, Viewer};
use crate::records::tail::RecordsError;

/// A page of records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListPage {
    /// The records, newest first.
    pub records: Vec<Record>,
    /// Where the next page starts, when there is one.
    pub next: Option<Cursor>,
}

/// The projection and the index, for reading.
#[derive(Clone)]
pub struct View {
    projection: Arc<RwLock<Projection>>,
    searcher: Searcher,
}

impl View {
    /// A view over a projection and an index.
    pub fn new(projection: Arc<RwLock<Projection>>, searcher: Searcher) -> Self {
        Self {
            projection,
            searcher,
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Projection> {
        self.projection.read().unwrap_or_else(|e| e.into_inner())
    }

    /// A page of the app's records the viewer sees, passing `filter` and, with `keyword`
    /// (its terms, as `text::keyword_terms` makes them), whose transcript holds every term.
    pub fn list(
        &self,
        app: AppId,
        viewer: &Viewer,
        filter: &Filter,
        keyword: Option<&[String]>,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<ListPage, RecordsError> {
        // The index narrows by start too: later pages search only what is left.
        let lower = filter.from_ms.map_or(Bound::Unbounded, Bound::Included);
        let upper = match (filter.to_ms, after) {
            (Some(to), Some(c)) if c.created_at_ms < to => Bound::Included(c.created_at_ms),
            (Some(to), _) => Bound::Excluded(to),
            (None, Some(c)) => Bound::Included(c.created_at_ms),
            (None, None) => Bound::Unbounded,
        };
        let mut hits = keyword
            .map(|words| self.searcher.sessions_with(app, words, (lower, upper)))
            .transpose()?;
        if let Some(hits) = &mut hits {
            hits.sort_unstable_by(|a, b| b.cmp(a));
        }
        let projection = self.read();
        let page = query::page(
            &projection,
            app,
            viewer,
            filter,
            hits.as_deref(),
            after,
            limit,
        );
        Ok(ListPage {
            records: page.records.into_iter().cloned().collect(),
            next: page.next,
        })
    }

    /// The data-analysis report of `app`'s records under `settings`. Reads the range under
    /// the projection's read lock: folding new events waits meanwhile (a few hundred ns a
    /// record), answering the API does not.
    pub fn analyse(&self, app: AppId, settings: &Settings) -> Report {
        let (from_ms, to_ms) = settings.range_ms();
        let projection = self.read();
        analysis::report(settings, projection.newest_first(app, from_ms, to_ms, None))
    }

    /// One session's record.
    pub fn get(&self, session: SessionId) -> Option<Record> {
        self.read().get(session).cloned()
    }

    /// Whether `sees` holds for a record of one of `conversation`'s sessions (in `app`).
    /// Reads only that conversation's sessions (an index of the projection).
    pub fn conversation_seen(
        &self,
        app: AppId,
        conversation: crate::domain::ids::ConversationId,
        sees: impl Fn(&crate::records::projection::Record) -> bool,
    ) -> bool {
        self.read()
            .of_conversation(conversation)
            .any(|r| r.app == app && sees(r))
    }

    /// The app's offers waiting for an answer, by session.
    pub fn live_offers(&self, app: AppId) -> Vec<LiveOffer> {
        self.read().live_offers(app).cloned().collect()
    }

    /// How many records there are.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The search index.
    pub fn searcher(&self) -> &Searcher {
        &self.searcher
    }
}
