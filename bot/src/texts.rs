//! What customers read, in their language (en, de, fi, sv, ru; English otherwise).

/// The supported language for a platform language code (`de-AT` → `de`).
pub fn language(code: Option<&str>) -> &'static str {
    let primary = code
        .and_then(|c| c.split(['-', '_']).next())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match primary.as_str() {
        "de" => "de",
        "fi" => "fi",
        "sv" => "sv",
        "ru" => "ru",
        _ => "en",
    }
}

pub fn greeting(code: Option<&str>) -> String {
    match language(code) {
        "de" => "Hallo! Schreiben Sie uns Ihr Anliegen, wir antworten hier so bald wie möglich.",
        "fi" => "Hei! Kerro asiasi, niin vastaamme tähän mahdollisimman pian.",
        "sv" => "Hej! Berätta vad det gäller så svarar vi här så snart vi kan.",
        "ru" => "Здравствуйте! Опишите ваш вопрос, и мы ответим здесь как можно скорее.",
        _ => "Hello! Tell us what you need and we will answer here as soon as we can.",
    }
    .to_string()
}

pub fn ticket_opened(code: Option<&str>, number: i64) -> String {
    match language(code) {
        "de" => {
            format!("Danke! Wir haben Ihre Nachricht erhalten. Ihre Ticketnummer ist #{number}.")
        }
        "fi" => format!("Kiitos! Saimme viestisi. Tikettisi numero on #{number}."),
        "sv" => format!("Tack! Vi har tagit emot ditt meddelande. Ditt ärendenummer är #{number}."),
        "ru" => format!("Спасибо! Мы получили ваше сообщение. Номер вашего обращения: #{number}."),
        _ => format!("Thanks! We received your message. Your ticket number is #{number}."),
    }
}

pub fn ticket_closed(code: Option<&str>, number: i64) -> String {
    match language(code) {
        "de" => format!("Ihr Ticket #{number} wurde geschlossen. Schreiben Sie uns einfach, falls noch etwas offen ist."),
        "fi" => format!("Tikettisi #{number} on suljettu. Kirjoita meille, jos asia ei ole vielä selvä."),
        "sv" => format!("Ditt ärende #{number} har stängts. Skriv till oss om något fortfarande är oklart."),
        "ru" => format!("Ваше обращение #{number} закрыто. Напишите нам, если вопрос ещё не решён."),
        _ => format!("Your ticket #{number} has been closed. Just write to us if anything is still open."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_falls_back_to_english() {
        assert_eq!(language(Some("de-AT")), "de");
        assert_eq!(language(Some("sv")), "sv");
        assert_eq!(language(Some("pt-BR")), "en");
        assert_eq!(language(None), "en");
        assert!(ticket_opened(Some("fi"), 1042).contains("#1042"));
        assert!(ticket_closed(Some("ru"), 7).contains("#7"));
    }
}
