//! A deterministic generator of realistic order exports, for benchmarks and scale tests.
//!
//! ```sh
//! cargo run --release --example generate -- 10000 > orders-10k.csv
//! cargo run --release --example generate -- 10000 --seed 7 > other.csv
//! cargo run --release --example generate -- 10000 --shopify > shopify-10k.csv
//! ```
//!
//! `--shopify` writes the same orders as Shopify's multi-row export (one row per line item).
//! `--all-due` writes instead N unpaid orders of N different new buyers, each five hours old:
//! every one gets a reminder (the sending benchmark).
//!
//! The generic layout (headers = payremind's field names, so no `[columns]` are needed), times
//! in the ten days before 2026-11-23 09:00 store time. About a third unpaid, a tenth closed, a
//! few percent from a reseller channel, buyers with one to several orders (so same-day pairs,
//! superseded orders and loyal buyers all occur). The same size and seed give the same bytes.

use std::io::{self, BufWriter, Write};

/// splitmix64: tiny, fast and stable across versions, so a seed always means the same file.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const FIRST: &[&str] = &[
    "Alice", "Ben", "Chen", "Diego", "Emma", "Fatima", "George", "Hana", "Ivan", "Julia", "Kofi",
    "Lena", "Mateo", "Nora", "Omar", "Priya", "Wang", "Yuki",
];
const LAST: &[&str] = &[
    "Martin", "Carter", "Wei", "Alvarez", "Schulz", "Zahra", "Brown", "Sato", "Petrov", "Novak",
    "Mensah", "Berg", "Silva", "Olsen", "Haddad", "Nair", "Fang", "Tanaka",
];
const PRODUCTS: &[&str] = &[
    "Longjing green tea, 250 g",
    "Jasmine pearls 100 g",
    "Pu-erh cake 357 g",
    "Glass teapot 600 ml",
    "Gaiwan set",
    "Matcha tin 30 g",
    "Oolong sampler",
];
const COUNTRIES: &[&str] = &["US", "DE", "FR", "GB", "ES", "IT", "SG", "JP", "BR", "CN"];

/// What to write.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// payremind's generic layout: one row per order.
    Generic,
    /// Shopify's 79-column export: one row per line item (one to three per order), the
    /// order's fields on its first row only, times with the store's offset. The same orders as
    /// the generic layout for the same size and seed, so the same decisions.
    Shopify,
    /// N unpaid orders of N different new buyers, each five hours old (generic layout).
    AllDue,
}

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut orders: u64 = 10_000;
    let mut seed: u64 = 1;
    let mut layout = Layout::Generic;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seed" => seed = args.next().and_then(|s| s.parse().ok()).unwrap_or(seed),
            "--all-due" => layout = Layout::AllDue,
            "--shopify" => layout = Layout::Shopify,
            n => orders = n.parse().unwrap_or(orders),
        }
    }
    let mut out = BufWriter::with_capacity(1 << 20, io::stdout().lock());
    write(&mut out, orders, seed, layout)?;
    out.flush()
}

/// Shopify's current export header (79 columns).
const SHOPIFY_HEADER: &str = "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,Billing Name,Billing Street,Billing Address1,Billing Address2,Billing Company,Billing City,Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,Shipping Street,Shipping Address1,Shipping Address2,Shipping Company,Shipping City,Shipping Zip,Shipping Province,Shipping Country,Shipping Phone,Notes,Note Attributes,Cancelled at,Payment Method,Payment Reference,Refunded Amount,Vendor,Outstanding Balance,Employee,Location,Device ID,Id,Tags,Risk Level,Source,Lineitem discount,Tax 1 Name,Tax 1 Value,Tax 2 Name,Tax 2 Value,Tax 3 Name,Tax 3 Value,Tax 4 Name,Tax 4 Value,Tax 5 Name,Tax 5 Value,Phone,Receipt Number,Duties,Billing Province Name,Shipping Province Name,Payment ID,Payment Terms Name,Next Payment Due At,Payment References";

/// The Shopify app id of a reseller marketplace (EXPORTS.md): a distribution channel.
pub const SHOPIFY_RESELLER: &str = "302679293953";

/// One generated order.
struct Order {
    id: u64,
    buyer: u64,
    first: &'static str,
    last: &'static str,
    status: &'static str,
    created: String,
    reseller: bool,
    cents: u64,
    product: &'static str,
}

