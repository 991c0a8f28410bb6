//! The read side. Each query is written once and offered both on [`Store`] (the read pool) and
//! on [`WriteTx`] (inside the write transaction, to read what it is about to change).

use crate::db::{Exec, LiteReader, query};
use crate::rows::*;
use crate::{Store, StoreResult, WriteTx};
use bangfu_core::outbox::MessageStatus;
use sqlx::Postgres;

/// Where a single read of [`Store`] runs: the PostgreSQL pool, or a SQLite reader taken for it.
pub(crate) enum Reader<'s> {
    Pool(&'s sqlx::PgPool),
    Lite(LiteReader),
}

impl Reader<'_> {
    pub(crate) fn exec(&mut self) -> Exec<'_> {
        match self {
            Reader::Pool(pool) => Exec::Pool(pool),
            Reader::Lite(reader) => Exec::Lite(reader.conn()),
        }
    }
}

impl Store {
    pub(crate) async fn reader(&self) -> StoreResult<Reader<'_>> {
        Ok(match &self.conns {
            crate::Conns::Lite(lite) => Reader::Lite(lite.reader().await?),
            crate::Conns::Pg(pg) => Reader::Pool(&pg.read),
        })
    }
}

/// One connection of the read pool, held for several reads: a view that makes five reads takes
/// the connection once. Offers every read that [`Store`] offers.
pub struct ReadConn {
    inner: ReadInner,
}

enum ReadInner {
    Pg(sqlx::pool::PoolConnection<Postgres>),
    Lite(LiteReader),
}

impl ReadConn {
    pub(crate) fn exec(&mut self) -> Exec<'_> {
        match &mut self.inner {
            ReadInner::Pg(conn) => Exec::Conn(conn),
            ReadInner::Lite(reader) => Exec::Lite(reader.conn()),
        }
    }
}

impl std::fmt::Debug for ReadConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReadConn")
    }
}

impl Store {
    /// A connection of the read pool for several reads in a row.
    pub async fn reading(&self) -> StoreResult<ReadConn> {
        let inner = match &self.conns {
            crate::Conns::Lite(lite) => ReadInner::Lite(lite.reader().await?),
            crate::Conns::Pg(pg) => ReadInner::Pg(pg.read.acquire().await?),
        };
        Ok(ReadConn { inner })
    }
}

/// The channels a notice reaches (see `channels_of_notice`), each with its `reach`.
pub(crate) const CHANNELS_OF_NOTICE: &str = "SELECT * FROM (\
       SELECT 0 AS reach, c.* FROM channels c WHERE c.department = $1 AND c.active = 1 \
       UNION ALL SELECT 1 AS reach, c.* FROM channels c WHERE c.active = 1 \
         AND c.enterprise_id IN (SELECT enterprise_id FROM cases WHERE id = $2 OR id = $3) \
       UNION ALL SELECT 2 AS reach, c.* FROM channels c WHERE c.active = 1 \
         AND c.provider_id IN (SELECT provider_id FROM candidates WHERE id = $4)\
     ) reached ORDER BY reach, id";

