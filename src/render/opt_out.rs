//! The one line every message ends with: how to stop these reminders
//! (`templates/<lang>/opt_out.txt`, not a step: no `Subject:` line). It sees
//! `unsubscribe.url` (the https link for this buyer, or empty) and `unsubscribe.mailto`.

/// The opt-out line of each language payremind has it in.
pub const BUILT_IN: &[(&str, &str)] = &[("en", include_str!("../../templates/en/opt_out.txt"))];

/// The Tera name of the opt-out line in `language`.
#[must_use]
pub fn name(language: &str) -> String {
    format!("opt_out/{language}")
}

/// The language whose opt-out line a message in `language` ends with: its own when payremind
/// has it (`zh-CN`, or `zh` for `zh-TW`), else English.
#[must_use]
pub fn language(language: &str) -> &'static str {
    let base = language.split(['-', '_']).next().unwrap_or_default();
    BUILT_IN
        .iter()
        .find(|(code, _)| code.eq_ignore_ascii_case(language))
        .or_else(|| {
            BUILT_IN
                .iter()
                .find(|(code, _)| code.eq_ignore_ascii_case(base))
        })
        .map_or("en", |(code, _)| code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_languages_fall_back_to_english() {
        assert_eq!(language("en"), "en");
        assert_eq!(language("en-GB"), "en");
        assert_eq!(language("xx"), "en");
        assert_eq!(name(language("xx")), "opt_out/en");
    }
}
