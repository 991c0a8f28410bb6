//! The figures of a region (issue 14), read for the charts and the daily briefing: output and
//! capacity per day by product, split into the parts one level down (the cities of a province,
//! the counties of a city, the enterprises of a county, the provinces of the country); needs
//! opened and resolved per day by tier; the median hours to resolve per tier and kind; open
//! needs by kind and tier now. Summed by the database ([`bangfu_store::figures`]); which region
//! an actor may read is [`access::figures_region`]'s to say.

use crate::error::bad;
use crate::{Actor, App, AppError, AppResult, access};
use bangfu_core::model::{NeedKind, Tier};
use bangfu_core::region::{Level, RegionCode};
use bangfu_core::returns::{add_days, days};
use bangfu_store::ReadConn;
use bangfu_store::figures::ReturnSumRow;
use chrono::NaiveDate;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// At most this many days in one set of figures.
pub const MAX_DAYS: i64 = 92;

/// A part of the region the figures are split into: a region one level down, or (below a
/// county) an enterprise's case.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    Region(RegionCode),
    Case(i64),
}

/// One product's figures per day, by part.
#[derive(Clone, Debug, PartialEq)]
pub struct ProductFigures {
    pub product: String,
    /// Output per part, per day (aligned with [`Figures::days`]), parts in code / id order.
    pub output: Vec<(Part, String, Vec<f64>)>,
    /// Sums over the parts, per day.
    pub capacity: Vec<f64>,
    pub output_total: Vec<f64>,
    pub stock: Vec<f64>,
    pub shipped: Vec<f64>,
    /// Returns filed per day (enterprise × this product).
    pub returns: Vec<i64>,
}

/// The median time to resolve the needs of one tier and kind.
#[derive(Clone, Debug, PartialEq)]
pub struct MedianHours {
    pub tier: Tier,
    pub kind: NeedKind,
    pub hours: f64,
    pub needs: usize,
}

/// The figures of a region over days.
#[derive(Clone, Debug, PartialEq)]
pub struct Figures {
    /// None: the whole country.
    pub region: Option<RegionCode>,
    pub region_name: String,
    pub days: Vec<NaiveDate>,
    pub products: Vec<ProductFigures>,
    /// Needs opened and resolved per tier (county, city, province), per day.
    pub opened: Vec<(Tier, Vec<i64>)>,
    pub resolved: Vec<(Tier, Vec<i64>)>,
    pub median_hours: Vec<MedianHours>,
    /// Unclosed needs by kind, each with its count per tier (county, city, province).
    pub open_now: Vec<(NeedKind, [i64; 3])>,
}

pub const TIERS: [Tier; 3] = [Tier::County, Tier::City, Tier::Province];

impl App {
    /// The figures `actor` may read of `region` (none: its own jurisdiction) for the `count`
    /// days ending with `last`.
    pub async fn figures(&self, actor: &Actor, region: Option<&str>, last: NaiveDate, count: i64) -> AppResult<Figures> {
        if !access::may_read_figures(actor) {
            return Err(AppError::Forbidden(format!("{} may not read a department's figures — they are for departments' officers, viewers and admins", actor.name)));
        }
        let asked = region.map(|r| self.region(r, "region")).transpose()?;
        let region = access::figures_region(self.tree, actor, asked).map_err(|()| AppError::NotFound(format!("region {}", asked.map(|a| a.to_string()).unwrap_or_default())))?;
        if !(1..=MAX_DAYS).contains(&count) {
            return Err(bad(format!("days: {count} is not between 1 and {MAX_DAYS}")));
        }
        let mut read = self.store.reading().await?;
        self.figures_of(&mut read, region, last, count).await
    }

    /// The figures of `region` (none: the country), read without an access check (the morning
    /// pass reads every department's).
    pub(crate) async fn figures_of(&self, read: &mut ReadConn, region: Option<RegionCode>, last: NaiveDate, count: i64) -> AppResult<Figures> {
        let first = add_days(last, 1 - count);
        let day_list: Vec<NaiveDate> = days(first, last).collect();
        let visible = access::cases_of_region(self.tree, region);
        let by_case = region.and_then(|r| self.tree.get(r)).is_some_and(|r| r.level == Level::County || self.tree.children(r.code).next().is_none());
        let sums: Vec<ReturnSumRow<Part>> = if by_case {
            read.return_sums_by_case(&visible, &first.to_string(), &last.to_string()).await?.into_iter().map(|r| r.map_part(Part::Case)).collect()
        } else {
            read.return_sums(&visible, &first.to_string(), &last.to_string()).await?.into_iter().map(|r| r.map_part(Part::Region)).collect()
        };
        let mut names: BTreeMap<Part, String> = BTreeMap::new();
        let mut products: BTreeMap<String, BTreeMap<Part, Vec<f64>>> = BTreeMap::new();
        let mut totals: BTreeMap<String, [Vec<f64>; 4]> = BTreeMap::new();
        let mut returns: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        let n = day_list.len();
        for row in &sums {
            let Some(at) = day_list.iter().position(|d| d.to_string() == row.day) else { continue };
            let part = self.part_of(region, &row.part);
            if !names.contains_key(&part) {
                let name = self.part_name(read, &part).await?;
                names.insert(part.clone(), name);
            }
            products.entry(row.product.clone()).or_default().entry(part).or_insert_with(|| vec![0.0; n])[at] += row.output;
            let t = totals.entry(row.product.clone()).or_insert_with(|| [vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]]);
            t[0][at] += row.capacity;
            t[1][at] += row.output;
            t[2][at] += row.stock;
            t[3][at] += row.shipped;
            returns.entry(row.product.clone()).or_insert_with(|| vec![0; n])[at] += row.returns;
        }
        let products = products
            .into_iter()
            .map(|(product, parts)| {
                let [capacity, output_total, stock, shipped] = totals.remove(&product).unwrap_or_default();
                ProductFigures {
                    output: parts.into_iter().map(|(part, values)| {
                        let name = names.get(&part).cloned().unwrap_or_default();
                        (part, name, values)
                    }).collect(),
                    capacity,
                    output_total,
                    stock,
                    shipped,
                    returns: returns.remove(&product).unwrap_or_default(),
                    product,
                }
            })
            .collect();

