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
//! 6. [`deliver`]: an outbox prints the preview or JSON Lines.
//! 7. [`report`]: the tally, and the exit code.
//!
//! [`run`] wires the stages; `main` only maps its result to an exit code.

pub mod check;
pub mod cli;
pub mod clock;
pub mod config;
pub mod deliver;
pub mod error;
pub mod ingest;
pub mod init;
pub mod order;
pub mod plan;
pub mod render;
pub mod report;
pub mod select;

use std::collections::HashSet;
use std::io::{self, Write};

use chrono::{DateTime, Utc};

use crate::cli::{Cli, Command, Format, RunArgs};
use crate::config::Settings;
use crate::deliver::Outbox;
use crate::error::Error;
use crate::ingest::{Ingested, Source};
use crate::plan::{Action, Facts};
use crate::render::{MessageContext, Templates};
use crate::report::{Decision, Entry, Summary};
use crate::select::Verdict;

pub use crate::error::Error as PayremindError;

/// Runs one command; returns the exit code (0 or 1) or the error that stopped it (exit 2).
///
/// # Errors
/// Anything a seller must fix before the command can run: see [`Error`].
pub fn run(cli: Cli) -> Result<u8, Error> {
    let result = match cli.command {
        Command::Run(args) => run_reminders(&args),
        Command::Check(args) => check::check(&args),
        Command::Init(args) => init::init(&args),
    };
    match result {
        // A reader that went away (`payremind run … | head`) is not an error.
        Err(Error::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => Ok(0),
        other => other,
    }
}

/// `payremind run`: decide every order and hand the entries to the outbox.
fn run_reminders(args: &RunArgs) -> Result<u8, Error> {
    let now = clock::evaluation_instant(args.now.as_deref())?;
    let settings = Settings::from_args(args.config.as_deref(), true)?;
    settings.ready_to_run()?;
    let templates = Templates::load(&settings)?;
    templates.check(&settings, used_templates(&settings))?;
    let source = Source::new(&args.orders);
    let ingested = ingest::read(&source, &settings)?;

    let entries = decide(&ingested, &settings, &templates, now, args.limit)?;

    let mut summary = Summary::new(
        source.display().display().to_string(),
        ingested.encoding,
        now.to_rfc3339(),
        true,
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
        )),
        Format::Json => Box::new(deliver::json::JsonLines::new(out)),
    };
    for entry in &entries {
        summary.record(entry);
        outbox.order(entry).map_err(Error::Output)?;
    }
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

/// Select, plan and render: one entry per order and per unreadable row, in file order.
///
/// # Errors
/// A template that fails to render for a real order.
pub fn decide(
    ingested: &Ingested,
    settings: &Settings,
    templates: &Templates,
    now: DateTime<Utc>,
    limit: Option<u64>,
) -> Result<Vec<Entry>, Error> {
    let unreadable: HashSet<&str> = ingested
        .invalid
        .iter()
        .map(|row| row.buyer.as_str())
        .filter(|buyer| !buyer.is_empty())
        .collect();
    let verdicts = select::select(&ingested.orders, &unreadable, settings, now);
    let promo_ends_in = settings
        .shop
        .promo_ends
        .map(|end| end.signed_duration_since(now));
    let mut entries: Vec<Entry> = ingested.invalid.iter().map(Entry::for_invalid).collect();
    let mut reminders = 0;
    for (order, verdict) in ingested.orders.iter().zip(verdicts) {
        let entry = Entry::for_order(order, now);
        let (buyer_type, closing_soon) = match verdict {
            Verdict::Skip(reason) => {
                entries.push(entry.skipped(reason.as_str()));
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
                entries.push(entry.skipped(&reason));
                continue;
            }
            Action::Template(template) => template,
        };
        if limit.is_some_and(|limit| reminders >= limit) {
            entries.push(entry.skipped(OVER_LIMIT));
            continue;
        }
        let to = select::email_address(&order.email)
            .map(|a| a.to_string())
            .unwrap_or_default();
        let context = MessageContext::new(&settings.shop, order, buyer_type, to.clone(), now);
        let message = templates.render(&template, &context)?;
        reminders += 1;
        entry.decision = Decision::Remind;
        entry.template = Some(template);
        entry.to = Some(to);
        entry.subject = Some(message.subject);
        entry.body = Some(message.body);
        entries.push(entry);
    }
    entries.sort_by_key(|e| e.line);
    Ok(entries)
}

/// Writes `text` to stdout, mapping a failure to [`Error::Output`].
pub(crate) fn print_stdout(text: &str) -> Result<(), Error> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(Error::Output)
}
