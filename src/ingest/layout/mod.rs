//! The export layouts payremind knows, one file each: which header holds which field and what
//! each status label means. `[source] format = "auto"` recognises a layout by its signature
//! headers; the seller's `[columns]` and `[statuses]` override single entries of a preset.
//!
//! | layout | from | recognised by |
//! | --- | --- | --- |
//! | `shopify` | Shopify admin "Export orders" | `Name`, `Financial Status`, `Lineitem name` |
//! | `woocommerce` | Advanced Order Export for WooCommerce, any field selection with the order columns | `Order Number`, `Order Status`, `Order Date` |
//! | `aliexpress` | AliExpress seller back office 批量导出订单 | `订单号`, `订单状态`, `下单时间` |
//! | `taobao` | Taobao/Tmall 卖家中心 订单报表 (ExportOrderList) | `订单编号`, `买家会员名`, `订单创建时间` |
//! | `generic` | anything else: headers named like payremind's fields, or `[columns]` | — |

mod aliexpress;
mod generic;
mod shopify;
mod taobao;
mod woocommerce;

use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::fmt;

use crate::order::{Field, StatusClass};
use crate::units::normalize_label;

/// A known export layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Headers named like payremind's fields, or mapped by `[columns]`.
    Generic,
    /// Shopify admin order export.
    Shopify,
    /// WooCommerce, Advanced Order Export plugin defaults.
    WooCommerce,
    /// AliExpress seller back office order export.
    AliExpress,
    /// Taobao / Tmall seller centre order report.
    Taobao,
}

impl Layout {
    /// Every layout, the presets first (detection tries them in this order).
    pub const ALL: [Layout; 5] = [
        Layout::Shopify,
        Layout::WooCommerce,
        Layout::AliExpress,
        Layout::Taobao,
        Layout::Generic,
    ];

    /// The name used in `[source] format`.
    #[must_use]
    pub fn name(self) -> &'static str {
        self.preset().name
    }

    /// The layout called `name` in `[source] format`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Layout> {
        Layout::ALL
            .into_iter()
            .find(|l| l.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The layout's preset.
    #[must_use]
    pub fn preset(self) -> &'static Preset {
        match self {
            Layout::Generic => &generic::PRESET,
            Layout::Shopify => &shopify::PRESET,
            Layout::WooCommerce => &woocommerce::PRESET,
            Layout::AliExpress => &aliexpress::PRESET,
            Layout::Taobao => &taobao::PRESET,
        }
    }

    /// The layout whose signature headers are all present, else generic. `headers` are
    /// normalized (see [`super::normalize_header`]).
    #[must_use]
    pub fn detect(headers: &[String]) -> Layout {
        Layout::ALL
            .into_iter()
            .find(|layout| {
                let signature = layout.preset().signature;
                !signature.is_empty()
                    && signature
                        .iter()
                        .all(|wanted| headers.iter().any(|h| h.eq_ignore_ascii_case(wanted)))
            })
            .unwrap_or(Layout::Generic)
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a layout brings: its name, how to recognise it, its columns and its status words.
#[derive(Debug)]
pub struct Preset {
    /// `[source] format` name.
    pub name: &'static str,
    /// A seller-facing description (`check` prints it).
    pub description: &'static str,
    /// Headers that together identify the layout.
    pub signature: &'static [&'static str],
    /// Field -> header(s); several headers are joined with a space (first + last name). A
    /// field listed twice has alternatives: the first whose headers the file has is used.
    pub columns: &'static [(Field, &'static [&'static str])],
    /// Labels of unpaid orders.
    pub unpaid: &'static [&'static str],
    /// Labels of paid orders.
    pub paid: &'static [&'static str],
    /// Labels of closed orders.
    pub closed: &'static [&'static str],
    /// The currency of its amounts, when the marketplace has one (`init` writes it as
    /// `[shop].currency`).
    pub currency: Option<&'static str>,
    /// What to set `[source].timezone` to for this export (`init` writes it as a comment).
    pub zone_hint: Option<&'static str>,
    /// The language its buyers read, when the marketplace implies one (Taobao/Tmall:
    /// `zh-CN`): the default of `[shop] language`, and of a buyer whose column and country
    /// say nothing.
    pub language: Option<&'static str>,
}

/// The seller's corrections to the presets, from the config: `[source] format`, `[columns]`
/// and `[statuses]`. Only these three, so reading an export needs no other setting.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// The layout named in `[source] format`; `None` = recognise it from the headers.
    pub format: Option<Layout>,
    /// The seller's `[columns]`: header(s) per field, overriding the layout's.
    pub columns: BTreeMap<Field, Vec<String>>,
    /// The seller's `[statuses]`, each list replacing the layout's list of that class.
    pub statuses: Statuses,
}

/// Status labels per class; each list set replaces the layout's list of its class.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statuses {
    /// Labels of orders waiting for payment.
    pub unpaid: Option<Vec<String>>,
    /// Labels of paid (or authorised, or in payment) orders.
    pub paid: Option<Vec<String>>,
    /// Labels of cancelled, voided, refunded or timed-out orders.
    pub closed: Option<Vec<String>>,
}

