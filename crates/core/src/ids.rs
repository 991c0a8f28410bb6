//! Newtype identifiers, so that a case id cannot be passed where a need id is expected.

use std::fmt;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    )*};
}

id_type!(
    /// An enterprise under assistance (or a provider organisation).
    EnterpriseId,
    /// A case (帮扶档案): one enterprise under assistance.
    CaseId,
    /// A need (诉求): one blocker to solve.
    NeedId,
    /// A provider: an organisation that offers capabilities.
    ProviderId,
    /// One capability of a provider.
    CapabilityId,
    /// A user account (officer, enterprise or provider user, viewer, admin).
    UserId,
    /// A member of a case's stationed team.
    TeamMemberId,
    /// A candidate: a provider screened against a need.
    CandidateId,
    /// A shipment between two places.
    ShipmentId,
    /// A green-channel approval.
    ApprovalId,
    /// An official letter (公函).
    LetterId,
    /// A plan milestone.
    MilestoneId,
    /// A notification for a user or department.
    NotificationId,
);
