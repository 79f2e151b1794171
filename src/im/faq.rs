//! The built-in FAQ bot: an app's questions and answers in an in-memory tantivy index,
//! matched with BM25.
//!
//! **Confidence.** BM25 scores have no upper bound, so the best score is divided by a
//! reference: the score a question of average length holding every word of the user's text
//! once would get. With tantivy's BM25 (k1 = 1.2, b = 0.75) such a question scores exactly
//! the sum of the words' idf, so `confidence = min(1, best score / Σ idf(word))`. A text
//! whose words all appear in a question of about average length scores about 1; words no
//! question has (their idf is the highest) pull it down, as do words the best question
//! lacks. The chatbot module's `threshold` (0..=1) is compared with this number.
//!
//! The index is rebuilt whole when the app's FAQ changed (its `faq_version` moved): a FAQ
//! holds at most a few thousand short questions, indexed in milliseconds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    FAST, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::{Index, IndexReader, TantivyDocument, Term, doc};

use crate::domain::directory::{AppDirectory, FaqEntry};
use crate::domain::ids::{AppId, FaqId};
use crate::records::text;

/// Memory tantivy's writer gathers documents in (it asks for at least 15 MB per thread).
const WRITER_MEMORY_BYTES: usize = 15_000_000;
/// Most distinct words of a user's text the bot looks up.
const MAX_QUERY_WORDS: usize = 64;

/// One app's FAQ, indexed.
pub struct FaqIndex {
    index: Index,
    reader: IndexReader,
    question: tantivy::schema::Field,
    id: tantivy::schema::Field,
    answers: HashMap<u64, String>,
}

impl FaqIndex {
    /// Indexes `entries`.
    pub fn build<'a>(
        entries: impl IntoIterator<Item = &'a FaqEntry>,
    ) -> Result<Self, tantivy::TantivyError> {
        let mut schema = Schema::builder();
        // The transcripts' analyzer, so Chinese questions are cut into bigrams as keywords are.
        let words = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(text::ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        let question = schema.add_text_field("question", words);
        let id = schema.add_u64_field("id", STORED | FAST);
        let index = Index::create_in_ram(schema.build());
        index
            .tokenizers()
            .register(text::ANALYZER, text::analyzer());
        let mut writer = index.writer_with_num_threads(1, WRITER_MEMORY_BYTES)?;
        let mut answers = HashMap::new();
        for entry in entries {
            writer.add_document(doc!(question => entry.question.as_str(), id => entry.id.0))?;
            answers.insert(entry.id.0, entry.answer.clone());
        }
        writer.commit()?;
        let reader = index.reader()?;
        Ok(Self {
            index,
            reader,
            question,
            id,
            answers,
        })
    }

    /// The distinct words of `text` as the index reads them.
    fn words(&self, text: &str) -> Vec<String> {
        let Ok(mut analyzer) = self.index.tokenizer_for_field(self.question) else {
            return Vec::new();
        };
        let mut stream = analyzer.token_stream(text);
        let mut words = Vec::new();
        while let Some(token) = stream.next() {
            if !words.contains(&token.text) && words.len() < MAX_QUERY_WORDS {
                words.push(token.text.clone());
            }
        }
        words
    }

    /// The best question for `text` and its confidence (0..=1), if any question shares a
    /// word with it.
    pub fn best(&self, text: &str) -> Option<(FaqId, f32)> {
        let words = self.words(text);
        if words.is_empty() {
            return None;
        }
        let searcher = self.reader.searcher();
        let docs = searcher.num_docs();
        if docs == 0 {
            return None;
        }
        let terms: Vec<Term> = words
            .iter()
            .map(|w| Term::from_field_text(self.question, w))
            .collect();
        let mut reference = 0.0f32;
        for term in &terms {
            let df = searcher.doc_freq(term).ok()?.min(docs);
            reference += idf(df, docs);
        }
        let clauses: Vec<(Occur, Box<dyn Query>)> = terms
            .into_iter()
            .map(|t| {
                let q: Box<dyn Query> = Box::new(TermQuery::new(t, IndexRecordOption::WithFreqs));
                (Occur::Should, q)
            })
            .collect();
        let query = BooleanQuery::new(clauses);
        let top = searcher
            .search(&query, &TopDocs::with_limit(1).order_by_score())
            .ok()?;
        let (score, address) = top.into_iter().next()?;
        let doc: TantivyDocument = searcher.doc(address).ok()?;
        let id = doc.get_first(self.id).and_then(|v| v.as_u64())?;
        let confidence = if reference > 0.0 {
            (score / reference).clamp(0.0, 1.0)
        } else {
            0.0
        };
        Some((FaqId(id), confidence))
    }

    /// The answer to `text` when the best question's confidence reaches `threshold`.
    pub fn answer(&self, text: &str, threshold: f32) -> Option<String> {
        let (id, confidence) = self.best(text)?;
        if confidence < threshold {
            return None;
        }
        self.answers.get(&id.0).cloned()
    }
}

