//! Who may see and do what — decided here and nowhere else. Every use case asks one of the
//! named checks below; the pages and the API ask the app, never the actor's role.
//!
//! Reading:
//! - admin: everything;
//! - officer and viewer: the enterprises and cases inside their department's jurisdiction
//!   (county: its county; city: its city; province: its province) and the cases their department
//!   is stationed at; besides, the needs their department owns, was broadcast, or was sent a
//!   letter about; viewers only read;
//! - enterprise user: its own enterprise and case;
//! - provider user: its own registry entry, and a need it is a candidate for — with its own
//!   candidacy only, not its competitors';
//! - the registry: every provider, for every role but enterprise users (a provider user sees
//!   its own).
//!
//! Writing:
//! - an officer creates enterprises, cases and providers only inside its jurisdiction;
//! - on a case, the officers who see it (jurisdiction or stationed team) report needs, open
//!   approvals, record shipments and keep the plan; the enterprise reports needs and daily
//!   returns; the team is kept by the officers whose jurisdiction holds the case;
//! - decisions on a need — select, switch, start, resolve, cancel, escalate, broadcast — belong to
//!   its owner department and the tiers above it in its chain; whoever else sees the need as an
//!   officer (the stationed team, other departments of the case's chain, the departments it was
//!   broadcast or written to) may put candidates forward and have the registry screened for it;
//! - an approval is decided by its department and the tiers above it;
//! - a letter is sent by its sender's department and acknowledged by an addressee's;
//! - a provider's capabilities are edited by its own users and by the officers whose
//!   jurisdiction holds the provider;
//! - accounts and the escalation pass: admins.
//!
//! What an actor may not see answers "not found", with the same message as an id that does not
//! exist — conflicts included; what it sees but may not do answers "forbidden".
//!
//! Lists filter in the database: [`visible_cases`], [`visible_needs`], [`visible_providers`] and
//! [`visible_enterprises`] state the reading rules once more as data, which the store turns into
//! WHERE clauses, so that a list never loads what it may not show.

use crate::Actor;
use bangfu_core::model::{CandidateStatus, LetterStatus, NeedStatus, Role};
use bangfu_core::region::{RegionCode, RegionTree};
use bangfu_store::lists::{VisibleCases, VisibleEnterprises, VisibleNeeds, VisibleProviders};
use bangfu_store::{ApprovalRow, CaseRow, EnterpriseRow, LetterRow, NeedRow, ProviderRow, TeamMemberRow};

/// The department of an officer or viewer, as the region its bureau answers for.
fn reader_department(tree: &RegionTree, actor: &Actor) -> Option<RegionCode> {
    match actor.role {
        Role::Officer | Role::Viewer => actor.department.map(|d| tree.department_region(d)),
        Role::Admin | Role::Enterprise | Role::Provider => None,
    }
}

/// The department of an officer (viewers do not act).
fn officer_department(tree: &RegionTree, actor: &Actor) -> Option<RegionCode> {
    match actor.role {
        Role::Officer => reader_department(tree, actor),
        _ => None,
    }
}

/// Whether `department`'s jurisdiction holds the region or department `place` (itself or below).
fn holds(tree: &RegionTree, department: RegionCode, place: RegionCode) -> bool {
    tree.jurisdiction_contains(department, place)
}

fn stationed(department: RegionCode, team: &[TeamMemberRow]) -> bool {
    team.iter().any(|m| m.department == department)
}

// ---- reading ----

/// Whether `actor` may read `case`, whose stationed team is `team`.
pub fn can_see_case(tree: &RegionTree, actor: &Actor, case: &CaseRow, team: &[TeamMemberRow]) -> bool {
    match actor.role {
        Role::Admin => true,
        Role::Officer | Role::Viewer => reader_department(tree, actor).is_some_and(|d| holds(tree, d, case.region) || stationed(d, team)),
        Role::Enterprise => actor.enterprise_id == Some(case.enterprise_id),
        Role::Provider => false,
    }
}

/// Whether `actor` may read `enterprise` by itself (its case, once seen, shows it too).
pub fn can_see_enterprise(tree: &RegionTree, actor: &Actor, enterprise: &EnterpriseRow) -> bool {
    match actor.role {
        Role::Admin => true,
        Role::Officer | Role::Viewer => reader_department(tree, actor).is_some_and(|d| holds(tree, d, enterprise.region)),
        Role::Enterprise => actor.enterprise_id == Some(enterprise.id),
        Role::Provider => false,
    }
}

