//! Reads that join two tables in one statement where the callers used to look up a row per row
//! (N+1), and the database's version. Like [`read`](crate::read), each query is offered on
//! [`Store`] (the read pool) and on [`WriteTx`] (inside the write transaction).
//!
//! The joined table's columns are aliased (`p_id`, `p_name`, …) so that both rows decode by
//! column name without clashes.

use crate::rows::*;
use crate::{Store, StoreResult, WriteTx};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

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

const CANDIDATES_WITH_PROVIDERS_OF_NEED: &str = concat!(
    "SELECT c.*, ",
    provider_columns!(),
    " FROM candidates c JOIN providers p ON p.id = c.provider_id WHERE c.need_id = $1 ORDER BY c.feasible DESC, c.lead_time_h, c.road_km, c.provider_id"
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

const LAST_EVENT_SEQ: &str = "SELECT seq FROM events ORDER BY seq DESC LIMIT 1";

fn aliased_provider(row: &AnyRow) -> Result<ProviderRow, sqlx::Error> {
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

fn session_and_user(row: &AnyRow) -> Result<(SessionRow, UserRow, i64), sqlx::Error> {
    let session = SessionRow {
        token_hash: row.try_get("token_hash")?,
        user_id: row.try_get("user_id")?,
        csrf: row.try_get("csrf")?,
        created_at: row.try_get("s_created_at")?,
        expires_at: row.try_get("expires_at")?,
    };
    Ok((session, UserRow::from_row(row)?, row.try_get("version")?))
}

fn aliased_enterprise(row: &AnyRow) -> Result<EnterpriseRow, sqlx::Error> {
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

fn need_case_and_enterprise(row: &AnyRow) -> Result<(NeedRow, CaseRow, EnterpriseRow), sqlx::Error> {
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

/// A case, its enterprise and its stationed team (by id) from the rows of [`CASE_WITH_TEAM`].
fn case_and_team(rows: &[AnyRow]) -> Result<Option<(CaseRow, EnterpriseRow, Vec<TeamMemberRow>)>, sqlx::Error> {
    let Some(first) = rows.first() else { return Ok(None) };
    let mut team = Vec::new();
    for row in rows {
        let Some(id) = row.try_get::<Option<i64>, _>("t_id")? else { continue };
        team.push(TeamMemberRow {
            id,
            case_id: row.try_get("t_case_id")?,
            title: row.try_get("t_title")?,
            tier: row.try_get("t_tier")?,
            department: row.try_get("t_department")?,
            role: row.try_get("t_role")?,
            user_id: row.try_get("t_user_id")?,
            joined_at: row.try_get("t_joined_at")?,
        });
    }
    Ok(Some((CaseRow::from_row(first)?, aliased_enterprise(first)?, team)))
}

async fn capabilities_with_providers<'e>(e: impl Executor<'e, Database = Any>, kind: &str) -> StoreResult<Vec<(CapabilityRow, ProviderRow)>> {
    let rows = sqlx::query(CAPABILITIES_WITH_PROVIDERS_OF_KIND).bind(kind).fetch_all(e).await?;
    Ok(rows.iter().map(|r| Ok((CapabilityRow::from_row(r)?, aliased_provider(r)?))).collect::<Result<_, sqlx::Error>>()?)
}

async fn candidates_with_providers<'e>(e: impl Executor<'e, Database = Any>, need_id: i64) -> StoreResult<Vec<(CandidateRow, ProviderRow)>> {
    let rows = sqlx::query(CANDIDATES_WITH_PROVIDERS_OF_NEED).bind(need_id).fetch_all(e).await?;
    Ok(rows.iter().map(|r| Ok((CandidateRow::from_row(r)?, aliased_provider(r)?))).collect::<Result<_, sqlx::Error>>()?)
}

impl Store {
    /// The capabilities of `kind`, by id, each with its provider (capabilities whose provider is
    /// missing are left out).
    pub async fn capabilities_with_providers_of_kind(&self, kind: &str) -> StoreResult<Vec<(CapabilityRow, ProviderRow)>> {
        capabilities_with_providers(&self.read, kind).await
    }

    /// The candidates of a need in the order of `candidates_of_need`, each with its provider.
    pub async fn candidates_with_providers_of_need(&self, need_id: i64) -> StoreResult<Vec<(CandidateRow, ProviderRow)>> {
        candidates_with_providers(&self.read, need_id).await
    }

    /// A need with its case and the case's enterprise, in one statement.
    pub async fn need_with_case(&self, need_id: i64) -> StoreResult<Option<(NeedRow, CaseRow, EnterpriseRow)>> {
        let row = sqlx::query(NEED_WITH_CASE).bind(need_id).fetch_optional(&self.read).await?;
        Ok(row.as_ref().map(need_case_and_enterprise).transpose()?)
    }

    /// A session with its user and the database's version ([`Store::last_event_seq`]), in one
    /// statement.
    pub async fn session_with_user(&self, token_hash: &str) -> StoreResult<Option<(SessionRow, UserRow, i64)>> {
        let row = sqlx::query(SESSION_WITH_USER).bind(token_hash).fetch_optional(&self.read).await?;
        Ok(row.as_ref().map(session_and_user).transpose()?)
    }

    /// The database's version: the sequence number of the last audit event (0 for none). Every
    /// change appends an event in its own transaction, on every server, so whatever was read
    /// after the version was `v` stays current for as long as the version is still `v`.
    pub async fn last_event_seq(&self) -> StoreResult<i64> {
        let row = sqlx::query(LAST_EVENT_SEQ).fetch_optional(&self.read).await?;
        Ok(row.map(|r| r.try_get::<i64, _>(0)).transpose()?.unwrap_or(0))
    }
}

impl WriteTx {
    /// A case with its enterprise and its stationed team (`case`, `enterprise` and `team` in one
    /// statement), inside the transaction.
    pub async fn case_with_team(&mut self, case_id: i64) -> StoreResult<Option<(CaseRow, EnterpriseRow, Vec<TeamMemberRow>)>> {
        let rows = sqlx::query(CASE_WITH_TEAM).bind(case_id).fetch_all(self.conn_for(CASE_WITH_TEAM).await?).await?;
        if let Some(first) = rows.first() {
            let last: (Option<i64>, Option<String>) = (first.try_get("last_seq")?, first.try_get("last_hash")?);
            self.know_last_event(last.0.zip(last.1));
        }
        Ok(case_and_team(&rows)?)
    }

    /// The capabilities of `kind`, by id, each with its provider, inside the transaction.
    pub async fn capabilities_with_providers_of_kind(&mut self, kind: &str) -> StoreResult<Vec<(CapabilityRow, ProviderRow)>> {
        capabilities_with_providers(self.conn_for(CAPABILITIES_WITH_PROVIDERS_OF_KIND).await?, kind).await
    }

    /// The candidates of a need with their providers, inside the transaction.
    pub async fn candidates_with_providers_of_need(&mut self, need_id: i64) -> StoreResult<Vec<(CandidateRow, ProviderRow)>> {
        candidates_with_providers(self.conn_for(CANDIDATES_WITH_PROVIDERS_OF_NEED).await?, need_id).await
    }
}
