//! Online service records: one record per session (who, which skill groups, which agents,
//! when, how long, how it ended, how it was rated, how many messages), with keyword search
//! over transcripts.
//!
//! Like every read model here, the records are a projection of the log. The functional
//! core is [`projection::Projection::apply`] (an envelope in, the record changed and what
//! the index must hear out) and [`query`] (who sees what, filters, pages); the shell is
//! [`tail`], a task that follows the log's durable tail, and [`index`], the tantivy index.
//!
//! Where state lives, and why:
//!
//! - **The records are rebuilt from the log at every start**, not kept with a checkpoint.
//!   Folding them is cheap next to the replay the engine does anyway (a few hundred bytes
//!   per session, no decisions), a copy on disk would need its own format, versioning and
//!   repair, and which messages belong to which session depends on the whole history of a
//!   conversation, so a record cannot be trusted without the events before it.
//! - **The search index is kept on disk with a checkpoint** (`<data>/records-index/`, the
//!   last log seq it covers in each commit's payload): indexing transcripts costs far more
//!   than folding them, so a restart indexes only the log after the checkpoint. It is a copy
//!   of the log and nothing else: delete the directory, or let it be unreadable, and the
//!   next start builds it again from the log.

pub mod analysis;
pub mod corpus;
pub mod index;
pub mod projection;
pub mod query;
pub mod tail;
pub mod text;
pub mod timeline;
pub mod view;

use std::path::Path;
use std::sync::{Arc, OnceLock};

use crate::log::EventLog;

pub use projection::{Record, Satisfaction};
pub use query::{Cursor, Filter, Viewer};
pub use tail::{RecordsError, Service};
pub use view::{ListPage, View};

/// The directory of the search index, inside the data directory.
pub const INDEX_DIR: &str = "records-index";

/// The service records of a running server: empty until [`Records::start`].
#[derive(Default)]
pub struct Records {
    service: OnceLock<Arc<Service>>,
}

impl Records {
    /// Starts following `log`, the index in `data_dir`'s [`INDEX_DIR`] (in memory without a
    /// data directory). Starting twice keeps the first.
    pub fn start(
        &self,
        log: Arc<dyn EventLog>,
        data_dir: Option<&Path>,
    ) -> Result<(), RecordsError> {
        if self.service.get().is_some() {
            return Ok(());
        }
        let dir = data_dir.map(|d| d.join(INDEX_DIR));
        let service = Service::start(log, dir.as_deref())?;
        let _ = self.service.set(Arc::new(service));
        Ok(())
    }

    /// The running service, if started.
    pub fn service(&self) -> Option<&Arc<Service>> {
        self.service.get()
    }

    /// Stops the task (a last commit, the index directory released).
    pub async fn stop(&self) {
        if let Some(service) = self.service.get() {
            service.stop().await;
        }
    }
}
