//! `--send`: decided reminders leave the program. Each reminder becomes a message ([`jobs`],
//! [`mail`]); [`send`] hands them over, recording each in the ledger before (intent) and after
//! (outcome), through a [`Transport`]:
//!
//! | `[delivery] via` | module | how |
//! | --- | --- | --- |
//! | `smtp` | [`smtp`] | pooled connections to a mail server, STARTTLS/TLS, AUTH, rate limit |
//! | `sendmail` | [`sendmail`] | piped to the local MTA's sendmail program |
//! | `outbox` | [`outbox`] | one `.eml` file per message in a folder |
//!
//! A new transport is one module here with a type that implements [`Transport`], and one arm
//! in [`open`]; [`send`] (the workers, the pace, the ledger's writer, the signals) does not
//! change. What the entries look like afterwards (a preview, JSON Lines) is [`crate::output`]'s.

pub mod dkim;
pub mod mail;
pub mod outbox;
pub mod send;
pub mod sendmail;
pub mod smtp;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize};

use lettre::message::Mailbox;

use crate::config::{Delivery, Settings};
use crate::error::Error;
use crate::ledger::Intent;
use crate::report::{Decision, Entry};

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

/// How one hand-over ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// Accepted; the server's reply.
    Sent(String),
    /// Not accepted, maybe temporarily: retry on a later run.
    Failed(String),
    /// The recipient's mailbox does not exist (550/551/553 with 5.1.x at RCPT).
    Bounced(String),
    /// The message was refused for good after its data (content or policy 5xx).
    Rejected(String),
    /// The message was handed over but the outcome is unknown.
    Unknown(String),
    /// The server could not be reached or refused the connection, on every try: nothing was
    /// handed over, and the next messages would fare no better.
    Unreachable(String),
    /// The server refused us for a reason of the sender's set-up (relay denied, authentication
    /// required, a policy): nothing was handed over, nobody's address is to blame, and the
    /// next messages would fare no better.
    SetUp(String),
    /// A policy refusal at RCPT that names no cause (5.7.x or 554): the recipient's, or the
    /// sender's set-up. [`send`] tells them apart: it stops the run (as [`Delivered::SetUp`])
    /// when no recipient was accepted yet, or when it repeats for a recipient at another
    /// domain; otherwise only this message fails.
    Policy(String),
    /// The transport did not finish with the message and was stopped (a hung sendmail): maybe
    /// handed over, and the next messages would fare no better.
    Stuck(String),
}

impl Delivered {
    /// The ledger could not record the intent, so nothing was handed over (and the run stops
    /// sending: the ledger's writer says why).
    #[must_use]
    pub fn unrecorded() -> Delivered {
        Delivered::Failed("the ledger could not record the message".into())
    }
}

/// Whether a message's intent is committed, as the ledger task answers it; asked as often as
/// needed (the SMTP delivery asks before the message leaves, the worker again for the row id).
pub struct Recorded {
    answer: Option<tokio::sync::oneshot::Receiver<Option<i64>>>,
    id: Option<i64>,
}

impl Recorded {
    pub(crate) fn new(answer: tokio::sync::oneshot::Receiver<Option<i64>>) -> Recorded {
        Recorded {
            answer: Some(answer),
            id: None,
        }
    }

    /// The intent's row id once it is committed; `None` when the ledger could not record it
    /// (then the message must not be handed over).
    pub async fn id(&mut self) -> Option<i64> {
        if let Some(answer) = self.answer.take() {
            self.id = answer.await.ok().flatten();
        }
        self.id
    }
}

/// What a transport is given with each message: whether the message may leave yet, and what
/// the other workers are doing.
pub struct HandOver<'a> {
    /// Set by SIGINT/SIGTERM or by an unreachable server: no new try.
    pub stop: &'a AtomicBool,
    /// Workers with nothing to do: a message whose connection cannot be opened goes to them.
    pub idle: &'a AtomicUsize,
    /// The message's intent, committed or not yet.
    pub recorded: &'a mut Recorded,
}

impl HandOver<'_> {
    /// Waits until the intent is committed; `false` when the ledger could not record it (then
    /// the message must not be handed over).
    pub async fn recorded(&mut self) -> bool {
        self.recorded.id().await.is_some()
    }
}

