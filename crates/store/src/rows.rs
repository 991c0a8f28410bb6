//! Row structs: one per table, named as the columns, holding the domain types of `bangfu-core`:
//! regions are [`RegionCode`]s, statuses, kinds, roles, tiers and scopes their enums, flags
//! `bool` (stored 0/1), JSON attributes [`JsonObject`]s. Each decodes once, here; a stored value
//! that does not decode is [`StoreError::BadValue`](crate::StoreError::BadValue) naming the
//! table, the row and the column, never a default. Times are [`Millis`](crate::Millis).
//!
//! A letter's recipients are core's [`Department`]s and its copies a list of names, a
//! candidate's reasons [`KeptReason`]s, a briefing's body a [`JsonObject`]. An event's payload
//! stays the text it was written as: its hash is computed over that text, and `audit verify`
//! must report a payload changed into anything (JSON or not) as a break of the chain at its
//! event, not fail to read it.

use crate::StoreResult;
use crate::db::Row;
use bangfu_core::letter::Department;
use bangfu_core::model::{
    ApprovalStatus, CandidateStatus, CaseStatus, LetterStatus, NeedKind, NeedStatus, ResponseAnswer, Role, Scope, ShipmentStatus, StationRole, Tier,
};
use bangfu_core::outbox::{AttemptOutcome, ChannelKind, EventKind, MessageFormat, MessageStatus};
use bangfu_core::screening::KeptReason;
use bangfu_core::region::RegionCode;

/// A JSON object (a capability's attributes, a need's requirement), stored as its compact text.
pub type JsonObject = serde_json::Map<String, serde_json::Value>;

