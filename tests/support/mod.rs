//! A fluent builder for running the real binary in a scratch folder, in the style of just's
//! test suite: files, config, arguments, a pinned clock, then the parsed outcome.

#![allow(dead_code)]

pub mod smtp;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// The instant most tests are evaluated at: 09:00 in Shanghai.
pub const NOW: &str = "2026-11-23T09:00:00+08:00";

/// A config for the generic layout: headers are the canonical field names.
pub const GENERIC_CONFIG: &str = r#"
[shop]
name = "Test Shop"
sender = "Test Shop <orders@shop.example>"
payment_help_url = "https://shop.example/pay"
currency = "USD"

[source]
timezone = "Asia/Shanghai"
"#;

/// The generic header every `rows` fixture below uses.
pub const GENERIC_HEADER: &str =
    "order_id,buyer_id,buyer_name,email,status,created_at,total,channel,product,close_at";

/// An export with a header and no order.
pub const NO_ROWS: &[&str] = &[];

pub struct Test {
    dir: tempfile::TempDir,
    args: Vec<String>,
    stdin: Option<Vec<u8>>,
    env: Vec<(String, String)>,
}

pub struct Outcome {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Test {
    pub fn new() -> Test {
        Test {
            dir: tempfile::tempdir().expect("tempdir"),
            args: Vec::new(),
            stdin: None,
            env: Vec::new(),
        }
    }

