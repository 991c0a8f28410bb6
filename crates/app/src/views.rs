//! Read models: what a page or an API answer shows, already filtered by [`crate::access`].
//!
//! The lists (cases, needs, enterprises, a case's events, notifications, letters; providers in
//! `registry_search.rs`) are read one page at a time in id order after a cursor, narrowed in the
//! database by their filters and by what the actor may see ([`access::visible_cases`] and its
//! siblings), each with its total counted apart ([`bangfu_store::lists`] says why a keyset and
//! not an offset).

use crate::error::bad;
use crate::{Actor, App, AppError, AppResult, Seen, access};
use bangfu_core::model::{LetterStatus, NeedKind, NeedStatus};
use bangfu_core::region::RegionCode;
use bangfu_store::lists::{CaseQuery, EnterpriseQuery, LetterQuery, MAX_PAGE, NeedQuery};
use bangfu_store::{
    ApprovalRow, CandidateRow, CaseRow, EnterpriseRow, EventRow, LetterRow, NeedRow, NotificationRow, Page, PageRequest, ProviderRow, ScreeningRow,
    ShipmentRow, TeamMemberRow,
};
use std::sync::Arc;

/// A page when none is asked for.
pub const DEFAULT_PAGE: usize = 50;

/// The page after `after` (an id; none: from the start) of `limit` rows (default
/// [`DEFAULT_PAGE`], at most [`MAX_PAGE`]); a limit out of range is bad input saying the range.
pub fn page_request(after: Option<i64>, limit: Option<usize>) -> AppResult<PageRequest> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if limit == 0 || limit > MAX_PAGE {
        return Err(bad(format!("limit: {limit} is out of range — ask for 1 to {MAX_PAGE} rows, and for the next page with after=<next>")));
    }
    if after.is_some_and(|a| a < 0) {
        return Err(bad("after: give the `next` of the previous page (an id, 0 or more)"));
    }
    Ok(PageRequest { after, limit })
}

/// Which cases to list: every field given narrows.
#[derive(Clone, Debug, Default)]
pub struct CaseFilter {
    /// Cases of enterprises inside this region's jurisdiction.
    pub region: Option<RegionCode>,
    pub status: Option<String>,
}

/// Which needs to list: every field given narrows.
#[derive(Clone, Debug, Default)]
pub struct NeedFilter {
    /// Needs of enterprises inside this region's jurisdiction.
    pub region: Option<RegionCode>,
    pub kind: Option<String>,
    pub status: Option<String>,
    /// The owning department's region code.
    pub owner: Option<String>,
    pub case_id: Option<i64>,
}

/// Which letters to list: every field given narrows.
#[derive(Clone, Debug, Default)]
pub struct LetterFilter {
    pub status: Option<String>,
    pub need_id: Option<i64>,
}

