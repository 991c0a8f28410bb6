//! The rows the search index of each server reads (`app/src/search.rs`): everything once, then
//! what the audit events after the version it holds name — an enterprise, a provider, the
//! providers added by an import, or the needs and letters of a case. Each read is offered for
//! the whole database or for one case, with the same columns.

use crate::db::{Row, query};
use crate::rows::*;
use crate::{Store, StoreResult};
use bangfu_core::region::RegionCode;

/// An audit event as the index follows it: what it names.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchChange {
    pub seq: i64,
    pub entity: String,
    pub case_id: Option<i64>,
}

/// A need with what the index keeps of it and of its case.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchNeedRow {
    pub id: i64,
    pub case_id: i64,
    pub kind: bangfu_core::model::NeedKind,
    pub title: String,
    pub status: bangfu_core::model::NeedStatus,
    pub owner: bangfu_core::region::RegionCode,
    pub case_region: bangfu_core::region::RegionCode,
    pub enterprise_id: i64,
}

/// One (need or case, department or provider) pair: who sees a need by name.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchPair<T> {
    pub owner_id: i64,
    pub value: T,
}

const CHANGES_AFTER: &str = "SELECT seq, entity, case_id FROM events WHERE seq > $1 ORDER BY seq LIMIT $2";
const DEPARTMENTS: &str = "SELECT * FROM departments ORDER BY region_code";
const PROVIDERS_AFTER: &str = "SELECT * FROM providers WHERE id > $1 ORDER BY id";

const NEEDS: &str = "SELECT n.id, n.case_id, n.kind, n.title, n.status, n.owner, c.region AS case_region, c.enterprise_id \
     FROM needs n JOIN cases c ON c.id = n.case_id ORDER BY n.id";
const NEEDS_OF_CASE: &str = "SELECT n.id, n.case_id, n.kind, n.title, n.status, n.owner, c.region AS case_region, c.enterprise_id \
     FROM needs n JOIN cases c ON c.id = n.case_id WHERE n.case_id IN ({ids}) ORDER BY n.id";
const TEAMS: &str = "SELECT id, case_id AS owner_id, department AS value FROM team_members ORDER BY case_id, id";
const TEAM_OF_CASE: &str = "SELECT id, case_id AS owner_id, department AS value FROM team_members WHERE case_id IN ({ids}) ORDER BY case_id, id";
const BROADCASTS: &str = "SELECT need_id AS owner_id, department AS value FROM broadcasts ORDER BY need_id, department";
const BROADCASTS_OF_CASE: &str = "SELECT b.need_id AS owner_id, b.department AS value FROM broadcasts b JOIN needs n ON n.id = b.need_id \
     WHERE n.case_id IN ({ids}) ORDER BY b.need_id, b.department";
const CANDIDATES: &str = "SELECT need_id AS owner_id, provider_id AS value FROM candidates ORDER BY need_id, provider_id";
const CANDIDATES_OF_CASE: &str = "SELECT c.need_id AS owner_id, c.provider_id AS value FROM candidates c JOIN needs n ON n.id = c.need_id \
     WHERE n.case_id IN ({ids}) ORDER BY c.need_id, c.provider_id";
const LETTERS: &str = "SELECT * FROM letters ORDER BY id";
const LETTERS_OF_CASE: &str = "SELECT l.* FROM letters l JOIN needs n ON n.id = l.need_id WHERE n.case_id IN ({ids}) ORDER BY l.id";
const CASES_WITH_IDS: &str = "SELECT * FROM cases WHERE id IN ({ids}) ORDER BY id";
const ENTERPRISES_WITH_IDS: &str = "SELECT * FROM enterprises WHERE id IN ({ids}) ORDER BY id";
const CASES_OF_ENTERPRISES: &str = "SELECT * FROM cases WHERE enterprise_id IN ({ids}) ORDER BY id";
const CASE_OF_LETTER: &str = "SELECT n.case_id AS n FROM letters l JOIN needs n ON n.id = l.need_id WHERE l.id = $1";

/// `sql` with `{ids}` standing for the ids of `ids`, given as one parameter (a JSON array),
/// however many there are.
fn with_ids(e: &crate::db::Exec<'_>, sql: &str, ids: &[i64]) -> crate::db::Stmt {
    crate::db::query_owned(sql.replace("{ids}", &crate::lists::ids_of_json(e, "$1"))).bind(crate::lists::json_ids(ids))
}

fn change(r: &dyn Row) -> StoreResult<SearchChange> {
    Ok(SearchChange { seq: r.try_get("seq")?, entity: r.try_get("entity")?, case_id: r.try_get("case_id")? })
}

fn need(r: &dyn Row) -> StoreResult<SearchNeedRow> {
    Ok(SearchNeedRow {
        id: r.try_get("id")?,
        case_id: r.try_get("case_id")?,
        kind: r.try_get("kind").map_err(|e| e.at_row("needs", r, "id"))?,
        title: r.try_get("title")?,
        status: r.try_get("status").map_err(|e| e.at_row("needs", r, "id"))?,
        owner: r.try_get("owner").map_err(|e| e.at_row("needs", r, "id"))?,
        case_region: r.try_get("case_region").map_err(|e| e.at_row("needs", r, "id"))?,
        enterprise_id: r.try_get("enterprise_id")?,
    })
}

