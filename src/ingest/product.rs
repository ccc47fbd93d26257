//! Product cells as a buyer should read them in a message: a clean name and how many.
//!
//! Most layouts write one product per row, and the row's quantity beside it (`Lineitem
//! quantity`, `Quantity`): the message says `Glass teapot × 2`. AliExpress writes every product
//! of an order into one cell, numbered and mixed with back-office notes:
//!
//! ```text
//! 【1】Arc Floor Lamp, Black (产品数量: 1 piece) (单价: $ 64.00)
//! 【2】Matcha tin 30 g
//! (商品属性: Color: Green)
//! $ 9.90 x 1
//! ```
//!
//! which becomes `Arc Floor Lamp, Black × 1` and `Matcha tin 30 g × 1`.

use crate::order::Text;

/// Adds the product lines of one product cell (and the row's quantity, if the layout has one)
/// to `products`, in the order the export lists them. A cell without AliExpress's `【n】`
/// numbering is one product; an empty cell is none.
pub fn add_lines(products: &mut Vec<Text>, cell: Text, quantity: Option<&str>) {
    let trimmed = cell.trim();
    if trimmed.is_empty() {
        return;
    }
    let (clean, numbered) = scan(&cell);
    if !numbered {
        let clean = clean && trimmed.len() == cell.len();
        if clean && quantity.is_none_or(|q| q.trim().is_empty()) {
            // Nearly every cell: kept as it is, no copy.
            products.push(cell);
        } else if clean {
            products.push(with_quantity(trimmed, quantity));
        } else {
            products.push(with_quantity(&one_line(trimmed), quantity));
        }
        return;
    }
    for item in numbered_items(trimmed) {
        let (name, quantity) = clean_item(item);
        if !name.is_empty() {
            products.push(with_quantity(&name, quantity.as_deref()));
        }
    }
}

/// The product's name in a product line: `Glass teapot` of `Glass teapot × 2` (what a seller
/// writes in `[shop].low_stock_products`).
#[must_use]
pub fn name_of(line: &str) -> &str {
    match line.trim().rsplit_once(" × ") {
        Some((name, count)) if !count.is_empty() && count.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => line.trim(),
    }
}

/// One pass over a cell (this runs for every product row): whether it is one clean line (no
/// line break, tab or double space) and whether it has AliExpress's `【` numbering.
fn scan(cell: &str) -> (bool, bool) {
    // `【` is U+3010, E3 80 90 in UTF-8: its lead byte is rare enough to test first.
    let numbered = cell.as_bytes().contains(&0xE3) && cell.contains('【');
    let mut clean = true;
    let mut space = false;
    for &b in cell.as_bytes() {
        if matches!(b, b'\n' | b'\r' | b'\t') || (b == b' ' && space) {
            clean = false;
            break;
        }
        space = b == b' ';
    }
    (clean, numbered)
}

/// `name × 2`; the name alone without a usable quantity.
fn with_quantity(name: &str, quantity: Option<&str>) -> Text {
    match quantity.map(str::trim).filter(|q| is_quantity(q)) {
        Some(q) => compact_str::format_compact!("{name} × {}", plain_number(q)),
        None => Text::from(name),
    }
}

/// A whole number of items, as exported (`1`, `2`, `1.0` after a spreadsheet).
fn is_quantity(text: &str) -> bool {
    let number = plain_number(text);
    !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) && number != "0"
}

/// `2.0` and `2.00` read as `2`.
fn plain_number(text: &str) -> &str {
    match text.split_once('.') {
        Some((whole, fraction)) if fraction.bytes().all(|b| b == b'0') => whole,
        _ => text,
    }
}

/// The cell cut at each `【n】`: the text of every numbered item.
fn numbered_items(cell: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let mut rest = cell;
    while let Some(start) = rest.find('【') {
        let after = &rest[start..];
        let Some(close) = after.find('】') else {
            break;
        };
        let body = &after[close + '】'.len_utf8()..];
        let end = body.find('【').unwrap_or(body.len());
        items.push(&body[..end]);
        rest = &body[end..];
    }
    items
}

/// One numbered item: its name (the first line, before any back-office note in brackets) and
/// the quantity the notes give (`(产品数量: 2 piece)`, `Quantity: 2`, a last line `$ 9.90 x 2`).
fn clean_item(item: &str) -> (String, Option<String>) {
    let first_line = item.lines().next().unwrap_or("");
    let name_end = NOTES
        .iter()
        .filter_map(|note| first_line.find(note))
        .min()
        .unwrap_or(first_line.len());
    let name = one_line(first_line[..name_end].trim_end_matches([' ', ',', '，']));
    (name, quantity_in(item))
}

/// Where AliExpress's notes start inside an item's first line.
const NOTES: &[&str] = &[
    "(产品数量",
    "（产品数量",
    "(单价",
    "（单价",
    "(商品属性",
    "（商品属性",
    "(Product quantity",
    "(Quantity",
    "(Unit price",
    "(Product properties",
];

/// The quantity an item's notes give, if any.
fn quantity_in(item: &str) -> Option<String> {
    for label in ["产品数量", "Product quantity", "Quantity"] {
        if let Some(at) = item.find(label) {
            let after = item[at + label.len()..].trim_start_matches([':', '：', ' ']);
            let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
            if !digits.is_empty() {
                return Some(digits);
            }
        }
    }
    // `$ 9.90 x 1` on a line of its own.
    item.lines().rev().find_map(|line| {
        let (_, count) = line.trim().rsplit_once(" x ")?;
        let count = count.trim();
        count
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| count.to_owned())
    })
}

/// Line breaks and runs of spaces as one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(cell: &str, quantity: Option<&str>) -> Vec<Text> {
        let mut products = Vec::new();
        add_lines(&mut products, Text::from(cell), quantity);
        products
    }

    #[test]
    fn aliexpress_cells_become_clean_names_with_quantities() {
        assert_eq!(
            lines(
                "【1】Arc Floor Lamp, Black (产品数量: 1 piece) (单价: $ 64.00)",
                None
            ),
            ["Arc Floor Lamp, Black × 1"]
        );
        assert_eq!(
            lines(
                "【1】Matcha tin 30 g\n(商品属性: Color: Green)\n$ 9.90 x 1\n【2】Bamboo whisk\n$ 9.90 x 2",
                None
            ),
            ["Matcha tin 30 g × 1", "Bamboo whisk × 2"]
        );
        assert_eq!(lines("【1】Tea towel", None), ["Tea towel"]);
    }

    #[test]
    fn a_product_lines_name_is_what_the_seller_writes() {
        assert_eq!(name_of("Glass teapot × 2"), "Glass teapot");
        assert_eq!(name_of("Glass teapot"), "Glass teapot");
        assert_eq!(name_of("Size × large"), "Size × large");
    }

    #[test]
    fn a_plain_cell_is_one_product_with_the_rows_quantity() {
        assert_eq!(
            lines("Glass teapot 600 ml", Some("2")),
            ["Glass teapot 600 ml × 2"]
        );
        assert_eq!(
            lines("Glass teapot 600 ml", Some("1.0")),
            ["Glass teapot 600 ml × 1"]
        );
        assert_eq!(lines("Glass teapot", Some("")), ["Glass teapot"]);
        assert_eq!(lines("Glass teapot", Some("some")), ["Glass teapot"]);
        assert_eq!(lines("  ", Some("1")), Vec::<Text>::new());
        assert_eq!(lines("Long\nname", None), ["Long name"]);
    }
}
