//! The field types users ask for on day one. Auto-numbers: records that existed before the
//! field are numbered in creation order, racing creators never share or skip a number (a
//! refused write gives its number back), the sequence restarts with the workspace's year, and
//! nobody writes one. Multi-user and address values: validated, shown with names, filtered. And
//! attachments: uploads checked against the field's limits by content, files named by id in
//! a write, served only to readers of the object, unattached uploads purged.

use crate::harness::{assert_error, field_errors, pair, Backend, TestServer};
use chrono::{DateTime, Duration, Utc};
use rapport_core::ManualClock;
use rapport_server::ServerConfig;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

crate::both_backends!(
    auto_numbers_never_repeat_or_skip,
    multi_user_and_address_values,
    attachments_keep_their_limits_and_readers,
);

const DEALS: &str = "/api/v1/objects/deal/records";
const DEAL_FIELDS: &str = "/api/v1/objects/deal/fields";

async fn add_field(s: &TestServer, field: Value) {
    let (status, body) = s.post(DEAL_FIELDS, field).await;
    assert_eq!(status, 201, "{body}");
}

fn number_of(record: &Value) -> String {
    record["values"]["contract_no"]
        .as_str()
        .unwrap_or_else(|| panic!("no number in {record}"))
        .to_string()
}

async fn numbers(s: &TestServer) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("limit", "200".to_string())];
        if let Some(c) = &cursor {
            query.push(("cursor", c.clone()));
        }
        let q: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, page) = s.list("deal", &q).await;
        assert_eq!(status, 200, "{page}");
        for r in page["data"].as_array().expect("data") {
            if let Some(n) = r["values"]["contract_no"].as_str() {
                assert!(out.insert(n.to_string()), "{n} given twice");
            }
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

async fn auto_numbers_never_repeat_or_skip(b: Backend) {
    let start: DateTime<Utc> = "2026-03-01T09:00:00Z".parse().expect("time");
    let clock = Arc::new(ManualClock::new(start));
    let s = TestServer::start_with_clock(b, ServerConfig::default(), clock.clone()).await;
    // Three deals before the field exists, created a minute apart.
    let mut before = Vec::new();
    for name in ["先有的一", "先有的二", "先有的三"] {
        before.push(s.create("deal", json!({"name": name})).await);
        clock.advance(Duration::minutes(1));
    }
    // A format that does not parse is refused, with what is wrong.
    assert_error(
        &s.post(
            DEAL_FIELDS,
            json!({"label": {"zh": "合同编号"}, "type": "auto_number", "config": {"format": "HT-{YYYY}"}}),
        )
        .await,
        422,
        "invalid_field_config",
    );
    add_field(
        &s,
        json!({"api_name": "contract_no", "label": {"zh": "合同编号"}, "type": "auto_number",
               "config": {"format": "HT-{YYYY}-{0000}"}}),
    )
    .await;
    for (i, record) in before.iter().enumerate() {
        let (_, got) = s
            .get(&format!("{DEALS}/{}", record["id"].as_str().expect("id")))
            .await;
        assert_eq!(number_of(&got), format!("HT-2026-{:04}", i + 1));
    }

    // Nobody writes a number, on create or update.
    let refused = s
        .post(
            DEALS,
            json!({"values": {"name": "伪造", "contract_no": "HT-2026-9999"}}),
        )
        .await;
    assert_eq!(
        field_errors(&refused),
        vec![pair("contract_no", "read_only_field")]
    );
    // A batch refused as a whole gives its numbers back.
    let (status, _) = s
        .post(
            "/api/v1/objects/deal/records/batch/create",
            json!({"records": [{"values": {"name": "好的"}}, {"values": {"name": "坏的", "amount": "not money"}}]}),
        )
        .await;
    assert!(status == 422 || status == 400, "{status}");

    // Eight creators race, with hostile writes mixed in: every number from 4 on is given once,
    // none skipped.
    let mut tasks = Vec::new();
    for w in 0..8 {
        let api = s.api.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            for i in 0..10 {
                let (status, body) = api
                    .post(
                        DEALS,
                        json!({"values": {"name": format!("并发 {w}-{i} <script>alert(1)</script>")}}),
                    )
                    .await;
                assert_eq!(status, 201, "{body}");
                mine.push(number_of(&body));
                let (status, _) = api
                    .post(DEALS, json!({"values": {"name": "x", "contract_no": "HT-1"}}))
                    .await;
                assert_eq!(status, 422);
            }
            mine
        }));
    }
    let mut given = BTreeSet::new();
    for t in tasks {
        for n in t.await.expect("writer") {
            assert!(given.insert(n.clone()), "{n} given twice");
        }
    }
    let expected: BTreeSet<String> = (4..=83).map(|n| format!("HT-2026-{n:04}")).collect();
    assert_eq!(given, expected);
    assert_eq!(numbers(&s).await.len(), 83);

    // Global search finds a record by its number; restoring a record to a past moment keeps it.
    let (status, hits) = s
        .call(Method::GET, "/api/v1/search")
        .query(&[("q", "HT-2026-0002")])
        .send()
        .await
        .pair();
    assert_eq!(status, 200, "{hits}");
    assert!(hits.to_string().contains("先有的二"), "{hits}");
    let id = before[0]["id"].as_str().expect("id");
    let (status, _) = s
        .patch(
            &format!("{DEALS}/{id}"),
            json!({"values": {"name": "改名"}}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, restored) = s
        .post(
            &format!("{DEALS}/{id}/history/restore"),
            json!({"at": (start + Duration::seconds(30)).to_rfc3339()}),
        )
        .await;
    assert_eq!(status, 200, "{restored}");
    assert_eq!(restored["values"]["name"], "先有的一");
    assert_eq!(number_of(&restored), "HT-2026-0001");

    // A new year starts again at 1 — the workspace's year (UTC+8): 00:30 on New Year's Day
    // in Shanghai is still 2026 in UTC.
    clock.set("2026-12-31T16:30:00Z".parse().expect("time"));
    let first = s.create("deal", json!({"name": "新年第一单"})).await;
    assert_eq!(number_of(&first), "HT-2027-0001");
}

