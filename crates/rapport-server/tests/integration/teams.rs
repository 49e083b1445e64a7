//! Sales teams: admins create, replace and delete them (audited), everyone reads them; bad
//! members, names and duplicates are refused with their codes, users of another workspace are
//! never members, and racing replacements leave exactly one writer's team, never a mix.

use crate::harness::{assert_error, Backend, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

crate::both_backends!(team_lifecycle, racing_replacements_never_mix);

const TEAMS: &str = "/api/v1/teams";

fn members(team: &Value) -> Vec<(String, bool)> {
    team["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| {
            (
                m["user_id"].as_str().expect("user").to_string(),
                m["is_lead"] == true,
            )
        })
        .collect()
}

async fn team_lifecycle(b: Backend) {
    let s = TestServer::start(b).await;
    let (lead, _) = s.user_with_role("sales").await;
    let (rep, rep_api) = s.user_with_role("sales").await;
    let body = json!({"name": "华东销售组", "members": [
        {"user_id": rep.id}, {"user_id": lead.id, "is_lead": true},
    ]});
    let (status, team) = s.post(TEAMS, body.clone()).await;
    assert_eq!(status, 201, "{team}");
    let id = team["id"].as_str().expect("id").to_string();
    // Leads first.
    assert_eq!(members(&team)[0], (lead.id.clone(), true));
    assert_eq!(members(&team).len(), 2);

    // Everyone reads; only admins change.
    let (status, listed) = rep_api.get(TEAMS).await;
    assert_eq!(status, 200);
    assert_eq!(listed[0]["name"], "华东销售组");
    assert_error(
        &rep_api.post(TEAMS, json!({"name": "x"})).await,
        403,
        "forbidden",
    );

    // Refusals, each with its code, and nothing changed by them.
    assert_error(&s.post(TEAMS, body.clone()).await, 409, "team_exists");
    assert_error(
        &s.post(TEAMS, json!({"name": "  "})).await,
        422,
        "invalid_name",
    );
    assert_error(
        &s.post(
            TEAMS,
            json!({"name": "幽灵组", "members": [{"user_id": "nobody"}]}),
        )
        .await,
        422,
        "invalid_team",
    );
    assert_error(
        &s.post(
            TEAMS,
            json!({"name": "重复组", "members": [{"user_id": rep.id}, {"user_id": rep.id}]}),
        )
        .await,
        422,
        "invalid_team",
    );
    let (_, stranger, _) = s.other_workspace("Other Co").await;
    assert_error(
        &s.post(
            TEAMS,
            json!({"name": "跨租户", "members": [{"user_id": stranger.id}]}),
        )
        .await,
        422,
        "invalid_team",
    );
    assert_error(
        &s.post(TEAMS, json!({"name": "多余字段", "colour": "red"}))
            .await,
        400,
        "invalid_body",
    );
    let (_, listed) = s.get(TEAMS).await;
    assert_eq!(listed.as_array().expect("teams").len(), 1, "{listed}");

    // Replace: new name, the rep leaves.
    let (status, replaced) = s
        .api
        .call(Method::PUT, &format!("{TEAMS}/{id}"))
        .json(&json!({"name": "华东一组", "members": [{"user_id": lead.id, "is_lead": true}]}))
        .send()
        .await
        .pair();
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["name"], "华东一组");
    assert_eq!(members(&replaced), vec![(lead.id.clone(), true)]);
    let missing = s
        .api
        .call(Method::PUT, &format!("{TEAMS}/no-such-team"))
        .json(&json!({"name": "x"}))
        .send()
        .await
        .pair();
    assert_error(&missing, 404, "not_found");

    // Delete, and the audit trail of all three.
    let (status, _) = s.delete(&format!("{TEAMS}/{id}")).await;
    assert_eq!(status, 204);
    let (_, listed) = s.get(TEAMS).await;
    assert_eq!(listed, json!([]));
    let (_, audit) = s.get("/api/v1/audit").await;
    let actions: Vec<&str> = audit
        .as_array()
        .expect("audit")
        .iter()
        .filter(|e| e["target"] == id.as_str())
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, vec!["team.delete", "team.update", "team.create"]);
}

/// Eight writers replace the same team at once, each with its own name and members: the team
/// ends as exactly one writer wrote it.
async fn racing_replacements_never_mix(b: Backend) {
    let s = TestServer::start(b).await;
    let mut users = Vec::new();
    for _ in 0..8 {
        users.push(s.user_with_role("sales").await.0);
    }
    let (_, team) = s.post(TEAMS, json!({"name": "起点"})).await;
    let url = format!("{TEAMS}/{}", team["id"].as_str().expect("id"));
    let inputs: Vec<Value> = (0..8)
        .map(|i| {
            json!({"name": format!("写者 {i}"), "members": [
                {"user_id": users[i].id, "is_lead": true},
                {"user_id": users[(i + 1) % 8].id},
                {"user_id": users[(i + 3) % 8].id},
            ]})
        })
        .collect();
    let writers = inputs.iter().map(|input| {
        let api = s.api.clone();
        let url = url.clone();
        let input = input.clone();
        async move {
            api.call(Method::PUT, &url)
                .json(&input)
                .send()
                .await
                .pair()
                .0
        }
    });
    let statuses = futures_util::future::join_all(writers).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let (_, listed) = s.get(TEAMS).await;
    let last = &listed[0];
    let writer = inputs
        .iter()
        .find(|i| i["name"] == last["name"])
        .expect("the team's name is one writer's");
    let mut expected: Vec<(String, bool)> = writer["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| {
            (
                m["user_id"].as_str().expect("id").to_string(),
                m["is_lead"] == true,
            )
        })
        .collect();
    let mut got = members(last);
    expected.sort();
    got.sort();
    assert_eq!(
        got, expected,
        "the members are the same writer's as the name"
    );
}
