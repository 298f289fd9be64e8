# Texts customers read, in English: the reference every other language file must match key for key (a test checks).
greeting = Hello! Tell us what you need and we will answer here as soon as we can.
ticket-opened = Thanks! We received your message. Your ticket number is #{ $number }.
ticket-closed = Your ticket #{ $number } has been closed. Just write to us if anything is still open.
csat-question = How did we do with ticket #{ $number }? Please rate us from 1 (poor) to 5 (excellent).
csat-thanks = Thank you for your rating: { $rating }/5!
csat-comment-ask = Anything you would like to add? (optional)
csat-comment-reply = Anything you would like to add? Reply to this message (optional).
csat-comment-send = Send
csat-comment-thanks = Thank you for your comment!
csat-stale = Thank you! This survey is no longer current.
faq-not-yours = This answer is for someone else.
csat-not-yours = This survey is for someone else.
faq-solved-button = That solved it
faq-help-button = I still need help
faq-solved = Glad it helped! Ticket #{ $number } is closed.
faq-settled = Thank you, we already have your answer.
faq-offer-ask = Did this answer your question?
