//! Reads that join two tables in one statement where the callers used to look up a row per row
//! (N+1), and the database's version. Like [`read`](crate::read), each query is offered on
//! [`Store`] (the read pool) and on [`WriteTx`] (inside the write transaction).
//!
//! The joined table's columns are aliased (`p_id`, `p_name`, …) so that both rows decode by
//! column name without clashes.

use crate::db::{Exec, Row, conflict, query, query_owned};
use crate::write::{
    CANDIDATES_PER_STATEMENT, bind_candidate, bind_need_update, bind_notification, bind_screening, candidate_upsert, need_update, notification_insert,
    screening_upsert,
};
use crate::rows::*;
use crate::{ReadConn, Store, StoreResult, WriteTx};

/// A provider's columns, aliased `p_…`, for a join on `providers p`.
macro_rules! provider_columns {
    () => {
        "p.id AS p_id, p.key AS p_key, p.name AS p_name, p.region AS p_region, p.lon AS p_lon, p.lat AS p_lat, p.note AS p_note, p.created_at AS p_created_at"
    };
}

const CAPABILITIES_WITH_PROVIDERS_OF_KIND: &str = concat!(
    "SELECT c.*, ",
    provider_columns!(),
    " FROM capabilities c JOIN providers p ON p.id = c.provider_id WHERE c.kind = $1 ORDER BY c.id"
);

const CAPABILITIES_WITH_PROVIDERS_CHANGED_SINCE: &str = concat!(
    "SELECT c.*, ",
    provider_columns!(),
    " FROM capabilities c JOIN providers p ON p.id = c.provider_id WHERE c.version > $1 ORDER BY c.version, c.id"
);

const CAPABILITIES_WITH_PROVIDERS_AFTER_ID: &str = concat!(
    "SELECT c.*, ",
    provider_columns!(),
    " FROM capabilities c JOIN providers p ON p.id = c.provider_id WHERE c.id > $1 ORDER BY c.id LIMIT $2"
);

/// The order of a need's candidates (aliased `c`): the feasible first, by lead time, road
/// distance and provider.
macro_rules! candidate_order {
    () => {
        "c.feasible DESC, c.lead_time_h, c.road_km, c.provider_id"
    };
}

const CANDIDATES_WITH_PROVIDERS_OF_NEED: &str = concat!(
    "SELECT c.*, ",
    provider_columns!(),
    " FROM candidates c JOIN providers p ON p.id = c.provider_id WHERE c.need_id = $1 ORDER BY ",
    candidate_order!()
);

const CANDIDATES_WITH_PROVIDERS_OF_CASE: &str = concat!(
    "SELECT c.*, ",
    provider_columns!(),
    " FROM candidates c JOIN providers p ON p.id = c.provider_id WHERE c.need_id IN (SELECT id FROM needs WHERE case_id = $1) \
     ORDER BY c.need_id, ",
    candidate_order!()
);

const SESSION_WITH_USER: &str = "SELECT s.token_hash, s.user_id, s.csrf, s.created_at AS s_created_at, s.expires_at, \
     u.id, u.username, u.display_name, u.role, u.department, u.enterprise_id, u.provider_id, u.password_hash, u.created_at, \
     COALESCE((SELECT seq FROM events ORDER BY seq DESC LIMIT 1), 0) AS version \
     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1";

/// An enterprise's columns, aliased `e_…`, for a join on `enterprises e`.
macro_rules! enterprise_columns {
    () => {
        "e.id AS e_id, e.name AS e_name, e.credit_code AS e_credit_code, e.region AS e_region, e.lon AS e_lon, e.lat AS e_lat, e.note AS e_note, e.created_at AS e_created_at"
    };
}

/// Also the last audit event (`last_seq`, `last_hash`: NULL for none), so that a write
/// transaction that starts with its case need not read it separately.
const CASE_WITH_TEAM: &str = concat!(
    "SELECT c.*, ",
    enterprise_columns!(),
    ", t.id AS t_id, t.case_id AS t_case_id, t.title AS t_title, t.tier AS t_tier, \
     t.department AS t_department, t.role AS t_role, t.user_id AS t_user_id, t.joined_at AS t_joined_at, \
     last.seq AS last_seq, last.hash AS last_hash \
     FROM cases c JOIN enterprises e ON e.id = c.enterprise_id LEFT JOIN team_members t ON t.case_id = c.id \
     LEFT JOIN (SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1) last ON 1 = 1 WHERE c.id = $1 ORDER BY t.id"
);

