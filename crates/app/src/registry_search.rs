//! Searching the registry by kind, place and text, a page at a time in the database: the
//! providers `actor` may see ([`access::visible_providers`]) with a capability of the kind, who lie
//! inside the place's jurisdiction, and that the text finds. The text is looked up in the
//! server's search index (`search.rs`), as the search box does — a provider's name, key, note or
//! place, in simplified or traditional characters, pinyin or initials (萬榮, wanrong and wr all
//! find 万荣) — and the providers it finds are paged in the database with the other filters.
//! The API's provider list, the registry page and its export all go through here.

use crate::error::bad;
use crate::{Actor, App, AppResult, access};
use bangfu_core::model::NeedKind;
use bangfu_store::lists::ProviderQuery;
use bangfu_store::{CapabilityRow, Page, PageRequest, ProviderRow};

/// What to look for; an empty field does not narrow.
#[derive(Clone, Debug, Default)]
pub struct ProviderSearch {
    pub kind: Option<String>,
    /// A region code or unique name: providers inside its jurisdiction.
    pub place: Option<String>,
    pub text: Option<String>,
}

fn given(field: &Option<String>) -> Option<&str> {
    field.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl App {
    /// A page of the providers matching `search`, by id, each with its capabilities (of the
    /// kind, if given).
    pub async fn search_providers(&self, actor: &Actor, search: &ProviderSearch, page: PageRequest) -> AppResult<Page<(ProviderRow, Vec<CapabilityRow>)>> {
        Ok(self.store.providers_page(&self.provider_query(actor, search).await?, page).await?)
    }

    /// How many providers [`App::search_providers`] pages through.
    pub async fn count_providers(&self, actor: &Actor, search: &ProviderSearch) -> AppResult<i64> {
        Ok(self.store.count_providers(&self.provider_query(actor, search).await?).await?)
    }

    async fn provider_query(&self, actor: &Actor, search: &ProviderSearch) -> AppResult<ProviderQuery> {
        let kind = given(&search.kind).map(|k| NeedKind::parse(k).map_err(|e| bad(format!("kind: {e}")))).transpose()?;
        let place = given(&search.place).map(|p| self.region(p, "place")).transpose()?;
        let ids = match given(&search.text) {
            Some(text) => Some(self.providers_found(actor, text).await?),
            None => None,
        };
        Ok(ProviderQuery {
            visible: access::visible_providers(actor),
            kind: kind.map(|k| k.as_str().to_string()),
            regions: place.map(|p| access::jurisdiction(self.tree, p)),
            text: None,
            ids,
        })
    }
}