/// The mapping in use for one file: the preset with the seller's overrides on top.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// The layout in use.
    pub layout: Layout,
    /// Whether the layout was recognised from the headers (false: named in the config).
    pub detected: bool,
    /// Field -> the header lists to look for, first found wins (each list joined with a
    /// space), and whether the seller set it (a missing explicit column is an error).
    pub columns: Vec<(Field, Vec<Vec<String>>, bool)>,
    /// Status label (normalized) -> class.
    statuses: FxHashMap<String, StatusClass>,
}

impl Mapping {
    /// The mapping for a file with these (normalized) headers.
    #[must_use]
    pub fn for_headers(overrides: &Overrides, headers: &[String]) -> Mapping {
        let (layout, detected) = match overrides.format {
            Some(layout) => (layout, false),
            None => (Layout::detect(headers), true),
        };
        Mapping::new(layout, detected, overrides)
    }

    /// The preset of `layout` with the seller's `[columns]` and `[statuses]` on top.
    #[must_use]
    pub fn new(layout: Layout, detected: bool, overrides: &Overrides) -> Mapping {
        let preset = layout.preset();
        let columns = Field::ALL
            .iter()
            .filter_map(|&field| {
                if let Some(headers) = overrides.columns.get(&field) {
                    return Some((field, vec![headers.clone()], true));
                }
                let candidates: Vec<Vec<String>> = preset
                    .columns
                    .iter()
                    .filter(|(f, _)| *f == field)
                    .map(|(_, headers)| headers.iter().map(|h| (*h).to_owned()).collect())
                    .collect();
                (!candidates.is_empty()).then_some((field, candidates, false))
            })
            .collect();

        let mut classes: BTreeMap<&str, (StatusClass, Vec<String>)> = BTreeMap::new();
        for (key, class, preset_labels, own) in [
            (
                "unpaid",
                StatusClass::Unpaid,
                preset.unpaid,
                &overrides.statuses.unpaid,
            ),
            (
                "paid",
                StatusClass::Paid,
                preset.paid,
                &overrides.statuses.paid,
            ),
            (
                "closed",
                StatusClass::Closed,
                preset.closed,
                &overrides.statuses.closed,
            ),
        ] {
            let labels = own
                .clone()
                .unwrap_or_else(|| preset_labels.iter().map(|l| (*l).to_owned()).collect());
            classes.insert(key, (class, labels));
        }
        // The seller's lists win over the preset's: insert the preset's classes first.
        let mut statuses = FxHashMap::default();
        let own = |key: &str| match key {
            "unpaid" => overrides.statuses.unpaid.is_some(),
            "paid" => overrides.statuses.paid.is_some(),
            _ => overrides.statuses.closed.is_some(),
        };
        for pass_own in [false, true] {
            for (key, (class, labels)) in &classes {
                if own(key) == pass_own {
                    for label in labels {
                        statuses.insert(normalize_label(label), *class);
                    }
                }
            }
        }
        Mapping {
            layout,
            detected,
            columns,
            statuses,
        }
    }

    /// The class of a status label as exported, if a class claims it.
    #[must_use]
    pub fn status_class(&self, label: &str) -> Option<StatusClass> {
        // Most labels are already in normal form: found without allocating (normalizing is
        // idempotent, so a hit is what the normal form would find).
        if let Some(class) = self.statuses.get(label) {
            return Some(*class);
        }
        self.statuses.get(&normalize_label(label)).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(headers: &[&str]) -> Vec<String> {
        headers
            .iter()
            .map(|h| super::super::normalize_header(h))
            .collect()
    }

    #[test]
    fn layouts_are_recognised_by_their_headers() {
        assert_eq!(
            Layout::detect(&norm(&[
                "Name",
                "Email",
                "Financial Status",
                "Paid at",
                "Lineitem name"
            ])),
            Layout::Shopify
        );
        assert_eq!(
            Layout::detect(&norm(&[
                "Order Number",
                "Order Status",
                "Order Date",
                "Email (Billing)"
            ])),
            Layout::WooCommerce
        );
        assert_eq!(
            Layout::detect(&norm(&[
                "订单号",
                "订单状态",
                "买家名称",
                "下单时间",
                "产品信息\n（双击单元格展开所有产品信息！）"
            ])),
            Layout::AliExpress
        );
        assert_eq!(
            Layout::detect(&norm(&[
                "订单编号",
                "买家会员名",
                "订单状态",
                "订单创建时间",
                "订单付款时间 "
            ])),
            Layout::Taobao
        );
        assert_eq!(
            Layout::detect(&norm(&["order_id", "status", "created_at"])),
            Layout::Generic
        );
    }

    #[test]
    fn every_preset_maps_the_required_fields_and_no_label_twice() {
        for layout in Layout::ALL {
            let preset = layout.preset();
            for field in Field::ALL.iter().filter(|f| f.required()) {
                assert!(
                    preset.columns.iter().any(|(f, _)| f == field),
                    "{layout} lacks {field}"
                );
            }
            let mut seen = std::collections::HashSet::new();
            for label in preset.unpaid.iter().chain(preset.paid).chain(preset.closed) {
                assert!(
                    seen.insert(normalize_label(label)),
                    "{layout}: {label} twice"
                );
            }
            assert_eq!(Layout::from_name(preset.name), Some(layout));
        }
    }
}