const NEED_WITH_CASE: &str = concat!(
    "SELECT n.*, c.id AS c_id, c.enterprise_id AS c_enterprise_id, c.title AS c_title, c.region AS c_region, \
     c.opened_at AS c_opened_at, c.status AS c_status, ",
    enterprise_columns!(),
    " FROM needs n JOIN cases c ON c.id = n.case_id JOIN enterprises e ON e.id = c.enterprise_id WHERE n.id = $1"
);

/// Selected, unstarted needs of a kind with their enterprise and the chosen candidate.
const SELECTED_NEEDS_WITH_CHOICE: &str = concat!(
    "SELECT n.*, ",
    enterprise_columns!(),
    ", s.provider_id AS s_provider_id, s.lead_time_h AS s_lead_time_h, s.road_km AS s_road_km \
     FROM needs n JOIN cases c ON c.id = n.case_id JOIN enterprises e ON e.id = c.enterprise_id \
     JOIN candidates s ON s.id = n.selected_candidate WHERE n.kind = $1 AND n.status = 'selected' ORDER BY n.id"
);

const LAST_EVENT_SEQ: &str = "SELECT seq FROM events ORDER BY seq DESC LIMIT 1";

fn aliased_provider(row: &dyn Row) -> StoreResult<ProviderRow> {
    Ok(ProviderRow {
        id: row.try_get("p_id")?,
        key: row.try_get("p_key")?,
        name: row.try_get("p_name")?,
        region: row.try_get("p_region")?,
        lon: row.try_get("p_lon")?,
        lat: row.try_get("p_lat")?,
        note: row.try_get("p_note")?,
        created_at: row.try_get("p_created_at")?,
    })
}

fn session_and_user(row: &dyn Row) -> StoreResult<(SessionRow, UserRow, i64)> {
    let session = SessionRow {
        token_hash: row.try_get("token_hash")?,
        user_id: row.try_get("user_id")?,
        csrf: row.try_get("csrf")?,
        created_at: row.try_get("s_created_at")?,
        expires_at: row.try_get("expires_at")?,
    };
    Ok((session, UserRow::from_row(row)?, row.try_get("version")?))
}

pub(crate) fn aliased_enterprise(row: &dyn Row) -> StoreResult<EnterpriseRow> {
    Ok(EnterpriseRow {
        id: row.try_get("e_id")?,
        name: row.try_get("e_name")?,
        credit_code: row.try_get("e_credit_code")?,
        region: row.try_get("e_region")?,
        lon: row.try_get("e_lon")?,
        lat: row.try_get("e_lat")?,
        note: row.try_get("e_note")?,
        created_at: row.try_get("e_created_at")?,
    })
}

fn need_case_and_enterprise(row: &dyn Row) -> StoreResult<(NeedRow, CaseRow, EnterpriseRow)> {
    let case = CaseRow {
        id: row.try_get("c_id")?,
        enterprise_id: row.try_get("c_enterprise_id")?,
        title: row.try_get("c_title")?,
        region: row.try_get("c_region")?,
        opened_at: row.try_get("c_opened_at")?,
        status: row.try_get("c_status")?,
    };
    Ok((NeedRow::from_row(row)?, case, aliased_enterprise(row)?))
}

/// One row of [`CASE_WITH_TEAM`]: the case, its enterprise, one member of the team (none for a
/// case without a team) and the last audit event.
type CaseTeamRow = (CaseRow, EnterpriseRow, Option<TeamMemberRow>, Option<(i64, String)>);

/// A case with its enterprise, its team and the last audit event (sequence and hash).
type CaseWithTeam = (CaseRow, EnterpriseRow, Vec<TeamMemberRow>, Option<(i64, String)>);

/// The case, enterprise, team and last event of the rows of [`CASE_WITH_TEAM`] (none: no case).
fn case_with_team_of(rows: Vec<CaseTeamRow>) -> Option<CaseWithTeam> {
    let mut rows = rows.into_iter();
    let (case, enterprise, first_member, last) = rows.next()?;
    let team = first_member.into_iter().chain(rows.filter_map(|(_, _, member, _)| member)).collect();
    Some((case, enterprise, team, last))
}

