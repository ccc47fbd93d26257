//! The send gate's review, between decide and deliver: `run --save-plan FILE` keeps the
//! reminders a seller looked at, and `run --send --plan FILE` lets through only those that
//! are still due today and whose message is the one reviewed.
//!
//! What a plan holds: each reminder (order, buyer, step, address, subject and a SHA-256 of its
//! body and HTML alternative), the `now` it was decided at, and fingerprints of the config
//! file, the templates, the export and the ledger's position then.
//!
//! What a sending run does with it, and why:
//! - **Refused** (exit 2) when older than `[guard] plan_max_age` (measured from its `now` to
//!   this run's), made after this run's `now`, or made with another config file (its bytes
//!   differ): the review no longer says what this run would do, so nothing is sent.
//! - **Today decides** the rest. A changed export is the point of the gate (the buyer who paid
//!   since is in it): a planned reminder that is not due today is skipped `not_due_anymore`,
//!   with today's reason in `error` (a bad row and an unsettled `outcome_unknown` keep their
//!   own reason: they are reported, and the latter counted in the exit code, as they are). A
//!   reminder due today but not planned is skipped `not_in_plan`; one whose address, subject,
//!   body, step or buyer changed is skipped `plan_changed`. Changed templates are therefore caught per reminder by the body's hash
//!   (with a warning); the export's and the ledger's fingerprints are kept for the record.
//! - **Only the clock moved** is not a change: a message that shows the time left or the
//!   order's age reads differently an hour later. So the run also decides today's export at
//!   the plan's `now` ([`Gate::rehearse`]): a reminder whose message, made that way, is the
//!   one reviewed, and whose step is the same today, goes out with today's text.
//!
//! None of these skips makes the exit code 1: they were not due to be sent by this run.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::decide::{self, Options};
use crate::error::Error;
use crate::ingest::Source;
use crate::ledger::Ledger;
use crate::render::Templates;
use crate::report::{Decision, Entry, Reason};

/// The plan file's format; a plan of another format is refused.
const FORMAT: u32 = 1;

/// A plan file, as written by `--save-plan`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// The format of the file, 1: another is refused.
    pub payremind_plan: u32,
    /// The instant the reminders were decided at (RFC 3339, in the shop's zone).
    pub now: String,
    /// When the plan was written, by the computer's clock (RFC 3339): its age is also
    /// measured by the clock, so that a `--now` (or a `PAYREMIND_NOW` left in a file) cannot
    /// make an old plan look new.
    #[serde(default)]
    pub written_at: String,
    /// The config file and the SHA-256 of its bytes.
    pub config: Fingerprint,
    /// The export and the SHA-256 of its bytes (`None` for standard input).
    pub export: Fingerprint,
    /// The SHA-256 of the templates: payremind's version (the built-in ones) and the
    /// seller's folder, file by file.
    pub templates: Fingerprint,
    /// How far the ledger had got: the attempts it held, and the last one's Message-ID.
    pub ledger: LedgerPosition,
    /// The reminders reviewed, in file order.
    pub reminders: Vec<Planned>,
}

/// A file and a hash of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fingerprint {
    /// The file or folder, as the run named it.
    pub path: String,
    /// SHA-256, lower-case hex; `None` when it could not be taken (standard input).
    pub sha256: Option<String>,
}

/// The ledger as the review read it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerPosition {
    /// Attempts recorded (0: no ledger yet).
    pub attempts: u64,
    /// The Message-ID of the last attempt.
    pub last_message_id: Option<String>,
}

/// One reviewed reminder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Planned {
    /// The order.
    pub order_id: String,
    /// The buyer's identity.
    pub buyer_id: String,
    /// The step (template).
    pub template: String,
    /// The address.
    pub to: String,
    /// The subject.
    pub subject: String,
    /// SHA-256 of the body and the HTML alternative.
    pub body_sha256: String,
}

