//! The identity graph (统一身份图谱). Every identifier (user id, anonymous id, email, phone,
//! WeChat ids, device id, admin-defined types) belongs to the profile that first carried it and
//! never moves. Profiles that turn out to be one customer are linked by a merge (`merged_into`),
//! recorded with its cause and undoable, so an unmerge restores both profiles and their events.
//! A cluster's root is the customer; `resolve` decides links during the group commit, and
//! `profiles` reads and unmerges them.

pub mod profiles;
pub mod resolve;

use crate::settings::Settings;
use crate::wire::{scalar_text, Incoming};
use serde_json::Value as Json;

/// One identifier of an event, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ident {
    pub id_type: String,
    pub value: String,
}

impl Ident {
    pub fn new(id_type: &str, value: impl Into<String>) -> Self {
        Self {
            id_type: id_type.into(),
            value: value.into(),
        }
    }
}

/// Brings an identifier value to its canonical form, or None when it cannot identify anyone.
pub fn normalize(id_type: &str, raw: &str, settings: &Settings) -> Option<String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() || trimmed.chars().count() > 255 {
        return None;
    }
    let value = match id_type {
        "email" => {
            let lower = trimmed.to_lowercase();
            let (local, domain) = lower.split_once('@')?;
            if local.is_empty() || !domain.contains('.') {
                return None;
            }
            lower
        }
        "phone" => rapport_core::value::normalize_phone(trimmed, Some(&settings.phone_region))?,
        _ => trimmed.to_string(),
    };
    let blocked = settings
        .blocked_values
        .iter()
        .any(|b| b.eq_ignore_ascii_case(&value));
    (!blocked).then_some(value)
}

/// The identifiers an event carries, the main one first (user id, else anonymous id). For an
/// alias, `previousId` is resolved separately (it may be an older user id or an anonymous id).
pub fn identifiers(event: &Incoming, settings: &Settings) -> Vec<Ident> {
    let mut out: Vec<Ident> = Vec::new();
    let mut push = |id_type: &str, raw: Option<String>| {
        if settings.identifier(id_type).is_none() {
            return;
        }
        if let Some(value) = raw.and_then(|r| normalize(id_type, &r, settings)) {
            let ident = Ident::new(id_type, value);
            if !out.contains(&ident) {
                out.push(ident);
            }
        }
    };
    push("user_id", event.user_id.clone());
    push("anonymous_id", event.anonymous_id.clone());
    if let Some(traits) = event.person_traits() {
        for t in &settings.identifier_types {
            if matches!(t.name.as_str(), "user_id" | "anonymous_id") {
                continue;
            }
            push(&t.name, traits.get(&t.name).and_then(scalar_text));
        }
    }
    let context = event.body.get("context");
    if let Some(ids) = context
        .and_then(|c| c.get("externalIds"))
        .and_then(Json::as_array)
    {
        for entry in ids.iter().take(20) {
            let id_type = entry.get("type").and_then(Json::as_str).unwrap_or("");
            push(id_type, entry.get("id").and_then(scalar_text));
        }
    }
    push(
        "device_id",
        context
            .and_then(|c| c.get("device"))
            .and_then(|d| d.get("id"))
            .and_then(scalar_text),
    );
    out
}
