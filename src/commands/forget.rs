//! `payremind forget`: the seller undoes what the ledger holds against an address (a bounce)
//! or an order (given up, refused, maybe sent), without editing the database. The attempts
//! stay in the ledger; a record says that they no longer count, and `history` shows it.
//! Forgetting what is forgotten already changes nothing and records nothing.

use crate::cli::ForgetArgs;
use crate::config::Settings;
use crate::error::Error;
use crate::ledger::{Adopt, Forget, Ledger};

/// Records what to forget; 0 when done.
///
/// # Errors
/// The config or the ledger cannot be read or written, or the ledger holds nothing to forget.
pub fn forget(args: &ForgetArgs) -> Result<u8, Error> {
    let settings = Settings::from_args(args.config.as_deref(), true)?;
    if let Some(since) = &args.bounces_since {
        return forget_bounces_since(&settings, since);
    }
    let what = match (&args.bounce, &args.order) {
        (Some(address), _) => Forget::Bounce(address),
        (None, Some(order)) => Forget::Order(order),
        (None, None) => {
            return Err(Error::NothingToForget {
                what: "nothing was named".into(),
            });
        }
    };
    let nothing = || Error::NothingToForget {
        what: match what {
            Forget::Bounce(address) => format!("no bounce of {address:?} is recorded"),
            Forget::Order(order) => format!("no reminder of order {order:?} is recorded"),
        },
    };
    // Nothing is made where there is no ledger yet.
    if Ledger::open_read_only(&settings.ledger_path, Adopt::Compare)?.is_none() {
        return Err(nothing());
    }
    // A sending run's lock: it is not deciding meanwhile.
    let mut ledger = Ledger::open_for_send(&settings.ledger_path, true, Adopt::Compare)?;
    let forgot = ledger.forget(what, crate::clock::wall_clock())?;
    if forgot.recorded == 0 {
        return Err(nothing());
    }
    let covered = forgot.covered;
    let already = if covered == 0 {
        " (forgotten already: nothing changed)"
    } else {
        ""
    };
    let done = match what {
        Forget::Bounce(address) => format!(
            "forgot {covered} bounce(s) of {address}{already}: reminders may go to it again from the next run\n"
        ),
        Forget::Order(order) => format!(
            "forgot {covered} earlier attempt(s) for order {order}{already}: it is decided afresh from the next run\n"
        ),
    };
    super::print_stdout(&done)?;
    Ok(0)
}

/// `forget --bounces-since TIME`: every address bounced since then may be written to again.
fn forget_bounces_since(settings: &Settings, since: &str) -> Result<u8, Error> {
    let since = crate::clock::evaluation_instant(Some(since))?;
    if Ledger::open_read_only(&settings.ledger_path, Adopt::Compare)?.is_none() {
        return Err(Error::NothingToForget {
            what: "no bounce is recorded".into(),
        });
    }
    let mut ledger = Ledger::open_for_send(&settings.ledger_path, true, Adopt::Compare)?;
    let at = crate::clock::wall_clock();
    let addresses = ledger.bounced_since(since)?;
    let mut out = String::new();
    for address in &addresses {
        let forgot = ledger.forget(Forget::Bounce(address), at)?;
        out.push_str(&format!(
            "forgot {} bounce(s) of {address}\n",
            forgot.covered
        ));
    }
    out.push_str(&format!(
        "forgot the bounces of {} address(es) since {}: reminders may go to them again from the next run\n",
        addresses.len(),
        since.to_rfc3339()
    ));
    super::print_stdout(&out)?;
    Ok(0)
}
