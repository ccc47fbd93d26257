//! What the message itself carries beside the words: `[dkim]` (the signature), `[headers]`
//! (the seller's fixed extra headers) and `[shop] unsubscribe_mailto`, `unsubscribe_url`,
//! `unsubscribe_secret_env` (the way out every reminder offers).
//!
//! The DKIM key is read here, so a key that does not load stops `check`, a dry run and
//! `--send` alike (exit 2, naming `[dkim].key_file`). The unsubscribe secret is read here too
//! when the URL asks for a token: every run shows the link (the opt-out line is part of the
//! message), so every run needs it. Only its HMAC key is kept; the secret is never printed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine as _;
use serde::Deserialize;

use super::Bad;
use crate::deliver::dkim::{Algorithm, Signer};
use crate::error::Error;

/// `[dkim]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DkimConfig {
    /// The signing domain (`d=`): the From address's domain, or a parent of it.
    pub domain: Option<String>,
    /// The selector (`s=`): the name the public key is published under.
    pub selector: Option<String>,
    /// The private key, PEM (PKCS#1 or PKCS#8 for RSA, PKCS#8 for Ed25519).
    pub key_file: Option<PathBuf>,
    /// `rsa-sha256` (default) or `ed25519-sha256`.
    pub algorithm: Option<String>,
}

/// What the message carries beside the words, resolved.
#[derive(Debug, Clone, Default)]
pub struct MailSettings {
    /// The DKIM signer, when `[dkim]` is set.
    pub dkim: Option<Arc<Signer>>,
    /// `[headers]`: name and value, in name order.
    pub headers: Vec<(String, String)>,
}

/// The way out every reminder offers (`List-Unsubscribe`, the opt-out line).
#[derive(Debug, Clone, Default)]
pub struct Unsubscribe {
    /// The address that takes "unsubscribe" mails (`[shop] unsubscribe_mailto`, else the
    /// Reply-To, else the sender); empty when none of them is an address yet.
    pub mailto: String,
    /// `[shop] unsubscribe_url` as written (https; may hold `{token}`); empty when unset.
    pub url: String,
    /// The HMAC key the token is made with (from `[shop] unsubscribe_secret_env`).
    key: Option<ring::hmac::Key>,
}

impl Unsubscribe {
    /// The link for `address`: `{token}` filled in; empty when no URL is set.
    #[must_use]
    pub fn url_for(&self, address: &str) -> String {
        match &self.key {
            Some(key) if self.url.contains("{token}") => {
                self.url.replace("{token}", &token(key, address))
            }
            _ => self.url.clone(),
        }
    }

    /// The `List-Unsubscribe` value for `address`: the mailto, then the https link when set.
    #[must_use]
    pub fn header(&self, address: &str) -> String {
        let mut value = format!("<mailto:{}?subject=unsubscribe>", self.mailto);
        let url = self.url_for(address);
        if !url.is_empty() {
            value.push_str(", <");
            value.push_str(&url);
            value.push('>');
        }
        value
    }
}

/// The per-recipient token: HMAC-SHA256 of the address trimmed and in lower case, base64url
/// without padding (43 characters).
fn token(key: &ring::hmac::Key, address: &str) -> String {
    let normalized = address.trim().to_lowercase();
    let tag = ring::hmac::sign(key, normalized.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref())
}

/// `[shop] unsubscribe_*`, resolved against the sender and Reply-To.
pub(super) fn unsubscribe(
    mailto: Option<&str>,
    url: Option<&str>,
    secret_env: Option<&str>,
    reply_to: &str,
    sender: &str,
    bad: Bad<'_>,
) -> Result<Unsubscribe, Error> {
    let address_of = |text: &str| {
        text.parse::<lettre::message::Mailbox>()
            .ok()
            .map(|m| m.email.to_string())
    };
    let mailto = match mailto.map(str::trim).filter(|m| !m.is_empty()) {
        Some(text) => text
            .parse::<lettre::Address>()
            .map(|a| a.to_string())
            .map_err(|_| {
                bad(
                    "[shop].unsubscribe_mailto",
                    format!(
                        "{text:?} is not an e-mail address; write the bare address that takes \"unsubscribe\" mails, like \"unsubscribe@myshop.example\""
                    ),
                )
            })?,
        None => address_of(reply_to)
            .or_else(|| address_of(sender))
            .unwrap_or_default(),
    };
    let url = url.map(str::trim).unwrap_or_default().to_owned();
    if !url.is_empty() {
        let host = url
            .strip_prefix("https://")
            .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or_default());
        let fine = host.is_some_and(|h| !h.is_empty())
            && url
                .chars()
                .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | ',' | '"'));
        if !fine {
            return Err(bad(
                "[shop].unsubscribe_url",
                format!(
                    "{url:?} is not an https link; write the full address of your unsubscribe page, like \"https://myshop.example/unsubscribe?t={{token}}\" (one-click unsubscribe needs https)"
                ),
            ));
        }
    }
    let key = if url.contains("{token}") {
        let Some(env) = secret_env.map(str::trim).filter(|e| !e.is_empty()) else {
            return Err(bad(
                "[shop].unsubscribe_secret_env",
                "is not set, but [shop].unsubscribe_url has {token}; name the environment variable that holds the secret the token is made with, like \"PAYREMIND_UNSUBSCRIBE_SECRET\"".into(),
            ));
        };
        let secret = std::env::var(env).unwrap_or_default();
        if secret.trim().is_empty() {
            return Err(bad(
                "[shop].unsubscribe_secret_env",
                format!(
                    "names the environment variable {env}, which is not set or empty; set it to the secret your unsubscribe page checks the token with (the same in every run)"
                ),
            ));
        }
        Some(ring::hmac::Key::new(
            ring::hmac::HMAC_SHA256,
            secret.trim().as_bytes(),
        ))
    } else {
        None
    };
    Ok(Unsubscribe { mailto, url, key })
}

