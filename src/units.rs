//! Units every stage reads from the seller's words: durations (`2h`), rates (`20/s`) and
//! labels compared without case (statuses, channels). A leaf: it imports nothing of payremind,
//! so any stage may use it without tying itself to another.

use chrono::TimeDelta;

/// Parses a duration like `2h`, `90min`, `7d` or `1d 12h`.
///
/// # Errors
/// A text humantime does not understand, with an example of what it does.
pub fn parse_duration(text: &str) -> Result<TimeDelta, String> {
    let std = humantime::parse_duration(text.trim()).map_err(|e| {
        format!("{text:?} is not a duration ({e}); write it like \"2h\", \"30min\" or \"7d\"")
    })?;
    TimeDelta::from_std(std).map_err(|_| format!("{text:?} is too long"))
}

/// Parses `20/s`, `600/min`, `3000/h` into messages per second.
///
/// # Errors
/// A text that is not a positive count per second, minute or hour.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let hint =
        || format!("{text:?} is not a rate; write it like \"20/s\", \"600/min\" or \"none\"");
    let (count, unit) = text.split_once('/').ok_or_else(hint)?;
    let count: f64 = count.trim().parse().map_err(|_| hint())?;
    let per = match unit.trim() {
        "s" | "sec" | "second" => 1.0,
        "m" | "min" | "minute" => 60.0,
        "h" | "hour" => 3600.0,
        _ => return Err(hint()),
    };
    if count <= 0.0 || !count.is_finite() {
        return Err(hint());
    }
    // Slower than one an hour is a typo (`1e-30/s` would wait longer than time can say).
    if count / per < 1.0 / 3600.0 {
        return Err(format!(
            "{text:?} is slower than one message an hour; write a rate like \"20/s\" or \"600/min\", or \"none\""
        ));
    }
    Ok(count / per)
}

/// How status labels and channels are compared: trimmed, case-insensitive.
#[must_use]
pub fn normalize_label(label: &str) -> String {
    label.trim().to_lowercase()
}

/// Whether `label` is already what [`normalize_label`] makes of it (checked without
/// allocating, for values read on every row).
#[must_use]
pub fn is_normal_label(label: &str) -> bool {
    label.trim() == label && label.chars().all(|c| c.to_lowercase().eq([c]))
}

/// A list of phrases found inside free text, compared as a seller reads them: without case,
/// and word by word, so `cod` is found in `Cash on Delivery (COD)` and `cash on delivery` in
/// `cash_on_delivery`, but `cod` is not found in `Barcode`. A phrase in a script written
/// without spaces (Chinese, Japanese) is found anywhere in the text: `货到付款` in
/// `支付方式:货到付款`.
#[derive(Debug, Clone, Default)]
pub struct Phrases {
    phrases: Vec<Phrase>,
}

/// One listed phrase, ready to be looked for.
#[derive(Debug, Clone)]
struct Phrase {
    /// As the list writes it (for messages).
    written: String,
    /// Its lower-case words.
    words: Vec<String>,
    /// A phrase in a script without spaces: looked for as this text anywhere.
    anywhere: Option<String>,
}

/// How many words of a cell are compared without allocating; a payment method has a handful,
/// a longer cell (a tag list) is read whole into a list.
const WORDS_READ: usize = 32;

impl Phrases {
    /// The phrases of a config list; empty entries are left out.
    #[must_use]
    pub fn new<S: AsRef<str>>(list: &[S]) -> Phrases {
        Phrases {
            phrases: list
                .iter()
                .map(|p| {
                    let words: Vec<String> =
                        text_words(p.as_ref()).map(str::to_lowercase).collect();
                    let anywhere = words
                        .iter()
                        .any(|w| w.chars().any(unspaced))
                        .then(|| words.concat());
                    Phrase {
                        written: p.as_ref().trim().to_owned(),
                        words,
                        anywhere,
                    }
                })
                .filter(|p| !p.words.is_empty())
                .collect(),
        }
    }

    /// Whether no phrase is listed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.phrases.is_empty()
    }

    /// The first listed phrase found in `text`, as the list writes it. Runs once or twice per
    /// order: it allocates nothing, and reads the text's words once.
    #[must_use]
    pub fn find(&self, text: &str) -> Option<&str> {
        if self.phrases.is_empty() || text.trim().is_empty() {
            return None;
        }
        // A payment method has a few words: kept on the stack. A long tag list is collected.
        let mut stack = [""; WORDS_READ];
        let mut count = 0;
        let mut long = Vec::new();
        for word in text_words(text) {
            if count < WORDS_READ {
                stack[count] = word;
                count += 1;
            } else {
                if long.is_empty() {
                    long.extend_from_slice(&stack);
                }
                long.push(word);
            }
        }
        let words = if long.is_empty() {
            &stack[..count]
        } else {
            &long[..]
        };
        self.phrases.iter().find_map(|phrase| {
            let found = match &phrase.anywhere {
                // Scripts without spaces have no case either.
                Some(joined) => text.contains(joined.as_str()),
                None => words.windows(phrase.words.len()).any(|window| {
                    window
                        .iter()
                        .zip(&phrase.words)
                        .all(|(word, wanted)| same_word(word, wanted))
                }),
            };
            found.then_some(phrase.written.as_str())
        })
    }
}

/// The words of a text as written: runs of letters and digits.
fn text_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// `word` as written equals `lower` (already lower-case), without case.
fn same_word(word: &str, lower: &str) -> bool {
    if word.is_ascii() {
        word.eq_ignore_ascii_case(lower)
    } else {
        word.chars().flat_map(char::to_lowercase).eq(lower.chars())
    }
}

/// A letter of a script written without spaces between words (CJK, kana, Thai).
fn unspaced(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0E7F // Thai
        | 0x3040..=0x30FF // kana
        | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF // Han
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_are_found_word_by_word_and_without_case() {
        let cod = Phrases::new(&["cash on delivery", "COD", "货到付款", "наложенный платёж"]);
        assert_eq!(cod.find("Cash on Delivery (COD)"), Some("cash on delivery"));
        assert_eq!(cod.find("cash_on_delivery"), Some("cash on delivery"));
        assert_eq!(cod.find("COD"), Some("COD"));
        assert_eq!(cod.find("gift_card + cod"), Some("COD"));
        assert_eq!(cod.find("支付方式:货到付款"), Some("货到付款"));
        assert_eq!(cod.find("Наложенный платёж"), Some("наложенный платёж"));
        assert_eq!(cod.find("Barcode pay"), None);
        assert_eq!(cod.find("shopify_payments"), None);
        assert_eq!(cod.find(""), None);
        assert!(Phrases::new(&["", "  "]).is_empty());
        // A long tag list is read to its end.
        let tags = format!("{}Subscription Recurring Order", "vip, ".repeat(40));
        let renewal = Phrases::new(&["subscription recurring order"]);
        assert_eq!(renewal.find(&tags), Some("subscription recurring order"));
    }

    #[test]
    fn a_label_is_normal_exactly_when_normalizing_leaves_it_alone() {
        for label in [
            "paid",
            "Paid",
            " paid",
            "paid\t",
            "等待买家付款",
            "wc-pending",
            "İ",
            "ǅ",
            "ß",
            "ẞ",
            "",
        ] {
            assert_eq!(
                is_normal_label(label),
                normalize_label(label) == label,
                "{label:?}"
            );
        }
    }
}
