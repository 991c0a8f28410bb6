//! Who sees what — decided here and nowhere else.
//!
//! - admin: everything;
//! - officer and viewer: the cases of enterprises inside their department's jurisdiction
//!   (county: its county; city: its city; province: its province) and the cases their
//!   department is stationed at; viewers only read;
//! - enterprise user: its own enterprise's case;
//! - provider user: no cases; its own capabilities.
//!
//! What an actor may not see is reported as not found, so existence does not leak.

use crate::Actor;
use bangfu_core::model::Role;
use bangfu_core::region::{RegionCode, RegionTree};
use bangfu_store::{CaseRow, NeedRow, TeamMemberRow};

/// Whether `actor` may read `case`, whose stationed team is `team`.
pub fn can_see_case(tree: &RegionTree, actor: &Actor, case: &CaseRow, team: &[TeamMemberRow]) -> bool {
    match actor.role {
        Role::Admin => true,
        Role::Officer | Role::Viewer => actor.department.is_some_and(|department| {
            let region = RegionCode::new_unchecked(case.region.parse().unwrap_or(0));
            tree.jurisdiction_contains(department, region)
                || team.iter().any(|m| m.department == tree.department_region(department).to_string())
        }),
        Role::Enterprise => actor.enterprise_id == Some(case.enterprise_id),
        Role::Provider => false,
    }
}

/// Whether `actor` may read `need` of `case`: whoever sees the case, and besides the officers of
/// the department that owns the need or to which it was broadcast, and a provider user to whom it
/// is addressed (a candidate of theirs).
pub fn can_see_need(
    tree: &RegionTree,
    actor: &Actor,
    case: &CaseRow,
    team: &[TeamMemberRow],
    need: &NeedRow,
    broadcast_to: &[String],
    candidate_providers: &[i64],
) -> bool {
    if can_see_case(tree, actor, case, team) {
        return true;
    }
    match actor.role {
        Role::Officer | Role::Viewer => actor.department.is_some_and(|d| {
            let d = tree.department_region(d).to_string();
            need.owner == d || broadcast_to.contains(&d)
        }),
        Role::Provider => actor.provider_id.is_some_and(|p| candidate_providers.contains(&p)),
        Role::Admin | Role::Enterprise => false,
    }
}

/// Whether `actor`, who can see the case, may change it (officers and admins; enterprise users
/// only report needs and daily returns, checked where those happen).
pub fn can_act_on_case(actor: &Actor) -> bool {
    matches!(actor.role, Role::Admin | Role::Officer)
}

/// Whether `actor` may change the registry entry of `provider_id`.
pub fn can_edit_provider(actor: &Actor, provider_id: i64) -> bool {
    match actor.role {
        Role::Admin | Role::Officer => true,
        Role::Provider => actor.provider_id == Some(provider_id),
        Role::Enterprise | Role::Viewer => false,
    }
}
