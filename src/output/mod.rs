//! The run's entries leave as text: every order's [`Entry`] in export order, then the
//! closing [`Summary`], handed to a [`Sink`]. One module per format.
//!
//! | sink | for | stdout | stderr |
//! | --- | --- | --- | --- |
//! | [`text::Text`] | the preview a seller reads | each reminder as a block | summary, skips, bad rows |
//! | [`json::JsonLines`] | scripts | one object per order, then the summary | nothing |
//!
//! Sending is [`crate::deliver`]'s; a sending run hands its entries here afterwards, each with
//! what became of its message.

pub mod json;
pub mod text;

use std::io;

use crate::report::{Entry, Summary};

/// Where decided entries go.
pub trait Sink {
    /// Takes one order's entry (a reminder or a skip), in export order.
    ///
    /// # Errors
    /// The output cannot be written.
    fn order(&mut self, entry: &Entry<'_>) -> io::Result<()>;

    /// Takes the closing tally, after the last entry.
    ///
    /// # Errors
    /// The output cannot be written.
    fn finish(&mut self, summary: &Summary) -> io::Result<()>;
}
