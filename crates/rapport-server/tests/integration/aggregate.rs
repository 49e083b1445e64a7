//! Aggregates: counts and exact sums per group (kanban column totals), currencies summed per
//! code, filters applied, invalid groupings and metrics refused.

use crate::harness::{assert_error, Backend, TestServer};
use serde_json::{json, Value};

crate::both_backends!(aggregate_counts_and_sums_exactly);

fn group<'a>(body: &'a Value, key: &str) -> &'a Value {
    body["groups"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .find(|g| g["key"] == key)
        .unwrap_or_else(|| panic!("no group {key}: {body}"))
}

async fn aggregate_counts_and_sums_exactly(b: Backend) {
    let s = TestServer::start(b).await;
    for (name, amount, stage) in [
        ("A", json!("0.10"), "proposal"),
        ("B", json!("0.20"), "proposal"),
        (
            "C",
            json!({"amount": "99.99", "currency": "USD"}),
            "proposal",
        ),
        ("D", json!("1000000000000.01"), "negotiation"),
        ("E", Value::Null, "negotiation"),
        ("F", json!("5"), "closed_won"),
    ] {
        s.create(
            "deal",
            json!({"name": name, "amount": amount, "stage": stage}),
        )
        .await;
    }
    let path = "/api/v1/objects/deal/records/aggregate";
    let (status, body) = s
        .post(
            path,
            json!({"group_by": "stage", "metrics": [{"op": "sum", "field": "amount"}, {"op": "count"}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let proposal = group(&body, "proposal");
    assert_eq!(proposal["count"], 3);
    // 0.10 + 0.20 is exactly 0.30, and dollars are not added to yuan.
    assert_eq!(
        proposal["metrics"],
        json!([[{"amount": "0.30", "currency": "CNY"}, {"amount": "99.99", "currency": "USD"}], 3])
    );
    let negotiation = group(&body, "negotiation");
    assert_eq!(
        negotiation["metrics"],
        json!([[{"amount": "1000000000000.01", "currency": "CNY"}], 2])
    );

    // A filter narrows the groups; without group_by there is one group.
    let (status, body) = s
        .post(
            path,
            json!({"filter": {"field": "stage", "op": "in", "value": ["proposal", "closed_won"]}, "metrics": [{"op": "sum", "field": "probability"}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // The probabilities the stages gave: three proposals at 50 % and a win at 100 %.
    assert_eq!(
        body["groups"],
        json!([{"key": null, "count": 4, "metrics": ["250.00"]}])
    );

    assert_error(
        &s.post(path, json!({"group_by": "description"})).await,
        400,
        "invalid_group_by",
    );
    assert_error(
        &s.post(path, json!({"metrics": [{"op": "sum", "field": "name"}]}))
            .await,
        400,
        "invalid_metric",
    );
    assert_error(
        &s.post(
            path,
            json!({"filter": {"field": "x", "op": "eq", "value": 1}}),
        )
        .await,
        400,
        "invalid_condition",
    );
    assert_error(
        &s.post("/api/v1/objects/nothing/records/aggregate", json!({}))
            .await,
        404,
        "not_found",
    );
}
