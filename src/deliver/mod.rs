//! Fifth stage: decided entries leave the program. An [`Outbox`] receives every entry in export
//! order and the closing summary; each transport is one module.
//!
//! | outbox | what it does | stdout | stderr |
//! | --- | --- | --- | --- |
//! | [`print::Text`] | the preview a seller reads | each reminder as a block | summary, skips, bad rows |
//! | [`json::JsonLines`] | for scripts | one object per order, then the summary | nothing |
//!
//! With `--send`, the reminders are first handed over ([`send`]) by one of the transports:
//!
//! | `[delivery] via` | module | how |
//! | --- | --- | --- |
//! | `smtp` | [`smtp`] | pooled connections to a mail server, STARTTLS/TLS, AUTH, rate limit |
//! | `sendmail` | [`files`] | piped to the local MTA's sendmail program |
//! | `outbox` | [`files`] | one `.eml` file per message in a folder |

pub mod files;
pub mod json;
pub mod mail;
pub mod print;
pub mod send;
pub mod smtp;

/// A password: kept out of `Debug`, logs and output.
pub struct Secret(String);

impl Secret {
    /// Wraps the secret.
    #[must_use]
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    /// The secret itself, for the one place that needs it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

use std::io;

use crate::report::{Entry, Summary};

/// Where decided entries go.
pub trait Outbox {
    /// Takes one order's entry (a reminder or a skip), in export order.
    ///
    /// # Errors
    /// The output cannot be written.
    fn order(&mut self, entry: &Entry<'_>) -> io::Result<()>;

    /// Takes the closing tally, after the last entry.
    ///
    /// # Errors
    /// The output cannot be written.
    fn finish(&mut self, summary: &Summary) -> io::Result<()>;
}

use std::time::SystemTime;

use lettre::message::Mailbox;

use crate::config::{Delivery, Settings};
use crate::error::Error;
use crate::ledger::Intent;
use crate::report::Decision;

/// Checks what sending needs before anything is decided: a valid sender, a valid Reply-To, a
/// server to send to. Returns the sender.
///
/// # Errors
/// The first setting that is missing or invalid.
pub fn ready_to_send(settings: &Settings) -> Result<Mailbox, Error> {
    let path = settings
        .path
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("<defaults>"));
    let bad = |setting: &str, message: String| Error::Setting {
        path: path.clone(),
        setting: setting.to_owned(),
        message,
    };
    let sender: Mailbox = settings.shop.sender.parse().map_err(|_| {
        bad(
            "[shop].sender",
            format!(
                "{:?} is not an address to send from; write it like \"My Shop <orders@myshop.example>\"",
                settings.shop.sender
            ),
        )
    })?;
    if !settings.shop.reply_to.is_empty() && settings.shop.reply_to.parse::<Mailbox>().is_err() {
        return Err(bad(
            "[shop].reply_to",
            format!("{:?} is not an e-mail address", settings.shop.reply_to),
        ));
    }
    if let Delivery::Smtp(smtp) = &settings.delivery
        && smtp.host.is_empty()
    {
        return Err(bad(
            "[smtp].host",
            "is missing; name your mail server, or set [delivery].via = \"sendmail\" or \"outbox\""
                .into(),
        ));
    }
    Ok(sender)
}

/// The messages for the reminders among `entries`, with what the ledger records first.
///
/// # Errors
/// A template that fails to render, or a message lettre refuses.
pub fn jobs(
    entries: &[Entry<'_>],
    settings: &Settings,
    sender: &Mailbox,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<send::Job>, Error> {
    let reply_to: Option<Mailbox> = settings.shop.reply_to.parse().ok();
    let date = SystemTime::from(crate::clock::wall_clock());
    let mut jobs = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        if entry.decision != Decision::Remind {
            continue;
        }
        let (Some(template), Some(to), Some(subject), Some(body)) =
            (&entry.template, &entry.to, &entry.subject, &entry.body)
        else {
            continue;
        };
        let Ok(address) = to.parse::<lettre::Address>() else {
            continue;
        };
        let message_id = mail::message_id(&entry.order_id, template, &sender.email);
        let html = entry.html.clone();
        let built = mail::build(mail::Parts {
            sender,
            reply_to: reply_to.as_ref(),
            name: &entry.buyer_name,
            to: address.clone(),
            subject,
            text: body,
            html,
            message_id: message_id.clone(),
            date,
        })
        .map_err(|message| Error::Template {
            name: template.clone(),
            line: 1,
            column: 1,
            message,
        })?;
        jobs.push(send::Job {
            entry: index,
            intent: Intent {
                order_id: entry.order_id.to_string(),
                buyer_id: entry.buyer_id.to_string(),
                template: template.clone(),
                rank: crate::decide::ladder::rank(&settings.rules, template),
                final_step: crate::decide::ladder::is_final(&settings.rules, template),
                message_id,
                recipient: address.to_string(),
                evaluated_at: now,
            },
            mail: built,
        });
    }
    Ok(jobs)
}
