//! How text is cut into search words, for every search the desk runs (transcript keywords,
//! the FAQ bot). Scripts that separate words with spaces split at anything that is not a
//! letter or a digit; scripts that do not (Chinese, Japanese, Korean) would then make a
//! whole sentence one word, so a run of such characters is cut into overlapping character
//! bigrams instead (a run of one character stays one word). Index and query go through the
//! same cut, so a two-or-more-character keyword finds every text holding it: `退款` is a
//! bigram of `我想申请退款`. A one-character keyword finds only one-character runs; that is
//! the price of not indexing every character twice.

/// One word of a text: its byte range (`text[from..to]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Word {
    /// Byte offset of its first character.
    pub from: usize,
    /// Byte offset after its last character.
    pub to: usize,
}

/// Whether `c` belongs to a script written without spaces between words (CJK ideographs,
/// kana, hangul), whose runs are cut into bigrams.
pub fn is_unspaced(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF     // hiragana, katakana
        | 0x31F0..=0x31FF   // katakana phonetic extensions
        | 0x3400..=0x4DBF   // CJK extension A
        | 0x4E00..=0x9FFF   // CJK unified ideographs
        | 0xAC00..=0xD7AF   // hangul syllables
        | 0x1100..=0x11FF   // hangul jamo
        | 0x3130..=0x318F   // hangul compatibility jamo
        | 0xF900..=0xFAFF   // CJK compatibility ideographs
        | 0xFF66..=0xFF9D   // halfwidth katakana
        | 0x20000..=0x3FFFF // CJK extensions B and later
    )
}

/// The words of `text`, in order: spaced-script words whole, unspaced runs as bigrams.
pub fn split(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if is_unspaced(c) {
            // The run's character starts, then one word per adjacent pair.
            let mut starts = vec![start];
            while let Some(&(i, c)) = chars.peek() {
                if !is_unspaced(c) {
                    break;
                }
                starts.push(i);
                chars.next();
            }
            let end = chars.peek().map_or(text.len(), |&(i, _)| i);
            starts.push(end);
            if starts.len() == 2 {
                out.push(Word {
                    from: start,
                    to: end,
                });
            } else {
                for pair in starts.windows(3) {
                    out.push(Word {
                        from: pair[0],
                        to: pair[2],
                    });
                }
            }
        } else if c.is_alphanumeric() {
            let mut end = start + c.len_utf8();
            while let Some(&(i, c)) = chars.peek() {
                if !c.is_alphanumeric() || is_unspaced(c) {
                    break;
                }
                end = i + c.len_utf8();
                chars.next();
            }
            out.push(Word {
                from: start,
                to: end,
            });
        }
    }
    out
}

/// The words of `text` as strings (not lowercased: the analyzer does that).
pub fn split_str(text: &str) -> Vec<&str> {
    split(text)
        .into_iter()
        .map(|w| &text[w.from..w.to])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spaced_words_split_at_non_letters() {
        assert_eq!(
            split_str("Refund, please! Order #A-17"),
            ["Refund", "please", "Order", "A", "17"]
        );
    }

    #[test]
    fn chinese_runs_are_overlapping_bigrams() {
        assert_eq!(
            split_str("我想申请退款，谢谢"),
            ["我想", "想申", "申请", "请退", "退款", "谢谢"]
        );
        assert_eq!(split_str("好"), ["好"]);
        assert_eq!(split_str("好，是"), ["好", "是"]);
    }

    #[test]
    fn mixed_chinese_and_latin_keep_each_its_own_cut() {
        assert_eq!(
            split_str("我要refund订单A17号"),
            ["我要", "refund", "订单", "A17", "号"]
        );
        assert_eq!(split_str("iPhone15退货"), ["iPhone15", "退货"]);
    }

    #[test]
    fn japanese_and_korean_are_unspaced_too() {
        assert_eq!(split_str("カタカナ"), ["カタ", "タカ", "カナ"]);
        assert_eq!(split_str("환불"), ["환불"]);
    }

    proptest! {
        /// Every word is a non-empty slice on character boundaries, words come in order,
        /// and no word holds a character that is neither a letter nor a digit.
        #[test]
        fn words_are_ordered_slices_of_letters(text in "\\PC{0,40}") {
            let words = split(&text);
            let mut last = 0;
            for w in &words {
                prop_assert!(w.from < w.to);
                prop_assert!(text.is_char_boundary(w.from) && text.is_char_boundary(w.to));
                prop_assert!(w.from >= last);
                last = w.from;
                prop_assert!(text[w.from..w.to].chars().all(|c| c.is_alphanumeric() || is_unspaced(c)));
            }
        }

        /// A keyword of two or more unspaced characters is found in any text that holds it:
        /// each of its words is a word of the text.
        #[test]
        fn an_unspaced_keyword_inside_a_text_is_found(
            before in "[一-龥]{0,6}",
            keyword in "[一-龥]{2,5}",
            after in "[一-龥]{0,6}",
        ) {
            let text = format!("{before}{keyword}{after}");
            let have = split_str(&text);
            for w in split_str(&keyword) {
                prop_assert!(have.contains(&w), "{w} of {keyword} not in {text}");
            }
        }
    }
}