fn case_team_row(row: &dyn Row) -> StoreResult<CaseTeamRow> {
    let member = match row.try_get::<Option<i64>>("t_id")? {
        None => None,
        Some(id) => Some(TeamMemberRow {
            id,
            case_id: row.try_get("t_case_id")?,
            title: row.try_get("t_title")?,
            tier: row.try_get("t_tier")?,
            department: row.try_get("t_department")?,
            role: row.try_get("t_role")?,
            user_id: row.try_get("t_user_id")?,
            joined_at: row.try_get("t_joined_at")?,
        }),
    };
    let last = row.try_get::<Option<i64>>("last_seq")?.zip(row.try_get::<Option<String>>("last_hash")?);
    Ok((CaseRow::from_row(row)?, aliased_enterprise(row)?, member, last))
}

/// The provider chosen for a selected need, and where the need's enterprise is.
#[derive(Clone, Debug, PartialEq)]
pub struct SelectedChoice {
    pub provider_id: i64,
    pub lead_time_h: f64,
    pub road_km: f64,
    pub enterprise: EnterpriseRow,
}

fn need_and_choice(row: &dyn Row) -> StoreResult<(NeedRow, SelectedChoice)> {
    let choice = SelectedChoice {
        provider_id: row.try_get("s_provider_id")?,
        lead_time_h: row.try_get("s_lead_time_h")?,
        road_km: row.try_get("s_road_km")?,
        enterprise: aliased_enterprise(row)?,
    };
    Ok((NeedRow::from_row(row)?, choice))
}

fn capability_and_provider(row: &dyn Row) -> StoreResult<(CapabilityRow, ProviderRow)> {
    Ok((CapabilityRow::from_row(row)?, aliased_provider(row)?))
}

fn candidate_and_provider(row: &dyn Row) -> StoreResult<(CandidateRow, ProviderRow)> {
    Ok((CandidateRow::from_row(row)?, aliased_provider(row)?))
}

async fn capabilities_with_providers(e: Exec<'_>, kind: &str) -> StoreResult<Vec<(CapabilityRow, ProviderRow)>> {
    e.rows(query(CAPABILITIES_WITH_PROVIDERS_OF_KIND).bind(kind), capability_and_provider).await
}

async fn candidates_with_providers(e: Exec<'_>, need_id: i64) -> StoreResult<Vec<(CandidateRow, ProviderRow)>> {
    e.rows(query(CANDIDATES_WITH_PROVIDERS_OF_NEED).bind(need_id), candidate_and_provider).await
}

async fn need_with_case(e: Exec<'_>, need_id: i64) -> StoreResult<Option<(NeedRow, CaseRow, EnterpriseRow)>> {
    e.optional(query(NEED_WITH_CASE).bind(need_id), need_case_and_enterprise).await
}

impl Store {
    /// The capabilities written after database version `version` (all of them for -1), each
    /// with its provider, by version then id.
    pub async fn capabilities_with_providers_changed_since(&self, version: i64) -> StoreResult<Vec<(CapabilityRow, ProviderRow)>> {
        self.reader().await?.exec().rows(query(CAPABILITIES_WITH_PROVIDERS_CHANGED_SINCE).bind(version), capability_and_provider).await
    }

    /// The candidates of every need of a case with their providers, by need and then in the
    /// order of [`Store::candidates_with_providers_of_need`]: one statement where a read per
    /// need was a round trip each on PostgreSQL (the case page's map).
    pub async fn candidates_with_providers_of_case(&self, case_id: i64) -> StoreResult<Vec<(CandidateRow, ProviderRow)>> {
        self.reader().await?.exec().rows(query(CANDIDATES_WITH_PROVIDERS_OF_CASE).bind(case_id), candidate_and_provider).await
    }

    /// A page of the whole registry: up to `limit` capabilities after id `after_id`, by id, each
    /// with its provider (a server's first load of its index, page by page).
    pub async fn capabilities_with_providers_after_id(&self, after_id: i64, limit: i64) -> StoreResult<Vec<(CapabilityRow, ProviderRow)>> {
        self.reader().await?.exec().rows(query(CAPABILITIES_WITH_PROVIDERS_AFTER_ID).bind(after_id).bind(limit), capability_and_provider).await
    }

