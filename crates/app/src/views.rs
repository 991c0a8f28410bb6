//! Read models: what a page or an API answer shows, already filtered by [`crate::access`].

use crate::{Actor, App, AppError, AppResult, access};
use bangfu_store::{
    ApprovalRow, CandidateRow, CaseRow, EnterpriseRow, EventRow, LetterRow, NeedRow, ProviderRow, ShipmentRow, TeamMemberRow,
};

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
    pub candidates: Vec<(CandidateRow, ProviderRow)>,
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
        let case = self.visible_case(actor, case_id).await?;
        Ok(CaseDetail {
            enterprise: self.enterprise_of(&case).await?,
            team: self.store.team(case_id).await?,
            needs: self.store.needs_of_case(case_id).await?,
            events: self.store.events_of_case(case_id).await?,
            approvals: self.store.approvals_of_case(case_id).await?,
            shipments: self.store.shipments_of_case(case_id).await?,
            letters: self.store.letters_of_case(case_id).await?,
            case,
        })
    }

    pub async fn need_detail(&self, actor: &Actor, need_id: i64) -> AppResult<NeedDetail> {
        let need = self.store.need(need_id).await?.ok_or_else(|| AppError::NotFound(format!("need {need_id}")))?;
        let case = self.visible_case(actor, need.case_id).await.map_err(|_| AppError::NotFound(format!("need {need_id}")))?;
        let mut candidates = Vec::new();
        for candidate in self.store.candidates_of_need(need_id).await? {
            let provider = self.store.provider(candidate.provider_id).await?.ok_or_else(|| AppError::Internal("candidate without provider".into()))?;
            candidates.push((candidate, provider));
        }
        Ok(NeedDetail {
            letters: self.store.letters_of_need(need_id).await?,
            enterprise: self.enterprise_of(&case).await?,
            need,
            case,
            candidates,
        })
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
