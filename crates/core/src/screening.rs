//! Screening (筛选): a need against the capabilities of its kind. Each capability becomes a
//! feasible [`Candidate`] with its lead time, scope and owner, or a [`Rejection`] with every
//! reason that applies and the numbers behind it, in Chinese and English.
//!
//! The rules (issue 4):
//! - road_km and one-way hours come from the [`TravelModel`]; travel_h doubles them for a round
//!   trip (the default for sterilisation, slitting and testing, whose goods come back);
//! - processing_h: sterilisation max(turnaround_h, 24 × quantity ÷ capacity_per_day); slitting and
//!   testing turnaround_h; raw material, equipment and labour lead_time_h;
//! - lead_time_h = travel_h + processing_h;
//! - reasons, in this order: `unavailable`, `spec_mismatch`, `insufficient_capacity`, `too_far`
//!   (road_km > max_distance_km), `too_slow` (lead_time_h > max_lead_time_h);
//! - candidates rank by lead_time_h, then road_km, then provider; rejections list by provider.
//!
//! Capabilities of another kind are not candidates at all: they are skipped, not rejected.

use crate::capability::{AttrError, Capability, CapabilityAttrs, Requirement, SterilisationMethod, check_number, same_standard, same_text};
use crate::model::{Bilingual, NeedKind, Scope};
use crate::region::{RegionCode, RegionTree};
use crate::routing::{RouteError, RoutingPolicy, route};
use crate::travel::{LonLat, Trip, TravelModel};
use std::cmp::Ordering;

/// What screening reads of a need. Build it with [`NeedSpec::new`], which checks the numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct NeedSpec {
    /// The enterprise's region: routing runs from here to each provider's region.
    pub region: RegionCode,
    /// Where the goods start (and come back to on a round trip).
    pub at: LonLat,
    /// How many: masks to sterilise, tonnes of fabric, workers.
    pub quantity: f64,
    pub requires: Requirement,
    pub trip: Trip,
    pub max_distance_km: Option<f64>,
    pub max_lead_time_h: Option<f64>,
}

impl NeedSpec {
    /// A need with the default trip of its kind and no limits; `quantity` must be above 0.
    pub fn new(region: RegionCode, at: LonLat, quantity: f64, requires: Requirement) -> Result<NeedSpec, AttrError> {
        check_number("quantity", quantity, true)?;
        requires.validate()?;
        let trip = default_trip(requires.kind());
        Ok(NeedSpec { region, at, quantity, requires, trip, max_distance_km: None, max_lead_time_h: None })
    }

    pub fn with_trip(self, trip: Trip) -> NeedSpec {
        NeedSpec { trip, ..self }
    }

    pub fn with_max_distance_km(self, km: f64) -> Result<NeedSpec, AttrError> {
        check_number("max_distance_km", km, false)?;
        Ok(NeedSpec { max_distance_km: Some(km), ..self })
    }

    pub fn with_max_lead_time_h(self, hours: f64) -> Result<NeedSpec, AttrError> {
        check_number("max_lead_time_h", hours, false)?;
        Ok(NeedSpec { max_lead_time_h: Some(hours), ..self })
    }

    pub fn kind(&self) -> NeedKind {
        self.requires.kind()
    }
}

/// Round for the processing kinds (the goods come back), one way for supplies.
pub fn default_trip(kind: NeedKind) -> Trip {
    match kind {
        NeedKind::Sterilisation | NeedKind::Slitting | NeedKind::Testing => Trip::Round,
        _ => Trip::OneWay,
    }
}

/// One way in which a capability does not meet the specification.
#[derive(Clone, Debug, PartialEq)]
pub enum Mismatch {
    MethodNotAllowed { method: SterilisationMethod, allowed: Vec<SterilisationMethod> },
    /// The rolls are wider than the machine takes.
    InputTooWide { max_input_width_m: f64, input_width_m: f64 },
    /// The machine cannot cut as narrow as required.
    OutputTooNarrow { min_output_width_m: f64, output_width_m: f64 },
    StandardNotCovered { standard: String, standards: Vec<String> },
    /// Material, item or skill differs.
    Differs { kind: NeedKind, offered: String, required: String },
}

/// Why a capability is not a candidate; see the module documentation for the order.
#[derive(Clone, Debug, PartialEq)]
pub enum Reason {
    Unavailable,
    SpecMismatch(Vec<Mismatch>),
    /// Stock (or, for labour, headcount) below the quantity.
    InsufficientCapacity { available: f64, quantity: f64, kind: NeedKind },
    TooFar { road_km: f64, max_distance_km: f64 },
    TooSlow { lead_time_h: f64, travel_h: f64, processing_h: f64, max_lead_time_h: f64, kind: NeedKind },
}

/// A reason as it is kept with a rejected candidacy: its code and its words (the facts of the
/// [`Reason`] are not kept beside them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeptReason {
    /// [`Reason::code`].
    pub code: String,
    /// [`Reason::explain`].
    pub text: Bilingual,
}

/// What a provider's own part of the lead time is called for a kind: 灭菌 / sterilisation,
/// 分切 / slitting, 检验 / testing; for stock, people and equipment 备货 / getting ready.
pub fn work_words(kind: NeedKind) -> (&'static str, &'static str) {
    match kind {
        NeedKind::Sterilisation => ("灭菌", "sterilisation"),
        NeedKind::Slitting => ("分切", "slitting"),
        NeedKind::Testing => ("检验", "testing"),
        _ => ("备货", "getting ready"),
    }
}

impl Reason {
    /// The reason as a candidacy keeps it.
    pub fn kept(&self) -> KeptReason {
        KeptReason { code: self.code().to_string(), text: self.explain() }
    }

