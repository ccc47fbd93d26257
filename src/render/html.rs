//! The HTML alternative of a message, derived from its rendered text, so that it says the same
//! words in every language: blocks between blank lines become paragraphs (their lines kept
//! apart with `<br>`), lines starting with `- ` become a list, links become links. One inline
//! style (the font and the width, on a wrapper), no colours of its own (the mail client's
//! light or dark scheme stays readable), no images, `lang` set to the message's language.
//!
//! A seller's own `<step>.html` in `[templates].dir` takes its place; [`visible_words`] is what
//! `check` compares it with the text by (SpamAssassin's MPART_ALT_DIFF scores an alternative
//! that says something else).

use std::fmt::Write as _;

/// `text` with `&`, `<`, `>`, `"` and `'` escaped.
#[must_use]
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Where a link in `text` ends: before trailing punctuation a sentence puts after it.
fn link_end(text: &str) -> usize {
    let end = text
        .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
        .unwrap_or(text.len());
    text[..end]
        .trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '\''])
        .len()
}

/// One line of text, escaped, its https and http links made links.
fn inline(line: &str, out: &mut String) {
    let mut rest = line;
    while let Some(start) = ["https://", "http://"]
        .iter()
        .filter_map(|scheme| rest.find(scheme))
        .min()
    {
        out.push_str(&escape(&rest[..start]));
        let link = &rest[start..];
        let end = link_end(link);
        let url = escape(&link[..end]);
        let _ = write!(out, "<a href=\"{url}\">{url}</a>");
        rest = &link[end..];
    }
    out.push_str(&escape(rest));
}

/// A list item: `  - text` or `- text`.
fn item(line: &str) -> Option<&str> {
    line.trim_start().strip_prefix("- ")
}

/// The HTML document for a text body in `language` (a BCP 47 code such as `en` or `zh-CN`).
#[must_use]
pub fn from_text(text: &str, language: &str) -> String {
    let language = escape(language);
    let mut out = String::with_capacity(text.len() * 2 + 600);
    // One style, on the wrapper: the paragraphs, the list and the links keep the mail client's
    // own (its colours too, light or dark), so the part stays small.
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{language}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"color-scheme\" content=\"light dark\">\n<meta name=\"supported-color-schemes\" content=\"light dark\">\n</head>\n<body>\n<div style=\"max-width: 600px; font-family: sans-serif; font-size: 16px; line-height: 1.5; color-scheme: light dark;\">\n"
    );
    let text = text.replace("\r\n", "\n");
    for block in text.split("\n\n").map(|b| b.trim_matches('\n')) {
        if block.trim().is_empty() {
            continue;
        }
        let lines: Vec<&str> = block.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            if item(lines[i]).is_some() {
                out.push_str("<ul>\n");
                while let Some(text) = lines.get(i).and_then(|l| item(l)) {
                    out.push_str("<li>");
                    inline(text, &mut out);
                    out.push_str("</li>\n");
                    i += 1;
                }
                out.push_str("</ul>\n");
            } else {
                out.push_str("<p>");
                let mut first = true;
                while let Some(line) = lines.get(i).filter(|l| item(l).is_none()) {
                    if !first {
                        out.push_str("<br>\n");
                    }
                    first = false;
                    inline(line, &mut out);
                    i += 1;
                }
                out.push_str("</p>\n");
            }
        }
    }
    out.push_str("</div>\n</body>\n</html>\n");
    out
}

/// A seller's HTML with the text body's last paragraph (the opt-out every message ends with,
/// one line or, from a seller's `opt_out.txt`, several) added as a last paragraph, its lines
/// apart with `<br>` as in [`from_text`], before `</body>` when there is one.
#[must_use]
pub fn with_last_line(html: &str, text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let Some(end) = lines.iter().rposition(|l| !l.is_empty()) else {
        return html.to_owned();
    };
    let start = lines[..end]
        .iter()
        .rposition(|l| l.is_empty())
        .map_or(0, |i| i + 1);
    let mut paragraph = String::from("<p>");
    for (i, line) in lines[start..=end].iter().enumerate() {
        if i > 0 {
            paragraph.push_str("<br>\n");
        }
        inline(line, &mut paragraph);
    }
    paragraph.push_str("</p>\n");
    match html.to_ascii_lowercase().rfind("</body") {
        Some(at) => format!("{}{paragraph}{}", &html[..at], &html[at..]),
        None => format!("{html}\n{paragraph}"),
    }
}

