//! A decided reminder becomes an RFC 5322 message: From the shop, To the buyer by name, a
//! Message-ID derived from (order, step, ledger) on the sender's domain (so a retry of the same
//! step is recognisable, and two shops sharing a domain never collide), UTF-8 subject and names
//! encoded by lettre, the headers that make it a good citizen of the inbox (`List-Unsubscribe`,
//! `List-Unsubscribe-Post` with an https link, `List-Id`, the seller's `[headers]`), a
//! text/plain body and a text/html alternative (the seller's `<step>.html`, else derived from
//! the text by [`crate::render::html`]).
//!
//! A message is made in two steps: [`draft`] when the run starts (anything wrong with it is
//! found before the first message leaves), [`Draft::finish`] when a worker hands it over: the
//! `Date` is that moment's, and the DKIM signature is made over those final bytes.

use std::sync::Arc;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, header::ContentType};
use lettre::{Address, Message};

use super::dkim::Signer;

/// A message ready to hand over.
#[derive(Debug, Clone)]
pub struct Mail {
    /// `<…@domain>`.
    pub message_id: String,
    /// Envelope sender.
    pub from: Address,
    /// Envelope recipient.
    pub to: Address,
    /// The formatted message.
    pub bytes: Vec<u8>,
}

/// A message made but not dated nor signed yet: its bytes, with a `Date:` line to fill in.
#[derive(Debug, Clone)]
pub struct Draft {
    /// The formatted message; its `Date:` value is at `date`.
    bytes: Vec<u8>,
    /// Where the `Date:` value is in `bytes`.
    date: std::ops::Range<usize>,
    /// `<…@domain>`.
    pub message_id: String,
    from: Address,
    to: Address,
    /// The signer, and the body's hash (`bh=`), made once when the draft is.
    dkim: Option<(Arc<Signer>, String)>,
}

impl Draft {
    /// Whether finishing it signs it (then it is done off the runtime's thread).
    #[must_use]
    pub fn signs(&self) -> bool {
        self.dkim.is_some()
    }

    /// The message as it leaves at `date`: dated, then signed over its final bytes.
    ///
    /// # Errors
    /// The key could not sign (should not happen with a key that loaded).
    pub fn finish(&self, date: DateTime<Utc>) -> Result<Mail, String> {
        // RFC 5322 3.3, in UTC.
        let value = date.format("%a, %d %b %Y %H:%M:%S +0000").to_string();
        let mut bytes = Vec::with_capacity(self.bytes.len() + 8);
        bytes.extend_from_slice(&self.bytes[..self.date.start]);
        bytes.extend_from_slice(value.as_bytes());
        bytes.extend_from_slice(&self.bytes[self.date.end..]);
        if let Some((signer, body_hash)) = &self.dkim {
            bytes = signer.sign_with_body_hash(&bytes, body_hash, date.timestamp())?;
        }
        Ok(Mail {
            message_id: self.message_id.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            bytes,
        })
    }
}

/// The Message-ID of a step of an order: the same on every retry. `ledger` is a short tag of
/// the ledger's identity ([`ledger_tag`]): two shops sending from one domain keep apart.
#[must_use]
pub fn message_id(order_id: &str, template: &str, ledger: &str, sender: &Address) -> String {
    // Every other byte of the UTF-8 text as =XX: fixed width, so two ids never collide.
    let safe = |text: &str| -> String {
        text.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_') {
                    char::from(b).to_string()
                } else {
                    format!("={b:02X}")
                }
            })
            .collect()
    };
    format!(
        "<payremind.{}.{}.{}@{}>",
        safe(order_id),
        safe(template),
        safe(ledger),
        sender.domain()
    )
}