    /// The wire code: unavailable, spec_mismatch, insufficient_capacity, too_far, too_slow.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::Unavailable => "unavailable",
            Reason::SpecMismatch(_) => "spec_mismatch",
            Reason::InsufficientCapacity { .. } => "insufficient_capacity",
            Reason::TooFar { .. } => "too_far",
            Reason::TooSlow { .. } => "too_slow",
        }
    }

    /// The reason with its numbers: "距离约 673 公里，超出上限 400 公里" / "about 673 km away, over
    /// the limit of 400 km".
    pub fn explain(&self) -> Bilingual {
        match self {
            Reason::Unavailable => Bilingual::new("目前不接单", "not taking work at present"),
            Reason::SpecMismatch(details) => {
                let texts: Vec<Bilingual> = details.iter().map(Mismatch::explain).collect();
                Bilingual::new(
                    texts.iter().map(|t| t.zh.as_str()).collect::<Vec<_>>().join("，"),
                    texts.iter().map(|t| t.en.as_str()).collect::<Vec<_>>().join(", "),
                )
            }
            Reason::InsufficientCapacity { available, quantity, kind } => {
                let (a, q) = pair(*available, *quantity, 0);
                if *kind == NeedKind::Labour {
                    Bilingual::new(format!("可派 {a} 人，少于所需 {q} 人"), format!("{a} workers, fewer than the {q} needed"))
                } else {
                    Bilingual::new(format!("库存 {a}，少于所需数量 {q}"), format!("stock of {a}, less than the {q} needed"))
                }
            }
            Reason::TooFar { road_km, max_distance_km } => {
                let (d, m) = pair(*road_km, *max_distance_km, 0);
                Bilingual::new(format!("距离约 {d} 公里，超出上限 {m} 公里"), format!("about {d} km away, over the limit of {m} km"))
            }
            Reason::TooSlow { lead_time_h, travel_h, processing_h, max_lead_time_h, kind } => {
                let (l, m) = pair(*lead_time_h, *max_lead_time_h, 1);
                let (t, p) = (number(*travel_h, 1), number(*processing_h, 1));
                let (work_zh, work_en) = work_words(*kind);
                Bilingual::new(
                    format!("总用时约 {l} 小时（运输 {t} 小时 + {work_zh} {p} 小时），超出上限 {m} 小时"),
                    format!("lead time about {l} h ({t} h travel + {p} h {work_en}), over the limit of {m} h"),
                )
            }
        }
    }
}

impl Mismatch {
    pub fn explain(&self) -> Bilingual {
        match self {
            Mismatch::MethodNotAllowed { method, allowed } => {
                let list_zh = allowed.iter().map(|m| m.label_zh()).collect::<Vec<_>>().join("、");
                let list_en = allowed.iter().map(|m| m.label_en()).collect::<Vec<_>>().join(" or ");
                Bilingual::new(
                    format!("灭菌方式为{}，不在所需方式（{list_zh}）之内", method.label_zh()),
                    format!("sterilises by {}, not by the required {list_en}", method.label_en()),
                )
            }
            Mismatch::InputTooWide { max_input_width_m, input_width_m } => {
                let (m, i) = pair(*max_input_width_m, *input_width_m, 2);
                Bilingual::new(
                    format!("最大进料幅宽 {m} 米，小于来料幅宽 {i} 米"),
                    format!("takes rolls up to {m} m wide, the rolls are {i} m"),
                )
            }
            Mismatch::OutputTooNarrow { min_output_width_m, output_width_m } => {
                let (m, o) = pair(*min_output_width_m, *output_width_m, 2);
                Bilingual::new(
                    format!("最小分切幅宽 {m} 米，大于所需幅宽 {o} 米"),
                    format!("cuts no narrower than {m} m, {o} m is required"),
                )
            }
            Mismatch::StandardNotCovered { standard, standards } => Bilingual::new(
                format!("不能按 {standard} 检验（可检：{}）", standards.join("、")),
                format!("does not test to {standard} (tests to {})", standards.join(", ")),
            ),
            Mismatch::Differs { kind, offered, required } => {
                let (zh, en) = match kind {
                    NeedKind::Labour => ("工种", "skill"),
                    NeedKind::Equipment => ("设备", "item"),
                    _ => ("原材料", "material"),
                };
                Bilingual::new(
                    format!("提供的{zh}为{offered}，不是所需的{required}"),
                    format!("offers the {en} {offered:?}, not {required:?}"),
                )
            }
        }
    }
}

/// The numbers of one capability against one need, and every reason it is not a candidate.
#[derive(Clone, Debug, PartialEq)]
pub struct Assessment {
    pub road_km: f64,
    pub travel_h: f64,
    pub processing_h: f64,
    pub lead_time_h: f64,
    pub reasons: Vec<Reason>,
}

impl Assessment {
    pub fn is_feasible(&self) -> bool {
        self.reasons.is_empty()
    }
}

/// A feasible capability, with its lead time and the routing decision it implies.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate<P> {
    pub provider: P,
    pub name: String,
    pub region: RegionCode,
    pub road_km: f64,
    pub travel_h: f64,
    pub processing_h: f64,
    pub lead_time_h: f64,
    pub scope: Scope,
    /// The department that would own the need with this candidate chosen.
    pub owner: RegionCode,
    /// For a national scope: the province whose department receives a letter.
    pub letter_to: Option<RegionCode>,
    pub explanation: Bilingual,
}

/// A capability of the need's kind that is not a candidate, with every reason.
#[derive(Clone, Debug, PartialEq)]
pub struct Rejection<P> {
    pub provider: P,
    pub name: String,
    pub region: RegionCode,
    pub road_km: f64,
    pub lead_time_h: f64,
    pub reasons: Vec<Reason>,
    pub explanation: Bilingual,
}

/// The result of screening: candidates ranked, rejections by provider.
#[derive(Clone, Debug, PartialEq)]
pub struct Screening<P> {
    pub candidates: Vec<Candidate<P>>,
    pub rejected: Vec<Rejection<P>>,
}

/// The order of candidates: lead time, then road distance, then provider.
pub fn rank_order<P: Ord>(a: &Candidate<P>, b: &Candidate<P>) -> Ordering {
    rank_key_order((a.lead_time_h, a.road_km, &a.provider), (b.lead_time_h, b.road_km, &b.provider))
}