    /// The capabilities of `kind`, by id, each with its provider (capabilities whose provider is
    /// missing are left out).
    pub async fn capabilities_with_providers_of_kind(&self, kind: &str) -> StoreResult<Vec<(CapabilityRow, ProviderRow)>> {
        capabilities_with_providers(self.reader().await?.exec(), kind).await
    }

    /// A case with its enterprise and its stationed team, in one statement.
    pub async fn case_with_team(&self, case_id: i64) -> StoreResult<Option<(CaseRow, EnterpriseRow, Vec<TeamMemberRow>)>> {
        let rows = self.reader().await?.exec().rows(query(CASE_WITH_TEAM).bind(case_id), case_team_row).await?;
        Ok(case_with_team_of(rows).map(|(case, enterprise, team, _)| (case, enterprise, team)))
    }

    /// The candidates of a need in the order of `candidates_of_need`, each with its provider.
    pub async fn candidates_with_providers_of_need(&self, need_id: i64) -> StoreResult<Vec<(CandidateRow, ProviderRow)>> {
        candidates_with_providers(self.reader().await?.exec(), need_id).await
    }

    /// A need with its case and the case's enterprise, in one statement.
    pub async fn need_with_case(&self, need_id: i64) -> StoreResult<Option<(NeedRow, CaseRow, EnterpriseRow)>> {
        need_with_case(self.reader().await?.exec(), need_id).await
    }

    /// A session with its user and the database's version ([`Store::last_event_seq`]), in one
    /// statement.
    pub async fn session_with_user(&self, token_hash: &str) -> StoreResult<Option<(SessionRow, UserRow, i64)>> {
        self.reader().await?.exec().optional(query(SESSION_WITH_USER).bind(token_hash), session_and_user).await
    }

    /// The database's version: the sequence number of the last audit event (0 for none). Every
    /// change appends an event in its own transaction, on every server, so whatever was read
    /// after the version was `v` stays current for as long as the version is still `v`.
    pub async fn last_event_seq(&self) -> StoreResult<i64> {
        Ok(self.reader().await?.exec().optional(query(LAST_EVENT_SEQ), |r| r.try_get::<i64>("seq")).await?.unwrap_or(0))
    }
}

impl ReadConn {
    /// See [`Store::need_with_case`].
    pub async fn need_with_case(&mut self, need_id: i64) -> StoreResult<Option<(NeedRow, CaseRow, EnterpriseRow)>> {
        need_with_case(self.exec(), need_id).await
    }

    /// See [`Store::candidates_with_providers_of_need`].
    pub async fn candidates_with_providers_of_need(&mut self, need_id: i64) -> StoreResult<Vec<(CandidateRow, ProviderRow)>> {
        candidates_with_providers(self.exec(), need_id).await
    }
}

impl WriteTx {
    /// The selected, unstarted needs of `kind`, by id, each with the provider chosen and its
    /// enterprise (switch proposals).
    pub fn selected_needs_with_choice(&mut self, kind: &str) -> StoreResult<Vec<(NeedRow, SelectedChoice)>> {
        self.exec().rows(query(SELECTED_NEEDS_WITH_CHOICE).bind(kind), need_and_choice)
    }

    /// A case with its enterprise and its stationed team (`case`, `enterprise` and `team` in one
    /// statement), inside the transaction.
    pub fn case_with_team(&mut self, case_id: i64) -> StoreResult<Option<(CaseRow, EnterpriseRow, Vec<TeamMemberRow>)>> {
        // It reads the last audit event too, which the transaction uses only while it knows
        // none — and then it has appended none: the events not yet inserted need not go in first.
        let rows = self.exec().rows(query(CASE_WITH_TEAM).bind(case_id), case_team_row)?;
        let Some((case, enterprise, team, last)) = case_with_team_of(rows) else { return Ok(None) };
        self.know_last_event(last);
        Ok(Some((case, enterprise, team)))
    }

    /// The capabilities of `kind`, by id, each with its provider, inside the transaction.
    pub fn capabilities_with_providers_of_kind(&mut self, kind: &str) -> StoreResult<Vec<(CapabilityRow, ProviderRow)>> {
        self.exec().run(|e| capabilities_with_providers(e, kind))
    }

