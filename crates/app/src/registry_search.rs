//! Searching the registry by kind, place and text: the providers `actor` may see (see
//! [`App::list_providers`]) whose capability is of the kind, who lie inside the place's
//! jurisdiction, and whose name, key, note, place or attributes contain the text.

use crate::{Actor, App, AppResult};
use bangfu_store::{CapabilityRow, ProviderRow};

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
    /// The providers matching `search`, by id, each with its capabilities (of the kind, if given).
    pub async fn search_providers(&self, actor: &Actor, search: &ProviderSearch) -> AppResult<Vec<(ProviderRow, Vec<CapabilityRow>)>> {
        let kind = given(&search.kind);
        if let Some(kind) = kind {
            bangfu_core::model::NeedKind::parse(kind).map_err(|e| crate::error::bad(format!("kind: {e}")))?;
        }
        let place = given(&search.place).map(|p| self.region(p, "place")).transpose()?;
        let text = given(&search.text).map(str::to_lowercase);
        let mut found = Vec::new();
        for (provider, capabilities) in self.list_providers(actor, kind).await? {
            let region = crate::needs::region_code(&provider.region);
            if place.is_some_and(|p| !self.tree.jurisdiction_contains(p, region)) {
                continue;
            }
            if let Some(text) = &text {
                let place_name = self.tree.full_name(region);
                let haystack = [provider.name.as_str(), provider.key.as_str(), provider.note.as_str(), place_name.as_str()]
                    .into_iter()
                    .chain(capabilities.iter().map(|c| c.attrs.as_str()))
                    .map(str::to_lowercase)
                    .collect::<Vec<_>>();
                if !haystack.iter().any(|h| h.contains(text.as_str())) {
                    continue;
                }
            }
            found.push((provider, capabilities));
        }
        Ok(found)
    }
}