/// Declares a row struct and its decoding from a row with the same column names; a value that
/// does not decode is an error naming `table`, the row's `key` column and the column.
macro_rules! row_struct {
    ($(#[$doc:meta])* $name:ident in $table:literal by $key:ident { $($field:ident : $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name { $(pub $field: $ty),* }

        impl $name {
            pub(crate) fn from_row(row: &dyn Row) -> StoreResult<Self> {
                let at = |e: crate::StoreError| e.at_row($table, row, stringify!($key));
                Ok($name { $($field: row.try_get(stringify!($field)).map_err(at)?),* })
            }
        }
    };
}

row_struct!(UserRow in "users" by id {
    id: i64, username: String, display_name: String, role: Role, department: Option<RegionCode>,
    enterprise_id: Option<i64>, provider_id: Option<i64>, password_hash: Option<String>, created_at: i64,
});

row_struct!(DepartmentRow in "departments" by region_code { region_code: RegionCode, tier: Tier, name: String });

row_struct!(EnterpriseRow in "enterprises" by id {
    id: i64, name: String, credit_code: String, region: RegionCode, lon: Option<f64>, lat: Option<f64>,
    note: String, created_at: i64,
});

row_struct!(ProviderRow in "providers" by id {
    id: i64, key: String, name: String, region: RegionCode, lon: Option<f64>, lat: Option<f64>, note: String,
    created_at: i64,
});

row_struct!(
    /// One capability of a provider; `version` is the audit sequence number of the transaction
    /// that last wrote it (stamped by the store), which servers follow to keep their registry
    /// index exact.
    CapabilityRow in "capabilities" by id { id: i64, provider_id: i64, kind: NeedKind, available: bool, attrs: JsonObject, updated_at: i64, version: i64 }
);

row_struct!(
    /// The counts of a need's last screening (the bounded record keeps only the best
    /// candidates and the nearest rejections as candidate rows).
    ScreeningRow in "screenings" by need_id {
        need_id: i64, registry_version: i64, screened: i64, feasible: i64, unavailable: i64, spec_mismatch: i64,
        insufficient_capacity: i64, too_far: i64, too_slow: i64, screened_at: i64,
    }
);

row_struct!(
    /// The login limit of one key ('addr:…' or 'user:…'), see `bangfu_core::throttle`.
    LoginThrottleRow in "login_throttles" by key { key: String, failures: i64, last_failure_at: i64, blocked_until: i64 }
);

row_struct!(CaseRow in "cases" by id { id: i64, enterprise_id: i64, title: String, region: RegionCode, opened_at: i64, status: CaseStatus });

row_struct!(TeamMemberRow in "team_members" by id {
    id: i64, case_id: i64, title: String, tier: Tier, department: RegionCode, role: StationRole,
    user_id: Option<i64>, joined_at: i64,
});

row_struct!(NeedRow in "needs" by id {
    id: i64, case_id: i64, kind: NeedKind, title: String, specification: String, quantity: f64, unit: String,
    requires: JsonObject, deadline: Option<i64>, max_distance_km: Option<f64>, max_lead_time_h: Option<f64>,
    scope: Scope, owner: RegionCode, owner_tier: Tier, letter_to: Option<RegionCode>, solution_region: Option<RegionCode>,
    route_zh: String, route_en: String, status: NeedStatus, reached_owner_at: i64, supervised: bool,
    selected_candidate: Option<i64>, created_at: i64, updated_at: i64,
});

row_struct!(CandidateRow in "candidates" by id {
    id: i64, need_id: i64, provider_id: i64, feasible: bool, road_km: f64, travel_h: f64, processing_h: f64,
    lead_time_h: f64, scope: Scope, owner: RegionCode, reasons: Vec<KeptReason>, explanation_zh: String,
    explanation_en: String, status: CandidateStatus, created_at: i64,
});

row_struct!(ShipmentRow in "shipments" by id {
    id: i64, case_id: i64, need_id: Option<i64>, goods: String, origin: String, destination: String,
    status: ShipmentStatus, traffic_pass: Option<String>, departs_at: Option<i64>, arrives_at: Option<i64>,
});

row_struct!(ApprovalRow in "approvals" by id {
    id: i64, case_id: i64, department: RegionCode, agency: String, item: String, status: ApprovalStatus,
    opened_at: i64, due_at: Option<i64>, decided_at: Option<i64>,
});

row_struct!(LetterRow in "letters" by id {
    id: i64, need_id: i64, number: String, sender: RegionCode, recipients: Vec<Department>, subject: String,
    body_zh: String, body_en: String, status: LetterStatus, created_at: i64, sent_at: Option<i64>,
    acknowledged_at: Option<i64>, contact_name: String, contact_phone: String, cc: Vec<String>,
    reply_number: Option<String>, reply_date: Option<String>, reply_text: Option<String>,
});

row_struct!(NotificationRow in "notifications" by id {
    id: i64, department: Option<RegionCode>, user_id: Option<i64>, need_id: Option<i64>, text_zh: String,
    text_en: String, created_at: i64, read_at: Option<i64>,
});

row_struct!(
    /// One line of the audit log.
    EventRow in "events" by seq {
        seq: i64, at: i64, actor: String, action: String, entity: String, case_id: Option<i64>,
        payload: String, prev_hash: String, hash: String,
    }
);

/// An event to append; the store numbers and chains it.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub case_id: Option<i64>,
    pub payload: String,
}

row_struct!(SessionRow in "sessions" by user_id { token_hash: String, user_id: i64, csrf: String, created_at: i64, expires_at: i64 });

row_struct!(BroadcastRow in "broadcasts" by need_id { need_id: i64, department: RegionCode, at: i64 });

row_struct!(
    /// One product's figures of one day (UTC+8) of a case; `product` is '' on rows written before
    /// returns named their product.
    DailyReturnRow in "daily_returns" by id {
        id: i64, case_id: i64, day: String, product: String, capacity_per_day: f64, output: f64, stock: f64,
        shipped: f64, note: String, reported_at: i64,
    }
);

row_struct!(
    /// A region that holds a case.
    RegionOfCaseRow in "cases" by region { region: RegionCode }
);

row_struct!(
    /// The daily briefing (每日专报) of a department for a day: its figures as JSON, kept as
    /// generated.
    BriefingRow in "briefings" by id { id: i64, department: RegionCode, day: String, generated_at: i64, body: JsonObject }
);

row_struct!(
    /// One milestone (节点) of a case's plan; `after` is a JSON list of milestone keys.
    MilestoneRow in "milestones" by id {
        id: i64, case_id: i64, key: String, name: String, duration_h: f64, after: Vec<String>, not_before: Option<i64>,
        actual_start: Option<i64>, actual_finish: Option<i64>, position: i64,
    }
);

