//! Row structs: one per table, plain data named as the columns. Times are [`Millis`](crate::Millis).
//! Flags are i64 (0/1) so that both backends decode them alike.

use crate::StoreResult;
use crate::db::Row;

/// Declares a row struct and its decoding from a row with the same column names.
macro_rules! row_struct {
    ($(#[$doc:meta])* $name:ident { $($field:ident : $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct $name { $(pub $field: $ty),* }

        impl $name {
            pub(crate) fn from_row(row: &dyn Row) -> StoreResult<Self> {
                Ok($name { $($field: row.try_get(stringify!($field))?),* })
            }
        }
    };
}

row_struct!(UserRow {
    id: i64, username: String, display_name: String, role: String, department: Option<String>,
    enterprise_id: Option<i64>, provider_id: Option<i64>, password_hash: Option<String>, created_at: i64,
});

row_struct!(DepartmentRow { region_code: String, tier: String, name: String });

row_struct!(EnterpriseRow {
    id: i64, name: String, credit_code: String, region: String, lon: Option<f64>, lat: Option<f64>,
    note: String, created_at: i64,
});

row_struct!(ProviderRow {
    id: i64, key: String, name: String, region: String, lon: Option<f64>, lat: Option<f64>, note: String,
    created_at: i64,
});

row_struct!(
    /// One capability of a provider; `version` is the audit sequence number of the transaction
    /// that last wrote it (stamped by the store), which servers follow to keep their registry
    /// index exact.
    CapabilityRow { id: i64, provider_id: i64, kind: String, available: i64, attrs: String, updated_at: i64, version: i64 }
);

row_struct!(
    /// The counts of a need's last screening (the bounded record keeps only the best
    /// candidates and the nearest rejections as candidate rows).
    ScreeningRow {
        need_id: i64, registry_version: i64, screened: i64, feasible: i64, unavailable: i64, spec_mismatch: i64,
        insufficient_capacity: i64, too_far: i64, too_slow: i64, screened_at: i64,
    }
);

row_struct!(
    /// The login limit of one key ('addr:…' or 'user:…'), see `bangfu_core::throttle`.
    LoginThrottleRow { key: String, failures: i64, last_failure_at: i64, blocked_until: i64 }
);

row_struct!(CaseRow { id: i64, enterprise_id: i64, title: String, region: String, opened_at: i64, status: String });

row_struct!(TeamMemberRow {
    id: i64, case_id: i64, title: String, tier: String, department: String, role: String,
    user_id: Option<i64>, joined_at: i64,
});

row_struct!(NeedRow {
    id: i64, case_id: i64, kind: String, title: String, specification: String, quantity: f64, unit: String,
    requires: String, deadline: Option<i64>, max_distance_km: Option<f64>, max_lead_time_h: Option<f64>,
    scope: String, owner: String, owner_tier: String, letter_to: Option<String>, solution_region: Option<String>,
    route_zh: String, route_en: String, status: String, reached_owner_at: i64, supervised: i64,
    selected_candidate: Option<i64>, created_at: i64, updated_at: i64,
});

row_struct!(CandidateRow {
    id: i64, need_id: i64, provider_id: i64, feasible: i64, road_km: f64, travel_h: f64, processing_h: f64,
    lead_time_h: f64, scope: String, owner: String, reasons: String, explanation_zh: String,
    explanation_en: String, status: String, created_at: i64,
});

row_struct!(ShipmentRow {
    id: i64, case_id: i64, need_id: Option<i64>, goods: String, origin: String, destination: String,
    status: String, traffic_pass: Option<String>, departs_at: Option<i64>, arrives_at: Option<i64>,
});

row_struct!(ApprovalRow {
    id: i64, case_id: i64, department: String, agency: String, item: String, status: String,
    opened_at: i64, due_at: Option<i64>, decided_at: Option<i64>,
});

row_struct!(LetterRow {
    id: i64, need_id: i64, number: String, sender: String, recipients: String, subject: String,
    body_zh: String, body_en: String, status: String, created_at: i64, sent_at: Option<i64>,
    acknowledged_at: Option<i64>, contact_name: String, contact_phone: String, cc: String,
    reply_number: Option<String>, reply_date: Option<String>, reply_text: Option<String>,
});

row_struct!(NotificationRow {
    id: i64, department: Option<String>, user_id: Option<i64>, need_id: Option<i64>, text_zh: String,
    text_en: String, created_at: i64, read_at: Option<i64>,
});

row_struct!(
    /// One line of the audit log.
    EventRow {
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

row_struct!(SessionRow { token_hash: String, user_id: i64, csrf: String, created_at: i64, expires_at: i64 });

row_struct!(BroadcastRow { need_id: i64, department: String, at: i64 });

row_struct!(
    /// One product's figures of one day (UTC+8) of a case; `product` is '' on rows written before
    /// returns named their product.
    DailyReturnRow {
        id: i64, case_id: i64, day: String, product: String, capacity_per_day: f64, output: f64, stock: f64,
        shipped: f64, note: String, reported_at: i64,
    }
);

row_struct!(
    /// A region that holds a case.
    RegionOfCaseRow { region: String }
);

row_struct!(
    /// The daily briefing (每日专报) of a department for a day: its figures as JSON, kept as
    /// generated.
    BriefingRow { id: i64, department: String, day: String, generated_at: i64, body: String }
);

row_struct!(
    /// One milestone (节点) of a case's plan; `after` is a JSON list of milestone keys.
    MilestoneRow {
        id: i64, case_id: i64, key: String, name: String, duration_h: f64, after: String, not_before: Option<i64>,
        actual_start: Option<i64>, actual_finish: Option<i64>, position: i64,
    }
);

row_struct!(
    /// A need that blocks a milestone.
    MilestoneBlockerRow { milestone_id: i64, need_id: i64 }
);

row_struct!(
    /// A user's saved view of the needs queue: its name and the query string that makes it.
    SavedViewRow { id: i64, user_id: i64, name: String, query: String, created_at: i64 }
);

row_struct!(
    /// A notification one user read by itself (beside those its mark covers).
    NotificationReadRow { user_id: i64, notification_id: i64, at: i64 }
);

row_struct!(
    /// A provider's answer on a need (issue 16): accept, decline or quote.
    ResponseRow {
        id: i64, need_id: i64, provider_id: i64, answer: String, note: String, quantity: Option<f64>,
        price: Option<f64>, deliver_by: Option<i64>, user_id: Option<i64>, created_at: i64,
    }
);

row_struct!(
    /// A comment on a need; `author` is the department's, enterprise's or provider's name.
    CommentRow { id: i64, need_id: i64, user_id: Option<i64>, author: String, text: String, created_at: i64 }
);

row_struct!(
    /// A document attached to a need, without its content (see [`Store::attachment_content`](crate::Store::attachment_content)).
    AttachmentRow {
        id: i64, need_id: i64, user_id: Option<i64>, author: String, filename: String, content_type: String,
        size_bytes: i64, sha256: String, created_at: i64,
    }
);

row_struct!(
    /// The enterprise's confirmation that a resolved need is solved.
    ConfirmationRow { need_id: i64, confirmed_at: i64, user_id: Option<i64> }
);

row_struct!(
    /// One line of an inbox: a need, with the reader's provider's candidacy on it (none for an
    /// enterprise) and when the reader last opened it.
    InboxRow {
        id: i64, case_id: i64, kind: String, title: String, quantity: f64, unit: String, status: String,
        owner: String, deadline: Option<i64>, created_at: i64, updated_at: i64,
        candidate_id: Option<i64>, candidate_status: Option<String>, feasible: Option<i64>, lead_time_h: Option<f64>,
        candidate_at: Option<i64>, read_at: Option<i64>, enterprise: String,
    }
);

row_struct!(
    /// Where a department's (a provider's, an enterprise's) messages go (issue 15). `url` and
    /// `secret` are credentials: shown back to nobody.
    ChannelRow {
        id: i64, department: Option<String>, provider_id: Option<i64>, enterprise_id: Option<i64>, kind: String,
        label: String, url: String, secret: String, events: String, mentions: String, quiet_from: Option<i64>,
        quiet_to: Option<i64>, active: i64, created_at: i64, format: String,
    }
);

row_struct!(
    /// One message to one channel, written with the change that caused it; pending, sent or dead.
    OutboxRow {
        id: i64, channel_id: i64, department: Option<String>, event: String, need_id: Option<i64>, title: String,
        body: String, link: String, status: String, attempts: i64, created_at: i64, next_attempt_at: i64,
        lease_until: i64, claimed_by: String, last_error: Option<String>, sent_at: Option<i64>,
        group_id: Option<i64>,
    }
);

row_struct!(
    /// A reminder sent of an approval nearing its deadline: one per approval and threshold.
    ApprovalReminderRow { approval_id: i64, threshold_minutes: i64, sent_at: i64 }
);

row_struct!(
    /// One attempt to deliver a message: sent, failed or dead, with the error.
    OutboxAttemptRow {
        id: i64, outbox_id: i64, channel_id: i64, at: i64, outcome: String, error: Option<String>, message_key: String,
        grouped: i64,
    }
);

row_struct!(
    /// The first moment of one message sent to a channel (several rows may go in one message).
    MessageSentRow { message_key: String, at: i64 }
);

row_struct!(ChannelIdRow { channel_id: i64 });