/// A short tag of the ledger's identity for Message-IDs: 12 hex digits of its SHA-256 (the
/// identity is random; the tag says nothing else about it).
#[must_use]
pub fn ledger_tag(identity: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("payremind message-id {identity}").as_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// `List-Id` (RFC 2919): `"<Shop> payment reminders" <reminders.<from-domain>>`, the same for
/// every message of the shop.
#[must_use]
pub fn list_id(shop: &str, sender: &Address) -> String {
    let id = format!("reminders.{}", sender.domain().to_ascii_lowercase());
    let name = crate::line::header(shop, crate::line::MAX_HEADER_CHARS);
    let phrase = if name.is_empty() {
        "payment reminders".to_owned()
    } else {
        format!("{name} payment reminders")
    };
    if phrase.is_ascii() {
        let quoted = phrase.replace('\\', "\\\\").replace('"', "\\\"");
        format!("\"{quoted}\" <{id}>")
    } else {
        // Encoded by lettre as RFC 2047 words, which may not sit inside quotes.
        format!("{} <{id}>", phrase.replace(['"', '\\', '<', '>'], " "))
    }
}

/// What goes into one message.
pub struct Parts<'a> {
    /// `From:`.
    pub sender: &'a Mailbox,
    /// `Reply-To:`, if any.
    pub reply_to: Option<&'a Mailbox>,
    /// The buyer's name (may be empty).
    pub name: &'a str,
    /// The buyer's address.
    pub to: Address,
    /// Subject line.
    pub subject: &'a str,
    /// Plain-text body.
    pub text: &'a str,
    /// HTML alternative.
    pub html: Option<String>,
    /// The Message-ID.
    pub message_id: String,
    /// `List-Unsubscribe:` (`<mailto:…>`, and `<https://…>` when the shop has a page).
    pub list_unsubscribe: String,
    /// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058): with an https link.
    pub one_click: bool,
    /// `List-Id:`.
    pub list_id: String,
    /// `[headers]`.
    pub extra: &'a [(String, String)],
    /// `[dkim]`.
    pub dkim: Option<Arc<Signer>>,
}

