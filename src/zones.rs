//! Where a buyer's clock is: the country an export writes (ISO code, English name or Chinese
//! name) as a time zone, so quiet hours are the buyer's night and not the shop's. A leaf: it
//! knows only `chrono_tz`.
//!
//! A country with one zone is exact. A country with several uses its most populous zone (the
//! first of its row): the United States New York, Canada Toronto, Mexico Mexico City, Brazil
//! São Paulo, Argentina Buenos Aires, Chile Santiago, Russia Moscow, Kazakhstan Almaty,
//! Indonesia Jakarta, Australia Sydney, New Zealand Auckland, Spain Madrid, Portugal Lisbon,
//! Ukraine Kyiv, Mongolia Ulaanbaatar, DR Congo Kinshasa, Ecuador Guayaquil, Malaysia Kuala
//! Lumpur; China is one zone (Shanghai). Exports do not give a region payremind reads, so a
//! buyer in Los Angeles is taken to be in New York: quiet hours of `21:00-08:00` are then
//! 18:00-05:00 there, early rather than late.

use chrono_tz::Tz;

/// ISO code, zone (the most populous first), and the names exports write, lower-cased.
const COUNTRIES: &[(&str, &[Tz], &[&str])] = {
    use chrono_tz::{Africa, America, Asia, Atlantic, Australia, Europe, Pacific};
    &[
        (
            "US",
            &[
                America::New_York,
                America::Chicago,
                America::Denver,
                America::Los_Angeles,
                America::Phoenix,
                America::Anchorage,
                Pacific::Honolulu,
            ],
            &[
                "united states",
                "united states of america",
                "usa",
                "u.s.a.",
                "u.s.",
                "america",
                "美国",
            ],
        ),
        (
            "CA",
            &[
                America::Toronto,
                America::Vancouver,
                America::Edmonton,
                America::Winnipeg,
                America::Halifax,
                America::St_Johns,
                America::Montreal,
                America::Regina,
            ],
            &["canada", "加拿大"],
        ),
        (
            "MX",
            &[
                America::Mexico_City,
                America::Tijuana,
                America::Monterrey,
                America::Cancun,
                America::Hermosillo,
            ],
            &["mexico", "méxico", "墨西哥"],
        ),
        (
            "BR",
            &[
                America::Sao_Paulo,
                America::Manaus,
                America::Fortaleza,
                America::Recife,
                America::Bahia,
                America::Belem,
            ],
            &["brazil", "brasil", "巴西"],
        ),
        (
            "AR",
            &[America::Argentina::Buenos_Aires],
            &["argentina", "阿根廷"],
        ),
        ("CL", &[America::Santiago], &["chile", "智利"]),
        ("CO", &[America::Bogota], &["colombia", "哥伦比亚"]),
        ("PE", &[America::Lima], &["peru", "秘鲁"]),
        ("EC", &[America::Guayaquil], &["ecuador", "厄瓜多尔"]),
        (
            "RU",
            &[
                Europe::Moscow,
                Asia::Yekaterinburg,
                Asia::Novosibirsk,
                Asia::Krasnoyarsk,
                Asia::Irkutsk,
                Asia::Vladivostok,
                Europe::Samara,
                Europe::Kaliningrad,
            ],
            &["russia", "russian federation", "俄罗斯"],
        ),
        ("UA", &[Europe::Kyiv, Europe::Kiev], &["ukraine", "乌克兰"]),
        ("BY", &[Europe::Minsk], &["belarus", "白俄罗斯"]),
        (
            "KZ",
            &[Asia::Almaty, Asia::Aqtobe, Asia::Qyzylorda],
            &["kazakhstan", "哈萨克斯坦"],
        ),
        (
            "CN",
            &[Asia::Shanghai, Asia::Urumqi],
            &[
                "china",
                "mainland china",
                "people's republic of china",
                "中国",
                "中国大陆",
            ],
        ),
        (
            "HK",
            &[Asia::Hong_Kong],
            &["hong kong", "hongkong", "hong kong sar", "香港"],
        ),
        ("TW", &[Asia::Taipei], &["taiwan", "台湾"]),
        ("JP", &[Asia::Tokyo], &["japan", "日本"]),
        (
            "KR",
            &[Asia::Seoul],
            &[
                "south korea",
                "korea",
                "republic of korea",
                "korea, republic of",
                "韩国",
            ],
        ),
        ("MN", &[Asia::Ulaanbaatar], &["mongolia", "蒙古"]),
        ("IN", &[Asia::Kolkata], &["india", "印度"]),
        ("PK", &[Asia::Karachi], &["pakistan", "巴基斯坦"]),
        ("BD", &[Asia::Dhaka], &["bangladesh", "孟加拉国"]),
        (
            "ID",
            &[
                Asia::Jakarta,
                Asia::Makassar,
                Asia::Jayapura,
                Asia::Pontianak,
            ],
            &["indonesia", "印度尼西亚", "印尼"],
        ),
        (
            "MY",
            &[Asia::Kuala_Lumpur, Asia::Kuching],
            &["malaysia", "马来西亚"],
        ),
        ("SG", &[Asia::Singapore], &["singapore", "新加坡"]),
        ("TH", &[Asia::Bangkok], &["thailand", "泰国"]),
        ("VN", &[Asia::Ho_Chi_Minh], &["vietnam", "viet nam", "越南"]),
        ("PH", &[Asia::Manila], &["philippines", "菲律宾"]),
        (
            "AE",
            &[Asia::Dubai],
            &["united arab emirates", "uae", "阿联酋"],
        ),
        ("SA", &[Asia::Riyadh], &["saudi arabia", "沙特阿拉伯"]),
        ("IL", &[Asia::Jerusalem], &["israel", "以色列"]),
        (
            "TR",
            &[Europe::Istanbul],
            &["turkey", "türkiye", "turkiye", "土耳其"],
        ),
        (
            "AU",
            &[
                Australia::Sydney,
                Australia::Melbourne,
                Australia::Brisbane,
                Australia::Perth,
                Australia::Adelaide,
                Australia::Darwin,
                Australia::Hobart,
            ],
            &["australia", "澳大利亚"],
        ),
        ("NZ", &[Pacific::Auckland], &["new zealand", "新西兰"]),
        (
            "GB",
            &[Europe::London],
            &["united kingdom", "uk", "great britain", "england", "英国"],
        ),
        ("IE", &[Europe::Dublin], &["ireland", "爱尔兰"]),
        ("FR", &[Europe::Paris], &["france", "法国"]),
        ("DE", &[Europe::Berlin], &["germany", "deutschland", "德国"]),
        (
            "NL",
            &[Europe::Amsterdam],
            &["netherlands", "the netherlands", "holland", "荷兰"],
        ),
        ("BE", &[Europe::Brussels], &["belgium", "比利时"]),
        ("LU", &[Europe::Luxembourg], &["luxembourg", "卢森堡"]),
        ("CH", &[Europe::Zurich], &["switzerland", "瑞士"]),
        ("AT", &[Europe::Vienna], &["austria", "奥地利"]),
        ("IT", &[Europe::Rome], &["italy", "意大利"]),
        (
            "ES",
            &[Europe::Madrid, Atlantic::Canary],
            &["spain", "españa", "西班牙"],
        ),
        ("PT", &[Europe::Lisbon], &["portugal", "葡萄牙"]),
        ("PL", &[Europe::Warsaw], &["poland", "波兰"]),
        (
            "CZ",
            &[Europe::Prague],
            &["czech republic", "czechia", "捷克"],
        ),
        ("SK", &[Europe::Bratislava], &["slovakia", "斯洛伐克"]),
        ("HU", &[Europe::Budapest], &["hungary", "匈牙利"]),
        ("RO", &[Europe::Bucharest], &["romania", "罗马尼亚"]),
        ("BG", &[Europe::Sofia], &["bulgaria", "保加利亚"]),
        ("GR", &[Europe::Athens], &["greece", "希腊"]),
        ("SE", &[Europe::Stockholm], &["sweden", "瑞典"]),
        ("NO", &[Europe::Oslo], &["norway", "挪威"]),
        ("DK", &[Europe::Copenhagen], &["denmark", "丹麦"]),
        ("FI", &[Europe::Helsinki], &["finland", "芬兰"]),
        ("LT", &[Europe::Vilnius], &["lithuania", "立陶宛"]),
        ("LV", &[Europe::Riga], &["latvia", "拉脱维亚"]),
        ("EE", &[Europe::Tallinn], &["estonia", "爱沙尼亚"]),
        ("EG", &[Africa::Cairo], &["egypt", "埃及"]),
        ("MA", &[Africa::Casablanca], &["morocco", "摩洛哥"]),
        ("NG", &[Africa::Lagos], &["nigeria", "尼日利亚"]),
        ("KE", &[Africa::Nairobi], &["kenya", "肯尼亚"]),
        ("ZA", &[Africa::Johannesburg], &["south africa", "南非"]),
        (
            "CD",
            &[Africa::Kinshasa, Africa::Lubumbashi],
            &[
                "dr congo",
                "democratic republic of the congo",
                "congo, the democratic republic of the",
                "刚果（金）",
            ],
        ),
    ]
};