/// What of a need an actor reads, beside the need itself.
#[derive(Clone, Debug, Default)]
pub struct NeedContext<'a> {
    /// The stationed team of the need's case.
    pub team: &'a [TeamMemberRow],
    /// The departments the need was broadcast to.
    pub broadcast_to: &'a [RegionCode],
    /// The providers of its recorded candidates.
    pub candidate_providers: &'a [i64],
    /// Its letters.
    pub letters: &'a [LetterRow],
}

/// Whether `actor` may read `need` of `case`: whoever sees the case; the officers and viewers of
/// the department that owns the need or a tier above it, of a department it was broadcast to, or
/// of an addressee of a letter about it once the letter is sent; and a provider user whose
/// provider is one of its candidates.
pub fn can_see_need(tree: &RegionTree, actor: &Actor, case: &CaseRow, need: &NeedRow, context: &NeedContext) -> bool {
    if can_see_case(tree, actor, case, context.team) {
        return true;
    }
    match actor.role {
        Role::Officer | Role::Viewer => reader_department(tree, actor).is_some_and(|d| {
            holds(tree, d, need.owner)
                || context.broadcast_to.contains(&d)
                || context.letters.iter().any(|l| l.status != LetterStatus::Draft && addressed_to(l, d))
        }),
        Role::Provider => actor.provider_id.is_some_and(|p| context.candidate_providers.contains(&p)),
        Role::Admin | Role::Enterprise => false,
    }
}

/// Which of a need's candidates `actor`, who may see the need, reads: all of them, or — a
/// provider user who does not see the case — only its own provider's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CandidatesSeen {
    All,
    OnlyProvider(i64),
}

pub fn candidates_seen(tree: &RegionTree, actor: &Actor, case: &CaseRow, team: &[TeamMemberRow]) -> CandidatesSeen {
    match (actor.role, actor.provider_id) {
        (Role::Provider, Some(provider)) if !can_see_case(tree, actor, case, team) => CandidatesSeen::OnlyProvider(provider),
        (Role::Provider, None) => CandidatesSeen::OnlyProvider(0),
        _ => CandidatesSeen::All,
    }
}

/// Whether `actor` reads a need's screening counts and letters (a provider user does not: they
/// are about its competitors and between departments).
pub fn sees_need_internals(tree: &RegionTree, actor: &Actor, case: &CaseRow, team: &[TeamMemberRow]) -> bool {
    candidates_seen(tree, actor, case, team) == CandidatesSeen::All
}

/// Whether `actor` may search the registry (every role but enterprise users; a provider user
/// finds its own entry).
pub fn can_browse_registry(actor: &Actor) -> bool {
    actor.role != Role::Enterprise
}

/// Whether `actor` may read the registry entry of `provider_id`.
pub fn can_see_provider(actor: &Actor, provider_id: i64) -> bool {
    match actor.role {
        Role::Admin | Role::Officer | Role::Viewer => true,
        Role::Provider => actor.provider_id == Some(provider_id),
        Role::Enterprise => false,
    }
}

// ---- creating in a place ----

/// Whether `actor` may register an enterprise, open a case or register a provider in `region`:
/// an admin anywhere, an officer inside its jurisdiction.
pub fn may_create_in(tree: &RegionTree, actor: &Actor, region: RegionCode) -> bool {
    match actor.role {
        Role::Admin => true,
        Role::Officer => officer_department(tree, actor).is_some_and(|d| tree.jurisdiction_contains(d, region)),
        Role::Viewer | Role::Enterprise | Role::Provider => false,
    }
}

/// Whether `actor` may register anything at all (to offer the forms: the place is checked when
/// one is given).
pub fn may_register(actor: &Actor) -> bool {
    matches!(actor.role, Role::Admin | Role::Officer)
}

// ---- cases ----

