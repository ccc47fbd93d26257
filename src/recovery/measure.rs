//! The report's numbers, from the ledger's exposures and observations.
//!
//! **Units.** The total and the rows by buyer type, language and payment method count
//! *orders*; the rows by step count *reminders* (each step sent, or held back, once per
//! order). A payment is credited to the last reminder before it (of the same group), so no
//! payment counts twice and the steps' recovered amounts add up to the total's.
//!
//! **Outcomes.** A reminder at time t (the run's `now`; a hold-out's time for the control
//! group) is *paid* when the order was paid at P with t < P ≤ t + window and no later step came
//! before P. It is *settled, not paid* when the order was paid before it (`paid_before`: not
//! recovered), later than the window or after a later step, was closed or gone from a complete
//! export, or an export at t + window or later still showed it unpaid. Otherwise its outcome
//! is *unknown* (the window is not over, or no later export showed the order): counted apart,
//! never as unpaid. The paid rate is paid ÷ settled.
//!
//! **Lift** is the reminded paid rate minus the control group's, with Newcombe's 95 %
//! interval; below [`MIN_SETTLED`] settled in either group or [`MIN_PAID`] paid in both
//! together it is "not enough data". The incremental revenue it implies is the recovered
//! amount times lift ÷ reminded paid rate (the share of it the reminders caused), per
//! currency, with the interval's limits scaled the same way.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Serialize;

use super::interval::{Z95, newcombe, wilson};
use crate::ledger::{Arm, Exposure, Observation};

/// The fewest settled orders (or reminders) each group needs before a lift is shown.
pub const MIN_SETTLED: u64 = 30;
/// The fewest paid ones both groups need together before a lift is shown.
pub const MIN_PAID: u64 = 5;

/// What to measure.
#[derive(Debug, Clone)]
pub struct Ask {
    /// The report's instant (`--now`).
    pub now: DateTime<Utc>,
    /// A payment this long after a reminder still counts (`--window`).
    pub window: TimeDelta,
    /// Only reminders and hold-outs from this day on (the shop's calendar).
    pub since: Option<NaiveDate>,
    /// Only reminders and hold-outs up to this day, included.
    pub until: Option<NaiveDate>,
    /// The shop's zone (its calendar days).
    pub zone: Tz,
    /// The control share as configured (`10%`), or `off`.
    pub control: String,
}

/// The whole report: serialized as the JSON of `--format json`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Always `report`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The report's instant, in the shop's zone.
    pub now: String,
    /// The window, in hours.
    pub window_hours: i64,
    /// `--since`, when given.
    pub since: Option<String>,
    /// `--until`, when given.
    pub until: Option<String>,
    /// `[experiment] control` (`off` when none).
    pub control: String,
    /// The minimum counts below which a lift is "not enough data".
    pub minimum: Minimum,
    /// Every order.
    pub total: Row,
    /// By step (template): reminders, not orders.
    pub by_step: Vec<Row>,
    /// By the buyer's type when first reminded (or held out).
    pub by_buyer_type: Vec<Row>,
    /// By the language the buyer is written to in.
    pub by_language: Vec<Row>,
    /// By payment method as exported.
    pub by_payment_method: Vec<Row>,
    /// Recovered amount by day of payment (the shop's calendar) and currency, reminded orders.
    pub by_day: Vec<Day>,
}

/// See [`MIN_SETTLED`] and [`MIN_PAID`].
#[derive(Debug, Clone, Serialize)]
pub struct Minimum {
    /// [`MIN_SETTLED`].
    pub settled_per_group: u64,
    /// [`MIN_PAID`].
    pub paid: u64,
}

/// One line of the report: the reminded orders, the control group, and the lift.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The step, buyer type, language or payment method (`all` for the total).
    pub value: String,
    /// The orders (or reminders) sent.
    pub reminded: Group,
    /// The control group's, held out.
    pub control: Group,
    /// Reminded paid rate − control paid rate.
    pub lift: Lift,
}

