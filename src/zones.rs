//! Where a buyer's clock is: the country an export writes (ISO code, English name or Chinese
//! name) as a time zone, so quiet hours are the buyer's night and not the shop's. A leaf: it
//! knows only `chrono_tz`.
//!
//! A country with one zone is exact. A country with several uses its most populous zone (the
//! first of its row): the United States New York, Canada Toronto, Mexico Mexico City, Brazil
//! São Paulo, Argentina Buenos Aires, Chile Santiago, Russia Moscow, Kazakhstan Almaty,
//! Indonesia Jakarta, Australia Sydney, New Zealand Auckland, Spain Madrid, Portugal Lisbon,
//! Ukraine Kyiv, Mongolia Ulaanbaatar, DR Congo Kinshasa, Ecuador Guayaquil, Malaysia Kuala
//! Lumpur; China is one zone (Shanghai). A region (state, province) settles the zone in the
//! United States, Canada, Australia, Brazil and Mexico ([`region_zone`]), and a zone column wins
//! over both ([`parse_zone`]); otherwise a buyer in Los Angeles is taken to be in New York:
//! quiet hours of `21:00-08:00` are then 18:00-05:00 there, early rather than late.

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

/// The zone of a region (state, province) of a country with several zones, as exports write
/// it: its postal code (`CA`, `BC`, `NSW`, `SP`) or its name in English (`California`), without
/// case. `None`: a one-zone country, or a region payremind does not know (the country's most
/// populous zone then applies).
#[must_use]
pub fn region_zone(country: &str, region: &str) -> Option<Tz> {
    let region = region.trim();
    if region.is_empty() {
        return None;
    }
    let table: &[(&[&str], Tz)] = match country {
        "US" => US_REGIONS,
        "CA" => CA_REGIONS,
        "AU" => AU_REGIONS,
        "BR" => BR_REGIONS,
        "MX" => MX_REGIONS,
        _ => return None,
    };
    table
        .iter()
        .find(|(names, _)| names.iter().any(|n| n.eq_ignore_ascii_case(region)))
        .map(|(_, zone)| *zone)
}

/// US states by their zone (the zone of most of each state's people).
const US_REGIONS: &[(&[&str], Tz)] = &[
    (
        &[
            "CA",
            "California",
            "WA",
            "Washington",
            "OR",
            "Oregon",
            "NV",
            "Nevada",
        ],
        Tz::America__Los_Angeles,
    ),
    (&["AZ", "Arizona"], Tz::America__Phoenix),
    (
        &[
            "CO",
            "Colorado",
            "UT",
            "Utah",
            "NM",
            "New Mexico",
            "MT",
            "Montana",
            "WY",
            "Wyoming",
            "ID",
            "Idaho",
        ],
        Tz::America__Denver,
    ),
    (
        &[
            "TX",
            "Texas",
            "IL",
            "Illinois",
            "MN",
            "Minnesota",
            "WI",
            "Wisconsin",
            "MO",
            "Missouri",
            "IA",
            "Iowa",
            "LA",
            "Louisiana",
            "AR",
            "Arkansas",
            "OK",
            "Oklahoma",
            "KS",
            "Kansas",
            "NE",
            "Nebraska",
            "SD",
            "South Dakota",
            "ND",
            "North Dakota",
            "MS",
            "Mississippi",
            "AL",
            "Alabama",
            "TN",
            "Tennessee",
        ],
        Tz::America__Chicago,
    ),
    (&["AK", "Alaska"], Tz::America__Anchorage),
    (&["HI", "Hawaii"], Tz::Pacific__Honolulu),
];

/// Canadian provinces outside Toronto's zone.
const CA_REGIONS: &[(&[&str], Tz)] = &[
    (&["BC", "British Columbia"], Tz::America__Vancouver),
    (&["AB", "Alberta"], Tz::America__Edmonton),
    (&["SK", "Saskatchewan"], Tz::America__Regina),
    (&["MB", "Manitoba"], Tz::America__Winnipeg),
    (
        &[
            "NS",
            "Nova Scotia",
            "NB",
            "New Brunswick",
            "PE",
            "Prince Edward Island",
        ],
        Tz::America__Halifax,
    ),
    (&["NL", "Newfoundland and Labrador"], Tz::America__St_Johns),
];

