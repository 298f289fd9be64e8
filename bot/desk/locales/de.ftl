# Texts customers read, in de. It has every key of en.ftl (a test checks).
greeting = Hallo! Schreiben Sie uns Ihr Anliegen, wir antworten hier so bald wie möglich.
ticket-opened = Danke! Wir haben Ihre Nachricht erhalten. Ihre Ticketnummer ist #{ $number }.
ticket-closed = Ihr Ticket #{ $number } wurde geschlossen. Schreiben Sie uns einfach, falls noch etwas offen ist.
csat-question = Wie waren wir bei Ticket #{ $number }? Bitte bewerten Sie uns von 1 (schlecht) bis 5 (sehr gut).
csat-thanks = Danke für Ihre Bewertung: { $rating }/5!
csat-comment-ask = Möchten Sie noch etwas hinzufügen? (optional)
csat-comment-reply = Möchten Sie noch etwas hinzufügen? Antworten Sie auf diese Nachricht (optional).
csat-comment-send = Senden
csat-comment-thanks = Danke für Ihren Kommentar!
csat-stale = Danke! Diese Umfrage ist nicht mehr aktuell.
faq-not-yours = Diese Antwort ist für jemand anderen.
csat-not-yours = Diese Umfrage ist für jemand anderen.
faq-solved-button = Das hat geholfen
faq-help-button = Ich brauche noch Hilfe
faq-solved = Schön, dass es geholfen hat! Ticket #{ $number } ist geschlossen.
faq-settled = Danke, Ihre Antwort haben wir schon.
faq-offer-ask = Hat das Ihre Frage beantwortet?
