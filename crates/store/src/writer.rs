//! The writer: one task per [`Store`](crate::Store) that runs every write of this process, in
//! the order they were asked for, with group commit.
//!
//! A write is a job, [`Store::write`](crate::Store::write)`(|tx| …)`: a closure given the
//! [`WriteTx`] that returns its result. The writer takes jobs from its queue: it opens a
//! transaction (SQLite `BEGIN IMMEDIATE`; PostgreSQL `BEGIN` and the advisory lock shared by all
//! servers), runs each job in a savepoint of its own, and commits when the queue is empty or the
//! group holds [`MAX_GROUP`] jobs — one COMMIT, in [`Writer::commit`], for the whole group, so
//! one disk flush serves many writes. Each job is answered after that COMMIT (or at once with its
//! own error: its savepoint is rolled back and the jobs before it in the group stay).
//!
//! Nothing waits on a timer, and a job never waits for another request: the writer, not a job,
//! commits, so a caller that goes away (a client gone, a timeout) leaves nothing half-done —
//! a job still queued is skipped, a job already run is committed with its group.

use crate::notify::{LocalHub, Notification};
use crate::write::{TxConn, WriteTx};
use crate::{StoreError, StoreResult};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::{mpsc, oneshot};

tokio::task_local! {
    /// Set while the writer runs a job: a write asked for from inside one is refused at once
    /// ([`StoreError::WriteInsideWrite`]) instead of waiting for ever for the writer it holds.
    static IN_JOB: ();
}

/// Jobs committed together at most.
pub(crate) const MAX_GROUP: usize = 16;

/// What a job's closure returns: a future that borrows the transaction for its run.
pub type WriteFuture<'t, T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send + 't>>;

/// What the writer does with the connection between jobs: the backend's transaction control.
pub(crate) enum Conn {
    /// SQLite's writer connection (`None` while a group holds it).
    Lite(Option<rusqlite::Connection>),
    Pg(sqlx::PgPool),
}

/// A queued write, typed away: the writer runs it and learns whether to keep it.
trait Job: Send {
    /// Whether its caller stopped waiting before it ran (then it is not run at all).
    fn abandoned(&self) -> bool;
    /// Runs the job on `tx`. `Some(answer)`: keep it and call `answer` with the group's COMMIT;
    /// `None`: it failed and its caller has its error — roll its savepoint back.
    fn run<'t>(self: Box<Self>, tx: &'t mut WriteTx) -> Pin<Box<dyn Future<Output = Option<Answer>> + Send + 't>>;
    /// Tells its caller that it was not run (the transaction could not begin).
    fn fail(self: Box<Self>, error: StoreError);
}

/// Tells a kept job's caller how the group's COMMIT went.
type Answer = Box<dyn FnOnce(Result<(), String>) + Send>;

struct TypedJob<F, T, E> {
    job: F,
    tell: oneshot::Sender<Result<T, E>>,
}

impl<F, T, E> Job for TypedJob<F, T, E>
where
    F: for<'t> FnOnce(&'t mut WriteTx) -> WriteFuture<'t, T, E> + Send + 'static,
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    fn abandoned(&self) -> bool {
        self.tell.is_closed()
    }

    fn run<'t>(self: Box<Self>, tx: &'t mut WriteTx) -> Pin<Box<dyn Future<Output = Option<Answer>> + Send + 't>> {
        let TypedJob { job, tell } = *self;
        Box::pin(async move {
            match job(tx).await {
                Ok(value) => {
                    // The job's audit events are inserted before its savepoint is released.
                    if let Err(e) = tx.write_events().await {
                        let _ = tell.send(Err(E::from(e)));
                        return None;
                    }
                    Some(Box::new(move |committed: Result<(), String>| {
                        let _ = tell.send(committed.map(|()| value).map_err(|why| E::from(StoreError::CommitFailed(why))));
                    }) as Answer)
                }
                Err(error) => {
                    let _ = tell.send(Err(error));
                    None
                }
            }
        })
    }

    fn fail(self: Box<Self>, error: StoreError) {
        let _ = self.tell.send(Err(E::from(error)));
    }
}

/// The queue of one store's writer task.
#[derive(Clone, Debug)]
pub(crate) struct Writer {
    jobs: mpsc::UnboundedSender<Box<dyn Job>>,
}

impl std::fmt::Debug for dyn Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

impl Writer {
    /// Starts the writer task of a store on the current runtime.
    pub(crate) fn start(conn: Conn, hub: LocalHub) -> Writer {
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::spawn(run(conn, hub, queue));
        Writer { jobs }
    }

    /// Queues `job` and waits for its answer, given after its group's COMMIT.
    pub(crate) async fn write<T, E, F>(&self, job: F) -> Result<T, E>
    where
        F: for<'t> FnOnce(&'t mut WriteTx) -> WriteFuture<'t, T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        if IN_JOB.try_with(|_| ()).is_ok() {
            return Err(E::from(StoreError::WriteInsideWrite));
        }
        let (tell, told) = oneshot::channel();
        self.jobs.send(Box::new(TypedJob { job, tell })).map_err(|_| E::from(StoreError::Closed))?;
        match told.await {
            Ok(answer) => answer,
            // The job was dropped unanswered: it panicked (its savepoint was rolled back).
            Err(_) => Err(E::from(StoreError::JobPanicked)),
        }
    }
}

