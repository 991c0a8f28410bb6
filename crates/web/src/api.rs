//! The JSON API under `/api/v1`.

use crate::{AppState, Problem};
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use bangfu_core::region::Region;
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/v1/regions", get(find_regions))
        .route("/api/v1/regions/{code}", get(region))
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

fn region_json(r: &Region) -> Value {
    json!({
        "code": r.code.to_string(),
        "name": r.name,
        "level": r.level.as_str(),
        "parent": r.parent.map(|p| p.to_string()),
        "lon": r.lon,
        "lat": r.lat,
    })
}

async fn region(State(state): State<AppState>, Path(code): Path<String>) -> Result<Json<Value>, Problem> {
    let tree = state.app.tree();
    let code = tree.parse_code(&code).map_err(|e| match e {
        bangfu_core::region::RegionError::UnknownCode { .. } => Problem::not_found(e.to_string()),
        _ => Problem::bad_request(e.to_string()),
    })?;
    let region = tree.get(code).ok_or_else(|| Problem::not_found(format!("region {code} not found")))?;
    Ok(Json(region_json(region)))
}

#[derive(Debug, Deserialize)]
struct RegionQuery {
    q: Option<String>,
}

async fn find_regions(State(state): State<AppState>, Query(query): Query<RegionQuery>) -> Result<Json<Value>, Problem> {
    let q = query.q.unwrap_or_default();
    if q.trim().is_empty() {
        return Err(Problem::bad_request("give a name to look for: /api/v1/regions?q=曲沃"));
    }
    let tree = state.app.tree();
    let found: Vec<Value> = tree.find_by_name(&q).into_iter().take(50).map(region_json).collect();
    Ok(Json(json!({"items": found})))
}