/// Whether `actor` may change `case` — open approvals, record shipments, keep the plan, report
/// needs and returns as an officer: an admin, or an officer who sees the case (its jurisdiction
/// or stationed team).
pub fn may_act_on_case(tree: &RegionTree, actor: &Actor, case: &CaseRow, team: &[TeamMemberRow]) -> bool {
    match actor.role {
        Role::Admin => true,
        Role::Officer => can_see_case(tree, actor, case, team),
        Role::Viewer | Role::Enterprise | Role::Provider => false,
    }
}

/// Whether `actor` may report needs and daily returns on `case`: whoever may act on it, and the
/// enterprise itself.
pub fn may_report_on_case(tree: &RegionTree, actor: &Actor, case: &CaseRow, team: &[TeamMemberRow]) -> bool {
    may_act_on_case(tree, actor, case, team) || (actor.role == Role::Enterprise && actor.enterprise_id == Some(case.enterprise_id))
}

/// Whether `actor` may station members on `case`: an admin, or an officer whose jurisdiction
/// holds the case (a stationed department does not station others).
pub fn may_keep_team(tree: &RegionTree, actor: &Actor, case: &CaseRow) -> bool {
    may_create_in(tree, actor, case.region)
}

/// Whether `actor` may add milestones to `case`'s plan or remove them: as for its team
/// ([`may_keep_team`]), the officers whose jurisdiction holds the case and admins — a stationed
/// department of another place attaches needs to the plan but does not reshape it.
pub fn may_shape_plan(tree: &RegionTree, actor: &Actor, case: &CaseRow) -> bool {
    may_keep_team(tree, actor, case)
}

/// Whether an actor who may report a need on a case ([`may_report_on_case`]) also has it
/// sourced at once: officers and admins do; an enterprise's need waits for the officers.
pub fn sources_when_reporting(actor: &Actor) -> bool {
    matches!(actor.role, Role::Admin | Role::Officer)
}

// ---- needs ----

/// Whether `actor` may decide on `need` — select or switch its provider, start, resolve or
/// cancel it, escalate it, broadcast it: an admin, or an officer of its owner department or of a
/// tier above it in the owner's chain.
pub fn may_decide_need(tree: &RegionTree, actor: &Actor, need: &NeedRow) -> bool {
    match actor.role {
        Role::Admin => true,
        Role::Officer => officer_department(tree, actor).is_some_and(|d| holds(tree, d, need.owner)),
        Role::Viewer | Role::Enterprise | Role::Provider => false,
    }
}

/// Whether `actor` may allocate capacity over `department`'s jurisdiction (issue 19): an
/// admin, or an officer whose jurisdiction holds that department. Accepting a proposal is then
/// [`may_decide_need`] on each need.
pub fn may_allocate(tree: &RegionTree, actor: &Actor, department: RegionCode) -> bool {
    match actor.role {
        Role::Admin => true,
        Role::Officer => officer_department(tree, actor).is_some_and(|d| tree.jurisdiction_contains(d, department)),
        Role::Viewer | Role::Enterprise | Role::Provider => false,
    }
}

/// Whether `actor` may run allocations at all (over its own department's jurisdiction or one
/// inside it): officers and admins.
pub fn may_run_allocations(actor: &Actor) -> bool {
    matches!(actor.role, Role::Admin | Role::Officer)
}

/// Whether `actor`, who `sees_need`, may put candidates forward for it and have the registry
/// screened for it: an admin or any officer who sees it.
pub fn may_propose_for_need(actor: &Actor, sees_need: bool) -> bool {
    sees_need && matches!(actor.role, Role::Admin | Role::Officer)
}

/// What an actor who sees a need may do on it (for the buttons of its page).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NeedRights {
    /// Select, switch, start, resolve, cancel, escalate, broadcast.
    pub decide: bool,
    /// Put candidates forward, have the registry screened.
    pub propose: bool,
}

/// [`NeedRights`] of `actor`, who sees `need`.
pub fn need_rights(tree: &RegionTree, actor: &Actor, need: &NeedRow) -> NeedRights {
    NeedRights { decide: may_decide_need(tree, actor, need), propose: may_propose_for_need(actor, true) }
}

/// Whether `actor`, who sees `letter`, may move it on from where it is (draft: send; sent:
/// acknowledge).
pub fn may_move_letter(tree: &RegionTree, actor: &Actor, letter: &LetterRow) -> bool {
    match letter.status.as_str() {
        "draft" => may_send_letter(tree, actor, letter),
        "sent" => may_acknowledge_letter(tree, actor, letter),
        _ => false,
    }
}

