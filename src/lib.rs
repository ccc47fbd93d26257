//! payremind reminds buyers about unpaid orders from a shop's order export.
//!
//! A run is a pipeline; each stage is a module, in the order data flows:
//!
//! 1. [`config`]: `payremind.toml` becomes validated [`config::Settings`].
//! 2. [`ingest`]: the export's bytes become typed orders (encoding, CSV, header mapping, values,
//!    multi-row orders merged); unreadable rows are kept as reports, never dropped silently.
//! 3. [`select`]: the playbook's rules leave alone the orders a reminder would hurt, each with a
//!    reason (paid, closed, paid the same day, superseded, …).
//! 4. [`plan`]: the reminder ladder (data, not code) picks a template for each remaining order.
//! 5. [`render`]: Tera turns the template into a subject and a body.
//! 6. [`deliver`]: with `--send`, each reminder is handed to the mail server (or sendmail, or
//!    an outbox folder); then the entries are printed as a preview or as JSON Lines.
//! 7. [`ledger`]: what was sent, in SQLite, so nobody is reminded twice.
//! 8. [`report`]: the tally, and the exit code.
//!
//! [`run`] wires the stages; `main` only maps its result to an exit code.

pub mod check;
pub mod cli;
pub mod clock;
pub mod config;
pub mod deliver;
pub mod error;
pub mod history;
pub mod ingest;
pub mod init;
pub mod ledger;
pub mod order;
pub mod plan;
pub mod render;
pub mod report;
pub mod select;

use std::io::{self, Write};

use chrono::{DateTime, Utc};

use crate::cli::{Cli, Command, Format, RunArgs};
use crate::config::Settings;
use crate::deliver::Outbox;
use crate::error::Error;
use crate::ingest::{Ingested, Source};
use crate::ledger::{Ledger, Memory};
use crate::plan::{Action, Facts};
use crate::render::{MessageContext, Templates};
use crate::report::{Decision, Entry, Summary};
use crate::select::{Known, Verdict};

