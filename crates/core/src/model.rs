//! The words of design.md as types: tiers and scopes, kinds of need, statuses, roles, and the
//! bilingual text every decision carries. Names here are the names in the UI and the API.

/// A text in Chinese and English; Chinese first.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Bilingual {
    pub zh: String,
    pub en: String,
}

impl Bilingual {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Bilingual {
        Bilingual { zh: zh.into(), en: en.into() }
    }
}

/// A fixed label in both languages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label {
    pub zh: &'static str,
    pub en: &'static str,
}

/// Implements `as_str`, `parse` and `ALL` for a plain enum with a fixed wire name per variant.
macro_rules! named_enum {
    ($name:ident { $($variant:ident = $text:literal),* $(,)? }) => {
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }

            /// Parses the wire name; the error lists the accepted names.
            pub fn parse(text: &str) -> Result<$name, String> {
                match text.trim() {
                    $($text => Ok($name::$variant),)*
                    other => Err(format!(
                        "unknown {} {:?} — expected one of: {}",
                        $crate::model::wire_noun(stringify!($name)),
                        other,
                        [$($text),*].join(", ")
                    )),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        $crate::model::wire_name_serialize!($name);
    };
}

pub(crate) use named_enum;

/// `Serialize` as the wire name (`as_str`): a domain type in JSON is the text the API always showed.
macro_rules! wire_name_serialize {
    ($name:ty) => {
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}
pub(crate) use wire_name_serialize;

/// The level of a department.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    County,
    City,
    Province,
}
named_enum!(Tier { County = "county", City = "city", Province = "province" });

impl Tier {
    pub fn label(self) -> Label {
        match self {
            Tier::County => Label { zh: "县级", en: "county" },
            Tier::City => Label { zh: "市级", en: "city" },
            Tier::Province => Label { zh: "省级", en: "province" },
        }
    }

    /// The tier above, or none above the province.
    pub fn up(self) -> Option<Tier> {
        match self {
            Tier::County => Some(Tier::City),
            Tier::City => Some(Tier::Province),
            Tier::Province => None,
        }
    }

    pub fn of_level(level: crate::region::Level) -> Tier {
        match level {
            crate::region::Level::Province => Tier::Province,
            crate::region::Level::City => Tier::City,
            crate::region::Level::County => Tier::County,
        }
    }
}

/// Where a need's solution lies relative to the enterprise (协调范围).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Local,
    City,
    Province,
    National,
}
named_enum!(Scope { Local = "local", City = "city", Province = "province", National = "national" });

impl Scope {
    pub fn label(self) -> Label {
        match self {
            Scope::Local => Label { zh: "本地", en: "local" },
            Scope::City => Label { zh: "市内跨县", en: "within the city" },
            Scope::Province => Label { zh: "省内跨市", en: "within the province" },
            Scope::National => Label { zh: "跨省", en: "across provinces" },
        }
    }
}

/// What a need is about. The first six are also kinds of capability in the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NeedKind {
    Sterilisation,
    Slitting,
    Testing,
    RawMaterial,
    Equipment,
    Labour,
    Logistics,
    Permit,
    TrafficPass,
    Other,
}
named_enum!(NeedKind {
    Sterilisation = "sterilisation",
    Slitting = "slitting",
    Testing = "testing",
    RawMaterial = "raw_material",
    Equipment = "equipment",
    Labour = "labour",
    Logistics = "logistics",
    Permit = "permit",
    TrafficPass = "traffic_pass",
    Other = "other",
});

impl NeedKind {
    /// Permits and traffic passes are matters of the enterprise's own region, wherever obtained.
    pub fn is_always_local(self) -> bool {
        matches!(self, NeedKind::Permit | NeedKind::TrafficPass)
    }

    /// Whether providers of the registry can be screened for this kind.
    pub fn has_capabilities(self) -> bool {
        matches!(
            self,
            NeedKind::Sterilisation
                | NeedKind::Slitting
                | NeedKind::Testing
                | NeedKind::RawMaterial
                | NeedKind::Equipment
                | NeedKind::Labour
        )
    }

    pub fn label(self) -> Label {
        match self {
            NeedKind::Sterilisation => Label { zh: "灭菌", en: "sterilisation" },
            NeedKind::Slitting => Label { zh: "分切", en: "slitting" },
            NeedKind::Testing => Label { zh: "检验检测", en: "testing" },
            NeedKind::RawMaterial => Label { zh: "原材料", en: "raw material" },
            NeedKind::Equipment => Label { zh: "设备", en: "equipment" },
            NeedKind::Labour => Label { zh: "用工", en: "labour" },
            NeedKind::Logistics => Label { zh: "物流运输", en: "logistics" },
            NeedKind::Permit => Label { zh: "手续证照", en: "permit" },
            NeedKind::TrafficPass => Label { zh: "交通通行", en: "traffic pass" },
            NeedKind::Other => Label { zh: "其他", en: "other" },
        }
    }
}

