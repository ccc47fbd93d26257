//! `[delivery]` and `[smtp]`: how `--send` hands messages over. Holds no secret: the SMTP
//! password is only located here, and read when sending.

use std::path::PathBuf;

use serde::Deserialize;

use super::Bad;
use crate::error::Error;
use crate::units::{parse_duration, parse_rate};

/// `[delivery]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryConfig {
    /// `smtp` (default), `sendmail` or `outbox`.
    pub via: Option<String>,
    /// The sendmail program (default `/usr/sbin/sendmail`).
    pub sendmail: Option<PathBuf>,
    /// How long the sendmail program may take for one message (default `2m`).
    pub sendmail_timeout: Option<String>,
    /// The folder `outbox` writes `.eml` files into (default `outbox`, beside the config).
    pub outbox: Option<PathBuf>,
}

/// `[smtp]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Server name or address.
    pub host: Option<String>,
    /// Port (default 587; 465 is usual for `tls`).
    pub port: Option<u16>,
    /// `starttls` (default), `tls` (implicit) or `none`.
    pub security: Option<String>,
    /// Login; absent = no AUTH.
    pub username: Option<String>,
    /// The environment variable holding the password (default `PAYREMIND_SMTP_PASSWORD`).
    pub password_env: Option<String>,
    /// Or a file holding the password.
    pub password_file: Option<PathBuf>,
    /// A certificate (PEM) to trust besides the usual ones (a self-signed relay).
    pub ca_file: Option<PathBuf>,
    /// How long to wait for the server (default 30s).
    pub timeout: Option<String>,
    /// Connections used in parallel (default 4).
    pub max_connections: Option<usize>,
    /// `20/s`, `600/min` or `none` (default `none`).
    pub rate_limit: Option<String>,
    /// Allow a password over an unencrypted connection (default false).
    pub allow_insecure_auth: Option<bool>,
    /// Tries per message for failures that may pass (default 3).
    pub attempts: Option<u32>,
    /// The wait before the first retry, doubled each time (default 2s).
    pub retry_delay: Option<String>,
    /// The name payremind gives in EHLO (default: this machine's fully qualified name).
    pub helo_name: Option<String>,
}

/// How `--send` hands messages over.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// To an SMTP server.
    Smtp(Smtp),
    /// To the local MTA's sendmail program.
    Sendmail(Sendmail),
    /// As `.eml` files into a folder.
    Outbox(PathBuf),
}

/// `[delivery]` for `via = "sendmail"`.
#[derive(Debug, Clone)]
pub struct Sendmail {
    /// The program (`/usr/sbin/sendmail` unless set).
    pub program: PathBuf,
    /// How long it may take for one message before it is stopped: a relaying sendmail (msmtp)
    /// waits on its server, and a cron run must not hang on it (the next run would find the
    /// ledger locked).
    pub timeout: std::time::Duration,
}

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain connection upgraded with STARTTLS (refused if the server cannot).
    StartTls,
    /// TLS from the first byte (usually port 465).
    Tls,
    /// No encryption (a relay on the same machine).
    None,
}

/// Where the SMTP password comes from; the password itself is read only when sending.
#[derive(Debug, Clone)]
pub enum PasswordSource {
    /// An environment variable.
    Env(String),
    /// A file (first line).
    File(PathBuf),
}

/// `[smtp]`, resolved. Holds no secret: the password is read when sending.
#[derive(Debug, Clone)]
pub struct Smtp {
    /// Server name or address (also the name its certificate must carry).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Encryption.
    pub security: Security,
    /// Login, if AUTH is used.
    pub username: Option<String>,
    /// Where the password is.
    pub password: PasswordSource,
    /// An extra trusted certificate.
    pub ca_file: Option<PathBuf>,
    /// How long to wait for the server.
    pub timeout: std::time::Duration,
    /// Connections in parallel.
    pub max_connections: usize,
    /// Messages per second at most.
    pub rate_limit: Option<f64>,
    /// Tries per message for failures that may pass.
    pub attempts: u32,
    /// First wait before a retry.
    pub retry_delay: std::time::Duration,
    /// `[smtp] helo_name`; `None`: the machine's fully qualified name (`deliver::smtp`).
    pub helo_name: Option<String>,
}