        let from_ms = day_start_ms(first);
        let to_ms = day_start_ms(add_days(last, 1));
        let per_day = |rows: Vec<bangfu_store::figures::NeedDayCountRow>| -> Vec<(Tier, Vec<i64>)> {
            TIERS
                .iter()
                .map(|tier| {
                    let mut values = vec![0; n];
                    for row in rows.iter().filter(|r| r.tier == *tier) {
                        if let Some(at) = usize::try_from(row.day_index - day_index(first)).ok().filter(|at| *at < n) {
                            values[at] += row.count;
                        }
                    }
                    (*tier, values)
                })
                .collect()
        };
        let opened = per_day(read.needs_opened_per_day(&visible, from_ms, to_ms).await?);
        let resolved = per_day(read.needs_resolved_per_day(&visible, from_ms, to_ms).await?);

        let mut took: BTreeMap<(Tier, NeedKind), Vec<i64>> = BTreeMap::new();
        for row in read.resolve_times(&visible).await? {
            took.entry((row.tier, row.kind)).or_default().push(row.millis);
        }
        let median_hours = took.into_iter().map(|((tier, kind), mut ms)| MedianHours { tier, kind, hours: median(&mut ms) / 3_600_000.0, needs: ms.len() }).collect();

        let mut open: BTreeMap<NeedKind, [i64; 3]> = BTreeMap::new();
        for row in read.open_need_counts(&visible).await? {
            if let Some(at) = TIERS.iter().position(|t| *t == row.tier) {
                open.entry(row.kind).or_default()[at] += row.count;
            }
        }
        Ok(Figures {
            region,
            region_name: region.map_or_else(|| "全国".to_string(), |r| self.tree.get(r).map_or_else(|| r.to_string(), |x| x.name.clone())),
            days: day_list,
            products,
            opened,
            resolved,
            median_hours,
            open_now: open.into_iter().collect(),
        })
    }

    /// The part a county's (or a case's) sums belong to, one level below `region`.
    fn part_of(&self, region: Option<RegionCode>, summed: &Part) -> Part {
        let county = match summed {
            Part::Case(id) => return Part::Case(*id),
            Part::Region(county) => *county,
        };
        let part = match region.and_then(|r| self.tree.get(r)).map(|r| r.level) {
            None => self.tree.province_of(county).map(|p| p.code),
            Some(Level::Province) => self.tree.city_of(county).filter(|c| Some(c.code) != region).map(|c| c.code).or(Some(county)),
            Some(_) => Some(county),
        };
        Part::Region(part.unwrap_or(county))
    }

    async fn part_name(&self, read: &mut ReadConn, part: &Part) -> AppResult<String> {
        Ok(match part {
            Part::Region(code) => self.tree.get(*code).map_or_else(|| code.to_string(), |r| r.name.clone()),
            Part::Case(id) => read.enterprise_of_case(*id).await?.map_or_else(|| format!("case {id}"), |e| e.name),
        })
    }
}

impl Part {
    /// `region:141000` or `case:5`.
    pub fn key(&self) -> String {
        match self {
            Part::Region(code) => format!("region:{code}"),
            Part::Case(id) => format!("case:{id}"),
        }
    }

    fn parse(key: &str) -> Option<Part> {
        match key.split_once(':')? {
            ("region", code) => crate::needs::region_code(code).map(Part::Region),
            ("case", id) => id.parse().ok().map(Part::Case),
            _ => None,
        }
    }
}

