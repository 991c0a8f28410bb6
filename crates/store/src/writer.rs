//! The writer: one thread per [`Store`](crate::Store) that runs every write of this process, in
//! the order they were asked for, with group commit.
//!
//! A write is a job, [`Store::write`](crate::Store::write)`(|tx| …)`: a synchronous closure
//! given the [`WriteTx`] that returns its result. The writer takes jobs from its queue: it opens
//! a transaction (SQLite `BEGIN IMMEDIATE`; PostgreSQL `BEGIN` and the advisory lock shared by
//! all servers), runs each job in a savepoint of its own, and commits when the queue is empty or
//! the group holds [`MAX_GROUP`] jobs — one COMMIT, in [`end`], for the whole group, so one disk
//! flush serves many writes. The jobs' audit events and (on PostgreSQL) their notifications go
//! in just before that COMMIT, in as few statements as it takes
//! ([`WriteTx::finish_group`]): on PostgreSQL every statement is a round trip made while the
//! write lock shared by all servers is held. Each job is answered after that COMMIT (or at once with its own
//! error: its savepoint is rolled back and the jobs before it in the group stay).
//!
//! A job is not a future, so it cannot wait for anything while it holds the writer — another
//! request's answer, a lock, a timer — by its type: it runs its statements and returns. (On
//! PostgreSQL the writer thread drives each statement's network I/O itself, on a one-thread
//! runtime of its own, inside [`WriteTx`].) Nothing waits on a timer, and the writer, not a job,
//! commits, so a caller that goes away (a client gone, a timeout) leaves nothing half-done — a
//! job still queued is skipped, a job already run is committed with its group.

use crate::db::Checkpointer;
use crate::notify::{LocalHub, Notification};
use crate::write::{Carried, TxConn, WriteTx};
use crate::{StoreError, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::cell::Cell;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, mpsc};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

thread_local! {
    /// Set on a writer thread: a write asked for from a job (by blocking on it) is refused at
    /// once ([`StoreError::WriteInsideWrite`]) instead of waiting for ever for the writer it holds.
    static ON_WRITER: Cell<bool> = const { Cell::new(false) };
}

/// Jobs committed together at most.
const MAX_GROUP: usize = 16;

/// Where the writer writes, as the store opens it.
pub(crate) enum Target {
    /// SQLite's writer connection, and what copies its WAL into the file.
    Lite(rusqlite::Connection, Checkpointer),
    /// A PostgreSQL database: the writer connects to it from its own thread.
    Pg(Box<PgConnectOptions>),
}

/// The writer's connection between groups.
enum Conn {
    /// SQLite's writer connection (`None` while a group holds it), and its checkpointer.
    Lite(Option<rusqlite::Connection>, Checkpointer),
    /// One PostgreSQL connection (a pool of one, which replaces it when it breaks), driven by
    /// the writer thread's own runtime.
    Pg { runtime: Arc<Runtime>, pool: PgPool },
}

/// A queued write, typed away: the writer runs it and learns whether to keep it.
trait Job: Send {
    /// Whether its caller stopped waiting before it ran (then it is not run at all).
    fn abandoned(&self) -> bool;
    /// Runs the job on `tx`. `Some(answer)`: keep it and call `answer` with the group's COMMIT;
    /// `None`: it failed and its caller has its error — roll its savepoint back.
    fn run(self: Box<Self>, tx: &mut WriteTx) -> Option<Answer>;
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
    F: FnOnce(&mut WriteTx) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    fn abandoned(&self) -> bool {
        self.tell.is_closed()
    }

    fn run(self: Box<Self>, tx: &mut WriteTx) -> Option<Answer> {
        let TypedJob { job, tell } = *self;
        match job(tx) {
            Ok(value) => {
                // The job's audit events are inserted with the group's, before its COMMIT.
                Some(Box::new(move |committed: Result<(), String>| {
                    let _ = tell.send(committed.map(|()| value).map_err(|why| E::from(StoreError::CommitFailed(why))));
                }))
            }
            Err(error) => {
                let _ = tell.send(Err(error));
                None
            }
        }
    }

