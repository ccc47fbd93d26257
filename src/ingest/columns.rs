//! Header names to column positions: matched as a seller reads them (spaces, a BOM, a second
//! line inside the cell and look-alike Cyrillic letters ignored), never by position. A missing
//! column is reported with the layout in use and the nearest headers the file does have.

use std::borrow::Cow;
use std::path::Path;

use super::layout::Mapping;
use super::value;
use crate::error::Error;
use crate::order::{Field, Text};

/// A header as a seller would read it: BOM, surrounding spaces and everything after an
/// embedded newline removed, look-alike Cyrillic capitals read as Latin.
#[must_use]
pub fn normalize_header(header: &str) -> String {
    let first_line = header
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap_or("");
    first_line
        .trim()
        .chars()
        .map(|c| match c {
            'А' => 'A',
            'В' => 'B',
            'С' => 'C',
            'Е' => 'E',
            'Н' => 'H',
            'К' => 'K',
            'М' => 'M',
            'О' => 'O',
            'Р' => 'P',
            'Т' => 'T',
            'Х' => 'X',
            other => other,
        })
        .collect()
}

/// Which column(s) hold each field in this file.
#[derive(Debug)]
pub struct Columns {
    /// Field, its columns (0-based), and the headers as the file writes them.
    index: Vec<(Field, Vec<usize>, String)>,
    /// Each field's place in `index` (by `Field as usize`): looked up for every cell read.
    by_field: [Option<usize>; Field::ALL.len()],
    /// How many cells the header row has.
    pub width: usize,
}

impl Columns {
    /// Finds every mapped field's column(s) in `headers`.
    ///
    /// # Errors
    /// A required field, or one the seller mapped explicitly, has no column.
    pub fn find(
        path: &Path,
        headers: &[String],
        mapping: &Mapping,
        warnings: &mut Vec<String>,
    ) -> Result<Columns, Error> {
        let normalized: Vec<String> = headers.iter().map(|h| normalize_header(h)).collect();
        let position = |wanted: &str| {
            let wanted = normalize_header(wanted);
            normalized.iter().position(|h| *h == wanted).or_else(|| {
                normalized
                    .iter()
                    .position(|h| h.eq_ignore_ascii_case(&wanted))
            })
        };
        let mut index = Vec::new();
        for (field, candidates, explicit) in &mapping.columns {
            let found = candidates.iter().find_map(|wanted| {
                wanted
                    .iter()
                    .map(|w| position(w))
                    .collect::<Option<Vec<usize>>>()
            });
            let Some(columns) = found else {
                if field.required() || *explicit {
                    let first = &candidates[0];
                    let missing = first
                        .iter()
                        .find(|w| position(w).is_none())
                        .unwrap_or(&first[0]);
                    return Err(missing_column(path, *field, missing, &normalized, mapping));
                }
                continue;
            };
            for &c in &columns {
                if let Some(twin) = normalized
                    .iter()
                    .skip(c + 1)
                    .position(|h| h.eq_ignore_ascii_case(&normalized[c]))
                {
                    warnings.push(format!(
                        "header {:?} appears in columns {} and {}; {field} is read from column {}",
                        normalized[c],
                        c + 1,
                        c + twin + 2,
                        c + 1
                    ));
                }
            }
            let shown = columns
                .iter()
                .map(|&c| normalized[c].clone())
                .collect::<Vec<_>>()
                .join(" + ");
            index.push((*field, columns, shown));
        }
        let mut by_field = [None; Field::ALL.len()];
        for (i, (field, _, _)) in index.iter().enumerate() {
            by_field[*field as usize] = Some(i);
        }
        Ok(Columns {
            index,
            by_field,
            width: headers.len(),
        })
    }

    /// The 1-based column numbers and header text of `field`, if mapped.
    #[must_use]
    pub fn header(&self, field: Field) -> Option<(usize, &str)> {
        let (_, cols, header) = &self.index[self.by_field[field as usize]?];
        Some((cols[0] + 1, header.as_str()))
    }

    /// The order number of a record, empty when it has none.
    #[must_use]
    pub fn order_id(&self, record: &csv::StringRecord) -> Text {
        self.get(record, Field::OrderId)
            .map(|id| Text::from(id.as_ref()))
            .unwrap_or_default()
    }

    /// The cell for `field`, trimmed and unwrapped from Excel's protection; several columns
    /// are joined with a space. `None` when empty or unmapped.
    #[must_use]
    pub fn get<'r>(&self, record: &'r csv::StringRecord, field: Field) -> Option<Cow<'r, str>> {
        let (_, cols, _) = &self.index[self.by_field[field as usize]?];
        let cell = |c: &usize| record.get(*c).map(value::unwrap_excel).unwrap_or_default();
        let text = match cols.as_slice() {
            [one] => Cow::Borrowed(cell(one)),
            many => Cow::Owned(
                many.iter()
                    .map(cell)
                    .filter(|v| !v.is_empty())
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        };
        (!text.is_empty()).then_some(text)
    }
}

fn missing_column(
    path: &Path,
    field: Field,
    header: &str,
    found: &[String],
    mapping: &Mapping,
) -> Error {
    let wanted = header.to_lowercase();
    let mut near: Vec<(f64, &String)> = found
        .iter()
        .map(|h| (strsim::jaro_winkler(&wanted, &h.to_lowercase()), h))
        .filter(|(score, _)| *score > 0.75)
        .collect();
    near.sort_by(|a, b| b.0.total_cmp(&a.0));
    let hint = if near.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = near.iter().take(3).map(|(_, h)| format!("{h:?}")).collect();
        format!("did you mean {}? ", names.join(" or "))
    };
    let layout = if mapping.detected {
        format!("layout {}, recognised from the headers", mapping.layout)
    } else {
        format!("layout {}, from [source].format", mapping.layout)
    };
    // A file that is not what it seems can have a huge first "header": keep the line short.
    let shown: Vec<String> = found
        .iter()
        .take(40)
        .map(|h| {
            if h.chars().count() > 60 {
                format!("{}…", h.chars().take(60).collect::<String>())
            } else {
                h.clone()
            }
        })
        .collect();
    let found = match found.len() {
        0 => "none".to_owned(),
        n if n > 40 => format!("{} and {} more", shown.join(", "), n - 40),
        _ => shown.join(", "),
    };
    Error::MissingColumn {
        path: path.to_owned(),
        field: field.key(),
        message: format!(
            "{header:?} for {field} ({layout}); {hint}map it in [columns] {field} = \"<header>\" (headers found: {found})"
        ),
    }
}