/// The headers payremind writes itself: `[headers]` may not set them.
const OWN: &[&str] = &[
    "from",
    "to",
    "cc",
    "bcc",
    "subject",
    "date",
    "message-id",
    "reply-to",
    "sender",
    "mime-version",
    "user-agent",
    "dkim-signature",
    "in-reply-to",
    "references",
    "return-path",
    "received",
];

/// `[headers]`, checked: names of printable ASCII without `:` (RFC 5322 ftext), not one
/// payremind writes, values on one line.
pub(super) fn headers(
    table: &BTreeMap<String, String>,
    bad: Bad<'_>,
) -> Result<Vec<(String, String)>, Error> {
    let mut out = Vec::new();
    for (name, value) in table {
        let setting = format!("[headers].{name}");
        if name.is_empty() || !name.bytes().all(|b| (33..=126).contains(&b) && b != b':') {
            return Err(bad(
                &setting,
                "is not a header name: use letters, digits and dashes, like \"X-Shop-Id\"".into(),
            ));
        }
        let lower = name.to_ascii_lowercase();
        if OWN.contains(&lower.as_str())
            || lower.starts_with("list-")
            || lower.starts_with("content-")
        {
            return Err(bad(
                &setting,
                "is a header payremind writes itself (From, To, Subject, Date, Message-ID, MIME, Content-*, List-*); remove it from [headers] (the [shop] and [dkim] settings shape those)".into(),
            ));
        }
        if value.chars().any(char::is_control) {
            return Err(bad(
                &setting,
                "holds a line break or a control character; a header value is one line".into(),
            ));
        }
        if value.trim().is_empty() {
            return Err(bad(
                &setting,
                "is empty; give it a value or remove it".into(),
            ));
        }
        out.push((name.clone(), value.trim().to_owned()));
    }
    Ok(out)
}

/// `[dkim]`, with its key loaded, checked against the sender's domain.
pub(super) fn dkim(
    config: Option<&DkimConfig>,
    sender: &str,
    beside: &dyn Fn(PathBuf) -> PathBuf,
    bad: Bad<'_>,
) -> Result<Option<Arc<Signer>>, Error> {
    let Some(config) = config else {
        return Ok(None);
    };
    let name_like = |text: &str| {
        !text.is_empty()
            && text.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
            })
    };
    let domain = config
        .domain
        .as_deref()
        .map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase())
        .unwrap_or_default();
    if !name_like(&domain) {
        return Err(bad(
            "[dkim].domain",
            format!(
                "{domain:?} is not a domain name; write the domain of your From address, like \"myshop.example\""
            ),
        ));
    }
    let selector = config.selector.as_deref().unwrap_or_default().trim();
    if !name_like(selector) {
        return Err(bad(
            "[dkim].selector",
            format!(
                "{selector:?} is not a selector; write the name the key is published under, like \"payremind1\""
            ),
        ));
    }
    if let Ok(from) = sender.parse::<lettre::message::Mailbox>() {
        let from = from.email.domain().to_ascii_lowercase();
        let aligned = from == domain || from.ends_with(&format!(".{domain}"));
        if !aligned {
            return Err(bad(
                "[dkim].domain",
                format!(
                    "is {domain:?} but [shop].sender sends from {from:?}: receivers (DMARC) accept a signature only for the From domain or a parent of it; set domain = \"{from}\""
                ),
            ));
        }
    }
    let algorithm = match config.algorithm.as_deref().map(str::trim) {
        None | Some("rsa-sha256") => Algorithm::RsaSha256,
        Some("ed25519-sha256") => Algorithm::Ed25519Sha256,
        Some(other) => {
            return Err(bad(
                "[dkim].algorithm",
                format!("{other:?} is not \"rsa-sha256\" or \"ed25519-sha256\""),
            ));
        }
    };
    let Some(file) = config.key_file.clone() else {
        return Err(bad(
            "[dkim].key_file",
            "is missing; name the private key file, like \"dkim.pem\" (make one with `openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:2048 -out dkim.pem`)".into(),
        ));
    };
    let file = beside(file);
    let pem = std::fs::read_to_string(&file).map_err(|e| {
        bad(
            "[dkim].key_file",
            format!("{} cannot be read: {e}", file.display()),
        )
    })?;
    let signer = Signer::from_pem(&pem, algorithm, &domain, selector)
        .map_err(|why| bad("[dkim].key_file", format!("{} {why}", file.display())))?;
    Ok(Some(Arc::new(signer)))
}

