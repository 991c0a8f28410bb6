//! The write side: a [`WriteTx`] is one job of the writer (`writer.rs`), inside the single write
//! transaction of its database, so the change and its audit event commit together and the audit
//! chain has no gaps or forks.

use crate::db::{Exec, Row, Stmt, conflict, query, query_owned};
use crate::notify::{self, Notification};
use crate::rows::*;
use crate::{StoreError, StoreResult};
use bangfu_core::audit::{EventContent, GENESIS_HASH, event_hash};
use bangfu_core::model::CandidateStatus;
use sqlx::{Postgres, Transaction};
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use tokio::runtime::Runtime;

/// One job's part of a write transaction (see `writer.rs`): it runs in a savepoint of the
/// group's transaction, and the writer commits it. Its audit events are chained after every
/// event before them, so the change and its event commit together and the chain has no gaps.
pub struct WriteTx {
    conn: TxConn,
    /// Notifications to send when the write commits: on the in-process hub (SQLite), or by
    /// `pg_notify` in the group's last statement before its COMMIT (PostgreSQL).
    pending: Vec<Notification>,
    /// The (seq, hash) of the last event once this transaction has read or appended it: the
    /// write lock keeps everyone else from appending until commit, so it needs reading once.
    last_event: Option<(i64, String)>,
    /// What the group knew of the last event when this job began (restored if it is undone).
    last_at_start: Option<(i64, String)>,
    /// Events appended but not yet inserted, the group's earlier jobs' first: they are written
    /// in as few statements as it takes when the group ends (see `writer.rs`), or earlier by
    /// [`WriteTx::write_events`] — which every read of the events table inside a write calls
    /// first, so that it sees every event appended before it. No other table refers to events.
    unwritten: Vec<UnwrittenEvent>,
    /// How many of `unwritten` are the earlier jobs' (until this job inserts them).
    earlier: usize,
    /// The earlier jobs' events that this job inserted inside its savepoint: queued again if
    /// the job is undone, since its savepoint's rollback takes them out of the table.
    rescued: Vec<UnwrittenEvent>,
    /// The sequence number of the first event this transaction appended.
    first_seq: Option<i64>,
}

/// What one job of a group hands on to the next: the last audit event as the group knows it,
/// and the events appended but not yet inserted.
#[derive(Default)]
pub(crate) struct Carried {
    last_event: Option<(i64, String)>,
    unwritten: Vec<UnwrittenEvent>,
}

/// The group's transaction: PostgreSQL's through sqlx, with the writer thread's runtime that
/// drives its I/O; SQLite's writer connection.
pub(crate) enum TxConn {
    Pg(Transaction<'static, Postgres>, Arc<Runtime>),
    Lite(rusqlite::Connection),
}

/// Where a write's statements run: [`Exec`] run to its end on the writer thread, so that
/// every statement of a job is a plain call. On PostgreSQL the writer thread's runtime drives
/// the statement's network I/O; on SQLite a statement never waits and is done when called.
pub(crate) struct TxExec<'t> {
    exec: Exec<'t>,
    runtime: Option<&'t Runtime>,
}

impl<'t> TxExec<'t> {
    /// Runs `reads` (a read shared with [`Store`](crate::Store), over an [`Exec`]) to its end.
    pub(crate) fn run<F: Future>(self, reads: impl FnOnce(Exec<'t>) -> F) -> F::Output {
        let future = reads(self.exec);
        match self.runtime {
            Some(runtime) => runtime.block_on(future),
            None => done_at_once(future),
        }
    }

    /// Every row of `stmt`, each decoded by `decode`.
    pub(crate) fn rows<T>(self, stmt: Stmt, decode: impl FnMut(&dyn Row) -> StoreResult<T>) -> StoreResult<Vec<T>> {
        self.run(|e| e.rows(stmt, decode))
    }

    /// The first row of `stmt`, if any, decoded by `decode`.
    pub(crate) fn optional<T>(self, stmt: Stmt, decode: impl FnMut(&dyn Row) -> StoreResult<T>) -> StoreResult<Option<T>> {
        self.run(|e| e.optional(stmt, decode))
    }

    /// Runs `stmt`; returns the rows it changed.
    pub(crate) fn execute(self, stmt: Stmt) -> StoreResult<u64> {
        self.run(|e| e.execute(stmt))
    }

    /// Runs a script of several statements without parameters.
    pub(crate) fn batch(self, script: &str) -> StoreResult<()> {
        self.run(|e| e.batch(script))
    }
}

/// The output of a future that is ready when first polled: a statement on SQLite, which runs on
/// the calling thread (see `db.rs`) and never waits.
fn done_at_once<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("a SQLite statement runs on its thread and never waits"),
    }
}

/// An event numbered and chained, waiting to be inserted.
#[derive(Clone)]
pub(crate) struct UnwrittenEvent {
    seq: i64,
    event: NewEvent,
    prev_hash: String,
    hash: String,
}

/// Events per INSERT statement (9 parameters each, well under either backend's limit): a group
/// of need reports appends about three events each.
const EVENTS_PER_INSERT: usize = 128;

