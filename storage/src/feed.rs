//! The in-process change feed: live views (a widget socket, an open console page) watch the
//! tickets they show and are woken when one of them changes.
//!
//! Watches are keyed by ticket, so a change wakes only the views of that ticket: ten thousand
//! idle widget sockets cost nothing when some other ticket changes. A wake-up is a permit
//! ([`tokio::sync::Notify`]): changes that arrive while a view is busy re-reading are folded
//! into one more re-read, never lost. Changes made by other instances reach the feed through
//! the PostgreSQL listener (see [`crate::ChangeListener`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use tokio::sync::Notify;

/// Shared by everything in one process that changes tickets or shows them. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct ChangeFeed {
    watchers: Arc<Mutex<HashMap<i64, Vec<Weak<Notify>>>>>,
}

impl ChangeFeed {
    /// Wakes every view watching one of these tickets.
    pub fn announce(&self, tickets: impl IntoIterator<Item = i64>) {
        let mut watchers = self.watchers.lock().unwrap_or_else(PoisonError::into_inner);
        let mut tickets: Vec<i64> = tickets.into_iter().collect();
        if !tickets.is_empty() {
            // Views of every ticket (a console list) hear of each change.
            tickets.push(EVERY_TICKET);
        }
        for ticket in tickets {
            let Some(list) = watchers.get_mut(&ticket) else {
                continue;
            };
            list.retain(|weak| match weak.upgrade() {
                Some(notify) => {
                    notify.notify_one();
                    true
                }
                None => false,
            });
            if list.is_empty() {
                watchers.remove(&ticket);
            }
        }
    }

    /// A watch of no tickets yet; add the ones the view shows with [`TicketWatch::add`].
    pub fn watch(&self) -> TicketWatch {
        TicketWatch {
            feed: self.clone(),
            notify: Arc::new(Notify::new()),
            tickets: Vec::new(),
        }
    }

    /// Tickets with at least one live watch (for tests and metrics).
    pub fn watched(&self) -> usize {
        self.watchers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// The key under which views of every ticket watch (no ticket has id 0).
const EVERY_TICKET: i64 = 0;

/// One view's interest in some tickets. Dropping it ends the interest.
#[derive(Debug)]
pub struct TicketWatch {
    feed: ChangeFeed,
    notify: Arc<Notify>,
    tickets: Vec<i64>,
}

impl TicketWatch {
    /// Watches one more ticket (no-op when already watched).
    pub fn add(&mut self, ticket: i64) {
        if self.tickets.contains(&ticket) {
            return;
        }
        self.tickets.push(ticket);
        self.feed
            .watchers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(ticket)
            .or_default()
            .push(Arc::downgrade(&self.notify));
    }

    /// Watches every ticket: any change wakes this view.
    pub fn add_every_ticket(&mut self) {
        self.add(EVERY_TICKET);
    }

    /// Resolves when a watched ticket changed since the last call returned.
    pub async fn changed(&self) {
        self.notify.notified().await;
    }
}

impl Drop for TicketWatch {
    fn drop(&mut self) {
        let mut watchers = self
            .feed
            .watchers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for ticket in &self.tickets {
            if let Some(list) = watchers.get_mut(ticket) {
                list.retain(|weak| {
                    weak.strong_count() > 0
                        && !std::ptr::eq(weak.as_ptr(), Arc::as_ptr(&self.notify))
                });
                if list.is_empty() {
                    watchers.remove(ticket);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    async fn woken(watch: &TicketWatch) -> bool {
        tokio::time::timeout(Duration::from_millis(50), watch.changed())
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn only_views_of_the_changed_ticket_wake() {
        let feed = ChangeFeed::default();
        let mut one = feed.watch();
        one.add(1);
        let mut two = feed.watch();
        two.add(2);
        feed.announce([1]);
        assert!(woken(&one).await);
        assert!(!woken(&two).await);
    }

    #[tokio::test]
    async fn a_view_of_every_ticket_wakes_on_any_change() {
        let feed = ChangeFeed::default();
        let mut list = feed.watch();
        list.add_every_ticket();
        assert!(!woken(&list).await);
        feed.announce([42]);
        assert!(woken(&list).await);
        feed.announce(std::iter::empty());
        assert!(!woken(&list).await);
    }

    #[tokio::test]
    async fn changes_during_a_re_read_are_not_lost_and_fold_into_one() {
        let feed = ChangeFeed::default();
        let mut watch = feed.watch();
        watch.add(5);
        feed.announce([5]);
        feed.announce([5]);
        assert!(woken(&watch).await);
        assert!(!woken(&watch).await);
    }

    #[tokio::test]
    async fn a_dropped_watch_leaves_nothing_behind() {
        let feed = ChangeFeed::default();
        let mut a = feed.watch();
        a.add(1);
        a.add(1);
        let mut b = feed.watch();
        b.add(1);
        drop(a);
        assert_eq!(feed.watched(), 1);
        feed.announce([1]);
        assert!(woken(&b).await);
        drop(b);
        assert_eq!(feed.watched(), 0);
    }
}