/// The ISO code of a country as an export writes it: an ISO code (`US`, `us`), an English
/// name (`United States`) or a Chinese name (`美国`), without case and outer spaces. `None`:
/// empty or not a country payremind knows.
#[must_use]
pub fn country_code(text: &str) -> Option<&'static str> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let lower = text.to_lowercase();
    COUNTRIES
        .iter()
        .find(|(code, _, names)| code.eq_ignore_ascii_case(text) || names.contains(&lower.as_str()))
        .map(|(code, _, _)| *code)
}

/// The zone of a country (its ISO code, as [`country_code`] gives): the most populous one
/// when it has several.
#[must_use]
pub fn zone_of(code: &str) -> Option<Tz> {
    COUNTRIES
        .iter()
        .find(|(c, _, _)| *c == code)
        .and_then(|(_, zones, _)| zones.first().copied())
}

/// The country (ISO code) a zone is in, for the shop's own country when `[shop] country` is
/// not set: `None` for a zone of no country payremind knows (`UTC` among them).
#[must_use]
pub fn country_of_zone(zone: Tz) -> Option<&'static str> {
    COUNTRIES
        .iter()
        .find(|(_, zones, _)| zones.contains(&zone))
        .map(|(code, _, _)| *code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_are_read_as_the_exports_write_them() {
        for (text, code) in [
            ("US", "US"),
            ("us", "US"),
            ("United States", "US"),
            ("美国", "US"),
            (" Brazil ", "BR"),
            ("Russian Federation", "RU"),
            ("俄罗斯", "RU"),
            ("Korea, Republic of", "KR"),
            ("中国", "CN"),
        ] {
            assert_eq!(country_code(text), Some(code), "{text}");
        }
        assert_eq!(country_code(""), None);
        assert_eq!(country_code("Atlantis"), None);
    }

    #[test]
    fn a_country_of_many_zones_is_its_most_populous_one() {
        assert_eq!(zone_of("US"), Some(chrono_tz::America::New_York));
        assert_eq!(zone_of("RU"), Some(chrono_tz::Europe::Moscow));
        assert_eq!(zone_of("BR"), Some(chrono_tz::America::Sao_Paulo));
        assert_eq!(zone_of("CA"), Some(chrono_tz::America::Toronto));
        assert_eq!(zone_of("AU"), Some(chrono_tz::Australia::Sydney));
        assert_eq!(zone_of("MX"), Some(chrono_tz::America::Mexico_City));
        assert_eq!(zone_of("CN"), Some(chrono_tz::Asia::Shanghai));
        assert_eq!(zone_of("ID"), Some(chrono_tz::Asia::Jakarta));
        assert_eq!(country_of_zone(chrono_tz::America::Los_Angeles), Some("US"));
        assert_eq!(country_of_zone(chrono_tz::UTC), None);
    }

    #[test]
    fn every_code_is_two_letters_and_listed_once() {
        let mut codes: Vec<&str> = COUNTRIES.iter().map(|(c, _, _)| *c).collect();
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 2 && c.chars().all(|ch| ch.is_ascii_uppercase()))
        );
        codes.sort_unstable();
        let len = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), len);
    }
}