/// The upsert of `rows` candidates: a new one is inserted, one already screened for the same need
/// and provider gets the new screening (its status stays).
pub(crate) fn candidate_upsert(rows: usize) -> String {
    format!(
        "INSERT INTO candidates (need_id, provider_id, feasible, road_km, travel_h, processing_h, lead_time_h, scope, owner, reasons, \
         explanation_zh, explanation_en, status, created_at) VALUES {} \
         ON CONFLICT (need_id, provider_id) DO UPDATE SET feasible = excluded.feasible, road_km = excluded.road_km, travel_h = excluded.travel_h, \
         processing_h = excluded.processing_h, lead_time_h = excluded.lead_time_h, scope = excluded.scope, owner = excluded.owner, reasons = excluded.reasons, \
         explanation_zh = excluded.explanation_zh, explanation_en = excluded.explanation_en",
        crate::migrate::placeholders(rows, 14)
    )
}

/// The upsert of a need's screening counts (replacing the last), its 10 parameters numbered
/// from `$first`.
pub(crate) fn screening_upsert(first: usize) -> String {
    let p: Vec<String> = (first..first + 10).map(|i| format!("${i}")).collect();
    format!(
        "INSERT INTO screenings (need_id, registry_version, screened, feasible, unavailable, spec_mismatch, insufficient_capacity, too_far, too_slow, screened_at) \
         VALUES ({}) \
         ON CONFLICT (need_id) DO UPDATE SET registry_version = excluded.registry_version, screened = excluded.screened, \
         feasible = excluded.feasible, unavailable = excluded.unavailable, spec_mismatch = excluded.spec_mismatch, \
         insufficient_capacity = excluded.insufficient_capacity, too_far = excluded.too_far, too_slow = excluded.too_slow, \
         screened_at = excluded.screened_at",
        p.join(", ")
    )
}

/// A screening's 10 values, in the order of [`screening_upsert`].
pub(crate) fn bind_screening(q: Stmt, s: &ScreeningRow) -> Stmt {
    q.bind(s.need_id)
        .bind(s.registry_version)
        .bind(s.screened)
        .bind(s.feasible)
        .bind(s.unavailable)
        .bind(s.spec_mismatch)
        .bind(s.insufficient_capacity)
        .bind(s.too_far)
        .bind(s.too_slow)
        .bind(s.screened_at)
}

/// The update of a need's route, status and choice ([`WriteTx::update_need`]), its 13
/// parameters numbered from `$first`.
pub(crate) fn need_update(first: usize) -> String {
    let p = |i: usize| format!("${}", first + i - 1);
    format!(
        "UPDATE needs SET scope = {}, owner = {}, owner_tier = {}, letter_to = {}, solution_region = {}, route_zh = {}, route_en = {}, \
         status = {}, reached_owner_at = {}, supervised = {}, selected_candidate = {}, updated_at = {} WHERE id = {}",
        p(2), p(3), p(4), p(5), p(6), p(7), p(8), p(9), p(10), p(11), p(12), p(13), p(1)
    )
}

/// A need's 13 values, in the order of [`need_update`].
pub(crate) fn bind_need_update(q: Stmt, n: &NeedRow) -> Stmt {
    q.bind(n.id)
        .bind(n.scope)
        .bind(n.owner)
        .bind(n.owner_tier)
        .bind(n.letter_to)
        .bind(n.solution_region)
        .bind(&n.route_zh)
        .bind(&n.route_en)
        .bind(n.status)
        .bind(n.reached_owner_at)
        .bind(n.supervised)
        .bind(n.selected_candidate)
        .bind(n.updated_at)
}

/// The insert of a notification, its 7 parameters numbered from `$first`.
pub(crate) fn notification_insert(first: usize) -> String {
    let p: Vec<String> = (first..first + 7).map(|i| format!("${i}")).collect();
    format!("INSERT INTO notifications (department, user_id, need_id, text_zh, text_en, created_at, read_at) VALUES ({}) RETURNING id", p.join(", "))
}

/// A notification's 7 values, in the order of [`notification_insert`].
pub(crate) fn bind_notification(q: Stmt, n: &NotificationRow) -> Stmt {
    q.bind(n.department).bind(n.user_id).bind(n.need_id).bind(&n.text_zh).bind(&n.text_en).bind(n.created_at).bind(n.read_at)
}

/// A candidate's 14 values, in the order of [`candidate_upsert`].
pub(crate) fn bind_candidate(q: Stmt, c: &CandidateRow) -> Stmt {
    q.bind(c.need_id)
        .bind(c.provider_id)
        .bind(c.feasible)
        .bind(c.road_km)
        .bind(c.travel_h)
        .bind(c.processing_h)
        .bind(c.lead_time_h)
        .bind(c.scope)
        .bind(c.owner)
        .bind(&c.reasons)
        .bind(c.explanation_zh.clone())
        .bind(c.explanation_en.clone())
        .bind(c.status)
        .bind(c.created_at)
}

/// Candidate rows per upsert statement (14 parameters each).
pub(crate) const CANDIDATES_PER_STATEMENT: usize = 64;

/// The first claim of a (job, slot) inserts the row; later ones find it and insert nothing.
pub(crate) const CLAIM_JOB_SLOT: &str = "INSERT INTO job_runs (job, slot) VALUES ($1, $2) ON CONFLICT (job, slot) DO NOTHING";

