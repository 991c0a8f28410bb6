//! The enterprise's daily return (capacity, output and stock of a day) and broadcasts of needs.

use crate::error::{bad, text};
use bangfu_core::text::{LONG_CHARS, SHORT_CHARS};
use crate::needs::region_code;
use crate::{Actor, App, AppError, AppResult, Audit, access, to_millis};
use bangfu_core::model::{Scope};
use bangfu_core::region::Level;
use bangfu_store::{BroadcastRow, DailyReturnRow, NotificationRow};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

/// One day's figures as reported.
#[derive(Clone, Debug, Default)]
pub struct NewDailyReturn {
    /// The day, YYYY-MM-DD (UTC+8).
    pub day: String,
    pub capacity_per_day: f64,
    pub output: f64,
    pub stock: f64,
    pub note: String,
}

impl App {
    /// Records (or corrects) the return of a day: the enterprise itself or an officer of the case.
    pub async fn submit_daily_return(&self, actor: &Actor, now: DateTime<Utc>, case_id: i64, input: NewDailyReturn) -> AppResult<DailyReturnRow> {
        let day = NaiveDate::parse_from_str(&text("day", &input.day, SHORT_CHARS)?, "%Y-%m-%d").map_err(|_| bad(format!("day: {:?} is not a date — write it as 2020-02-13", input.day)))?;
        let note = text("note", &input.note, LONG_CHARS)?;
        for (name, value) in [("capacity_per_day", input.capacity_per_day), ("output", input.output), ("stock", input.stock)] {
            if !value.is_finite() || value < 0.0 {
                return Err(bad(format!("{name}: {value} must be a number of at least 0")));
            }
        }
        let mut tx = self.store.begin_write().await?;
        let case = tx.case(case_id).await?.ok_or_else(|| AppError::NotFound(format!("case {case_id}")))?;
        let team = tx.team(case_id).await?;
        if !access::can_see_case(self.tree, actor, &case, &team) {
            return Err(AppError::NotFound(format!("case {case_id}")));
        }
        if !access::may_report_on_case(self.tree, actor, &case, &team) {
            return Err(AppError::Forbidden(format!("{} may not submit returns for case {case_id}", actor.name)));
        }
        let mut row = DailyReturnRow {
            id: 0,
            case_id,
            day: day.to_string(),
            capacity_per_day: input.capacity_per_day,
            output: input.output,
            stock: input.stock,
            note,
            reported_at: to_millis(now),
        };
        row.id = tx.upsert_daily_return(&row).await?;
        Audit {
            actor,
            now,
            action: "return.submitted",
            entity: format!("daily_return:{}", row.id),
            case_id: Some(case_id),
            payload: json!({"day": row.day, "capacity_per_day": row.capacity_per_day, "output": row.output, "stock": row.stock}),
        }
        .append(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn daily_returns(&self, actor: &Actor, case_id: i64) -> AppResult<Vec<DailyReturnRow>> {
        self.visible_case(actor, case_id).await?;
        Ok(self.store.daily_returns_of_case(case_id).await?)
    }

    /// Broadcasts a need to the departments one level inside `ring` around the enterprise (the
    /// counties of its city, the cities of its province, the provinces of the nation), so that
    /// their officers see it and can put forward candidates. Returns the departments reached.
    pub async fn broadcast_need(&self, actor: &Actor, now: DateTime<Utc>, need_id: i64, ring: Scope) -> AppResult<Vec<String>> {
        let mut tx = self.store.begin_write().await?;
        let (need, case) = self.need_to_decide(&mut tx, actor, need_id).await?;
        let enterprise = region_code(&case.region);
        let targets: Vec<String> = match ring {
            Scope::Local => vec![self.tree.department_region(enterprise).to_string()],
            Scope::City => match self.tree.city_of(enterprise) {
                Some(city) => std::iter::once(city.code).chain(self.tree.iter().filter(|r| r.level == Level::County && self.tree.city_of(r.code).map(|c| c.code) == Some(city.code)).map(|r| r.code)).map(|c| c.to_string()).collect(),
                None => return Err(bad("ring: the enterprise has no city (a county administered by its province) — broadcast to the province")),
            },
            Scope::Province => {
                let province = self.tree.province_of(enterprise).ok_or_else(|| AppError::Internal("no province".into()))?.code;
                std::iter::once(province).chain(self.tree.children(province).filter(|r| r.level == Level::City).map(|r| r.code)).map(|c| c.to_string()).collect()
            }
            Scope::National => self.tree.iter().filter(|r| r.level == Level::Province && r.parent.is_none()).map(|r| r.code.to_string()).collect(),
        };
        let mut reached = Vec::new();
        for department in targets {
            if tx.insert_broadcast(&BroadcastRow { need_id, department: department.clone(), at: to_millis(now) }).await? {
                tx.insert_notification(&NotificationRow {
                    id: 0,
                    department: Some(department.clone()),
                    user_id: None,
                    need_id: Some(need_id),
                    text_zh: format!("协查请求：{}，请推荐可用提供方", need.title),
                    text_en: format!("Request for help: {} — please put forward providers", need.title),
                    created_at: to_millis(now),
                    read_at: None,
                })
                .await?;
                reached.push(department);
            }
        }
        Audit { actor, now, action: "need.broadcast", entity: format!("need:{need_id}"), case_id: Some(case.id), payload: json!({"ring": ring.as_str(), "departments": reached}) }
            .append(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(reached)
    }
}