/// Australian states outside Sydney's zone.
const AU_REGIONS: &[(&[&str], Tz)] = &[
    (&["QLD", "Queensland"], Tz::Australia__Brisbane),
    (&["SA", "South Australia"], Tz::Australia__Adelaide),
    (&["WA", "Western Australia"], Tz::Australia__Perth),
    (&["NT", "Northern Territory"], Tz::Australia__Darwin),
    (&["TAS", "Tasmania"], Tz::Australia__Hobart),
];

/// Brazilian states outside São Paulo's zone.
const BR_REGIONS: &[(&[&str], Tz)] = &[
    (
        &["AM", "Amazonas", "RR", "Roraima", "RO", "Rondônia"],
        Tz::America__Manaus,
    ),
    (
        &["MT", "Mato Grosso", "MS", "Mato Grosso do Sul"],
        Tz::America__Cuiaba,
    ),
    (&["AC", "Acre"], Tz::America__Rio_Branco),
];

/// Mexican states outside Mexico City's zone.
const MX_REGIONS: &[(&[&str], Tz)] = &[
    (&["BC", "Baja California"], Tz::America__Tijuana),
    (&["SON", "Sonora"], Tz::America__Hermosillo),
    (
        &[
            "BCS",
            "Baja California Sur",
            "SIN",
            "Sinaloa",
            "NAY",
            "Nayarit",
        ],
        Tz::America__Mazatlan,
    ),
    (&["ROO", "Quintana Roo"], Tz::America__Cancun),
];

/// A buyer's zone as an export writes it: an IANA name (`America/Chicago`) or a UTC offset in
/// whole hours (`-05:00`, `+8`, `UTC+8`, `GMT-5`). `None`: empty, or neither.
#[must_use]
pub fn parse_zone(text: &str) -> Option<Tz> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(zone) = text.parse::<Tz>() {
        return Some(zone);
    }
    let offset = text
        .trim_start_matches("UTC")
        .trim_start_matches("GMT")
        .trim();
    let (sign, rest) = match offset.chars().next()? {
        '+' => (1, &offset[1..]),
        '-' => (-1, &offset[1..]),
        _ => return None,
    };
    let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "00"));
    let hours: i32 = hours.parse().ok()?;
    if minutes != "00" || !(0..=14).contains(&hours) {
        return None;
    }
    // The Etc zones count the other way round: UTC+8 is Etc/GMT-8.
    let name = match sign * hours {
        0 => "Etc/UTC".to_owned(),
        h => format!("Etc/GMT{:+}", -h),
    };
    name.parse::<Tz>().ok()
}

#[cfg(test)]
mod region_tests {
    use super::*;

    #[test]
    fn a_region_settles_the_zone_of_a_country_with_several() {
        assert_eq!(region_zone("US", "CA"), Some(Tz::America__Los_Angeles));
        assert_eq!(region_zone("US", "texas"), Some(Tz::America__Chicago));
        assert_eq!(region_zone("US", "NY"), None, "New York: the country's own");
        assert_eq!(region_zone("CA", "BC"), Some(Tz::America__Vancouver));
        assert_eq!(region_zone("AU", "WA"), Some(Tz::Australia__Perth));
        assert_eq!(region_zone("DE", "BY"), None);
    }

    #[test]
    fn a_zone_column_is_a_name_or_a_whole_hour_offset() {
        assert_eq!(parse_zone("America/Chicago"), Some(Tz::America__Chicago));
        assert_eq!(parse_zone("-05:00"), Some(Tz::Etc__GMTPlus5));
        assert_eq!(parse_zone("UTC+8"), Some(Tz::Etc__GMTMinus8));
        assert_eq!(parse_zone("+00:00"), Some(Tz::Etc__UTC));
        assert_eq!(parse_zone("+05:30"), None);
        assert_eq!(parse_zone("soon"), None);
        assert_eq!(parse_zone(""), None);
    }
}