impl std::fmt::Debug for WriteTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriteTx")
    }
}

impl WriteTx {
    /// A job's part of the group's transaction on `conn`, after what the group's earlier jobs
    /// hand on.
    pub(crate) fn new(conn: TxConn, carried: Carried) -> WriteTx {
        let Carried { last_event, unwritten } = carried;
        WriteTx {
            conn,
            pending: Vec::new(),
            last_at_start: last_event.clone(),
            last_event,
            earlier: unwritten.len(),
            unwritten,
            rescued: Vec::new(),
            first_seq: None,
        }
    }

    /// The connection back, for the next job or the COMMIT, with what this job hands on (after
    /// [`WriteTx::rollback_savepoint`], what the job before it handed on).
    pub(crate) fn into_parts(self) -> (TxConn, Carried) {
        (self.conn, Carried { last_event: self.last_event, unwritten: self.unwritten })
    }

    /// The notifications this job asked for, to send when the group commits.
    pub(crate) fn take_pending(&mut self) -> Vec<Notification> {
        std::mem::take(&mut self.pending)
    }

    /// Opens this job's savepoint.
    pub(crate) fn savepoint(&mut self) -> StoreResult<()> {
        self.exec().batch("SAVEPOINT bangfu_write")
    }

    /// Keeps this job's changes in the group's transaction. On PostgreSQL the savepoint is
    /// left open, saving a round trip inside the write lock: the next job's savepoint of the
    /// same name hides it, and the COMMIT keeps it.
    pub(crate) fn release(&mut self) -> StoreResult<()> {
        match self.conn {
            TxConn::Pg(..) => Ok(()),
            TxConn::Lite(_) => self.exec().batch("RELEASE SAVEPOINT bangfu_write"),
        }
    }

    /// Undoes this job's changes alone; the jobs before it in the group stay, and so do their
    /// events not yet inserted.
    pub(crate) fn rollback_savepoint(&mut self) -> StoreResult<()> {
        let mut unwritten = std::mem::take(&mut self.rescued);
        unwritten.extend(self.unwritten.drain(..self.earlier));
        self.unwritten = unwritten;
        self.earlier = self.unwritten.len();
        self.last_event = self.last_at_start.clone();
        self.pending.clear();
        self.exec().batch("ROLLBACK TO SAVEPOINT bangfu_write; RELEASE SAVEPOINT bangfu_write")
    }

    /// Whether the transaction is PostgreSQL's.
    pub(crate) fn is_pg(&self) -> bool {
        matches!(self.conn, TxConn::Pg(..))
    }

