//! Beside the ledger: the addresses that asked for no more reminders, read from the files a
//! seller has, for `payremind suppress import`. Two kinds, told apart by their first bytes:
//!
//! | file | what is read |
//! | --- | --- |
//! | a CSV with a column of e-mail addresses (a platform's unsubscribed-customers export, a newsletter tool's list) | every address of that column, found by its header (`Email`, `E-mail`, `Email Address`, `Customer Email`, `邮箱`, `买家邮箱`…); a row whose consent column says the customer accepts marketing is left out |
//! | a mailbox of replies: mbox (Thunderbird, mutt, `formail`) or one message (`.eml`) | the `From` address of each message whose subject or first lines (above any quoted text) ask to unsubscribe, in any of the shop's languages |
//!
//! Addresses are judged by [`crate::address::key`], the one judge: an address no reminder could
//! go to is reported with its line, and the others are read. Headers are read with
//! `mailparse` (encoded words, folded lines, transfer encodings, charsets).

use std::io::Read as _;
use std::path::Path;
use std::sync::LazyLock;

use mailparse::{MailAddr, MailHeaderMap, ParsedMail};

use crate::error::Error;
use crate::units::Phrases;

/// What a file held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A CSV: the column the addresses were read from (its header, 1-based position).
    Csv {
        /// The header as the file writes it.
        column: String,
        /// Its 1-based position.
        position: usize,
    },
    /// A mailbox (or a single message): how many messages it held.
    Mailbox {
        /// Messages read.
        messages: usize,
    },
}

/// An address the file gives, or a line of it that gives none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// 1-based line of the file (a message's first line in a mailbox).
    pub line: u64,
    /// The value as written (an address, or a message's sender and subject).
    pub value: String,
    /// Why it is left out.
    pub why: String,
}

/// What [`read`] found in a file.
#[derive(Debug, Clone)]
pub struct Listed {
    /// A CSV or a mailbox.
    pub kind: Kind,
    /// Usable addresses as [`crate::address::key`] makes them, each with its line (an
    /// address met twice is listed twice).
    pub addresses: Vec<(u64, String)>,
    /// Values that are no usable address, with why.
    pub invalid: Vec<Line>,
    /// Rows or messages left out on purpose: a reply that is no request to unsubscribe, an
    /// automatic reply, a row that says the customer accepts marketing.
    pub skipped: Vec<Line>,
}

/// Reads the addresses to suppress from `path`. `own` are the shop's own addresses (as
/// [`crate::address::key`] makes them): a message from one of them is the shop's, not a
/// buyer's request.
///
/// # Errors
/// The file cannot be read, or it is a CSV without a column of e-mail addresses.
pub fn read(path: &Path, own: &[String]) -> Result<Listed, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    let text_start = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    if text_start.starts_with(b"From ") {
        return Ok(mailbox(&split_mbox(text_start), own));
    }
    if looks_like_message(text_start) {
        return Ok(mailbox(&[(1, text_start)], own));
    }
    csv_list(path, bytes)
}

/// Whether the text starts like one e-mail message (a block of headers that names its
/// sender), not like a CSV header row.
fn looks_like_message(bytes: &[u8]) -> bool {
    let Ok((headers, _)) = mailparse::parse_headers(bytes) else {
        return false;
    };
    let first_is_header = bytes
        .split(|&b| b == b'\n')
        .next()
        .and_then(|line| line.iter().position(|&b| b == b':'))
        .is_some_and(|colon| {
            colon > 0
                && bytes[..colon]
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || b == b'-')
        });
    first_is_header && headers.get_first_header("From").is_some()
}

/// An mbox split into its messages: (the line of its `From ` separator, the message's bytes).
/// A message starts at a separator line (`From sender date`, with a time in it) at the start of
/// the file or after an empty line (mboxo and mboxrd write one there; a `From ` inside a body
/// is escaped `>From `, and a body line that is not would still lack the date).
fn split_mbox(bytes: &[u8]) -> Vec<(u64, &[u8])> {
    let mut messages = Vec::new();
    // (line of the separator, where the message's bytes start)
    let mut current: Option<(u64, usize)> = None;
    let mut offset = 0;
    let mut previous_empty = true;
    for (index, line) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        let number = index as u64 + 1;
        if previous_empty && is_separator(line) {
            if let Some((at, start)) = current.take() {
                messages.push((at, &bytes[start..offset]));
            }
            current = Some((number, offset + line.len()));
        }
        previous_empty = line.iter().all(u8::is_ascii_whitespace);
        offset += line.len();
    }
    if let Some((at, start)) = current {
        messages.push((at, &bytes[start..]));
    }
    messages
}