impl Planned {
    fn of(entry: &Entry<'_>) -> Planned {
        let mut body = Sha256::new();
        body.update(entry.body.as_deref().unwrap_or_default());
        if let Some(html) = &entry.html {
            body.update([0]);
            body.update(html);
        }
        Planned {
            order_id: entry.order_id.to_string(),
            buyer_id: entry.buyer_id.to_string(),
            template: entry.template.clone().unwrap_or_default(),
            to: entry.to.clone().unwrap_or_default(),
            subject: entry.subject.clone().unwrap_or_default(),
            body_sha256: hex(&body.finalize()),
        }
    }

    /// What differs between the reviewed reminder and today's, by name.
    fn changes(&self, today: &Planned) -> Vec<&'static str> {
        [
            (self.buyer_id != today.buyer_id, "buyer"),
            (self.template != today.template, "step"),
            (self.to != today.to, "address"),
            (self.subject != today.subject, "subject"),
            (self.body_sha256 != today.body_sha256, "body"),
        ]
        .into_iter()
        .filter_map(|(changed, what)| changed.then_some(what))
        .collect()
    }
}

/// A review in progress: a dry run with `--save-plan` notes each reminder as it is decided.
pub struct Review {
    path: PathBuf,
    plan: Plan,
}

impl Review {
    /// Starts a review of `source` decided at `now`, to be saved at `path`.
    ///
    /// # Errors
    /// The config file, a template or the export cannot be read again, or the ledger's
    /// attempts cannot be listed.
    pub fn new(
        path: &Path,
        settings: &Settings,
        source: &Source,
        ledger: Option<&Ledger>,
        now: DateTime<Utc>,
    ) -> Result<Review, Error> {
        let ledger = match ledger {
            Some(ledger) => {
                let attempts = ledger.attempts(None, None)?;
                LedgerPosition {
                    attempts: attempts.len() as u64,
                    last_message_id: attempts.last().map(|a| a.message_id.clone()),
                }
            }
            None => LedgerPosition::default(),
        };
        Ok(Review {
            path: path.to_owned(),
            plan: Plan {
                payremind_plan: FORMAT,
                now: now.with_timezone(&settings.timezone).to_rfc3339(),
                written_at: crate::clock::wall_clock().to_rfc3339(),
                config: config_fingerprint(settings)?,
                export: export_fingerprint(source)?,
                templates: templates_fingerprint(settings)?,
                ledger,
                reminders: Vec::new(),
            },
        })
    }

    /// Notes an entry: a reminder is kept (its body only as a hash), a skip is not.
    pub fn note(&mut self, entry: &Entry<'_>) {
        if entry.decision == Decision::Remind {
            self.plan.reminders.push(Planned::of(entry));
        }
    }

    /// Writes the plan, whole or not at all (a temporary file beside it, then renamed), and
    /// says what to run next.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn save(self, orders: &Path) -> Result<String, Error> {
        let write = |source| Error::Write {
            path: self.path.clone(),
            source,
        };
        let mut json = serde_json::to_vec_pretty(&self.plan).map_err(|e| write(e.into()))?;
        json.push(b'\n');
        let name = self
            .path
            .file_name()
            .ok_or_else(|| write(std::io::Error::other("is not a file name")))?;
        let mut temporary = name.to_owned();
        temporary.push(format!(".{}.tmp", std::process::id()));
        let temporary = self.path.with_file_name(temporary);
        let written = (|| {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            // Buyers' addresses: readable by the seller only, like the ledger's folder.
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&temporary)?;
            file.write_all(&json)?;
            file.sync_all()?;
            std::fs::rename(&temporary, &self.path)
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temporary);
            return Err(write(e));
        }
        Ok(format!(
            "payremind: plan saved to {}: {} reminders; to send exactly those (if still due): payremind run --orders {} --send --plan {}",
            self.path.display(),
            self.plan.reminders.len(),
            orders.display(),
            self.path.display()
        ))
    }
}