/// A stationed team's department: (case, department), a bad department named by the member's id.
fn team_pair(r: &dyn Row) -> StoreResult<SearchPair<RegionCode>> {
    Ok(SearchPair { owner_id: r.try_get("owner_id")?, value: r.try_get("value").map_err(|e| e.at_row("team_members", r, "id"))? })
}

/// A broadcast: (need, department), a bad department named by the need's id.
fn broadcast_pair(r: &dyn Row) -> StoreResult<SearchPair<RegionCode>> {
    Ok(SearchPair { owner_id: r.try_get("owner_id")?, value: r.try_get("value").map_err(|e| e.at_row("broadcasts", r, "owner_id"))? })
}

/// A candidacy: (need, provider id).
fn candidate_pair(r: &dyn Row) -> StoreResult<SearchPair<i64>> {
    Ok(SearchPair { owner_id: r.try_get("owner_id")?, value: r.try_get("value")? })
}

/// The needs of the database or of one case, with who sees them by name and their letters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchNeeds {
    pub needs: Vec<SearchNeedRow>,
    /// (case, department) of the stationed teams.
    pub teams: Vec<SearchPair<RegionCode>>,
    /// (need, department).
    pub broadcasts: Vec<SearchPair<RegionCode>>,
    /// (need, provider id).
    pub candidates: Vec<SearchPair<i64>>,
    pub letters: Vec<LetterRow>,
}

impl Store {
    /// Up to `limit` audit events after `after_seq`, by sequence number.
    pub async fn search_changes_after(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<SearchChange>> {
        self.reader().await?.exec().rows(query(CHANGES_AFTER).bind(after_seq).bind(limit), change).await
    }

    pub async fn departments(&self) -> StoreResult<Vec<DepartmentRow>> {
        self.reader().await?.exec().rows(query(DEPARTMENTS), DepartmentRow::from_row).await
    }

    /// The providers after id `after_id` (those an import added), by id.
    pub async fn providers_after(&self, after_id: i64) -> StoreResult<Vec<ProviderRow>> {
        self.reader().await?.exec().rows(query(PROVIDERS_AFTER).bind(after_id), ProviderRow::from_row).await
    }

    /// The case of a letter's need.
    pub async fn case_of_letter(&self, letter_id: i64) -> StoreResult<Option<i64>> {
        self.reader().await?.exec().optional(query(CASE_OF_LETTER).bind(letter_id), |r| r.try_get::<i64>("n")).await
    }

    /// Every need (`cases` None) or those of the cases `cases`, with what the index reads
    /// beside them, on one connection (six statements, however many cases).
    pub async fn search_needs(&self, cases: Option<&[i64]>) -> StoreResult<SearchNeeds> {
        let mut reader = self.reader().await?;
        let mut exec = reader.exec();
        let stmt = |exec: &crate::db::Exec<'_>, all: &'static str, of_cases: &'static str| match cases {
            Some(ids) => with_ids(exec, of_cases, ids),
            None => query(all),
        };
        let needs = stmt(&exec, NEEDS, NEEDS_OF_CASE);
        let teams = stmt(&exec, TEAMS, TEAM_OF_CASE);
        let broadcasts = stmt(&exec, BROADCASTS, BROADCASTS_OF_CASE);
        let candidates = stmt(&exec, CANDIDATES, CANDIDATES_OF_CASE);
        let letters = stmt(&exec, LETTERS, LETTERS_OF_CASE);
        Ok(SearchNeeds {
            needs: exec.reborrow().rows(needs, need).await?,
            teams: exec.reborrow().rows(teams, team_pair).await?,
            broadcasts: exec.reborrow().rows(broadcasts, broadcast_pair).await?,
            candidates: exec.reborrow().rows(candidates, candidate_pair).await?,
            letters: exec.rows(letters, LetterRow::from_row).await?,
        })
    }

    /// The cases with these ids, by id.
    pub async fn cases_with_ids(&self, ids: &[i64]) -> StoreResult<Vec<CaseRow>> {
        let mut reader = self.reader().await?;
        let exec = reader.exec();
        let stmt = with_ids(&exec, CASES_WITH_IDS, ids);
        exec.rows(stmt, CaseRow::from_row).await
    }

    /// The enterprises with these ids, by id.
    pub async fn enterprises_with_ids(&self, ids: &[i64]) -> StoreResult<Vec<EnterpriseRow>> {
        let mut reader = self.reader().await?;
        let exec = reader.exec();
        let stmt = with_ids(&exec, ENTERPRISES_WITH_IDS, ids);
        exec.rows(stmt, EnterpriseRow::from_row).await
    }

    /// The cases of these enterprises, by id.
    pub async fn cases_of_enterprises(&self, ids: &[i64]) -> StoreResult<Vec<CaseRow>> {
        let mut reader = self.reader().await?;
        let exec = reader.exec();
        let stmt = with_ids(&exec, CASES_OF_ENTERPRISES, ids);
        exec.rows(stmt, CaseRow::from_row).await
    }
}
