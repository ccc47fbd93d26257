//! The command line as a seller meets it: flags, their `PAYREMIND_*` environment twins, and the
//! `--help` text (the doc comments below). Only parsing lives here; meaning is given to the
//! flags by [`crate::config::Settings`] and the stages.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  payremind init --from orders.csv                 write payremind.toml and templates/ here
  payremind check --orders orders.csv              is the export readable, are statuses mapped?
  payremind run --orders orders.csv                preview today's reminders (nothing is sent)
  payremind run --orders orders.csv --format json  the same, as JSON Lines for scripts
  payremind run --orders orders.csv --send         send them, and remember what was sent
  payremind history                                what was sent, when, with what outcome
  payremind report                                 what the reminders earned
  payremind forget --bounce anna@example.com       undo a wrong bounce
  payremind suppress add anna@example.com          never remind this address again

Exit status: 0 all good; 1 some reminders that were due could not be sent (when sending);
2 a problem with the command line, the config or the export, or another run is sending
(the message says what to fix).";

/// payremind reminds buyers about unpaid orders, politely and never twice.
///
/// Every morning, export your shop's orders as CSV and run payremind on the file. It finds the
/// unpaid orders worth a reminder, leaves alone the ones where a reminder would hurt (cash on
/// delivery or payment terms, already shipped, cancelled, another order paid that day or a
/// newer one paid since, a reseller channel, too early, too late, a buyer who asked for no more
/// reminders), and picks the right message for each buyer, in the buyer's language. It shows them to you, or with --send e-mails them and remembers
/// what it sent.
#[derive(Debug, Parser)]
#[command(name = "payremind", version, after_help = EXAMPLES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,

    /// Colour in the terminal: auto (only when writing to a terminal, and not when NO_COLOR
    /// is set), always, or never. Logs and pipes never get colour codes with auto.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
}

/// When to colour the output, as ripgrep and git decide it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    /// Only on a terminal, and not when `NO_COLOR` is set.
    Auto,
    /// Always, even into a pipe or a file.
    Always,
    /// Never.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decide who gets a reminder today: show the messages (nothing is sent), or send them
    /// with --send.
    #[command(after_help = "\
Examples:
  payremind run --orders orders.csv                 preview: nothing is sent
  payremind run --orders orders.csv --send          send, and remember what was sent
  payremind run --orders orders.csv --save-plan plan.json
                                                    preview, and keep the reviewed reminders
  payremind run --orders orders.csv --send --plan plan.json
                                                    send only those, if still due

Without --send, reminders are printed to standard output and the summary (how many orders were
read, who was skipped and why, rows that could not be read) goes to standard error. With
--send, one summary line goes to standard error, plus a line for each reminder not sent.")]
    Run(RunArgs),

    /// Check the config, the message templates and an export before a real run.
    #[command(after_help = "\
Example:
  payremind check --orders orders.csv

Shows the columns found, every order status in the file and what it means to payremind, rows
that cannot be read (with their line numbers) and the newest order in the file. Exits with 2
when something must be fixed first.")]
    Check(CheckArgs),

    /// Write a starter payremind.toml and the message templates into a folder.
    #[command(after_help = "\
Examples:
  payremind init --from orders_export.csv    a config made for your export
  payremind init myshop                      a general starter in myshop/

Then set your shop's name and time zone in payremind.toml, and adjust the texts in
templates/ if you like. Existing files are never overwritten unless you pass --force.")]
    Init(InitArgs),

    /// Show the reminders sent, when, and with what outcome (from the ledger).
    #[command(after_help = "\
Examples:
  payremind history                          everything, oldest first
  payremind history --order 1001             one order's reminders
  payremind history --format csv > sent.csv  for a spreadsheet")]
    History(HistoryArgs),

    /// Undo a wrong bounce, or let a given-up order be reminded again, without editing the
    /// ledger (recorded, and shown by `history`).
    #[command(after_help = "\
Examples:
  payremind forget --bounce anna@example.com   the address may get reminders again
  payremind forget --order 1001                order 1001 is decided afresh

