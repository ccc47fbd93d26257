//! Everything that stops a run before it decides anything: the things a seller can fix, each
//! saying where it is and what to do. A bad row is not here: it is reported and the run goes on.
//!
//! Every variant exits with code 2 (usage, config or input error); the report owns 0 and 1.

use std::path::PathBuf;

/// A fatal problem a seller can fix; `Display` is one line: where, what is wrong, what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be opened or read.
    #[error("{}: cannot read it: {source}; check the path and its permissions", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },

    /// A file could not be written.
    #[error("{}: cannot write it: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },

    /// `run` found no config file.
    #[error(
        "no config file: ./payremind.toml does not exist; run `payremind init` to write one, or pass --config FILE"
    )]
    NoConfig,

    /// The config file is not valid TOML or does not fit the schema (typos included).
    #[error("{}:{line}:{column}: {message}; see the config reference in README.md", path.display())]
    ConfigSyntax {
        /// The config file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the TOML parser said.
        message: String,
    },

    /// A setting parsed but its value cannot be used.
    #[error("{}: {setting}: {message}", path.display())]
    Setting {
        /// The config file (or `<defaults>`).
        path: PathBuf,
        /// The key, as written in the file (`[select].min_age`).
        setting: String,
        /// What is wrong and what to write instead.
        message: String,
    },

    /// The export lacks a column the mapping needs.
    #[error("{}: no column {message}", path.display())]
    MissingColumn {
        /// The export.
        path: PathBuf,
        /// Canonical field name.
        field: &'static str,
        /// The header looked for, the layout in use, the nearest headers and what to do.
        message: String,
    },

    /// The export is not a CSV file payremind can read.
    #[error("{}: {message}", path.display())]
    Export {
        /// The export.
        path: PathBuf,
        /// What it is not, and what to do.
        message: String,
    },

    /// A message template does not parse or does not render.
    #[error(
        "template {name}:{line}:{column}: {message}; fix the template (or delete it to use the built-in one)"
    )]
    Template {
        /// Template name and where it came from.
        name: String,
        /// 1-based line in the template file.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What Tera said.
        message: String,
    },

    /// `init` would overwrite a file.
    #[error("{}: already exists; pass --force to overwrite it", path.display())]
    Exists {
        /// The file that exists.
        path: PathBuf,
    },

    /// The ledger cannot be opened, read or written.
    #[error("{}: the ledger {message}; check the [ledger] path and its folder's permissions", path.display())]
    Ledger {
        /// The ledger file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },

    /// Another sending run holds the ledger.
    #[error(
        "{}: another payremind run is sending right now (overlapping cron jobs?); nothing was sent by this one. Run again later, or pass --wait to wait for it",
        path.display()
    )]
    Busy {
        /// The ledger file.
        path: PathBuf,
    },

    /// The ledger is not the one earlier runs wrote: gone, emptied or replaced (before or
    /// during a run). Going on would send again what it remembered.
    #[error(
        "{}: the ledger {message}. Nothing more is sent: restore it from your backup; or, to start afresh and let every buyer be reminded again, run once with --new-ledger (or delete {} too)",
        path.display(),
        sidecar.display()
    )]
    LedgerLost {
        /// The ledger file.
        path: PathBuf,
        /// What happened to it.
        message: String,
        /// The sidecar that remembers the ledger's identity.
        sidecar: PathBuf,
    },

    /// The ledger is the one earlier runs wrote, but an older copy of it (its mark is behind
    /// its sidecar's): restored from a backup, it has forgotten what was sent since.
    #[error(
        "{}: the ledger is an older copy of itself (its mark is {mark}, but {} says {recorded}): restored from a backup? What was sent after that copy was made is not in it and would be sent again, so nothing is sent. Put the newest copy back; or, if this is the newest you have, run once with --accept-restored-ledger (it is recorded in history)",
        path.display(),
        sidecar.display()
    )]
    LedgerBehind {
        /// The ledger file.
        path: PathBuf,
        /// The ledger's mark.
        mark: u64,
        /// The sidecar's.
        recorded: u64,
        /// The sidecar.
        sidecar: PathBuf,
    },

    /// The ledger file has more than one name (hard links). SQLite keeps its journal beside the
    /// name it was opened by, so after a crash through one name the other name does not see
    /// what was committed, and a run through it would send again.
    #[error(
        "{}: the ledger file has {links} names (hard links): SQLite keeps its journal beside each name, so after a crash a run through another name would send again; share a ledger by a symlink, not a hard link (remove the other names, keep this one)",
        path.display()
    )]
    LedgerHardLinked {
        /// The ledger file.
        path: PathBuf,
        /// How many names it has.
        links: u64,
    },

    /// `forget` was asked to forget something the ledger does not hold.
    #[error(
        "{what} in the ledger, so there is nothing to forget; `payremind history` lists what it holds"
    )]
    NothingToForget {
        /// What was looked for.
        what: String,
    },

    /// `suppress`: an address or a file of addresses that cannot be used (what, where, and
    /// what to do).
    #[error("{message}")]
    Suppress {
        /// What is wrong and what to do.
        message: String,
    },

    /// The SMTP password is missing or unreadable (its value is never shown).
    #[error("{message}")]
    Secret {
        /// What is missing and where to put it.
        message: String,
    },

    /// `--now` is not an RFC 3339 instant.
    #[error(
        "--now {value:?} {message}; write an RFC 3339 time with its offset, like 2026-11-23T09:00:00+08:00 (or 2026-11-23T01:00:00Z)"
    )]
    Now {
        /// What was given.
        value: String,
        /// Why it does not parse.
        message: String,
    },

    /// `--send` with a `--now` later than the clock.
    #[error(
        "--now {value:?} is later than this computer's clock: with --send, the reminders would be recorded as sent in the future and hold those buyers back until then; leave --now out when sending (a past --now is fine, and a dry run takes any)"
    )]
    NowAhead {
        /// What was given.
        value: String,
    },

    /// A plan (`run --send --plan`) that cannot be followed: unreadable, too old, or made
    /// with another config.
    #[error("{}: {message}", path.display())]
    Plan {
        /// The plan file.
        path: PathBuf,
        /// Why it is refused, and what to do.
        message: String,
    },

    /// A flag's value that cannot be used (`report --window`, `--since`, `--until`).
    #[error("{flag} {value:?} {message}")]
    Flag {
        /// The flag.
        flag: &'static str,
        /// What was given.
        value: String,
        /// What is wrong, and what to write.
        message: String,
    },

    /// Standard output could not be written (other than a closed pipe, which ends quietly).
    #[error("cannot write the output: {0}")]
    Output(#[source] std::io::Error),
}

impl Error {
    /// The exit code for this error: always 2, usage, config or input error.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        2
    }
}

/// The whole cause chain of an error from a library (Tera, the CSV reader) on one line: the
/// interesting part often hides in `source()`.
#[must_use]
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out.replace('\n', " ")
}
