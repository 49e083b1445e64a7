//! The aggregate route: counts and exact sums of the records a condition selects, grouped by
//! one field — kanban column totals and report figures.

use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, Ctx};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use rapport_core::condition::{Condition, DateContext};
use rapport_core::Action;
use rapport_store::records::{object_for, AggregateGroup, AggregateQuery, Metric};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json_;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"group_by": "owner_id", "metrics": [{"op": "count"}]}))]
pub struct AggregateRequest {
    /// A condition tree, as for lists.
    #[schema(value_type = Option<Object>)]
    pub filter: Option<Json_>,
    /// The field whose values make the groups (text-like, select, boolean, integer, date,
    /// relation, user or `owner_id`); without it, one group of everything.
    pub group_by: Option<String>,
    /// `count`, or `sum` of an integer, decimal, percent or currency field.
    #[serde(default)]
    pub metrics: Vec<Metric>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AggregateResult {
    /// At most 1,000 groups, largest first.
    pub groups: Vec<AggregateGroup>,
}

/// Count and sum records per group.
#[utoipa::path(post, path = "/api/v1/objects/{object}/records/aggregate", tag = "records", params(("object" = String, Path)),
    request_body = AggregateRequest,
    responses((status = 200, body = AggregateResult), (status = 400, body = crate::error::ErrorBody)))]
pub async fn aggregate(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(object): ApiPath<String>,
    ApiJson(body): ApiJson<AggregateRequest>,
) -> ApiResult<Json<AggregateResult>> {
    object_for(&ctx.principal, &ctx.schema, &object, Action::Read)?;
    let dates = DateContext::new(state.store.now(), ctx.principal.utc_offset_minutes);
    let filter = match &body.filter {
        Some(json) if !json.is_null() => {
            Some(Condition::parse(json)?.check(&ctx.schema, &object, &dates)?)
        }
        _ => None,
    };
    let query = AggregateQuery {
        filter,
        group_by: body.group_by,
        metrics: body.metrics,
    };
    let groups = state
        .store
        .aggregate_records(&ctx.principal, &ctx.schema, &object, &query)
        .await?;
    Ok(Json(AggregateResult { groups }))
}