/// The counts of one group.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Group {
    /// Reminders sent (held back, for the control group).
    pub sent: u64,
    /// Orders.
    pub orders: u64,
    /// Units (orders, or reminders by step) whose outcome is known.
    pub settled: u64,
    /// Of them, paid within the window.
    pub paid: u64,
    /// Of them, not paid within the window (`paid_before` included).
    pub not_paid: u64,
    /// Of the not paid: the payment was recorded before the reminder (not recovered).
    pub paid_before: u64,
    /// Outcome not known yet: counted apart, never as unpaid.
    pub unknown: u64,
    /// paid ÷ settled.
    pub paid_rate: Option<f64>,
    /// Wilson's 95 % interval of the paid rate: lower limit.
    pub paid_rate_low: Option<f64>,
    /// Upper limit.
    pub paid_rate_high: Option<f64>,
    /// The amounts paid within the window, per currency (never added across currencies).
    pub recovered: BTreeMap<String, Decimal>,
    /// Median hours from the reminder (or hold-out) to the payment.
    pub median_hours: Option<f64>,
}

/// The lift of one row.
#[derive(Debug, Clone, Serialize)]
pub struct Lift {
    /// `ok`, or `not enough data`.
    pub status: String,
    /// Reminded paid rate − control paid rate.
    pub difference: Option<f64>,
    /// Newcombe's 95 % interval: lower limit.
    pub low: Option<f64>,
    /// Upper limit.
    pub high: Option<f64>,
    /// Orders (or reminders) paid because of the reminders: difference × reminded settled.
    pub incremental_orders: Option<f64>,
    /// Revenue the reminders caused, per currency.
    pub incremental_revenue: BTreeMap<String, Revenue>,
}

/// An amount with its interval.
#[derive(Debug, Clone, Serialize)]
pub struct Revenue {
    /// The estimate.
    pub estimate: Decimal,
    /// Its lower limit.
    pub low: Decimal,
    /// Its upper limit.
    pub high: Decimal,
}

/// Recovered on one day in one currency.
#[derive(Debug, Clone, Serialize)]
pub struct Day {
    /// The day of payment (the shop's calendar).
    pub day: String,
    /// The currency.
    pub currency: String,
    /// The amount.
    pub amount: Decimal,
}

/// What became of one unit.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Judged {
    Paid { after: TimeDelta },
    NotPaid { before: bool },
    Unknown,
}

/// The outcome of the exposure at `t`, followed by the order's next one at `next` (same group),
/// or of the whole order when `t` is its last exposure before the payment (see the module
/// documentation).
fn judge(
    t: DateTime<Utc>,
    next: Option<DateTime<Utc>>,
    obs: Option<&Observation>,
    window: TimeDelta,
) -> Judged {
    let Some(obs) = obs else {
        return Judged::Unknown;
    };
    if let Some(paid) = obs.paid_at {
        return if paid <= t {
            Judged::NotPaid { before: true }
        } else if next.is_some_and(|n| n < paid) || paid > t + window {
            Judged::NotPaid { before: false }
        } else {
            Judged::Paid { after: paid - t }
        };
    }
    if obs.settled_unpaid_at.is_some()
        || next.is_some()
        || obs.last_seen_unpaid_at.is_some_and(|u| u >= t + window)
    {
        return Judged::NotPaid { before: false };
    }
    Judged::Unknown
}

/// An order's outcome over its exposures `times` (sorted): judged from its last exposure
/// before the payment (or its last one, unpaid).
fn judge_order(times: &[DateTime<Utc>], obs: Option<&Observation>, window: TimeDelta) -> Judged {
    let Some(&first) = times.first() else {
        return Judged::Unknown;
    };
    let last = match obs.and_then(|o| o.paid_at) {
        Some(paid) => times
            .iter()
            .rev()
            .find(|&&t| t < paid)
            .copied()
            .unwrap_or(first),
        None => times.last().copied().unwrap_or(first),
    };
    judge(last, None, obs, window)
}

