//! Between decide and deliver: the circuit breakers that stop `run --send` on a morning that
//! looks wrong, before a single buyer is mailed. A dry run and `check` measure the same
//! things and say what `--send` would do; only a sending run refuses.
//!
//! | breaker             | measures                                          | trips when                                      | `--force` |
//! |---------------------|---------------------------------------------------|-------------------------------------------------|-----------|
//! | `stale_export`      | hours from the newest order (not after `now`) to `now` | more than `[guard] max_export_age`         | yes       |
//! | `max_per_run`       | reminders due                                     | more than `[guard] max_per_run`                 | yes       |
//! | `growth`            | reminders due                                     | more than `max(max_growth × median, 20)` of the last 7 unforced sending runs that had reminders (3 runs at least) | yes |
//! | `unpaid_share`      | unpaid orders / orders in the export              | more than `max(2 × median, median + 0.25)`, capped at halfway from the median to 100%, of the last 7 unforced sending runs' shares (3 runs at least, 20 orders today at least) | yes |
//! | `unmapped_statuses` | status labels no `[statuses]` class claims        | any                                             | no        |
//! | `check`             | the problems `payremind check` counts, but missing bank details (the message asks the buyer to reply for them) | any | no        |
//! | `placeholders`      | `[shop]` values still the starter's examples      | any                                             | no        |
//!
//! `--force` passes the breakers that compare today with earlier runs (a real sale is unusual
//! too) and the stale export (a quiet weekend); a fact that is wrong today (an unclaimed
//! status, `check`'s problems, a placeholder) must be fixed instead. Forced runs are left out
//! of the medians. Every sending run that passes is recorded in the ledger with its counts, and
//! a forced one is shown by `history`.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use crate::config::Settings;
use crate::error::Error;
use crate::ledger::Run;
use crate::order::{StoreTime, hours};

/// How many earlier sending runs the volume and share breakers compare with.
pub const RUNS_COMPARED: usize = 7;

/// How many earlier sending runs they need before they compare at all.
pub const RUNS_NEEDED: usize = 3;

/// Below this many reminders the growth breaker never trips: a shop that sends two a day
/// sends seven on a busy one.
pub const GROWTH_FLOOR: u64 = 20;

/// Below this many orders in the export the share breaker never trips: three unpaid orders
/// of four are not a broken mapping.
pub const SHARE_MIN_ORDERS: u64 = 20;

/// What today's export and run measure: filled by `check`'s reading of the export and the
/// run's decisions.
#[derive(Debug, Default, Clone)]
pub struct Today {
    /// Orders in the export.
    pub orders: u64,
    /// Of them, unpaid.
    pub unpaid: u64,
    /// The newest order not dated after `now`.
    pub newest: Option<StoreTime>,
    /// Status labels no class claims, with their rows.
    pub unmapped: Vec<(String, u64)>,
    /// The problems `check` counts, and the first of its `problem:` lines.
    pub check_problems: usize,
    /// The first `problem:` line of `check`, without its prefix.
    pub first_problem: Option<String>,
    /// `[shop]` settings still the starter's examples (or missing to send).
    pub placeholders: Vec<(&'static str, String)>,
    /// Reminders due (`None` in `check`, which decides nothing).
    pub reminders: Option<u64>,
}

/// A breaker's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Within its limit.
    Ok,
    /// `--send` stops.
    Refuse,
    /// Tripped, and `--force` went past it.
    Forced,
    /// Not measured: not enough earlier runs or orders, or (in `check`) no reminders counted.
    NotMeasured,
}

/// One breaker as the JSON summary shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Breaker {
    /// What it measured today.
    pub measured: Value,
    /// Its limit.
    pub limit: Value,
    /// What `--send` does about it.
    pub verdict: Verdict,
    /// For people: what it measured, against what.
    pub note: String,
    /// Why it refuses, and what to do (only when it trips).
    #[serde(skip)]
    refusal: Option<Refusal>,
}

/// Whom a refusal blames: a setting of the config, or the export.
#[derive(Debug, Clone)]
enum Refusal {
    Setting(&'static str, String),
    Export(String),
}

/// Every breaker, in the order they are judged (the JSON summary's `guard` object).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The newest order's age.
    pub stale_export: Breaker,
    /// Status labels no class claims.
    pub unmapped_statuses: Breaker,
    /// `check`'s verdict.
    pub check: Breaker,
    /// Starter examples left in `[shop]`.
    pub placeholders: Breaker,
    /// The share of unpaid orders against earlier runs.
    pub unpaid_share: Breaker,
    /// Reminders against `[guard] max_per_run`.
    pub max_per_run: Breaker,
    /// Reminders against earlier runs.
    pub growth: Breaker,
}