/// tantivy's BM25 idf.
fn idf(doc_freq: u64, doc_count: u64) -> f32 {
    let x = ((doc_count - doc_freq) as f32 + 0.5) / (doc_freq as f32 + 0.5);
    (1.0 + x).ln()
}

/// Every app's index, rebuilt when its FAQ changed.
#[derive(Default)]
pub struct FaqBots {
    by_app: Mutex<HashMap<AppId, (u64, Arc<FaqIndex>)>>,
}

impl FaqBots {
    /// The app's index as its directory has the FAQ now.
    pub fn index(&self, dir: &AppDirectory) -> Option<Arc<FaqIndex>> {
        let mut by_app = self.by_app.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((version, index)) = by_app.get(&dir.id)
            && *version == dir.faq_version
        {
            return Some(index.clone());
        }
        match FaqIndex::build(dir.faq.values()) {
            Ok(index) => {
                let index = Arc::new(index);
                by_app.insert(dir.id, (dir.faq_version, index.clone()));
                Some(index)
            }
            Err(e) => {
                tracing::error!(app = %dir.id, error = %e, "the FAQ could not be indexed");
                None
            }
        }
    }

    /// The app's answer to `text` at `threshold`.
    pub fn answer(&self, dir: &AppDirectory, text: &str, threshold: f32) -> Option<String> {
        self.index(dir)?.answer(text, threshold)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: u64, question: &str, answer: &str) -> FaqEntry {
        FaqEntry {
            id: FaqId(id),
            question: question.into(),
            answer: answer.into(),
        }
    }

    fn faq() -> FaqIndex {
        FaqIndex::build(&[
            entry(1, "How do I reset my password?", "Use the reset link."),
            entry(
                2,
                "What are your opening hours?",
                "9 to 5, Monday to Friday.",
            ),
            entry(
                3,
                "How much does shipping cost?",
                "Shipping is free over 50.",
            ),
            entry(4, "Where is my order?", "Track it in your account."),
        ])
        .unwrap()
    }

    #[test]
    fn the_closest_question_answers_and_confidence_is_normalized() {
        let f = faq();
        let (id, c) = f.best("what are the opening hours").unwrap();
        assert_eq!(id, FaqId(2));
        assert!((0.0..=1.0).contains(&c), "{c}");
        let (id, exact) = f.best("How do I reset my password?").unwrap();
        assert_eq!(id, FaqId(1));
        assert!(
            exact > 0.8,
            "the question itself is a near-certain match: {exact}"
        );
        assert_eq!(
            f.answer("reset my password", 0.5).as_deref(),
            Some("Use the reset link.")
        );
    }

    #[test]
    fn unrelated_text_is_below_any_useful_threshold() {
        let f = faq();
        assert_eq!(f.best("zebra quantum banana"), None, "no shared word");
        let (_, weak) = f.best("password zebra quantum banana giraffe").unwrap();
        let (_, strong) = f.best("reset password").unwrap();
        assert!(
            weak < strong,
            "unknown words lower confidence: {weak} vs {strong}"
        );
        assert_eq!(f.answer("password zebra quantum banana giraffe", 0.6), None);
        assert_eq!(f.best("?!"), None, "no words");
        assert!(FaqIndex::build(&[]).unwrap().best("hello").is_none());
    }

    #[test]
    fn a_chinese_question_finds_its_chinese_entry() {
        let f = FaqIndex::build(&[
            entry(1, "如何申请退款？", "在订单页面点击申请退款。"),
            entry(2, "营业时间是几点？", "周一至周五九点到五点。"),
            entry(3, "How do I reset my password?", "Use the reset link."),
            entry(4, "运费多少钱？", "满五十免运费。"),
        ])
        .unwrap();
        let (id, c) = f.best("我想申请退款").unwrap();
        assert_eq!(id, FaqId(1));
        assert!(c > 0.4, "three of five bigrams shared: {c}");
        assert_eq!(
            f.answer("如何申请退款", 0.5).as_deref(),
            Some("在订单页面点击申请退款。"),
        );
        assert_eq!(f.best("营业时间").unwrap().0, FaqId(2));
        assert_eq!(
            f.best("password 怎么 reset").unwrap().0,
            FaqId(3),
            "mixed text"
        );
        assert_eq!(f.best("天气"), None, "no shared bigram");
    }
}
