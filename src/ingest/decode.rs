//! Bytes to text, the first step of ingest: sellers' files come as UTF-8 (with or without
//! Excel's BOM), UTF-16 with a BOM, or GBK/GB18030 from Chinese Windows. The encoding is sniffed
//! from the first block and the stream is decoded as it is read, never loaded twice.

use std::io::{self, Cursor, Read};

use encoding_rs::{Encoding, GB18030, GBK, UTF_8};
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

/// Decodes `input` to UTF-8: from `named` when the seller set `[source].encoding`, else from
/// the encoding sniffed in the first block. A BOM always wins.
///
/// # Errors
/// Reading the first block fails.
pub fn decode(mut input: Box<dyn Read>, named: Option<&'static Encoding>) -> io::Result<Decoded> {
    let mut head = Vec::with_capacity(8 * 1024);
    input.by_ref().take(SNIFF_BYTES).read_to_end(&mut head)?;
    let bom = Encoding::for_bom(&head).map(|(encoding, _)| encoding);
    let encoding = bom.or(named).unwrap_or_else(|| sniff(&head));
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

/// Without a BOM: valid UTF-8 (a sequence cut by the block end is fine) is UTF-8. Anything
/// else is a legacy "ANSI" export, guessed by chardetng: GBK (read as GB18030, its superset,
/// so rare names in four-byte sequences decode too) from Chinese Windows, windows-1252 from a
/// Western Excel, and so on.
fn sniff(head: &[u8]) -> &'static Encoding {
    match std::str::from_utf8(head) {
        Ok(_) => return UTF_8,
        Err(e) if e.error_len().is_none() => return UTF_8,
        Err(_) => {}
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(head, true);
    match detector.guess(None, chardetng::Utf8Detection::Allow) {
        e if e == GBK => GB18030,
        e => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[u8]) -> (String, &'static str) {
        let mut decoded = decode(Box::new(Cursor::new(bytes.to_vec())), None).unwrap();
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
        // A Taobao header in GBK, then 𠀀 (U+20000), which only GB18030's four-byte form carries.
        let sample = "订单编号,买家会员名,收货人姓名,订单状态\n1,小王,𠀀王芳,等待买家付款\n";
        let (bytes, _, unmappable) = GB18030.encode(sample);
        assert!(!unmappable);
        assert_eq!(text(&bytes), (sample.into(), "gb18030"));
    }

    #[test]
    fn western_excel_csv_is_windows_1252() {
        let (bytes, _, _) =
            encoding_rs::WINDOWS_1252.encode("name,city\nJürgen Müller,Köln\nRenée,Besançon\n");
        assert_eq!(text(&bytes).1, "windows-1252");
        assert!(text(&bytes).0.contains("Jürgen Müller"));
    }

    #[test]
    fn a_named_encoding_is_used_unless_a_bom_says_otherwise() {
        let (bytes, _, _) = GB18030.encode("订单,b\n");
        let mut decoded = decode(Box::new(Cursor::new(bytes.to_vec())), Some(GBK)).unwrap();
        let mut out = String::new();
        decoded.reader.read_to_string(&mut out).unwrap();
        assert_eq!((out.as_str(), decoded.encoding), ("订单,b\n", "GBK"));
        let bom = b"\xEF\xBB\xBFa,b\n".to_vec();
        let decoded = decode(Box::new(Cursor::new(bom)), Some(GBK)).unwrap();
        assert_eq!(decoded.encoding, "UTF-8");
    }
}
