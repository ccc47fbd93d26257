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
    let name = short(&name);
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

/// How long a file name may be before its tail is replaced by a hash: file systems take 255
/// bytes at most, and a long order id in Chinese is three times longer once made safe.
const MAX_NAME: usize = 200;

/// The name, or when too long its start and a hash of the whole (the same name for the same
/// message on every run, so a retry still finds it).
fn short(name: &str) -> String {
    if name.len() <= MAX_NAME {
        return name.to_owned();
    }
    // FNV-1a, twice with different offsets: stable across Rust versions, unlike std's hasher.
    let fnv = |offset: u64| {
        name.bytes().fold(offset, |hash, b| {
            (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    let mut end = MAX_NAME - 34;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}-{:016x}{:016x}",
        &name[..end],
        fnv(0xcbf2_9ce4_8422_2325),
        fnv(0x6c62_272e_07bb_0142)
    )
}

#[cfg(test)]
mod tests {
    use super::short;

    #[test]
    fn long_names_keep_their_start_and_a_hash_of_the_whole() {
        assert_eq!(
            short("payremind.1.gentle@shop.example"),
            "payremind.1.gentle@shop.example"
        );
        let a = format!("payremind.{}.gentle@shop.example", "=E8=AE=A2".repeat(100));
        let b = format!("payremind.{}.popular@shop.example", "=E8=AE=A2".repeat(100));
        assert!(short(&a).len() <= 200);
        assert_ne!(short(&a), short(&b));
        assert_eq!(short(&a), short(&a.clone()));
    }
}
