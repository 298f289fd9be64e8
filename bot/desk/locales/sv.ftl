# Texts customers read, in sv. It has every key of en.ftl (a test checks).
greeting = Hej! Berätta vad det gäller så svarar vi här så snart vi kan.
ticket-opened = Tack! Vi har tagit emot ditt meddelande. Ditt ärendenummer är #{ $number }.
ticket-closed = Ditt ärende #{ $number } har stängts. Skriv till oss om något fortfarande är oklart.
csat-question = Hur gjorde vi det med ärende #{ $number }? Betygsätt oss från 1 (dåligt) till 5 (utmärkt).
csat-thanks = Tack för ditt betyg: { $rating }/5!
csat-comment-ask = Vill du lägga till något? (valfritt)
csat-comment-reply = Vill du lägga till något? Svara på det här meddelandet (valfritt).
csat-comment-send = Skicka
csat-comment-thanks = Tack för din kommentar!
csat-stale = Tack! Den här enkäten gäller inte längre.
faq-not-yours = Det här svaret är till någon annan.
csat-not-yours = Den här enkäten är till någon annan.
faq-solved-button = Det löste det
faq-help-button = Jag behöver fortfarande hjälp
faq-solved = Vad bra att det hjälpte! Ärende #{ $number } är stängt.
faq-settled = Tack, vi har redan ditt svar.
faq-offer-ask = Besvarade det din fråga?
