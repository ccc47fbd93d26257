//! AliExpress seller back office 批量导出订单 (Chinese UI; English labels accepted too). The
//! buyer name is a display name, never an identity: buyers are known by their e-mail. Products
//! sit in one multi-line cell whose header has a second line.

use super::Preset;
use crate::order::Field;

/// The back office's order export.
pub static PRESET: Preset = Preset {
    name: "aliexpress",
    description: "AliExpress seller back office order export (批量导出订单)",
    signature: &["订单号", "订单状态", "下单时间"],
    columns: &[
        (Field::OrderId, &["订单号"]),
        (Field::Status, &["订单状态"]),
        (Field::BuyerName, &["买家名称"]),
        (Field::Email, &["买家邮箱"]),
        // The newer layout's contact e-mail.
        (Field::Email, &["联系邮件"]),
        (Field::CreatedAt, &["下单时间"]),
        (Field::PaidAt, &["付款时间"]),
        (Field::Total, &["订单金额"]),
        (Field::Country, &["收货国家"]),
        (Field::Region, &["州/省"]),
        (Field::Product, &["产品信息"]),
        // The newer layout's payment method.
        (Field::PaymentMethod, &["支付方式"]),
        // No fulfilment word: the ship time, else the tracking number, says it left.
        (Field::Tracking, &["发货时间"]),
        (Field::Tracking, &["实际发货物流:运单号"]),
    ],
    unpaid: &["等待买家付款", "Awaiting payment", "PLACE_ORDER_SUCCESS"],
    // Payment processing and the 24 h risk check mean the buyer has already paid.
    paid: &[
        "等待您发货",
        "部分发货",
        "等待买家收货",
        "资金处理中",
        "等待您确认金额",
        "纠纷中",
        "冻结中",
        "已完成",
        "Awaiting shipment",
        "Partially shipped",
        "Awaiting delivery",
        "Awaiting buyer confirmation",
        "Payment processing",
        "Fund processing",
        "Awaiting amount confirmation",
        "In dispute",
        "Frozen",
        "Completed",
        "PAYMENT_PROCESSING",
        "RISK_CONTROL",
        "RISK_CONTROL_HOLD",
        "WAIT_SELLER_EXAMINE_MONEY",
        "WAIT_SELLER_SEND_GOODS",
        "SELLER_PART_SEND_GOODS",
        "WAIT_BUYER_ACCEPT_GOODS",
        "FUND_PROCESSING",
        "IN_ISSUE",
        "IN_FROZEN",
        "FINISH",
    ],
    closed: &[
        "订单关闭",
        "买家申请取消",
        "Order closed",
        "Closed",
        "Buyer applied for cancellation",
        "IN_CANCEL",
        "ARCHIVE",
    ],
    // Back-office amounts are US dollars.
    currency: Some("USD"),
    zone_hint: Some(
        "Check which zone your AliExpress back office shows times in (often US Pacific, \"America/Los_Angeles\").",
    ),
    language: None,
};
