//! The desk clients' "human service" quick button: a plain text, not a custom message. The
//! Android, iOS, web and Flutter clients send `human service` or `人工服务` when the user taps
//! it; a user typing it means the same. Read leniently: trimmed, runs of spaces squeezed,
//! case ignored, full-width forms (what a Chinese keyboard types) read as their ASCII.

/// The texts that ask for a human.
pub const PHRASES: [&str; 2] = ["human service", "人工服务"];

/// Whether `text` is the request for a human.
pub fn asks_for_human(text: &str) -> bool {
    let folded = fold(text);
    PHRASES.iter().any(|p| *p == folded)
}

/// The text as compared: full-width ASCII (U+FF01..U+FF5E) and the ideographic space read
/// as ASCII, lower case, trimmed, whitespace runs as one space.
fn fold(text: &str) -> String {
    let ascii = text.chars().map(|c| match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        c => c,
    });
    let lower: String = ascii.flat_map(char::to_lowercase).collect();
    lower.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_clients_texts_and_their_variants_ask_for_a_human() {
        for text in [
            "human service",
            "人工服务",
            "  Human   Service ",
            "HUMAN SERVICE",
            "ｈｕｍａｎ　ｓｅｒｖｉｃｅ",
            " 人工服务\n",
        ] {
            assert!(asks_for_human(text), "{text:?}");
        }
    }

    #[test]
    fn other_texts_do_not() {
        for text in [
            "",
            "human",
            "humanservice",
            "human service please",
            "I want human service",
            "人工",
            "人工 服务",
            "转人工服务",
        ] {
            assert!(!asks_for_human(text), "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn any_case_and_padding_of_a_phrase_asks(
            which in 0usize..2,
            upper in proptest::collection::vec(any::<bool>(), 16),
            pad in "[ \\t\\u{3000}]{0,3}",
        ) {
            let phrase: String = PHRASES[which]
                .chars()
                .zip(upper.iter().cycle())
                .map(|(c, up)| if *up { c.to_ascii_uppercase() } else { c })
                .collect();
            let padded = format!("{pad}{phrase}{pad}");
            prop_assert!(asks_for_human(&padded));
        }
    }
}
