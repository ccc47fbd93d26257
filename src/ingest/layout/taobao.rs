//! Taobao / Tmall 卖家中心 订单报表 (ExportOrderList*.csv): GBK/GB18030, order numbers wrapped
//! as `="…"`, several header names ending in a space, Beijing time without an offset. There is
//! no e-mail column: the Alipay account is used when it is an address.

use super::Preset;
use crate::order::Field;

/// The order report (41 to 67 columns, depending on the year).
pub static PRESET: Preset = Preset {
    name: "taobao",
    description: "Taobao/Tmall seller centre order report (订单报表)",
    signature: &["订单编号", "买家会员名", "订单创建时间"],
    columns: &[
        (Field::OrderId, &["订单编号"]),
        (Field::BuyerId, &["买家会员名"]),
        (Field::Email, &["买家支付宝账号"]),
        (Field::BuyerName, &["收货人姓名"]),
        (Field::Status, &["订单状态"]),
        (Field::CreatedAt, &["订单创建时间"]),
        (Field::PaidAt, &["订单付款时间"]),
        (Field::Total, &["总金额"]),
        (Field::Channel, &["店铺名称"]),
        (Field::Product, &["宝贝标题"]),
        // No fulfilment word: a tracking number says the parcel left.
        (Field::Tracking, &["物流单号"]),
    ],
    unpaid: &["等待买家付款", "WAIT_BUYER_PAY"],
    // Note the full-width comma, as the export writes it.
    paid: &[
        "买家已付款，等待卖家发货",
        "卖家已发货，等待买家确认",
        "交易成功",
        "WAIT_SELLER_SEND_GOODS",
        "WAIT_BUYER_CONFIRM_GOODS",
        "TRADE_FINISHED",
    ],
    closed: &["交易关闭", "TRADE_CLOSED", "TRADE_CLOSED_BY_TAOBAO"],
    // 卖家中心 amounts are yuan.
    currency: Some("CNY"),
    zone_hint: Some("Taobao/Tmall exports are in Beijing time: \"Asia/Shanghai\"."),
    language: Some("zh-CN"),
};
