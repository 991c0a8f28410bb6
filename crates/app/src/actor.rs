//! Who is acting: a user account with its role and, for officers, its department.

use bangfu_core::model::Role;
use bangfu_core::region::RegionCode;

#[derive(Clone, Debug, PartialEq)]
pub struct Actor {
    /// The account's username, recorded in the audit log.
    pub name: String,
    pub user_id: Option<i64>,
    pub role: Role,
    /// An officer's or viewer's department.
    pub department: Option<RegionCode>,
    /// An enterprise user's enterprise.
    pub enterprise_id: Option<i64>,
    /// A provider user's provider.
    pub provider_id: Option<i64>,
}

impl Actor {
    /// The operator at the command line or a background pass: an admin with a name for the log.
    pub fn system(name: &str) -> Actor {
        Actor { name: name.to_string(), user_id: None, role: Role::Admin, department: None, enterprise_id: None, provider_id: None }
    }

    /// An officer of a department (used by the demo and tests).
    pub fn officer(name: &str, department: RegionCode) -> Actor {
        Actor { role: Role::Officer, department: Some(department), ..Actor::system(name) }
    }
}