    fn fail(self: Box<Self>, error: StoreError) {
        let _ = self.tell.send(Err(E::from(error)));
    }
}

/// The queue of one store's writer thread.
#[derive(Clone)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Writer")
    }
}

impl Writer {
    /// Starts the writer thread of a store on `target` (on PostgreSQL, once it has connected).
    /// The thread ends when the last handle of the store is dropped.
    pub(crate) async fn start(target: Target, hub: LocalHub) -> StoreResult<Writer> {
        let (jobs, queue) = mpsc::channel::<Box<dyn Job>>();
        let (ready, started) = oneshot::channel();
        std::thread::Builder::new()
            .name("bangfu-writer".into())
            .spawn(move || {
                let conn = match connect(target) {
                    Ok(conn) => conn,
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                if ready.send(Ok(())).is_ok() {
                    ON_WRITER.with(|on| on.set(true));
                    run(conn, hub, queue);
                }
            })
            .map_err(|e| StoreError::WriterNotStarted(format!("no thread: {e}")))?;
        started.await.map_err(|_| StoreError::Closed)??;
        Ok(Writer { jobs })
    }

    /// Queues `job` and waits for its answer, given after its group's COMMIT.
    pub(crate) async fn write<T, E, F>(&self, job: F) -> Result<T, E>
    where
        F: FnOnce(&mut WriteTx) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        if ON_WRITER.with(Cell::get) {
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

/// The writer's connection to `target`.
fn connect(target: Target) -> StoreResult<Conn> {
    match target {
        Target::Lite(conn, checkpointer) => Ok(Conn::Lite(Some(conn), checkpointer)),
        Target::Pg(options) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| StoreError::WriterNotStarted(format!("no runtime: {e}")))?;
            let pool = runtime.block_on(PgPoolOptions::new().max_connections(1).test_before_acquire(false).connect_with(*options))?;
            Ok(Conn::Pg { runtime: Arc::new(runtime), pool })
        }
    }
}

/// The writer thread: groups of jobs, each group one transaction, until every handle is gone.
fn run(mut conn: Conn, hub: LocalHub, queue: mpsc::Receiver<Box<dyn Job>>) {
    while let Ok(first) = queue.recv() {
        if first.abandoned() {
            continue;
        }
        let mut tx_conn = match begin(&mut conn) {
            Ok(tx_conn) => tx_conn,
            Err(e) => {
                first.fail(e);
                continue;
            }
        };
        let mut answers: Vec<Answer> = Vec::new();
        let mut notifications: Vec<Notification> = Vec::new();
        // The last audit event as the group knows it, and its events not yet inserted.
        let mut carried = Carried::default();
        let mut next = Some(first);
        let mut taken = 0;
        let mut broken = None;
        while let Some(job) = next.take() {
            taken += 1;
            if !job.abandoned() {
                let (conn_back, after, end) = run_job(job, WriteTx::new(tx_conn, carried));
                tx_conn = conn_back;
                carried = after;
                match end {
                    JobEnd::Kept { answer, notified } => {
                        answers.push(answer);
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
        // The group's events and notifications, then the one COMMIT (or, when a savepoint could
        // not be undone or they could not be written, the one ROLLBACK).
        if broken.is_none() && !answers.is_empty() {
            let (conn_back, finished) = WriteTx::finish_group(tx_conn, carried, &notifications);
            tx_conn = conn_back;
            if let Err(e) = finished {
                broken = Some(format!("the audit events could not be written ({e}); nothing of this write was kept"));
            }
        }
        let result = match broken {
            Some(why) => {
                let _ = end(&mut conn, tx_conn, false);
                Err(why)
            }
            None => end(&mut conn, tx_conn, true).map_err(|e| format!("commit failed, nothing of this write was kept: {e}")),
        };
        let committed = result.is_ok();
        for answer in answers {
            answer(result.clone());
        }
        if committed {
            // DIALECT: PostgreSQL delivers a NOTIFY made in a transaction at its commit; SQLite's
            // in-process hub is sent to here, after the commit.
            if let Conn::Lite(_, checkpointer) = &conn {
                checkpointer.committed();
                for notification in notifications {
                    let _ = hub.send(notification);
                }
            }
        }
    }
}

/// How one job of a group ended.
enum JobEnd {
    /// Its savepoint was kept: answer it with the COMMIT; the notifications to send with it.
    Kept { answer: Answer, notified: Vec<Notification> },
    /// It failed (its caller has the error) and its savepoint was rolled back.
    Undone,
    /// Its savepoint could not be rolled back: the group's transaction cannot go on.
    Broken(String),
}

/// Runs `job` in a savepoint of the group's transaction held by `tx`, and gives the connection
/// back with what the job hands on to the next and how it ended. A job that panics is undone
/// like one that failed (its caller's answer is dropped with it, which tells the caller
/// [`StoreError::JobPanicked`]).
fn run_job(job: Box<dyn Job>, mut tx: WriteTx) -> (TxConn, Carried, JobEnd) {
    let answer = match tx.savepoint() {
        Ok(()) => std::panic::catch_unwind(AssertUnwindSafe(|| job.run(&mut tx))).ok().flatten(),
        Err(e) => {
            job.fail(e);
            None
        }
    };
    let kept = match answer {
        Some(answer) => match tx.release() {
            Ok(()) => Some(answer),
            Err(e) => {
                answer(Err(format!("could not keep this write: {e}")));
                None
            }
        },
        None => None,
    };
    let end = match kept {
        Some(answer) => JobEnd::Kept { answer, notified: tx.take_pending() },
        None => match tx.rollback_savepoint() {
            Ok(()) => JobEnd::Undone,
            Err(e) => JobEnd::Broken(format!("the transaction was rolled back ({e}); nothing of this write was kept")),
        },
    };
    let (conn, carried) = tx.into_parts();
    (conn, carried, end)
}

/// Opens the group's transaction and hands its connection over.
fn begin(conn: &mut Conn) -> StoreResult<TxConn> {
    match conn {
        Conn::Lite(held, _) => {
            let lite = held.take().ok_or(StoreError::Closed)?;
            if !lite.is_autocommit() {
                // A ROLLBACK that failed earlier left a transaction behind.
                if let Err(e) = lite.execute_batch("ROLLBACK") {
                    *held = Some(lite);
                    return Err(e.into());
                }
            }
            // Another process holding the file's write lock (a `bangfu` command beside the
            // server) is waited for on this thread, up to the connection's busy timeout.
            match lite.execute_batch("BEGIN IMMEDIATE") {
                Ok(()) => Ok(TxConn::Lite(lite)),
                Err(e) => {
                    *held = Some(lite);
                    Err(e.into())
                }
            }
        }
        // DIALECT: writers are serialised across servers so that the audit chain stays linear:
        // on PostgreSQL by a transaction-scoped advisory lock shared by every server, taken with
        // BEGIN in one round trip.
        Conn::Pg { runtime, pool } => {
            let tx = runtime.block_on(pool.begin_with("BEGIN; SELECT pg_advisory_xact_lock(727300)"))?;
            Ok(TxConn::Pg(tx, Arc::clone(runtime)))
        }
    }
}

/// Commits (or rolls back) the group's transaction and takes its connection back.
fn end(conn: &mut Conn, tx_conn: TxConn, commit: bool) -> StoreResult<()> {
    match tx_conn {
        TxConn::Lite(lite) => {
            let result = if commit { lite.execute_batch("COMMIT") } else { lite.execute_batch("ROLLBACK") };
            if result.is_err() && !lite.is_autocommit() {
                let _ = lite.execute_batch("ROLLBACK");
            }
            if let Conn::Lite(held, _) = conn {
                *held = Some(lite);
            }
            Ok(result?)
        }
        TxConn::Pg(tx, runtime) => {
            if commit {
                runtime.block_on(tx.commit())?;
            } else {
                runtime.block_on(tx.rollback())?;
            }
            Ok(())
        }
    }
}