/// A group being counted.
#[derive(Default)]
struct Tally {
    sent: u64,
    orders: BTreeSet<String>,
    paid: u64,
    not_paid: u64,
    paid_before: u64,
    unknown: u64,
    recovered: BTreeMap<String, Decimal>,
    seconds: Vec<i64>,
}

impl Tally {
    fn add(&mut self, judged: Judged, obs: Option<&Observation>) {
        match judged {
            Judged::Paid { after } => {
                self.paid += 1;
                self.seconds.push(after.num_seconds());
                if let Some(obs) = obs
                    && let Some(amount) = obs.amount
                {
                    *self.recovered.entry(obs.currency.clone()).or_default() += amount;
                }
            }
            Judged::NotPaid { before } => {
                self.not_paid += 1;
                self.paid_before += u64::from(before);
            }
            Judged::Unknown => self.unknown += 1,
        }
    }

    fn group(mut self) -> Group {
        let settled = self.paid + self.not_paid;
        let rate = wilson(self.paid, settled, Z95);
        self.seconds.sort_unstable();
        #[allow(clippy::cast_precision_loss)]
        let median = match self.seconds.len() {
            0 => None,
            n if n % 2 == 1 => Some(self.seconds[n / 2] as f64),
            n => Some((self.seconds[n / 2 - 1] + self.seconds[n / 2]) as f64 / 2.0),
        };
        #[allow(clippy::cast_precision_loss)]
        Group {
            sent: self.sent,
            orders: self.orders.len() as u64,
            settled,
            paid: self.paid,
            not_paid: self.not_paid,
            paid_before: self.paid_before,
            unknown: self.unknown,
            paid_rate: (settled > 0).then(|| round(self.paid as f64 / settled as f64, 4)),
            paid_rate_low: rate.map(|r| round(r.0, 4)),
            paid_rate_high: rate.map(|r| round(r.1, 4)),
            recovered: self.recovered,
            median_hours: median.map(|s| round(s / 3600.0, 2)),
        }
    }
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10_f64.powi(places);
    (x * f).round() / f
}

/// The lift of reminded over control.
fn lift(reminded: &Group, control: &Group) -> Lift {
    let mut lift = Lift {
        status: "not enough data".into(),
        difference: None,
        low: None,
        high: None,
        incremental_orders: None,
        incremental_revenue: BTreeMap::new(),
    };
    if reminded.settled < MIN_SETTLED
        || control.settled < MIN_SETTLED
        || reminded.paid + control.paid < MIN_PAID
    {
        return lift;
    }
    let Some((d, low, high)) = newcombe(
        reminded.paid,
        reminded.settled,
        control.paid,
        control.settled,
        Z95,
    ) else {
        return lift;
    };
    lift.status = "ok".into();
    lift.difference = Some(round(d, 4));
    lift.low = Some(round(low, 4));
    lift.high = Some(round(high, 4));
    #[allow(clippy::cast_precision_loss)]
    {
        lift.incremental_orders = Some(round(d * reminded.settled as f64, 2));
    }
    if reminded.paid > 0 {
        #[allow(clippy::cast_precision_loss)]
        let p1 = reminded.paid as f64 / reminded.settled as f64;
        let scale = |x: f64, amount: Decimal| {
            Decimal::try_from(x / p1)
                .map(|f| (amount * f).round_dp(2))
                .unwrap_or_default()
        };
        for (currency, amount) in &reminded.recovered {
            lift.incremental_revenue.insert(
                currency.clone(),
                Revenue {
                    estimate: scale(d, *amount),
                    low: scale(low, *amount),
                    high: scale(high, *amount),
                },
            );
        }
    }
    lift
}

