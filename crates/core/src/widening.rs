//! Widening search (逐级扩大): a new need is sourced ring by ring — the enterprise's county, its
//! city, its province, the nation — and the first ring that holds a feasible candidate decides
//! where the search stops. Each empty ring leaves a message ("曲沃县内无可用提供方，扩大至临汾市").
//!
//! A ring is a [`Scope`]: a candidate lies in a ring when routing would give it that scope or a
//! narrower one, so the ring where the search stops always agrees with [`crate::routing::route`].
//! Rings that do not exist for an enterprise are skipped:
//! - the county ring exists only for an enterprise registered at a county-level code (an enterprise
//!   registered at 东莞 or at 临汾市 itself starts at its city);
//! - the city ring needs a city: 济源 and 仙桃 go from the county straight to the province;
//! - a municipality is city and province at once: 丰台区 widens to 北京市, then to the nation.
//!
//! Feasibility and ranking belong to screening; this module only says which ring to take
//! candidates from.

use crate::model::{Bilingual, Scope};
use crate::region::{Level, RegionCode, RegionTree};
use crate::routing::{RouteError, scope_between};

/// One ring of the search around an enterprise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ring {
    /// The widest scope of a candidate inside the ring.
    pub scope: Scope,
    /// The jurisdiction the ring covers; none for the nation.
    pub region: Option<RegionCode>,
}

impl Ring {
    /// "曲沃县" / "曲沃县"; "全国" / "the whole country".
    pub fn name(&self, tree: &RegionTree) -> Bilingual {
        match self.region {
            Some(code) => {
                let name = tree.get(code).map_or_else(|| code.to_string(), |r| r.name.clone());
                Bilingual::new(name.clone(), name)
            }
            None => Bilingual::new("全国", "the whole country"),
        }
    }
}

/// The rings around an enterprise, narrowest first; the last is always the nation.
pub fn rings(tree: &RegionTree, enterprise: RegionCode) -> Result<Vec<Ring>, RouteError> {
    let region = tree.get(enterprise).ok_or(RouteError::UnknownRegion(enterprise))?;
    let province = tree.province_of(enterprise).ok_or(RouteError::UnknownRegion(enterprise))?.code;
    let mut out = Vec::with_capacity(4);
    if region.level == Level::County {
        out.push(Ring { scope: Scope::Local, region: Some(enterprise) });
    }
    if let Some(city) = tree.city_of(enterprise) {
        out.push(Ring { scope: Scope::City, region: Some(city.code) });
    }
    if !tree.is_municipality(province) {
        out.push(Ring { scope: Scope::Province, region: Some(province) });
    }
    out.push(Ring { scope: Scope::National, region: None });
    Ok(out)
}

/// Where a widening search stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Widening {
    /// The first ring that holds a candidate, and the indexes (into the input, ascending) of the
    /// candidates inside it; none when no candidate was given.
    pub found: Option<(Ring, Vec<usize>)>,
    /// One message per empty ring passed over, narrowest first; when nothing was found, a last
    /// message says so.
    pub messages: Vec<Bilingual>,
}

