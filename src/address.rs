//! Beside the stages: what an address a reminder may go to is, decided once, the same way for
//! the preview, `check` and `--send` (an address the preview accepts and the transport refuses
//! would stop a send, or be refused at every run). A leaf: it imports nothing of the crate.
//!
//! The rules are those every transport (an SMTP server, sendmail, a reader of the outbox) can
//! take without SMTPUTF8, which payremind does not use:
//!
//! | address | verdict |
//! | --- | --- |
//! | `anna@shop.example`, `a.b+tag@mail.example` | usable |
//! | `anna@bücher.example` | usable, as `anna@xn--bcher-kva.example` (IDNA) |
//! | `j***@mail.com` | masked by the marketplace |
//! | `"m b"@x.example` | a quoted local part |
//! | `jürgen@x.example` | a non-ASCII local part (needs SMTPUTF8) |
//! | `a@[1.2.3.4]` | an IP address, not a domain |
//! | `root@localhost` | a domain without a dot: not on the Internet |
//!
//! A cell may hold more than the address: a display name (`"Ann Q" <annq@example.com>`,
//! `Ann <ann@x.com>`), angle brackets alone (`<ann@example.com>`), a `mailto:` link. It is read
//! as a mailbox first (lettre's parser, then the part in angle brackets) and the address in it
//! judged by the rules above.

use std::str::FromStr;

/// The address a reminder goes to, ready for the envelope and the `To:` header (the domain in
/// its ASCII form); `Err` says, in a few words, why there is none.
///
/// # Errors
/// The contact is empty, masked, or not an address every transport can take (see the module
/// documentation).
pub fn recipient(contact: &str) -> Result<lettre::Address, String> {
    let contact = bare(contact.trim());
    let contact = contact.as_str();
    if contact.is_empty() {
        return Err("no e-mail address".into());
    }
    if contact.contains('*') {
        return Err("the address is masked by the marketplace".into());
    }
    let Some((local, domain)) = contact.rsplit_once('@') else {
        return Err(format!("{contact:?} is not an e-mail address (no @)"));
    };
    local_part(local).map_err(|why| format!("{contact:?}: {why}"))?;
    let domain = domain_name(domain).map_err(|why| format!("{contact:?}: {why}"))?;
    if local.len() + 1 + domain.len() > 254 {
        return Err(format!("{contact:?}: longer than an address may be"));
    }
    lettre::Address::from_str(&format!("{local}@{domain}"))
        .map_err(|e| format!("{contact:?} is not an e-mail address: {e}"))
}

/// The address as lists compare it (the suppression list, bounces): what [`recipient`]
/// makes of it, lower-cased, so `Ann@Example.COM` and `ann@example.com` are one address.
///
/// # Errors
/// As [`recipient`]: the contact is not an address a reminder could go to.
pub fn key(contact: &str) -> Result<String, String> {
    recipient(contact).map(|a| a.to_string().to_lowercase())
}

/// The address in a cell that may hold a mailbox (a display name and the address in angle
/// brackets) or a `mailto:` link; the cell itself otherwise.
fn bare(cell: &str) -> String {
    let cell = match cell.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("mailto:") => {
            let link = &cell[7..];
            link.split_once('?')
                .map_or(link, |(address, _)| address)
                .trim()
        }
        _ => cell,
    };
    if !cell.ends_with('>') {
        return cell.to_owned();
    }
    if let Ok(mailbox) = lettre::message::Mailbox::from_str(cell) {
        return mailbox.email.to_string();
    }
    // What lettre does not take (a domain in another script, an address the rules below
    // refuse with their own reason): the part in the last angle brackets.
    cell.rfind('<')
        .map_or(cell, |open| &cell[open + 1..cell.len() - 1])
        .trim()
        .to_owned()
}

