//! Ingestion under hostile and unusual input, each case once seen to fail: an event that cannot
//! be placed (blocked ids, NUL characters, too many identifiers) is rejected alone and never
//! fails anyone else's request; one event cannot fold many customers together; an alias honours
//! the blocklist and, from a trusted source, joins two user ids; email case folding never turns
//! one address into another; an unmerge takes the CRM contact along; blocked values never reach
//! the CRM; the merge log pages; and a client source (public write key) cannot rewrite the CRM
//! or take over a customer by email unless its events carry a valid identity verification.

use crate::cdp::{batch, eventually, profile_of, register, source, Source};
use crate::harness::{assert_error, Backend, TestServer};
use hmac::Mac;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

crate::both_backends!(
    one_unusable_event_is_rejected_alone,
    nul_characters_are_rejected_per_event,
    one_event_cannot_fold_many_customers,
    alias_previous_id_respects_the_blocklist,
    email_case_folds_ascii_letters_only,
    unmerge_takes_the_contact_along,
    blocked_emails_never_reach_the_crm,
    alias_joins_two_user_ids_from_trusted_sources,
    merge_log_pages_through_everything,
    client_sources_cannot_rewrite_the_crm,
    hostile_batches_never_fail_good_events,
);

fn track(anon: &Value, id: &str) -> Value {
    json!({"type": "track", "event": "Probe", "anonymousId": anon, "messageId": id})
}

async fn health(server: &TestServer) -> Value {
    let (status, h) = server.get("/api/v1/cdp/health").await;
    assert_eq!(status, 200, "{h}");
    h
}

fn warnings_with(health: &Value, code: &str) -> Vec<Value> {
    health["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["code"] == code)
        .cloned()
        .collect()
}

/// Every stored event of a source by messageId (paging backwards through the event browser).
async fn stored_message_ids(server: &TestServer, source_id: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let mut query = vec![
            ("source_id", source_id.to_string()),
            ("limit", "1000".into()),
        ];
        if let Some(b) = before {
            query.push(("before", b.to_string()));
        }
        let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, page) = server
            .call(Method::GET, "/api/v1/cdp/events")
            .query(&query)
            .send()
            .await
            .pair();
        assert_eq!(status, 200, "{page}");
        let page = page.as_array().unwrap().clone();
        if page.is_empty() {
            return out;
        }
        before = page.last().and_then(|e| e["seq"].as_i64());
        out.extend(
            page.iter()
                .map(|e| e["message_id"].as_str().unwrap().to_string()),
        );
        if page.len() < 1000 {
            return out;
        }
    }
}

async fn one_unusable_event_is_rejected_alone(backend: Backend) {
    let server = TestServer::start(backend).await;
    let src = source(&server, json!({"name": "app", "kind": "app"})).await;
    register(&server, "Probe", json!({"type": "object"})).await;
    let blocked = [
        json!("null"),
        json!("undefined"),
        json!("0"),
        json!(0),
        json!("00000000-0000-0000-0000-000000000000"),
        json!("NULL"),
    ];
    for (i, bad) in blocked.iter().enumerate() {
        let ok = format!("ok-{i}");
        let report = batch(
            &src,
            json!([
                track(&json!(ok), &format!("good-{i}")),
                track(bad, &format!("bad-{i}"))
            ]),
        )
        .await;
        assert_eq!(report["accepted"], 1, "{bad}: {report}");
        let rejected = report["rejected"].as_array().unwrap();
        assert_eq!(rejected.len(), 1, "{report}");
        assert_eq!(rejected[0]["index"], 1);
        assert_eq!(rejected[0]["code"], "missing_identity");
        // A blocked user id with no anonymous id is the same.
        let report = batch(
            &src,
            json!([{"type": "track", "event": "Probe", "userId": bad, "messageId": format!("bad-user-{i}")}]),
        )
        .await;
        assert_eq!(
            report["rejected"][0]["code"], "missing_identity",
            "{report}"
        );
    }
    // A blocked user id beside a usable anonymous id: the anonymous id carries the event.
    let report = batch(
        &src,
        json!([{"type": "track", "event": "Probe", "userId": "null", "anonymousId": "device-z", "messageId": "mixed"}]),
    )
    .await;
    assert_eq!(report["accepted"], 1, "{report}");
    let stored: BTreeSet<String> = stored_message_ids(&server, &src.id)
        .await
        .into_iter()
        .collect();
    let want: BTreeSet<String> = (0..blocked.len())
        .map(|i| format!("good-{i}"))
        .chain(["mixed".to_string()])
        .collect();
    assert_eq!(stored, want);
    // Nobody owns the blocked values.
    for value in ["null", "0", "undefined"] {
        let (status, body) = server
            .call(Method::GET, "/api/v1/cdp/profiles")
            .query(&[("identifier_type", "anonymous_id"), ("identifier", value)])
            .send()
            .await
            .pair();
        assert!(
            status == 404 || body["profiles"].as_array().is_some_and(Vec::is_empty),
            "{value}: {status} {body}"
        );
    }
}