A bounce means the mail server said the mailbox does not exist; when that was wrong (a typo in
the server's set-up, a mailbox created since), forget it. An order is given up after its final
offer or [select].max_reminders; forgetting it lets the ladder start again for it.")]
    Forget(ForgetArgs),

    /// Keep buyers who asked for no more reminders off every reminder: add, remove, list, or
    /// import the addresses (from your shop's unsubscribed-customers export, or a mailbox of
    /// "unsubscribe" replies). Recorded in the ledger; `history` shows when and how.
    #[command(after_help = "\
Examples:
  payremind suppress add anna@example.com li@example.cn     never remind them again
  payremind suppress remove anna@example.com                 she may be reminded again
  payremind suppress list                                    who is on the list, since when, how
  payremind suppress import unsubscribed_customers.csv       a platform's export (Email column)
  payremind suppress import ~/Mail/replies.mbox              the \"unsubscribe\" replies

A suppressed buyer gets no reminder for any order: `run` skips them as `unsubscribed`. Addresses
are compared by the inbox they reach: without case, and without a +tag or Gmail's dots
(Ann+Shop@Example.COM is ann@example.com). Adding an address twice is one suppression. The list lives in the ledger ([ledger] path): the first `suppress add` on a new
machine makes the ledger there, and the ledger's usual safeguards apply (see README).

In a crontab, import your platform's list before the morning run (one line):
  0 8 * * * cd shop && payremind suppress import unsub.csv && payremind run -o orders.csv --send -y")]
    Suppress(SuppressArgs),
    /// What the reminders earned: paid rates, recovered money and the lift over the control
    /// group, from what later exports say about the orders reminded or held out.
    #[command(after_help = "\
Examples:
  payremind report                                  from what sending runs recorded
  payremind report --orders today.csv               first record what this export says
  payremind report --window 3d --since 2026-11-01   payments within 3 days, reminders since
  payremind report --format html --out report.html  one page to open in a browser

A reminded order counts as paid when a later export shows it paid within --window after the
reminder. Orders whose outcome is not known yet (the window is not over, or no later export
showed them) are counted apart, never as unpaid. The lift is the reminded paid rate minus the
control group's ([experiment] control in the config), with a 95% interval.")]
    Report(ReportArgs),

    /// Print shell completions for bash, zsh, fish, elvish or powershell.
    #[command(after_help = "\
Examples:
  payremind completions bash > ~/.local/share/bash-completion/completions/payremind
  payremind completions zsh > ~/.zfunc/_payremind       (with fpath+=~/.zfunc in ~/.zshrc)
  payremind completions fish > ~/.config/fish/completions/payremind.fish")]
    Completions(CompletionsArgs),

    /// Print the manual page (roff), for `man`.
    #[command(after_help = "\
Example:
  payremind man > ~/.local/share/man/man1/payremind.1 && man payremind")]
    Man,
}

/// Flags of `payremind completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Flags of `payremind forget`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["bounce", "order", "bounces_since"])))]
pub struct ForgetArgs {
    /// The config file (its `[ledger]` path) \[default: ./payremind.toml\].
    #[arg(long, short = 'c', value_name = "FILE", env = "PAYREMIND_CONFIG")]
    pub config: Option<PathBuf>,

    /// Forget the bounces of this address: reminders may go to it again.
    #[arg(long, value_name = "ADDRESS")]
    pub bounce: Option<String>,

    /// Forget this order's reminders: it is decided afresh (the buyer's min_gap still counts).
    #[arg(long, value_name = "ID")]
    pub order: Option<String>,

    /// Forget every bounce recorded since this instant (RFC 3339, like
    /// 2026-11-23T08:00:00+08:00): undoes a morning a broken mail server refused everyone.
    #[arg(long, value_name = "TIME")]
    pub bounces_since: Option<String>,
}