    /// The scratch folder.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// An environment variable for every run (the environment is otherwise empty).
    pub fn env(mut self, key: &str, value: &str) -> Test {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Starts the binary with `args` in the background (for kills and overlapping runs).
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("payremind"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(self.dir.path())
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd.spawn().expect("start payremind")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a file (text or bytes) into the scratch folder.
    pub fn file(self, name: &str, contents: impl AsRef<[u8]>) -> Test {
        let path = self.path(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, contents).expect("write fixture");
        self
    }

    /// Copies a committed fixture from tests/fixtures (bytes, untouched).
    pub fn fixture(self, name: &str) -> Test {
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        let bytes = std::fs::read(&source).expect("read fixture");
        self.file(name, bytes)
    }

    /// `payremind.toml` in the scratch folder (found without --config).
    pub fn config(self, text: &str) -> Test {
        self.file("payremind.toml", text)
    }

    /// `orders.csv` from a header and rows.
    pub fn orders(self, header: &str, rows: &[impl AsRef<str>]) -> Test {
        self.set_orders(header, rows);
        self
    }

    /// Writes orders.csv (again): the next export of the same shop.
    pub fn set_orders(&self, header: &str, rows: &[impl AsRef<str>]) {
        let mut text = format!("{header}\n");
        for row in rows {
            text.push_str(row.as_ref());
            text.push('\n');
        }
        std::fs::write(self.path("orders.csv"), text).expect("write orders.csv");
    }

    pub fn args(mut self, args: &[&str]) -> Test {
        self.args.extend(args.iter().map(|a| (*a).to_owned()));
        self
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Test {
        self.stdin = Some(bytes.into());
        self
    }

    /// Runs the binary with the arguments given so far.
    pub fn run(self) -> Outcome {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        self.exec(&args)
    }

    /// Runs the binary with `args`, a scrubbed environment, in the scratch folder; the test
    /// stays usable for another command in the same folder.
    pub fn exec(&self, args: &[&str]) -> Outcome {
        let mut cmd = Command::cargo_bin("payremind").expect("binary");
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(self.dir.path())
            .args(args);
        if let Some(stdin) = &self.stdin {
            cmd.write_stdin(stdin.clone());
        }
        let output = cmd.output().expect("run payremind");
        Outcome {
            status: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        }
    }

    /// `run --format json` on orders.csv at [`NOW`], parsed.
    /// Extra arguments given with [`Test::args`] come after these.
    pub fn decide(self) -> Decisions {
        self.decide_file("orders.csv")
    }

    /// [`Test::decide`] without giving up the test: a dry run of today's orders.csv.
    pub fn preview(&self) -> Decisions {
        Decisions::parse(&self.exec(&[
            "run",
            "--orders",
            "orders.csv",
            "--now",
            NOW,
            "--format",
            "json",
        ]))
    }

    /// [`Test::decide`] on another export in the scratch folder.
    pub fn decide_file(mut self, orders: &str) -> Decisions {
        let extra = std::mem::take(&mut self.args);
        let outcome = self
            .args(&["run", "--orders", orders, "--format", "json", "--now", NOW])
            .args(&extra.iter().map(String::as_str).collect::<Vec<_>>())
            .run();
        Decisions::parse(&outcome)
    }
}

/// Does what a seller does after `payremind init`: sets the shop's name, its own sender
/// address and time zone in the starter config at `path` (all are left commented out, so
/// nothing runs or sends until they are set), and the currency when the starter did not know it.
pub fn complete_starter(path: &Path, name: &str, zone: &str) {
    let written = std::fs::read_to_string(path).expect("the starter config");
    let edited = written
        .replacen("# name = \"My Shop\"", &format!("name = {name:?}"), 1)
        .replacen(
            "# sender = \"My Shop <orders@myshop.example>\"",
            &format!("sender = \"{name} <orders@shop.example>\""),
            1,
        )
        .replacen("# currency = \"USD\"", "currency = \"USD\"", 1)
        .replacen(
            "# timezone = \"Asia/Shanghai\"",
            &format!("timezone = {zone:?}"),
            1,
        );
    assert_ne!(
        edited, written,
        "the starter has the commented name and zone"
    );
    std::fs::write(path, edited).expect("write the config");
}

/// Writes the shop's bank details into a starter config in place of its commented example, as
/// a seller with bank-transfer orders does.
pub fn set_bank_details(path: &Path) {
    let written = std::fs::read_to_string(path).expect("the config");
    let start = written
        .find("# bank_details = ")
        .expect("the starter shows bank_details");
    let end = start + written[start..].find('\n').expect("a line");
    let edited = format!(
        "{}bank_details = \"Lotus Leaf AS, IBAN NO93 8601 1117 947\"{}",
        &written[..start],
        &written[end..]
    );
    std::fs::write(path, edited).expect("write the config");
}

impl Outcome {
    pub fn success(&self) -> &Self {
        assert_eq!(
            self.status, 0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn failure(&self, code: i32) -> &Self {
        assert_eq!(
            self.status, code,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn stderr_has(&self, text: &str) -> &Self {
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}:\n{}",
            self.stderr
        );
        self
    }

    pub fn stdout_has(&self, text: &str) -> &Self {
        assert!(
            self.stdout.contains(text),
            "stdout lacks {text:?}:\n{}",
            self.stdout
        );
        self
    }
}

/// The JSON Lines of a run: order objects by id, and the summary.
pub struct Decisions {
    pub orders: Vec<Value>,
    pub summary: Value,
    pub stderr: String,
}

impl Decisions {
    pub fn parse(outcome: &Outcome) -> Decisions {
        outcome.success();
        let mut values: Vec<Value> = outcome
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).expect("every stdout line is JSON"))
            .collect();
        let summary = values.pop().expect("a summary line");
        assert_eq!(summary["type"], "summary");
        assert!(values.iter().all(|v| v["type"] == "order"));
        Decisions {
            orders: values,
            summary,
            stderr: outcome.stderr.clone(),
        }
    }

    pub fn get(&self, order_id: &str) -> &Value {
        let mut found = self.orders.iter().filter(|o| o["order_id"] == order_id);
        let first = found
            .next()
            .unwrap_or_else(|| panic!("no entry for {order_id}"));
        assert!(found.next().is_none(), "{order_id} decided twice");
        first
    }

    /// `template` for reminders, `skip:<reason>` for skips.
    pub fn outcome(&self, order_id: &str) -> String {
        let o = self.get(order_id);
        match o["decision"].as_str() {
            Some("remind") => o["template"].as_str().expect("template").to_owned(),
            Some("skip") => format!("skip:{}", o["reason"].as_str().expect("reason")),
            other => panic!("bad decision {other:?}"),
        }
    }

    /// Every order's outcome, by id, for whole-file assertions.
    pub fn all(&self) -> BTreeMap<String, String> {
        self.orders
            .iter()
            .map(|o| {
                let id = o["order_id"].as_str().expect("order_id").to_owned();
                let outcome = self.outcome(&id);
                (id, outcome)
            })
            .collect()
    }
}
