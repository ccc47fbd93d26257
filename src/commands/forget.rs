//! `payremind forget`: the seller undoes what the ledger holds against an address (a bounce)
//! or an order (given up, refused, maybe sent), without editing the database. The attempts
//! stay in the ledger; a record says that they no longer count, and `history` shows it.

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
    let covered = ledger.forget(what, crate::clock::wall_clock())?;
    if covered == 0 {
        return Err(nothing());
    }
    let done = match what {
        Forget::Bounce(address) => format!(
            "forgot {covered} bounce(s) of {address}: reminders may go to it again from the next run\n"
        ),
        Forget::Order(order) => format!(
            "forgot {covered} earlier attempt(s) for order {order}: it is decided afresh from the next run\n"
        ),
    };
    super::print_stdout(&done)?;
    Ok(0)
}