/// Free-mail domains: mail From them, relayed through another provider's server, fails
/// DMARC at the receiver (the provider publishes `p=reject` or `p=quarantine`).
const FREE_MAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "qq.com",
    "foxmail.com",
    "163.com",
    "126.com",
    "yeah.net",
    "sina.com",
    "sohu.com",
    "aliyun.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "ymail.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "mail.ru",
    "bk.ru",
    "inbox.ru",
    "list.ru",
    "yandex.ru",
    "yandex.com",
    "web.de",
    "t-online.de",
    "proton.me",
    "protonmail.com",
    "zoho.com",
    "naver.com",
    "daum.net",
];

/// Whether `domain` is a free-mail provider's (`gmx.*`, `yahoo.*`, `hotmail.*` in any
/// country included).
#[must_use]
pub fn free_mail(domain: &str) -> bool {
    let domain = domain.trim().to_ascii_lowercase();
    FREE_MAIL.contains(&domain.as_str())
        || ["gmx.", "yahoo.", "hotmail."].iter().any(|p| {
            // The provider's country domains: gmx.net, gmx.de, yahoo.co.uk, hotmail.fr.
            domain.strip_prefix(p).is_some_and(|rest| {
                rest.split('.').count() <= 2 && rest.split('.').all(|l| (2..=3).contains(&l.len()))
            })
        })
}

/// Whether a relay host belongs to the free-mail provider of `domain` (then DMARC passes:
/// the provider signs its own users' mail).
#[must_use]
pub fn relay_is_provider(domain: &str, host: &str) -> bool {
    let host = host.trim().to_ascii_lowercase();
    let domain = domain.trim().to_ascii_lowercase();
    let family: &[&str] = match domain.as_str() {
        "gmail.com" | "googlemail.com" => &["gmail.com", "google.com", "googlemail.com"],
        "qq.com" | "foxmail.com" => &["qq.com", "exmail.qq.com"],
        "163.com" | "126.com" | "yeah.net" => &["163.com", "126.com", "yeah.net"],
        "outlook.com" | "hotmail.com" | "live.com" | "msn.com" => {
            &["outlook.com", "office365.com", "hotmail.com", "live.com"]
        }
        "icloud.com" | "me.com" | "mac.com" => &["icloud.com", "me.com", "mac.com"],
        "mail.ru" | "bk.ru" | "inbox.ru" | "list.ru" => &["mail.ru"],
        "yandex.ru" | "yandex.com" => &["yandex.ru", "yandex.com", "yandex.net"],
        _ => &[],
    };
    let base = domain.split('.').next().unwrap_or_default();
    family
        .iter()
        .any(|f| host == *f || host.ends_with(&format!(".{f}")))
        || (!base.is_empty() && host.split('.').any(|label| label == base))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_mail_domains_are_known() {
        assert!(free_mail("gmail.com"));
        assert!(free_mail("GMX.de"));
        assert!(free_mail("yahoo.co.uk"));
        assert!(free_mail("qq.com"));
        assert!(!free_mail("lotusleaf.example"));
        assert!(!free_mail("yahoo.example"));
        assert!(free_mail("gmx.net"));
        assert!(relay_is_provider("gmail.com", "smtp.gmail.com"));
        assert!(relay_is_provider("qq.com", "smtp.qq.com"));
        assert!(relay_is_provider("gmx.de", "mail.gmx.net"));
        assert!(!relay_is_provider("gmail.com", "smtp.sendgrid.net"));
    }

    #[test]
    fn the_way_out_is_a_mail_and_the_page_when_there_is_one() {
        let bad = |setting: &str, message: String| Error::Setting {
            path: "p".into(),
            setting: setting.into(),
            message,
        };
        let plain = unsubscribe(None, None, None, "", "Shop <orders@shop.example>", &bad).unwrap();
        assert_eq!(
            plain.header("a@example.com"),
            "<mailto:orders@shop.example?subject=unsubscribe>"
        );
        assert_eq!(plain.url_for("a@example.com"), "");
        let fixed = unsubscribe(
            None,
            Some("https://shop.example/u"),
            None,
            "Help <help@shop.example>",
            "Shop <orders@shop.example>",
            &bad,
        )
        .unwrap();
        assert_eq!(
            fixed.header("a@example.com"),
            "<mailto:help@shop.example?subject=unsubscribe>, <https://shop.example/u>"
        );
        for url in [
            "http://shop.example/u",
            "https://",
            "https://shop.example/a b",
            "ftp://x",
        ] {
            assert!(
                unsubscribe(None, Some(url), None, "", "", &bad).is_err(),
                "{url}"
            );
        }
    }

    #[test]
    fn tokens_are_hmacs_of_the_lower_cased_address() {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"secret");
        assert_eq!(
            token(&key, " Fang@Example.CN "),
            token(&key, "fang@example.cn")
        );
        assert_ne!(token(&key, "a@example.cn"), token(&key, "b@example.cn"));
        assert_eq!(token(&key, "a@example.cn").len(), 43);
    }
}