/// A filter's text, trimmed; empty is not given.
fn given(field: &Option<String>) -> Option<&str> {
    field.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// One line of a case list.
#[derive(Clone, Debug)]
pub struct CaseSummary {
    pub case: CaseRow,
    pub enterprise: EnterpriseRow,
    pub open_needs: usize,
    pub needs: usize,
}

/// A case with everything on its page.
#[derive(Clone, Debug)]
pub struct CaseDetail {
    pub case: CaseRow,
    pub enterprise: EnterpriseRow,
    pub team: Vec<TeamMemberRow>,
    pub needs: Vec<NeedRow>,
    /// The newest [`CASE_EVENTS_SHOWN`] events of its timeline, in timeline order (by time, then
    /// sequence); the whole timeline pages through [`App::case_events`], or is
    /// [`App::case_timeline`].
    pub events: Vec<EventRow>,
    /// How many events the case has in all.
    pub events_total: i64,
    pub approvals: Vec<ApprovalRow>,
    pub shipments: Vec<ShipmentRow>,
    pub letters: Vec<LetterRow>,
}

/// How many of a case's newest events [`CaseDetail`] holds: a case has hundreds, and its answer
/// stays small.
pub const CASE_EVENTS_SHOWN: i64 = 50;

/// A need with its candidates (and their providers) and letters.
#[derive(Clone, Debug)]
pub struct NeedDetail {
    pub need: NeedRow,
    pub case: CaseRow,
    pub enterprise: EnterpriseRow,
    /// The bounded record of its last screening: the best candidates and the nearest rejections
    /// per reason (the counts of everything screened are in `screening`).
    pub candidates: Vec<(CandidateRow, ProviderRow)>,
    /// The counts of its last screening, if it was screened.
    pub screening: Option<ScreeningRow>,
    pub letters: Vec<LetterRow>,
    /// The providers' answers, comments, attachments and the enterprise's confirmation, as the
    /// reader may see them (issue 16).
    pub participation: crate::participation::Participation,
}

impl App {
    /// A page of the cases `actor` may see that match `filter`, by id.
    pub async fn list_cases(&self, actor: &Actor, filter: &CaseFilter, page: PageRequest) -> AppResult<Page<CaseSummary>> {
        let rows = self.store.cases_page(&self.case_query(actor, filter), page).await?;
        Ok(rows.map(|r| CaseSummary { case: r.case, enterprise: r.enterprise, open_needs: r.open_needs as usize, needs: r.needs as usize }))
    }

    /// How many cases [`App::list_cases`] pages through.
    pub async fn count_cases(&self, actor: &Actor, filter: &CaseFilter) -> AppResult<i64> {
        Ok(self.store.count_cases(&self.case_query(actor, filter)).await?)
    }

    fn case_query(&self, actor: &Actor, filter: &CaseFilter) -> CaseQuery {
        CaseQuery {
            visible: access::visible_cases(self.tree, actor),
            regions: filter.region.map(|r| access::jurisdiction(self.tree, r)),
            status: given(&filter.status).map(str::to_string),
        }
    }

    /// The case with its team, needs, timeline, approvals, shipments and letters; not found
    /// when `actor` may not see it.
    pub async fn case_detail(&self, actor: &Actor, case_id: i64) -> AppResult<CaseDetail> {
        Ok(CaseDetail::clone(&*self.case_detail_shared(actor, case_id).await?))
    }

    /// [`App::case_detail`], shared: the same `Arc` for every caller while the database's
    /// version is unchanged (see `cache.rs`), so that a caller may keep what it derives from it
    /// (the API keeps the JSON) for as long as it gets the same `Arc` back. Access is checked on
    /// every call.
    pub async fn case_detail_shared(&self, actor: &Actor, case_id: i64) -> AppResult<Arc<CaseDetail>> {
        let seen = Seen(self.store.last_event_seq().await?);
        self.case_detail_seen(seen, actor, case_id).await
    }

    /// [`App::case_detail_shared`] at the version `seen` earlier in the same request (by
    /// [`App::session_seen`]): as new as the database was then, or newer.
    pub async fn case_detail_seen(&self, seen: Seen, actor: &Actor, case_id: i64) -> AppResult<Arc<CaseDetail>> {
        let version = seen.0;
        let detail = match self.caches.cases.get(&case_id, version) {
            Some(detail) => detail,
            None => {
                let mut read = self.store.reading().await?;
                let case = read.case(case_id).await?.ok_or_else(|| AppError::NotFound(format!("case {case_id}")))?;
                let team = read.team(case_id).await?;
                if !access::can_see_case(self.tree, actor, &case, &team) {
                    return Err(AppError::NotFound(format!("case {case_id}")));
                }
                let enterprise =
                    read.enterprise(case.enterprise_id).await?.ok_or_else(|| AppError::Internal(format!("case {} has no enterprise", case.id)))?;
                let needs = read.needs_of_case(case_id).await?;
                let (events, events_total) = (read.latest_events_of_case(case_id, CASE_EVENTS_SHOWN).await?, read.count_case_events(case_id).await?);
                let (approvals, shipments, letters) =
                    (read.approvals_of_case(case_id).await?, read.shipments_of_case(case_id).await?, read.letters_of_case(case_id).await?);
                let detail = Arc::new(CaseDetail { case, enterprise, team, needs, events, events_total, approvals, shipments, letters });
                self.caches.cases.put(case_id, version, Arc::clone(&detail));
                detail
            }
        };
        if !access::can_see_case(self.tree, actor, &detail.case, &detail.team) {
            return Err(AppError::NotFound(format!("case {case_id}")));
        }
        Ok(detail)
    }

    /// The candidates of every need of a case, each with its provider, by need and then as
    /// [`App::need_detail`] orders them, as `actor` reads them there (one who sees the case sees
    /// its needs; a provider user without a provider sees no candidate); not found when `actor`
    /// may not see the case.
    pub async fn case_candidates(&self, actor: &Actor, case_id: i64) -> AppResult<Vec<(CandidateRow, ProviderRow)>> {
        let detail = self.case_detail_shared(actor, case_id).await?;
        let mut candidates = self.store.candidates_with_providers_of_case(case_id).await?;
        if let access::CandidatesSeen::OnlyProvider(own) = access::candidates_seen(self.tree, actor, &detail.case, &detail.team) {
            candidates.retain(|(c, _)| c.provider_id == own);
        }
        Ok(candidates)
    }

    /// The whole timeline of a case (every event, in timeline order), for the command line and
    /// tests; not found when `actor` may not see the case.
    pub async fn case_timeline(&self, actor: &Actor, case_id: i64) -> AppResult<Vec<EventRow>> {
        self.case_detail_shared(actor, case_id).await?;
        Ok(self.store.events_of_case(case_id).await?)
    }

    pub async fn need_detail(&self, actor: &Actor, need_id: i64) -> AppResult<NeedDetail> {
        let mut read = self.store.reading().await?;
        let (need, case, enterprise) = read.need_with_case(need_id).await?.ok_or_else(|| AppError::NotFound(format!("need {need_id}")))?;
        let team = read.team(case.id).await?;
        let broadcasts: Vec<RegionCode> = read.broadcasts_of_need(need.id).await?.into_iter().map(|b| b.department).collect();
        let mut candidates = read.candidates_with_providers_of_need(need_id).await?;
        let providers: Vec<i64> = candidates.iter().map(|(c, _)| c.provider_id).collect();
        let mut letters = read.letters_of_need(need_id).await?;
        let context = access::NeedContext { team: &team, broadcast_to: &broadcasts, candidate_providers: &providers, letters: &letters };
        if !access::can_see_need(self.tree, actor, &case, &need, &context) {
            return Err(AppError::NotFound(format!("need {need_id}")));
        }
        let mut screening = read.screening_of_need(need_id).await?;
        if let access::CandidatesSeen::OnlyProvider(own) = access::candidates_seen(self.tree, actor, &case, &team) {
            candidates.retain(|(c, _)| c.provider_id == own);
        }
        if !access::sees_need_internals(self.tree, actor, &case, &team) {
            screening = None;
            letters.clear();
        }
        let participation = self.participation_in(&mut read, actor, &case, &team, need_id).await?;
        Ok(NeedDetail { screening, letters, enterprise, need, case, candidates, participation })
    }

    /// The detail of a need this request has just reported and sourced
    /// ([`App::report_and_source_detail`]): what [`App::need_detail`] reads, from what the write
    /// held. A need just reported has no broadcasts, answers, comments, attachments or
    /// confirmation yet; its candidates (with their ids and providers) and a letter its sourcing
    /// drafted were read by the write.
    pub(crate) async fn sourced_need_detail(&self, actor: &Actor, sourced: crate::intake::Sourced) -> AppResult<NeedDetail> {
        let crate::intake::Sourced { need, case, enterprise, team, screening, mut candidates, mut letters } = sourced;
        let providers: Vec<i64> = candidates.iter().map(|(c, _)| c.provider_id).collect();
        let context = access::NeedContext { team: &team, broadcast_to: &[], candidate_providers: &providers, letters: &letters };
        if !access::can_see_need(self.tree, actor, &case, &need, &context) {
            return Err(AppError::NotFound(format!("need {}", need.id)));
        }
        let candidacies: Vec<CandidateRow> = candidates.iter().map(|(c, _)| c.clone()).collect();
        let reporter = if actor.role == bangfu_core::model::Role::Enterprise { case.enterprise_id } else { 0 };
        let participation = self.participation_of(actor, &case, &team, &need, &candidacies, crate::participation::Said { reporter, ..Default::default() });
        let mut screening = Some(screening);
        if let access::CandidatesSeen::OnlyProvider(own) = access::candidates_seen(self.tree, actor, &case, &team) {
            candidates.retain(|(c, _)| c.provider_id == own);
        }
        if !access::sees_need_internals(self.tree, actor, &case, &team) {
            screening = None;
            letters.clear();
        }
        Ok(NeedDetail { screening, letters, enterprise, need, case, candidates, participation })
    }

    /// Whether `actor` may see `need` of `case` ([`access::can_see_need`]).
    pub(crate) async fn can_see_need(&self, actor: &Actor, case: &CaseRow, need: &NeedRow) -> AppResult<bool> {
        let team = self.store.team(case.id).await?;
        let broadcasts: Vec<RegionCode> = self.store.broadcasts_of_need(need.id).await?.into_iter().map(|b| b.department).collect();
        let providers: Vec<i64> = self.store.candidates_of_need(need.id).await?.into_iter().map(|c| c.provider_id).collect();
        let letters = self.store.letters_of_need(need.id).await?;
        let context = access::NeedContext { team: &team, broadcast_to: &broadcasts, candidate_providers: &providers, letters: &letters };
        Ok(access::can_see_need(self.tree, actor, case, need, &context))
    }

    /// Whether `actor` may read the letters of `need` of `case`: whoever sees the need but a
    /// provider user ([`access::sees_need_internals`]).
    pub(crate) async fn sees_letters_of_need(&self, actor: &Actor, case: &CaseRow, need: &NeedRow) -> AppResult<bool> {
        let team = self.store.team(case.id).await?;
        Ok(access::sees_need_internals(self.tree, actor, case, &team) && self.can_see_need(actor, case, need).await?)
    }

    /// A page of the needs `actor` may see that match `filter`, by id.
    pub async fn list_needs(&self, actor: &Actor, filter: &NeedFilter, page: PageRequest) -> AppResult<Page<NeedRow>> {
        Ok(self.store.needs_page(&self.need_query(actor, filter)?, page).await?)
    }

    /// How many needs [`App::list_needs`] pages through.
    pub async fn count_needs(&self, actor: &Actor, filter: &NeedFilter) -> AppResult<i64> {
        Ok(self.store.count_needs(&self.need_query(actor, filter)?).await?)
    }

    fn need_query(&self, actor: &Actor, filter: &NeedFilter) -> AppResult<NeedQuery> {
        let kind = given(&filter.kind).map(|k| NeedKind::parse(k).map_err(|e| bad(format!("kind: {e}")))).transpose()?;
        let status = given(&filter.status).map(|s| NeedStatus::parse(s).map_err(|e| bad(format!("status: {e}")))).transpose()?;
        let owner = given(&filter.owner).map(|o| self.tree.parse_code(o).map_err(|e| bad(format!("owner: {e}")))).transpose()?;
        Ok(NeedQuery {
            visible: access::visible_needs(self.tree, actor),
            regions: filter.region.map(|r| access::jurisdiction(self.tree, r)),
            kind: kind.map(|k| k.as_str().to_string()),
            status: status.map(|s| s.as_str().to_string()),
            owner: owner.map(|o| self.tree.department_region(o).to_string()),
            case_id: filter.case_id,
            ..NeedQuery::default()
        })
    }

    /// A page of the needs of a case (not found unless `actor` sees the case).
    pub async fn case_needs(&self, actor: &Actor, case_id: i64, page: PageRequest) -> AppResult<(Page<NeedRow>, i64)> {
        self.visible_case(actor, case_id).await?;
        let filter = NeedFilter { case_id: Some(case_id), ..NeedFilter::default() };
        Ok((self.list_needs(actor, &filter, page).await?, self.count_needs(actor, &filter).await?))
    }

    /// A page of the events of a case, by sequence number, and how many it has (not found unless
    /// `actor` sees the case).
    pub async fn case_events(&self, actor: &Actor, case_id: i64, page: PageRequest) -> AppResult<(Page<EventRow>, i64)> {
        self.visible_case(actor, case_id).await?;
        let mut read = self.store.reading().await?;
        Ok((read.case_events_page(case_id, page).await?, read.count_case_events(case_id).await?))
    }

    /// The kinds of event a case's timeline is filtered by (an action's first word).
    pub const EVENT_KINDS: &'static [&'static str] = &["need", "approval", "shipment", "letter", "return", "team", "plan", "case"];

    /// A page of the events of a case of one kind (`need`, `approval`, … — see
    /// [`App::EVENT_KINDS`]; none: all), newest first, and how many there are (not found
    /// unless `actor` sees the case).
    pub async fn case_events_of_kind(&self, actor: &Actor, case_id: i64, kind: Option<&str>, page: PageRequest) -> AppResult<(Page<EventRow>, i64)> {
        let kind = kind.map(str::trim).filter(|k| !k.is_empty());
        if let Some(kind) = kind
            && !Self::EVENT_KINDS.contains(&kind)
        {
            return Err(bad(format!("kind: {kind:?} is not a kind of event — use one of {}", Self::EVENT_KINDS.join(", "))));
        }
        self.visible_case(actor, case_id).await?;
        let mut read = self.store.reading().await?;
        Ok((read.case_events_of_kind_page(case_id, kind, page).await?, read.count_case_events_of_kind(case_id, kind).await?))
    }

    /// A page of a need's history — its events and its letters' — by sequence number, and how
    /// many there are (not found unless `actor` sees the need).
    pub async fn need_history(&self, actor: &Actor, need_id: i64, page: PageRequest) -> AppResult<(Page<EventRow>, i64)> {
        let not_found = || AppError::NotFound(format!("need {need_id}"));
        let need = self.store.need(need_id).await?.ok_or_else(not_found)?;
        let case = self.store.case(need.case_id).await?.ok_or_else(not_found)?;
        if !self.can_see_need(actor, &case, &need).await? {
            return Err(not_found());
        }
        // A provider user reads its own candidacy only: the history tells of the others.
        let team = self.store.team(case.id).await?;
        if !access::sees_need_internals(self.tree, actor, &case, &team) {
            return Ok((Page { items: Vec::new(), next: None }, 0));
        }
        let mut read = self.store.reading().await?;
        Ok((read.need_events_page(case.id, need_id, page).await?, read.count_need_events(case.id, need_id).await?))
    }

    /// A page of the enterprises `actor` may see (those inside its jurisdiction; its own for an
    /// enterprise user; all for an admin), by id.
    pub async fn list_enterprises(&self, actor: &Actor, page: PageRequest) -> AppResult<Page<EnterpriseRow>> {
        Ok(self.store.enterprises_page(&EnterpriseQuery { visible: access::visible_enterprises(self.tree, actor) }, page).await?)
    }

    /// How many enterprises [`App::list_enterprises`] pages through.
    pub async fn count_enterprises(&self, actor: &Actor) -> AppResult<i64> {
        Ok(self.store.count_enterprises(&EnterpriseQuery { visible: access::visible_enterprises(self.tree, actor) }).await?)
    }

    /// A provider with its capabilities; not found unless `actor` may see the registry entry.
    pub async fn provider_detail(&self, actor: &Actor, provider_id: i64) -> AppResult<(ProviderRow, Vec<bangfu_store::CapabilityRow>)> {
        let not_found = || AppError::NotFound(format!("provider {provider_id}"));
        if !access::can_see_provider(actor, provider_id) {
            return Err(not_found());
        }
        let mut read = self.store.reading().await?;
        let provider = read.provider(provider_id).await?.ok_or_else(not_found)?;
        Ok((provider, read.capabilities_of_provider(provider_id).await?))
    }

    /// A page of the notifications of the actor's department, oldest first (none without a
    /// department).
    pub async fn notifications(&self, actor: &Actor, page: PageRequest) -> AppResult<Page<NotificationRow>> {
        match actor.department {
            Some(d) => Ok(self.store.notifications_page(&self.tree.department_region(d).to_string(), page).await?),
            None => Ok(Page { items: Vec::new(), next: None }),
        }
    }

    /// How many notifications [`App::notifications`] pages through.
    pub async fn count_notifications(&self, actor: &Actor) -> AppResult<i64> {
        match actor.department {
            Some(d) => Ok(self.store.count_notifications(&self.tree.department_region(d).to_string()).await?),
            None => Ok(0),
        }
    }

    /// The newest `limit` notifications of the actor's department, newest first.
    pub async fn latest_notifications(&self, actor: &Actor, limit: usize) -> AppResult<Vec<NotificationRow>> {
        match actor.department {
            Some(d) => Ok(self.store.latest_notifications(&self.tree.department_region(d).to_string(), limit).await?),
            None => Ok(Vec::new()),
        }
    }

    /// A page of the letters of the needs `actor` may see that match `filter`, by id.
    pub async fn list_letters(&self, actor: &Actor, filter: &LetterFilter, page: PageRequest) -> AppResult<Page<LetterRow>> {
        Ok(self.store.letters_page(&self.letter_query(actor, filter)?, page).await?)
    }

    /// How many letters [`App::list_letters`] pages through.
    pub async fn count_letters(&self, actor: &Actor, filter: &LetterFilter) -> AppResult<i64> {
        Ok(self.store.count_letters(&self.letter_query(actor, filter)?).await?)
    }

    fn letter_query(&self, actor: &Actor, filter: &LetterFilter) -> AppResult<LetterQuery> {
        let status = given(&filter.status).map(|s| LetterStatus::parse(s).map_err(|e| bad(format!("status: {e}")))).transpose()?;
        Ok(LetterQuery { visible: access::visible_letters(self.tree, actor), status: status.map(|s| s.as_str().to_string()), need_id: filter.need_id })
    }

    pub(crate) async fn visible_case(&self, actor: &Actor, case_id: i64) -> AppResult<CaseRow> {
        let case = self.store.case(case_id).await?.ok_or_else(|| AppError::NotFound(format!("case {case_id}")))?;
        let team = self.store.team(case_id).await?;
        if !access::can_see_case(self.tree, actor, &case, &team) {
            return Err(AppError::NotFound(format!("case {case_id}")));
        }
        Ok(case)
    }

}

