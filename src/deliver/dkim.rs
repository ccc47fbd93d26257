//! DKIM signatures (RFC 6376; Ed25519 by RFC 8463) over a message's final bytes, after its
//! `Date` is set: `relaxed/relaxed` canonicalization, SHA-256, the key a seller's tools write
//! (PEM: PKCS#1 or PKCS#8 for RSA, PKCS#8 for Ed25519).
//!
//! The signature is *ring*'s (already in the tree through rustls): its RSA is several times
//! faster than the `rsa` crate that lettre's own signer uses, and a 2048-bit RSA signature is
//! most of what a signed message costs. Signing runs on the sending workers' blocking threads
//! (`deliver::send`), never on the thread that writes the ledger.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::signature::{Ed25519KeyPair, KeyPair as _, RsaKeyPair};
use sha2::{Digest, Sha256};

/// `[dkim] algorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// `rsa-sha256` (every receiver verifies it).
    RsaSha256,
    /// `ed25519-sha256` (RFC 8463: small and fast, but not every receiver verifies it yet).
    Ed25519Sha256,
}

impl Algorithm {
    /// The name in `a=` and in the config.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::RsaSha256 => "rsa-sha256",
            Algorithm::Ed25519Sha256 => "ed25519-sha256",
        }
    }
}

/// The headers signed, when present, in this order (lower case: relaxed canonicalization).
/// RFC 8058 requires List-Unsubscribe and List-Unsubscribe-Post among them.
pub const SIGNED: &[&str] = &[
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "reply-to",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "list-id",
];

enum Key {
    Rsa(RsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A loaded key with the domain and selector it signs for.
pub struct Signer {
    domain: String,
    selector: String,
    key: Key,
    rng: ring::rand::SystemRandom,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("domain", &self.domain)
            .field("selector", &self.selector)
            .field("algorithm", &self.algorithm().as_str())
            .finish_non_exhaustive()
    }
}

/// The DER inside the first PEM block of `pem`, and its label (`RSA PRIVATE KEY`, `PRIVATE KEY`).
fn pem_block(pem: &str) -> Result<(String, Vec<u8>), String> {
    let mut label = None;
    let mut body = String::new();
    for line in pem.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("-----BEGIN ") {
            label = Some(rest.trim_end_matches('-').trim().to_owned());
            continue;
        }
        if line.starts_with("-----END ") {
            break;
        }
        if label.is_some() && !line.contains(':') {
            body.push_str(line);
        }
    }
    let label = label.ok_or_else(|| {
        "is not a PEM key file (no \"-----BEGIN … PRIVATE KEY-----\" line); make one with `openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:2048 -out dkim.pem`".to_owned()
    })?;
    let der = BASE64
        .decode(body.as_bytes())
        .map_err(|_| "holds a PEM block that is not valid base64 (a damaged copy?)".to_owned())?;
    Ok((label, der))
}

