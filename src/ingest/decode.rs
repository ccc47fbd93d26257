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
    /// What the file is instead of a CSV export, and what to do, when that is plain from its
    /// first bytes.
    pub not_csv: Option<(&'static str, &'static str)>,
    /// A warning for the run when the encoding was guessed on uncertain evidence (no BOM, no
    /// `[source].encoding`, and bytes that are not UTF-8).
    pub guessed: Option<String>,
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
    let (encoding, guessed) = match bom.or(named) {
        Some(encoding) => (encoding, None),
        None => sniff(&head),
    };
    let utf16 = encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE;
    let not_csv = if utf16 { None } else { what_else(&head) };
    let reader: Box<dyn Read> = if encoding == UTF_8 {
        // UTF-8 goes through untouched (no copy): invalid bytes then reach the CSV reader,
        // which reports their row, instead of becoming U+FFFD in a buyer's name.
        let bom = if head.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        head.drain(..bom);
        Box::new(Cursor::new(head).chain(input))
    } else {
        Box::new(
            DecodeReaderBytesBuilder::new()
                .encoding(Some(encoding))
                .bom_override(true)
                .strip_bom(true)
                .build(Cursor::new(head).chain(input)),
        )
    };
    Ok(Decoded {
        reader,
        encoding: encoding.name(),
        not_csv,
        guessed,
    })
}

/// What a file that is plainly not a CSV export is, from its first bytes: the usual wrong
/// downloads (the Excel workbook instead of its CSV, a PDF, a saved login page) and any file
/// with NUL bytes.
fn what_else(head: &[u8]) -> Option<(&'static str, &'static str)> {
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(text.len());
    let text = &text[start..];
    let download = "download the orders as CSV and point --orders at that file";
    let excel = "open it in Excel and save it as \"CSV UTF-8\", or download the CSV export";
    if text.starts_with(b"PK\x03\x04") {
        Some(("an Excel workbook (.xlsx) or another ZIP file", excel))
    } else if text.starts_with(b"\xD0\xCF\x11\xE0") {
        Some(("an old Excel workbook (.xls)", excel))
    } else if text.starts_with(b"%PDF") {
        Some(("a PDF document", download))
    } else if text.starts_with(b"<") {
        Some((
            "an HTML or XML page (a login or error page saved instead of the export?)",
            download,
        ))
    } else if text.starts_with(b"{") || text.starts_with(b"[") {
        Some(("JSON", download))
    } else if head.contains(&0) {
        Some(("a binary file", download))
    } else {
        None
    }
}

/// Without a BOM: valid UTF-8 (a sequence cut by the block end is fine) is UTF-8. Otherwise the
/// evidence is weighed: UTF-8's multi-byte sequences are rare by chance in GBK text (a GBK
/// export has far more invalid sequences than valid ones), so a block with more valid
/// sequences than invalid ones is UTF-8 with a few bad bytes (their rows are reported as bad
/// rows; "Jürgen" stays "Jürgen"); anything else is GB18030, the superset of GBK that Chinese
/// Windows writes as "ANSI" (names that need its four-byte form included). A guess from the
/// bytes' frequencies would be wrong too often on short exports (a detector took one-row GBK
/// files for Cyrillic or Korean); a Western export in windows-1252 names its encoding in
/// `[source].encoding`, and `check` says what was used. Returns the warning a run gives when
/// it guessed on bytes that are not UTF-8.
fn sniff(head: &[u8]) -> (&'static Encoding, Option<String>) {
    let (valid, invalid) = utf8_evidence(head);
    if invalid == 0 {
        return (UTF_8, None);
    }
    if valid > invalid {
        let warning = format!(
            "the export has no BOM and {invalid} byte sequence(s) in its first 64 KiB that are not UTF-8 among {valid} that are: read as UTF-8, their rows are reported as bad rows; if names look wrong, set [source].encoding"
        );
        return (UTF_8, Some(warning));
    }
    let warning = "the export has no BOM and is not UTF-8: read as GB18030 (the Chinese Windows encoding); if names look wrong, set [source].encoding, like \"windows-1252\"".to_owned();
    (GB18030, Some(warning))
}

/// How many multi-byte UTF-8 sequences the block has, and how many invalid ones (a sequence cut
/// by the block's end is neither).
fn utf8_evidence(mut bytes: &[u8]) -> (usize, usize) {
    let (mut valid, mut invalid) = (0, 0);
    loop {
        match std::str::from_utf8(bytes) {
            Ok(text) => {
                valid += text.chars().filter(|c| !c.is_ascii()).count();
                return (valid, invalid);
            }
            Err(e) => {
                let (good, rest) = bytes.split_at(e.valid_up_to());
                valid += std::str::from_utf8(good)
                    .map_or(0, |t| t.chars().filter(|c| !c.is_ascii()).count());
                match e.error_len() {
                    None => return (valid, invalid),
                    Some(len) => {
                        invalid += 1;
                        bytes = &rest[len..];
                    }
                }
            }
        }
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
    fn short_gbk_files_are_gb18030_too() {
        for name in ["王芳", "李娜", "陈杰", "张伟", "林莉", "刘洋", "赵敏"] {
            let sample = format!("order_id,buyer_name\n1,{name}\n");
            let (bytes, _, _) = GB18030.encode(&sample);
            assert_eq!(text(&bytes), (sample.clone(), "gb18030"));
        }
    }

    #[test]
    fn utf8_with_a_few_bad_bytes_stays_utf8_and_says_it_guessed() {
        let mut bytes = "id,name\n1,Jürgen\n2,Zoë Ünal\n3,Łukasz\n"
            .as_bytes()
            .to_vec();
        bytes.extend_from_slice(b"4,M\xfcller\n");
        let decoded = decode(Box::new(Cursor::new(bytes)), None).unwrap();
        assert_eq!(decoded.encoding, "UTF-8");
        assert!(decoded.guessed.unwrap().contains("1 byte sequence(s)"));
        let (bytes, _, _) = GB18030.encode("id,name\n1,王芳\n");
        let decoded = decode(Box::new(Cursor::new(bytes.to_vec())), None).unwrap();
        assert_eq!(decoded.encoding, "gb18030");
        assert!(decoded.guessed.unwrap().contains("GB18030"));
        assert!(
            decode(Box::new(Cursor::new(b"a,b\n".to_vec())), None)
                .unwrap()
                .guessed
                .is_none()
        );
    }

    #[test]
    fn a_named_encoding_is_used_unless_a_bom_says_otherwise() {
        let (bytes, _, _) = GB18030.encode("订单,b\n");
        let mut decoded = decode(
            Box::new(Cursor::new(bytes.to_vec())),
            Some(encoding_rs::GBK),
        )
        .unwrap();
        let mut out = String::new();
        decoded.reader.read_to_string(&mut out).unwrap();
        assert_eq!((out.as_str(), decoded.encoding), ("订单,b\n", "GBK"));
        let bom = b"\xEF\xBB\xBFa,b\n".to_vec();
        let decoded = decode(Box::new(Cursor::new(bom)), Some(encoding_rs::GBK)).unwrap();
        assert_eq!(decoded.encoding, "UTF-8");
    }
}