/// A plan a sending run follows: loaded and judged before anything is sent.
pub struct Gate {
    path: PathBuf,
    /// When the plan was decided.
    made: DateTime<Utc>,
    planned: HashMap<String, Planned>,
    /// The planned orders whose message, decided from today's export at the plan's `now`, is
    /// the one reviewed: a difference today is the clock's.
    clock_only: HashSet<String>,
}

impl Gate {
    /// Reads the plan at `path` and refuses it when it is too old, from the future, or made
    /// with another config; warns when the templates changed since.
    ///
    /// # Errors
    /// The plan cannot be read, is not a plan, or is refused: one line saying what to do.
    pub fn load(path: &Path, settings: &Settings, now: DateTime<Utc>) -> Result<Gate, Error> {
        let bytes = std::fs::read(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        let refused = |message: String| Error::Plan {
            path: path.to_owned(),
            message: format!(
                "{message}; nothing was sent. Review today's reminders again with `payremind run --orders FILE --save-plan {}`, then send with --plan",
                path.display()
            ),
        };
        let plan: Plan = serde_json::from_slice(&bytes)
            .map_err(|e| refused(format!("is not a plan payremind can read ({e})")))?;
        if plan.payremind_plan != FORMAT {
            return Err(refused(format!(
                "is a plan of format {} and this payremind reads format {FORMAT}",
                plan.payremind_plan
            )));
        }
        let made = DateTime::parse_from_rfc3339(&plan.now)
            .map_err(|e| refused(format!("has no time it was made at ({e})")))?
            .with_timezone(&Utc);
        let age = now.signed_duration_since(made);
        let max_age = settings.guard.plan_max_age;
        if age > max_age {
            return Err(refused(format!(
                "the plan was made at {}, {} before this run, longer ago than [guard] plan_max_age ({}) allows",
                plan.now,
                duration(age),
                duration(max_age)
            )));
        }
        if let Ok(written) = DateTime::parse_from_rfc3339(&plan.written_at) {
            let by_the_clock = crate::clock::wall_clock().signed_duration_since(written);
            if by_the_clock > max_age {
                return Err(refused(format!(
                    "the plan was written at {}, {} ago by the computer's clock, longer ago than [guard] plan_max_age ({}) allows",
                    plan.written_at,
                    duration(by_the_clock),
                    duration(max_age)
                )));
            }
        }
        if age < -crate::clock::MAX_SKEW {
            return Err(refused(format!(
                "the plan was made at {}, after this run's time ({}): a plan from a later --now",
                plan.now,
                now.to_rfc3339()
            )));
        }
        let config = config_fingerprint(settings)?;
        if plan.config.sha256 != config.sha256 {
            return Err(refused(format!(
                "the plan was made with another config ({} then, {} now, which differs)",
                plan.config.path, config.path
            )));
        }
        if plan.templates.sha256 != templates_fingerprint(settings)?.sha256 {
            eprintln!(
                "payremind: warning: {}: the templates changed since the plan was made; reminders whose message changed are not sent (plan_changed)",
                path.display()
            );
        }
        let planned = plan
            .reminders
            .into_iter()
            .map(|p| (p.order_id.clone(), p))
            .collect();
        Ok(Gate {
            path: path.to_owned(),
            made,
            planned,
            clock_only: HashSet::new(),
        })
    }

    /// Decides today's export (with today's ledger, config and templates) as at the plan's
    /// `now`, to tell a message changed by the clock alone (the time left, the order's age)
    /// from one changed by anything else. One more survey and reading of the export.
    ///
    /// # Errors
    /// The export cannot be read again.
    pub fn rehearse(
        &mut self,
        source: &Source,
        settings: &Settings,
        templates: &Templates,
        options: &Options<'_>,
    ) -> Result<(), Error> {
        if self.planned.is_empty() {
            return Ok(());
        }
        let surveyed = decide::survey(source, settings, self.made, options.memory, None)?;
        let then = Options {
            limit: None,
            memory: options.memory,
            retry_unknown: options.retry_unknown,
            reminders_only: true,
            render: true,
        };
        let (planned, clock_only) = (&self.planned, &mut self.clock_only);
        decide::decide_each(
            source,
            &surveyed,
            settings,
            templates,
            self.made,
            &then,
            &mut |entry| {
                if entry.decision == Decision::Remind
                    && planned.get(entry.order_id.as_ref()) == Some(&Planned::of(&entry))
                {
                    clock_only.insert(entry.order_id.to_string());
                }
                Ok(())
            },
        )?;
        Ok(())
    }

    /// Today's entry as the plan lets it through: a reminder in the plan and unchanged goes
    /// on; a reminder not planned, or changed, is skipped; a planned order that is not due
    /// today is skipped `not_due_anymore`, today's reason in `error`. A sending run calls it
    /// on each reminder before the hand-over, and on each skip when it prints them.
    #[must_use]
    pub fn judge<'a>(&self, mut entry: Entry<'a>) -> Entry<'a> {
        let planned = self.planned.get(entry.order_id.as_ref());
        match (entry.decision, planned) {
            (Decision::Remind, None) => {
                let mut entry = entry.skipped(Reason::NotInPlan);
                entry.error = Some(format!(
                    "due today but not in the plan {}",
                    self.path.display()
                ));
                entry
            }
            (Decision::Remind, Some(planned)) => {
                let today = Planned::of(&entry);
                let changes = planned.changes(&today);
                let clock_only = today.template == planned.template
                    && self.clock_only.contains(planned.order_id.as_str());
                if changes.is_empty() || clock_only {
                    return entry;
                }
                let mut entry = entry.skipped(Reason::PlanChanged);
                entry.error = Some(format!(
                    "the {} changed since the plan {} was made",
                    changes.join(", "),
                    self.path.display()
                ));
                entry
            }
            // These keep their own reason: a bad row is listed as one, and an unsettled
            // outcome keeps the exit code 1 and its line saying what to do.
            (Decision::Skip, Some(_))
                if !matches!(
                    entry.reason,
                    Some(Reason::InvalidRow | Reason::OutcomeUnknown)
                ) =>
            {
                let today = entry.reason.map_or("skipped", Reason::as_str);
                let error = match entry.error.take() {
                    Some(why) => format!("in the plan, but today: {today} ({why})"),
                    None => format!("in the plan, but today: {today}"),
                };
                let mut entry = entry.skipped(Reason::NotDueAnymore);
                entry.error = Some(error);
                entry
            }
            (Decision::Skip, _) => entry,
        }
    }
}

