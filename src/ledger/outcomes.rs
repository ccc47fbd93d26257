//! What `payremind report` measures, as the ledger keeps it: the orders a sending run reminded
//! or held out ([`Exposure`]), and what later exports said about them ([`Observation`]).
//!
//! An observation is the order's story across exports, folded into one row: when it was last
//! seen unpaid, when it was paid (the export's paid time, else the time of the first export
//! that showed it paid) and how much, or when it was settled as not paid (closed, or gone from
//! a complete export). A later export that shows the order paid wins over an earlier "gone".

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use rust_decimal::Decimal;

use super::{Ledger, db_error, schema_version};
use crate::error::Error;
use crate::order::{Order, StatusClass};

/// Which group an exposure belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Arm {
    /// The order was sent a reminder.
    Reminded,
    /// The order's buyer is in the control group: the reminder it was due was held back.
    Control,
}

impl Arm {
    /// The name stored and shown.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Arm::Reminded => "reminded",
            Arm::Control => "control",
        }
    }
}

/// One reminder sent, or held back from a buyer of the control group, at one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exposure {
    /// The order.
    pub order_id: String,
    /// The step (template) sent or held back.
    pub template: String,
    /// Reminded or held out.
    pub arm: Arm,
    /// The buyer's identity.
    pub buyer_id: String,
    /// The buyer's type at that time (`new`, `returning`, `loyal`; `unknown` for a reminder
    /// sent before the ledger recorded it).
    pub buyer_type: String,
    /// The run's `now`: the reminder time, or the hold-out time.
    pub at: DateTime<Utc>,
}

/// What the exports said about one reminded or held-out order, as of the latest one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// The order.
    pub order_id: String,
    /// When it was placed.
    pub created_at: DateTime<Utc>,
    /// How the buyer chose to pay, as exported (may be empty).
    pub payment_method: String,
    /// The language the buyer is written to in.
    pub language: String,
    /// The latest status: `unpaid`, `paid`, `closed` or `gone` (not in a complete export).
    pub status: String,
    /// The total as last seen (the paid amount once paid).
    pub amount: Option<Decimal>,
    /// Its currency.
    pub currency: String,
    /// When it was paid: the export's paid time, else when an export first showed it paid.
    pub paid_at: Option<DateTime<Utc>>,
    /// The latest export time that showed it unpaid.
    pub last_seen_unpaid_at: Option<DateTime<Utc>>,
    /// When it was settled as not paid (closed, or gone from a complete export).
    pub settled_unpaid_at: Option<DateTime<Utc>>,
}

/// An order as one export shows it, for [`Ledger::observe`].
#[derive(Debug, Clone)]
pub struct Seen {
    /// The order.
    pub order_id: String,
    /// The buyer's identity.
    pub buyer_id: String,
    /// When it was placed.
    pub created_at: DateTime<Utc>,
    /// Payment method as exported.
    pub payment_method: String,
    /// The language the buyer is written to in.
    pub language: String,
    /// Unpaid, paid or closed.
    pub status: StatusClass,
    /// The total and its currency.
    pub total: Option<(Decimal, String)>,
    /// The export's paid time.
    pub paid_at: Option<DateTime<Utc>>,
}

impl Seen {
    /// The order as the export shows it; `language` is the language the buyer is written to in.
    #[must_use]
    pub fn new(order: &Order, language: &str) -> Seen {
        Seen {
            order_id: order.id.to_string(),
            buyer_id: order.buyer.to_string(),
            created_at: order.created_at.with_timezone(&Utc),
            payment_method: order.payment_method.trim().to_string(),
            language: language.to_owned(),
            status: order.status,
            total: order
                .total
                .as_ref()
                .map(|m| (m.amount, m.currency.to_string())),
            paid_at: order.paid_at.map(|t| t.with_timezone(&Utc)),
        }
    }
}

/// One export's view of the reminded and held-out orders, for [`Ledger::observe`].
#[derive(Debug, Clone)]
pub struct ExportView {
    /// The export's time (the run's `now`).
    pub at: DateTime<Utc>,
    /// The reminded or held-out orders it holds.
    pub seen: Vec<Seen>,
    /// From when the export is complete: its oldest order's creation time, when it also holds
    /// paid orders (an export of unpaid orders only is a filtered view, never complete).
    /// `None`: an order missing from it says nothing.
    pub complete_since: Option<DateTime<Utc>>,
}