/// The part before `@`: a dot-atom of ASCII (RFC 5321 without quoting).
fn local_part(local: &str) -> Result<(), &'static str> {
    if local.is_empty() {
        return Err("nothing before the @");
    }
    if local.starts_with('"') {
        return Err("a quoted name before the @, which mail servers refuse");
    }
    if !local.is_ascii() {
        return Err(
            "letters beyond ASCII before the @, which need SMTPUTF8 (payremind does not use it)",
        );
    }
    if local.len() > 64 {
        return Err("more than 64 characters before the @");
    }
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c);
    if local
        .split('.')
        .any(|atom| atom.is_empty() || !atom.chars().all(atext))
    {
        return Err("characters before the @ that an address cannot have");
    }
    Ok(())
}

/// The part after `@` as a domain name on the Internet, in ASCII (IDNA for the others).
fn domain_name(domain: &str) -> Result<String, &'static str> {
    if domain.starts_with('[') {
        return Err("an IP address instead of a domain name");
    }
    let ascii =
        idna::domain_to_ascii(domain).map_err(|_| "the part after the @ is not a domain name")?;
    let ascii = ascii.trim_end_matches('.').to_owned();
    if ascii.is_empty() {
        return Err("nothing after the @");
    }
    if ascii.len() > 253 {
        return Err("a domain name longer than 253 characters");
    }
    let labels: Vec<&str> = ascii.split('.').collect();
    if labels.len() < 2 {
        return Err("a domain without a dot (like localhost), which is not on the Internet");
    }
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if !labels.iter().all(label_ok) {
        return Err("the part after the @ is not a domain name");
    }
    if labels
        .last()
        .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
    {
        return Err("an IP address instead of a domain name");
    }
    Ok(ascii)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usable_addresses_come_out_in_ascii() {
        for (given, sent) in [
            ("anna@shop.example", "anna@shop.example"),
            (" a.b+tag@Mail.Example ", "a.b+tag@mail.example"),
            ("anna@bücher.example", "anna@xn--bcher-kva.example"),
            ("li@例子.测试", "li@xn--fsqu00a.xn--0zwm56d"),
            ("\"Ann Q\" <annq@example.com>", "annq@example.com"),
            ("<ann6@example.com>", "ann6@example.com"),
            ("Ann <ann@x.com>", "ann@x.com"),
            ("mailto:ann@example.com", "ann@example.com"),
            ("MAILTO:ann@example.com?subject=hi", "ann@example.com"),
            ("Anna <anna@bücher.example>", "anna@xn--bcher-kva.example"),
        ] {
            assert_eq!(recipient(given).map(|a| a.to_string()), Ok(sent.to_owned()));
        }
    }

    #[test]
    fn keys_ignore_case_and_spelling() {
        for given in [
            "Ann@Example.COM",
            " ann@example.com ",
            "Ann <ANN@example.com>",
            "mailto:ann@EXAMPLE.com",
        ] {
            assert_eq!(key(given).as_deref(), Ok("ann@example.com"), "{given}");
        }
        assert_eq!(
            key("Anna@Bücher.example").as_deref(),
            Ok("anna@xn--bcher-kva.example")
        );
        assert!(key("j***@mail.com").is_err());
    }

    #[test]
    fn addresses_no_transport_takes_say_why() {
        for (given, why) in [
            ("", "no e-mail address"),
            ("j***@mail.com", "masked"),
            ("\"m b\"@x.example", "quoted"),
            ("jürgen@x.example", "SMTPUTF8"),
            ("a@[1.2.3.4]", "IP address"),
            ("a@1.2.3.4", "IP address"),
            ("root@localhost", "without a dot"),
            ("a..b@x.example", "cannot have"),
            ("a@-x.example", "not a domain name"),
            ("nobody", "no @"),
            ("Root <root@localhost>", "without a dot"),
            ("<j***@mail.com>", "masked"),
            ("Ann <>", "no e-mail address"),
        ] {
            let err = recipient(given).expect_err(given);
            assert!(err.contains(why), "{given}: {err}");
        }
    }
}