/// Flags of `payremind suppress`.
#[derive(Debug, Args)]
pub struct SuppressArgs {
    /// The config file (its `[ledger]` path) [default: ./payremind.toml].
    #[arg(
        long,
        short = 'c',
        value_name = "FILE",
        env = "PAYREMIND_CONFIG",
        global = true
    )]
    pub config: Option<PathBuf>,

    /// What to do with the list.
    #[command(subcommand)]
    pub action: SuppressAction,
}

/// What `payremind suppress` does.
#[derive(Debug, Subcommand)]
pub enum SuppressAction {
    /// Put addresses on the list: they get no more reminders.
    Add {
        /// One or more e-mail addresses.
        #[arg(value_name = "ADDRESS", required = true)]
        addresses: Vec<String>,
    },
    /// Take addresses off the list: they may be reminded again.
    Remove {
        /// One or more e-mail addresses.
        #[arg(value_name = "ADDRESS", required = true)]
        addresses: Vec<String>,
    },
    /// Show the addresses on the list, with when and how each was added.
    List {
        /// `text` to read, `json` (JSON Lines) for scripts.
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Put every address of a file on the list: a CSV with an e-mail column (your platform's
    /// export of unsubscribed customers), or a mailbox file (mbox, or one .eml message) of
    /// replies asking to unsubscribe (their senders).
    Import {
        /// The CSV or mailbox file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

/// Output formats of `suppress list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// One address a line, for reading.
    Text,
    /// JSON Lines: one object per address.
    Json,
}

/// Flags of `payremind run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The order export to read (CSV); `-` reads it from standard input.
    #[arg(long, short = 'o', value_name = "FILE", env = "PAYREMIND_ORDERS")]
    pub orders: PathBuf,

    /// The config file [default: ./payremind.toml].
    #[arg(long, short = 'c', value_name = "FILE", env = "PAYREMIND_CONFIG")]
    pub config: Option<PathBuf>,

    /// Decide as if it were this moment, like 2026-11-23T09:00:00+08:00 (for what-if checks).
    #[arg(long, value_name = "TIME", env = "PAYREMIND_NOW")]
    pub now: Option<String>,

    /// How to print: `text` for reading, `json` (JSON Lines) for scripts.
    #[arg(long, value_enum, default_value_t = Format::Text, env = "PAYREMIND_FORMAT")]
    pub format: Format,

    /// At most this many reminders, the first ones in the export; the rest are skipped as
    /// `over_limit`.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,

    /// Really send the reminders (by `[delivery]` and `[smtp]` in the config), and record them in
    /// the ledger so no buyer is reminded twice. Without it, nothing leaves this computer.
    #[arg(long)]
    pub send: bool,

    /// Only show what would be sent (the default without --send; accepted for scripts that
    /// say so).
    #[arg(long, conflicts_with = "send")]
    pub dry_run: bool,

    /// Write the reminders of this preview to FILE (JSON), to send exactly those later with
    /// `--send --plan FILE`.
    #[arg(long, value_name = "FILE", conflicts_with = "send")]
    pub save_plan: Option<PathBuf>,

    /// Send only the reminders of this plan (written by `--save-plan`) that are still due:
    /// today's export and ledger decide; a reminder not in the plan, or whose message changed
    /// since, is not sent. The plan is the limit: not with --limit.
    #[arg(long, value_name = "FILE", requires = "send", conflicts_with = "limit")]
    pub plan: Option<PathBuf>,

    /// Do not ask before sending. The question is only asked in a terminal, never under cron.
    #[arg(long, short = 'y', requires = "send")]
    pub yes: bool,

    /// Also send the orders whose earlier attempt ended with an unknown outcome (check the
    /// mail server's log first: they may have arrived).
    #[arg(long, requires = "send")]
    pub retry_unknown: bool,

    /// Send although the guard finds today unusual: more reminders than `[guard] max_per_run`
    /// or `max_growth` allow, or a share of unpaid orders far above the last runs'. Recorded,
    /// and shown by `history`. An old export, an unmapped status or a placeholder still stops.
    #[arg(long, requires = "send")]
    pub force: bool,

    /// If another run is sending, wait for it instead of stopping (exit 2).
    #[arg(long, requires = "send")]
    pub wait: bool,

    /// Take the ledger file as it is now, even though it is not the one earlier runs wrote
    /// (gone, empty or replaced): start afresh. Every buyer it forgot can be reminded again;
    /// restore the ledger from a backup instead if you have one.
    #[arg(long)]
    pub new_ledger: bool,

    /// Take the ledger as it is although it is an older copy of itself (restored from a
    /// backup): the reminders sent after that copy was made may be sent again. Recorded in
    /// `history`; ignored (with a warning) when the ledger is not behind.
    #[arg(long)]
    pub accept_restored_ledger: bool,
}

/// Flags of `payremind history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The config file (its `[ledger]` path) \[default: ./payremind.toml\].
    #[arg(long, short = 'c', value_name = "FILE", env = "PAYREMIND_CONFIG")]
    pub config: Option<PathBuf>,

    /// Only this order.
    #[arg(long, value_name = "ID")]
    pub order: Option<String>,

    /// Only this buyer (buyer id, or lower-cased e-mail).
    #[arg(long, value_name = "ID")]
    pub buyer: Option<String>,

    /// `text` to read, `json` (JSON Lines) or `csv` for a spreadsheet.
    #[arg(long, value_enum, default_value_t = HistoryFormat::Text)]
    pub format: HistoryFormat,
}

/// Flags of `payremind report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Record first what this export says about the orders reminded or held out (paid, when,
    /// how much; closed; gone), as a sending run does. Without it, nothing is written.
    #[arg(long, short = 'o', value_name = "FILE", env = "PAYREMIND_ORDERS")]
    pub orders: Option<PathBuf>,