impl Signer {
    /// Loads the key in `pem` for `algorithm`.
    ///
    /// # Errors
    /// Not a PEM private key, an encrypted one, one of the other algorithm, or an RSA key
    /// shorter than 2048 bits: what is wrong, to follow the setting's name.
    pub fn from_pem(
        pem: &str,
        algorithm: Algorithm,
        domain: &str,
        selector: &str,
    ) -> Result<Signer, String> {
        let (label, der) = pem_block(pem)?;
        let key = match (algorithm, label.as_str()) {
            (_, "ENCRYPTED PRIVATE KEY") => {
                return Err("is encrypted with a passphrase; write it out without one (`openssl pkey -in dkim.pem -out dkim-plain.pem`) and keep that file readable only by the sending user".into());
            }
            (Algorithm::RsaSha256, "RSA PRIVATE KEY") => {
                Key::Rsa(RsaKeyPair::from_der(&der).map_err(|e| rsa_rejected(&e))?)
            }
            (Algorithm::RsaSha256, "PRIVATE KEY") => {
                Key::Rsa(RsaKeyPair::from_pkcs8(&der).map_err(|e| rsa_rejected(&e))?)
            }
            (Algorithm::Ed25519Sha256, "PRIVATE KEY") => Key::Ed25519(
                Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der).map_err(|_| {
                    "is not an Ed25519 private key; make one with `openssl genpkey -algorithm ed25519 -out dkim.pem`, or set algorithm = \"rsa-sha256\" for an RSA key".to_owned()
                })?,
            ),
            (Algorithm::Ed25519Sha256, "RSA PRIVATE KEY") => {
                return Err("is an RSA key but [dkim].algorithm is \"ed25519-sha256\"; set algorithm = \"rsa-sha256\"".into());
            }
            (_, other) => {
                return Err(format!(
                    "holds a \"{other}\", not a private key; give the file `openssl genpkey` wrote"
                ));
            }
        };
        Ok(Signer {
            domain: domain.to_owned(),
            selector: selector.to_owned(),
            key,
            rng: ring::rand::SystemRandom::new(),
        })
    }

    /// The algorithm of the key.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        match self.key {
            Key::Rsa(_) => Algorithm::RsaSha256,
            Key::Ed25519(_) => Algorithm::Ed25519Sha256,
        }
    }

    /// Where the public key is published: `<selector>._domainkey.<domain>`.
    #[must_use]
    pub fn dns_name(&self) -> String {
        format!("{}._domainkey.{}", self.selector, self.domain)
    }

    /// The TXT record to publish at [`Signer::dns_name`]: `v=DKIM1; k=rsa; p=…`.
    #[must_use]
    pub fn dns_record(&self) -> String {
        let (k, public) = match &self.key {
            // RFC 6376 3.6.1: an RSA key is published as a SubjectPublicKeyInfo.
            Key::Rsa(key) => ("rsa", spki_rsa(key.public().as_ref())),
            // RFC 8463: the raw 32 bytes.
            Key::Ed25519(key) => ("ed25519", key.public_key().as_ref().to_vec()),
        };
        format!("v=DKIM1; k={k}; p={}", BASE64.encode(public))
    }

    /// `message` (CRLF line ends, headers then a blank line then the body) with a
    /// `DKIM-Signature` header in front, made at `timestamp` (seconds since 1970).
    ///
    /// # Errors
    /// The key refuses to sign (should not happen with a key that loaded).
    pub fn sign(&self, message: &[u8], timestamp: i64) -> Result<Vec<u8>, String> {
        let (_, body) = split(message);
        self.sign_with_body_hash(message, &body_hash(body), timestamp)
    }

    /// [`Signer::sign`] with the body's hash ([`body_hash`]) made beforehand: the body does
    /// not change when the message is dated, so its hash is made once, ahead.
    ///
    /// # Errors
    /// The key refuses to sign (should not happen with a key that loaded).
    pub fn sign_with_body_hash(
        &self,
        message: &[u8],
        body_hash: &str,
        timestamp: i64,
    ) -> Result<Vec<u8>, String> {
        let (head, _) = split(message);
        let fields = fields(head);
        let mut signed = Vec::new();
        let mut names = Vec::new();
        for name in SIGNED {
            // The last instance of a header is signed first (RFC 6376 5.4.2); we sign one each.
            if let Some((field_name, value)) = fields
                .iter()
                .rev()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
            {
                canonical_header(field_name, value, &mut signed);
                names.push(*name);
            }
        }
        let mut header = format!(
            "DKIM-Signature: v=1; a={}; c=relaxed/relaxed; d={}; s={};\r\n\tt={timestamp}; h={};\r\n\tbh={body_hash};\r\n\tb=",
            self.algorithm().as_str(),
            self.domain,
            self.selector,
            names.join(":"),
        );
        let (name, value) = header.split_once(':').unwrap_or(("DKIM-Signature", ""));
        let mut data = signed;
        let mut own = Vec::new();
        canonical_header(name, value.as_bytes(), &mut own);
        // The signature header itself goes in without its final CRLF (RFC 6376 3.7).
        own.truncate(own.len() - 2);
        data.extend_from_slice(&own);
        let signature = match &self.key {
            Key::Rsa(key) => {
                let mut out = vec![0; key.public().modulus_len()];
                key.sign(
                    &ring::signature::RSA_PKCS1_SHA256,
                    &self.rng,
                    &data,
                    &mut out,
                )
                .map_err(|_| "the RSA key could not sign".to_owned())?;
                out
            }
            // RFC 8463: Ed25519 signs the SHA-256 of the canonicalized headers.
            Key::Ed25519(key) => key.sign(&Sha256::digest(&data)).as_ref().to_vec(),
        };
        let b = BASE64.encode(signature);
        for (i, chunk) in b.as_bytes().chunks(72).enumerate() {
            if i > 0 {
                header.push_str("\r\n\t ");
            }
            header.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        }
        header.push_str("\r\n");
        let mut out = Vec::with_capacity(header.len() + message.len());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(message);
        Ok(out)
    }
}

