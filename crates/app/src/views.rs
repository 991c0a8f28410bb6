//! Read models: what a page or an API answer shows, already filtered by [`crate::access`].

use crate::{Actor, App, AppError, AppResult, Seen, access};
use std::sync::Arc;
use bangfu_store::{
    ApprovalRow, CandidateRow, CaseRow, EnterpriseRow, EventRow, LetterRow, NeedRow, ProviderRow, ScreeningRow, ShipmentRow, TeamMemberRow,
};

/// Which needs to list: every field narrows; `limit`/`offset` page the result.
#[derive(Clone, Debug, Default)]
pub struct NeedFilter {
    /// Needs of enterprises inside this region's jurisdiction.
    pub region: Option<bangfu_core::region::RegionCode>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub owner: Option<String>,
    pub case_id: Option<i64>,
    pub limit: Option<usize>,
    pub offset: usize,
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
    pub events: Vec<EventRow>,
    pub approvals: Vec<ApprovalRow>,
    pub shipments: Vec<ShipmentRow>,
    pub letters: Vec<LetterRow>,
}

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
}

impl App {
    /// The cases `actor` may see, by id.
    pub async fn list_cases(&self, actor: &Actor) -> AppResult<Vec<CaseSummary>> {
        let mut out = Vec::new();
        for case in self.store.cases().await? {
            let team = self.store.team(case.id).await?;
            if !access::can_see_case(self.tree, actor, &case, &team) {
                continue;
            }
            let enterprise = self.enterprise_of(&case).await?;
            let needs = self.store.needs_of_case(case.id).await?;
            let open_needs = needs.iter().filter(|n| !matches!(n.status.as_str(), "resolved" | "cancelled")).count();
            out.push(CaseSummary { case, enterprise, open_needs, needs: needs.len() });
        }
        Ok(out)
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
                let (needs, events) = (read.needs_of_case(case_id).await?, read.events_of_case(case_id).await?);
                let (approvals, shipments, letters) =
                    (read.approvals_of_case(case_id).await?, read.shipments_of_case(case_id).await?, read.letters_of_case(case_id).await?);
                let detail = Arc::new(CaseDetail { case, enterprise, team, needs, events, approvals, shipments, letters });
                self.caches.cases.put(case_id, version, Arc::clone(&detail));
                detail
            }
        };
        if !access::can_see_case(self.tree, actor, &detail.case, &detail.team) {
            return Err(AppError::NotFound(format!("case {case_id}")));
        }
        Ok(detail)
    }

    pub async fn need_detail(&self, actor: &Actor, need_id: i64) -> AppResult<NeedDetail> {
        let mut read = self.store.reading().await?;
        let (need, case, enterprise) = read.need_with_case(need_id).await?.ok_or_else(|| AppError::NotFound(format!("need {need_id}")))?;
        let team = read.team(case.id).await?;
        let broadcasts: Vec<String> = read.broadcasts_of_need(need.id).await?.into_iter().map(|b| b.department).collect();
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
        Ok(NeedDetail { screening, letters, enterprise, need, case, candidates })
    }

    /// Whether `actor` may see `need` of `case` ([`access::can_see_need`]).
    pub(crate) async fn can_see_need(&self, actor: &Actor, case: &CaseRow, need: &NeedRow) -> AppResult<bool> {
        let team = self.store.team(case.id).await?;
        let broadcasts: Vec<String> = self.store.broadcasts_of_need(need.id).await?.into_iter().map(|b| b.department).collect();
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

    /// The needs `actor` may see that match `filter`, by id, and how many matched before paging.
    pub async fn list_needs(&self, actor: &Actor, filter: &NeedFilter) -> AppResult<(Vec<NeedRow>, usize)> {
        let mut matched = Vec::new();
        let mut cases = std::collections::BTreeMap::new();
        for need in self.store.needs().await? {
            if filter.kind.as_ref().is_some_and(|k| *k != need.kind)
                || filter.status.as_ref().is_some_and(|s| *s != need.status)
                || filter.owner.as_ref().is_some_and(|o| *o != need.owner)
            {
                continue;
            }
            if !cases.contains_key(&need.case_id) {
                let case = self.store.case(need.case_id).await?.ok_or_else(|| AppError::Internal("need without case".into()))?;
                cases.insert(need.case_id, case);
            }
            let case = &cases[&need.case_id];
            if let Some(region) = filter.region {
                if !self.tree.jurisdiction_contains(region, crate::needs::region_code(&case.region)) {
                    continue;
                }
            }
            if filter.case_id.is_some_and(|c| c != need.case_id) {
                continue;
            }
            if self.can_see_need(actor, case, &need).await? {
                matched.push(need);
            }
        }
        let total = matched.len();
        let page: Vec<NeedRow> = matched.into_iter().skip(filter.offset).take(filter.limit.unwrap_or(usize::MAX)).collect();
        Ok((page, total))
    }

    /// The enterprises inside the actor's jurisdiction (all for admins; its own for an enterprise
    /// user): [`access::can_see_enterprise`].
    pub async fn list_enterprises(&self, actor: &Actor) -> AppResult<Vec<EnterpriseRow>> {
        let all = self.store.enterprises().await?;
        Ok(all.into_iter().filter(|e| access::can_see_enterprise(self.tree, actor, e)).collect())
    }

    /// The registry: providers with their capabilities (a provider user sees only its own).
    pub async fn list_providers(&self, actor: &Actor, kind: Option<&str>) -> AppResult<Vec<(ProviderRow, Vec<bangfu_store::CapabilityRow>)>> {
        let mut out = Vec::new();
        for provider in self.store.providers().await? {
            if !access::can_see_provider(actor, provider.id) {
                continue;
            }
            let capabilities: Vec<_> = self.store.capabilities_of_provider(provider.id).await?.into_iter().filter(|c| kind.is_none_or(|k| c.kind == k)).collect();
            if kind.is_some() && capabilities.is_empty() {
                continue;
            }
            out.push((provider, capabilities));
        }
        Ok(out)
    }

    pub async fn provider_detail(&self, actor: &Actor, provider_id: i64) -> AppResult<(ProviderRow, Vec<bangfu_store::CapabilityRow>)> {
        self.list_providers(actor, None)
            .await?
            .into_iter()
            .find(|(p, _)| p.id == provider_id)
            .ok_or_else(|| AppError::NotFound(format!("provider {provider_id}")))
    }

    /// The notifications of the actor's department, newest first.
    pub async fn notifications(&self, actor: &Actor) -> AppResult<Vec<bangfu_store::NotificationRow>> {
        match actor.department {
            Some(d) => Ok(self.store.notifications_of_department(&self.tree.department_region(d).to_string()).await?),
            None => Ok(Vec::new()),
        }
    }

    pub(crate) async fn visible_case(&self, actor: &Actor, case_id: i64) -> AppResult<CaseRow> {
        let case = self.store.case(case_id).await?.ok_or_else(|| AppError::NotFound(format!("case {case_id}")))?;
        let team = self.store.team(case_id).await?;
        if !access::can_see_case(self.tree, actor, &case, &team) {
            return Err(AppError::NotFound(format!("case {case_id}")));
        }
        Ok(case)
    }

    async fn enterprise_of(&self, case: &CaseRow) -> AppResult<EnterpriseRow> {
        self.store
            .enterprise(case.enterprise_id)
            .await?
            .ok_or_else(|| AppError::Internal(format!("case {} has no enterprise", case.id)))
    }
}