    /// The config file (its `[ledger]` path) [default: ./payremind.toml].
    #[arg(long, short = 'c', value_name = "FILE", env = "PAYREMIND_CONFIG")]
    pub config: Option<PathBuf>,

    /// Report as if it were this moment, like 2026-11-23T09:00:00+08:00 (the export's time
    /// with --orders).
    #[arg(long, value_name = "TIME", env = "PAYREMIND_NOW")]
    pub now: Option<String>,

    /// Only reminders sent (or held back) on this day or later, like 2026-11-01.
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,

    /// Only reminders sent (or held back) on this day or earlier, like 2026-11-30.
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,

    /// A payment this long after the reminder still counts, like 7d or 48h.
    #[arg(long, value_name = "DURATION", default_value = "7d")]
    pub window: String,

    /// `text` to read, `json` or `csv` for scripts and spreadsheets, `html` for a browser.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,

    /// Write the report to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Output formats of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Tables for reading.
    Text,
    /// One JSON object.
    Json,
    /// CSV with a header row.
    Csv,
    /// One self-contained page with charts.
    Html,
}

/// Output formats of `history`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HistoryFormat {
    /// A table for reading.
    Text,
    /// JSON Lines.
    Json,
    /// CSV with a header row.
    Csv,
}

/// Flags of `payremind check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The order export to check (CSV); `-` reads it from standard input.
    #[arg(long, short = 'o', value_name = "FILE", env = "PAYREMIND_ORDERS")]
    pub orders: PathBuf,

    /// The config file [default: ./payremind.toml, else built-in defaults].
    #[arg(long, short = 'c', value_name = "FILE", env = "PAYREMIND_CONFIG")]
    pub config: Option<PathBuf>,

    /// Judge the newest order's age as if it were this moment.
    #[arg(long, value_name = "TIME", env = "PAYREMIND_NOW")]
    pub now: Option<String>,
}

/// Flags of `payremind init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The folder to write into.
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,

    /// Make the config for this export: its layout, columns and status words.
    #[arg(long, value_name = "EXPORT")]
    pub from: Option<PathBuf>,

    /// Overwrite files that already exist.
    #[arg(long)]
    pub force: bool,
}

/// Output formats of `run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Readable blocks, summary on standard error.
    Text,
    /// JSON Lines: one object per order, then a summary object.
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