fn rsa_rejected(e: &ring::error::KeyRejected) -> String {
    let why = e.to_string();
    if why.contains("TooSmall") {
        "is an RSA key shorter than 2048 bits, which receivers no longer trust; make a 2048-bit one with `openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:2048 -out dkim.pem`".into()
    } else {
        format!(
            "is not an RSA private key payremind can use ({why}); make one with `openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:2048 -out dkim.pem`, or set algorithm = \"ed25519-sha256\" for an Ed25519 key"
        )
    }
}

/// A DER length.
fn der_len(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(u8::try_from(len).unwrap_or(0));
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | u8::try_from(bytes.len()).unwrap_or(0));
        out.extend(bytes);
    }
}

/// An RSAPublicKey (PKCS#1) wrapped as a SubjectPublicKeyInfo.
fn spki_rsa(rsa_public_key: &[u8]) -> Vec<u8> {
    // AlgorithmIdentifier { rsaEncryption, NULL }.
    const ALGORITHM: &[u8] = &[
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut bits = vec![0x03];
    der_len(rsa_public_key.len() + 1, &mut bits);
    bits.push(0);
    bits.extend_from_slice(rsa_public_key);
    let mut out = vec![0x30];
    der_len(ALGORITHM.len() + bits.len(), &mut out);
    out.extend_from_slice(ALGORITHM);
    out.extend(bits);
    out
}

/// The `bh=` of a message: SHA-256 of its relaxed-canonical body, base64.
#[must_use]
pub fn body_hash(body: &[u8]) -> String {
    BASE64.encode(Sha256::digest(canonical_body(body)))
}

/// The body of a formatted message (after the blank line).
#[must_use]
pub fn body_of(message: &[u8]) -> &[u8] {
    split(message).1
}

/// The header block (with its last CRLF) and the body.
fn split(message: &[u8]) -> (&[u8], &[u8]) {
    match memchr::memmem::find(message, b"\r\n\r\n") {
        Some(at) => (&message[..at + 2], &message[at + 4..]),
        None => (message, &[]),
    }
}

/// The header fields: name, and the value with its folding (without the final CRLF).
fn fields(head: &[u8]) -> Vec<(&str, &[u8])> {
    let mut out: Vec<(&str, &[u8])> = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < head.len() {
        let end = memchr::memmem::find(&head[i..], b"\r\n").map_or(head.len(), |e| i + e);
        let next = end + 2;
        // A continuation line starts with a space or a tab.
        if next < head.len() && matches!(head[next], b' ' | b'\t') {
            i = next;
            continue;
        }
        let field = &head[start..end.min(head.len())];
        if let Some(colon) = memchr::memchr(b':', field) {
            let name = std::str::from_utf8(&field[..colon]).unwrap_or_default();
            out.push((name.trim(), &field[colon + 1..]));
        }
        start = next;
        i = next;
    }
    out
}

/// Relaxed header canonicalization (RFC 6376 3.4.2) of one field, with its CRLF.
fn canonical_header(name: &str, value: &[u8], out: &mut Vec<u8>) {
    out.extend(name.trim().bytes().map(|b| b.to_ascii_lowercase()));
    out.push(b':');
    let mut pending_space = false;
    let mut started = false;
    for &b in value {
        match b {
            b'\r' | b'\n' => {}
            b' ' | b'\t' => pending_space = started,
            _ => {
                if pending_space {
                    out.push(b' ');
                    pending_space = false;
                }
                started = true;
                out.push(b);
            }
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// Relaxed body canonicalization (RFC 6376 3.4.4).
fn canonical_body(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut lines: Vec<&[u8]> = body.split(|b| *b == b'\n').collect();
    // The split leaves the text after the last line end (empty when the body ends with CRLF).
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let mut blank_run = 0;
    for line in lines {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let mut canonical = Vec::with_capacity(line.len());
        let mut space = false;
        for &b in line {
            if matches!(b, b' ' | b'\t') {
                space = true;
            } else {
                if space {
                    canonical.push(b' ');
                    space = false;
                }
                canonical.push(b);
            }
        }
        if canonical.is_empty() {
            blank_run += 1;
            continue;
        }
        for _ in 0..blank_run {
            out.extend_from_slice(b"\r\n");
        }
        blank_run = 0;
        out.extend_from_slice(&canonical);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The lines `check` prints for a key: where to publish it and the record.
#[must_use]
pub fn dns_lines(signer: &Signer) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "{}. TXT \"{}\"",
        signer.dns_name(),
        signer.dns_record()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relaxed_canonicalization_follows_the_rfc_examples() {
        // RFC 6376 3.4.5.
        let mut out = Vec::new();
        canonical_header("A", b" X", &mut out);
        canonical_header("B ", b" Y\t\r\n\tZ  ", &mut out);
        assert_eq!(out, b"a:X\r\nb:Y Z\r\n");
        assert_eq!(
            canonical_body(b" C \r\nD \t E\r\n\r\n\r\n"),
            b" C\r\nD E\r\n"
        );
        assert_eq!(canonical_body(b""), b"");
        assert_eq!(canonical_body(b"\r\n\r\n"), b"");
    }

    #[test]
    fn fields_keep_their_folding() {
        let head = b"From: a@b\r\nSubject: one\r\n two\r\nTo: c@d\r\n";
        let f = fields(head);
        assert_eq!(f.len(), 3);
        assert_eq!(f[1], ("Subject", &b" one\r\n two"[..]));
    }

    #[test]
    fn the_published_key_is_what_openssl_says() {
        // `openssl pkey -in KEY -pubout -outform DER | base64` (the last 32 bytes for Ed25519).
        let rsa = include_str!("../../tests/fixtures/dkim/rsa-pkcs1.pem");
        let signer = Signer::from_pem(rsa, Algorithm::RsaSha256, "shop.example", "s1").unwrap();
        assert_eq!(
            signer.dns_record(),
            "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEArEpUVER7i+XSFvXhTVIevUIK83z5m08smkPJgqrK/4MpWdl8JnWKfCXqcpIKMxBVCPO0cK+y2KVbkSSoSQJvd2r6AJUXj0FT2SIFEB2rRJpj54C2Tb8Giuvf18WOJrsC6lfOKeJIJiQtpa2CjpMMi7+CJI9PAHQKQR3f9vrjinq0IScRxlBRrsduoQdoPoZaydlVb+N7kdBAy0/G/PLH2igIjOdBQjGDX4yzfby4dTNJv65sTI+P8D4B6wrBvXskDPN+huPWk2wr+oq9lw+9eYyBMgjcDjar1ajfGUBpjNAo72j1q9Fr9CsYDD4a8QevAFUBiC0iZ70irohGJQB8ywIDAQAB"
        );
        assert_eq!(signer.dns_name(), "s1._domainkey.shop.example");
        let ed = include_str!("../../tests/fixtures/dkim/ed25519.pem");
        let signer = Signer::from_pem(ed, Algorithm::Ed25519Sha256, "shop.example", "s1").unwrap();
        assert_eq!(
            signer.dns_record(),
            "v=DKIM1; k=ed25519; p=KO5Wah+RxM6IdcPK+pwxsWVtFmjVp0Z6Nw+wq8hB800="
        );
    }

    #[test]
    fn keys_that_are_not_keys_are_refused() {
        let e = Signer::from_pem("hello", Algorithm::RsaSha256, "a.example", "s").unwrap_err();
        assert!(e.contains("not a PEM key file"), "{e}");
        let e = Signer::from_pem(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
            Algorithm::RsaSha256,
            "a.example",
            "s",
        )
        .unwrap_err();
        assert!(e.contains("passphrase"), "{e}");
    }
}
