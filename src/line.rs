//! Beside the stages: text from the export on one line of a header or a terminal. A buyer's
//! name or an order id is the buyer's (or a marketplace's) text, and may carry a line break (a
//! header of its own, a subject cut in two), a bidi override (`U+202E` shows "gpj.exe" as
//! "exe.jpg"), zero-width characters, terminal escape sequences, or a megabyte of anything.
//! One home for making it safe: [`header`] for a header value or a line of the preview,
//! [`terminal`] for a body shown in the preview. A leaf: it imports nothing of the crate.

/// The most characters of one value in a header (`To:`'s name, `Subject:`): RFC 5322 allows
/// 998 bytes per line, and an encoded CJK character takes about 12.
pub const MAX_HEADER_CHARS: usize = 78;

/// Characters that change how text is shown without being seen: bidi embeddings, overrides
/// and isolates, marks, zero-width spaces and joiners, the BOM.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// One line, shown as written: control and invisible characters out, any run of whitespace
/// (line breaks included) one space, trimmed, at most `max` characters (an ellipsis marks a
/// cut).
#[must_use]
pub fn header(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max * 4));
    let mut count = 0;
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() || c.is_control() {
            space = !out.is_empty();
            continue;
        }
        if invisible(c) {
            continue;
        }
        let needed = usize::from(space) + 1;
        if count + needed > max {
            out.push('…');
            return out;
        }
        if space {
            out.push(' ');
            count += 1;
            space = false;
        }
        out.push(c);
        count += 1;
    }
    out
}

/// A body for the terminal: line breaks and tabs kept, other control characters (escape
/// sequences' ESC among them) and bidi overrides out.
#[must_use]
pub fn terminal(text: &str) -> String {
    text.chars()
        .filter(|&c| {
            matches!(c, '\n' | '\t')
                || !(c.is_control()
                    || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_value_is_one_visible_line_of_bounded_length() {
        assert_eq!(header("  Zoë\r\n Ünal\t", 78), "Zoë Ünal");
        assert_eq!(
            header("A1\nBcc: x@example.com", 78),
            "A1 Bcc: x@example.com"
        );
        assert_eq!(
            header("evil\u{202E}gpj.exe\u{200B}\x1b[31m", 78),
            "evilgpj.exe [31m"
        );
        assert_eq!(header(&"王".repeat(1_000_000), 78).chars().count(), 79);
        assert_eq!(header("abc", 3), "abc");
        assert_eq!(header("abcd", 3), "abc…");
    }

    #[test]
    fn a_body_keeps_its_lines_and_loses_escapes() {
        assert_eq!(
            terminal("Hi\x1b[2J\n\tthere\u{202E}!\r\n"),
            "Hi[2J\n\tthere!\n"
        );
    }
}
