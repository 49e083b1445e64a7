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
use rapport_core::codes::EventCode;
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

/// An event carrying more identifiers than this is rejected (`too_many_identifiers`).
pub const MAX_IDENTIFIERS_PER_EVENT: usize = 20;

/// The identifier types an untrusted event (a client source without identity verification)
/// links by: its own ids. What it claims beyond them (an email, a phone) stays a trait.
const UNTRUSTED_TYPES: [&str; 3] = ["user_id", "anonymous_id", "device_id"];

/// Brings an identifier value to its canonical form, or None when it cannot identify anyone
/// (empty, too long, not an address or number, or on the workspace's blocklist).
pub fn normalize(id_type: &str, raw: &str, settings: &Settings) -> Option<String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() || trimmed.chars().count() > 255 {
        return None;
    }
    let value = match id_type {
        "email" => rapport_core::normalize::email(trimmed)?,
        "phone" => rapport_core::normalize::phone(trimmed, Some(&settings.phone_region))?,
        _ => trimmed.to_string(),
    };
    (!settings.is_blocked(&value)).then_some(value)
}

/// An alias's `previousId`, normalised, if it can identify anyone.
pub fn previous_id(event: &Incoming, settings: &Settings) -> Option<String> {
    if event.kind != crate::wire::Kind::Alias {
        return None;
    }
    normalize("user_id", &event.text("previousId")?, settings)
}

/// Whether the group commit can place an event: its main identifier (user id, else anonymous
/// id) and an alias's `previousId` must be usable, and it may not carry more than
/// [`MAX_IDENTIFIERS_PER_EVENT`] identifiers. Checked per event before the commit, so one
/// unusable event is rejected alone. Returns the rejection's code and message.
pub fn admissible(event: &Incoming, settings: &Settings) -> Result<(), (EventCode, String)> {
    let usable = |raw: &Option<String>, id_type: &str| {
        raw.as_deref()
            .and_then(|r| normalize(id_type, r, settings))
            .is_some()
    };
    if !usable(&event.user_id, "user_id") && !usable(&event.anonymous_id, "anonymous_id") {
        return Err((
            EventCode::MissingIdentity,
            "the event's userId and anonymousId are missing or not usable (empty or a blocked value such as \"null\")".into(),
        ));
    }
    if event.kind == crate::wire::Kind::Alias && previous_id(event, settings).is_none() {
        return Err((
            EventCode::MissingPreviousId,
            "the alias's previousId is not usable (empty or a blocked value such as \"null\")"
                .into(),
        ));
    }
    let n = identifiers(event, settings).len();
    if n > MAX_IDENTIFIERS_PER_EVENT {
        return Err((
            EventCode::TooManyIdentifiers,
            format!("an event may carry at most {MAX_IDENTIFIERS_PER_EVENT} identifiers, this one carries {n}"),
        ));
    }
    Ok(())
}

/// The identifiers an event carries, the main one first (user id, else anonymous id); for an
/// untrusted event only its own ids (see [`UNTRUSTED_TYPES`]). For an alias, `previousId` is
/// resolved separately (it may be an older user id or an anonymous id).
pub fn identifiers(event: &Incoming, settings: &Settings) -> Vec<Ident> {
    let mut out: Vec<Ident> = Vec::new();
    let mut push = |id_type: &str, raw: Option<String>| {
        if settings.identifier(id_type).is_none()
            || (!event.trusted && !UNTRUSTED_TYPES.contains(&id_type))
        {
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
        for entry in ids {
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
