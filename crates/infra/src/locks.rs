//! Per-aggregate locks inside one process.
//!
//! A crowd submitting to one term would otherwise load the same stream concurrently and all
//! but one would lose the optimistic-concurrency race (STACK.md, defect 4). Queueing them on
//! a lock per aggregate turns that crowd into a line.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// A map of lazily created async mutexes keyed by aggregate id; entries vanish when unused.
#[derive(Default)]
pub struct KeyedLocks {
    inner: Mutex<HashMap<String, Weak<AsyncMutex<()>>>>,
}

impl KeyedLocks {
    /// Waits for and takes the lock of `key`.
    pub async fn lock(&self, key: &str) -> OwnedMutexGuard<()> {
        let mutex = {
            let mut map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(existing) = map.get(key).and_then(Weak::upgrade) {
                existing
            } else {
                // Drop entries nobody holds any more so the map does not grow forever.
                if map.len() > 1024 {
                    map.retain(|_, weak| weak.strong_count() > 0);
                }
                let fresh = Arc::new(AsyncMutex::new(()));
                map.insert(key.to_owned(), Arc::downgrade(&fresh));
                fresh
            }
        };
        mutex.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn one_holder_per_key_at_a_time() {
        let locks = Arc::new(KeyedLocks::default());
        let inside = Arc::new(AtomicUsize::new(0));
        let max_inside = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (locks, inside, max_inside) = (locks.clone(), inside.clone(), max_inside.clone());
            tasks.push(tokio::spawn(async move {
                let _g = locks.lock("same").await;
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                max_inside.fetch_max(now, Ordering::SeqCst);
                tokio::task::yield_now().await;
                inside.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        assert_eq!(max_inside.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn different_keys_do_not_block_each_other() {
        let locks = KeyedLocks::default();
        let _a = locks.lock("a").await;
        let b = tokio::time::timeout(std::time::Duration::from_millis(200), locks.lock("b")).await;
        assert!(b.is_ok());
    }
}