async fn multi_user_and_address_values(b: Backend) {
    let s = TestServer::start(b).await;
    let (rep, _) = s.user_with_role("sales").await;
    add_field(
        &s,
        json!({"api_name": "helpers", "label": {"zh": "协作人"}, "type": "multi_user"}),
    )
    .await;
    add_field(
        &s,
        json!({"api_name": "site", "label": {"zh": "地址"}, "type": "address"}),
    )
    .await;

    let both = s
        .create(
            "deal",
            json!({"name": "上海项目", "helpers": [rep.id, s.admin.id, rep.id],
                   "site": {"code": "310104", "street": "漕溪北路 88 号 <img src=x onerror=alert(1)>"}}),
        )
        .await;
    let mut helpers = vec![rep.id.clone(), s.admin.id.clone()];
    helpers.sort();
    assert_eq!(both["values"]["helpers"], json!(helpers));
    assert_eq!(
        both["values"]["site"],
        json!({"code": "310104", "province": "上海市", "city": "上海市", "district": "徐汇区",
               "street": "漕溪北路 88 号 <img src=x onerror=alert(1)>"})
    );
    // The shape a record shows can be written back as it is.
    let id = both["id"].as_str().expect("id");
    let (status, again) = s
        .patch(
            &format!("{DEALS}/{id}"),
            json!({"values": {"site": both["values"]["site"].clone()}}),
        )
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["values"]["site"], both["values"]["site"]);
    let hangzhou = s
        .create(
            "deal",
            json!({"name": "杭州项目", "helpers": [s.admin.id], "site": {"code": "3301"}}),
        )
        .await;
    assert_eq!(
        hangzhou["values"]["site"],
        json!({"code": "3301", "province": "浙江省", "city": "杭州市"})
    );
    s.create("deal", json!({"name": "无地址"})).await;

    // Bad values, each with its field code, and nothing written.
    for (values, code) in [
        (json!({"helpers": ["nobody"]}), "unknown_user"),
        (json!({"helpers": "not a list"}), "invalid_type"),
        (json!({"site": {"code": "999999"}}), "unknown_region"),
        (json!({"site": {"street": "只有街道"}}), "unknown_region"),
        (
            json!({"site": {"code": "31", "street": "长".repeat(201)}}),
            "too_long",
        ),
        (
            json!({"site": {"code": "31", "zip": "200000"}}),
            "invalid_type",
        ),
        (json!({"site": "上海"}), "invalid_type"),
    ] {
        let mut values = values;
        values["name"] = json!("坏");
        let got = s.post(DEALS, json!({ "values": values })).await;
        assert_eq!(got.0, 422, "{values}: {}", got.1);
        assert_eq!(field_errors(&got)[0].1, code, "{values}");
    }
    assert_eq!(s.count("deal").await, 3);

    // Filters: within regions at any level, users among the helpers, empty or not.
    let names = |page: &Value| -> BTreeSet<String> {
        page["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|r| r["values"]["name"].as_str().expect("name").to_string())
            .collect()
    };
    for (condition, wanted) in [
        (
            json!({"field": "site", "op": "in", "value": ["31"]}),
            vec!["上海项目"],
        ),
        (
            json!({"field": "site", "op": "in", "value": ["310104", "33"]}),
            vec!["上海项目", "杭州项目"],
        ),
        (
            json!({"field": "site", "op": "not_in", "value": ["31"]}),
            vec!["杭州项目", "无地址"],
        ),
        (json!({"field": "site", "op": "is_empty"}), vec!["无地址"]),
        (
            json!({"field": "helpers", "op": "contains", "value": rep.id}),
            vec!["上海项目"],
        ),
        (
            json!({"field": "helpers", "op": "in", "value": [s.admin.id]}),
            vec!["上海项目", "杭州项目"],
        ),
        (
            json!({"field": "helpers", "op": "is_empty"}),
            vec!["无地址"],
        ),
    ] {
        let (status, page) = s
            .post(
                "/api/v1/objects/deal/records/query",
                json!({"filter": condition}),
            )
            .await;
        assert_eq!(status, 200, "{condition}: {page}");
        let wanted: BTreeSet<String> = wanted.into_iter().map(str::to_string).collect();
        assert_eq!(names(&page), wanted, "{condition}");
    }
    // A region that is not on the list, and operators an address has not.
    for condition in [
        json!({"field": "site", "op": "in", "value": ["3"]}),
        json!({"field": "site", "op": "contains", "value": "上海"}),
    ] {
        let (status, got) = s
            .post(
                "/api/v1/objects/deal/records/query",
                json!({"filter": condition}),
            )
            .await;
        assert_eq!(status, 400, "{condition}: {got}");
        assert_eq!(got["code"], "invalid_condition");
    }
    // The region list the address picker reads.
    let (status, regions) = s.get("/api/v1/regions").await;
    assert_eq!(status, 200);
    assert_eq!(regions.as_array().expect("regions").len(), 34);
    assert_eq!(regions[0]["name"], "北京市");
}