// ---- approvals ----

/// Whether `actor` may move `approval` on (受理, 批准, 不予批准): an admin, or an officer of the
/// approval's department or a tier above it.
pub fn may_decide_approval(tree: &RegionTree, actor: &Actor, approval: &ApprovalRow) -> bool {
    match actor.role {
        Role::Admin => true,
        Role::Officer => officer_department(tree, actor).is_some_and(|d| holds(tree, d, approval.department)),
        Role::Viewer | Role::Enterprise | Role::Provider => false,
    }
}

// ---- letters ----

/// Whether `letter` is addressed to `department`.
fn addressed_to(letter: &LetterRow, department: RegionCode) -> bool {
    letter.recipients.iter().any(|r| r.region == department)
}

/// Whether `actor` may mark `letter` sent: an admin, or an officer of its sender's department.
pub fn may_send_letter(tree: &RegionTree, actor: &Actor, letter: &LetterRow) -> bool {
    match actor.role {
        Role::Admin => true,
        Role::Officer => officer_department(tree, actor).is_some_and(|d| d == letter.sender),
        Role::Viewer | Role::Enterprise | Role::Provider => false,
    }
}

/// Whether `actor` may mark `letter` acknowledged (answered): an admin, or an officer of one of
/// its addressees' departments.
pub fn may_acknowledge_letter(tree: &RegionTree, actor: &Actor, letter: &LetterRow) -> bool {
    match actor.role {
        Role::Admin => true,
        Role::Officer => officer_department(tree, actor).is_some_and(|d| addressed_to(letter, d)),
        Role::Viewer | Role::Enterprise | Role::Provider => false,
    }
}

// ---- the registry ----

/// Whether `actor` may change the registry entry of `provider` (its capabilities): an admin, its
/// own users, and the officers whose jurisdiction holds it.
pub fn may_edit_provider(tree: &RegionTree, actor: &Actor, provider: &ProviderRow) -> bool {
    match actor.role {
        Role::Admin => true,
        Role::Officer => officer_department(tree, actor).is_some_and(|d| holds(tree, d, provider.region)),
        Role::Provider => actor.provider_id == Some(provider.id),
        Role::Viewer | Role::Enterprise => false,
    }
}

// ---- accounts and passes ----

/// Whether `actor` may create accounts.
pub fn may_keep_accounts(actor: &Actor) -> bool {
    actor.role == Role::Admin
}

/// Whether `actor` may run the escalation pass (the server's own pass runs as an admin).
pub fn may_run_escalation_pass(actor: &Actor) -> bool {
    actor.role == Role::Admin
}

// ---- lists: the reading rules as data ----
//
// A list filters in the database, not after loading: the functions below turn an actor into what
// the store turns into WHERE clauses (`bangfu_store::lists`). Each states the rule of a `can_see_…`
// above once more, for a list; `tests/access.rs` holds the two equal for an officer of every
// department of the region tree.

/// The region codes inside a department's jurisdiction, as runs of codes a database compares a
/// region column with (see [`RegionTree::jurisdiction_runs`]).
pub fn jurisdiction(tree: &RegionTree, department: RegionCode) -> Vec<(String, String)> {
    tree.jurisdiction_runs(department).into_iter().map(|(first, last)| (first.to_string(), last.to_string())).collect()
}

/// Which cases `actor` may see, as data: the rule of [`can_see_case`].
pub fn visible_cases(tree: &RegionTree, actor: &Actor) -> VisibleCases {
    match actor.role {
        Role::Admin => VisibleCases { all: true, ..VisibleCases::default() },
        Role::Officer | Role::Viewer => match reader_department(tree, actor) {
            Some(department) => VisibleCases {
                regions: jurisdiction(tree, department),
                stationed_department: Some(department.to_string()),
                ..VisibleCases::default()
            },
            None => VisibleCases::default(),
        },
        Role::Enterprise => VisibleCases { enterprise_id: actor.enterprise_id, ..VisibleCases::default() },
        Role::Provider => VisibleCases::default(),
    }
}