pub(crate) fn rank_key_order<P: Ord>(a: (f64, f64, &P), b: (f64, f64, &P)) -> Ordering {
    a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)).then_with(|| a.2.cmp(b.2))
}

/// What a switch from the selected candidate to a challenger saves. `km` may be negative: a
/// faster provider can be farther away.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Savings {
    pub hours: f64,
    pub km: f64,
}

/// A proposal to switch an unstarted need from its selected provider to a better one.
#[derive(Clone, Debug, PartialEq)]
pub struct SwitchProposal<P> {
    pub from: P,
    pub to: P,
    pub savings: Savings,
    pub explanation: Bilingual,
}

impl<P: Clone + PartialEq> SwitchProposal<P> {
    /// A proposal if `challenger` is better than `selected` (see [`better_than`]).
    pub fn propose(selected: &Candidate<P>, challenger: &Candidate<P>) -> Option<SwitchProposal<P>> {
        let savings = better_than(selected, challenger)?;
        let hours = number(savings.hours, 1);
        let km = number(savings.km.abs(), 0);
        let (km_zh, km_en) = if savings.km >= 0.0 {
            (format!("少走约 {km} 公里"), format!("{km} km shorter"))
        } else {
            (format!("多走约 {km} 公里"), format!("{km} km longer"))
        };
        let explanation = Bilingual::new(
            format!(
                "建议由{}改为{}：总用时约 {} 小时，节省约 {hours} 小时，{km_zh}。",
                selected.name,
                challenger.name,
                number(challenger.lead_time_h, 1)
            ),
            format!(
                "Switch from {} to {}: lead time about {} h, {hours} h sooner, {km_en}.",
                selected.name,
                challenger.name,
                number(challenger.lead_time_h, 1)
            ),
        );
        Some(SwitchProposal { from: selected.provider.clone(), to: challenger.provider.clone(), savings, explanation })
    }
}

/// What `challenger` saves over `selected`, if it is better: a shorter lead time, or the same
/// lead time over a shorter road. A different candidate that saves nothing is not better.
pub fn better_than<P: PartialEq>(selected: &Candidate<P>, challenger: &Candidate<P>) -> Option<Savings> {
    if selected.provider == challenger.provider {
        return None;
    }
    let savings = Savings { hours: selected.lead_time_h - challenger.lead_time_h, km: selected.road_km - challenger.road_km };
    (savings.hours > 0.0 || (savings.hours == 0.0 && savings.km > 0.0)).then_some(savings)
}

/// Screens needs against capabilities: the region tree and routing policy decide scope and owner,
/// the travel model distance and time.
#[derive(Clone, Copy, Debug)]
pub struct Screener<'a, T: TravelModel + ?Sized> {
    pub tree: &'a RegionTree,
    pub policy: &'a RoutingPolicy,
    pub travel: &'a T,
}

impl<'a, T: TravelModel + ?Sized> Screener<'a, T> {
    pub fn new(tree: &'a RegionTree, policy: &'a RoutingPolicy, travel: &'a T) -> Self {
        Screener { tree, policy, travel }
    }

    /// The numbers and reasons of one capability, or none for a capability of another kind.
    pub fn assess<P>(&self, need: &NeedSpec, capability: &Capability<P>) -> Option<Assessment> {
        if capability.kind() != need.kind() {
            return None;
        }
        let leg = self.travel.leg(need.at, capability.at);
        let travel_h = leg.hours * need.trip.legs();
        let processing_h = processing_h(need.quantity, &capability.attrs);
        let lead_time_h = travel_h + processing_h;
        let mut reasons = Vec::new();
        if !capability.available {
            reasons.push(Reason::Unavailable);
        }
        let mut details = Vec::new();
        if !spec_check(&need.requires, &capability.attrs, Some(&mut details)) {
            reasons.push(Reason::SpecMismatch(details));
        }
        if let Some(available) = capacity_shortfall(need.quantity, &capability.attrs) {
            reasons.push(Reason::InsufficientCapacity { available, quantity: need.quantity, kind: need.kind() });
        }
        if let Some(max_distance_km) = need.max_distance_km.filter(|max| leg.road_km > *max) {
            reasons.push(Reason::TooFar { road_km: leg.road_km, max_distance_km });
        }
        if let Some(max_lead_time_h) = need.max_lead_time_h.filter(|max| lead_time_h > *max) {
            reasons.push(Reason::TooSlow { lead_time_h, travel_h, processing_h, max_lead_time_h, kind: need.kind() });
        }
        Some(Assessment { road_km: leg.road_km, travel_h, processing_h, lead_time_h, reasons })
    }

    /// Screens `need` against `capabilities`: every capability of its kind becomes a candidate
    /// (ranked) or a rejection (by provider, then input order).
    pub fn screen<'c, P, I>(&self, need: &NeedSpec, capabilities: I) -> Result<Screening<P>, RouteError>
    where
        P: Ord + Clone + 'c,
        I: IntoIterator<Item = &'c Capability<P>>,
    {
        let mut feasible = Vec::new();
        let mut rejected = Vec::new();
        for capability in capabilities {
            let Some(assessment) = self.assess(need, capability) else { continue };
            if assessment.is_feasible() {
                feasible.push((capability, assessment));
            } else {
                rejected.push(self.rejection(capability, assessment));
            }
        }
        rejected.sort_by(|a, b| a.provider.cmp(&b.provider));
        let candidates = self.render_ranked(need, feasible, None)?;
        Ok(Screening { candidates, rejected })
    }

    /// The best `limit` candidates (all with `None`), exactly as [`Screener::screen`] ranks
    /// them, without writing out the rejections.
    pub fn best_candidates<'c, P, I>(&self, need: &NeedSpec, capabilities: I, limit: Option<usize>) -> Result<Vec<Candidate<P>>, RouteError>
    where
        P: Ord + Clone + 'c,
        I: IntoIterator<Item = &'c Capability<P>>,
    {
        let feasible = capabilities
            .into_iter()
            .filter_map(|c| self.assess(need, c).filter(Assessment::is_feasible).map(|a| (c, a)))
            .collect();
        self.render_ranked(need, feasible, limit)
    }

