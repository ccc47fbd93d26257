//! Fifth stage: decided entries leave the program. An [`Outbox`] receives every entry in export
//! order and the closing summary; each transport is one module.
//!
//! | outbox | what it does | stdout | stderr |
//! | --- | --- | --- | --- |
//! | [`print::Text`] | the preview a seller reads | each reminder as a block | summary, skips, bad rows |
//! | [`json::JsonLines`] | for scripts | one object per order, then the summary | nothing |

pub mod json;
pub mod print;

use std::io;

use crate::report::{Entry, Summary};

/// Where decided entries go.
pub trait Outbox {
    /// Takes one order's entry (a reminder or a skip), in export order.
    ///
    /// # Errors
    /// The output cannot be written.
    fn order(&mut self, entry: &Entry) -> io::Result<()>;

    /// Takes the closing tally, after the last entry.
    ///
    /// # Errors
    /// The output cannot be written.
    fn finish(&mut self, summary: &Summary) -> io::Result<()>;
}