impl Figures {
    /// The figures as JSON (the API's answer, and what a kept briefing holds).
    pub fn to_json(&self) -> Value {
        json!({
            "region": self.region.map(|r| r.to_string()),
            "region_name": self.region_name,
            "days": self.days.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            "products": self.products.iter().map(|p| json!({
                "product": p.product,
                "parts": p.output.iter().map(|(part, name, values)| json!({"part": part.key(), "name": name, "output": values})).collect::<Vec<_>>(),
                "capacity": p.capacity, "output": p.output_total, "stock": p.stock, "shipped": p.shipped, "returns": p.returns,
            })).collect::<Vec<_>>(),
            "needs_opened": self.opened.iter().map(|(t, v)| json!({"tier": t.as_str(), "counts": v})).collect::<Vec<_>>(),
            "needs_resolved": self.resolved.iter().map(|(t, v)| json!({"tier": t.as_str(), "counts": v})).collect::<Vec<_>>(),
            "median_hours_to_resolve": self.median_hours.iter().map(|m| json!({"tier": m.tier.as_str(), "kind": m.kind.as_str(), "hours": m.hours, "needs": m.needs})).collect::<Vec<_>>(),
            "open_needs": self.open_now.iter().map(|(k, c)| json!({"kind": k.as_str(), "county": c[0], "city": c[1], "province": c[2]})).collect::<Vec<_>>(),
        })
    }

    /// The figures back from [`Figures::to_json`]; none if the JSON is not of that shape.
    pub fn from_json(v: &Value) -> Option<Figures> {
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let floats = |v: &Value, k: &str| v.get(k).and_then(Value::as_array).map(|a| a.iter().map(|x| x.as_f64().unwrap_or(0.0)).collect::<Vec<f64>>());
        let ints = |v: &Value, k: &str| v.get(k).and_then(Value::as_array).map(|a| a.iter().map(|x| x.as_i64().unwrap_or(0)).collect::<Vec<i64>>());
        let list = |v: &Value, k: &str| v.get(k).and_then(Value::as_array).cloned().unwrap_or_default();
        let tier_days = |k: &str| -> Option<Vec<(Tier, Vec<i64>)>> { list(v, k).iter().map(|x| Some((Tier::parse(&text(x, "tier")?).ok()?, ints(x, "counts")?))).collect() };
        Some(Figures {
            region: match text(v, "region") {
                None => None,
                Some(r) => Some(crate::needs::region_code(&r)?),
            },
            region_name: text(v, "region_name")?,
            days: list(v, "days").iter().map(|d| d.as_str().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())).collect::<Option<_>>()?,
            products: list(v, "products")
                .iter()
                .map(|p| {
                    Some(ProductFigures {
                        product: text(p, "product")?,
                        output: list(p, "parts").iter().map(|x| Some((Part::parse(&text(x, "part")?)?, text(x, "name")?, floats(x, "output")?))).collect::<Option<_>>()?,
                        capacity: floats(p, "capacity")?,
                        output_total: floats(p, "output")?,
                        stock: floats(p, "stock")?,
                        shipped: floats(p, "shipped")?,
                        returns: ints(p, "returns")?,
                    })
                })
                .collect::<Option<_>>()?,
            opened: tier_days("needs_opened")?,
            resolved: tier_days("needs_resolved")?,
            median_hours: list(v, "median_hours_to_resolve")
                .iter()
                .map(|m| Some(MedianHours { tier: Tier::parse(&text(m, "tier")?).ok()?, kind: NeedKind::parse(&text(m, "kind")?).ok()?, hours: m.get("hours")?.as_f64()?, needs: usize::try_from(m.get("needs")?.as_u64()?).ok()? }))
                .collect::<Option<_>>()?,
            open_now: list(v, "open_needs")
                .iter()
                .map(|o| Some((NeedKind::parse(&text(o, "kind")?).ok()?, [o.get("county")?.as_i64()?, o.get("city")?.as_i64()?, o.get("province")?.as_i64()?])))
                .collect::<Option<_>>()?,
        })
    }
}

/// The median of some numbers (the mean of the middle two for an even count); 0 for none.
pub fn median(values: &mut [i64]) -> f64 {
    values.sort_unstable();
    let n = values.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => values[n / 2] as f64,
        _ => (values[n / 2 - 1] as f64 + values[n / 2] as f64) / 2.0,
    }
}

/// The first millisecond of a day at UTC+8.
pub fn day_start_ms(day: NaiveDate) -> i64 {
    day_index(day) * 86_400_000 - bangfu_core::china_time::OFFSET_MS
}

/// Days since 1970-01-01.
fn day_index(day: NaiveDate) -> i64 {
    day.signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&mut [4, 1, 3, 2]), 2.5);
        assert_eq!(median(&mut [5, 1, 3]), 3.0);
        assert_eq!(median(&mut []), 0.0);
    }

    #[test]
    fn a_day_starts_at_midnight_china_time() {
        let day = NaiveDate::from_ymd_opt(2020, 2, 13).unwrap();
        assert_eq!(day_start_ms(day), chrono::DateTime::parse_from_rfc3339("2020-02-13T00:00:00+08:00").unwrap().timestamp_millis());
    }
}
