//! A deterministic generator of realistic order exports, for benchmarks and scale tests.
//!
//! ```sh
//! cargo run --release --example generate -- 10000 > orders-10k.csv
//! cargo run --release --example generate -- 10000 --seed 7 > other.csv
//! ```
//!
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

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut orders: u64 = 10_000;
    let mut seed: u64 = 1;
    let mut all_due = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seed" => seed = args.next().and_then(|s| s.parse().ok()).unwrap_or(seed),
            "--all-due" => all_due = true,
            n => orders = n.parse().unwrap_or(orders),
        }
    }
    let mut out = BufWriter::with_capacity(1 << 20, io::stdout().lock());
    write(&mut out, orders, seed, all_due)?;
    out.flush()
}

/// Writes the export (also used by the test that pins the decision counts of 10 000 orders).
pub fn write(out: &mut impl Write, orders: u64, seed: u64, all_due: bool) -> io::Result<()> {
    let mut rng = Rng(seed);
    let buyers = (orders / 3).max(1);
    // The ten days before 2026-11-23 09:00 store time.
    let window_minutes: u64 = 10 * 24 * 60;
    writeln!(
        out,
        "order_id,buyer_id,buyer_name,email,country,status,created_at,paid_at,total,currency,channel,product"
    )?;
    if all_due {
        for n in 0..orders {
            writeln!(
                out,
                "{id},D{n},Buyer {n},buyer{n}@example.com,US,pending,2026-11-23 04:00:00,,19.90,USD,web,\"Jasmine pearls 100 g\"",
                id = 100_000 + n
            )?;
        }
        return Ok(());
    }
    for n in 0..orders {
        let buyer = rng.below(buyers);
        let first = FIRST[(buyer % FIRST.len() as u64) as usize];
        let last = LAST[((buyer / 7) % LAST.len() as u64) as usize];
        let status = match rng.below(30) {
            0..=9 => "pending",
            10..=12 => "cancelled",
            _ => "paid",
        };
        // Minutes since 2026-11-13 00:00, within the window that starts at 09:00.
        let minute = 9 * 60 + rng.below(window_minutes);
        let (day, hour, min) = (13 + minute / 1440, (minute % 1440) / 60, minute % 60);
        let created = format!("2026-11-{day:02} {hour:02}:{min:02}:00");
        let paid = if status == "paid" {
            created.clone()
        } else {
            String::new()
        };
        let channel = if rng.below(100) < 3 {
            "reseller"
        } else {
            "web"
        };
        let cents = 500 + rng.below(20_000);
        writeln!(
            out,
            "{id},B{buyer},{first} {last},{lower_first}.{lower_last}{buyer}@example.com,{country},{status},{created},{paid},{units}.{cents:02},USD,{channel},\"{product}\"",
            id = 100_000 + n,
            lower_first = first.to_lowercase(),
            lower_last = last.to_lowercase(),
            country = COUNTRIES[(buyer % COUNTRIES.len() as u64) as usize],
            units = cents / 100,
            cents = cents % 100,
            product = PRODUCTS[rng.below(PRODUCTS.len() as u64) as usize],
        )?;
    }
    Ok(())
}