/// Makes the message, to be dated and signed when it leaves ([`Draft::finish`]).
///
/// # Errors
/// lettre refuses it (should not happen with validated addresses).
pub fn draft(parts: Parts<'_>) -> Result<Draft, String> {
    // Header values are one visible line of bounded length, whatever the export or a template
    // wrote: a line break in a name or subject must not start a header of its own (lettre
    // would even panic on it), nor a megabyte name make a megabyte header.
    let name = crate::line::header(parts.name, crate::line::MAX_HEADER_CHARS);
    let subject = crate::line::header(parts.subject, 2 * crate::line::MAX_HEADER_CHARS);
    let recipient = Mailbox::new((!name.is_empty()).then_some(name), parts.to.clone());
    let mut builder = Message::builder()
        .from(parts.sender.clone())
        .to(recipient)
        .subject(subject)
        // Replaced when the message leaves (`Draft::finish`).
        .date(SystemTime::UNIX_EPOCH)
        .message_id(Some(parts.message_id.clone()))
        .user_agent(format!("payremind {}", env!("CARGO_PKG_VERSION")))
        .header(lettre::message::header::MIME_VERSION_1_0);
    if let Some(reply_to) = parts.reply_to {
        builder = builder.reply_to(reply_to.clone());
    }
    let mut message = match parts.html {
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(
            parts.text.to_owned(),
            html,
        )),
        None => builder
            .header(ContentType::TEXT_PLAIN)
            .body(parts.text.to_owned()),
    }
    .map_err(|e| crate::error::chain(&e))?;
    let headers = message.headers_mut();
    let mut raw = |name: &str, value: String| -> Result<(), String> {
        let name = HeaderName::new_from_ascii(name.to_owned())
            .map_err(|_| format!("{name:?} is not a header name"))?;
        headers.insert_raw(HeaderValue::new(name, value));
        Ok(())
    };
    raw("List-Unsubscribe", parts.list_unsubscribe)?;
    if parts.one_click {
        raw(
            "List-Unsubscribe-Post",
            "List-Unsubscribe=One-Click".to_owned(),
        )?;
    }
    raw("List-Id", parts.list_id)?;
    for (name, value) in parts.extra {
        raw(name, value.clone())?;
    }
    let bytes = message.formatted();
    // The Date line lettre wrote (a placeholder): where `finish` puts the real one.
    let head = memchr::memmem::find(&bytes, b"\r\n\r\n").unwrap_or(bytes.len());
    let date = if bytes.starts_with(b"Date: ") {
        Some(b"Date: ".len())
    } else {
        memchr::memmem::find(&bytes[..head], b"\r\nDate: ").map(|at| at + b"\r\nDate: ".len())
    };
    let date = date
        .and_then(|start| {
            memchr::memmem::find(&bytes[start..], b"\r\n").map(|len| start..start + len)
        })
        .ok_or_else(|| "the message has no Date line".to_owned())?;
    let dkim = parts.dkim.map(|signer| {
        let body_hash = super::dkim::body_hash(super::dkim::body_of(&bytes));
        (signer, body_hash)
    });
    Ok(Draft {
        bytes,
        date,
        message_id: parts.message_id,
        from: parts.sender.email.clone(),
        to: parts.to,
        dkim,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts<'a>(sender: &'a Mailbox, name: &'a str, subject: &'a str) -> Parts<'a> {
        Parts {
            sender,
            reply_to: None,
            name,
            to: "eve@example.com".parse().unwrap(),
            subject,
            text: "Hello\n",
            html: None,
            message_id: "<a@shop.example>".into(),
            list_unsubscribe: "<mailto:orders@shop.example?subject=unsubscribe>".into(),
            one_click: false,
            list_id: list_id("Shop", &sender.email),
            extra: &[],
            dkim: None,
        }
    }

    fn finish(parts: Parts<'_>) -> String {
        let draft = draft(parts).unwrap();
        let mail = draft.finish(DateTime::<Utc>::UNIX_EPOCH).unwrap();
        String::from_utf8(mail.bytes).unwrap()
    }

    #[test]
    fn message_ids_are_stable_and_valid() {
        let sender: Address = "orders@shop.example".parse().unwrap();
        assert_eq!(
            message_id("#1012", "popular", "0a1b2c3d4e5f", &sender),
            "<payremind.=231012.popular.0a1b2c3d4e5f@shop.example>"
        );
        assert_eq!(
            message_id("订单1", "gentle", "0a1b2c3d4e5f", &sender),
            "<payremind.=E8=AE=A2=E5=8D=951.gentle.0a1b2c3d4e5f@shop.example>"
        );
        assert_ne!(
            message_id("ä1", "gentle", "t", &sender),
            message_id("\u{e41}", "gentle", "t", &sender)
        );
        // Two ledgers (two shops on one domain) never make the same id.
        assert_ne!(
            message_id("1", "gentle", &ledger_tag("one"), &sender),
            message_id("1", "gentle", &ledger_tag("two"), &sender)
        );
        assert_eq!(ledger_tag("one"), ledger_tag("one"));
        assert_eq!(ledger_tag("one").len(), 12);
    }

    #[test]
    fn list_ids_are_valid_for_any_shop_name() {
        let sender: Address = "orders@Shop.example".parse().unwrap();
        assert_eq!(
            list_id("Lotus \"Leaf\" Tea", &sender),
            "\"Lotus \\\"Leaf\\\" Tea payment reminders\" <reminders.shop.example>"
        );
        assert_eq!(
            list_id("", &sender),
            "\"payment reminders\" <reminders.shop.example>"
        );
        let sender: Mailbox = "莲叶茶庄 <orders@shop.example>".parse().unwrap();
        let text = finish(Parts {
            list_id: list_id("莲叶茶庄", &sender.email),
            ..parts(&sender, "", "x")
        });
        let headers = text.split("\r\n\r\n").next().unwrap();
        assert!(headers.is_ascii(), "{headers}");
        assert!(headers.contains("<reminders.shop.example>"), "{headers}");
    }

    #[test]
    fn names_with_line_breaks_or_quotes_cannot_inject_headers() {
        let sender: Mailbox = "Shop <orders@shop.example>".parse().unwrap();
        let text = finish(parts(
            &sender,
            "Eve\r\nBcc: victim@example.com \"x\"",
            "Order 1\r\nBcc: victim@example.com",
        ));
        let headers = text.split("\r\n\r\n").next().unwrap();
        assert!(
            !headers
                .lines()
                .any(|l| l.to_ascii_lowercase().starts_with("bcc:")),
            "{headers}"
        );
    }

    #[test]
    fn the_date_is_the_moment_it_is_finished() {
        let sender: Mailbox = "Shop <orders@shop.example>".parse().unwrap();
        let draft = draft(parts(&sender, "", "x")).unwrap();
        let at = |s: i64| DateTime::<Utc>::from_timestamp(s, 0).unwrap();
        let one = String::from_utf8(draft.finish(at(1_795_000_000)).unwrap().bytes).unwrap();
        let two = String::from_utf8(draft.finish(at(1_795_003_600)).unwrap().bytes).unwrap();
        let date = |t: &str| {
            t.lines()
                .filter(|l| l.starts_with("Date: "))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(date(&one).len(), 1, "{one}");
        assert_ne!(date(&one), date(&two));
        assert!(date(&two)[0].contains("12:06:40"), "{two}");
    }

    #[test]
    fn utf8_subjects_and_names_are_encoded() {
        let sender: Mailbox = "莲叶茶庄 <orders@shop.example>".parse().unwrap();
        let text = finish(Parts {
            to: "fang@example.cn".parse().unwrap(),
            text: "您好\n",
            html: Some("<p>您好</p>".into()),
            ..parts(&sender, "王芳", "您的订单 4378120007170436303")
        });
        let headers = text.split("\r\n\r\n").next().unwrap();
        assert!(headers.is_ascii(), "{headers}");
        assert!(headers.contains("Subject: =?utf-8?"), "{headers}");
        assert!(text.contains("multipart/alternative"));
    }
}