/// Runs one command; returns the exit code (0 or 1) or the error that stopped it (exit 2).
///
/// # Errors
/// Anything a seller must fix before the command can run: see [`Error`].
pub fn run(cli: Cli) -> Result<u8, Error> {
    let result = match cli.command {
        Command::Run(args) => run_reminders(&args),
        Command::Check(args) => check::check(&args),
        Command::Init(args) => init::init(&args),
        Command::History(args) => history::history(&args),
    };
    match result {
        // A reader that went away (`payremind run … | head`) is not an error.
        Err(Error::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => Ok(0),
        other => other,
    }
}

/// `payremind run`: decide every order, send when asked, and hand the entries to the outbox.
fn run_reminders(args: &RunArgs) -> Result<u8, Error> {
    let started = std::time::Instant::now();
    let now = clock::evaluation_instant(args.now.as_deref())?;
    let settings = Settings::from_args(args.config.as_deref(), true)?;
    settings.ready_to_run()?;
    let sender = if args.send {
        Some(deliver::ready_to_send(&settings)?)
    } else {
        None
    };
    let templates = Templates::load(&settings)?;
    templates.check(&settings, used_templates(&settings))?;
    // A sending run holds the ledger for its whole length; a dry run only reads it.
    let mut ledger = if args.send {
        Some(Ledger::open_for_send(&settings.ledger_path, args.wait)?)
    } else {
        None
    };
    let memory = match &ledger {
        Some(ledger) => ledger.memory()?,
        None => match Ledger::open_read_only(&settings.ledger_path)? {
            Some(ledger) => ledger.memory()?,
            None => Memory::default(),
        },
    };
    let source = Source::new(&args.orders);
    let ingested = ingest::read(&source, &settings)?;
    if let Some(ledger) = ledger.as_mut() {
        ledger.remember_paid(&ingested.orders)?;
    }

    let options = Options {
        limit: args.limit,
        memory: &memory,
        retry_unknown: args.retry_unknown,
    };
    let mut summary = Summary::new(
        source.display().display().to_string(),
        ingested.encoding,
        now.to_rfc3339(),
        !args.send,
    );
    summary.rows = ingested.rows;
    summary.orders = ingested.orders.len() as u64;
    summary.warnings.clone_from(&ingested.warnings);

    let stdout = io::stdout().lock();
    let out = io::BufWriter::with_capacity(64 * 1024, stdout);
    let mut outbox: Box<dyn Outbox> = match args.format {
        Format::Text => Box::new(deliver::print::Text::new(
            out,
            io::stderr().lock(),
            &settings.shop.sender,
            args.send,
        )),
        Format::Json => Box::new(deliver::json::JsonLines::new(out)),
    };

    match (sender, ledger) {
        (Some(sender), Some(ledger)) => {
            // Sending: the entries wait for their outcomes before they are printed.
            let mut entries = decide(&ingested, &settings, &templates, now, &options)?;
            let jobs = deliver::jobs(&entries, &settings, &sender, now)?;
            let results = deliver::send::send(jobs, &settings.delivery, ledger)?;
            summary.interrupted = results.interrupted;
            summary.stopped = results.stopped;
            for (index, status, reply) in results.outcomes {
                if let Some(entry) = entries.get_mut(index) {
                    entry.status = Some(status);
                    entry.server_reply = Some(reply);
                }
            }
            for entry in &entries {
                summary.record(entry);
                outbox.order(entry).map_err(Error::Output)?;
            }
        }
        _ => {
            // A dry run prints each entry as it is decided: nothing is kept for the end.
            decide_each(
                &ingested,
                &settings,
                &templates,
                now,
                &options,
                &mut |entry| {
                    summary.record(&entry);
                    outbox.order(&entry).map_err(Error::Output)
                },
            )?;
        }
    }
    summary.elapsed_seconds = started.elapsed().as_secs_f64();
    outbox.finish(&summary).map_err(Error::Output)?;
    Ok(summary.exit_code())
}

/// The templates the ladder can pick: checked before the first real message.
fn used_templates(settings: &Settings) -> Vec<&str> {
    settings
        .rules
        .iter()
        .filter_map(|rule| match &rule.action {
            Action::Template(name) => Some(name.as_str()),
            Action::Skip(_) => None,
        })
        .collect()
}

/// The reason given to reminders past `--limit`.
pub const OVER_LIMIT: &str = "over_limit";

/// How [`decide`] is asked.
pub struct Options<'a> {
    /// At most this many reminders.
    pub limit: Option<u64>,
    /// What earlier runs sent (empty without a ledger).
    pub memory: &'a Memory,
    /// Send again the orders whose earlier attempt ended ambiguously.
    pub retry_unknown: bool,
}

/// Select, plan and render: one entry per order and per unreadable row, in file order.
///
/// The ledger's decisions come after the core ones: `outcome_unknown`, `bounced`, `gave_up`
/// before the plan, `already_reminded` (this step, or a later one, was sent) and `buyer_cap`
/// (a reminder to the buyer less than `min_gap` ago) after it.
///
/// # Errors
/// A template that fails to render for a real order.
pub fn decide(
    ingested: &Ingested,
    settings: &Settings,
    templates: &Templates,
    now: DateTime<Utc>,
    options: &Options<'_>,
) -> Result<Vec<Entry>, Error> {
    let mut entries = Vec::with_capacity(ingested.orders.len() + ingested.invalid.len());
    decide_each(ingested, settings, templates, now, options, &mut |entry| {
        entries.push(entry);
        Ok(())
    })?;
    Ok(entries)
}