/// The median of a few values (the mean of the middle two for an even count).
fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        f64::midpoint(values[mid - 1], values[mid])
    } else {
        values[mid]
    })
}

fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

/// `26h`, `90min`: a limit as the seller writes it.
fn duration(delta: TimeDelta) -> String {
    let seconds = delta.num_seconds();
    if seconds % 3600 == 0 {
        format!("{}h", seconds / 3600)
    } else if seconds % 60 == 0 {
        format!("{}min", seconds / 60)
    } else {
        format!("{seconds}s")
    }
}

impl Breaker {
    fn new(measured: Value, limit: Value, tripped: Option<bool>, note: String) -> Breaker {
        Breaker {
            measured,
            limit,
            verdict: match tripped {
                None => Verdict::NotMeasured,
                Some(false) => Verdict::Ok,
                Some(true) => Verdict::Refuse,
            },
            note,
            refusal: None,
        }
    }

    fn refusing(mut self, refusal: Refusal) -> Breaker {
        if self.verdict == Verdict::Refuse {
            self.refusal = Some(refusal);
        }
        self
    }
}

impl Report {
    /// Judges today against the settings and the earlier sending runs (oldest first, the
    /// last [`RUNS_COMPARED`] of them). `force`: the breakers `--force` passes are `forced`.
    #[must_use]
    pub fn judge(
        today: &Today,
        runs: &[Run],
        settings: &Settings,
        now: DateTime<Utc>,
        force: bool,
    ) -> Report {
        let guard = &settings.guard;
        // The usual mornings: a forced run was unusual by definition, and counting it would
        // let a blast forced twice raise the median until the breakers stop protecting.
        let usual: Vec<&Run> = runs.iter().filter(|run| run.forced.is_empty()).collect();
        let runs = &usual[usual.len().saturating_sub(RUNS_COMPARED)..];

        let stale_export = match today.newest {
            None => Breaker::new(
                Value::Null,
                json!(hours(guard.max_export_age)),
                None,
                "no order dated before now".to_owned(),
            ),
            Some(newest) => {
                let age = now.signed_duration_since(newest);
                let note = format!(
                    "newest order {} h before now (limit {})",
                    hours(age),
                    duration(guard.max_export_age)
                );
                Breaker::new(
                    json!(hours(age)),
                    json!(hours(guard.max_export_age)),
                    Some(age > guard.max_export_age),
                    note,
                )
                .refusing(Refusal::Export(format!(
                    "its newest order is from {}, {} h before now, older than [guard].max_export_age ({}): is it yesterday's download? export today's orders, or raise [guard].max_export_age",
                    newest.format("%Y-%m-%d %H:%M (UTC%:z)"),
                    hours(age),
                    duration(guard.max_export_age)
                )))
            }
        };

        let unmapped_rows: u64 = today.unmapped.iter().map(|(_, rows)| rows).sum();
        let unmapped_statuses = Breaker::new(
            json!(today.unmapped.len()),
            json!(0),
            Some(!today.unmapped.is_empty()),
            format!(
                "{} status label{} in no class",
                today.unmapped.len(),
                if today.unmapped.len() == 1 { "" } else { "s" }
            ),
        )
        .refusing(Refusal::Setting(
            "[statuses]",
            format!(
                "claims no class for {} of the export's statuses ({}; {unmapped_rows} rows): add each to [statuses] unpaid, paid or closed (`payremind check` lists them), then send",
                today.unmapped.len(),
                today
                    .unmapped
                    .iter()
                    .map(|(label, _)| format!("{label:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));

        let check = Breaker::new(
            json!(today.check_problems),
            json!(0),
            Some(today.check_problems > 0),
            format!(
                "`payremind check` counts {} that would stop a send",
                match today.check_problems {
                    1 => "1 problem".to_owned(),
                    n => format!("{n} problems"),
                }
            ),
        )
        .refusing(Refusal::Export(format!(
            "`payremind check` would say \"not ready\" ({} problem{}{}): run it on this export, fix what it says, then send",
            today.check_problems,
            if today.check_problems == 1 { "" } else { "s" },
            today
                .first_problem
                .as_ref()
                .map(|p| format!("; the first: {p}"))
                .unwrap_or_default()
        )));

        let placeholders = Breaker::new(
            json!(today.placeholders.len()),
            json!(0),
            Some(!today.placeholders.is_empty()),
            format!(
                "{} [shop] settings unfinished{}",
                today.placeholders.len(),
                if today.placeholders.is_empty() {
                    String::new()
                } else {
                    format!(
                        " ({})",
                        today
                            .placeholders
                            .iter()
                            .map(|(setting, _)| *setting)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            ),
        );
        let placeholders = match today.placeholders.first() {
            Some((setting, message)) => {
                placeholders.refusing(Refusal::Setting(setting, message.clone()))
            }
            None => placeholders,
        };

        let share = |orders: u64, unpaid: u64| {
            #[allow(clippy::cast_precision_loss)] // counts of orders: far below 2^52
            let share = unpaid as f64 / orders as f64;
            share
        };
        let shares: Vec<f64> = runs
            .iter()
            .filter(|run| run.orders > 0)
            .map(|run| share(run.orders, run.unpaid))
            .collect();
        let compared = shares.len();
        let unpaid_share = match median(shares) {
            Some(median) if compared >= RUNS_NEEDED && today.orders >= SHARE_MIN_ORDERS => {
                let today_share = share(today.orders, today.unpaid);
                // Twice the usual share, or 25 points more, but always short of 100%: for a
                // shop whose usual share is half or more, halfway from it to "every order".
                let limit = (2.0 * median)
                    .max(median + 0.25)
                    .min(median + (1.0 - median) / 2.0);
                let note = format!(
                    "{} of {} orders unpaid, against a median of {} over the last {compared} sending runs (limit {})",
                    today.unpaid,
                    today.orders,
                    percent(median),
                    percent(limit)
                );
                Breaker::new(
                    json!(today_share),
                    json!(limit),
                    Some(today_share > limit),
                    note,
                )
                .refusing(Refusal::Export(format!(
                    "{} of its {} orders are unpaid ({}), against a median of {} over the last {compared} sending runs (limit {}): has a status mapping broken, so that paid orders look unpaid? look at the statuses `payremind check` lists; if the export is right, send with --force",
                    today.unpaid,
                    today.orders,
                    percent(today_share),
                    percent(median),
                    percent(limit)
                )))
            }
            _ => {
                let note = if today.orders < SHARE_MIN_ORDERS {
                    format!(
                        "{} of {} orders unpaid (compared from {SHARE_MIN_ORDERS} orders on)",
                        today.unpaid, today.orders
                    )
                } else {
                    format!(
                        "{} of {} orders unpaid ({compared} earlier sending runs; compared from {RUNS_NEEDED} on)",
                        today.unpaid, today.orders
                    )
                };
                let measured = if today.orders > 0 {
                    json!(share(today.orders, today.unpaid))
                } else {
                    Value::Null
                };
                Breaker::new(measured, Value::Null, None, note)
            }
        };

        let max_per_run = match today.reminders {
            Some(reminders) => Breaker::new(
                json!(reminders),
                json!(guard.max_per_run),
                Some(reminders > guard.max_per_run),
                format!("{reminders} reminders (limit {})", guard.max_per_run),
            )
            .refusing(Refusal::Setting(
                "[guard].max_per_run",
                format!(
                    "{reminders} reminders are due, more than {}: look at them with a dry run (`payremind run` without --send); if they are right, send them with --force, or raise [guard].max_per_run",
                    guard.max_per_run
                ),
            )),
            None => Breaker::new(
                Value::Null,
                json!(guard.max_per_run),
                None,
                format!(
                    "reminders are counted by `payremind run` (limit {})",
                    guard.max_per_run
                ),
            ),
        };

        #[allow(clippy::cast_precision_loss)] // counts of reminders: far below 2^52
        let dues: Vec<f64> = runs
            .iter()
            .filter(|run| run.due > 0)
            .map(|run| run.due as f64)
            .collect();
        let counted_runs = dues.len();
        // With send windows or quiet hours, runs are hourly and a window's batch is many hours'
        // worth: run against run says nothing (max_per_run still holds).
        let timed =
            settings.select.send_before_dispatch.is_some() || settings.select.quiet_hours.is_some();
        let growth = match median(dues) {
            _ if timed => Breaker::new(
                today.reminders.map_or(Value::Null, |r| json!(r)),
                Value::Null,
                None,
                "not compared run by run while send windows or quiet hours batch the reminders (max_per_run still applies)".to_owned(),
            ),
            Some(median) if counted_runs >= RUNS_NEEDED => {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let limit = ((guard.max_growth * median).floor() as u64).max(GROWTH_FLOOR);
                let against = format!(
                    "{}x the median {median} of the last {} sending runs, at least {GROWTH_FLOOR}: {limit}",
                    guard.max_growth,
                    runs.len()
                );
                match today.reminders {
                    Some(reminders) => Breaker::new(
                        json!(reminders),
                        json!(limit),
                        Some(reminders > limit),
                        format!("{reminders} reminders (limit {against})"),
                    )
                    .refusing(Refusal::Setting(
                        "[guard].max_growth",
                        format!(
                            "{reminders} reminders are due, more than {against}: look at them with a dry run (`payremind run` without --send); if they are right, send them with --force"
                        ),
                    )),
                    None => Breaker::new(
                        Value::Null,
                        json!(limit),
                        None,
                        format!("reminders are counted by `payremind run` (limit {against})"),
                    ),
                }
            }
            _ => Breaker::new(
                today.reminders.map_or(Value::Null, |r| json!(r)),
                Value::Null,
                None,
                format!(
                    "{} earlier sending runs (compared from {RUNS_NEEDED} on)",
                    runs.len()
                ),
            ),
        };

        let mut report = Report {
            stale_export,
            unmapped_statuses,
            check,
            placeholders,
            unpaid_share,
            max_per_run,
            growth,
        };
        if force {
            // A quiet weekend leaves the newest order old in a fresh file: the seller who looked
            // may go past that too.
            for breaker in [
                &mut report.stale_export,
                &mut report.unpaid_share,
                &mut report.max_per_run,
                &mut report.growth,
            ] {
                if breaker.verdict == Verdict::Refuse {
                    breaker.verdict = Verdict::Forced;
                }
            }
        }
        report
    }

    /// Every breaker with its name, in the order they are judged.
    fn breakers(&self) -> [(&'static str, &Breaker); 7] {
        [
            ("stale_export", &self.stale_export),
            ("unmapped_statuses", &self.unmapped_statuses),
            ("check", &self.check),
            ("placeholders", &self.placeholders),
            ("unpaid_share", &self.unpaid_share),
            ("max_per_run", &self.max_per_run),
            ("growth", &self.growth),
        ]
    }

    /// One line per breaker, for `check`: `guard: name: what it measured: verdict`.
    #[must_use]
    pub fn lines(&self) -> Vec<String> {
        self.breakers()
            .iter()
            .map(|(name, breaker)| {
                let verdict = match breaker.verdict {
                    Verdict::Ok => "ok",
                    Verdict::Refuse => "`run --send` would refuse",
                    Verdict::Forced => "passed with --force",
                    Verdict::NotMeasured => "not measured",
                };
                format!("guard: {name}: {}: {verdict}", breaker.note)
            })
            .collect()
    }

    /// The errors `--send` stops with, one per tripped breaker with its name, in the order
    /// they are judged (empty: it may send).
    #[must_use]
    pub fn refusals(
        &self,
        settings: &Settings,
        export: &std::path::Path,
    ) -> Vec<(&'static str, Error)> {
        self.breakers()
            .iter()
            .filter(|(_, breaker)| breaker.verdict == Verdict::Refuse)
            .filter_map(|(name, breaker)| Some((*name, breaker.refusal.as_ref()?)))
            .map(|(name, refusal)| {
                let error = match refusal {
                    Refusal::Setting(setting, message) => settings.setting_error(setting, message),
                    Refusal::Export(message) => Error::Export {
                        path: export.to_owned(),
                        message: message.clone(),
                    },
                };
                (name, error)
            })
            .collect()
    }

    /// The report as the JSON summary's `guard` object.
    #[must_use]
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// What `--force` went past, for the ledger and `history` (empty: nothing).
    #[must_use]
    pub fn forced(&self) -> String {
        self.breakers()
            .iter()
            .filter(|(_, breaker)| breaker.verdict == Verdict::Forced)
            .map(|(name, breaker)| format!("{name}: {}", breaker.note))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }
}
