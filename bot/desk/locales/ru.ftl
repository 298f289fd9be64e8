# Texts customers read, in ru. It has every key of en.ftl (a test checks).
greeting = Здравствуйте! Опишите ваш вопрос, и мы ответим здесь как можно скорее.
ticket-opened = Спасибо! Мы получили ваше сообщение. Номер вашего обращения: #{ $number }.
ticket-closed = Ваше обращение #{ $number } закрыто. Напишите нам, если вопрос ещё не решён.
csat-question = Как мы справились с обращением #{ $number }? Оцените нас от 1 (плохо) до 5 (отлично).
csat-thanks = Спасибо за вашу оценку: { $rating }/5!
csat-comment-ask = Хотите что-нибудь добавить? (необязательно)
csat-comment-send = Отправить
csat-comment-thanks = Спасибо за ваш комментарий!
csat-stale = Спасибо! Этот опрос уже неактуален.
faq-not-yours = Этот ответ предназначен другому человеку.
csat-not-yours = Этот опрос предназначен другому человеку.
faq-solved-button = Вопрос решён
faq-help-button = Мне всё ещё нужна помощь
faq-solved = Рады, что это помогло! Обращение #{ $number } закрыто.
faq-settled = Спасибо, ваш ответ уже получен.
faq-offer-ask = Это ответ на ваш вопрос?
