//! Enterprises, cases and their stationed teams.

use crate::error::{bad, text};
use bangfu_core::text::{LONG_CHARS, NAME_CHARS, SHORT_CHARS};
use crate::{Actor, App, AppError, AppResult, Audit, access, to_millis};
use bangfu_core::credit_code::CreditCode;
use bangfu_core::model::{CaseStatus, StationRole, Tier};
use bangfu_core::region::RegionCode;
use bangfu_store::{CaseRow, EnterpriseRow, TeamMemberRow};
use chrono::{DateTime, Utc};
use serde_json::json;

/// An enterprise as typed by a user.
#[derive(Clone, Debug, Default)]
pub struct NewEnterprise {
    pub name: String,
    pub credit_code: String,
    /// A region code or a unique name.
    pub region: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub note: String,
}

/// A member of a stationed team as typed by a user.
#[derive(Clone, Debug)]
pub struct NewTeamMember {
    /// How the member is called, by role ("临汾市工信局驻企干部（一）"); no personal names needed.
    pub title: String,
    /// The member's department: a region code or a unique name.
    pub department: String,
    /// commissioner (特派员), stationed_cadre (驻企干部) or task_force (专班).
    pub role: String,
    pub user_id: Option<i64>,
}

impl App {
    /// Resolves a code or unique name typed by a user into a region code.
    pub fn region(&self, input: &str, field: &str) -> AppResult<RegionCode> {
        let input = text(field, input, SHORT_CHARS)?;
        self.tree.resolve(&input).map_err(|e| bad(format!("{field}: {e}")))
    }

    /// Registers an enterprise: an officer inside its jurisdiction, an admin anywhere. A credit
    /// code already registered is a conflict naming the enterprise when the actor may see it,
    /// and "not found" otherwise (nothing about an enterprise out of sight is told).
    pub async fn add_enterprise(&self, actor: &Actor, now: DateTime<Utc>, input: NewEnterprise) -> AppResult<EnterpriseRow> {
        if !access::may_register(actor) {
            return Err(AppError::Forbidden("only officers and admins register enterprises".into()));
        }
        let name = text("name", &input.name, NAME_CHARS)?;
        if name.is_empty() {
            return Err(bad("name: give the enterprise's registered name"));
        }
        let note = text("note", &input.note, LONG_CHARS)?;
        let credit_code = CreditCode::parse(&input.credit_code).map_err(|e| bad(format!("credit_code: {e}")))?;
        let region = self.region(&input.region, "region")?;
        let (lon, lat) = coordinates(self, region, input.lon, input.lat)?;
        self.may_create_in(actor, region, "enterprises")?;
        self.write_as(actor, move |app, actor, tx| {
            if let Some(existing) = tx.enterprise_by_credit_code(credit_code.as_str())? {
                if !access::can_see_enterprise(app.tree, actor, &existing) {
                    return Err(AppError::NotFound(format!("enterprise with credit code {credit_code}")));
                }
                return Err(AppError::Conflict(format!("an enterprise with credit code {credit_code} is already registered: {} (enterprise {})", existing.name, existing.id)));
            }
            let mut row = EnterpriseRow {
                id: 0,
                name: name.to_string(),
                credit_code: credit_code.to_string(),
                region,
                lon,
                lat,
                note,
                created_at: to_millis(now),
            };
            row.id = tx.insert_enterprise(&row)?;
            Audit {
                actor,
                now,
                action: "enterprise.added",
                entity: format!("enterprise:{}", row.id),
                case_id: None,
                payload: json!({"name": row.name, "credit_code": row.credit_code, "region": row.region}),
            }
            .append(tx)?;
            Ok(row)
        })
        .await
    }

    /// Opens the case of an enterprise (one per enterprise): an officer whose jurisdiction holds
    /// it, an admin. An enterprise the actor may not see is not found, whether it has a case or
    /// not.
    pub async fn open_case(&self, actor: &Actor, now: DateTime<Utc>, enterprise_id: i64, title: &str) -> AppResult<CaseRow> {
        if !access::may_register(actor) {
            return Err(AppError::Forbidden("only officers and admins open cases".into()));
        }
        let title = title.to_owned();
        self.write_as(actor, move |app, actor, tx| {
            let not_found = || AppError::NotFound(format!("enterprise {enterprise_id}"));
            let enterprise = tx.enterprise(enterprise_id)?.filter(|e| access::can_see_enterprise(app.tree, actor, e)).ok_or_else(not_found)?;
            app.may_create_in(actor, enterprise.region, "cases")?;
            if let Some(existing) = tx.case_of_enterprise(enterprise_id)? {
                return Err(AppError::Conflict(format!("{} already has case {}", enterprise.name, existing.id)));
            }
            let title = if title.trim().is_empty() { format!("{}帮扶档案", enterprise.name) } else { text("title", &title, NAME_CHARS)? };
            let mut row = CaseRow { id: 0, enterprise_id, title, region: enterprise.region, opened_at: to_millis(now), status: CaseStatus::Active };
            row.id = tx.insert_case(&row)?;
            Audit {
                actor,
                now,
                action: "case.opened",
                entity: format!("case:{}", row.id),
                case_id: Some(row.id),
                payload: json!({"enterprise": enterprise.name, "title": row.title}),
            }
            .append(tx)?;
            Ok(row)
        })
        .await
    }

