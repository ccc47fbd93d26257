//! payremind reminds buyers about unpaid orders from a shop's order export.
//!
//! A run is a pipeline; each stage is a module, in the order data flows:
//!
//! 1. [`config`]: `payremind.toml` becomes validated [`config::Settings`].
//! 2. [`ingest`]: the export's bytes become typed orders (encoding, CSV, header mapping, values,
//!    multi-row orders merged); unreadable rows are kept as reports, never dropped silently.
//!    [`decisions`] drives stages 3-5 in two passes over the export (bounded memory).
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
pub mod decide;
pub mod deliver;
pub mod error;
pub mod history;
pub mod ingest;
pub mod init;
pub mod ledger;
pub mod order;
pub mod output;
pub mod render;
pub mod report;
pub mod units;

use std::io::{self, Write};

use crate::cli::{Cli, Command, Format, RunArgs};
use crate::config::Settings;
use crate::decide::ladder::Action;
use crate::error::Error;
use crate::ingest::Source;
use crate::ledger::{Ledger, Memory};
use crate::output::Sink;
use crate::render::Templates;
use crate::report::{Decision, Entry, Summary};

pub use crate::decide::{Options, decide};

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
    // Read twice (decisions' two passes), in memory that does not grow with the export.
    let source = Source::new(&args.orders).rereadable()?;
    let surveyed = match ledger.as_mut() {
        // A sending run also remembers the export's paid orders, for later exports.
        Some(ledger) => {
            let mut paid = ledger.remember_paid()?;
            let surveyed = decide::survey(&source, &settings, now, &memory, Some(&mut paid))?;
            paid.commit()?;
            surveyed
        }
        None => decide::survey(&source, &settings, now, &memory, None)?,
    };

    let options = Options {
        limit: args.limit,
        memory: &memory,
        retry_unknown: args.retry_unknown,
        reminders_only: false,
        render: true,
    };
    let mut summary = Summary::new(
        source.display().display().to_string(),
        surveyed.info.encoding,
        now.to_rfc3339(),
        !args.send,
    );
    summary.rows = surveyed.info.rows;
    summary.orders = surveyed.orders() as u64;

    let stdout = io::stdout().lock();
    let out = io::BufWriter::with_capacity(64 * 1024, stdout);
    let mut outbox: Box<dyn Sink> = match args.format {
        Format::Text => Box::new(output::text::Text::new(
            out,
            io::stderr().lock(),
            &settings.shop.sender,
            args.send,
        )),
        Format::Json => Box::new(output::json::JsonLines::new(out)),
    };
    let decide = |options: &Options<'_>, emit: &mut dyn FnMut(Entry) -> Result<(), Error>| {
        decide::decide_each(
            &source, &surveyed, &settings, &templates, now, options, emit,
        )
    };

    // The last complete reading reads every detail: its warnings are the complete ones.
    let read = match (sender, ledger) {
        (Some(sender), Some(ledger)) => {
            // Sending: the reminders first (the read stops once `--limit` are found)...
            let mut reminders = Vec::new();
            let only = Options {
                reminders_only: true,
                ..options
            };
            decide(&only, &mut |entry| {
                reminders.push(entry.into_owned());
                Ok(())
            })?;
            let jobs = deliver::jobs(&reminders, &settings, &sender, now)?;
            let results = deliver::send::send(jobs, &settings.delivery, ledger)?;
            summary.interrupted = results.interrupted;
            summary.stopped = results.stopped;
            for (index, status, reply) in results.outcomes {
                if let Some(entry) = reminders.get_mut(index) {
                    entry.status = Some(status);
                    entry.server_reply = Some(reply);
                }
            }
            // ...then every entry in file order, each reminder with what became of it (the
            // same decisions: the ledger's memory is the one read before sending).
            let mut reminders = reminders.into_iter().peekable();
            let again = Options {
                render: false,
                ..options
            };
            let read = decide(&again, &mut |entry| {
                let entry = match entry.decision {
                    Decision::Remind => reminders
                        .next_if(|sent| sent.order_id == entry.order_id)
                        .ok_or_else(|| decide::changed(&source))?,
                    Decision::Skip => entry,
                };
                summary.record(&entry);
                outbox.order(&entry).map_err(Error::Output)
            });
            match read {
                Ok(read) if reminders.peek().is_none() => read,
                read => {
                    // The export cannot be read as before now that the mail is out (changed,
                    // gone): the reminders not shown yet still are, with the summary, then
                    // the error. The ledger has every outcome; nothing is sent twice.
                    let error = read.err().unwrap_or_else(|| decide::changed(&source));
                    for entry in reminders {
                        summary.record(&entry);
                        outbox.order(&entry).map_err(Error::Output)?;
                    }
                    summary.elapsed_seconds = started.elapsed().as_secs_f64();
                    outbox.finish(&summary).map_err(Error::Output)?;
                    return Err(error);
                }
            }
        }
        _ => {
            // A dry run prints each entry as it is decided: nothing is kept for the end.
            decide(&options, &mut |entry| {
                summary.record(&entry);
                outbox.order(&entry).map_err(Error::Output)
            })?
        }
    };
    summary.warnings = read.warnings;
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

/// Writes `text` to stdout, mapping a failure to [`Error::Output`].
pub(crate) fn print_stdout(text: &str) -> Result<(), Error> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(Error::Output)
}