/// Measures the report from the ledger's exposures and observations.
#[must_use]
pub fn measure(
    ask: &Ask,
    exposures: &[Exposure],
    observations: &HashMap<String, Observation>,
) -> Report {
    let day = |at: DateTime<Utc>| at.with_timezone(&ask.zone).date_naive();
    let kept: Vec<&Exposure> = exposures
        .iter()
        .filter(|e| ask.since.is_none_or(|s| day(e.at) >= s))
        .filter(|e| ask.until.is_none_or(|u| day(e.at) <= u))
        .collect();
    // Each order's exposures per group, in time order.
    let mut by_order: BTreeMap<(Arm, &str), Vec<&Exposure>> = BTreeMap::new();
    for e in &kept {
        by_order
            .entry((e.arm, e.order_id.as_str()))
            .or_default()
            .push(e);
    }
    for list in by_order.values_mut() {
        list.sort_by_key(|e| e.at);
    }
    // (dimension, value, arm) -> tally
    let mut tallies: BTreeMap<(&str, String, Arm), Tally> = BTreeMap::new();
    let mut days: BTreeMap<(NaiveDate, String), Decimal> = BTreeMap::new();
    for (&(arm, order), list) in &by_order {
        let obs = observations.get(order);
        let times: Vec<DateTime<Utc>> = list.iter().map(|e| e.at).collect();
        // By step: each exposure, followed by the next.
        for (i, e) in list.iter().enumerate() {
            let judged = judge(e.at, times.get(i + 1).copied(), obs, ask.window);
            let tally = tallies
                .entry(("step", e.template.clone(), arm))
                .or_default();
            tally.sent += 1;
            tally.orders.insert(order.to_owned());
            tally.add(judged, obs);
        }
        let judged = judge_order(&times, obs, ask.window);
        if let (Arm::Reminded, Judged::Paid { .. }, Some(obs)) = (arm, judged, obs)
            && let (Some(paid), Some(amount)) = (obs.paid_at, obs.amount)
        {
            *days.entry((day(paid), obs.currency.clone())).or_default() += amount;
        }
        let unknown = || "unknown".to_owned();
        let method = obs.map_or_else(unknown, |o| {
            if o.payment_method.is_empty() {
                "(none)".to_owned()
            } else {
                o.payment_method.clone()
            }
        });
        for (dimension, value) in [
            ("total", "all".to_owned()),
            ("buyer_type", list[0].buyer_type.clone()),
            ("language", obs.map_or_else(unknown, |o| o.language.clone())),
            ("payment_method", method),
        ] {
            let tally = tallies.entry((dimension, value, arm)).or_default();
            tally.sent += list.len() as u64;
            tally.orders.insert(order.to_owned());
            tally.add(judged, obs);
        }
    }
    let mut rows: BTreeMap<&str, BTreeMap<String, (Tally, Tally)>> = BTreeMap::new();
    for ((dimension, value, arm), tally) in tallies {
        let pair = rows.entry(dimension).or_default().entry(value).or_default();
        match arm {
            Arm::Reminded => pair.0 = tally,
            Arm::Control => pair.1 = tally,
        }
    }
    let mut take = |dimension: &str| -> Vec<Row> {
        rows.remove(dimension)
            .unwrap_or_default()
            .into_iter()
            .map(|(value, (reminded, control))| {
                let (reminded, control) = (reminded.group(), control.group());
                Row {
                    lift: lift(&reminded, &control),
                    value,
                    reminded,
                    control,
                }
            })
            .collect()
    };
    let total = take("total").pop().unwrap_or_else(|| Row {
        value: "all".into(),
        reminded: Group::default(),
        control: Group::default(),
        lift: lift(&Group::default(), &Group::default()),
    });
    Report {
        kind: "report",
        now: ask.now.with_timezone(&ask.zone).to_rfc3339(),
        window_hours: ask.window.num_hours(),
        since: ask.since.map(|d| d.to_string()),
        until: ask.until.map(|d| d.to_string()),
        control: ask.control.clone(),
        minimum: Minimum {
            settled_per_group: MIN_SETTLED,
            paid: MIN_PAID,
        },
        total,
        by_step: take("step"),
        by_buyer_type: take("buyer_type"),
        by_language: take("language"),
        by_payment_method: take("payment_method"),
        by_day: days
            .into_iter()
            .map(|((day, currency), amount)| Day {
                day: day.to_string(),
                currency,
                amount,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-20T01:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + TimeDelta::hours(hours)
    }

    /// `n` orders of one group, exposed at hour 0; the first `paid` paid 10.00 USD 5 h later,
    /// the others seen unpaid 48 h later.
    fn group(
        arm: Arm,
        n: usize,
        paid: usize,
        exposures: &mut Vec<Exposure>,
        observations: &mut HashMap<String, Observation>,
    ) {
        for i in 0..n {
            let id = format!("{}{i}", arm.as_str());
            exposures.push(Exposure {
                order_id: id.clone(),
                template: "gentle".into(),
                arm,
                buyer_id: id.clone(),
                buyer_type: "new".into(),
                at: at(0),
            });
            observations.insert(
                id.clone(),
                Observation {
                    order_id: id,
                    created_at: at(-3),
                    payment_method: String::new(),
                    language: "en".into(),
                    status: if i < paid { "paid" } else { "unpaid" }.into(),
                    amount: Some(Decimal::new(1000, 2)),
                    currency: "USD".into(),
                    paid_at: (i < paid).then(|| at(5)),
                    last_seen_unpaid_at: Some(at(48)),
                    settled_unpaid_at: None,
                },
            );
        }
    }

    fn report(control: usize, control_paid: usize) -> Report {
        let (mut exposures, mut observations) = (Vec::new(), HashMap::new());
        group(Arm::Reminded, 40, 20, &mut exposures, &mut observations);
        group(
            Arm::Control,
            control,
            control_paid,
            &mut exposures,
            &mut observations,
        );
        let ask = Ask {
            now: at(72),
            window: TimeDelta::days(1),
            since: None,
            until: None,
            zone: chrono_tz::Asia::Shanghai,
            control: "50%".into(),
        };
        measure(&ask, &exposures, &observations)
    }

    #[test]
    fn the_lift_and_the_revenue_it_implies() {
        // 20/40 reminded paid, 8/40 held out: 0.5 − 0.2 = 0.3, Newcombe's 95 % interval 0.0910
        // to 0.4759 (the published method, checked in `interval`).
        let r = report(40, 8);
        let lift = &r.total.lift;
        assert_eq!(lift.status, "ok");
        assert_eq!(
            (lift.difference, lift.low, lift.high),
            (Some(0.3), Some(0.091), Some(0.4759))
        );
        // 0.3 × 40 settled reminded orders.
        assert_eq!(lift.incremental_orders, Some(12.0));
        // 200.00 USD recovered; the reminders caused 0.3 / 0.5 of it.
        let usd = &lift.incremental_revenue["USD"];
        assert_eq!(
            (
                usd.estimate.to_string(),
                usd.low.to_string(),
                usd.high.to_string()
            ),
            ("120.00".into(), "36.40".into(), "190.35".into())
        );
        assert_eq!(r.total.reminded.recovered["USD"].to_string(), "200.00");
        assert_eq!(r.total.reminded.median_hours, Some(5.0));
    }

    #[test]
    fn below_the_minimum_there_is_no_number() {
        // 29 settled in the control group: one short.
        let r = report(29, 8);
        assert_eq!(r.total.lift.status, "not enough data");
        assert_eq!(r.total.lift.difference, None);
        assert!(r.total.lift.incremental_revenue.is_empty());
        // Enough settled, but 4 paid in both groups together.
        let (mut exposures, mut observations) = (Vec::new(), HashMap::new());
        group(Arm::Reminded, 40, 3, &mut exposures, &mut observations);
        group(Arm::Control, 40, 1, &mut exposures, &mut observations);
        let ask = Ask {
            now: at(72),
            window: TimeDelta::days(1),
            since: None,
            until: None,
            zone: chrono_tz::Asia::Shanghai,
            control: "50%".into(),
        };
        assert_eq!(
            measure(&ask, &exposures, &observations).total.lift.status,
            "not enough data"
        );
    }
}