/// Today's entry as the plan, when there is one, lets it through ([`Gate::judge`]).
#[must_use]
pub fn judge<'a>(gate: Option<&Gate>, entry: Entry<'a>) -> Entry<'a> {
    match gate {
        Some(gate) => gate.judge(entry),
        None => entry,
    }
}

/// The config file's bytes, hashed.
fn config_fingerprint(settings: &Settings) -> Result<Fingerprint, Error> {
    let Some(path) = &settings.path else {
        return Ok(Fingerprint {
            path: "<defaults>".into(),
            sha256: None,
        });
    };
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.clone(),
        source,
    })?;
    Ok(Fingerprint {
        path: path.display().to_string(),
        sha256: Some(hex(&Sha256::digest(bytes))),
    })
}

/// The export's bytes, hashed as they are read (a file; standard input is read already and
/// is not hashed).
fn export_fingerprint(source: &Source) -> Result<Fingerprint, Error> {
    let path = source.display();
    let sha256 = if path.is_file() {
        let mut file = std::fs::File::open(&path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        let mut hasher = Sha256::new();
        std::io::copy(&mut file, &mut hasher).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        Some(hex(&hasher.finalize()))
    } else {
        None
    };
    Ok(Fingerprint {
        path: path.display().to_string(),
        sha256,
    })
}

/// The templates a run loads: payremind's version stands for the built-in ones, then each of
/// the seller's files (name and bytes, in name order).
fn templates_fingerprint(settings: &Settings) -> Result<Fingerprint, Error> {
    let mut hasher = Sha256::new();
    hasher.update(env!("CARGO_PKG_VERSION"));
    let Some(dir) = &settings.templates_dir else {
        return Ok(Fingerprint {
            path: "(built-in)".into(),
            sha256: Some(hex(&hasher.finalize())),
        });
    };
    let read = |source| Error::Read {
        path: dir.clone(),
        source,
    };
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(listing) => listing
            .map(|item| item.map(|item| item.path()))
            .collect::<Result<_, _>>()
            .map_err(read)?,
        // The loading of the templates says what is wrong with the folder.
        Err(_) => Vec::new(),
    };
    files.retain(|file| {
        file.is_file()
            && file
                .extension()
                .is_some_and(|ext| ext == "txt" || ext == "html")
    });
    files.sort();
    for file in files {
        let bytes = std::fs::read(&file).map_err(|source| Error::Read {
            path: file.clone(),
            source,
        })?;
        hasher.update([0]);
        hasher.update(file.file_name().unwrap_or_default().as_encoded_bytes());
        hasher.update([0]);
        hasher.update(&bytes);
    }
    Ok(Fingerprint {
        path: dir.display().to_string(),
        sha256: Some(hex(&hasher.finalize())),
    })
}