row_struct!(
    /// A need that blocks a milestone.
    MilestoneBlockerRow in "milestone_blockers" by milestone_id { milestone_id: i64, need_id: i64 }
);

row_struct!(
    /// A user's saved view of the needs queue: its name and the query string that makes it.
    SavedViewRow in "saved_views" by id { id: i64, user_id: i64, name: String, query: String, created_at: i64 }
);

row_struct!(
    /// A notification one user read by itself (beside those its mark covers).
    NotificationReadRow in "notification_reads" by notification_id { user_id: i64, notification_id: i64, at: i64 }
);

row_struct!(
    /// A provider's answer on a need (issue 16): accept, decline or quote.
    ResponseRow in "responses" by id {
        id: i64, need_id: i64, provider_id: i64, answer: ResponseAnswer, note: String, quantity: Option<f64>,
        price: Option<f64>, deliver_by: Option<i64>, user_id: Option<i64>, created_at: i64,
    }
);

row_struct!(
    /// A comment on a need; `author` is the department's, enterprise's or provider's name.
    CommentRow in "comments" by id { id: i64, need_id: i64, user_id: Option<i64>, author: String, text: String, created_at: i64 }
);

row_struct!(
    /// A document attached to a need, without its content (see [`Store::attachment_content`](crate::Store::attachment_content)).
    AttachmentRow in "attachments" by id {
        id: i64, need_id: i64, user_id: Option<i64>, author: String, filename: String, content_type: String,
        size_bytes: i64, sha256: String, created_at: i64,
    }
);

row_struct!(
    /// The enterprise's confirmation that a resolved need is solved.
    ConfirmationRow in "need_confirmations" by need_id { need_id: i64, confirmed_at: i64, user_id: Option<i64> }
);

row_struct!(
    /// One line of an inbox: a need, with the reader's provider's candidacy on it (none for an
    /// enterprise) and when the reader last opened it.
    InboxRow in "needs" by id {
        id: i64, case_id: i64, kind: NeedKind, title: String, quantity: f64, unit: String, status: NeedStatus,
        owner: RegionCode, deadline: Option<i64>, created_at: i64, updated_at: i64,
        candidate_id: Option<i64>, candidate_status: Option<CandidateStatus>, feasible: Option<bool>, lead_time_h: Option<f64>,
        candidate_at: Option<i64>, read_at: Option<i64>, enterprise: String,
    }
);

row_struct!(
    /// Where a department's (a provider's, an enterprise's) messages go (issue 15). `url` and
    /// `secret` are credentials: shown back to nobody.
    ChannelRow in "channels" by id {
        id: i64, department: Option<RegionCode>, provider_id: Option<i64>, enterprise_id: Option<i64>, kind: ChannelKind,
        label: String, url: String, secret: String, events: Vec<EventKind>, mentions: String, quiet_from: Option<i64>,
        quiet_to: Option<i64>, active: bool, created_at: i64, format: MessageFormat,
    }
);

row_struct!(
    /// One message to one channel, written with the change that caused it; pending, sent or dead.
    OutboxRow in "outbox" by id {
        id: i64, channel_id: i64, department: Option<RegionCode>, event: EventKind, need_id: Option<i64>, title: String,
        body: String, link: String, status: MessageStatus, attempts: i64, created_at: i64, next_attempt_at: i64,
        lease_until: i64, claimed_by: String, last_error: Option<String>, sent_at: Option<i64>,
        group_id: Option<i64>,
    }
);

row_struct!(
    /// A reminder sent of an approval nearing its deadline: one per approval and threshold.
    ApprovalReminderRow in "approval_reminders" by approval_id { approval_id: i64, threshold_minutes: i64, sent_at: i64 }
);

row_struct!(
    /// One attempt to deliver a message: sent, failed or dead, with the error; `grouped` is how
    /// many messages went out together in it.
    OutboxAttemptRow in "outbox_attempts" by id {
        id: i64, outbox_id: i64, channel_id: i64, at: i64, outcome: AttemptOutcome, error: Option<String>, message_key: String,
        grouped: i64,
    }
);

row_struct!(
    /// The first moment of one message sent to a channel (several rows may go in one message).
    MessageSentRow in "outbox_attempts" by message_key { message_key: String, at: i64 }
);

row_struct!(ChannelIdRow in "outbox" by channel_id { channel_id: i64 });
