//! Group commit: work that arrives while earlier work is being written goes into the store
//! together, in one transaction, and each caller is answered only after that commit.
//!
//! Every caller puts its item in the queue, then waits for its answer or for a turn,
//! whichever comes first; whoever gets a turn writes what is queued, group after group, until
//! its own item is written, and then passes the turn on. Under no load an item
//! is written alone, as soon as it comes; under load the queue fills while the previous group
//! commits, so groups grow with the load. The customer messages of the hub and the outcomes
//! of the outbox workers go this way.

use std::future::Future;

use relaydesk_storage::Backend;
use tokio::sync::{oneshot, Semaphore};

/// Where a group's writer sends one caller's answer.
pub type Answer<R> = oneshot::Sender<R>;

/// The items of one group, each with where its answer goes.
pub type Group<T, R> = Vec<(T, Answer<R>)>;

/// Items waiting to be written, and the turns to write them.
#[derive(Debug)]
pub struct GroupCommit<T, R> {
    waiting: std::sync::Mutex<Group<T, R>>,
    turns: Semaphore,
    most: usize,
}

impl<T: Send + 'static, R: Send + 'static> GroupCommit<T, R> {
    /// SQLite has one writer: one group at a time. PostgreSQL commits several side by side
    /// (each waits for its own flush of the log), so a few groups run at once. A group holds
    /// at most `most` items; a longer queue is written in several.
    pub fn for_backend(backend: Backend, most: usize) -> Self {
        let turns = match backend {
            Backend::Sqlite => 1,
            Backend::Postgres => 4,
        };
        Self::with_turns(turns, most)
    }

    /// At most `turns` groups written at once, each of at most `most` items.
    pub fn with_turns(turns: usize, most: usize) -> Self {
        Self {
            waiting: std::sync::Mutex::default(),
            turns: Semaphore::new(turns.max(1)),
            most: most.max(1),
        }
    }

    /// Queues `item` and returns its answer once a group holding it was written. `write`
    /// writes one group and answers each of its items; it runs in a task of its own, so a
    /// caller that stops waiting cannot leave the others of its group unanswered. `None`
    /// when the item's answer was dropped unsent (its group's task panicked).
    pub async fn submit<W, F>(&self, item: T, write: W) -> Option<R>
    where
        W: Fn(Group<T, R>) -> F,
        F: Future<Output = ()> + Send + 'static,
    {
        let (answer, mut answered) = oneshot::channel();
        self.lock().push((item, answer));
        // A caller whose item went with another's group must not then queue for a turn it no
        // longer needs (every later caller would wait behind it, and each turn would write
        // one item).
        let turn = tokio::select! {
            biased;
            answer = &mut answered => return answer.ok(),
            turn = self.turns.acquire() => turn,
        };
        // The semaphore is never closed, so a turn is always had. The turn is kept only until
        // this caller's own item is written: under steady load one caller must not write
        // everyone's groups for ever. Whoever else has an item queued is waiting for the turn.
        let mut own = None;
        if turn.is_ok() {
            loop {
                // Callers answered by the last group are about to queue again: let them.
                tokio::task::yield_now().await;
                let group = self.take();
                if group.is_empty() {
                    break;
                }
                if let Err(error) = tokio::spawn(write(group)).await {
                    tracing::error!(%error, "writing a group stopped");
                }
                match answered.try_recv() {
                    Ok(answer) => {
                        own = Some(answer);
                        break;
                    }
                    Err(oneshot::error::TryRecvError::Empty) => {}
                    Err(oneshot::error::TryRecvError::Closed) => return None,
                }
            }
        }
        drop(turn);
        match own {
            Some(answer) => Some(answer),
            None => answered.await.ok(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Group<T, R>> {
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn take(&self) -> Group<T, R> {
        let mut waiting = self.lock();
        let take = waiting.len().min(self.most);
        waiting.drain(..take).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    /// Many callers at once: every one gets the answer for its own item, and items are
    /// written in fewer groups than there are callers.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn each_caller_gets_its_own_answer_and_groups_form_under_load() {
        let commit = Arc::new(GroupCommit::<u32, u32>::for_backend(Backend::Sqlite, 64));
        let groups = Arc::new(AtomicUsize::new(0));
        let mut callers = tokio::task::JoinSet::new();
        for n in 0..200u32 {
            let commit = commit.clone();
            let groups = groups.clone();
            callers.spawn(async move {
                let answer = commit
                    .submit(n, |group| {
                        let groups = groups.clone();
                        async move {
                            groups.fetch_add(1, Ordering::SeqCst);
                            // A write that takes a while, as a commit does.
                            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                            for (item, answer) in group {
                                let _ = answer.send(item * 2);
                            }
                        }
                    })
                    .await;
                (n, answer)
            });
        }
        while let Some(joined) = callers.join_next().await {
            let (n, answer) = joined.expect("caller ran");
            assert_eq!(answer, Some(n * 2), "caller {n} got its own answer");
        }
        let groups = groups.load(Ordering::SeqCst);
        assert!(groups < 200, "200 items went in {groups} groups");
    }

    /// The caller holding the turn stops once its own item is written: items queued
    /// meanwhile are written by one of their own callers.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_turn_passes_on_once_the_holders_item_is_written() {
        let commit = Arc::new(GroupCommit::<u32, u32>::for_backend(Backend::Sqlite, 64));
        let writing = Arc::new(tokio::sync::Notify::new());
        let release = Arc::new(tokio::sync::Semaphore::new(0));
        // Who wrote each group: the caller whose `write` ran it, and the group's items.
        let written = Arc::new(std::sync::Mutex::new(Vec::<(u32, Vec<u32>)>::new()));
        let submit = |caller: u32| {
            let (commit, writing, release, written) = (
                commit.clone(),
                writing.clone(),
                release.clone(),
                written.clone(),
            );
            tokio::spawn(async move {
                commit
                    .submit(caller, |group| {
                        let (writing, release, written) =
                            (writing.clone(), release.clone(), written.clone());
                        async move {
                            writing.notify_one();
                            release.acquire().await.expect("open").forget();
                            let items = group.iter().map(|(item, _)| *item).collect();
                            written.lock().expect("lock").push((caller, items));
                            for (item, answer) in group {
                                let _ = answer.send(item);
                            }
                        }
                    })
                    .await
            })
        };
        let first = submit(1);
        writing.notified().await;
        // Both are queued behind the first group before it is let go, 2 before 3 (two
        // spawned tasks on two threads could otherwise queue in either order).
        let mut later = Vec::new();
        for (queued, caller) in [(1, 2), (2, 3)] {
            later.push(submit(caller));
            while commit.lock().len() < queued {
                tokio::task::yield_now().await;
            }
        }
        release.add_permits(2);
        assert_eq!(first.await.expect("first"), Some(1));
        for (caller, task) in [2, 3].into_iter().zip(later) {
            assert_eq!(task.await.expect("later"), Some(caller));
        }
        let written = written.lock().expect("lock").clone();
        assert_eq!(written.len(), 2, "two groups: {written:?}");
        assert_eq!(written[0], (1, vec![1]));
        assert_ne!(
            written[1].0, 1,
            "the second group was written by its own caller"
        );
        assert_eq!(written[1].1, vec![2, 3]);
    }

    /// A group that drops an answer unsent leaves that caller with `None`, not waiting
    /// forever.
    #[tokio::test]
    async fn an_unsent_answer_is_none() {
        let commit = GroupCommit::<u32, u32>::for_backend(Backend::Postgres, 8);
        let answer = commit.submit(1, |group| async move { drop(group) }).await;
        assert_eq!(answer, None);
    }
}