/// Who an audit event's actor is, for the pages to name it: a department (by region code), or
/// an enterprise's or provider's name; names that are no user's are as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActorOf {
    Department(String),
    Named(String),
}

impl App {
    /// How the actors `names` (usernames as the audit log records them) are shown: an officer or
    /// viewer as its department, an enterprise or provider user as its organisation, an admin
    /// as 管理员; a name that is no user's (the demo's, the server's passes) is left out.
    pub async fn actors_of(&self, names: &[&str]) -> AppResult<std::collections::BTreeMap<String, ActorOf>> {
        let mut out = std::collections::BTreeMap::new();
        let mut read = self.store.reading().await?;
        for name in names {
            if out.contains_key(*name) {
                continue;
            }
            let Some(user) = read.user_by_username(name).await? else { continue };
            let shown = match (user.role.as_str(), &user.department, user.enterprise_id, user.provider_id) {
                ("officer" | "viewer", Some(department), ..) => ActorOf::Department(department.to_string()),
                ("enterprise", _, Some(id), _) => ActorOf::Named(read.enterprise(id).await?.map(|e| e.name).unwrap_or_default()),
                ("provider", _, _, Some(id)) => ActorOf::Named(read.provider(id).await?.map(|p| p.name).unwrap_or_default()),
                ("admin", ..) => ActorOf::Named("管理员".into()),
                _ => continue,
            };
            out.insert(name.to_string(), shown);
        }
        Ok(out)
    }
}