/// A multipart body with one part `name`, as a browser's form sends a file.
fn multipart(part: &str, file_name: &str, content_type: &str, content: &[u8]) -> (Vec<u8>, String) {
    let boundary = "----rapport-test-boundary-7d3f";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{part}\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (body, format!("multipart/form-data; boundary={boundary}"))
}

fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend((0..200u8).collect::<Vec<_>>());
    bytes
}

async fn upload(
    api: &crate::harness::Api,
    field: &str,
    name: &str,
    content_type: &str,
    content: &[u8],
) -> (u16, Value) {
    let (body, ct) = multipart("file", name, content_type, content);
    api.call(Method::POST, &format!("{DEAL_FIELDS}/{field}/files"))
        .raw(body, Some(&ct))
        .send()
        .await
        .pair()
}

async fn attachments_keep_their_limits_and_readers(b: Backend) {
    let start: DateTime<Utc> = "2026-03-01T09:00:00Z".parse().expect("time");
    let clock = Arc::new(ManualClock::new(start));
    let s = TestServer::start_with_clock(b, ServerConfig::default(), clock.clone()).await;
    add_field(
        &s,
        json!({"api_name": "photos", "label": {"zh": "现场照片"}, "type": "attachment",
               "config": {"images_only": true, "max_files": 2, "max_size_mb": 1}}),
    )
    .await;
    add_field(
        &s,
        json!({"api_name": "docs", "label": {"zh": "合同附件"}, "type": "attachment"}),
    )
    .await;
    assert_error(
        &s.post(
            DEAL_FIELDS,
            json!({"label": {"zh": "太大"}, "type": "attachment", "config": {"max_size_mb": 26}}),
        )
        .await,
        422,
        "invalid_field_config",
    );

    let (status, photo) = upload(&s, "photos", "现场.png", "image/png", &png()).await;
    assert_eq!(status, 201, "{photo}");
    assert_eq!(photo["content_type"], "image/png");
    assert_eq!(photo["size"], 208);
    // Pictures only, judged by content, whatever the name and the claimed type say.
    assert_error(
        &upload(
            &s,
            "photos",
            "evil.png",
            "image/png",
            b"<svg onload=alert(1)>",
        )
        .await,
        415,
        "file_type_not_allowed",
    );
    let mut big = png();
    big.resize((1 << 20) + 1, 0);
    assert_error(
        &upload(&s, "photos", "big.png", "image/png", &big).await,
        413,
        "file_too_large",
    );
    assert_error(
        &upload(&s, "name", "x.txt", "text/plain", b"x").await,
        404,
        "not_found",
    );
    assert_error(
        &s.call(Method::POST, &format!("{DEAL_FIELDS}/docs/files"))
            .raw(b"plain".to_vec(), Some("text/plain"))
            .send()
            .await
            .pair(),
        400,
        "invalid_upload",
    );
    let (body, ct) = multipart("other", "a.txt", "text/plain", b"abc");
    assert_error(
        &s.call(Method::POST, &format!("{DEAL_FIELDS}/docs/files"))
            .raw(body, Some(&ct))
            .send()
            .await
            .pair(),
        400,
        "invalid_upload",
    );
    // A document keeps a clean name; HTML is never served as a page.
    let (status, doc) = upload(
        &s,
        "docs",
        "../../<img src=x onerror=alert(1)>.html",
        "text/html",
        b"<script>alert(1)</script>",
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    assert_eq!(doc["name"], "<img src=x onerror=alert(1)>.html");

    // Records name files by id and show their descriptors.
    let photo_id = photo["id"].as_str().expect("id");
    let doc_id = doc["id"].as_str().expect("id");
    let deal = s
        .create(
            "deal",
            json!({"name": "带附件", "photos": [photo_id], "docs": [{"id": doc_id}]}),
        )
        .await;
    assert_eq!(deal["values"]["photos"][0]["name"], "现场.png");
    assert_eq!(deal["values"]["docs"][0]["content_type"], "text/html");
    for (values, code) in [
        (json!({"photos": ["no-such-file"]}), "unknown_file"),
        (json!({"photos": [doc_id]}), "unknown_file"),
        (json!({"photos": [photo_id, "a", "b"]}), "too_many_values"),
        (json!({"photos": 7}), "invalid_type"),
    ] {
        let mut values = values;
        values["name"] = json!("坏");
        let got = s.post(DEALS, json!({ "values": values })).await;
        assert_eq!(field_errors(&got)[0].1, code, "{values}: {}", got.1);
    }
    let (status, page) = s
        .post(
            "/api/v1/objects/deal/records/query",
            json!({"filter": {"field": "photos", "op": "is_not_empty"}}),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["data"].as_array().expect("data").len(), 1);

    // Downloads: a picture inline, anything else as a download in a sandbox.
    let got = s
        .call(Method::GET, &format!("/api/v1/files/{photo_id}"))
        .send()
        .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.content, png());
    assert_eq!(got.header("content-type").as_deref(), Some("image/png"));
    assert!(got
        .header("content-disposition")
        .expect("cd")
        .starts_with("inline"));
    let got = s
        .call(Method::GET, &format!("/api/v1/files/{doc_id}"))
        .send()
        .await;
    assert!(got
        .header("content-disposition")
        .expect("cd")
        .starts_with("attachment"));
    assert!(got
        .header("content-security-policy")
        .expect("csp")
        .contains("sandbox"));
    assert_eq!(got.content, b"<script>alert(1)</script>");
    // Only readers of deals, only in this workspace.
    let contacts_only = s
        .call(Method::PUT, "/api/v1/roles/contacts_only")
        .json(&json!({"name": "Contacts only", "permissions": {"contact": "crud"}}))
        .send()
        .await;
    assert_eq!(contacts_only.status, 200, "{}", contacts_only.text);
    let (_, outsider) = s.user_with_role("contacts_only").await;
    assert_error(
        &outsider.get(&format!("/api/v1/files/{photo_id}")).await,
        403,
        "forbidden",
    );
    assert_eq!(
        upload(&outsider, "photos", "a.png", "image/png", &png())
            .await
            .0,
        403
    );
    let (_, _, stranger) = s.other_workspace("Other Co").await;
    assert_error(
        &stranger.get(&format!("/api/v1/files/{photo_id}")).await,
        404,
        "not_found",
    );

    // An upload no record took is purged after a day; taken ones stay.
    let (_, loose) = upload(&s, "docs", "loose.txt", "text/plain", b"loose").await;
    clock.advance(Duration::hours(25));
    assert_eq!(s.store.purge_unattached_files().await.expect("purge"), 1);
    let loose_id = loose["id"].as_str().expect("id");
    assert_eq!(s.get(&format!("/api/v1/files/{loose_id}")).await.0, 404);
    assert_eq!(s.get(&format!("/api/v1/files/{photo_id}")).await.0, 200);
}