    /// The feasible capabilities with their numbers, in the rank order of [`Screener::screen`],
    /// written out neither as candidates nor as rejections: for callers that need the numbers
    /// of many needs at once (allocation screens every open need of a kind against the
    /// registry, and the sentences would be thrown away).
    pub fn feasible_ranked<'c, P, I>(&self, need: &NeedSpec, capabilities: I) -> Vec<(&'c Capability<P>, Assessment)>
    where
        P: Ord + 'c,
        I: IntoIterator<Item = &'c Capability<P>>,
    {
        let mut feasible: Vec<(&Capability<P>, Assessment)> =
            capabilities.into_iter().filter_map(|c| self.assess(need, c).filter(Assessment::is_feasible).map(|a| (c, a))).collect();
        feasible.sort_by(|(ca, a), (cb, b)| {
            rank_key_order((a.lead_time_h, a.road_km, &ca.provider), (b.lead_time_h, b.road_km, &cb.provider))
        });
        feasible
    }

    /// Sorts feasible assessments into rank order, keeps `limit`, and writes each out.
    pub(crate) fn render_ranked<P: Ord + Clone>(
        &self,
        need: &NeedSpec,
        mut feasible: Vec<(&Capability<P>, Assessment)>,
        limit: Option<usize>,
    ) -> Result<Vec<Candidate<P>>, RouteError> {
        feasible.sort_by(|(ca, a), (cb, b)| {
            rank_key_order((a.lead_time_h, a.road_km, &ca.provider), (b.lead_time_h, b.road_km, &cb.provider))
        });
        feasible.truncate(limit.unwrap_or(usize::MAX));
        feasible.into_iter().map(|(capability, assessment)| self.candidate(need, capability, &assessment)).collect()
    }

    /// A feasible capability written out with its route and sentence.
    pub fn candidate<P: Clone>(&self, need: &NeedSpec, capability: &Capability<P>, assessment: &Assessment) -> Result<Candidate<P>, RouteError> {
        let decision = route(self.tree, self.policy, need.region, capability.region, Some(need.kind()))?;
        let place = self.tree.full_name(capability.region);
        let (km, travel, processing, lead) = (
            number(assessment.road_km, 0),
            number(assessment.travel_h, 1),
            number(assessment.processing_h, 1),
            number(assessment.lead_time_h, 1),
        );
        let (trip_zh, trip_en) = match need.trip {
            Trip::Round => ("往返运输", "travel there and back"),
            Trip::OneWay => ("单程运输", "travel one way"),
        };
        let (work_zh, work_en) = work_words(need.kind());
        let explanation = Bilingual::new(
            format!(
                "{}（{place}）：路程约 {km} 公里，{trip_zh}约 {travel} 小时，{work_zh} {processing} 小时，总用时约 {lead} 小时。{}",
                capability.name, decision.explanation.zh
            ),
            format!(
                "{} ({place}): about {km} km by road, {travel} h {trip_en}, {processing} h {work_en}, lead time about {lead} h. {}",
                capability.name, decision.explanation.en
            ),
        );
        Ok(Candidate {
            provider: capability.provider.clone(),
            name: capability.name.clone(),
            region: capability.region,
            road_km: assessment.road_km,
            travel_h: assessment.travel_h,
            processing_h: assessment.processing_h,
            lead_time_h: assessment.lead_time_h,
            scope: decision.scope,
            owner: decision.owner,
            letter_to: decision.letter_to,
            explanation,
        })
    }

    /// An infeasible capability written out with its reasons.
    pub fn rejection<P: Clone>(&self, capability: &Capability<P>, assessment: Assessment) -> Rejection<P> {
        let place = self.tree.full_name(capability.region);
        let texts: Vec<Bilingual> = assessment.reasons.iter().map(Reason::explain).collect();
        let explanation = Bilingual::new(
            format!("{}（{place}）不符合：{}。", capability.name, texts.iter().map(|t| t.zh.as_str()).collect::<Vec<_>>().join("；")),
            format!("{} ({place}) is not a candidate: {}.", capability.name, texts.iter().map(|t| t.en.as_str()).collect::<Vec<_>>().join("; ")),
        );
        Rejection {
            provider: capability.provider.clone(),
            name: capability.name.clone(),
            region: capability.region,
            road_km: assessment.road_km,
            lead_time_h: assessment.lead_time_h,
            reasons: assessment.reasons,
            explanation,
        }
    }
}

/// Hours of work at the provider: sterilisation max(turnaround_h, 24 × quantity ÷
/// capacity_per_day); slitting and testing turnaround_h; supplies lead_time_h.
pub fn processing_h(quantity: f64, attrs: &CapabilityAttrs) -> f64 {
    match attrs {
        CapabilityAttrs::Sterilisation { turnaround_h, capacity_per_day, .. } => turnaround_h.max(24.0 * quantity / capacity_per_day),
        CapabilityAttrs::Slitting { turnaround_h, .. } | CapabilityAttrs::Testing { turnaround_h, .. } => *turnaround_h,
        CapabilityAttrs::RawMaterial { lead_time_h, .. }
        | CapabilityAttrs::Equipment { lead_time_h, .. }
        | CapabilityAttrs::Labour { lead_time_h, .. } => *lead_time_h,
    }
}

/// The stock or headcount, when it is below the quantity.
pub(crate) fn capacity_shortfall(quantity: f64, attrs: &CapabilityAttrs) -> Option<f64> {
    match attrs {
        CapabilityAttrs::RawMaterial { stock: have, .. }
        | CapabilityAttrs::Equipment { stock: have, .. }
        | CapabilityAttrs::Labour { headcount: have, .. } => (*have < quantity).then_some(*have),
        _ => None,
    }
}

