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

pub fn csat_question(code: Option<&str>, number: i64) -> String {
    match language(code) {
        "de" => format!("Wie waren wir bei Ticket #{number}? Bitte bewerten Sie uns von 1 (schlecht) bis 5 (sehr gut)."),
        "fi" => format!("Miten onnistuimme tiketin #{number} kanssa? Arvioi asteikolla 1 (huono) – 5 (erinomainen)."),
        "sv" => format!("Hur gjorde vi det med ärende #{number}? Betygsätt oss från 1 (dåligt) till 5 (utmärkt)."),
        "ru" => format!("Как мы справились с обращением #{number}? Оцените нас от 1 (плохо) до 5 (отлично)."),
        _ => format!("How did we do with ticket #{number}? Please rate us from 1 (poor) to 5 (excellent)."),
    }
}

pub fn csat_thanks(code: Option<&str>, rating: u8) -> String {
    match language(code) {
        "de" => format!("Danke für Ihre Bewertung: {rating}/5!"),
        "fi" => format!("Kiitos arviostasi: {rating}/5!"),
        "sv" => format!("Tack för ditt betyg: {rating}/5!"),
        "ru" => format!("Спасибо за вашу оценку: {rating}/5!"),
        _ => format!("Thank you for your rating: {rating}/5!"),
    }
}

/// A press on a survey that a newer one replaced, or on someone else's.
pub fn csat_stale(code: Option<&str>) -> String {
    match language(code) {
        "de" => "Danke! Diese Umfrage ist nicht mehr aktuell.",
        "fi" => "Kiitos! Tämä kysely ei ole enää voimassa.",
        "sv" => "Tack! Den här enkäten gäller inte längre.",
        "ru" => "Спасибо! Этот опрос уже неактуален.",
        _ => "Thank you! This survey is no longer current.",
    }
    .to_string()
}

/// A press on an FAQ answer meant for someone else.
pub fn faq_not_yours(code: Option<&str>) -> String {
    match language(code) {
        "de" => "Diese Antwort ist für jemand anderen.",
        "fi" => "Tämä vastaus on tarkoitettu jollekulle toiselle.",
        "sv" => "Det här svaret är till någon annan.",
        "ru" => "Этот ответ предназначен другому человеку.",
        _ => "This answer is for someone else.",
    }
    .to_string()
}

pub fn csat_not_yours(code: Option<&str>) -> String {
    match language(code) {
        "de" => "Diese Umfrage ist für jemand anderen.",
        "fi" => "Tämä kysely on tarkoitettu jollekulle toiselle.",
        "sv" => "Den här enkäten är till någon annan.",
        "ru" => "Этот опрос предназначен другому человеку.",
        _ => "This survey is for someone else.",
    }
    .to_string()
}

/// An FAQ answer offered to a new ticket: the entry's question and answer, then the ask.
pub fn faq_offer(code: Option<&str>, question: &str, answer: &str) -> String {
    let ask = match language(code) {
        "de" => "Hat das Ihre Frage beantwortet?",
        "fi" => "Vastasiko tämä kysymykseesi?",
        "sv" => "Besvarade det din fråga?",
        "ru" => "Это ответ на ваш вопрос?",
        _ => "Did this answer your question?",
    };
    format!("{question}\n\n{answer}\n\n{ask}")
}

pub fn faq_solved_button(code: Option<&str>) -> String {
    match language(code) {
        "de" => "Das hat geholfen",
        "fi" => "Tämä auttoi",
        "sv" => "Det löste det",
        "ru" => "Вопрос решён",
        _ => "That solved it",
    }
    .to_string()
}

pub fn faq_help_button(code: Option<&str>) -> String {
    match language(code) {
        "de" => "Ich brauche noch Hilfe",
        "fi" => "Tarvitsen vielä apua",
        "sv" => "Jag behöver fortfarande hjälp",
        "ru" => "Мне всё ещё нужна помощь",
        _ => "I still need help",
    }
    .to_string()
}

/// After "That solved it".
pub fn faq_solved(code: Option<&str>, number: i64) -> String {
    match language(code) {
        "de" => format!("Schön, dass es geholfen hat! Ticket #{number} ist geschlossen."),
        "fi" => format!("Hienoa, että tämä auttoi! Tiketti #{number} on suljettu."),
        "sv" => format!("Vad bra att det hjälpte! Ärende #{number} är stängt."),
        "ru" => format!("Рады, что это помогло! Обращение #{number} закрыто."),
        _ => format!("Glad it helped! Ticket #{number} is closed."),
    }
}

/// A press on an FAQ answer that was settled before.
pub fn faq_settled(code: Option<&str>) -> String {
    match language(code) {
        "de" => "Danke, Ihre Antwort haben wir schon.",
        "fi" => "Kiitos, vastauksesi on jo tallessa.",
        "sv" => "Tack, vi har redan ditt svar.",
        "ru" => "Спасибо, ваш ответ уже получен.",
        _ => "Thank you, we already have your answer.",
    }
    .to_string()
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