/// A future a transport returns, boxed so that [`Transport`] can be a trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How one worker hands messages over: one connection to a server, a program, a folder.
pub trait Transport: Send {
    /// Hands one message over. The message itself must not leave before
    /// [`HandOver::recorded`] says its intent is committed.
    fn deliver<'a>(
        &'a mut self,
        mail: &'a mail::Mail,
        hand_over: HandOver<'a>,
    ) -> BoxFuture<'a, Delivered>;

    /// Ends the worker's session politely (QUIT), after its last message.
    fn close(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// The transports of one sending run: how many work in parallel, how fast, and a new one for
/// each worker.
pub struct Transports {
    /// Workers at most (fewer when there are fewer messages).
    pub workers: usize,
    /// Messages per second at most, across all workers.
    pub rate_limit: Option<f64>,
    connect: Box<dyn Fn() -> Box<dyn Transport> + Send + Sync>,
}

impl Transports {
    /// `workers` transports made by `connect`, paced at `rate_limit`.
    pub fn new(
        workers: usize,
        rate_limit: Option<f64>,
        connect: impl Fn() -> Box<dyn Transport> + Send + Sync + 'static,
    ) -> Transports {
        Transports {
            workers,
            rate_limit,
            connect: Box::new(connect),
        }
    }

    /// A transport for one more worker.
    #[must_use]
    pub fn connect(&self) -> Box<dyn Transport> {
        (self.connect)()
    }
}

/// The one place that knows every transport: `[delivery] via` becomes [`Transports`].
///
/// # Errors
/// A secret the transport needs (the SMTP password) is missing.
pub fn open(delivery: &Delivery) -> Result<Transports, Error> {
    match delivery {
        Delivery::Smtp(settings) => smtp::transports(settings),
        Delivery::Sendmail(program) => {
            let program = program.clone();
            Ok(Transports::new(1, None, move || {
                Box::new(sendmail::Program::new(program.clone()))
            }))
        }
        Delivery::Outbox(dir) => {
            let dir = dir.clone();
            Ok(Transports::new(1, None, move || {
                Box::new(outbox::Outbox::new(dir.clone()))
            }))
        }
    }
}

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

/// The messages for the reminders among `entries`, with what the ledger records first; and
/// the reminders whose message could not be made, with why (each is left unsent, counted as
/// failed, and the others go out: one buyer's data never stops the rest). `ledger` is the
/// ledger's identity (its tag goes into every Message-ID). The messages are dated and signed
/// when they leave ([`mail::Draft::finish`]).
#[must_use]
pub fn jobs(
    entries: &[Entry<'_>],
    settings: &Settings,
    sender: &Mailbox,
    ledger: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> (Vec<send::Job>, Vec<(usize, String)>) {
    // Made on every core, in slices of the entries, then put back in order (each message's
    // HTML and MIME encoding cost about as much as its hand-over).
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let size = entries.len().div_ceil(threads).max(256);
    let mut jobs = Vec::new();
    let mut unmade = Vec::new();
    std::thread::scope(|scope| {
        let handles: Vec<_> = entries
            .chunks(size)
            .enumerate()
            .map(|(i, slice)| {
                scope.spawn(move || jobs_of(slice, i * size, settings, sender, ledger, now))
            })
            .collect();
        for handle in handles {
            match handle.join() {
                Ok((j, u)) => {
                    jobs.extend(j);
                    unmade.extend(u);
                }
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    (jobs, unmade)
}

/// [`jobs`] for `entries`, the first of which is entry `first` of the run.
fn jobs_of(
    entries: &[Entry<'_>],
    first: usize,
    settings: &Settings,
    sender: &Mailbox,
    ledger: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> (Vec<send::Job>, Vec<(usize, String)>) {
    let reply_to: Option<Mailbox> = settings.shop.reply_to.parse().ok();
    let tag = mail::ledger_tag(ledger);
    let list_id = mail::list_id(&settings.shop.name, &sender.email);
    let unsubscribe = &settings.shop.unsubscribe;
    let mut jobs = Vec::new();
    let mut unmade = Vec::new();
    for (index, entry) in (first..).zip(entries) {
        if entry.decision != Decision::Remind {
            continue;
        }
        let (Some(template), Some(to), Some(subject), Some(body)) =
            (&entry.template, &entry.to, &entry.subject, &entry.body)
        else {
            unmade.push((index, "the reminder has no message".to_owned()));
            continue;
        };
        let address = match crate::address::recipient(to) {
            Ok(address) => address,
            Err(why) => {
                unmade.push((index, why));
                continue;
            }
        };
        let message_id = mail::message_id(&entry.order_id, template, &tag, &sender.email);
        // The seller's HTML for the step, else one derived from the text: the same words.
        // (the seller's ends with the text's opt-out line too).
        let html = match &entry.html {
            Some(html) => crate::render::html::with_last_line(html, body),
            None => crate::render::html::from_text(
                body,
                entry.language.unwrap_or(crate::language::ENGLISH),
            ),
        };
        let built = mail::draft(mail::Parts {
            sender,
            reply_to: reply_to.as_ref(),
            name: &entry.buyer_name,
            to: address.clone(),
            subject,
            text: body,
            html: Some(html),
            message_id: message_id.clone(),
            // The same address the body's link was made for (its token must match).
            list_unsubscribe: unsubscribe.header(to),
            one_click: !unsubscribe.url.is_empty(),
            list_id: list_id.clone(),
            extra: &settings.mail.headers,
            dkim: settings.mail.dkim.clone(),
        });
        let built = match built {
            Ok(built) => built,
            Err(why) => {
                unmade.push((index, format!("the message could not be made: {why}")));
                continue;
            }
        };
        jobs.push(send::Job {
            entry: index,
            retried: false,
            failed: None,
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
            draft: std::sync::Arc::new(built),
        });
    }
    (jobs, unmade)
}