/// Searches the rings around `enterprise` for the first that holds one of the feasible
/// candidates, given by the regions they lie in.
pub fn widen(tree: &RegionTree, enterprise: RegionCode, candidates: &[RegionCode]) -> Result<Widening, RouteError> {
    let rings = rings(tree, enterprise)?;
    let scopes: Vec<Scope> = candidates.iter().map(|&c| scope_between(tree, enterprise, c)).collect::<Result<_, _>>()?;
    let mut messages = Vec::new();
    for (i, ring) in rings.iter().enumerate() {
        let inside: Vec<usize> = (0..scopes.len()).filter(|&j| scopes[j] <= ring.scope).collect();
        if !inside.is_empty() {
            return Ok(Widening { found: Some((*ring, inside)), messages });
        }
        let here = ring.name(tree);
        match rings.get(i + 1) {
            Some(next) => {
                let next = next.name(tree);
                messages.push(Bilingual::new(
                    format!("{}内无可用提供方，扩大至{}", here.zh, next.zh),
                    format!("no provider in {} — widened to {}", here.en, next.en),
                ));
            }
            None => messages.push(Bilingual::new("全国范围内均无可用提供方", "no provider anywhere in the country")),
        }
    }
    Ok(Widening { found: None, messages })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::{RoutingPolicy, route};

    fn code(c: u32) -> RegionCode {
        RegionCode::new_unchecked(c)
    }

    /// The rings as "scope:region" words, such as "local:141021 city:141000 province:140000 national".
    fn rings_of(enterprise: u32) -> String {
        rings(RegionTree::embedded(), code(enterprise))
            .unwrap()
            .iter()
            .map(|r| match r.region {
                Some(c) => format!("{}:{c}", r.scope),
                None => r.scope.to_string(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn rings_go_county_city_province_nation_skipping_what_does_not_exist() {
        let cases = [
            (141021, "local:141021 city:141000 province:140000 national", "曲沃县"),
            (141081, "local:141081 city:141000 province:140000 national", "侯马市, a county-level city"),
            (419001, "local:419001 province:410000 national", "济源: no city"),
            (429004, "local:429004 province:420000 national", "仙桃: no city"),
            (110106, "local:110106 city:110000 national", "丰台区: 北京 is city and province at once"),
            (500229, "local:500229 city:500000 national", "城口县 in 重庆郊县"),
            (110000, "city:110000 national", "registered at 北京市 itself"),
            (441900, "city:441900 province:440000 national", "东莞: a city without counties"),
            (141000, "city:141000 province:140000 national", "registered at 临汾市 itself"),
            (140000, "province:140000 national", "registered at 山西省 itself"),
            (810000, "province:810000 national", "香港"),
        ];
        for (enterprise, expected, what) in cases {
            assert_eq!(rings_of(enterprise), expected, "{what}");
        }
    }

    fn widen_messages(enterprise: u32, candidates: &[u32]) -> (Option<Scope>, Vec<String>, Vec<String>) {
        let candidates: Vec<RegionCode> = candidates.iter().map(|&c| code(c)).collect();
        let w = widen(RegionTree::embedded(), code(enterprise), &candidates).unwrap();
        (
            w.found.map(|(ring, _)| ring.scope),
            w.messages.iter().map(|m| m.zh.clone()).collect(),
            w.messages.iter().map(|m| m.en.clone()).collect(),
        )
    }

    #[test]
    fn the_reference_case_widens_from_quwo_to_the_province_for_sterilisation() {
        // no sterilisation in 临汾; 万荣 (运城) and 太原 are in the province
        let (scope, zh, en) = widen_messages(141021, &[140822, 140105]);
        assert_eq!(scope, Some(Scope::Province));
        assert_eq!(zh, ["曲沃县内无可用提供方，扩大至临汾市", "临汾市内无可用提供方，扩大至山西省"]);
        assert_eq!(en, ["no provider in 曲沃县 — widened to 临汾市", "no provider in 临汾市 — widened to 山西省"]);
    }

    #[test]
    fn a_provider_in_the_county_stops_the_search_at_once() {
        let (scope, zh, _) = widen_messages(141021, &[441900, 141081, 141021]);
        assert_eq!((scope, zh.len()), (Some(Scope::Local), 0));
        let w = widen(RegionTree::embedded(), code(141021), &[code(441900), code(141081), code(141021)]).unwrap();
        assert_eq!(w.found.unwrap().1, [2]);
    }

    #[test]
    fn the_city_ring_holds_every_candidate_of_the_city_including_the_county() {
        let w = widen(RegionTree::embedded(), code(141021), &[code(140822), code(141081), code(141000), code(110106)]).unwrap();
        let (ring, inside) = w.found.unwrap();
        assert_eq!(ring, Ring { scope: Scope::City, region: Some(code(141000)) });
        assert_eq!(inside, [1, 2]);
    }

    #[test]
    fn jiyuan_widens_straight_to_its_province() {
        let (scope, zh, en) = widen_messages(419001, &[410100]);
        assert_eq!(scope, Some(Scope::Province));
        assert_eq!(zh, ["济源市内无可用提供方，扩大至河南省"]);
        assert_eq!(en, ["no provider in 济源市 — widened to 河南省"]);
    }

    #[test]
    fn a_beijing_district_widens_to_beijing_then_to_the_nation() {
        let (scope, zh, en) = widen_messages(110106, &[141021]);
        assert_eq!(scope, Some(Scope::National));
        assert_eq!(zh, ["丰台区内无可用提供方，扩大至北京市", "北京市内无可用提供方，扩大至全国"]);
        assert_eq!(en, ["no provider in 丰台区 — widened to 北京市", "no provider in 北京市 — widened to the whole country"]);
    }

    #[test]
    fn with_no_candidate_every_ring_is_reported_empty() {
        let (scope, zh, en) = widen_messages(141021, &[]);
        assert_eq!(scope, None);
        assert_eq!(
            zh,
            ["曲沃县内无可用提供方，扩大至临汾市", "临汾市内无可用提供方，扩大至山西省", "山西省内无可用提供方，扩大至全国", "全国范围内均无可用提供方"]
        );
        assert_eq!(en.last().unwrap(), "no provider anywhere in the country");
    }

    #[test]
    fn the_ring_found_agrees_with_routing_the_candidate() {
        let tree = RegionTree::embedded();
        let regions: Vec<RegionCode> = tree.iter().map(|r| r.code).collect();
        for (i, &enterprise) in regions.iter().enumerate().step_by(37) {
            for &solution in regions.iter().skip(i % 53).step_by(211) {
                let w = widen(tree, enterprise, &[solution]).unwrap();
                let (ring, _) = w.found.unwrap();
                let routed = route(tree, &RoutingPolicy::default(), enterprise, solution, None).unwrap();
                // the ring is the narrowest existing ring at or above the routed scope
                assert!(routed.scope <= ring.scope, "{enterprise} → {solution}");
                let rings = rings(tree, enterprise).unwrap();
                let first = rings.iter().find(|r| r.scope >= routed.scope).unwrap();
                assert_eq!(*first, ring, "{enterprise} → {solution}");
            }
        }
    }

    #[test]
    fn an_unknown_region_is_an_error() {
        let tree = RegionTree::embedded();
        assert_eq!(widen(tree, code(141099), &[]), Err(RouteError::UnknownRegion(code(141099))));
        assert_eq!(widen(tree, code(141021), &[code(999999)]), Err(RouteError::UnknownRegion(code(999999))));
    }
}
