//! What of a message is searched, and how text becomes search terms. The index and the
//! in-transcript search both go through [`terms`], so a keyword finds in a transcript
//! exactly the messages that made the index find the session.

use tantivy::tokenizer::{
    LowerCaser, RemoveLongFilter, TextAnalyzer, Token, TokenStream, Tokenizer,
};

use crate::domain::conversation::Body;
use crate::domain::words::{self, Word};

/// Longest search term, in bytes: longer words (hashes, URLs run together) are not indexed.
pub const MAX_TERM_BYTES: usize = 40;
/// Most terms a keyword may have: each is one more posting list to intersect.
pub const MAX_KEYWORD_TERMS: usize = 16;
/// Longest keyword, in characters.
pub const MAX_KEYWORD_CHARS: usize = 200;
/// The analyzer's name in the index.
pub const ANALYZER: &str = "transcript";

/// The analyzer of transcripts, keywords and FAQ questions: words as
/// [`crate::domain::words::split`] cuts them (spaced scripts at non-letters, CJK runs as
/// bigrams), lowercased, overlong ones dropped.
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer)
        .filter(RemoveLongFilter::limit(MAX_TERM_BYTES))
        .filter(LowerCaser)
        .build()
}

/// tantivy's side of [`words::split`].
#[derive(Clone, Copy, Debug, Default)]
pub struct WordTokenizer;

/// The words of one text, handed to tantivy one at a time.
pub struct WordStream<'a> {
    text: &'a str,
    words: std::vec::IntoIter<Word>,
    token: Token,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream<'a> {
        WordStream {
            text,
            words: words::split(text).into_iter(),
            token: Token::default(),
        }
    }
}

impl TokenStream for WordStream<'_> {
    fn advance(&mut self) -> bool {
        let Some(word) = self.words.next() else {
            return false;
        };
        self.token.text.clear();
        self.token.text.push_str(&self.text[word.from..word.to]);
        self.token.offset_from = word.from;
        self.token.offset_to = word.to;
        self.token.position = self.token.position.wrapping_add(1);
        true
    }
    fn token(&self) -> &Token {
        &self.token
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

/// The search terms of `text`, in order (repeats kept).
pub fn terms(text: &str) -> Vec<String> {
    let mut analyzer = analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while let Some(token) = stream.next() {
        out.push(token.text.clone());
    }
    out
}

/// The text of a message that keyword search looks at: a text message's text, a custom
/// message's `description` (what clients show when they cannot render it; the desk's own
/// JSON `data` is protocol, not conversation).
pub fn searchable(body: &Body) -> String {
    match body {
        Body::Text { text } => text.clone(),
        Body::Custom { description, .. } => description.clone(),
        Body::File { name, .. } => name.clone(),
    }
}

/// A keyword as terms, every one of which a match must contain; refused (naming `field`)
/// when it is too long, has no word, or too many.
pub fn keyword_terms(
    field: &'static str,
    keyword: &str,
) -> Result<Vec<String>, crate::domain::Rejection> {
    use crate::domain::Rejection;
    let chars = keyword.chars().count();
    if chars > MAX_KEYWORD_CHARS {
        return Err(Rejection::invalid(
            field,
            format!("{chars} characters is over the limit of {MAX_KEYWORD_CHARS}"),
        ));
    }
    let mut words = terms(keyword);
    words.sort();
    words.dedup();
    if words.is_empty() {
        return Err(Rejection::invalid(
            field,
            "has no word to search for (letters, digits or CJK characters)",
        ));
    }
    if words.len() > MAX_KEYWORD_TERMS {
        return Err(Rejection::invalid(
            field,
            format!(
                "{} words is over the limit of {MAX_KEYWORD_TERMS}",
                words.len()
            ),
        ));
    }
    Ok(words)
}

/// Whether `text` contains every one of `words` (as [`keyword_terms`] makes them).
pub fn contains_all(text: &str, words: &[String]) -> bool {
    let have = terms(text);
    words.iter().all(|w| have.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_at_punctuation_and_lowercase() {
        assert_eq!(
            terms("Refund, please! Order #A-17"),
            ["refund", "please", "order", "a", "17"]
        );
        assert_eq!(terms(&"x".repeat(MAX_TERM_BYTES)), Vec::<String>::new());
        assert_eq!(terms(&"x".repeat(MAX_TERM_BYTES - 1)).len(), 1);
    }

    #[test]
    fn keywords_need_a_word_and_no_more_than_the_limit() {
        assert_eq!(
            keyword_terms("keyword", "Refund refund ORDER").unwrap(),
            ["order", "refund"]
        );
        assert_eq!(
            keyword_terms("keyword", "!!").unwrap_err().field(),
            Some("keyword")
        );
        let many: String = (0..=MAX_KEYWORD_TERMS).map(|i| format!("w{i} ")).collect();
        assert_eq!(keyword_terms("q", &many).unwrap_err().field(), Some("q"));
        let long = "a".repeat(MAX_KEYWORD_CHARS + 1);
        assert!(keyword_terms("q", &long).is_err());
    }

    #[test]
    fn chinese_keywords_find_chinese_text() {
        let words = keyword_terms("q", "退款").unwrap();
        assert!(contains_all("我想申请退款，谢谢", &words));
        assert!(!contains_all("我想申请退货", &words));
        let mixed = keyword_terms("q", "iPhone 退款").unwrap();
        assert!(contains_all("我的IPHONE需要退款", &mixed));
        assert!(!contains_all("我的手机需要退款", &mixed));
    }

    #[test]
    fn matching_needs_every_word() {
        let words = keyword_terms("q", "order refund").unwrap();
        assert!(contains_all("I want a REFUND for order 7", &words));
        assert!(!contains_all("I want a refund", &words));
        assert!(
            !contains_all("refunds for orders", &words),
            "whole words only"
        );
    }
}