    pub async fn add_team_member(&self, actor: &Actor, now: DateTime<Utc>, case_id: i64, input: NewTeamMember) -> AppResult<TeamMemberRow> {
        let role = StationRole::parse(&text("role", &input.role, SHORT_CHARS)?).map_err(|e| bad(format!("role: {e}")))?;
        let title = text("title", &input.title, NAME_CHARS)?;
        let department = self.tree.department_region(self.region(&input.department, "department")?);
        let tier = self.tree.get(department).map(|r| Tier::of_level(r.level)).unwrap_or(Tier::County);
        if title.is_empty() {
            return Err(bad("title: say who the member is by role, for example 临汾市工信局驻企干部"));
        }
        self.write_as(actor, move |app, actor, tx| {
            let (case, _, team) = tx.case_with_team(case_id)?.ok_or_else(|| AppError::NotFound(format!("case {case_id}")))?;
            if !access::can_see_case(app.tree, actor, &case, &team) {
                return Err(AppError::NotFound(format!("case {case_id}")));
            }
            if !access::may_keep_team(app.tree, actor, &case) {
                return Err(AppError::Forbidden(format!(
                    "{} may not station members on case {case_id}: the officers whose jurisdiction holds the case keep its team",
                    actor.name
                )));
            }
            let mut row = TeamMemberRow {
                id: 0,
                case_id: case.id,
                title,
                tier,
                department,
                role,
                user_id: input.user_id,
                joined_at: to_millis(now),
            };
            row.id = tx.insert_team_member(&row)?;
            Audit {
                actor,
                now,
                action: "team.member_added",
                entity: format!("team_member:{}", row.id),
                case_id: Some(case.id),
                payload: json!({"title": row.title, "role": row.role, "department": row.department, "tier": row.tier}),
            }
            .append(tx)?;
            Ok(row)
        })
        .await
    }

    /// The case, if `actor` may act on it ([`access::may_act_on_case`]); not found when it may
    /// not see it, forbidden when it sees it but may not change it.
    pub(crate) fn case_for_write(&self, tx: &mut bangfu_store::WriteTx, actor: &Actor, case_id: i64) -> AppResult<CaseRow> {
        let (case, _, team) = tx.case_with_team(case_id)?.ok_or_else(|| AppError::NotFound(format!("case {case_id}")))?;
        if !access::can_see_case(self.tree, actor, &case, &team) {
            return Err(AppError::NotFound(format!("case {case_id}")));
        }
        if !access::may_act_on_case(self.tree, actor, &case, &team) {
            return Err(AppError::Forbidden(format!("{} may read case {case_id} but not change it", actor.name)));
        }
        Ok(case)
    }

    /// Refuses registering `what` in `region` unless `actor` may ([`access::may_create_in`]).
    pub(crate) fn may_create_in(&self, actor: &Actor, region: RegionCode, what: &str) -> AppResult<()> {
        if access::may_create_in(self.tree, actor, region) {
            return Ok(());
        }
        let place = self.tree.full_name(region);
        let own = actor.department.map_or_else(String::new, |d| format!(" ({})", self.tree.full_name(self.tree.department_region(d))));
        Err(AppError::Forbidden(format!("region: {place} ({region}) lies outside your jurisdiction{own} — you may register {what} only inside it")))
    }
}

/// The given coordinates, or the region's seat when none are given; both or neither.
pub(crate) fn coordinates(app: &App, region: RegionCode, lon: Option<f64>, lat: Option<f64>) -> AppResult<(Option<f64>, Option<f64>)> {
    match (lon, lat) {
        (Some(lon), Some(lat)) => {
            if !lon.is_finite() || !lat.is_finite() {
                return Err(bad(format!("lon/lat {lon}, {lat}: give finite numbers of degrees, longitude first (曲沃县 is 111.47, 35.64)")));
            }
            if !(73.0..=136.0).contains(&lon) || !(3.0..=54.0).contains(&lat) {
                return Err(bad(format!("lon/lat {lon}, {lat} lie outside China — give degrees, longitude first (曲沃县 is 111.47, 35.64)")));
            }
            Ok((Some(lon), Some(lat)))
        }
        (None, None) => {
            let r = app.tree.get(region);
            Ok((r.and_then(|r| r.lon), r.and_then(|r| r.lat)))
        }
        _ => Err(bad("give both --lon and --lat, or neither (the region's seat is used)")),
    }
}