/// Which needs `actor` may see, as data: the rule of [`can_see_need`] — the needs of the cases it
/// sees; besides them, for an officer or viewer, the needs owned inside its jurisdiction,
/// broadcast to its department or written to it in a sent letter; for a provider user, the
/// needs its provider is a candidate of.
pub fn visible_needs(tree: &RegionTree, actor: &Actor) -> VisibleNeeds {
    let cases = visible_cases(tree, actor);
    match actor.role {
        Role::Officer | Role::Viewer => match reader_department(tree, actor) {
            Some(department) => VisibleNeeds {
                cases,
                owners: jurisdiction(tree, department),
                department: Some(department.to_string()),
                provider_id: None,
            },
            None => VisibleNeeds { cases, ..VisibleNeeds::default() },
        },
        Role::Provider => VisibleNeeds { cases, provider_id: actor.provider_id, ..VisibleNeeds::default() },
        Role::Admin | Role::Enterprise => VisibleNeeds { cases, ..VisibleNeeds::default() },
    }
}

/// Which letters `actor` may read, as data: those of the needs it sees ([`visible_needs`]) —
/// but none for a provider user, who reads no letters ([`sees_need_internals`]).
pub fn visible_letters(tree: &RegionTree, actor: &Actor) -> VisibleNeeds {
    match actor.role {
        Role::Provider => VisibleNeeds::default(),
        _ => visible_needs(tree, actor),
    }
}

/// Which providers of the registry `actor` may see: the rule of [`can_see_provider`].
pub fn visible_providers(actor: &Actor) -> VisibleProviders {
    match actor.role {
        Role::Admin | Role::Officer | Role::Viewer => VisibleProviders::All,
        Role::Provider => actor.provider_id.map_or(VisibleProviders::Nothing, VisibleProviders::Only),
        Role::Enterprise => VisibleProviders::Nothing,
    }
}

/// Which enterprises `actor` may see: the rule of [`can_see_enterprise`].
pub fn visible_enterprises(tree: &RegionTree, actor: &Actor) -> VisibleEnterprises {
    match actor.role {
        Role::Admin => VisibleEnterprises { all: true, ..VisibleEnterprises::default() },
        Role::Officer | Role::Viewer => {
            VisibleEnterprises { regions: reader_department(tree, actor).map(|d| jurisdiction(tree, d)).unwrap_or_default(), ..VisibleEnterprises::default() }
        }
        Role::Enterprise => VisibleEnterprises { enterprise_id: actor.enterprise_id, ..VisibleEnterprises::default() },
        Role::Provider => VisibleEnterprises::default(),
    }
}

/// Whom the figures of a region are shown to (charts, returns summed, the daily briefing):
/// departments' officers and viewers read their own jurisdiction and any region inside it
/// (drill-down), admins every region and the whole country. Enterprises and providers read no
/// department's figures (they see their own returns on their case).
pub fn may_read_figures(actor: &Actor) -> bool {
    matches!(actor.role, Role::Admin | Role::Officer | Role::Viewer)
}

/// The region whose figures `actor` reads when it asks for `asked` (none: its own department's;
/// for an admin, the whole country). `Err(())` when the region lies outside what it may read,
/// which answers "not found".
#[allow(clippy::result_unit_err)]
pub fn figures_region(tree: &RegionTree, actor: &Actor, asked: Option<RegionCode>) -> Result<Option<RegionCode>, ()> {
    match (actor.role, asked) {
        (Role::Admin, asked) => Ok(asked.map(|a| tree.department_region(a))),
        (Role::Officer | Role::Viewer, asked) => {
            let department = reader_department(tree, actor).ok_or(())?;
            match asked {
                None => Ok(Some(department)),
                Some(region) if tree.jurisdiction_contains(department, region) => Ok(Some(tree.department_region(region))),
                Some(_) => Err(()),
            }
        }
        _ => Err(()),
    }
}

/// The cases whose figures make up a region's (all of them for the whole country).
pub fn cases_of_region(tree: &RegionTree, region: Option<RegionCode>) -> VisibleCases {
    match region {
        None => VisibleCases { all: true, ..VisibleCases::default() },
        Some(region) => VisibleCases { regions: jurisdiction(tree, region), ..VisibleCases::default() },
    }
}

