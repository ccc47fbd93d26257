//! Bytes to text, the first step of ingest: sellers' files come as UTF-8 (with or without
//! Excel's BOM), UTF-16 with a BOM, or GBK/GB18030 from Chinese Windows. The encoding is sniffed
//! from the first block and the stream is decoded as it is read, never loaded twice.

use std::io::{self, Cursor, Read};

use encoding_rs::{Encoding, GB18030, UTF_8};
use encoding_rs_io::DecodeReaderBytesBuilder;

/// How much of the file the sniffer looks at.
const SNIFF_BYTES: u64 = 64 * 1024;

/// A UTF-8 stream of the export and what it was decoded from.
pub struct Decoded {
    /// UTF-8 text, BOM removed.
    pub reader: Box<dyn Read>,
    /// The encoding found (`UTF-8`, `UTF-16LE`, `gb18030`).
    pub encoding: &'static str,
    /// The sniffed block was empty: the file has no bytes at all.
    pub empty: bool,
    /// The sniffed block looks like a binary file (NUL bytes without a UTF-16 BOM).
    pub binary: bool,
}

/// Sniffs the encoding of `input` and returns it decoded to UTF-8.
///
/// # Errors
/// Reading the first block fails.
pub fn decode(mut input: Box<dyn Read>) -> io::Result<Decoded> {
    let mut head = Vec::with_capacity(8 * 1024);
    input.by_ref().take(SNIFF_BYTES).read_to_end(&mut head)?;
    let bom = Encoding::for_bom(&head).map(|(encoding, _)| encoding);
    let encoding = bom.unwrap_or_else(|| sniff(&head));
    let binary = bom.is_none() && head.contains(&0);
    let empty = head.is_empty();
    let reader = DecodeReaderBytesBuilder::new()
        .encoding(Some(encoding))
        .bom_override(true)
        .strip_bom(true)
        .utf8_passthru(true)
        .build(Cursor::new(head).chain(input));
    Ok(Decoded {
        reader: Box::new(reader),
        encoding: encoding.name(),
        empty,
        binary,
    })
}

/// Without a BOM: valid UTF-8 (a sequence cut by the block end is fine) is UTF-8, anything
/// else is GB18030, the superset of GBK that Chinese Windows writes as "ANSI".
fn sniff(head: &[u8]) -> &'static Encoding {
    match std::str::from_utf8(head) {
        Ok(_) => UTF_8,
        Err(e) if e.error_len().is_none() => UTF_8,
        Err(_) => GB18030,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[u8]) -> (String, &'static str) {
        let mut decoded = decode(Box::new(Cursor::new(bytes.to_vec()))).unwrap();
        let mut out = String::new();
        decoded.reader.read_to_string(&mut out).unwrap();
        (out, decoded.encoding)
    }

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(text(b"a,b\n"), ("a,b\n".into(), "UTF-8"));
        assert_eq!(text(b"\xEF\xBB\xBFa,b\n"), ("a,b\n".into(), "UTF-8"));
    }

    #[test]
    fn utf16_with_bom() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "订单,b\n".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(text(&bytes), ("订单,b\n".into(), "UTF-16LE"));
    }

    #[test]
    fn gb18030_without_bom_including_four_byte_names() {
        // 订单编号 in GBK, then 𠀀 (U+20000), which only GB18030's four-byte form can carry.
        let (bytes, _, unmappable) = GB18030.encode("订单编号,𠀀\n");
        assert!(!unmappable);
        assert_eq!(text(&bytes), ("订单编号,𠀀\n".into(), "gb18030"));
    }
}