/// The lifecycle of a need.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NeedStatus {
    /// Reported, being sourced.
    Open,
    /// A provider is selected, work has not started.
    Selected,
    /// Work under way.
    Started,
    Resolved,
    Cancelled,
}
named_enum!(NeedStatus {
    Open = "open",
    Selected = "selected",
    Started = "started",
    Resolved = "resolved",
    Cancelled = "cancelled",
});

impl NeedStatus {
    pub fn is_closed(self) -> bool {
        matches!(self, NeedStatus::Resolved | NeedStatus::Cancelled)
    }

    pub fn label(self) -> Label {
        match self {
            NeedStatus::Open => Label { zh: "待解决", en: "open" },
            NeedStatus::Selected => Label { zh: "已选定", en: "selected" },
            NeedStatus::Started => Label { zh: "办理中", en: "started" },
            NeedStatus::Resolved => Label { zh: "已解决", en: "resolved" },
            NeedStatus::Cancelled => Label { zh: "已撤销", en: "cancelled" },
        }
    }
}

/// The role of a member of a case's stationed team.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StationRole {
    /// 特派员: a provincial special commissioner.
    Commissioner,
    /// 驻企干部: a cadre stationed at the enterprise.
    StationedCadre,
    /// 专班: a member of a task force.
    TaskForce,
}
named_enum!(StationRole { Commissioner = "commissioner", StationedCadre = "stationed_cadre", TaskForce = "task_force" });

impl StationRole {
    pub fn label(self) -> Label {
        match self {
            StationRole::Commissioner => Label { zh: "特派员", en: "special commissioner" },
            StationRole::StationedCadre => Label { zh: "驻企干部", en: "stationed cadre" },
            StationRole::TaskForce => Label { zh: "专班", en: "task force" },
        }
    }
}

/// The role of a user account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Admin,
    Officer,
    Enterprise,
    Provider,
    Viewer,
}
named_enum!(Role { Admin = "admin", Officer = "officer", Enterprise = "enterprise", Provider = "provider", Viewer = "viewer" });

/// The status of a green-channel approval.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ApprovalStatus {
    Pending,
    InProgress,
    Approved,
    Rejected,
}
named_enum!(ApprovalStatus { Pending = "pending", InProgress = "in_progress", Approved = "approved", Rejected = "rejected" });

/// The status of an official letter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LetterStatus {
    Draft,
    Sent,
    Acknowledged,
}
named_enum!(LetterStatus { Draft = "draft", Sent = "sent", Acknowledged = "acknowledged" });

/// The status of a shipment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ShipmentStatus {
    Planned,
    InTransit,
    Delivered,
    Held,
}
named_enum!(ShipmentStatus { Planned = "planned", InTransit = "in_transit", Delivered = "delivered", Held = "held" });

/// The status of a case: active while the enterprise is helped (every case the application
/// opens), closed once it is over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CaseStatus {
    Active,
    Closed,
}
named_enum!(CaseStatus { Active = "active", Closed = "closed" });

/// The status of a provider's candidacy on a need.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CandidateStatus {
    /// Screened feasible (or put forward by an officer), not chosen.
    Proposed,
    /// A better provider than the one selected, proposed in its place.
    ProposedSwitch,
    Selected,
    /// Was selected; another provider was selected in its place.
    Replaced,
    /// Screened out, with its reasons.
    Rejected,
}
named_enum!(CandidateStatus {
    Proposed = "proposed",
    ProposedSwitch = "proposed_switch",
    Selected = "selected",
    Replaced = "replaced",
    Rejected = "rejected",
});

/// A provider's answer on a need (issue 16).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResponseAnswer {
    Accept,
    Decline,
    Quote,
}
named_enum!(ResponseAnswer { Accept = "accept", Decline = "decline", Quote = "quote" });

/// "NeedKind" → "need kind", for error messages.
#[doc(hidden)]
pub fn wire_noun(type_name: &str) -> String {
    let mut out = String::new();
    for (i, c) in type_name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
        }
        out.extend(c.to_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_wire_name() {
        for kind in NeedKind::ALL {
            assert_eq!(NeedKind::parse(kind.as_str()), Ok(*kind));
        }
    }

    #[test]
    fn an_unknown_kind_lists_the_accepted_ones() {
        let err = NeedKind::parse("masks").unwrap_err();
        assert!(err.contains("unknown need kind \"masks\" — expected one of: sterilisation, slitting"), "{err}");
    }

    #[test]
    fn tiers_go_up_to_the_province_and_stop() {
        assert_eq!(Tier::County.up(), Some(Tier::City));
        assert_eq!(Tier::Province.up(), None);
    }
}