/// Writes the export (also used by the test that pins the decision counts of 10 000 orders).
pub fn write(out: &mut impl Write, orders: u64, seed: u64, layout: Layout) -> io::Result<()> {
    if layout == Layout::AllDue {
        return all_due(out, orders);
    }
    let mut rng = Rng(seed);
    // Line items come from their own stream, so both layouts get the same orders.
    let mut items = Rng(seed ^ 0x5EED_1DEA);
    let buyers = (orders / 3).max(1);
    // The ten days before 2026-11-23 09:00 store time.
    let window_minutes: u64 = 10 * 24 * 60;
    match layout {
        Layout::Shopify => writeln!(out, "{SHOPIFY_HEADER}")?,
        _ => writeln!(
            out,
            "order_id,buyer_id,buyer_name,email,country,status,created_at,paid_at,total,currency,channel,product"
        )?,
    }
    for n in 0..orders {
        let buyer = rng.below(buyers);
        let status = match rng.below(30) {
            0..=9 => "pending",
            10..=12 => "cancelled",
            _ => "paid",
        };
        // Minutes since 2026-11-13 00:00, within the window that starts at 09:00.
        let minute = 9 * 60 + rng.below(window_minutes);
        let (day, hour, min) = (13 + minute / 1440, (minute % 1440) / 60, minute % 60);
        let order = Order {
            id: 100_000 + n,
            buyer,
            first: FIRST[(buyer % FIRST.len() as u64) as usize],
            last: LAST[((buyer / 7) % LAST.len() as u64) as usize],
            status,
            created: format!("2026-11-{day:02} {hour:02}:{min:02}:00"),
            reseller: rng.below(100) < 3,
            cents: 500 + rng.below(20_000),
            product: PRODUCTS[rng.below(PRODUCTS.len() as u64) as usize],
        };
        match layout {
            Layout::Shopify => shopify(out, &order, &mut items)?,
            _ => generic(out, &order)?,
        }
    }
    Ok(())
}

fn email(order: &Order) -> String {
    format!(
        "{}.{}{}@example.com",
        order.first.to_lowercase(),
        order.last.to_lowercase(),
        order.buyer
    )
}

fn generic(out: &mut impl Write, order: &Order) -> io::Result<()> {
    let paid = if order.status == "paid" {
        order.created.as_str()
    } else {
        ""
    };
    writeln!(
        out,
        "{id},B{buyer},{first} {last},{email},{country},{status},{created},{paid},{units}.{cents:02},USD,{channel},\"{product}\"",
        id = order.id,
        buyer = order.buyer,
        first = order.first,
        last = order.last,
        email = email(order),
        country = COUNTRIES[(order.buyer % COUNTRIES.len() as u64) as usize],
        status = order.status,
        created = order.created,
        units = order.cents / 100,
        cents = order.cents % 100,
        channel = if order.reseller { "reseller" } else { "web" },
        product = order.product,
    )
}

/// One to three rows: the first with the order's fields, the others only what Shopify repeats.
fn shopify(out: &mut impl Write, order: &Order, items: &mut Rng) -> io::Result<()> {
    let created = format!("{} +0800", order.created);
    let total = format!("{}.{:02}", order.cents / 100, order.cents % 100);
    let (status, paid, outstanding, cancelled) = match order.status {
        "paid" => ("paid", created.as_str(), "0.00", ""),
        "cancelled" => ("voided", "", "0.00", created.as_str()),
        _ => ("pending", "", total.as_str(), ""),
    };
    let name = format!("{} {}", order.first, order.last);
    let email = email(order);
    let country = COUNTRIES[(order.buyer % COUNTRIES.len() as u64) as usize];
    let source = if order.reseller {
        SHOPIFY_RESELLER
    } else {
        "web"
    };
    let lines = 1 + items.below(3);
    for line in 0..lines {
        let product = if line == 0 {
            order.product
        } else {
            PRODUCTS[items.below(PRODUCTS.len() as u64) as usize]
        };
        let sku = format!("SKU-{}", &product[..3].to_uppercase());
        let id = order.id;
        if line == 0 {
            writeln!(
                out,
                "#{id},{email},{status},{paid},unfulfilled,,no,USD,{total},0.00,0.00,{total},,0.00,Standard,{created},1,\"{product}\",{total},,{sku},true,true,pending,{name},1 Main St,1 Main St,,,Springfield,'90503,,{country},,{name},1 Main St,1 Main St,,,Springfield,'90503,,{country},,,,{cancelled},Shopify Payments,,0.00,Lotus Leaf,{outstanding},,,,69417{id:08},,Low,{source},0.00,,,,,,,,,,,,,,,,c2847{id},,,"
            )?;
        } else {
            writeln!(
                out,
                "#{id},{email},,,,,,,,,,,,,,{created},1,\"{product}\",9.90,,{sku},true,true,pending,,,,,,,,,,,,,,,,,,,,,,,,,,,Lotus Leaf,,,,,,,,,0.00,,,,,,,,,,,,,,,,,,,"
            )?;
        }
    }
    Ok(())
}

/// The sending benchmark's export: every order due for its first reminder.
fn all_due(out: &mut impl Write, orders: u64) -> io::Result<()> {
    writeln!(
        out,
        "order_id,buyer_id,buyer_name,email,country,status,created_at,paid_at,total,currency,channel,product"
    )?;
    for n in 0..orders {
        writeln!(
            out,
            "{id},D{n},Buyer {n},buyer{n}@example.com,US,pending,2026-11-23 04:00:00,,19.90,USD,web,\"Jasmine pearls 100 g\"",
            id = 100_000 + n
        )?;
    }
    Ok(())
}