/// Whether the capability meets the requirement; the ways it does not go into `details` when
/// given. A capability of another kind never meets it.
pub(crate) fn spec_check(requires: &Requirement, attrs: &CapabilityAttrs, mut details: Option<&mut Vec<Mismatch>>) -> bool {
    let mut ok = true;
    let mut fail = |mismatch: &dyn Fn() -> Mismatch| {
        ok = false;
        if let Some(details) = details.as_deref_mut() {
            details.push(mismatch());
        }
    };
    match (requires, attrs) {
        (Requirement::Sterilisation { methods }, CapabilityAttrs::Sterilisation { method, .. }) => {
            if let Some(allowed) = methods.as_ref().filter(|allowed| !allowed.contains(method)) {
                fail(&|| Mismatch::MethodNotAllowed { method: *method, allowed: allowed.clone() });
            }
        }
        (Requirement::Slitting { input_width_m, output_width_m }, CapabilityAttrs::Slitting { max_input_width_m, min_output_width_m, .. }) => {
            if max_input_width_m < input_width_m {
                fail(&|| Mismatch::InputTooWide { max_input_width_m: *max_input_width_m, input_width_m: *input_width_m });
            }
            if min_output_width_m > output_width_m {
                fail(&|| Mismatch::OutputTooNarrow { min_output_width_m: *min_output_width_m, output_width_m: *output_width_m });
            }
        }
        (Requirement::Testing { standard }, CapabilityAttrs::Testing { standards, .. }) => {
            if !standards.iter().any(|s| same_standard(s, standard)) {
                fail(&|| Mismatch::StandardNotCovered { standard: standard.clone(), standards: standards.clone() });
            }
        }
        (Requirement::RawMaterial { material: required }, CapabilityAttrs::RawMaterial { material: offered, .. })
        | (Requirement::Equipment { item: required }, CapabilityAttrs::Equipment { item: offered, .. })
        | (Requirement::Labour { skill: required }, CapabilityAttrs::Labour { skill: offered, .. }) => {
            if !same_text(offered, required) {
                fail(&|| Mismatch::Differs { kind: requires.kind(), offered: offered.clone(), required: required.clone() });
            }
        }
        _ => fail(&|| Mismatch::Differs {
            kind: requires.kind(),
            offered: attrs.kind().as_str().to_string(),
            required: requires.kind().as_str().to_string(),
        }),
    }
    ok
}

/// Whether a capability passes every check that does not depend on distance; if so, its
/// processing hours. Agrees with [`Screener::assess`] by construction (same checks).
pub(crate) fn passes_without_travel<P>(need: &NeedSpec, capability: &Capability<P>) -> Option<f64> {
    let fits = capability.available
        && capability.kind() == need.kind()
        && spec_check(&need.requires, &capability.attrs, None)
        && capacity_shortfall(need.quantity, &capability.attrs).is_none();
    fits.then(|| processing_h(need.quantity, &capability.attrs))
}

/// A number with at most `decimals` decimals, trailing zeros dropped: 400.0 → "400", 2.73 → "2.7".
pub fn number(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text };
    if text == "-0" { "0".to_string() } else { text }
}

