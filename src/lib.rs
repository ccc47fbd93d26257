//! payremind reminds buyers about unpaid orders from a shop's order export.
//!
//! A run is a pipeline; each stage is a module, in the order data flows:
//!
//! 1. [`config`]: `payremind.toml` becomes validated [`config::Settings`].
//! 2. [`ingest`]: the export's bytes become typed [`order::Order`]s (encoding, CSV, a layout's
//!    header mapping, values, multi-row orders merged); unreadable rows are kept as
//!    [`order::InvalidRow`]s, never dropped silently.
//! 3. [`decide`](mod@decide): in two passes over the export (bounded memory), the playbook's rules leave
//!    alone the orders a reminder would hurt, each with a [`report::Reason`]; the reminder
//!    ladder (data, not code) picks a template for the others. Its module doc is the one
//!    ordered table of every reason.
//! 4. [`render`]: Tera turns the template into a subject and a body.
//! 5. [`deliver`]: with `--send`, each reminder is handed over by a transport (SMTP,
//!    sendmail, an outbox folder), recorded in the [`ledger`] before and after.
//! 6. [`output`]: every entry, as a preview for people or as JSON Lines for scripts, then the
//!    [`report::Summary`], which also picks the exit code.
//! 7. [`ledger`]: what was sent, in SQLite, so nobody is reminded twice.
//!
//! Beside the stages: [`order`] (the shared domain types), [`address`] (which addresses a
//! reminder may go to, decided once for preview, `check` and send), [`line`](mod@line) (export
//! text made safe for one line of a header or the terminal), [`clock`] (the only reader of the
//! wall clock; the store's calendar day), [`unsubscribe`] (the addresses to suppress, read from
//! a seller's CSV or mailbox), [`units`] (durations, rates, labels), [`error`]
//! (everything a seller can fix, exit code 2). [`commands`] holds one module per command;
//! [`run`] picks one, and `main` only maps its result to an exit code. `ARCHITECTURE.md` has
//! the map and the invariants.

pub mod address;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod decide;
pub mod deliver;
pub mod error;
pub mod guard;
pub mod ingest;
pub mod language;
pub mod ledger;
pub mod line;
pub mod order;
pub mod output;
pub mod plan;
pub mod recovery;
pub mod render;
pub mod report;
pub mod units;
pub mod unsubscribe;
pub mod zones;

use std::io;

use crate::cli::{Cli, Command};
use crate::error::Error;

pub use crate::decide::{Options, decide};

/// Runs one command; returns the exit code (0 or 1) or the error that stopped it (exit 2).
///
/// # Errors
/// Anything a seller must fix before the command can run: see [`Error`].
pub fn run(cli: Cli) -> Result<u8, Error> {
    anstream::ColorChoice::write_global(match cli.color {
        cli::ColorWhen::Auto => anstream::ColorChoice::Auto,
        cli::ColorWhen::Always => anstream::ColorChoice::Always,
        cli::ColorWhen::Never => anstream::ColorChoice::Never,
    });
    let result = match cli.command {
        Command::Run(args) => commands::run::run(&args),
        Command::Check(args) => commands::check::check(&args),
        Command::Init(args) => commands::init::init(&args),
        Command::History(args) => commands::history::history(&args),
        Command::Forget(args) => commands::forget::forget(&args),
        Command::Suppress(args) => commands::suppress::suppress(&args),
        Command::Report(args) => commands::report::report(&args),
        Command::Completions(args) => commands::completions::completions(args.shell),
        Command::Man => commands::completions::man(),
    };
    match result {
        // A reader that went away (`payremind run … | head`) is not an error.
        Err(Error::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => Ok(0),
        other => other,
    }
}