/// [`decide`], handing each entry to `emit` as soon as it is decided, in file order.
///
/// # Errors
/// A template that fails to render for a real order, or what `emit` returns.
pub fn decide_each(
    ingested: &Ingested,
    settings: &Settings,
    templates: &Templates,
    now: DateTime<Utc>,
    options: &Options<'_>,
    emit: &mut dyn FnMut(Entry) -> Result<(), Error>,
) -> Result<(), Error> {
    let memory = options.memory;
    let known = Known {
        unreadable: ingested
            .invalid
            .iter()
            .map(|row| row.buyer.as_str())
            .filter(|buyer| !buyer.is_empty())
            .collect(),
        remembered_paid: Some(&memory.paid),
    };
    let verdicts = select::select(&ingested.orders, &known, settings, now);
    let promo_ends_in = settings
        .shop
        .promo_ends
        .map(|end| end.signed_duration_since(now));
    // Orders come in the order of their first row and bad rows by line: merged, file order.
    let mut invalid = ingested.invalid.iter().peekable();
    let mut reminders = 0;
    for (order, verdict) in ingested.orders.iter().zip(verdicts) {
        while let Some(row) = invalid.next_if(|row| row.line < order.line) {
            emit(Entry::for_invalid(row))?;
        }
        let entry = Entry::for_order(order, now);
        let (buyer_type, closing_soon) = match verdict {
            Verdict::Skip(reason) => {
                emit(entry.skipped(reason.as_str()))?;
                continue;
            }
            Verdict::Candidate {
                buyer_type,
                closing_soon,
            } => (buyer_type, closing_soon),
        };
        let mut entry = Entry {
            buyer_type: Some(buyer_type),
            ..entry
        };
        let to = select::email_address(&order.email)
            .map(|a| a.to_string())
            .unwrap_or_default();
        let (sent, final_sent, highest) = memory.sent(&order.id);
        let before_plan = if memory.outcome_unknown(&order.id) && !options.retry_unknown {
            Some("outcome_unknown")
        } else if memory.bounced(&to) {
            Some("bounced")
        } else if final_sent
            || sent >= settings.select.max_reminders as usize
            || memory.rejected(&order.id)
        {
            Some("gave_up")
        } else {
            None
        };
        if let Some(reason) = before_plan {
            emit(entry.skipped(reason))?;
            continue;
        }
        let facts = Facts {
            buyer_type,
            age: order.age(now),
            closing_soon,
            low_stock: order.products.iter().any(|p| {
                settings
                    .shop
                    .low_stock_products
                    .iter()
                    .any(|l| l.trim() == p.trim())
            }),
            promo_ends_in,
            has_perk: !settings.shop.returning_perk.is_empty(),
        };
        let template = match plan::plan(&settings.rules, &facts) {
            Action::Skip(reason) => {
                emit(entry.skipped(&reason))?;
                continue;
            }
            Action::Template(template) => template,
        };
        let rank = plan::rank(&settings.rules, &template);
        // --retry-unknown sends the unsettled step once more; anything else follows the ladder.
        let retrying =
            options.retry_unknown && memory.unknown_steps(&order.id).contains(&template.as_str());
        if !retrying
            && (memory.sent_step(&order.id, &template) || highest.is_some_and(|h| h > rank))
        {
            emit(entry.skipped("already_reminded"))?;
            continue;
        }
        if !retrying
            && memory
                .last_sent_to(&order.buyer)
                .is_some_and(|last| now.signed_duration_since(last) < settings.select.min_gap)
        {
            emit(entry.skipped("buyer_cap"))?;
            continue;
        }
        if options.limit.is_some_and(|limit| reminders >= limit) {
            emit(entry.skipped(OVER_LIMIT))?;
            continue;
        }
        let context = MessageContext::new(&settings.shop, order, buyer_type, to.clone(), now);
        let message = templates.render(&template, &context)?;
        entry.html = templates.render_html(&template, &context)?;
        reminders += 1;
        entry.decision = Decision::Remind;
        entry.template = Some(template);
        entry.to = Some(to);
        entry.subject = Some(message.subject);
        entry.body = Some(message.body);
        emit(entry)?;
    }
    for row in invalid {
        emit(Entry::for_invalid(row))?;
    }
    Ok(())
}

/// Writes `text` to stdout, mapping a failure to [`Error::Output`].
pub(crate) fn print_stdout(text: &str) -> Result<(), Error> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(Error::Output)
}