/// Two numbers compared in a sentence, with enough decimals that unequal values do not read as
/// equal ("400.3 km, over the limit of 400 km", not "400 km … 400 km").
fn pair(value: f64, limit: f64, decimals: usize) -> (String, String) {
    let mut d = decimals;
    loop {
        let (a, b) = (number(value, d), number(limit, d));
        if a != b || value == limit || d >= decimals + 3 {
            return (a, b);
        }
        d += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::travel::GeodesicTravel;
    use proptest::prelude::*;

    const QUWO: (f64, f64) = (111.47586, 35.641086);

    fn code(c: u32) -> RegionCode {
        RegionCode::new_unchecked(c)
    }

    /// A capability at the seat of government of `region`.
    fn capability(provider: &str, region: u32, available: bool, attrs: CapabilityAttrs) -> Capability<String> {
        let tree = RegionTree::embedded();
        let r = tree.get(code(region)).unwrap();
        Capability {
            provider: provider.to_string(),
            name: format!("{}企业", r.name),
            region: code(region),
            at: LonLat { lon: r.lon.unwrap(), lat: r.lat.unwrap() },
            available,
            attrs,
        }
    }

    fn need(quantity: f64, requires: Requirement) -> NeedSpec {
        NeedSpec::new(code(141021), LonLat { lon: QUWO.0, lat: QUWO.1 }, quantity, requires).unwrap()
    }

    fn screen(need: &NeedSpec, capabilities: &[Capability<String>]) -> Screening<String> {
        let travel = GeodesicTravel::default();
        Screener::new(RegionTree::embedded(), &RoutingPolicy::default(), &travel).screen(need, capabilities).unwrap()
    }

    fn codes(rejection: &Rejection<String>) -> Vec<&'static str> {
        rejection.reasons.iter().map(Reason::code).collect()
    }

    fn sterilisation(method: SterilisationMethod, turnaround_h: f64, capacity_per_day: f64) -> CapabilityAttrs {
        CapabilityAttrs::Sterilisation { method, turnaround_h, capacity_per_day }
    }

    fn close(actual: f64, expected: f64, tolerance: f64) {
        assert!((actual - expected).abs() <= tolerance, "{actual} is not within {tolerance} of {expected}");
    }

    // Road distances from 曲沃 (seat coordinates), by Vincenty's formula in Python × 1.3:
    // 万荣 140822: 63.043 km geodesic → 81.956 km road, 1.366 h one way at 60 km/h.
    // 大同平城区 140213: 517.637 km → 672.928 km road, 11.215 h one way.
    // 太原小店区 140105: 252.103 km → 327.734 km road, 5.462 h one way.
    // 侯马市 141081: 9.719 km → 12.634 km road, 0.2106 h one way.
    // 翼城县 141022: 24.518 km → 31.874 km road.
    // 东莞市 441900: 1416.113 km → 1840.948 km road, 30.6825 h one way.

    #[test]
    fn the_reference_case_ranks_wanrong_first_and_rejects_the_far_and_the_slow() {
        let need = need(90_000.0, Requirement::Sterilisation { methods: None })
            .with_max_distance_km(400.0)
            .unwrap()
            .with_max_lead_time_h(96.0)
            .unwrap();
        let providers = [
            capability("wanrong-huakang", 140822, true, sterilisation(SterilisationMethod::Co60, 36.0, 100_000.0)),
            capability("datong-north", 140213, true, sterilisation(SterilisationMethod::Co60, 36.0, 100_000.0)),
            // EO: 7 days with degassing.
            capability("taiyuan-eo", 140105, true, sterilisation(SterilisationMethod::Eo, 168.0, 200_000.0)),
        ];
        let result = screen(&need, &providers);

        assert_eq!(result.candidates.len(), 1);
        let wanrong = &result.candidates[0];
        assert_eq!(wanrong.provider, "wanrong-huakang");
        close(wanrong.road_km, 81.956, 0.02);
        close(wanrong.travel_h, 2.732, 0.002);
        close(wanrong.processing_h, 36.0, 1e-9); // max(36, 24 × 90,000 ÷ 100,000 = 21.6)
        close(wanrong.lead_time_h, 38.732, 0.002);
        assert_eq!((wanrong.scope, wanrong.owner), (Scope::Province, code(140000)));
        assert!(wanrong.explanation.zh.contains("路程约 82 公里，往返运输约 2.7 小时，灭菌 36 小时，总用时约 38.7 小时"), "{}", wanrong.explanation.zh);
        assert!(wanrong.explanation.en.contains("about 82 km by road, 2.7 h travel there and back"), "{}", wanrong.explanation.en);
        assert!(wanrong.explanation.zh.contains("山西省工信厅"), "{}", wanrong.explanation.zh);

        let by_provider: Vec<(&str, Vec<&str>)> = result.rejected.iter().map(|r| (r.provider.as_str(), codes(r))).collect();
        assert_eq!(by_provider, [("datong-north", vec!["too_far"]), ("taiyuan-eo", vec!["too_slow"])]);
        let datong = &result.rejected[0];
        close(datong.road_km, 672.928, 0.1);
        assert!(datong.explanation.zh.contains("距离约 673 公里，超出上限 400 公里"), "{}", datong.explanation.zh);
        assert!(datong.explanation.en.contains("about 673 km away, over the limit of 400 km"), "{}", datong.explanation.en);
        let taiyuan = &result.rejected[1];
        close(taiyuan.road_km, 327.734, 0.05);
        close(taiyuan.lead_time_h, 168.0 + 10.924, 0.01);
        assert!(taiyuan.explanation.zh.contains("总用时约 178.9 小时（运输 10.9 小时 + 灭菌 168 小时），超出上限 96 小时"), "{}", taiyuan.explanation.zh);
        assert!(taiyuan.explanation.en.contains("lead time about 178.9 h (10.9 h travel + 168 h sterilisation), over the limit of 96 h"));
    }

    #[test]
    fn sterilisation_takes_longer_than_its_turnaround_when_the_batch_exceeds_capacity() {
        // 24 × 90,000 ÷ 30,000 = 72 h > 36 h turnaround.
        let result = screen(
            &need(90_000.0, Requirement::Sterilisation { methods: None }),
            &[capability("w", 140822, true, sterilisation(SterilisationMethod::Co60, 36.0, 30_000.0))],
        );
        close(result.candidates[0].processing_h, 72.0, 1e-9);
        close(result.candidates[0].lead_time_h, 74.732, 0.002);
    }

    #[test]
    fn a_method_outside_the_allowed_ones_is_a_spec_mismatch() {
        let result = screen(
            &need(1000.0, Requirement::Sterilisation { methods: Some(vec![SterilisationMethod::Co60, SterilisationMethod::Ebeam]) }),
            &[capability("t", 140105, true, sterilisation(SterilisationMethod::Eo, 168.0, 1e6))],
        );
        assert_eq!(codes(&result.rejected[0]), ["spec_mismatch"]);
        assert!(result.rejected[0].explanation.zh.contains("灭菌方式为环氧乙烷，不在所需方式（钴-60辐照、电子束辐照）之内"));
        assert!(result.rejected[0].explanation.en.contains("sterilises by ethylene oxide, not by the required cobalt-60 irradiation or electron-beam irradiation"));
    }

    #[test]
    fn slitting_checks_both_widths_and_travels_there_and_back() {
        let need = need(10.0, Requirement::Slitting { input_width_m: 1.6, output_width_m: 0.5 });
        let result = screen(
            &need,
            &[
                capability("houma", 141081, true, CapabilityAttrs::Slitting { max_input_width_m: 1.8, min_output_width_m: 0.2, turnaround_h: 8.0 }),
                capability("narrow", 141021, true, CapabilityAttrs::Slitting { max_input_width_m: 1.4, min_output_width_m: 0.6, turnaround_h: 4.0 }),
            ],
        );
        let houma = &result.candidates[0];
        assert_eq!((houma.scope, houma.owner), (Scope::City, code(141000)));
        close(houma.road_km, 12.634, 0.005);
        close(houma.processing_h, 8.0, 1e-9);
        close(houma.travel_h, 0.4211, 0.0005);
        close(houma.lead_time_h, 8.4211, 0.0005);
        let narrow = &result.rejected[0];
        assert_eq!(codes(narrow), ["spec_mismatch"]);
        assert_eq!(
            narrow.reasons[0],
            Reason::SpecMismatch(vec![
                Mismatch::InputTooWide { max_input_width_m: 1.4, input_width_m: 1.6 },
                Mismatch::OutputTooNarrow { min_output_width_m: 0.6, output_width_m: 0.5 },
            ])
        );
        assert!(narrow.explanation.zh.contains("最大进料幅宽 1.4 米，小于来料幅宽 1.6 米，最小分切幅宽 0.6 米，大于所需幅宽 0.5 米"));
    }

    #[test]
    fn testing_needs_the_standard_among_those_covered() {
        let need = need(20.0, Requirement::Testing { standard: "GB 19083-2010".into() });
        let result = screen(
            &need,
            &[
                capability("centre", 140105, true, CapabilityAttrs::Testing { standards: vec!["GB19083-2010".into()], turnaround_h: 48.0 }),
                capability("other", 140100, true, CapabilityAttrs::Testing { standards: vec!["YY 0469-2011".into()], turnaround_h: 24.0 }),
            ],
        );
        let centre = &result.candidates[0];
        close(centre.road_km, 327.734, 0.05);
        close(centre.lead_time_h, 48.0 + 10.924, 0.01);
        assert!(result.rejected[0].explanation.en.contains("does not test to GB 19083-2010 (tests to YY 0469-2011)"));
    }

    #[test]
    fn supplies_travel_one_way_and_need_enough_stock() {
        // 曲沃 → 万荣 one way: 1.366 h.
        let need = need(5.0, Requirement::RawMaterial { material: "熔喷布".into() });
        let result = screen(
            &need,
            &[
                capability("enough", 140822, true, CapabilityAttrs::RawMaterial { material: "熔喷布".into(), stock: 8.0, lead_time_h: 12.0 }),
                capability("short", 140822, true, CapabilityAttrs::RawMaterial { material: "熔喷布".into(), stock: 3.0, lead_time_h: 12.0 }),
                capability("wrong", 140822, true, CapabilityAttrs::RawMaterial { material: "无纺布".into(), stock: 80.0, lead_time_h: 12.0 }),
            ],
        );
        close(result.candidates[0].travel_h, 1.366, 0.001);
        close(result.candidates[0].lead_time_h, 13.366, 0.001);
        assert!(result.candidates[0].explanation.zh.contains("单程运输约 1.4 小时，备货 12 小时"));
        assert_eq!(codes(&result.rejected[0]), ["insufficient_capacity"]);
        assert!(result.rejected[0].explanation.zh.contains("库存 3，少于所需数量 5"));
        assert_eq!(codes(&result.rejected[1]), ["spec_mismatch"]);
        assert!(result.rejected[1].explanation.zh.contains("提供的原材料为无纺布，不是所需的熔喷布"));
    }

    #[test]
    fn equipment_from_another_province_routes_nationally() {
        let need = need(1.0, Requirement::Equipment { item: "mask production line".into() });
        let result = screen(
            &need,
            &[capability("dongguan", 441900, true, CapabilityAttrs::Equipment { item: "Mask production line".into(), stock: 2.0, lead_time_h: 24.0 })],
        );
        let c = &result.candidates[0];
        assert_eq!((c.scope, c.owner, c.letter_to), (Scope::National, code(140000), Some(code(440000))));
        close(c.road_km, 1840.948, 0.2);
        close(c.travel_h, 30.6825, 0.005); // one way: the line stays
        close(c.lead_time_h, 54.6825, 0.005);
    }

    #[test]
    fn labour_counts_heads() {
        let need = need(3.0, Requirement::Labour { skill: "机修".into() });
        let result = screen(&need, &[capability("few", 141022, true, CapabilityAttrs::Labour { skill: "机修".into(), headcount: 2.0, lead_time_h: 6.0 })]);
        assert_eq!(codes(&result.rejected[0]), ["insufficient_capacity"]);
        close(result.rejected[0].road_km, 31.874, 0.01);
        close(result.rejected[0].lead_time_h, 6.0 + 31.874 / 60.0, 0.001);
        assert!(result.rejected[0].explanation.zh.contains("可派 2 人，少于所需 3 人"));
        assert!(result.rejected[0].explanation.en.contains("2 workers, fewer than the 3 needed"));
    }

    #[test]
    fn every_reason_that_applies_is_given_in_order() {
        let need = need(10.0, Requirement::Labour { skill: "机修".into() }).with_max_distance_km(400.0).unwrap().with_max_lead_time_h(10.0).unwrap();
        let result = screen(&need, &[capability("all", 140213, false, CapabilityAttrs::Labour { skill: "缝纫".into(), headcount: 2.0, lead_time_h: 6.0 })]);
        assert_eq!(codes(&result.rejected[0]), ["unavailable", "spec_mismatch", "insufficient_capacity", "too_far", "too_slow"]);
        // 672.928 km ÷ 60 = 11.215 h one way, + 6 h.
        close(result.rejected[0].lead_time_h, 17.215, 0.002);
        let zh = &result.rejected[0].explanation.zh;
        assert!(zh.starts_with("平城区企业（山西省大同市平城区）不符合：目前不接单；提供的工种为缝纫"), "{zh}");
        assert!(zh.contains("总用时约 17.2 小时（运输 11.2 小时 + 备货 6 小时），超出上限 10 小时"), "{zh}");
    }

    #[test]
    fn providers_of_another_kind_are_not_candidates_at_all() {
        let need = need(1.0, Requirement::Labour { skill: "机修".into() });
        let result = screen(&need, &[capability("s", 140822, true, sterilisation(SterilisationMethod::Co60, 1.0, 1.0))]);
        assert!(result.candidates.is_empty() && result.rejected.is_empty());
    }

    #[test]
    fn a_trip_given_on_the_need_overrides_the_default() {
        let need = need(1.0, Requirement::Testing { standard: "GB 2626-2019".into() }).with_trip(Trip::OneWay);
        let result = screen(&need, &[capability("t", 140822, true, CapabilityAttrs::Testing { standards: vec!["GB 2626-2019".into()], turnaround_h: 0.0 })]);
        close(result.candidates[0].travel_h, 1.366, 0.001);
    }

    #[test]
    fn a_distance_just_over_the_limit_shows_the_decimal_that_matters() {
        assert_eq!(Reason::TooFar { road_km: 400.3, max_distance_km: 400.0 }.explain().zh, "距离约 400.3 公里，超出上限 400 公里");
        assert_eq!(number(2.0, 1), "2");
        assert_eq!(number(-0.01, 1), "0");
    }

    #[test]
    fn a_need_with_a_negative_or_zero_quantity_is_refused() {
        let at = LonLat { lon: QUWO.0, lat: QUWO.1 };
        let err = NeedSpec::new(code(141021), at, -5.0, Requirement::Labour { skill: "x".into() }).unwrap_err();
        assert_eq!(err.to_string(), "quantity is -5, must not be negative");
        assert!(NeedSpec::new(code(141021), at, 0.0, Requirement::Labour { skill: "x".into() }).is_err());
    }

    #[test]
    fn a_faster_candidate_is_proposed_as_a_switch_with_its_savings() {
        let need = need(1.0, Requirement::Slitting { input_width_m: 1.6, output_width_m: 0.5 });
        let slitter = CapabilityAttrs::Slitting { max_input_width_m: 1.8, min_output_width_m: 0.2, turnaround_h: 8.0 };
        let result = screen(&need, &[capability("houma", 141081, true, slitter.clone()), capability("quwo", 141021, true, slitter)]);
        let (quwo, houma) = (&result.candidates[0], &result.candidates[1]);
        assert_eq!(quwo.provider, "quwo");
        let savings = better_than(houma, quwo).unwrap();
        close(savings.hours, houma.lead_time_h - quwo.lead_time_h, 1e-12);
        close(savings.km, houma.road_km, 1e-9); // the Quwo firm sits at the need's own place
        assert_eq!(better_than(quwo, houma), None);
        assert_eq!(better_than(quwo, quwo), None);
        let proposal = SwitchProposal::propose(houma, quwo).unwrap();
        assert_eq!((proposal.from.as_str(), proposal.to.as_str()), ("houma", "quwo"));
        assert!(proposal.explanation.zh.starts_with("建议由侯马市企业改为曲沃县企业"), "{}", proposal.explanation.zh);
    }

    fn any_sterilisation_capability() -> impl Strategy<Value = Capability<String>> {
        (
            0u32..1000,
            proptest::sample::select(vec![140822u32, 140213, 140105, 141021, 141081, 441900, 110106, 650102]),
            any::<bool>(),
            proptest::sample::select(SterilisationMethod::ALL.to_vec()),
            0.0f64..200.0,
            1.0f64..500_000.0,
        )
            .prop_map(|(id, region, available, method, turnaround_h, capacity_per_day)| {
                capability(&format!("p{id:03}"), region, available, sterilisation(method, turnaround_h, capacity_per_day))
            })
    }

    fn limited_need() -> NeedSpec {
        need(90_000.0, Requirement::Sterilisation { methods: Some(vec![SterilisationMethod::Co60, SterilisationMethod::Ebeam]) })
            .with_max_distance_km(800.0)
            .unwrap()
            .with_max_lead_time_h(120.0)
            .unwrap()
    }

    proptest! {
        #[test]
        fn candidates_come_sorted_by_lead_time_then_distance_then_provider(
            providers in proptest::collection::vec(any_sterilisation_capability(), 0..40)
        ) {
            let result = screen(&limited_need(), &providers);
            for pair in result.candidates.windows(2) {
                prop_assert!(rank_order(&pair[0], &pair[1]) != Ordering::Greater);
            }
            prop_assert_eq!(result.candidates.len() + result.rejected.len(), providers.len());
        }

        #[test]
        fn adding_an_infeasible_provider_changes_no_candidate(
            providers in proptest::collection::vec(any_sterilisation_capability(), 0..30),
            extra in any_sterilisation_capability(),
        ) {
            let need = limited_need();
            let travel = GeodesicTravel::default();
            let policy = RoutingPolicy::default();
            let screener = Screener::new(RegionTree::embedded(), &policy, &travel);
            prop_assume!(!screener.assess(&need, &extra).unwrap().is_feasible());
            let before = screen(&need, &providers);
            let mut more = providers.clone();
            more.push(extra);
            let after = screen(&need, &more);
            prop_assert_eq!(before.candidates, after.candidates);
            prop_assert_eq!(before.rejected.len() + 1, after.rejected.len());
        }

        #[test]
        fn the_quick_check_agrees_with_the_reasons(provider in any_sterilisation_capability()) {
            let need = limited_need();
            let travel = GeodesicTravel::default();
            let policy = RoutingPolicy::default();
            let screener = Screener::new(RegionTree::embedded(), &policy, &travel);
            let assessment = screener.assess(&need, &provider).unwrap();
            let static_ok = assessment.reasons.iter().all(|r| matches!(r, Reason::TooFar { .. } | Reason::TooSlow { .. }));
            prop_assert_eq!(passes_without_travel(&need, &provider).is_some(), static_ok);
        }

        #[test]
        fn best_candidates_are_the_head_of_the_full_screening(
            providers in proptest::collection::vec(any_sterilisation_capability(), 0..30),
            limit in 0usize..5,
        ) {
            let need = limited_need();
            let travel = GeodesicTravel::default();
            let policy = RoutingPolicy::default();
            let screener = Screener::new(RegionTree::embedded(), &policy, &travel);
            let full = screener.screen(&need, &providers).unwrap();
            let best = screener.best_candidates(&need, &providers, Some(limit)).unwrap();
            prop_assert_eq!(&best[..], &full.candidates[..limit.min(full.candidates.len())]);
        }

        #[test]
        fn the_feasible_ranked_are_the_candidates_of_the_full_screening_with_their_numbers(
            providers in proptest::collection::vec(any_sterilisation_capability(), 0..30),
        ) {
            let need = limited_need();
            let travel = GeodesicTravel::default();
            let policy = RoutingPolicy::default();
            let screener = Screener::new(RegionTree::embedded(), &policy, &travel);
            let full = screener.screen(&need, &providers).unwrap();
            let ranked = screener.feasible_ranked(&need, &providers);
            let numbers: Vec<_> = ranked.iter().map(|(c, a)| (c.provider.clone(), a.lead_time_h, a.road_km)).collect();
            let expected: Vec<_> = full.candidates.iter().map(|c| (c.provider.clone(), c.lead_time_h, c.road_km)).collect();
            prop_assert_eq!(numbers, expected);
        }
    }
}
