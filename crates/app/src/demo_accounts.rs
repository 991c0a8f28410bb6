//! Accounts for trying the reference case: one per role and tier, all with the same password,
//! created by `bangfu demo` and `bangfu serve --demo` when absent. For demonstrations only — a
//! real deployment creates its accounts with `bangfu user add`.

use crate::accounts::NewUser;
use crate::demo::CREDIT_CODE;
use crate::{Actor, App, AppError, AppResult};
use chrono::{DateTime, Utc};

/// The provider account belongs to the sterilisation plant the officers chose.
const WANRONG_KEY: &str = "demo:wanrong-huakang";

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "bangfu-demo";

/// (username, role, department, what the account is)
const ACCOUNTS: &[(&str, &str, Option<&str>, &str)] = &[
    ("quwo", "officer", Some("141021"), "曲沃县工信局 (county officer)"),
    ("linfen", "officer", Some("141000"), "临汾市工信局 (city officer)"),
    ("shanxi", "officer", Some("140000"), "山西省工信厅 (province officer)"),
    ("houma", "officer", Some("141081"), "侯马市工信局 (another county: sees nothing of the case)"),
    ("leader", "viewer", Some("141000"), "临汾市 leadership (read only)"),
    ("enterprise", "enterprise", None, "山西健康动力科技有限公司 (the enterprise)"),
    ("wanrong", "provider", None, "万荣华康药业公司 (a provider)"),
    ("admin", "admin", None, "administrator"),
];

/// Creates the demo accounts that do not exist yet; returns a table of all of them to show.
/// Needs the reference case loaded (the enterprise and provider accounts point into it).
pub async fn load_accounts(app: &App, operator: &Actor, now: DateTime<Utc>) -> AppResult<String> {
    let enterprise = app.store.enterprise_by_credit_code(CREDIT_CODE).await?.ok_or_else(|| AppError::Conflict("load the reference case first".into()))?;
    let provider = app.store.provider_by_key(WANRONG_KEY).await?.ok_or_else(|| AppError::Conflict("load the reference case first".into()))?;
    let mut table = format!("demo accounts (password {DEMO_PASSWORD}):\n");
    for (username, role, department, what) in ACCOUNTS {
        if app.store.user_by_username(username).await?.is_none() {
            let user = NewUser {
                username: username.to_string(),
                display_name: what.split(" (").next().unwrap_or(username).to_string(),
                role: role.to_string(),
                department: department.map(str::to_string),
                enterprise_id: (*role == "enterprise").then_some(enterprise.id),
                provider_id: (*role == "provider").then_some(provider.id),
                password: DEMO_PASSWORD.into(),
            };
            app.add_user(operator, now, user).await?;
        }
        table.push_str(&format!("  {username:<11} {what}\n"));
    }
    Ok(table)
}