async fn nul_characters_are_rejected_per_event(backend: Backend) {
    let server = TestServer::start(backend).await;
    let src = source(&server, json!({"name": "app", "kind": "app"})).await;
    register(
        &server,
        "Probe",
        json!({"type": "object", "properties": {"note": {"type": "string"}}}),
    )
    .await;
    let poisons = [
        json!({"type": "track", "event": "Probe", "userId": "a\u{0}b", "messageId": "n1"}),
        json!({"type": "track", "event": "Probe", "anonymousId": "x\u{0}", "messageId": "n2"}),
        json!({"type": "identify", "userId": "u-nul", "traits": {"name": "李\u{0}雷"}, "messageId": "n3"}),
        json!({"type": "track", "event": "Probe", "userId": "u-nul", "properties": {"note": "\u{0}"}, "messageId": "n4"}),
        json!({"type": "track", "event": "Probe", "userId": "u-nul", "properties": {"no\u{0}te": "x"}, "messageId": "n5"}),
        json!({"type": "track", "event": "Probe", "userId": "u-nul", "messageId": "n6\u{0}"}),
    ];
    for (i, poison) in poisons.iter().enumerate() {
        let good = json!({"type": "track", "event": "Probe", "userId": "u-ok", "messageId": format!("g{i}")});
        let report = batch(&src, json!([good, poison])).await;
        assert_eq!(report["accepted"], 1, "{poison}: {report}");
        assert_eq!(report["rejected"][0]["code"], "nul_character", "{report}");
    }
    let stored: BTreeSet<String> = stored_message_ids(&server, &src.id)
        .await
        .into_iter()
        .collect();
    assert_eq!(
        stored,
        (0..poisons.len()).map(|i| format!("g{i}")).collect()
    );
    // The rejected events are kept for inspection, NULs shown as U+FFFD.
    let (status, held) = server
        .call(Method::GET, "/api/v1/cdp/held")
        .query(&[("source_id", src.id.as_str()), ("disposition", "rejected")])
        .send()
        .await
        .pair();
    assert_eq!(status, 200, "{held}");
    let held = held.as_array().unwrap();
    assert_eq!(held.len(), poisons.len(), "{held:?}");
    assert!(held.iter().all(|h| h["reason_code"] == "nul_character"));
    assert!(held.iter().any(|h| h["payload"]["userId"] == "a\u{FFFD}b"));
}

