//! `payremind history`: what the ledger says was sent, when, and with what outcome; and when
//! and how an address was put on (or taken off) the suppression list.

use std::fmt::Write as _;

use crate::cli::{HistoryArgs, HistoryFormat};
use crate::config::Settings;
use crate::error::Error;
use crate::ledger::Ledger;

/// Prints the ledger's attempts, optionally for one order or buyer.
///
/// # Errors
/// The config or the ledger cannot be read.
pub fn history(args: &HistoryArgs) -> Result<u8, Error> {
    let settings = Settings::from_args(args.config.as_deref(), true)?;
    let mut attempts =
        match Ledger::open_read_only(&settings.ledger_path, crate::ledger::Adopt::Inspect)? {
            Some(ledger) => ledger.history(args.order.as_deref(), args.buyer.as_deref())?,
            None => Vec::new(),
        };
    // An intent without an outcome outside a running send: the run was killed, maybe sent.
    for attempt in &mut attempts {
        if attempt.status == crate::ledger::Status::Intent {
            attempt.status = crate::ledger::Status::Unknown;
        }
    }
    let mut out = String::new();
    match args.format {
        HistoryFormat::Json => {
            for attempt in &attempts {
                let line = serde_json::to_string(attempt).map_err(|e| Error::Output(e.into()))?;
                out.push_str(&line);
                out.push('\n');
            }
        }
        HistoryFormat::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            for attempt in &attempts {
                writer
                    .serialize(attempt)
                    .map_err(|e| Error::Output(std::io::Error::other(e.to_string())))?;
            }
            let bytes = writer
                .into_inner()
                .map_err(|e| Error::Output(std::io::Error::other(e.to_string())))?;
            out = String::from_utf8_lossy(&bytes).into_owned();
            if attempts.is_empty() {
                out = "order_id,buyer_id,template,message_id,to,status,attempted_at,evaluated_at,server_reply\n".into();
            }
        }
        HistoryFormat::Text => {
            if attempts.is_empty() {
                out.push_str("no reminders recorded yet\n");
            }
            for a in &attempts {
                // Not an attempt: a sending run that `--force` took past the guard.
                if a.status == crate::ledger::Status::Forced {
                    writeln!(
                        out,
                        "{}  forced: {}  [evaluated at {}]",
                        a.attempted_at, a.server_reply, a.evaluated_at
                    )
                    .ok();
                    continue;
                }
                // Not an attempt: a change of the suppression list, and how it came.
                if matches!(
                    a.status,
                    crate::ledger::Status::Suppressed | crate::ledger::Status::Unsuppressed
                ) {
                    let what = if a.status == crate::ledger::Status::Suppressed {
                        "suppressed, no more reminders"
                    } else {
                        "taken off the suppression list"
                    };
                    writeln!(
                        out,
                        "{}  {}  {what} ({})",
                        a.attempted_at, a.to, a.server_reply
                    )
                    .ok();
                    continue;
                }
                writeln!(
                    out,
                    "{}  order {} (buyer {})  {}  to {}  {}: {}  [{}, evaluated at {}]",
                    a.attempted_at,
                    a.order_id,
                    a.buyer_id,
                    a.template,
                    a.to,
                    a.status.as_str(),
                    a.server_reply,
                    a.message_id,
                    a.evaluated_at
                )
                .ok();
            }
        }
    }
    super::print_stdout(&out)?;
    Ok(0)
}