    /// Where the transaction's statements run.
    pub(crate) fn exec(&mut self) -> TxExec<'_> {
        match &mut self.conn {
            TxConn::Pg(tx, runtime) => TxExec { exec: Exec::Conn(tx), runtime: Some(runtime) },
            TxConn::Lite(conn) => TxExec { exec: Exec::Lite(conn), runtime: None },
        }
    }

    /// The last event as a read inside this transaction found it (`None`: there is none yet),
    /// unless the transaction knows it already.
    pub(crate) fn know_last_event(&mut self, last: Option<(i64, String)>) {
        if self.last_event.is_none() && self.unwritten.is_empty() {
            self.last_event = Some(last.unwrap_or_else(|| (0, GENESIS_HASH.to_string())));
        }
    }

    /// Inserts the events appended so far, in as few statements as it takes. Called before
    /// every read of the events table inside a write, and when the group ends ([`WriteTx::finish_group`]).
    pub(crate) fn write_events(&mut self) -> StoreResult<()> {
        if self.unwritten.is_empty() {
            return Ok(());
        }
        let events = std::mem::take(&mut self.unwritten);
        self.rescued.extend(events[..self.earlier].iter().cloned());
        self.earlier = 0;
        for chunk in events.chunks(EVENTS_PER_INSERT) {
            let mut sql = String::from("INSERT INTO events (seq, at, actor, action, entity, case_id, payload, prev_hash, hash) VALUES ");
            sql.push_str(&crate::migrate::placeholders(chunk.len(), 9));
            let mut stmt = query_owned(sql);
            for e in chunk {
                stmt = stmt
                    .bind(e.seq)
                    .bind(e.event.at)
                    .bind(&e.event.actor)
                    .bind(&e.event.action)
                    .bind(&e.event.entity)
                    .bind(e.event.case_id)
                    .bind(&e.event.payload)
                    .bind(&e.prev_hash)
                    .bind(&e.hash);
            }
            self.exec().execute(stmt)?;
        }
        Ok(())
    }

    /// Ends a group's work before its COMMIT: inserts the events its jobs appended and not yet
    /// inserted and, on PostgreSQL, sends its jobs' notifications (`notifications`, in the
    /// order asked, each once), which PostgreSQL delivers at the COMMIT.
    pub(crate) fn finish_group(conn: TxConn, carried: Carried, notifications: &[Notification]) -> (TxConn, StoreResult<()>) {
        let mut tx = WriteTx::new(conn, carried);
        // No job follows that could be undone: nothing to keep for queueing again.
        tx.earlier = 0;
        let result = tx.write_events().and_then(|()| tx.send_notifications(notifications));
        (tx.into_parts().0, result)
    }

    /// On PostgreSQL, `pg_notify` for each of `notifications` in one statement.
    fn send_notifications(&mut self, notifications: &[Notification]) -> StoreResult<()> {
        // DIALECT: PostgreSQL delivers a NOTIFY made in a transaction at its commit; SQLite's
        // hub is sent to by the writer after the commit.
        if !self.is_pg() {
            return Ok(());
        }
        let mut once: Vec<&Notification> = Vec::with_capacity(notifications.len());
        for n in notifications {
            if !once.contains(&n) {
                once.push(n);
            }
        }
        for chunk in once.chunks(EVENTS_PER_INSERT) {
            let sql = format!("SELECT pg_notify(c, p) FROM (VALUES {}) AS n(c, p)", crate::migrate::placeholders(chunk.len(), 2));
            let mut stmt = query_owned(sql);
            for n in chunk {
                stmt = stmt.bind(n.channel.as_str()).bind(n.payload.as_str());
            }
            self.exec().execute(stmt)?;
        }
        Ok(())
    }

    /// Sends `payload` on `channel` to every listener on every server of this database when —
    /// and only if — this write commits. See [`Store::listen`](crate::Store::listen).
    pub fn notify(&mut self, channel: &str, payload: &str) -> StoreResult<()> {
        notify::check(channel, payload)?;
        // A wake-up call said once per write is enough (PostgreSQL, too, folds the same
        // notification sent twice in one transaction into one): an escalation pass that
        // notifies one department a thousand times sends it once.
        let notification = Notification { channel: channel.to_string(), payload: payload.to_string() };
        if self.pending.contains(&notification) {
            return Ok(());
        }
        // Sent by the writer when the group commits (see `writer.rs`).
        self.pending.push(notification);
        Ok(())
    }

    /// Claims the periodic `job`'s run for time `slot` as part of this write: `true` for the
    /// first claimer on any server. The claim commits with the job's writes, so a pass that
    /// fails leaves its slot free; a concurrent claimer on another server waits for this
    /// transaction and then gets `false`. See [`Store::claim_job_slot`](crate::Store::claim_job_slot).
    pub fn claim_job_slot(&mut self, job: &str, slot: i64) -> StoreResult<bool> {
        let done = self.exec().execute(query(CLAIM_JOB_SLOT).bind(job).bind(slot))?;
        Ok(done == 1)
    }

    pub(crate) fn insert_returning_id(&mut self, q: Stmt, what: &str) -> StoreResult<i64> {
        let id = self.exec().optional(q, |r| r.try_get::<i64>("id")).map_err(|e| conflict(e, what))?;
        id.ok_or_else(|| StoreError::Decode(format!("inserting {what} returned no id")))
    }

    pub(crate) fn exec_stmt(&mut self, q: Stmt, what: &str) -> StoreResult<u64> {
        self.exec().execute(q).map_err(|e| conflict(e, what))
    }

    /// Appends an audit event after the last one, chaining its hash. Returns its sequence number.
    /// The event is inserted before the transaction's next read of the events table or at its
    /// commit.
    pub fn append_event(&mut self, event: &NewEvent) -> StoreResult<i64> {
        let (last_seq, prev_hash) = self.last_known_event()?;
        let seq = last_seq + 1;
        let content = EventContent {
            seq,
            at_ms: event.at,
            actor: &event.actor,
            action: &event.action,
            entity: &event.entity,
            case_id: event.case_id,
            payload: &event.payload,
        };
        let hash = event_hash(&prev_hash, &content);
        self.first_seq.get_or_insert(seq);
        self.last_event = Some((seq, hash.clone()));
        self.unwritten.push(UnwrittenEvent { seq, event: event.clone(), prev_hash, hash });
        Ok(seq)
    }

    pub fn insert_user(&mut self, u: &UserRow) -> StoreResult<i64> {
        let q = query(
            "INSERT INTO users (username, display_name, role, department, enterprise_id, provider_id, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(&u.username)
        .bind(&u.display_name)
        .bind(u.role)
        .bind(u.department)
        .bind(u.enterprise_id)
        .bind(u.provider_id)
        .bind(&u.password_hash)
        .bind(u.created_at);
        self.insert_returning_id(q, &format!("user {}", u.username))
    }

    pub fn insert_enterprise(&mut self, e: &EnterpriseRow) -> StoreResult<i64> {
        let q = query(
            "INSERT INTO enterprises (name, credit_code, region, lon, lat, note, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&e.name)
        .bind(&e.credit_code)
        .bind(e.region)
        .bind(e.lon)
        .bind(e.lat)
        .bind(&e.note)
        .bind(e.created_at);
        self.insert_returning_id(q, &format!("an enterprise with credit code {}", e.credit_code))
    }

    pub fn insert_provider(&mut self, p: &ProviderRow) -> StoreResult<i64> {
        let q = query(
            "INSERT INTO providers (key, name, region, lon, lat, note, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&p.key)
        .bind(&p.name)
        .bind(p.region)
        .bind(p.lon)
        .bind(p.lat)
        .bind(&p.note)
        .bind(p.created_at);
        self.insert_returning_id(q, &format!("provider {}", p.key))
    }

    /// Inserts a capability or replaces the one of the same provider and kind; returns its id.
    /// Its `version` is stamped here with [`WriteTx::change_seq`] (the row's own is ignored).
    pub fn upsert_capability(&mut self, c: &CapabilityRow) -> StoreResult<i64> {
        let version = self.change_seq()?;
        let q = query(
            "INSERT INTO capabilities (provider_id, kind, available, attrs, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (provider_id, kind) DO UPDATE SET available = excluded.available, attrs = excluded.attrs, \
             updated_at = excluded.updated_at, version = excluded.version \
             RETURNING id",
        )
        .bind(c.provider_id)
        .bind(c.kind)
        .bind(c.available)
        .bind(&c.attrs)
        .bind(c.updated_at)
        .bind(version);
        self.insert_returning_id(q, "capability")
    }

    /// A sequence number of this transaction's audit events: the first it appended, or the one
    /// the next event will take. Every change appends at least one event, so a row stamped with
    /// it lies after the database version before this transaction and at or before the one
    /// after it — which is what servers following changes by version need.
    pub fn change_seq(&mut self) -> StoreResult<i64> {
        if let Some(first) = self.first_seq {
            return Ok(first);
        }
        Ok(self.last_known_event()?.0 + 1)
    }

    /// The (seq, hash) of the last event as this transaction knows it — `(0, GENESIS_HASH)`
    /// before the first — read once.
    fn last_known_event(&mut self) -> StoreResult<(i64, String)> {
        if let Some(last) = &self.last_event {
            return Ok(last.clone());
        }
        let last = self
            .exec()
            .optional(query("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1"), |r| Ok((r.try_get("seq")?, r.try_get("hash")?)))?
            .unwrap_or_else(|| (0, GENESIS_HASH.to_string()));
        self.last_event = Some(last.clone());
        Ok(last)
    }

    /// Keeps the counts of a need's last screening (replacing the one before).
    pub fn upsert_screening(&mut self, s: &ScreeningRow) -> StoreResult<()> {
        let q = bind_screening(query_owned(screening_upsert(1)), s);
        self.exec_stmt(q, "screening").map(|_| ())
    }

    /// Removes what the registry's last screening of a need recorded (candidates still
    /// `proposed`, and rejections), before a new screening records its own; selected, replaced
    /// and proposed-switch candidates stay.
    pub fn delete_screened_candidates(&mut self, need_id: i64) -> StoreResult<u64> {
        self.exec_stmt(query("DELETE FROM candidates WHERE need_id = $1 AND status IN ('proposed', 'rejected')").bind(need_id), "candidates")
    }

    pub fn insert_case(&mut self, c: &CaseRow) -> StoreResult<i64> {
        let q = query("INSERT INTO cases (enterprise_id, title, region, opened_at, status) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(c.enterprise_id)
            .bind(&c.title)
            .bind(c.region)
            .bind(c.opened_at)
            .bind(c.status);
        self.insert_returning_id(q, "case")
    }

    pub fn insert_team_member(&mut self, m: &TeamMemberRow) -> StoreResult<i64> {
        let q = query(
            "INSERT INTO team_members (case_id, title, tier, department, role, user_id, joined_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(m.case_id)
        .bind(&m.title)
        .bind(m.tier)
        .bind(m.department)
        .bind(m.role)
        .bind(m.user_id)
        .bind(m.joined_at);
        self.insert_returning_id(q, "team member")
    }

    pub fn insert_need(&mut self, n: &NeedRow) -> StoreResult<i64> {
        let q = query(
            "INSERT INTO needs (case_id, kind, title, specification, quantity, unit, requires, deadline, max_distance_km, max_lead_time_h, \
             scope, owner, owner_tier, letter_to, solution_region, route_zh, route_en, status, reached_owner_at, supervised, selected_candidate, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23) RETURNING id",
        )
        .bind(n.case_id)
        .bind(n.kind)
        .bind(&n.title)
        .bind(&n.specification)
        .bind(n.quantity)
        .bind(&n.unit)
        .bind(&n.requires)
        .bind(n.deadline)
        .bind(n.max_distance_km)
        .bind(n.max_lead_time_h)
        .bind(n.scope)
        .bind(n.owner)
        .bind(n.owner_tier)
        .bind(n.letter_to)
        .bind(n.solution_region)
        .bind(&n.route_zh)
        .bind(&n.route_en)
        .bind(n.status)
        .bind(n.reached_owner_at)
        .bind(n.supervised)
        .bind(n.selected_candidate)
        .bind(n.created_at)
        .bind(n.updated_at);
        self.insert_returning_id(q, "need")
    }

    /// Writes back every mutable field of a need (route, status, supervision, selection).
    pub fn update_need(&mut self, n: &NeedRow) -> StoreResult<()> {
        let q = bind_need_update(query_owned(need_update(1)), n);
        match self.exec_stmt(q, "need")? {
            0 => Err(StoreError::NotFound(format!("need {}", n.id))),
            _ => Ok(()),
        }
    }

    /// Records the login limit of a key (the row replaces the key's last one).
    pub fn put_login_throttle(&mut self, t: &LoginThrottleRow) -> StoreResult<()> {
        let q = query(
            "INSERT INTO login_throttles (key, failures, last_failure_at, blocked_until) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, last_failure_at = excluded.last_failure_at, blocked_until = excluded.blocked_until",
        )
        .bind(&t.key)
        .bind(t.failures)
        .bind(t.last_failure_at)
        .bind(t.blocked_until);
        self.exec_stmt(q, "login limit").map(drop)
    }

    /// Forgets the login limit of a key.
    pub fn delete_login_throttle(&mut self, key: &str) -> StoreResult<()> {
        self.exec_stmt(query("DELETE FROM login_throttles WHERE key = $1").bind(key), "login limit").map(drop)
    }

    /// Forgets the login limits of keys that failed last before `before` and wait no more.
    pub fn forget_login_throttles(&mut self, before: i64) -> StoreResult<u64> {
        self.exec_stmt(query("DELETE FROM login_throttles WHERE last_failure_at < $1 AND blocked_until < $2").bind(before).bind(before), "login limits")
    }

    /// Inserts a candidate or refreshes the screening of the same provider for the same need.
    pub fn upsert_candidate(&mut self, c: &CandidateRow) -> StoreResult<i64> {
        let q = bind_candidate(query_owned(candidate_upsert(1) + " RETURNING id"), c);
        self.insert_returning_id(q, "candidate")
    }

    /// [`WriteTx::upsert_candidate`] for many rows (of distinct providers) in as few statements
    /// as it takes: a screening's whole record in one.
    pub fn upsert_candidates(&mut self, rows: &[CandidateRow]) -> StoreResult<()> {
        for chunk in rows.chunks(CANDIDATES_PER_STATEMENT) {
            let q = chunk.iter().fold(query_owned(candidate_upsert(chunk.len())), bind_candidate);
            self.exec_stmt(q, "candidates")?;
        }
        Ok(())
    }

    pub fn set_candidate_status(&mut self, candidate_id: i64, status: CandidateStatus) -> StoreResult<()> {
        let q = query("UPDATE candidates SET status = $2 WHERE id = $1").bind(candidate_id).bind(status);
        self.exec_stmt(q, "candidate").map(drop)
    }

    pub fn insert_shipment(&mut self, s: &ShipmentRow) -> StoreResult<i64> {
        let q = query(
            "INSERT INTO shipments (case_id, need_id, goods, origin, destination, status, traffic_pass, departs_at, arrives_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(s.case_id)
        .bind(s.need_id)
        .bind(&s.goods)
        .bind(&s.origin)
        .bind(&s.destination)
        .bind(s.status)
        .bind(&s.traffic_pass)
        .bind(s.departs_at)
        .bind(s.arrives_at);
        self.insert_returning_id(q, "shipment")
    }

    pub fn insert_approval(&mut self, a: &ApprovalRow) -> StoreResult<i64> {
        let q = query(
            "INSERT INTO approvals (case_id, department, agency, item, status, opened_at, due_at, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(a.case_id)
        .bind(a.department)
        .bind(&a.agency)
        .bind(&a.item)
        .bind(a.status)
        .bind(a.opened_at)
        .bind(a.due_at)
        .bind(a.decided_at);
        self.insert_returning_id(q, "approval")
    }

    pub fn update_approval(&mut self, id: i64, status: &str, decided_at: Option<i64>) -> StoreResult<()> {
        let q = query("UPDATE approvals SET status = $2, decided_at = $3 WHERE id = $1").bind(id).bind(status).bind(decided_at);
        self.exec_stmt(q, "approval").map(drop)
    }

    pub fn insert_letter(&mut self, l: &LetterRow) -> StoreResult<i64> {
        let q = query(
            "INSERT INTO letters (need_id, number, sender, recipients, subject, body_zh, body_en, status, created_at, sent_at, acknowledged_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(l.need_id)
        .bind(&l.number)
        .bind(l.sender)
        .bind(&l.recipients)
        .bind(&l.subject)
        .bind(&l.body_zh)
        .bind(&l.body_en)
        .bind(l.status)
        .bind(l.created_at)
        .bind(l.sent_at)
        .bind(l.acknowledged_at);
        self.insert_returning_id(q, &format!("letter {}", l.number))
    }

    /// Records the reply that acknowledged a letter: its number, date and text.
    pub fn set_letter_reply(&mut self, id: i64, number: &str, date: &str, text: &str) -> StoreResult<()> {
        let q = query("UPDATE letters SET reply_number = $2, reply_date = $3, reply_text = $4 WHERE id = $1").bind(id).bind(number).bind(date).bind(text);
        self.exec_stmt(q, "letter").map(drop)
    }

    /// Replaces a draft's text, contact and copies.
    pub fn update_letter_draft(&mut self, l: &LetterRow) -> StoreResult<()> {
        let q = query("UPDATE letters SET subject = $2, body_zh = $3, body_en = $4, contact_name = $5, contact_phone = $6, cc = $7 WHERE id = $1")
            .bind(l.id)
            .bind(&l.subject)
            .bind(&l.body_zh)
            .bind(&l.body_en)
            .bind(&l.contact_name)
            .bind(&l.contact_phone)
            .bind(&l.cc);
        self.exec_stmt(q, "letter").map(drop)
    }

    pub fn update_letter_status(&mut self, id: i64, status: &str, sent_at: Option<i64>, acknowledged_at: Option<i64>) -> StoreResult<()> {
        let q = query("UPDATE letters SET status = $2, sent_at = $3, acknowledged_at = $4 WHERE id = $1")
            .bind(id)
            .bind(status)
            .bind(sent_at)
            .bind(acknowledged_at);
        self.exec_stmt(q, "letter").map(drop)
    }

    pub fn insert_notification(&mut self, n: &NotificationRow) -> StoreResult<i64> {
        let id = self.insert_returning_id(bind_notification(query_owned(notification_insert(1)), n), "notification")?;
        self.wake_notification_listeners(n)?;
        Ok(id)
    }

    /// Wakes the department's listeners on every server when the write commits (the
    /// notifications page and the unread count in the header, by server-sent events).
    pub(crate) fn wake_notification_listeners(&mut self, n: &NotificationRow) -> StoreResult<()> {
        match &n.department {
            Some(department) => self.notify(notify::NOTIFICATIONS_CHANNEL, &department.to_string()),
            None => Ok(()),
        }
    }

    /// Records when a need was resolved (none: it is not resolved, as when reopened): the time the
    /// figures count its resolution at, which later writes of the row do not move.
    pub fn set_need_resolved_at(&mut self, need_id: i64, resolved_at: Option<i64>) -> StoreResult<()> {
        let q = query("UPDATE needs SET resolved_at = $2 WHERE id = $1").bind(need_id).bind(resolved_at);
        match self.exec_stmt(q, "need")? {
            0 => Err(StoreError::NotFound(format!("need {need_id}"))),
            _ => Ok(()),
        }
    }

    /// Assigns a need to a team member of its case (none: to nobody) and stamps its change.
    pub fn set_need_assignee(&mut self, need_id: i64, assignee: Option<i64>, updated_at: i64) -> StoreResult<()> {
        let q = query("UPDATE needs SET assignee = $2, updated_at = $3 WHERE id = $1").bind(need_id).bind(assignee).bind(updated_at);
        match self.exec_stmt(q, "need")? {
            0 => Err(StoreError::NotFound(format!("need {need_id}"))),
            _ => Ok(()),
        }
    }

    /// The team member a need is assigned to.
    pub fn need_assignee(&mut self, need_id: i64) -> StoreResult<Option<i64>> {
        let q = query("SELECT assignee FROM needs WHERE id = $1").bind(need_id);
        Ok(self.exec().optional(q, |r| r.try_get::<Option<i64>>("assignee"))?.flatten())
    }

    /// Saves a view of the queue under its name for its user, replacing one of the same name.
    pub fn put_saved_view(&mut self, v: &SavedViewRow) -> StoreResult<i64> {
        let q = query(
            "INSERT INTO saved_views (user_id, name, query, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, name) DO UPDATE SET query = excluded.query, created_at = excluded.created_at RETURNING id",
        )
        .bind(v.user_id)
        .bind(&v.name)
        .bind(&v.query)
        .bind(v.created_at);
        self.insert_returning_id(q, "saved view")
    }

    pub fn delete_saved_view(&mut self, id: i64) -> StoreResult<()> {
        self.exec_stmt(query("DELETE FROM saved_views WHERE id = $1").bind(id), "saved view").map(drop)
    }

    /// Marks every notification up to `read_through` read for a user (those it read one by one
    /// up to there are then covered by the mark).
    pub fn mark_notifications_read_through(&mut self, user_id: i64, read_through: i64, at: i64) -> StoreResult<()> {
        let q = query(
            "INSERT INTO notification_marks (user_id, read_through, at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET read_through = excluded.read_through, at = excluded.at",
        )
        .bind(user_id)
        .bind(read_through)
        .bind(at);
        self.exec_stmt(q, "notification mark")?;
        let q = query("DELETE FROM notification_reads WHERE user_id = $1 AND notification_id <= $2").bind(user_id).bind(read_through);
        self.exec_stmt(q, "notification reads").map(drop)
    }

    /// Marks one notification read for a user.
    pub fn set_notification_read(&mut self, user_id: i64, notification_id: i64, at: i64) -> StoreResult<()> {
        let q = query("INSERT INTO notification_reads (user_id, notification_id, at) VALUES ($1, $2, $3) ON CONFLICT (user_id, notification_id) DO NOTHING")
            .bind(user_id)
            .bind(notification_id)
            .bind(at);
        self.exec_stmt(q, "notification read").map(drop)
    }

    pub fn insert_session(&mut self, s: &SessionRow) -> StoreResult<()> {
        let q = query("INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&s.token_hash)
            .bind(s.user_id)
            .bind(&s.csrf)
            .bind(s.created_at)
            .bind(s.expires_at);
        self.exec_stmt(q, "session").map(drop)
    }

    pub fn delete_session(&mut self, token_hash: &str) -> StoreResult<()> {
        let q = query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash);
        self.exec_stmt(q, "session").map(drop)
    }

    /// Records a broadcast; a second broadcast of the same need to the same department is ignored.
    pub fn insert_broadcast(&mut self, b: &BroadcastRow) -> StoreResult<bool> {
        let q = query("INSERT INTO broadcasts (need_id, department, at) VALUES ($1, $2, $3) ON CONFLICT (need_id, department) DO NOTHING")
            .bind(b.need_id)
            .bind(b.department)
            .bind(b.at);
        Ok(self.exec_stmt(q, "broadcast")? > 0)
    }

    /// Inserts the return of a day and product or replaces it (a correction); returns its id.
    pub fn upsert_daily_return(&mut self, r: &DailyReturnRow) -> StoreResult<i64> {
        let q = query(
            "INSERT INTO daily_returns (case_id, day, product, capacity_per_day, output, stock, shipped, note, reported_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (case_id, day, product) DO UPDATE SET capacity_per_day = excluded.capacity_per_day, output = excluded.output, \
             stock = excluded.stock, shipped = excluded.shipped, note = excluded.note, reported_at = excluded.reported_at RETURNING id",
        )
        .bind(r.case_id)
        .bind(&r.day)
        .bind(&r.product)
        .bind(r.capacity_per_day)
        .bind(r.output)
        .bind(r.stock)
        .bind(r.shipped)
        .bind(&r.note)
        .bind(r.reported_at);
        self.insert_returning_id(q, "daily return")
    }

    /// Keeps the briefing of a department for a day: the first generation stays (a second one
    /// for the same day and department writes nothing). Returns whether it was inserted.
    pub fn insert_briefing(&mut self, b: &BriefingRow) -> StoreResult<bool> {
        let q = query("INSERT INTO briefings (department, day, generated_at, body) VALUES ($1, $2, $3, $4) ON CONFLICT (department, day) DO NOTHING")
            .bind(b.department)
            .bind(&b.day)
            .bind(b.generated_at)
            .bind(&b.body);
        Ok(self.exec_stmt(q, "briefing")? > 0)
    }

    /// Deletes a case's plan: its milestones and their blockers. Returns the milestones deleted.
    pub fn delete_plan(&mut self, case_id: i64) -> StoreResult<u64> {
        let q = query("DELETE FROM milestone_blockers WHERE milestone_id IN (SELECT id FROM milestones WHERE case_id = $1)").bind(case_id);
        self.exec_stmt(q, "milestone blocker")?;
        let q = query("DELETE FROM milestones WHERE case_id = $1").bind(case_id);
        self.exec_stmt(q, "milestone")
    }

    pub fn insert_milestone(&mut self, m: &MilestoneRow) -> StoreResult<i64> {
        let q = query(
            "INSERT INTO milestones (case_id, key, name, duration_h, after, not_before, actual_start, actual_finish, position) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(m.case_id)
        .bind(&m.key)
        .bind(&m.name)
        .bind(m.duration_h)
        .bind(&m.after)
        .bind(m.not_before)
        .bind(m.actual_start)
        .bind(m.actual_finish)
        .bind(m.position);
        self.insert_returning_id(q, &format!("milestone {}", m.key))
    }

    /// Deletes one milestone and its blockers; `false` when there was none.
    pub fn delete_milestone(&mut self, id: i64) -> StoreResult<bool> {
        let q = query("DELETE FROM milestone_blockers WHERE milestone_id = $1").bind(id);
        self.exec_stmt(q, "milestone blocker")?;
        let q = query("DELETE FROM milestones WHERE id = $1").bind(id);
        Ok(self.exec_stmt(q, "milestone")? > 0)
    }

    /// Replaces the keys a milestone waits for (a JSON list).
    pub fn update_milestone_after(&mut self, id: i64, after: &str) -> StoreResult<()> {
        let q = query("UPDATE milestones SET after = $2 WHERE id = $1").bind(id).bind(after);
        match self.exec_stmt(q, "milestone")? {
            0 => Err(StoreError::NotFound(format!("milestone {id}"))),
            _ => Ok(()),
        }
    }

    pub fn update_milestone_actuals(&mut self, id: i64, actual_start: Option<i64>, actual_finish: Option<i64>) -> StoreResult<()> {
        let q = query("UPDATE milestones SET actual_start = $2, actual_finish = $3 WHERE id = $1").bind(id).bind(actual_start).bind(actual_finish);
        match self.exec_stmt(q, "milestone")? {
            0 => Err(StoreError::NotFound(format!("milestone {id}"))),
            _ => Ok(()),
        }
    }

    /// Attaches a need to a milestone as a blocker; attaching it twice changes nothing (`false`).
    pub fn insert_milestone_blocker(&mut self, b: &MilestoneBlockerRow) -> StoreResult<bool> {
        let q = query("INSERT INTO milestone_blockers (milestone_id, need_id) VALUES ($1, $2) ON CONFLICT (milestone_id, need_id) DO NOTHING")
            .bind(b.milestone_id)
            .bind(b.need_id);
        Ok(self.exec_stmt(q, "milestone blocker")? > 0)
    }

    /// Detaches a need from a milestone; `false` when it was not attached.
    pub fn delete_milestone_blocker(&mut self, milestone_id: i64, need_id: i64) -> StoreResult<bool> {
        let q = query("DELETE FROM milestone_blockers WHERE milestone_id = $1 AND need_id = $2").bind(milestone_id).bind(need_id);
        Ok(self.exec_stmt(q, "milestone blocker")? > 0)
    }
}
