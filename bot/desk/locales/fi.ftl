# Texts customers read, in fi. It has every key of en.ftl (a test checks).
greeting = Hei! Kerro asiasi, niin vastaamme tähän mahdollisimman pian.
ticket-opened = Kiitos! Saimme viestisi. Tikettisi numero on #{ $number }.
ticket-closed = Tikettisi #{ $number } on suljettu. Kirjoita meille, jos asia ei ole vielä selvä.
csat-question = Miten onnistuimme tiketin #{ $number } kanssa? Arvioi asteikolla 1 (huono) – 5 (erinomainen).
csat-thanks = Kiitos arviostasi: { $rating }/5!
csat-comment-ask = Haluatko lisätä jotain? (valinnainen)
csat-comment-reply = Haluatko lisätä jotain? Vastaa tähän viestiin (valinnainen).
csat-comment-send = Lähetä
csat-comment-thanks = Kiitos kommentistasi!
csat-stale = Kiitos! Tämä kysely ei ole enää voimassa.
faq-not-yours = Tämä vastaus on tarkoitettu jollekulle toiselle.
csat-not-yours = Tämä kysely on tarkoitettu jollekulle toiselle.
faq-solved-button = Tämä auttoi
faq-help-button = Tarvitsen vielä apua
faq-solved = Hienoa, että tämä auttoi! Tiketti #{ $number } on suljettu.
faq-settled = Kiitos, vastauksesi on jo tallessa.
faq-offer-ask = Vastasiko tämä kysymykseesi?