/// The words a reader sees in `html`: tags, comments, `<head>`, `<style>` and `<script>`
/// dropped, entities decoded, split on whitespace and lower-cased (punctuation trimmed).
#[must_use]
pub fn visible_words(html: &str) -> Vec<String> {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        let tag = &rest[open..];
        let lower = tag.get(..9).unwrap_or(tag).to_ascii_lowercase();
        // Inline elements (a link inside a sentence) do not part words; blocks do.
        let name = lower
            .trim_start_matches(['<', '/'])
            .split(|c: char| !c.is_ascii_alphanumeric())
            .next()
            .unwrap_or_default();
        if !matches!(
            name,
            "a" | "span" | "b" | "strong" | "em" | "i" | "small" | "code"
        ) {
            text.push(' ');
        }
        let skip_to = if tag.starts_with("<!--") {
            tag.find("-->").map(|e| e + 3)
        } else if let Some(name) = ["<head", "<style", "<script", "<title"]
            .iter()
            .find(|n| lower.starts_with(*n))
        {
            let close = format!("</{}", &name[1..]);
            tag.to_ascii_lowercase()
                .find(&close)
                .and_then(|e| tag[e..].find('>').map(|g| e + g + 1))
        } else {
            tag.find('>').map(|e| e + 1)
        };
        rest = &tag[skip_to.unwrap_or(tag.len())..];
    }
    text.push_str(rest);
    words(&decode_entities(&text))
}

/// The words of a text, lower-cased, punctuation at their ends trimmed.
#[must_use]
pub fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let end = after
            .find(';')
            .filter(|e| *e <= 10 && !after[..*e].contains(char::is_whitespace));
        let decoded = end.and_then(|e| {
            let name = &after[..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_text_cannot_become_markup() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"co\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;co&quot;"
        );
    }

    const TEXT: &str = "Hello Ann & <Bob>,\n\nYour order 1001 is open:\n  - Tea × 2\n  - Cup\n\nPay here: https://shop.example/pay?a=1&b=2.\n\nKind regards,\nLotus Leaf Tea\n";

    #[test]
    fn paragraphs_lists_and_links() {
        let html = from_text(TEXT, "en");
        assert!(html.contains("<html lang=\"en\""), "{html}");
        assert!(html.contains("color-scheme"), "{html}");
        assert!(html.contains("Hello Ann &amp; &lt;Bob&gt;,"), "{html}");
        assert!(html.contains("<li>Tea × 2</li>\n<li>Cup</li>"), "{html}");
        assert!(
            html.contains("<a href=\"https://shop.example/pay?a=1&amp;b=2\""),
            "{html}"
        );
        assert!(
            html.contains("Kind regards,<br>\nLotus Leaf Tea</p>"),
            "{html}"
        );
        assert!(!html.contains("<img"), "{html}");
    }

    #[test]
    fn the_html_says_the_words_of_the_text() {
        let html = from_text(TEXT, "en");
        assert_eq!(visible_words(&html), words(TEXT));
    }

    #[test]
    fn a_sellers_html_gets_the_opt_out_line() {
        let text = "Hi\n\nTo stop these reminders, open https://shop.example/u?t=a&b.\n";
        let html = with_last_line("<html><body><p>Hi</p></BODY></html>", text);
        assert!(
            html.starts_with("<html><body><p>Hi</p><p>To stop these reminders, open <a href=\"https://shop.example/u?t=a&amp;b\">"),
            "{html}"
        );
        assert!(html.ends_with("</p>\n</BODY></html>"), "{html}");
        assert_eq!(visible_words(&html), words(text));
    }

    #[test]
    fn a_sellers_html_gets_every_line_of_a_two_line_opt_out() {
        let text = "Hi\n\nNo more of these?\nOpen https://shop.example/u/t.\n";
        let html = with_last_line("<html><body><p>Hi</p></body></html>", text);
        assert!(
            html.contains("<p>No more of these?<br>\nOpen <a href="),
            "{html}"
        );
        assert_eq!(visible_words(&html), words(text));
    }

    #[test]
    fn visible_words_skip_markup() {
        let html = "<html><head><title>Secret</title><style>p{}</style></head><body><!-- x --><p>Caf&eacute; &amp; t&#233;a&nbsp;now</p></body></html>";
        assert_eq!(visible_words(html), ["caf&eacute", "téa", "now"]);
    }
}
