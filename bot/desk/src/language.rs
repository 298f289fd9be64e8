//! The languages Relaydesk speaks.

/// A supported language; anything else reads English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    En,
    De,
    Fi,
    Sv,
    Ru,
}

impl Language {
    pub const ALL: [Language; 5] = [
        Language::En,
        Language::De,
        Language::Fi,
        Language::Sv,
        Language::Ru,
    ];

    /// The supported language for a platform language code (`de-AT` → German, `pt` → English).
    pub fn from_code(code: Option<&str>) -> Language {
        let primary = code
            .and_then(|c| c.split(['-', '_']).next())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        match primary.as_str() {
            "de" => Language::De,
            "fi" => Language::Fi,
            "sv" => Language::Sv,
            "ru" => Language::Ru,
            _ => Language::En,
        }
    }

    /// ISO 639-1 code: `en`, `de`, …
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::De => "de",
            Language::Fi => "fi",
            Language::Sv => "sv",
            Language::Ru => "ru",
        }
    }
}

/// One text in every [`Language`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Translated {
    pub en: &'static str,
    pub de: &'static str,
    pub fi: &'static str,
    pub sv: &'static str,
    pub ru: &'static str,
}

impl Translated {
    pub fn get(&self, language: Language) -> &'static str {
        match language {
            Language::En => self.en,
            Language::De => self.de,
            Language::Fi => self.fi,
            Language::Sv => self.sv,
            Language::Ru => self.ru,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_fall_back_to_english() {
        assert_eq!(Language::from_code(Some("de-AT")), Language::De);
        assert_eq!(Language::from_code(Some("SV")), Language::Sv);
        assert_eq!(Language::from_code(Some("pt-BR")), Language::En);
        assert_eq!(Language::from_code(None), Language::En);
    }
}