/// Whether a line is an mbox separator: `From `, the sender (or `-`), and a date with a time
/// (`From ann@example.com Thu Dec  3 10:00:00 2026`, Thunderbird's `From - Thu Dec 03 …`).
fn is_separator(line: &[u8]) -> bool {
    line.starts_with(b"From ")
        && line.windows(5).any(|w| {
            w[0].is_ascii_digit()
                && w[1].is_ascii_digit()
                && w[2] == b':'
                && w[3].is_ascii_digit()
                && w[4].is_ascii_digit()
        })
}

/// Words that ask to unsubscribe, in the languages the shop writes in: found word by word,
/// without case, in the subject or the first lines of a reply.
const UNSUBSCRIBE_WORDS: &[&str] = &[
    "unsubscribe",
    "退订",
    "取消订阅",
    "退訂",
    "取消訂閱",
    "darse de baja",
    "dar de baja",
    "darme de baja",
    "cancelar inscrição",
    "cancelar a inscrição",
    "cancelar minha inscrição",
    "descadastrar",
    "descadastre",
    "отписаться",
    "отпишите",
    "désabonner",
    "désabonnez",
    "désinscrire",
    "désinscrivez",
    "abmelden",
    "abbestellen",
];

/// How many lines of a reply, above any quoted text, are read for a request.
const OPENING_LINES: usize = 5;

/// The unsubscribe requests in a mailbox's messages: (line, bytes) each.
fn mailbox(messages: &[(u64, &[u8])], own: &[String]) -> Listed {
    static REQUEST: LazyLock<Phrases> = LazyLock::new(|| Phrases::new(UNSUBSCRIBE_WORDS));
    let mut listed = Listed {
        kind: Kind::Mailbox {
            messages: messages.len(),
        },
        addresses: Vec::new(),
        invalid: Vec::new(),
        skipped: Vec::new(),
    };
    for &(line, bytes) in messages {
        let skip = |value: String, why: &str| Line {
            line,
            value,
            why: why.to_owned(),
        };
        let Ok(message) = mailparse::parse_mail(bytes) else {
            listed
                .skipped
                .push(skip(String::new(), "cannot be read as an e-mail message"));
            continue;
        };
        let subject = message
            .headers
            .get_first_value("Subject")
            .unwrap_or_default();
        let from = sender(&message);
        let seen = format!(
            "from {}, subject {subject:?}",
            from.as_deref().unwrap_or("nobody")
        );
        let automatic = message
            .headers
            .get_first_value("Auto-Submitted")
            .is_some_and(|v| !v.trim().eq_ignore_ascii_case("no"));
        if automatic
            || message
                .ctype
                .mimetype
                .eq_ignore_ascii_case("multipart/report")
        {
            listed.skipped.push(skip(
                seen,
                "an automatic message (an auto-reply or a delivery report)",
            ));
            continue;
        }
        let body = text_of(&message).unwrap_or_default();
        let asks = REQUEST.find(&subject).is_some()
            || opening_lines(&body).any(|l| REQUEST.find(l).is_some());
        if !asks {
            listed
                .skipped
                .push(skip(seen, "does not ask to unsubscribe"));
            continue;
        }
        let Some(from) = from else {
            listed.skipped.push(skip(seen, "has no From address"));
            continue;
        };
        match crate::address::key(&from) {
            Ok(key) if own.contains(&key) => {
                listed
                    .skipped
                    .push(skip(seen, "was sent by the shop itself"));
            }
            Ok(key) => listed.addresses.push((line, key)),
            Err(why) => listed.invalid.push(Line {
                line,
                value: from,
                why,
            }),
        }
    }
    listed
}

/// The message's sender: the first address of `From`.
fn sender(message: &ParsedMail<'_>) -> Option<String> {
    let header = message.headers.get_first_header("From")?;
    let list = mailparse::addrparse_header(header).ok()?;
    list.iter().find_map(|addr| match addr {
        MailAddr::Single(single) => Some(single.addr.clone()),
        MailAddr::Group(group) => group.addrs.first().map(|s| s.addr.clone()),
    })
}

/// The message's text: its first `text/plain` part, else its first `text/html` part with the
/// tags taken out.
fn text_of(message: &ParsedMail<'_>) -> Option<String> {
    fn find<'m>(part: &'m ParsedMail<'m>, mime: &str) -> Option<&'m ParsedMail<'m>> {
        if part.subparts.is_empty() {
            return part
                .ctype
                .mimetype
                .eq_ignore_ascii_case(mime)
                .then_some(part);
        }
        part.subparts.iter().find_map(|p| find(p, mime))
    }
    if let Some(plain) = find(message, "text/plain") {
        return plain.get_body().ok();
    }
    let html = find(message, "text/html")?.get_body().ok()?;
    Some(strip_tags(&html))
}

