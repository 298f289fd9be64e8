//! Customer texts queued for one staff thread, sent as one post: when a lane has fallen behind
//! (rate limits, an outage), the rows waiting behind its head are joined into the head's post,
//! each text whole and in order, as long as the post stays within the platform's limit.

use relaydesk_storage::{AuthorKind, StorageError, Tx};

use crate::hub::Delivery;

/// Rows looked at behind a lane's head.
pub(super) const MAX_FOLLOWERS: i64 = 100;

/// Characters an adapter may put around the texts (`💬 {author}:` and line breaks), beyond
/// the author's name.
const HEADER_ALLOWANCE: usize = 8;

/// A customer's plain text bound for a staff thread: the kind of row that may share a post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Joinable {
    pub customer_id: i64,
    pub author: String,
    pub text: String,
}

/// Whether `delivery` is a customer's text without files (and so may be joined), read from
/// the store.
pub(super) async fn joinable(
    tx: &mut Tx,
    delivery: &Delivery,
) -> Result<Option<Joinable>, StorageError> {
    let Delivery::StaffMessage { message_id } = delivery else {
        return Ok(None);
    };
    let message = tx.message(*message_id).await?;
    let plain_customer_text = message.author_kind == AuthorKind::Customer
        && !message.internal
        && message.attachments.is_empty()
        && !message.body.trim().is_empty();
    Ok(match (plain_customer_text, message.customer_id) {
        (true, Some(customer_id)) => Some(Joinable {
            customer_id,
            author: message.author_name,
            text: message.body,
        }),
        _ => None,
    })
}

/// How many of `followers` (in lane order; `None` for rows that may not be joined) go into
/// the head's post: the longest run of joinable texts of the head's author whose joined post
/// stays within `limit` characters.
pub(super) fn plan(limit: usize, head: &Joinable, followers: &[Option<Joinable>]) -> usize {
    let mut size = head.author.chars().count() + HEADER_ALLOWANCE + head.text.chars().count();
    if size > limit {
        return 0;
    }
    let mut taken = 0;
    for follower in followers {
        let Some(next) = follower else { break };
        if next.customer_id != head.customer_id || next.author != head.author {
            break;
        }
        size += 1 + next.text.chars().count();
        if size > limit {
            break;
        }
        taken += 1;
    }
    taken
}

/// The texts of one post, in order, one after another on their own lines.
pub(super) fn join<'a>(texts: impl IntoIterator<Item = &'a str>) -> String {
    texts.into_iter().collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(customer_id: i64, author: &str, text: &str) -> Option<Joinable> {
        Some(Joinable {
            customer_id,
            author: author.into(),
            text: text.into(),
        })
    }

    #[test]
    fn joins_the_run_of_the_same_customer_within_the_limit() {
        let head = text(1, "Ann", "hello").expect("a text");
        // "Ann" + allowance 8 + 5 = 16; each follower adds its length and a line break.
        let followers = [
            text(1, "Ann", "one"),
            text(1, "Ann", "two"),
            None,
            text(1, "Ann", "after a file"),
        ];
        assert_eq!(
            plan(100, &head, &followers),
            2,
            "stops at the row with a file"
        );
        assert_eq!(
            plan(20, &head, &followers),
            1,
            "16 + 4 fits, + 4 more does not"
        );
        assert_eq!(plan(19, &head, &followers), 0);
        assert_eq!(plan(10, &head, &followers), 0, "the head alone is too long");
        let other = [text(2, "Bo", "hi"), text(1, "Ann", "x")];
        assert_eq!(plan(100, &head, &other), 0, "another author ends the run");
        assert_eq!(join(["a", "b c", "d"]), "a\nb c\nd");
    }
}
