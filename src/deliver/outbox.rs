//! The `outbox` transport: each message is written as an `.eml` file into a folder, for review
//! or for another tool to pick up. Needs no mail server.

use std::path::{Path, PathBuf};

use super::mail::Mail;
use super::{BoxFuture, Delivered, HandOver, Transport};

/// Writes every message into one folder.
pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    /// Messages go into `dir` (made when missing).
    #[must_use]
    pub fn new(dir: PathBuf) -> Outbox {
        Outbox { dir }
    }
}

impl Transport for Outbox {
    fn deliver<'a>(
        &'a mut self,
        mail: &'a Mail,
        mut hand_over: HandOver<'a>,
    ) -> BoxFuture<'a, Delivered> {
        Box::pin(async move {
            if !hand_over.recorded().await {
                return Delivered::unrecorded();
            }
            write(&self.dir, mail)
        })
    }
}

/// Writes the message into `dir` as `<Message-ID>.eml`, atomically (a temporary file renamed),
/// so a reader never sees half a message. Writing the same step again replaces nothing.
fn write(dir: &Path, mail: &Mail) -> Delivered {
    let name: String = mail
        .message_id
        .trim_matches(|c| c == '<' || c == '>')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '=' | '@') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let path = dir.join(format!("{name}.eml"));
    if path.exists() {
        return Delivered::Sent(format!("already in the outbox: {}", path.display()));
    }
    let tmp = dir.join(format!(".{name}.tmp"));
    let result = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&tmp, &mail.bytes))
        .and_then(|()| std::fs::rename(&tmp, &path));
    match result {
        Ok(()) => Delivered::Sent(format!("written to {}", path.display())),
        Err(e) => Delivered::Failed(format!("cannot write {}: {e}", path.display())),
    }
}
