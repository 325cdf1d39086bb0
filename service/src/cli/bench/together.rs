//! Requests released together: a crowd, as (c) sends it to the service and (g) to the
//! plain cqrs-es peer. Every request waits behind one barrier so they all reach the system
//! at the same instant and contend as a real crowd does, instead of trickling in as their
//! tasks happen to be spawned. One helper for both, so the two crowds stay comparable.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a crowd got back: each request's answer with its latency (None when its task did
/// not finish, e.g. panicked), and the wall time from the release until the last answer.
pub struct Released<T> {
    pub answers: Vec<Option<(Duration, T)>>,
    pub wall: Duration,
}

/// Runs `op(0)` … `op(n - 1)` released at the same instant; each caller classifies the
/// answers itself (a 201, a conflict, an error mean different things in (c) and (g)).
pub async fn released<T, F, Fut>(n: usize, op: F) -> Released<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = T> + Send,
{
    let op = Arc::new(op);
    // One more than the crowd: this task passes the barrier too, and starts the wall clock
    // at the release rather than while the crowd is still being spawned.
    let gate = Arc::new(tokio::sync::Barrier::new(n + 1));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let (op, gate) = (op.clone(), gate.clone());
        tasks.push(tokio::spawn(async move {
            gate.wait().await;
            let t = Instant::now();
            let answer = op(i).await;
            (t.elapsed(), answer)
        }));
    }
    gate.wait().await;
    let started = Instant::now();
    let mut answers = Vec::with_capacity(n);
    for t in tasks {
        answers.push(t.await.ok());
    }
    Released {
        answers,
        wall: started.elapsed(),
    }
}