/// The writer task: groups of jobs, each group one transaction, until every handle is gone.
async fn run(mut conn: Conn, hub: LocalHub, mut queue: mpsc::UnboundedReceiver<Box<dyn Job>>) {
    while let Some(first) = queue.recv().await {
        if first.abandoned() {
            continue;
        }
        let mut tx_conn = match begin(&mut conn).await {
            Ok(tx_conn) => tx_conn,
            Err(e) => {
                first.fail(e);
                continue;
            }
        };
        let mut answers: Vec<Answer> = Vec::new();
        let mut notifications: Vec<Notification> = Vec::new();
        // The last audit event as the group knows it (kept across its jobs).
        let mut last_event = None;
        let mut next = Some(first);
        let mut taken = 0;
        let mut broken = None;
        while let Some(job) = next.take() {
            taken += 1;
            if !job.abandoned() {
                let (conn_back, end) = run_job(job, WriteTx::new(tx_conn, last_event.clone())).await;
                tx_conn = conn_back;
                match end {
                    JobEnd::Kept { answer, last, notified } => {
                        answers.push(answer);
                        last_event = last;
                        notifications.extend(notified);
                    }
                    JobEnd::Undone => {}
                    JobEnd::Broken(why) => {
                        broken = Some(why);
                        break;
                    }
                }
            }
            if taken < MAX_GROUP {
                next = queue.try_recv().ok();
            }
        }
        // The one COMMIT (or, when a savepoint could not be undone, the one ROLLBACK).
        let result = match broken {
            Some(why) => {
                let _ = end(&mut conn, tx_conn, false).await;
                Err(why)
            }
            None => end(&mut conn, tx_conn, true).await.map_err(|e| format!("commit failed, nothing of this write was kept: {e}")),
        };
        let committed = result.is_ok();
        for answer in answers {
            answer(result.clone());
        }
        if committed {
            // DIALECT: PostgreSQL delivers a NOTIFY made in a transaction at its commit; SQLite's
            // in-process hub is sent to here, after the commit.
            if matches!(conn, Conn::Lite(_)) {
                for notification in notifications {
                    let _ = hub.send(notification);
                }
            }
        }
    }
}

/// How one job of a group ended.
enum JobEnd {
    /// Its savepoint was released: answer it with the COMMIT; what it leaves the group knowing
    /// of the last audit event, and the hub notifications to send after the COMMIT.
    Kept { answer: Answer, last: Option<(i64, String)>, notified: Vec<Notification> },
    /// It failed (its caller has the error) and its savepoint was rolled back.
    Undone,
    /// Its savepoint could not be rolled back: the group's transaction cannot go on.
    Broken(String),
}

/// Runs `job` in a savepoint of the group's transaction held by `tx`, and gives the connection
/// back with how the job ended.
async fn run_job(job: Box<dyn Job>, mut tx: WriteTx) -> (TxConn, JobEnd) {
    let answer = match tx.savepoint().await {
        Ok(()) => IN_JOB.scope((), CatchUnwind(job.run(&mut tx))).await.ok().flatten(),
        Err(e) => {
            job.fail(e);
            None
        }
    };
    let kept = match answer {
        Some(answer) => match tx.release().await {
            Ok(()) => Some(answer),
            Err(e) => {
                answer(Err(format!("could not keep this write: {e}")));
                None
            }
        },
        None => None,
    };
    let end = match kept {
        Some(answer) => JobEnd::Kept { answer, last: tx.known_last_event(), notified: tx.take_pending() },
        None => match tx.rollback_savepoint().await {
            Ok(()) => JobEnd::Undone,
            Err(e) => JobEnd::Broken(format!("the transaction was rolled back ({e}); nothing of this write was kept")),
        },
    };
    (tx.into_conn(), end)
}

/// Opens the group's transaction and hands its connection over.
async fn begin(conn: &mut Conn) -> StoreResult<TxConn> {
    match conn {
        Conn::Lite(held) => {
            let mut lite = held.take().ok_or(StoreError::Closed)?;
            if !lite.is_autocommit() {
                // A ROLLBACK that failed earlier left a transaction behind.
                lite.execute_batch("ROLLBACK")?;
            }
            match crate::db::begin_immediate(&mut lite).await {
                Ok(()) => Ok(TxConn::Lite(lite)),
                Err(e) => {
                    *held = Some(lite);
                    Err(e)
                }
            }
        }
        // DIALECT: writers are serialised across servers so that the audit chain stays linear:
        // on PostgreSQL by a transaction-scoped advisory lock shared by every server, taken with
        // BEGIN in one round trip.
        Conn::Pg(pool) => Ok(TxConn::Pg(pool.begin_with("BEGIN; SELECT pg_advisory_xact_lock(727300)").await?)),
    }
}

/// Commits (or rolls back) the group's transaction and takes its connection back.
async fn end(conn: &mut Conn, tx_conn: TxConn, commit: bool) -> StoreResult<()> {
    match tx_conn {
        TxConn::Lite(lite) => {
            let result = if commit { lite.execute_batch("COMMIT") } else { lite.execute_batch("ROLLBACK") };
            if result.is_err() && !lite.is_autocommit() {
                let _ = lite.execute_batch("ROLLBACK");
            }
            *conn = Conn::Lite(Some(lite));
            Ok(result?)
        }
        TxConn::Pg(tx) => {
            if commit {
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
            Ok(())
        }
    }
}

/// A job's future, polled so that a panic in it ends the job (its savepoint rolled back, its
/// caller told) instead of the writer task.
struct CatchUnwind<F>(F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, ()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match std::panic::catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(Err(())),
        }
    }
}