/// Lower-case hex.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}

/// A duration as a seller reads it: `13h 5m`, to the minute.
fn duration(delta: TimeDelta) -> String {
    let minutes = u64::try_from(delta.num_minutes()).unwrap_or(0);
    humantime::format_duration(std::time::Duration::from_secs(minutes * 60)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_message_names_what_changed() {
        let reviewed = Planned {
            order_id: "1".into(),
            buyer_id: "b".into(),
            template: "gentle".into(),
            to: "a@example.com".into(),
            subject: "Your order".into(),
            body_sha256: "00".into(),
        };
        assert!(reviewed.changes(&reviewed.clone()).is_empty());
        let today = Planned {
            to: "b@example.com".into(),
            body_sha256: "01".into(),
            ..reviewed.clone()
        };
        assert_eq!(reviewed.changes(&today), ["address", "body"]);
    }

    #[test]
    fn a_planned_order_not_due_today_says_why_unless_its_reason_must_stay() {
        let planned = Planned {
            order_id: "7".into(),
            buyer_id: "b".into(),
            template: "gentle".into(),
            to: "a@example.com".into(),
            subject: "s".into(),
            body_sha256: "00".into(),
        };
        let gate = Gate {
            path: "plan.json".into(),
            made: DateTime::UNIX_EPOCH,
            planned: HashMap::from([("7".to_owned(), planned)]),
            clock_only: HashSet::new(),
        };
        let row = crate::order::InvalidRow {
            line: 2,
            column: None,
            order_id: "7".into(),
            buyer: "b".into(),
            value: String::new(),
            error: "why".into(),
        };
        let today = |reason| Entry::for_invalid(&row).skipped(reason);
        let paid = gate.judge(today(Reason::Paid));
        assert_eq!(paid.reason, Some(Reason::NotDueAnymore));
        assert_eq!(
            paid.error.as_deref(),
            Some("in the plan, but today: paid (why)")
        );
        for kept in [Reason::InvalidRow, Reason::OutcomeUnknown] {
            assert_eq!(gate.judge(today(kept)).reason, Some(kept));
        }
    }

    #[test]
    fn durations_read_to_the_minute() {
        assert_eq!(duration(TimeDelta::seconds(13 * 3600 + 330)), "13h 5m");
        assert_eq!(hex(&[0, 171]), "00ab");
    }
}