pub(super) fn resolve(
    delivery: &DeliveryConfig,
    smtp: &SmtpConfig,
    beside: &dyn Fn(PathBuf) -> PathBuf,
    bad: Bad<'_>,
) -> Result<Delivery, Error> {
    match delivery.via.as_deref().map(str::trim).unwrap_or("smtp") {
        "smtp" => resolve_smtp(smtp, beside, bad).map(Delivery::Smtp),
        "sendmail" => Ok(Delivery::Sendmail(Sendmail {
            program: delivery
                .sendmail
                .clone()
                .unwrap_or_else(|| PathBuf::from("/usr/sbin/sendmail")),
            timeout: parse_duration(delivery.sendmail_timeout.as_deref().unwrap_or("2m"))
                .and_then(|d| match d.to_std() {
                    Ok(d) if !d.is_zero() => Ok(d),
                    _ => Err("must be more than zero, like \"2m\"".to_owned()),
                })
                .map_err(|m| bad("[delivery].sendmail_timeout", m))?,
        })),
        "outbox" => Ok(Delivery::Outbox(beside(
            delivery
                .outbox
                .clone()
                .unwrap_or_else(|| PathBuf::from("outbox")),
        ))),
        other => Err(bad(
            "[delivery].via",
            format!("{other:?} is not a way to send; use \"smtp\", \"sendmail\" or \"outbox\""),
        )),
    }
}

fn resolve_smtp(
    smtp: &SmtpConfig,
    beside: &dyn Fn(PathBuf) -> PathBuf,
    bad: Bad<'_>,
) -> Result<Smtp, Error> {
    let security = match smtp
        .security
        .as_deref()
        .map(str::trim)
        .unwrap_or("starttls")
    {
        "starttls" => Security::StartTls,
        "tls" => Security::Tls,
        "none" => Security::None,
        other => {
            return Err(bad(
                "[smtp].security",
                format!(
                    "{other:?} is not one of \"starttls\", \"tls\" (implicit, usually port 465) or \"none\""
                ),
            ));
        }
    };
    let username = smtp
        .username
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned);
    if security == Security::None
        && username.is_some()
        && !smtp.allow_insecure_auth.unwrap_or(false)
    {
        return Err(bad(
            "[smtp].security",
            "is \"none\" but a username is set: the password would cross the network unencrypted. Use \"starttls\" or \"tls\", or set allow_insecure_auth = true for a relay on this machine".into(),
        ));
    }
    let password = match (&smtp.password_file, &smtp.password_env) {
        (Some(_), Some(_)) => {
            return Err(bad(
                "[smtp].password_file",
                "and password_env are both set; keep one".into(),
            ));
        }
        (Some(file), None) => PasswordSource::File(beside(file.clone())),
        (None, env) => PasswordSource::Env(
            env.clone()
                .unwrap_or_else(|| "PAYREMIND_SMTP_PASSWORD".to_owned()),
        ),
    };
    let duration = |key: &str, value: Option<&str>, default: &str| {
        parse_duration(value.unwrap_or(default))
            .map_err(|m| bad(&format!("[smtp].{key}"), m))
            .and_then(|d| {
                d.to_std()
                    .map_err(|_| bad(&format!("[smtp].{key}"), "must not be negative".into()))
            })
    };
    let rate_limit = match smtp.rate_limit.as_deref().map(str::trim) {
        None | Some("none") => None,
        Some(text) => Some(parse_rate(text).map_err(|m| bad("[smtp].rate_limit", m))?),
    };
    let max_connections = smtp.max_connections.unwrap_or(4);
    if max_connections == 0 || max_connections > 64 {
        return Err(bad(
            "[smtp].max_connections",
            format!("{max_connections} is not between 1 and 64"),
        ));
    }
    Ok(Smtp {
        host: smtp.host.clone().unwrap_or_default().trim().to_owned(),
        port: smtp
            .port
            .unwrap_or(if security == Security::Tls { 465 } else { 587 }),
        security,
        username,
        password,
        ca_file: smtp.ca_file.clone().map(beside),
        timeout: match duration("timeout", smtp.timeout.as_deref(), "30s")? {
            zero if zero.is_zero() => {
                return Err(bad(
                    "[smtp].timeout",
                    "must be more than zero (every wait would fail at once), like \"30s\"".into(),
                ));
            }
            timeout => timeout,
        },
        max_connections,
        rate_limit,
        attempts: smtp.attempts.unwrap_or(3).max(1),
        retry_delay: duration("retry_delay", smtp.retry_delay.as_deref(), "2s")?,
        helo_name: match smtp.helo_name.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(name)
                if name.split('.').all(|l| {
                    !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                }) || (name.starts_with('[') && name.ends_with(']')) =>
            {
                Some(name.to_owned())
            }
            Some(name) => {
                return Err(bad(
                    "[smtp].helo_name",
                    format!(
                        "{name:?} is not a host name; write this machine's name as the world knows it, like \"mail.myshop.example\""
                    ),
                ));
            }
        },
    })
}