async fn one_event_cannot_fold_many_customers(backend: Backend) {
    let server = TestServer::start(backend).await;
    let src = source(&server, json!({"name": "crm", "kind": "server"})).await;
    register(&server, "Probe", json!({"type": "object"})).await;
    // Six anonymous customers, each known by an email.
    let mut setup = Vec::new();
    for i in 0..6 {
        setup.push(json!({"type": "identify", "anonymousId": format!("anon-{i}"),
                          "traits": {"email": format!("c{i}@example.com")}, "messageId": format!("s{i}")}));
    }
    batch(&src, json!(setup)).await;
    let before: BTreeSet<String> = customer_ids(&server, 6).await;
    assert_eq!(before.len(), 6);
    // One event naming all six (and its own new device): seven customers, none merged.
    let ids: Vec<Value> = (0..6)
        .map(|i| json!({"type": "email", "id": format!("c{i}@example.com"), "collection": "users"}))
        .collect();
    let report = batch(
        &src,
        json!([{"type": "track", "event": "Probe", "anonymousId": "stranger", "messageId": "fold",
                "context": {"externalIds": ids}}]),
    )
    .await;
    assert_eq!(report["accepted"], 1, "{report}");
    assert_eq!(customer_ids(&server, 6).await, before);
    assert_eq!(
        warnings_with(&health(&server).await, "merge_refused_too_many_customers").len(),
        1
    );
    // A hundred identifiers in one event are refused outright.
    let many: Vec<Value> = (0..100)
        .map(|i| json!({"type": "email", "id": format!("m{i}@example.com"), "collection": "users"}))
        .collect();
    let report = batch(
        &src,
        json!([{"type": "track", "event": "Probe", "anonymousId": "spray", "messageId": "spray",
                "context": {"externalIds": many}}]),
    )
    .await;
    assert_eq!(
        report["rejected"][0]["code"], "too_many_identifiers",
        "{report}"
    );
    // Four customers and a newcomer (five) may still be joined by one event.
    let four: Vec<Value> = (0..4)
        .map(|i| json!({"type": "email", "id": format!("c{i}@example.com"), "collection": "users"}))
        .collect();
    batch(
        &src,
        json!([{"type": "track", "event": "Probe", "anonymousId": "joiner", "messageId": "join",
                "context": {"externalIds": four}}]),
    )
    .await;
    let joined = profile_of(&server, "anonymous_id", "joiner").await;
    for i in 0..4 {
        assert_eq!(
            profile_of(&server, "email", &format!("c{i}@example.com")).await["id"],
            joined["id"]
        );
    }
    assert_ne!(
        profile_of(&server, "email", "c5@example.com").await["id"],
        joined["id"]
    );
}

/// The profile ids of the customers known by `c0..c{n-1}@example.com`.
async fn customer_ids(server: &TestServer, n: usize) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for i in 0..n {
        let p = profile_of(server, "email", &format!("c{i}@example.com")).await;
        out.insert(p["id"].as_str().unwrap().to_string());
    }
    out
}