/// `fn name(args) -> Kind<Row> = "SQL";` declares the query on Store, ReadConn and WriteTx.
/// A `Count` query names its one column `n`. A query of the events table is declared
/// `@events fn …`: inside a write it first inserts the events the write has appended so far
/// ([`WriteTx::write_events`]), so that it sees them.
macro_rules! reads {
    ($( $(#[$doc:meta])* $(@$events:ident)? fn $name:ident($($arg:ident : $ty:ty),*) -> $kind:ident<$row:ty> = $sql:expr; )*) => {
        impl Store {
            $( $(#[$doc])* pub async fn $name(&self, $($arg: $ty),*) -> StoreResult<reads!(@ret $kind $row)> {
                let mut reader = self.reader().await?;
                reads!(@call $kind, $row, reader.exec(), query($sql)$(.bind($arg))*)
            } )*
        }
        impl ReadConn {
            $( $(#[$doc])* pub async fn $name(&mut self, $($arg: $ty),*) -> StoreResult<reads!(@ret $kind $row)> {
                reads!(@call $kind, $row, self.exec(), query($sql)$(.bind($arg))*)
            } )*
        }
        impl WriteTx {
            $( $(#[$doc])* pub fn $name(&mut self, $($arg: $ty),*) -> StoreResult<reads!(@ret $kind $row)> {
                $( reads!(@flush $events, self); )?
                self.exec().run(|e| async move { reads!(@call $kind, $row, e, query($sql)$(.bind($arg))*) })
            } )*
        }
    };
    (@flush events, $tx:expr) => { $tx.write_events()? };
    (@ret Option $row:ty) => { Option<$row> };
    (@ret Vec $row:ty) => { Vec<$row> };
    (@ret Count $row:ty) => { i64 };
    (@call Option, $row:ty, $e:expr, $q:expr) => { $e.optional($q, <$row>::from_row).await };
    (@call Vec, $row:ty, $e:expr, $q:expr) => { $e.rows($q, <$row>::from_row).await };
    (@call Count, $row:ty, $e:expr, $q:expr) => { Ok($e.optional($q, |r| r.try_get::<i64>("n")).await?.unwrap_or(0)) };
}

pub(crate) use reads;

reads! {
    fn user_by_username(username: &str) -> Option<UserRow> = "SELECT * FROM users WHERE username = $1";
    fn user(id: i64) -> Option<UserRow> = "SELECT * FROM users WHERE id = $1";
    fn users() -> Vec<UserRow> = "SELECT * FROM users ORDER BY id";
    fn session(token_hash: &str) -> Option<SessionRow> = "SELECT * FROM sessions WHERE token_hash = $1";
    /// The login limits of two keys (a client address and a username).
    fn login_throttles(first: &str, second: &str) -> Vec<LoginThrottleRow> = "SELECT * FROM login_throttles WHERE key IN ($1, $2) ORDER BY key";
    fn department(region_code: &str) -> Option<DepartmentRow> = "SELECT * FROM departments WHERE region_code = $1";
    fn enterprise(id: i64) -> Option<EnterpriseRow> = "SELECT * FROM enterprises WHERE id = $1";
    fn enterprise_by_credit_code(credit_code: &str) -> Option<EnterpriseRow> = "SELECT * FROM enterprises WHERE credit_code = $1";
    fn enterprise_of_case(case_id: i64) -> Option<EnterpriseRow> =
        "SELECT e.* FROM enterprises e JOIN cases c ON c.enterprise_id = e.id WHERE c.id = $1";
    fn enterprises() -> Vec<EnterpriseRow> = "SELECT * FROM enterprises ORDER BY id";
    /// The first enterprise whose name is LIKE `pattern` (the exercise's are named 【演练】…).
    fn first_enterprise_named_like(pattern: &str) -> Option<EnterpriseRow> = "SELECT * FROM enterprises WHERE name LIKE $1 ORDER BY id LIMIT 1";
    fn provider(id: i64) -> Option<ProviderRow> = "SELECT * FROM providers WHERE id = $1";
    fn provider_by_key(key: &str) -> Option<ProviderRow> = "SELECT * FROM providers WHERE key = $1";
    fn providers() -> Vec<ProviderRow> = "SELECT * FROM providers ORDER BY id";
    fn capability(id: i64) -> Option<CapabilityRow> = "SELECT * FROM capabilities WHERE id = $1";
    fn capabilities() -> Vec<CapabilityRow> = "SELECT * FROM capabilities ORDER BY id";
    fn capabilities_of_kind(kind: &str) -> Vec<CapabilityRow> = "SELECT * FROM capabilities WHERE kind = $1 ORDER BY id";
    /// The version of the registry: the last version stamped on a capability.
    fn registry_version() -> Count<i64> = "SELECT COALESCE(MAX(version), 0) AS n FROM capabilities";
    fn capabilities_of_provider(provider_id: i64) -> Vec<CapabilityRow> = "SELECT * FROM capabilities WHERE provider_id = $1 ORDER BY id";
    fn case(id: i64) -> Option<CaseRow> = "SELECT * FROM cases WHERE id = $1";
    fn cases() -> Vec<CaseRow> = "SELECT * FROM cases ORDER BY id";
    fn case_of_enterprise(enterprise_id: i64) -> Option<CaseRow> = "SELECT * FROM cases WHERE enterprise_id = $1 ORDER BY id LIMIT 1";
    fn team(case_id: i64) -> Vec<TeamMemberRow> = "SELECT * FROM team_members WHERE case_id = $1 ORDER BY id";
    fn team_member(id: i64) -> Option<TeamMemberRow> = "SELECT * FROM team_members WHERE id = $1";
    fn stationed_cases(department: &str) -> Vec<TeamMemberRow> = "SELECT * FROM team_members WHERE department = $1 ORDER BY case_id, id";
    fn need(id: i64) -> Option<NeedRow> = "SELECT * FROM needs WHERE id = $1";
    fn needs_of_case(case_id: i64) -> Vec<NeedRow> = "SELECT * FROM needs WHERE case_id = $1 ORDER BY id";
    fn needs() -> Vec<NeedRow> = "SELECT * FROM needs ORDER BY id";
    fn open_needs() -> Vec<NeedRow> = "SELECT * FROM needs WHERE status NOT IN ('resolved', 'cancelled') ORDER BY id";
    /// Needs of a kind with a provider selected and work not started (switch proposals).
    fn selected_needs_of_kind(kind: &str) -> Vec<NeedRow> = "SELECT * FROM needs WHERE kind = $1 AND status = 'selected' ORDER BY id";
    fn screening_of_need(need_id: i64) -> Option<ScreeningRow> = "SELECT * FROM screenings WHERE need_id = $1";
    /// Open needs, not flagged for supervision, that reached their owner before `before`: all
    /// that an escalation pass can find due (by the index on status and reached_owner_at).
    fn needs_open_since_before(before: i64) -> Vec<NeedRow> =
        "SELECT * FROM needs WHERE status = 'open' AND supervised = 0 AND reached_owner_at < $1 ORDER BY id";
    fn count_unclosed_needs() -> Count<i64> = "SELECT COUNT(*) AS n FROM needs WHERE status NOT IN ('resolved', 'cancelled')";
    fn candidate(id: i64) -> Option<CandidateRow> = "SELECT * FROM candidates WHERE id = $1";
    fn candidates_of_need(need_id: i64) -> Vec<CandidateRow> =
        "SELECT * FROM candidates WHERE need_id = $1 ORDER BY feasible DESC, lead_time_h, road_km, provider_id";
    fn shipments_of_case(case_id: i64) -> Vec<ShipmentRow> = "SELECT * FROM shipments WHERE case_id = $1 ORDER BY id";
    fn approval(id: i64) -> Option<ApprovalRow> = "SELECT * FROM approvals WHERE id = $1";
    fn approvals_of_case(case_id: i64) -> Vec<ApprovalRow> = "SELECT * FROM approvals WHERE case_id = $1 ORDER BY id";
    /// The undecided approvals whose deadline is after `after` and at most `until`, by id (the
    /// reminders' pass, by the index on due_at).
    fn undecided_approvals_due(after: i64, until: i64) -> Vec<ApprovalRow> =
        "SELECT * FROM approvals WHERE due_at > $1 AND due_at <= $2 AND status IN ('pending', 'in_progress') ORDER BY id";
    /// The reminders sent of the approvals whose deadline is after `after` and at most `until`.
    fn reminders_of_approvals_due(after: i64, until: i64) -> Vec<ApprovalReminderRow> =
        "SELECT r.* FROM approval_reminders r JOIN approvals a ON a.id = r.approval_id WHERE a.due_at > $1 AND a.due_at <= $2 ORDER BY r.approval_id, r.threshold_minutes";
    fn letter(id: i64) -> Option<LetterRow> = "SELECT * FROM letters WHERE id = $1";
    fn letters_of_case(case_id: i64) -> Vec<LetterRow> =
        "SELECT letters.* FROM letters JOIN needs ON needs.id = letters.need_id WHERE needs.case_id = $1 ORDER BY letters.id";
    fn letters_of_need(need_id: i64) -> Vec<LetterRow> = "SELECT * FROM letters WHERE need_id = $1 ORDER BY id";
    fn count_letters_numbered_like(pattern: &str) -> Count<i64> = "SELECT COUNT(*) AS n FROM letters WHERE number LIKE $1";
    fn saved_views_of_user(user_id: i64) -> Vec<SavedViewRow> = "SELECT * FROM saved_views WHERE user_id = $1 ORDER BY name, id";
    fn saved_view(id: i64) -> Option<SavedViewRow> = "SELECT * FROM saved_views WHERE id = $1";
    /// How many notifications of a department a user has not read: those after its mark (mark
    /// all read) that it did not read one by one.
    /// (Both counts run on an index range: notifications_department and the reads' key; a user
    /// reads one by one only its own department's notifications.)
    fn count_unread_notifications(department: &str, user_id: i64) -> Count<i64> =
        "SELECT (SELECT COUNT(*) FROM notifications nt WHERE nt.department = $1 \
         AND nt.id > COALESCE((SELECT m.read_through FROM notification_marks m WHERE m.user_id = $2), 0)) \
         - (SELECT COUNT(*) FROM notification_reads r WHERE r.user_id = $2 \
         AND r.notification_id > COALESCE((SELECT m.read_through FROM notification_marks m WHERE m.user_id = $2), 0)) AS n";
    /// Up to which notification id a user has marked everything read (0: nothing).
    fn notifications_read_through(user_id: i64) -> Count<i64> =
        "SELECT COALESCE((SELECT read_through FROM notification_marks WHERE user_id = $1), 0) AS n";
    /// Which of the notifications with ids in [first, last] a user read one by one.
    fn notifications_read_between(user_id: i64, first: i64, last: i64) -> Vec<NotificationReadRow> =
        "SELECT * FROM notification_reads WHERE user_id = $1 AND notification_id BETWEEN $2 AND $3 ORDER BY notification_id";
    /// The last notification id of a department (0: none).
    fn last_notification_of_department(department: &str) -> Count<i64> =
        "SELECT COALESCE(MAX(id), 0) AS n FROM notifications WHERE department = $1";
    fn notification(id: i64) -> Option<NotificationRow> = "SELECT * FROM notifications WHERE id = $1";
    fn notifications_of_department(department: &str) -> Vec<NotificationRow> =
        "SELECT * FROM notifications WHERE department = $1 ORDER BY id DESC";
    /// The timeline of a case: by the time each event records, then by sequence.
    @events fn events_of_case(case_id: i64) -> Vec<EventRow> = "SELECT * FROM events WHERE case_id = $1 ORDER BY at, seq";
    /// The newest `limit` events of a case's timeline, in timeline order.
    @events fn latest_events_of_case(case_id: i64, limit: i64) -> Vec<EventRow> =
        "SELECT * FROM (SELECT * FROM events WHERE case_id = $1 ORDER BY at DESC, seq DESC LIMIT $2) AS latest ORDER BY at, seq";
    @events fn events() -> Vec<EventRow> = "SELECT * FROM events ORDER BY seq";
    @events fn events_after(after_seq: i64, limit: i64) -> Vec<EventRow> = "SELECT * FROM events WHERE seq > $1 ORDER BY seq LIMIT $2";
    @events fn count_events() -> Count<i64> = "SELECT COUNT(*) AS n FROM events";
    /// The first and the last event with this action (a scan: for rare actions such as the
    /// exercise's marks, read once by a loader, never per request).
    @events fn first_event_with_action(action: &str) -> Option<EventRow> = "SELECT * FROM events WHERE action = $1 ORDER BY seq LIMIT 1";
    @events fn last_event_with_action(action: &str) -> Option<EventRow> = "SELECT * FROM events WHERE action = $1 ORDER BY seq DESC LIMIT 1";
    /// The first event of a case with this action (the earliest by the time it records).
    @events fn first_event_of_case(case_id: i64, action: &str) -> Option<EventRow> =
        "SELECT * FROM events WHERE case_id = $1 AND action = $2 ORDER BY at, seq LIMIT 1";
    fn broadcasts_of_need(need_id: i64) -> Vec<BroadcastRow> = "SELECT * FROM broadcasts WHERE need_id = $1 ORDER BY department";
    fn broadcasts_to(department: &str) -> Vec<BroadcastRow> = "SELECT * FROM broadcasts WHERE department = $1 ORDER BY need_id";
    fn needs_owned_by(owner: &str) -> Vec<NeedRow> = "SELECT * FROM needs WHERE owner = $1 ORDER BY id";
    fn daily_returns_of_case(case_id: i64) -> Vec<DailyReturnRow> = "SELECT * FROM daily_returns WHERE case_id = $1 ORDER BY day, product";
    fn daily_return_of(case_id: i64, day: &str, product: &str) -> Option<DailyReturnRow> =
        "SELECT * FROM daily_returns WHERE case_id = $1 AND day = $2 AND product = $3";
    /// The active cases that filed a return in the week before `day` (from `week_before`) but
    /// none for `day`, by id.
    fn cases_missing_return(day: &str, week_before: &str) -> Vec<CaseRow> =
        "SELECT c.* FROM cases c WHERE c.status = 'active' \
         AND NOT EXISTS (SELECT 1 FROM daily_returns r WHERE r.case_id = c.id AND r.day = $1) \
         AND EXISTS (SELECT 1 FROM daily_returns r WHERE r.case_id = c.id AND r.day < $1 AND r.day >= $2) ORDER BY c.id";
    /// The regions that hold a case, each once, in code order.
    fn case_regions() -> Vec<RegionOfCaseRow> = "SELECT DISTINCT region FROM cases ORDER BY region";
    /// The briefing of a department for a day, as generated.
    fn briefing_of(department: &str, day: &str) -> Option<BriefingRow> = "SELECT * FROM briefings WHERE department = $1 AND day = $2";
    /// The days for which a department has a briefing, newest first.
    fn briefing_days(department: &str, limit: i64) -> Vec<BriefingRow> =
        "SELECT * FROM briefings WHERE department = $1 ORDER BY day DESC LIMIT $2";
    /// A case's plan, in the order it was given.
    fn milestones_of_case(case_id: i64) -> Vec<MilestoneRow> = "SELECT * FROM milestones WHERE case_id = $1 ORDER BY position, id";
    fn milestone_by_key(case_id: i64, key: &str) -> Option<MilestoneRow> = "SELECT * FROM milestones WHERE case_id = $1 AND key = $2";
    fn milestone_blockers_of_case(case_id: i64) -> Vec<MilestoneBlockerRow> =
        "SELECT milestone_blockers.* FROM milestone_blockers JOIN milestones ON milestones.id = milestone_blockers.milestone_id \
         WHERE milestones.case_id = $1 ORDER BY milestone_blockers.milestone_id, milestone_blockers.need_id";
    fn milestone_blockers_of_need(need_id: i64) -> Vec<MilestoneBlockerRow> =
        "SELECT * FROM milestone_blockers WHERE need_id = $1 ORDER BY milestone_id";
}

reads! {
    fn channel(id: i64) -> Option<ChannelRow> = "SELECT * FROM channels WHERE id = $1";
    fn channels() -> Vec<ChannelRow> = "SELECT * FROM channels ORDER BY id";
    /// The active channels of a department, by id.
    fn channels_of_department(department: &str) -> Vec<ChannelRow> =
        "SELECT * FROM channels WHERE department = $1 AND active = 1 ORDER BY id";
    fn channels_of_provider(provider_id: i64) -> Vec<ChannelRow> =
        "SELECT * FROM channels WHERE provider_id = $1 AND active = 1 ORDER BY id";
    fn channels_of_enterprise(enterprise_id: i64) -> Vec<ChannelRow> =
        "SELECT * FROM channels WHERE enterprise_id = $1 AND active = 1 ORDER BY id";
    /// The channels a notice reaches, in one statement: the department's, then those of the
    /// enterprises of cases `case_a` and `case_b` (either may be NULL), then that of the
    /// provider of candidate `candidate` (NULL: none); each group by id.
    fn channels_of_notice(department: &str, case_a: Option<i64>, case_b: Option<i64>, candidate: Option<i64>) -> Vec<ChannelRow> = CHANNELS_OF_NOTICE;
    fn outbox_item(id: i64) -> Option<OutboxRow> = "SELECT * FROM outbox WHERE id = $1";
    /// The messages about a need, by id.
    fn outbox_of_need(need_id: i64) -> Vec<OutboxRow> = "SELECT * FROM outbox WHERE need_id = $1 ORDER BY id";
    /// A page of messages after `after`, by id.
    fn outbox_after(after: i64, limit: i64) -> Vec<OutboxRow> = "SELECT * FROM outbox WHERE id > $1 ORDER BY id LIMIT $2";
    /// A page of the messages in `status` after `after`, by id.
    fn outbox_in_status_after(status: MessageStatus, after: i64, limit: i64) -> Vec<OutboxRow> =
        "SELECT * FROM outbox WHERE status = $1 AND id > $2 ORDER BY id LIMIT $3";
    fn outbox_attempts_of(outbox_id: i64) -> Vec<OutboxAttemptRow> = "SELECT * FROM outbox_attempts WHERE outbox_id = $1 ORDER BY id";
    /// The attempts of every message about a need, by id.
    fn outbox_attempts_of_need(need_id: i64) -> Vec<OutboxAttemptRow> =
        "SELECT a.* FROM outbox_attempts a JOIN outbox o ON o.id = a.outbox_id WHERE o.need_id = $1 ORDER BY a.id";
    /// The channels with a message due at `now` and not claimed, by id.
    fn outbox_due_channels(now: i64, limit: i64) -> Vec<ChannelIdRow> =
        "SELECT DISTINCT channel_id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 AND lease_until <= $1 ORDER BY channel_id LIMIT $2";
    /// The messages sent to a channel after `since` (attempts, failed ones too: the receiver
    /// counted them), one per request: a message's key and the moment of one attempt (the rows
    /// of a group share both).
    fn messages_sent_since(channel_id: i64, since: i64) -> Vec<MessageSentRow> =
        "SELECT message_key, at FROM outbox_attempts WHERE channel_id = $1 AND at > $2 GROUP BY message_key, at ORDER BY at, message_key";
    fn count_outbox_in_status(status: &str) -> Count<i64> = "SELECT COUNT(*) AS n FROM outbox WHERE status = $1";
}
