//! A decided reminder becomes an RFC 5322 message: From the shop, To the buyer by name, a Date,
//! a Message-ID derived from (order, step) on the sender's domain (so a retry of the same step
//! is recognisable), UTF-8 subject and names encoded by lettre, a text/plain body and a
//! text/html alternative when the seller wrote an HTML template for the step.

use std::time::SystemTime;

use lettre::message::{Mailbox, MultiPart, header::ContentType};
use lettre::{Address, Message};

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

/// The Message-ID of a step of an order: the same on every retry.
#[must_use]
pub fn message_id(order_id: &str, template: &str, sender: &Address) -> String {
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
        "<payremind.{}.{}@{}>",
        safe(order_id),
        safe(template),
        sender.domain()
    )
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
    /// `Date:`.
    pub date: SystemTime,
}

/// Builds the message.
///
/// # Errors
/// lettre refuses it (should not happen with validated addresses).
pub fn build(parts: Parts<'_>) -> Result<Mail, String> {
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
        .date(parts.date)
        .message_id(Some(parts.message_id.clone()))
        .user_agent(format!("payremind {}", env!("CARGO_PKG_VERSION")))
        .header(lettre::message::header::MIME_VERSION_1_0);
    if let Some(reply_to) = parts.reply_to {
        builder = builder.reply_to(reply_to.clone());
    }
    let message = match parts.html {
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(
            parts.text.to_owned(),
            html,
        )),
        None => builder
            .header(ContentType::TEXT_PLAIN)
            .body(parts.text.to_owned()),
    }
    .map_err(|e| crate::error::chain(&e))?;
    Ok(Mail {
        message_id: parts.message_id,
        from: parts.sender.email.clone(),
        to: parts.to,
        bytes: message.formatted(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_stable_and_valid() {
        let sender: Address = "orders@shop.example".parse().unwrap();
        assert_eq!(
            message_id("#1012", "popular", &sender),
            "<payremind.=231012.popular@shop.example>"
        );
        assert_eq!(
            message_id("订单1", "gentle", &sender),
            "<payremind.=E8=AE=A2=E5=8D=951.gentle@shop.example>"
        );
        assert_ne!(
            message_id("ä1", "gentle", &sender),
            message_id("\u{e41}", "gentle", &sender)
        );
    }

    #[test]
    fn names_with_line_breaks_or_quotes_cannot_inject_headers() {
        let sender: Mailbox = "Shop <orders@shop.example>".parse().unwrap();
        let mail = build(Parts {
            sender: &sender,
            reply_to: None,
            name: "Eve\r\nBcc: victim@example.com \"x\"",
            to: "eve@example.com".parse().unwrap(),
            subject: "Order 1\r\nBcc: victim@example.com",
            text: "Hello\n",
            html: None,
            message_id: "<a@shop.example>".into(),
            date: SystemTime::UNIX_EPOCH,
        })
        .unwrap();
        let text = String::from_utf8(mail.bytes).unwrap();
        let headers = text.split("\r\n\r\n").next().unwrap();
        assert!(
            !headers
                .lines()
                .any(|l| l.to_ascii_lowercase().starts_with("bcc:")),
            "{headers}"
        );
    }

    #[test]
    fn utf8_subjects_and_names_are_encoded() {
        let sender: Mailbox = "莲叶茶庄 <orders@shop.example>".parse().unwrap();
        let mail = build(Parts {
            sender: &sender,
            reply_to: None,
            name: "王芳",
            to: "fang@example.cn".parse().unwrap(),
            subject: "您的订单 4378120007170436303",
            text: "您好\n",
            html: Some("<p>您好</p>".into()),
            message_id: "<a@shop.example>".into(),
            date: SystemTime::UNIX_EPOCH,
        })
        .unwrap();
        let text = String::from_utf8(mail.bytes).unwrap();
        let headers = text.split("\r\n\r\n").next().unwrap();
        assert!(headers.is_ascii(), "{headers}");
        assert!(headers.contains("Subject: =?utf-8?"), "{headers}");
        assert!(text.contains("multipart/alternative"));
    }
}