    /// Records a need's screening: upserts its candidate rows (all of need `counts.need_id`),
    /// replaces its counts and, if given, writes the need as the screening left it (its route
    /// widened; [`WriteTx::update_need`]). Returns the rows as written, each with its provider,
    /// in the order of [`WriteTx::candidates_with_providers_of_need`] — on PostgreSQL from the
    /// same statement, one round trip inside the write lock where four were.
    pub fn record_screening(&mut self, rows: &[CandidateRow], counts: &ScreeningRow, need: Option<&NeedRow>) -> StoreResult<Vec<(CandidateRow, ProviderRow)>> {
        debug_assert!(rows.iter().all(|r| r.need_id == counts.need_id) && need.is_none_or(|n| n.id == counts.need_id));
        // DIALECT: data-modifying WITH is PostgreSQL's; SQLite, in process, runs the statements
        // one after the other.
        if self.is_pg() && !rows.is_empty() && rows.len() <= CANDIDATES_PER_STATEMENT {
            let after_rows = rows.len() * 14 + 1;
            // The need was written in this transaction under the write lock: it is there to
            // update (the statement cannot say how many rows the update changed).
            let update = need.map(|_| format!("u AS ({}), ", need_update(after_rows + 10))).unwrap_or_default();
            let sql = format!(
                "WITH s AS ({}), {update}c AS ({} RETURNING *) SELECT c.*, {} FROM c JOIN providers p ON p.id = c.provider_id ORDER BY {}",
                screening_upsert(after_rows),
                candidate_upsert(rows.len()),
                provider_columns!(),
                candidate_order!()
            );
            let mut q = bind_screening(rows.iter().fold(query_owned(sql), bind_candidate), counts);
            if let Some(need) = need {
                q = bind_need_update(q, need);
            }
            return self.exec().rows(q, candidate_and_provider).map_err(|e| conflict(e, "candidates"));
        }
        self.upsert_candidates(rows)?;
        self.upsert_screening(counts)?;
        if let Some(need) = need {
            self.update_need(need)?;
        }
        let written: std::collections::HashSet<i64> = rows.iter().map(|r| r.provider_id).collect();
        let mut all = self.candidates_with_providers_of_need(counts.need_id)?;
        all.retain(|(c, _)| written.contains(&c.provider_id));
        Ok(all)
    }

    /// Inserts a notification ([`WriteTx::insert_notification`]) and reads the channels its
    /// notice reaches ([`WriteTx::channels_of_notice`], with the same arguments) — on
    /// PostgreSQL in one statement, one round trip inside the write lock where two were.
    pub fn insert_notification_reaching(
        &mut self,
        n: &NotificationRow,
        department: &str,
        case_a: Option<i64>,
        case_b: Option<i64>,
        candidate: Option<i64>,
    ) -> StoreResult<Vec<ChannelRow>> {
        if !self.is_pg() {
            self.insert_notification(n)?;
            return self.channels_of_notice(department, case_a, case_b, candidate);
        }
        // DIALECT: data-modifying WITH is PostgreSQL's. The notification's row always comes
        // back; the channels' columns are NULL in it when none is reached.
        let sql = format!(
            "WITH n AS ({}) SELECT ch.* FROM n LEFT JOIN ({}) ch ON true ORDER BY ch.reach, ch.id",
            notification_insert(5),
            crate::read::CHANNELS_OF_NOTICE
        );
        let q = bind_notification(query_owned(sql).bind(department).bind(case_a).bind(case_b).bind(candidate), n);
        let rows = self.exec().rows(q, |r| match r.try_get::<Option<i64>>("id")? {
            Some(_) => ChannelRow::from_row(r).map(Some),
            None => Ok(None),
        });
        let channels = rows.map_err(|e| conflict(e, "notification"))?.into_iter().flatten().collect();
        self.wake_notification_listeners(n)?;
        Ok(channels)
    }

    /// The candidates of a need with their providers, inside the transaction.
    pub fn candidates_with_providers_of_need(&mut self, need_id: i64) -> StoreResult<Vec<(CandidateRow, ProviderRow)>> {
        self.exec().run(|e| candidates_with_providers(e, need_id))
    }
}