async fn alias_previous_id_respects_the_blocklist(backend: Backend) {
    let server = TestServer::start(backend).await;
    let src = source(&server, json!({"name": "crm", "kind": "server"})).await;
    for bad in ["null", "undefined", "0", " "] {
        let report = batch(
            &src,
            json!([{"type": "alias", "userId": "u0", "previousId": bad, "messageId": format!("a-{bad}")},
                   {"type": "identify", "userId": "u0", "messageId": format!("i-{bad}")}]),
        )
        .await;
        assert_eq!(report["accepted"], 1, "{report}");
        let code = report["rejected"][0]["code"].as_str().unwrap();
        assert!(
            code == "missing_previous_id",
            "previousId {bad:?}: {report}"
        );
    }
    let u0 = profile_of(&server, "user_id", "u0").await;
    assert!(
        !u0["identifiers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["type"] == "anonymous_id"),
        "{u0}"
    );
    // Others aliasing from "null" later do not trip the guard through u0.
    batch(
        &src,
        json!([{"type": "identify", "userId": "u1", "messageId": "u1"}]),
    )
    .await;
    assert!(warnings_with(&health(&server).await, "merge_refused_user_ids").is_empty());
}

async fn email_case_folds_ascii_letters_only(backend: Backend) {
    let server = TestServer::start(backend).await;
    let src = source(&server, json!({"name": "crm", "kind": "server"})).await;
    batch(
        &src,
        json!([
            {"type": "identify", "userId": "kim", "traits": {"email": "Kim@Example.com"}, "messageId": "k1"},
            // KELVIN SIGN (U+212A) folds to "k" under Unicode lower-casing: a different address.
            {"type": "identify", "userId": "kelvin", "traits": {"email": "\u{212A}im@Example.COM"}, "messageId": "k2"},
        ]),
    )
    .await;
    let kim = profile_of(&server, "email", "kim@example.com").await;
    let kelvin = profile_of(&server, "email", "\u{212A}im@example.com").await;
    assert_ne!(kim["id"], kelvin["id"]);
    assert!(warnings_with(&health(&server).await, "merge_refused_user_ids").is_empty());
    // The CRM stores the same form.
    let contact = server
        .create(
            "contact",
            json!({"name": "Kelvin", "email": "  \u{212A}IM@Example.COM "}),
        )
        .await;
    assert_eq!(contact["values"]["email"], "\u{212A}im@example.com");
}

async fn unmerge_takes_the_contact_along(backend: Backend) {
    let server = TestServer::start(backend).await;
    let src = source(&server, json!({"name": "crm", "kind": "server"})).await;
    let phone = "+8613911110000";
    batch(
        &src,
        json!([{"type": "identify", "anonymousId": "device-1",
                "traits": {"phone": phone, "name": "设备用户"}, "messageId": "d1"}]),
    )
    .await;
    let device = profile_of(&server, "anonymous_id", "device-1").await;
    let device_id = device["id"].as_str().unwrap().to_string();
    let contact = eventually("the device's contact", || async {
        let p = profile_of(&server, "anonymous_id", "device-1").await;
        p["contact_id"].as_str().map(|c| json!(c))
    })
    .await;
    let contact = contact.as_str().unwrap().to_string();
    batch(
        &src,
        json!([{"type": "identify", "userId": "U",
                "traits": {"email": "wangwu@example.com", "name": "王五", "phone": phone}, "messageId": "u1"}]),
    )
    .await;
    let merged = profile_of(&server, "user_id", "U").await;
    assert_eq!(
        profile_of(&server, "anonymous_id", "device-1").await["id"],
        merged["id"]
    );
    eventually("U's traits in the contact", || async {
        let (_, c) = server
            .get(&format!("/api/v1/objects/contact/records/{contact}"))
            .await;
        (c["values"]["email"] == "wangwu@example.com").then_some(c)
    })
    .await;
    let merge = merged["merges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["cause_type"] == "phone")
        .unwrap_or_else(|| panic!("{merged}"))
        .clone();
    let (status, body) = server
        .post(
            &format!("/api/v1/cdp/merges/{}/undo", merge["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // The contact holds U's name and email: it goes with U.
    let u = profile_of(&server, "user_id", "U").await;
    assert_ne!(u["id"], device_id.as_str());
    assert_eq!(u["contact_id"], contact.as_str(), "{u}");
    // The device gets a contact of its own, from its own traits.
    let own = eventually("the device's new contact", || async {
        let p = profile_of(&server, "anonymous_id", "device-1").await;
        p["contact_id"]
            .as_str()
            .filter(|c| *c != contact)
            .map(|c| json!(c))
    })
    .await;
    let (_, own) = server
        .get(&format!(
            "/api/v1/objects/contact/records/{}",
            own.as_str().unwrap()
        ))
        .await;
    assert_eq!(own["values"]["name"], "设备用户", "{own}");
    assert_eq!(own["values"]["mobile"], phone);
    assert!(own["values"]["email"].is_null(), "{own}");
    let (_, kept) = server
        .get(&format!("/api/v1/objects/contact/records/{contact}"))
        .await;
    assert_eq!(kept["values"]["name"], "王五");
}

async fn blocked_emails_never_reach_the_crm(backend: Backend) {
    let server = TestServer::start(backend).await;
    let src = source(&server, json!({"name": "crm", "kind": "server"})).await;
    batch(
        &src,
        json!([
            {"type": "identify", "userId": "u1", "traits": {"email": "test@test.com", "name": "甲"}, "messageId": "b1"},
            {"type": "identify", "userId": "u2", "traits": {"email": "TEST@test.com", "name": "乙"}, "messageId": "b2"},
        ]),
    )
    .await;
    for user in ["u1", "u2"] {
        let contact = eventually("a contact", || async {
            let p = profile_of(&server, "user_id", user).await;
            p["contact_id"].as_str().map(|c| json!(c))
        })
        .await;
        let (_, c) = server
            .get(&format!(
                "/api/v1/objects/contact/records/{}",
                contact.as_str().unwrap()
            ))
            .await;
        assert!(c["values"]["email"].is_null(), "{user}: {c}");
    }
    assert_ne!(
        profile_of(&server, "user_id", "u1").await["contact_id"],
        profile_of(&server, "user_id", "u2").await["contact_id"]
    );
    assert!(warnings_with(&health(&server).await, "contact_sync_failed").is_empty());
}

async fn alias_joins_two_user_ids_from_trusted_sources(backend: Backend) {
    let server = TestServer::start(backend).await;
    let crm = source(&server, json!({"name": "crm", "kind": "server"})).await;
    let web = source(
        &server,
        json!({"name": "web", "kind": "web", "trust": "client"}),
    )
    .await;
    batch(
        &crm,
        json!([
            {"type": "identify", "userId": "old-id", "messageId": "o"},
            {"type": "identify", "userId": "new-id", "messageId": "n"},
            {"type": "identify", "userId": "web-old", "messageId": "wo"},
            {"type": "identify", "userId": "web-new", "messageId": "wn"},
        ]),
    )
    .await;
    // From a client source an alias of two user ids is a claim, not an instruction.
    batch(
        &web,
        json!([{"type": "alias", "userId": "web-new", "previousId": "web-old", "messageId": "wa"}]),
    )
    .await;
    assert_ne!(
        profile_of(&server, "user_id", "web-new").await["id"],
        profile_of(&server, "user_id", "web-old").await["id"]
    );
    // From a server source it joins them, recorded and reversible.
    batch(
        &crm,
        json!([{"type": "alias", "userId": "new-id", "previousId": "old-id", "messageId": "a"}]),
    )
    .await;
    let joined = profile_of(&server, "user_id", "new-id").await;
    assert_eq!(
        profile_of(&server, "user_id", "old-id").await["id"],
        joined["id"]
    );
    let merge = joined["merges"][0].clone();
    assert_eq!(merge["cause_value"], "old-id", "{joined}");
    assert_eq!(merge["message_id"], "a");
    let (status, _) = server
        .post(
            &format!("/api/v1/cdp/merges/{}/undo", merge["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert_ne!(
        profile_of(&server, "user_id", "new-id").await["id"],
        profile_of(&server, "user_id", "old-id").await["id"]
    );
}

async fn merge_log_pages_through_everything(backend: Backend) {
    let server = TestServer::start(backend).await;
    let src = source(&server, json!({"name": "app", "kind": "app"})).await;
    let mut events = Vec::new();
    for i in 0..7 {
        events.push(json!({"type": "track", "event": "Probe", "anonymousId": format!("a{i}"), "messageId": format!("t{i}")}));
    }
    register(&server, "Probe", json!({"type": "object"})).await;
    batch(&src, json!(events)).await;
    let links: Vec<Value> = (0..7)
        .map(|i| json!({"type": "identify", "userId": format!("u{i}"), "anonymousId": format!("a{i}"), "messageId": format!("i{i}")}))
        .collect();
    batch(&src, json!(links)).await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut query = vec![("limit", "3".to_string())];
        if let Some(c) = &cursor {
            query.push(("cursor", c.clone()));
        }
        let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, page) = server
            .call(Method::GET, "/api/v1/cdp/merges")
            .query(&query)
            .send()
            .await
            .pair();
        assert_eq!(status, 200, "{page}");
        pages += 1;
        seen.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 7);
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 7);
    let bad = server
        .call(Method::GET, "/api/v1/cdp/merges")
        .query(&[("cursor", "not-a-cursor")])
        .send()
        .await
        .pair();
    assert_error(&bad, 400, "invalid_cursor");
}

fn user_hash(secret: &str, user_id: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(user_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

async fn contact_values(server: &TestServer, id: &str) -> Value {
    let (status, c) = server
        .get(&format!("/api/v1/objects/contact/records/{id}"))
        .await;
    assert_eq!(status, 200, "{c}");
    c["values"].clone()
}

/// Waits until the sync queue has handled everything (no entries left).
async fn sync_settled(server: &TestServer) {
    for _ in 0..150 {
        let rows = server
            .store
            .db
            .fetch_all(
                "SELECT COUNT(*) FROM cdp_sync_queue",
                &[],
                &[rapport_core::sql::ColumnKind::Int],
            )
            .await
            .unwrap();
        if rows[0].int(0).unwrap() == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the CRM sync queue did not drain");
}

async fn client_sources_cannot_rewrite_the_crm(backend: Backend) {
    let server = TestServer::start(backend).await;
    // A real CRM contact, typed in by a salesperson.
    let alice = server
        .create(
            "contact",
            json!({"name": "Alice", "email": "alice@corp.test", "title": "Manager", "mobile": "+8613900000001"}),
        )
        .await;
    let alice_id = alice["id"].as_str().unwrap().to_string();
    let alice_profile = eventually("Alice's profile", || async {
        let (_, p) = server
            .call(Method::GET, "/api/v1/cdp/profiles")
            .query(&[
                ("identifier_type", "email"),
                ("identifier", "alice@corp.test"),
            ])
            .send()
            .await
            .pair();
        p["profiles"][0]["id"].as_str().map(|id| json!(id))
    })
    .await;
    let (status, web) = server
        .post(
            "/api/v1/cdp/sources",
            json!({"name": "官网", "kind": "web"}),
        )
        .await;
    assert_eq!(status, 201, "{web}");
    assert_eq!(web["trust"], "client");
    let secret = web["verification_secret"].as_str().unwrap().to_string();
    let web = Source {
        id: web["id"].as_str().unwrap().to_string(),
        tracker: server.as_auth(crate::harness::Auth::Header(crate::cdp::basic(
            web["write_key"].as_str().unwrap(),
        ))),
        key: web["write_key"].as_str().unwrap().to_string(),
    };
    // The hijack: an anonymous device claims Alice's email and rewrites her.
    batch(
        &web,
        json!([{"type": "identify", "anonymousId": "attacker-device",
                "traits": {"email": "alice@corp.test", "name": "Hacked", "title": "Former employee",
                           "phone": "+8613911111111"}, "messageId": "h1"}]),
    )
    .await;
    sync_settled(&server).await;
    let values = contact_values(&server, &alice_id).await;
    assert_eq!(
        (
            values["name"].as_str(),
            values["title"].as_str(),
            values["mobile"].as_str()
        ),
        (Some("Alice"), Some("Manager"), Some("+8613900000001")),
        "{values}"
    );
    let attacker = profile_of(&server, "anonymous_id", "attacker-device").await;
    assert_ne!(attacker["id"], alice_profile);
    assert_ne!(attacker["contact_id"], alice_id.as_str());
    assert!(
        !attacker["identifiers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["type"] == "email"),
        "a client source's claimed email links nobody: {attacker}"
    );
    // A wrong verification is no verification.
    batch(
        &web,
        json!([{"type": "identify", "userId": "alice-1", "traits": {"email": "alice@corp.test", "title": "VP"},
                "context": {"userHash": user_hash("wrong secret", "alice-1")}, "messageId": "h2"}]),
    )
    .await;
    sync_settled(&server).await;
    assert_eq!(contact_values(&server, &alice_id).await["title"], "Manager");
    // The company's server signed Alice's user id: her own browser may now update her.
    batch(
        &web,
        json!([{"type": "identify", "userId": "alice-1", "traits": {"email": "alice@corp.test", "title": "VP"},
                "context": {"userHash": user_hash(&secret, "alice-1")}, "messageId": "h3"}]),
    )
    .await;
    eventually("the verified title", || async {
        let v = contact_values(&server, &alice_id).await;
        (v["title"] == "VP").then_some(v)
    })
    .await;
    assert_eq!(
        profile_of(&server, "user_id", "alice-1").await["id"],
        profile_of(&server, "email", "alice@corp.test").await["id"]
    );
    // History names the source, not an administrator.
    let (_, history) = server
        .get(&format!(
            "/api/v1/objects/contact/records/{alice_id}/history"
        ))
        .await;
    let title_change = history
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["field"] == "title")
        .unwrap_or_else(|| panic!("{history}"))
        .clone();
    assert_eq!(
        title_change["actor_id"],
        format!("source:{}", web.id).as_str()
    );
    assert_eq!(title_change["source"], "cdp");
    // A newcomer on a client source gets a contact, whose filled fields stay as they are.
    batch(
        &web,
        json!([{"type": "identify", "anonymousId": "visitor", "traits": {"name": "新访客", "city": "上海", "email": "visitor@example.com"}, "messageId": "v1"}]),
    )
    .await;
    let visitor_contact = eventually("the visitor's contact", || async {
        let p = profile_of(&server, "anonymous_id", "visitor").await;
        p["contact_id"].as_str().map(|c| json!(c))
    })
    .await;
    let visitor_contact = visitor_contact.as_str().unwrap().to_string();
    batch(
        &web,
        json!([{"type": "identify", "anonymousId": "visitor", "traits": {"name": "改名", "city": "北京", "title": "CTO"}, "messageId": "v2"}]),
    )
    .await;
    sync_settled(&server).await;
    let v = contact_values(&server, &visitor_contact).await;
    assert_eq!(
        (v["name"].as_str(), v["city"].as_str(), v["title"].as_str()),
        (Some("新访客"), Some("上海"), Some("CTO")),
        "{v}"
    );
}

/// What one sender expects of one request.
struct Sent {
    good: Vec<String>,
    hostile: BTreeMap<usize, &'static str>,
}

fn hostile_event(rng: &mut StdRng, n: usize) -> (Value, &'static str) {
    let id = format!("hostile-{n}");
    match rng.gen_range(0..7) {
        0 => (
            json!({"type": "track", "event": "Probe", "anonymousId": "null", "messageId": id}),
            "missing_identity",
        ),
        1 => (
            json!({"type": "track", "event": "Probe", "userId": format!("u\u{0}{n}"), "messageId": id}),
            "nul_character",
        ),
        2 => (
            json!({"type": "track", "event": "Probe", "userId": "u-big", "messageId": id,
                   "properties": {"blob": "x".repeat(40_000)}}),
            "event_too_large",
        ),
        3 => {
            let ids: Vec<Value> = (0..30)
                .map(|i| json!({"type": "device_id", "id": format!("dev-{n}-{i}")}))
                .collect();
            (
                json!({"type": "track", "event": "Probe", "anonymousId": format!("spray-{n}"), "messageId": id,
                       "context": {"externalIds": ids}}),
                "too_many_identifiers",
            )
        }
        4 => {
            let mut deep = json!("bottom");
            for _ in 0..40 {
                deep = json!({ "d": deep });
            }
            (
                json!({"type": "track", "event": "Probe", "userId": "u-deep", "messageId": id, "properties": deep}),
                "nesting_too_deep",
            )
        }
        5 => (
            json!({"type": "alias", "userId": format!("u-{n}"), "previousId": "undefined", "messageId": id}),
            "missing_previous_id",
        ),
        _ => (
            json!({"type": "track", "event": "Probe", "messageId": id, "userId": ["not", "a", "string"]}),
            "invalid_field",
        ),
    }
}

async fn hostile_batches_never_fail_good_events(backend: Backend) {
    let server = TestServer::start(backend).await;
    let src = source(&server, json!({"name": "crm", "kind": "server"})).await;
    register(&server, "Probe", json!({"type": "object"})).await;
    let senders = 4;
    let mut tasks = Vec::new();
    for sender in 0..senders {
        let tracker = src.tracker.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(0xbad_5eed + sender);
            let mut good_sent: Vec<String> = Vec::new();
            for round in 0..15 {
                let mut events = Vec::new();
                let mut sent = Sent {
                    good: Vec::new(),
                    hostile: BTreeMap::new(),
                };
                for k in 0..rng.gen_range(5..40) {
                    if rng.gen_bool(0.25) {
                        let (e, code) =
                            hostile_event(&mut rng, (sender as usize) * 100_000 + round * 1000 + k);
                        sent.hostile.insert(events.len(), code);
                        events.push(e);
                    } else if rng.gen_bool(0.1) && !good_sent.is_empty() {
                        // A retry of an earlier good event: a duplicate, never stored twice.
                        let again = good_sent[rng.gen_range(0..good_sent.len())].clone();
                        events.push(json!({"type": "track", "event": "Probe", "userId": "u-dup", "messageId": again}));
                    } else {
                        let id = format!("good-{sender}-{round}-{k}");
                        let user = format!("user-{}", rng.gen_range(0..30));
                        events.push(if rng.gen_bool(0.3) {
                            json!({"type": "identify", "userId": user, "anonymousId": format!("anon-{user}"),
                                   "traits": {"email": format!("{user}@example.com")}, "messageId": id})
                        } else {
                            json!({"type": "track", "event": "Probe", "userId": user, "messageId": id})
                        });
                        sent.good.push(id);
                    }
                }
                let (status, report) = tracker
                    .post("/v1/batch", json!({ "batch": events }))
                    .await;
                assert_eq!(status, 200, "{report}");
                let rejected: BTreeMap<usize, String> = report["rejected"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| {
                        (
                            r["index"].as_u64().unwrap() as usize,
                            r["code"].as_str().unwrap().to_string(),
                        )
                    })
                    .collect();
                let want: BTreeMap<usize, String> = sent
                    .hostile
                    .iter()
                    .map(|(i, c)| (*i, (*c).to_string()))
                    .collect();
                assert_eq!(rejected, want, "{report}");
                assert_eq!(
                    report["accepted"].as_u64().unwrap() as usize,
                    sent.good.len(),
                    "{report}"
                );
                good_sent.extend(sent.good);
            }
            good_sent
        }));
    }
    let mut all_good = Vec::new();
    for t in tasks {
        all_good.extend(t.await.unwrap());
    }
    let stored = stored_message_ids(&server, &src.id).await;
    let stored_set: BTreeSet<&String> = stored.iter().collect();
    assert_eq!(stored.len(), stored_set.len(), "an event stored twice");
    let good_set: BTreeSet<&String> = all_good.iter().collect();
    assert_eq!(stored_set, good_set);
}

/// Two nodes' group commits that wait for each other in a cycle: PostgreSQL aborts one, and the
/// writer tries its group again instead of answering 503. The cycle is made on purpose: a
/// transaction here holds the workspace's identity-graph lock (which the writer needs to link
/// two customers) and then asks for the behaviour keys' lock exclusively (which the writer
/// holds shared for its whole commit), with a long `deadlock_timeout` so that the writer is the
/// one PostgreSQL picks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadlock_is_retried_and_counted_postgres() {
    if crate::harness::postgres_url().is_none() {
        eprintln!("skipped: RAPPORT_TEST_DATABASE_URL not set");
        return;
    }
    use rapport_core::sql::{ColumnKind, SqlParam};
    let server = TestServer::start(Backend::Postgres).await;
    let src = source(&server, json!({"name": "crm", "kind": "server"})).await;
    register(&server, "Probe", json!({"type": "object"})).await;
    batch(
        &src,
        json!([{"type": "identify", "userId": "u1", "messageId": "m1"},
               {"type": "track", "event": "Probe", "anonymousId": "a1", "messageId": "m2"}]),
    )
    .await;
    let db = server.store.db.clone();
    let mut other = db.begin().await.unwrap();
    other
        .execute("SET LOCAL deadlock_timeout = '30s'", &[])
        .await
        .unwrap();
    other
        .execute(
            "SELECT pg_advisory_xact_lock(hashtext('cdp.identity:' || $1))",
            &[SqlParam::Text(server.workspace.id.clone())],
        )
        .await
        .unwrap();
    // Linking a1 to u1 needs the graph lock: the writer waits, holding the keys' lock shared.
    let tracker = src.tracker.clone();
    let linking = tokio::spawn(async move {
        tracker
            .post(
                "/v1/batch",
                json!({"batch": [{"type": "identify", "userId": "u1", "anonymousId": "a1", "messageId": "m3"}]}),
            )
            .await
    });
    loop {
        let waiting = db
            .fetch_all(
                "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
                &[],
                &[ColumnKind::Int],
            )
            .await
            .unwrap();
        if waiting[0].int(0).unwrap() > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // The keys' lock (segments::behavior::KEYS_LOCK) exclusively: the cycle is closed.
    let closing = tokio::spawn(async move {
        other
            .execute("SELECT pg_advisory_xact_lock(23438595608366676)", &[])
            .await
            .unwrap();
        other.commit().await.unwrap();
    });
    let (status, report) = linking.await.unwrap();
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["accepted"], 1, "{report}");
    closing.await.unwrap();
    assert_eq!(
        profile_of(&server, "anonymous_id", "a1").await["id"],
        profile_of(&server, "user_id", "u1").await["id"]
    );
    let metrics = server
        .as_auth(crate::harness::Auth::Header(format!(
            "Bearer {}",
            crate::harness::METRICS_TOKEN
        )))
        .call(Method::GET, "/metrics")
        .send()
        .await
        .text;
    let retried: u64 = metrics
        .lines()
        .find(|l| l.starts_with("rapport_cdp_commit_retries_total{reason=\"deadlock\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(retried >= 1, "no deadlock retry counted:\n{metrics}");
}