/// An observation's row as stored: status, paid time, whether the export gave it, last seen
/// unpaid, settled unpaid.
type Stored = (String, Option<String>, i64, Option<String>, Option<String>);

fn time(text: Option<String>) -> Option<DateTime<Utc>> {
    text.and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&Utc))
}

fn text(at: Option<DateTime<Utc>>) -> Option<String> {
    at.map(|t| t.to_rfc3339())
}

impl Ledger {
    /// Whether the ledger has the report's tables (a ledger from before them is read as having
    /// recorded nothing).
    fn has_outcomes(&self) -> Result<bool, Error> {
        Ok(schema_version(&self.conn, &self.path)? >= 5)
    }

    /// Records the orders a sending run reminds or holds out (once per order, step and arm:
    /// the first time counts).
    ///
    /// # Errors
    /// The ledger cannot be written.
    pub fn record_exposures(&mut self, exposures: &[Exposure]) -> Result<(), Error> {
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(|e| db_error(&path, &e))?;
        for e in exposures {
            tx.execute(
                "INSERT OR IGNORE INTO exposures (order_id, template, arm, buyer_id, buyer_type, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    e.order_id,
                    e.template,
                    e.arm.as_str(),
                    e.buyer_id,
                    e.buyer_type,
                    e.at.to_rfc3339()
                ],
            )
            .map_err(|e| db_error(&path, &e))?;
        }
        tx.commit().map_err(|e| db_error(&path, &e))
    }

    /// The orders ever reminded (a sent attempt) or held out: the ones exports are read for.
    ///
    /// # Errors
    /// The ledger cannot be read.
    pub fn exposed_orders(&self) -> Result<HashSet<String>, Error> {
        let sql = if self.has_outcomes()? {
            "SELECT order_id FROM attempts WHERE status = 'sent'
             UNION SELECT order_id FROM exposures"
        } else {
            "SELECT order_id FROM attempts WHERE status = 'sent'"
        };
        let mut stmt = self
            .conn
            .prepare(sql)
            .map_err(|e| db_error(&self.path, &e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| db_error(&self.path, &e))?;
        rows.collect::<Result<_, _>>()
            .map_err(|e| db_error(&self.path, &e))
    }

    /// Every reminder sent (the first sent attempt of each order and step, at its run's
    /// `now`) and every hold-out, in time order.
    ///
    /// # Errors
    /// The ledger cannot be read.
    pub fn exposures(&self) -> Result<Vec<Exposure>, Error> {
        let sql = if self.has_outcomes()? {
            "SELECT a.order_id, a.template, 'reminded', min(a.buyer_id),
                    coalesce(min(x.buyer_type), 'unknown'), min(a.evaluated_at)
             FROM attempts a LEFT JOIN exposures x
                  ON x.order_id = a.order_id AND x.template = a.template AND x.arm = 'reminded'
             WHERE a.status = 'sent'
             GROUP BY a.order_id, a.template
             UNION ALL
             SELECT order_id, template, arm, buyer_id, buyer_type, at
             FROM exposures WHERE arm = 'control'"
        } else {
            "SELECT order_id, template, 'reminded', min(buyer_id), 'unknown', min(evaluated_at)
             FROM attempts WHERE status = 'sent' GROUP BY order_id, template"
        };
        let mut stmt = self
            .conn
            .prepare(sql)
            .map_err(|e| db_error(&self.path, &e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .map_err(|e| db_error(&self.path, &e))?;
        let mut exposures = Vec::new();
        for row in rows {
            let (order_id, template, arm, buyer_id, buyer_type, at) =
                row.map_err(|e| db_error(&self.path, &e))?;
            let Some(at) = time(Some(at)) else { continue };
            exposures.push(Exposure {
                order_id,
                template,
                arm: if arm == "control" {
                    Arm::Control
                } else {
                    Arm::Reminded
                },
                buyer_id,
                buyer_type,
                at,
            });
        }
        exposures.sort_by(|a, b| (a.at, &a.order_id).cmp(&(b.at, &b.order_id)));
        Ok(exposures)
    }

    /// What the exports said about each reminded or held-out order, by order id.
    ///
    /// # Errors
    /// The ledger cannot be read.
    pub fn observations(&self) -> Result<HashMap<String, Observation>, Error> {
        if !self.has_outcomes()? {
            return Ok(HashMap::new());
        }
        let mut stmt = self
            .conn
            .prepare(
                "SELECT order_id, created_at, payment_method, language, status, amount, currency,
                        paid_at, last_seen_unpaid_at, settled_unpaid_at
                 FROM observations",
            )
            .map_err(|e| db_error(&self.path, &e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Observation {
                    order_id: r.get(0)?,
                    created_at: time(r.get(1)?).unwrap_or_default(),
                    payment_method: r.get(2)?,
                    language: r.get(3)?,
                    status: r.get(4)?,
                    amount: r.get::<_, Option<String>>(5)?.and_then(|a| a.parse().ok()),
                    currency: r.get(6)?,
                    paid_at: time(r.get(7)?),
                    last_seen_unpaid_at: time(r.get(8)?),
                    settled_unpaid_at: time(r.get(9)?),
                })
            })
            .map_err(|e| db_error(&self.path, &e))?;
        let mut out = HashMap::new();
        for row in rows {
            let o = row.map_err(|e| db_error(&self.path, &e))?;
            out.insert(o.order_id.clone(), o);
        }
        Ok(out)
    }

    /// Folds one export's view into the observations, in one transaction: each reminded or
    /// held-out order it shows, and those it should show but does not (gone from a complete
    /// export: settled as not paid, unless paid already). Returns how many orders it settled
    /// as gone.
    ///
    /// # Errors
    /// The ledger cannot be written.
    pub fn observe(&mut self, view: &ExportView, exposed: &HashSet<String>) -> Result<u64, Error> {
        let path = self.path.clone();
        let at = view.at;
        let tx = self.conn.transaction().map_err(|e| db_error(&path, &e))?;
        let mut seen_ids = HashSet::new();
        for seen in &view.seen {
            seen_ids.insert(seen.order_id.as_str());
            let before: Option<Stored> = tx
                .query_row(
                    "SELECT status, paid_at, paid_at_exported, last_seen_unpaid_at, settled_unpaid_at
                     FROM observations WHERE order_id = ?1",
                    params![seen.order_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )
                .optional()
                .map_err(|e| db_error(&path, &e))?;
            let (mut status, mut paid_at, mut exported, mut unpaid_at, mut settled_at) =
                match before {
                    Some((s, p, e, u, c)) => (s, time(p), e != 0, time(u), time(c)),
                    None => ("unpaid".to_owned(), None, false, None, None),
                };
            match seen.status {
                StatusClass::Paid => {
                    status = "paid".into();
                    match seen.paid_at {
                        Some(p) => {
                            paid_at = Some(p);
                            exported = true;
                        }
                        None if exported => {}
                        // First seen paid, or seen paid by an earlier export than thought.
                        None => paid_at = Some(paid_at.map_or(at, |p| p.min(at))),
                    }
                    settled_at = None;
                }
                _ if status == "paid" => {}
                StatusClass::Closed => {
                    status = "closed".into();
                    settled_at = Some(settled_at.map_or(at, |c| c.min(at)));
                }
                StatusClass::Unpaid => {
                    if status == "gone" {
                        // Back in an export: it was not gone.
                        settled_at = None;
                    }
                    if status != "closed" {
                        status = "unpaid".into();
                    }
                    unpaid_at = Some(unpaid_at.map_or(at, |u| u.max(at)));
                }
            }
            let (amount, currency) = seen.total.as_ref().map_or((None, String::new()), |(a, c)| {
                (Some(a.to_string()), c.clone())
            });
            tx.execute(
                "INSERT INTO observations (order_id, buyer_id, created_at,
                     payment_method, language, status, amount, currency, paid_at,
                     paid_at_exported, last_seen_unpaid_at, settled_unpaid_at, last_seen_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                 ON CONFLICT (order_id) DO UPDATE SET
                     buyer_id = excluded.buyer_id, created_at = excluded.created_at,
                     payment_method = excluded.payment_method, language = excluded.language,
                     status = excluded.status,
                     -- an export without the total keeps the amount seen before
                     currency = CASE WHEN excluded.amount IS NULL THEN currency
                                     ELSE excluded.currency END,
                     amount = coalesce(excluded.amount, amount),
                     paid_at = excluded.paid_at, paid_at_exported = excluded.paid_at_exported,
                     last_seen_unpaid_at = excluded.last_seen_unpaid_at,
                     settled_unpaid_at = excluded.settled_unpaid_at,
                     last_seen_at = max(last_seen_at, excluded.last_seen_at)",
                params![
                    seen.order_id,
                    seen.buyer_id,
                    seen.created_at.to_rfc3339(),
                    seen.payment_method,
                    seen.language,
                    status,
                    amount,
                    currency,
                    text(paid_at),
                    i64::from(exported),
                    text(unpaid_at),
                    text(settled_at),
                    at.to_rfc3339(),
                ],
            )
            .map_err(|e| db_error(&path, &e))?;
        }
        let mut gone = 0;
        if let Some(since) = view.complete_since {
            for order in exposed.iter().filter(|o| !seen_ids.contains(o.as_str())) {
                // Only an unpaid, unsettled order the export's dates cover, seen before now.
                let changed = tx
                    .execute(
                        "UPDATE observations SET status = 'gone', settled_unpaid_at = ?2
                         WHERE order_id = ?1 AND status = 'unpaid' AND created_at >= ?3
                               AND last_seen_at < ?2",
                        params![order, at.to_rfc3339(), since.to_rfc3339()],
                    )
                    .map_err(|e| db_error(&path, &e))?;
                gone += changed as u64;
            }
        }
        tx.commit().map_err(|e| db_error(&path, &e))?;
        Ok(gone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Adopt;

    fn at(hours: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_795_000_000 + hours * 3600, 0).unwrap()
    }

    fn seen(status: StatusClass, total: Option<&str>, paid_at: Option<i64>) -> Seen {
        Seen {
            order_id: "A1".into(),
            buyer_id: "b".into(),
            created_at: at(-3),
            payment_method: "card".into(),
            language: "en".into(),
            status,
            total: total.map(|t| (t.parse().unwrap(), "USD".into())),
            paid_at: paid_at.map(at),
        }
    }

    fn view(hours: i64, seen: Vec<Seen>, complete: bool) -> ExportView {
        ExportView {
            at: at(hours),
            seen,
            complete_since: complete.then(|| at(-10)),
        }
    }

    #[test]
    fn an_order_s_story_across_exports() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger =
            Ledger::open_for_send(&dir.path().join("p.db"), false, Adopt::Compare).unwrap();
        let exposed: HashSet<String> = ["A1".to_owned()].into();
        let obs = |ledger: &Ledger| ledger.observations().unwrap()["A1"].clone();
        // Unpaid at 0; missing from a partial export at 24: nothing settled.
        ledger
            .observe(
                &view(0, vec![seen(StatusClass::Unpaid, Some("9.50"), None)], true),
                &exposed,
            )
            .unwrap();
        assert_eq!(
            ledger.observe(&view(24, vec![], false), &exposed).unwrap(),
            0
        );
        assert_eq!(
            (obs(&ledger).status.as_str(), obs(&ledger).settled_unpaid_at),
            ("unpaid", None)
        );
        // Missing from a complete one at 48: gone, settled as not paid.
        assert_eq!(
            ledger.observe(&view(48, vec![], true), &exposed).unwrap(),
            1
        );
        assert_eq!(
            (obs(&ledger).status.as_str(), obs(&ledger).settled_unpaid_at),
            ("gone", Some(at(48)))
        );
        // Back, paid, in a later export without a paid time and without the total: paid when
        // first seen paid, the amount seen before kept.
        ledger
            .observe(
                &view(72, vec![seen(StatusClass::Paid, None, None)], true),
                &exposed,
            )
            .unwrap();
        let o = obs(&ledger);
        assert_eq!(
            (o.status.as_str(), o.paid_at, o.settled_unpaid_at),
            ("paid", Some(at(72)), None)
        );
        assert_eq!(
            (o.amount.map(|a| a.to_string()), o.currency.as_str()),
            (Some("9.50".into()), "USD")
        );
        // An export that gives the paid time corrects it; a later "closed" does not unpay it.
        ledger
            .observe(
                &view(
                    96,
                    vec![seen(StatusClass::Paid, Some("9.50"), Some(60))],
                    true,
                ),
                &exposed,
            )
            .unwrap();
        ledger
            .observe(
                &view(
                    120,
                    vec![seen(StatusClass::Closed, Some("9.50"), None)],
                    true,
                ),
                &exposed,
            )
            .unwrap();
        let o = obs(&ledger);
        assert_eq!((o.status.as_str(), o.paid_at), ("paid", Some(at(60))));
        assert_eq!(o.last_seen_unpaid_at, Some(at(0)));
    }
}