/// HTML as lines of text: tags removed, `<br>`, `<p>`, `<div>` and block ends as line breaks,
/// quoted blocks (`<blockquote>`) marked as quotes.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        let tag = rest[open + 1..open + close].trim().to_ascii_lowercase();
        let name = tag
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or_default();
        if matches!(name, "br" | "p" | "div" | "tr" | "li" | "h1" | "h2" | "h3") {
            out.push('\n');
        }
        if name == "blockquote" && !tag.starts_with('/') {
            out.push_str("\n> ");
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out.replace("&nbsp;", " ")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

/// The first non-empty lines of a reply, above the quoted message it answers (a `>` line,
/// an "On … wrote:" line, an `-----Original Message-----` block, a signature): a request is
/// what the buyer wrote, not the reminder quoted below it (whose opt-out line says
/// "unsubscribe" too).
fn opening_lines(body: &str) -> impl Iterator<Item = &str> {
    body.lines()
        .map(str::trim)
        .take_while(|line| !starts_quote(line))
        .filter(|line| !line.is_empty())
        .take(OPENING_LINES)
}

/// Whether a line starts the quoted part of a reply (or the signature).
fn starts_quote(line: &str) -> bool {
    const INTRODUCERS: &[&str] = &[
        "wrote:",
        "写道：",
        "写道:",
        "寫道：",
        "escribió:",
        "escreveu:",
        "a écrit :",
        "a écrit:",
        "schrieb:",
        "написал:",
        "написала:",
        "написал(а):",
    ];
    line.starts_with('>')
        || line == "--"
        || line.starts_with("-----")
        || line.starts_with("________")
        || line.starts_with("From:")
        || line.starts_with("发件人")
        || INTRODUCERS.iter().any(|w| line.ends_with(w))
}

/// Headers of a column of e-mail addresses, compared as [`compact`] makes them.
const EMAIL_HEADERS: &[&str] = &[
    "email",
    "emailaddress",
    "mail",
    "mailaddress",
    "customeremail",
    "customeremailaddress",
    "buyeremail",
    "subscriberemail",
    "contactemail",
    "useremail",
    "billingemail",
    "emailbilling",
    "customeruseremail",
    "邮箱",
    "邮件",
    "邮箱地址",
    "电子邮箱",
    "电子邮件",
    "电子邮件地址",
    "买家邮箱",
    "客户邮箱",
    "联系邮件",
    "邮件地址",
    "correo",
    "correoelectrónico",
    "courriel",
    "adresseemail",
    "emailadresse",
    "электроннаяпочта",
    "почта",
];

/// Headers of a consent column (a customer list, not only the unsubscribed): a row that
/// says the customer accepts marketing is no request to stop.
const CONSENT_HEADERS: &[&str] = &[
    "acceptsmarketing",
    "acceptsemailmarketing",
    "emailmarketingconsent",
    "emailmarketingconsentstate",
    "marketingconsent",
    "marketingoptin",
];

/// A header as the lists above write it: lower case, letters and digits only.
fn compact(header: &str) -> String {
    crate::ingest::columns::normalize_header(header)
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// The column of e-mail addresses: a header of [`EMAIL_HEADERS`], else one that names an
/// e-mail and nothing about marketing or consent.
fn email_column(headers: &[String]) -> Option<usize> {
    let compacted: Vec<String> = headers.iter().map(|h| compact(h)).collect();
    if let Some(i) = compacted
        .iter()
        .position(|h| EMAIL_HEADERS.contains(&h.as_str()))
    {
        return Some(i);
    }
    compacted.iter().position(|h| {
        (h.contains("email") || h.contains("邮箱") || h.contains("邮件"))
            && !["marketing", "consent", "subscri", "accept", "optin", "营销"]
                .iter()
                .any(|w| h.contains(w))
    })
}

/// The addresses of a CSV's e-mail column.
fn csv_list(path: &Path, bytes: Vec<u8>) -> Result<Listed, Error> {
    let read_error = |source| Error::Read {
        path: path.to_owned(),
        source,
    };
    let mut decoded = crate::ingest::decode::decode(Box::new(std::io::Cursor::new(bytes)), None)
        .map_err(read_error)?;
    let mut text = String::new();
    decoded
        .reader
        .read_to_string(&mut text)
        .map_err(read_error)?;
    // Excel's `sep=;` line names the delimiter and is no header.
    let (delimiter, skipped_lines, body) =
        match crate::ingest::watch::excel_sep_line(text.as_bytes()) {
            Some((delimiter, length)) => (delimiter, 1, &text[length..]),
            None => (
                crate::ingest::watch::guess_delimiter(text.as_bytes()),
                0,
                text.as_str(),
            ),
        };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(body.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| Error::Suppress {
            message: format!("{}: cannot be read as CSV: {e}", path.display()),
        })?
        .iter()
        .map(str::to_owned)
        .collect();
    let Some(column) = email_column(&headers) else {
        let shown: Vec<String> = headers
            .iter()
            .map(|h| format!("{:?}", crate::ingest::columns::normalize_header(h)))
            .collect();
        return Err(Error::Suppress {
            message: format!(
                "{}: no column of e-mail addresses (its headers are {}); export the list with the customers' e-mail addresses, in a column named like Email",
                path.display(),
                if shown.is_empty() {
                    "none".to_owned()
                } else {
                    shown.join(", ")
                }
            ),
        });
    };
    let consent = headers
        .iter()
        .position(|h| CONSENT_HEADERS.contains(&compact(h).as_str()));
    let mut listed = Listed {
        kind: Kind::Csv {
            column: crate::ingest::columns::normalize_header(&headers[column]),
            position: column + 1,
        },
        addresses: Vec::new(),
        invalid: Vec::new(),
        skipped: Vec::new(),
    };
    let mut record = csv::StringRecord::new();
    loop {
        let more = reader
            .read_record(&mut record)
            .map_err(|e| Error::Suppress {
                message: format!("{}: cannot be read as CSV: {e}", path.display()),
            })?;
        if !more {
            break;
        }
        let line = record.position().map_or(0, csv::Position::line) + skipped_lines;
        let cell = record.get(column).unwrap_or_default().trim();
        if cell.is_empty() {
            continue;
        }
        let accepts = consent
            .and_then(|c| record.get(c))
            .and_then(crate::order::accepts_marketing);
        if accepts == Some(true) {
            listed.skipped.push(Line {
                line,
                value: cell.to_owned(),
                why: format!(
                    "the row says the customer accepts marketing ({}); is this the list of every customer?",
                    headers[consent.unwrap_or_default()].trim()
                ),
            });
            continue;
        }
        match crate::address::key(cell) {
            Ok(key) => listed.addresses.push((line, key)),
            Err(why) => listed.invalid.push(Line {
                line,
                value: cell.to_owned(),
                why,
            }),
        }
    }
    Ok(listed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_mbox_splits_at_its_separators_only() {
        let mbox = b"From a@x.example Thu Dec  3 10:00:00 2026\nFrom: a@x.example\nSubject: one\n\nFrom the start: not a separator\n\nFrom b@y.example Thu Dec  3 11:00:00 2026\nFrom: b@y.example\n\nbody\n";
        let messages = split_mbox(mbox);
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].0, 1);
        assert_eq!(messages[1].0, 7);
        assert!(messages[0].1.starts_with(b"From: a@x.example"));
        assert!(messages[1].1.ends_with(b"body\n"));
    }

    #[test]
    fn a_request_is_what_the_buyer_wrote_not_what_they_quote() {
        let reply = "I paid yesterday, thanks.\n\nOn Mon, Shop <o@shop.example> wrote:\n> To stop these reminders, write \"unsubscribe\" to o@shop.example.\n";
        assert_eq!(opening_lines(reply).count(), 1);
        assert!(opening_lines(reply).all(|l| Phrases::new(UNSUBSCRIBE_WORDS).find(l).is_none()));
        let request = "Bitte abmelden.\n-- \nAnna\nunsubscribe\n";
        assert_eq!(
            opening_lines(request).collect::<Vec<_>>(),
            ["Bitte abmelden."]
        );
    }

    #[test]
    fn the_email_column_is_found_by_its_header() {
        let headers = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        for (list, column) in [
            (&["Name", "Email"][..], 1),
            (&["First Name", "Accepts Email Marketing", "E-mail"], 2),
            (&["Customer Email", "Date"], 0),
            (&["email_address"], 0),
            (&["订单号", "买家邮箱"], 1),
            (&["\u{feff}邮箱"], 0),
            (&["Name", "Email (Billing)"], 1),
        ] {
            assert_eq!(email_column(&headers(list)), Some(column), "{list:?}");
        }
        assert_eq!(
            email_column(&headers(&["Name", "Accepts Email Marketing"])),
            None
        );
    }

    #[test]
    fn html_replies_read_as_lines() {
        let text =
            strip_tags("<div>Please <b>unsubscribe</b> me</div><blockquote>old</blockquote>");
        assert_eq!(
            opening_lines(&text).collect::<Vec<_>>(),
            ["Please unsubscribe me"]
        );
    }
}