/// What `actor` finds in search, as data (`bangfu_core::search_index::Reader`, whose `sees`
/// states the rules of [`can_see_enterprise`], [`can_see_provider`], [`can_see_need`] and
/// [`visible_letters`] once more for the index): an admin everything; an officer or viewer by
/// its department's jurisdiction and name; an enterprise or provider user its own. Departments
/// are public.
pub fn search_reader(tree: &RegionTree, actor: &Actor) -> bangfu_core::search_index::Reader {
    use bangfu_core::search_index::Reader;
    match actor.role {
        Role::Admin => Reader::All,
        Role::Officer | Role::Viewer => match reader_department(tree, actor) {
            Some(d) => Reader::Department {
                department: d.as_u32(),
                runs: tree.jurisdiction_runs(d).into_iter().map(|(a, b)| (a.as_u32(), b.as_u32())).collect(),
            },
            None => Reader::Department { department: 0, runs: Vec::new() },
        },
        Role::Enterprise => actor.enterprise_id.map_or(Reader::Nobody, Reader::Enterprise),
        Role::Provider => actor.provider_id.map_or(Reader::Nobody, Reader::Provider),
    }
}

// ---- participation (issue 16) ----

/// Whether `actor` is a user of the enterprise of `case` (or an admin).
pub fn is_enterprise_of_case(actor: &Actor, case: &CaseRow) -> bool {
    match actor.role {
        Role::Admin => true,
        Role::Enterprise => actor.enterprise_id == Some(case.enterprise_id),
        Role::Officer | Role::Viewer | Role::Provider => false,
    }
}

/// Whether `actor`, who sees a need of `case`, reads its comments and attachments: whoever sees
/// the case (officers, viewers, the enterprise) — not a provider user, which sees its own
/// candidacy only — and the officers and viewers who see the need otherwise.
pub fn sees_need_discussion(tree: &RegionTree, actor: &Actor, case: &CaseRow, team: &[TeamMemberRow]) -> bool {
    sees_need_internals(tree, actor, case, team) && actor.role != Role::Provider
}

/// Whether `actor`, who sees a need of `case`, may comment on it and attach documents: an admin,
/// any officer who sees it, and the case's enterprise (viewers read only; providers answer).
pub fn may_discuss_need(tree: &RegionTree, actor: &Actor, case: &CaseRow, team: &[TeamMemberRow]) -> bool {
    match actor.role {
        Role::Admin | Role::Officer => true,
        Role::Enterprise => can_see_case(tree, actor, case, team),
        Role::Viewer | Role::Provider => false,
    }
}

/// Whether `actor` may answer a need through `candidacy` (accept, decline, quote): a user of
/// the candidate provider, when the candidate is feasible or selected.
pub fn may_answer_candidacy(actor: &Actor, candidacy: &bangfu_store::CandidateRow) -> bool {
    actor.role == Role::Provider && actor.provider_id == Some(candidacy.provider_id) && (candidacy.feasible || candidacy.status == CandidateStatus::Selected)
}

/// Whether `actor` may reopen `need` of `case` once closed: its deciders ([`may_decide_need`])
/// a resolved or cancelled one; its enterprise a resolved one (it is not solved after all).
pub fn may_reopen_need(tree: &RegionTree, actor: &Actor, case: &CaseRow, need: &NeedRow) -> bool {
    may_decide_need(tree, actor, need) || (actor.role == Role::Enterprise && is_enterprise_of_case(actor, case) && need.status == NeedStatus::Resolved)
}

/// Whether `actor` may confirm or reopen `need` as its enterprise, or withdraw it (the
/// enterprise's buttons).
pub fn may_act_as_enterprise(actor: &Actor, case: &CaseRow) -> bool {
    actor.role == Role::Enterprise && is_enterprise_of_case(actor, case)
}

/// Whether `actor` has an inbox of the needs addressed to it (provider and enterprise users;
/// officers have the needs queue).
pub fn has_inbox(actor: &Actor) -> bool {
    matches!(actor.role, Role::Provider | Role::Enterprise)
}

/// Whether `actor`, who sees `need` of `case`, may edit it while it is open: its deciders, and
/// whoever may report needs on its case.
pub fn may_edit_need(tree: &RegionTree, actor: &Actor, case: &CaseRow, team: &[TeamMemberRow], need: &NeedRow) -> bool {
    may_decide_need(tree, actor, need) || may_report_on_case(tree, actor, case, team)
}
