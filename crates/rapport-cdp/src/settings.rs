//! A workspace's CDP settings: the identifier types and which of them merge profiles, the
//! merge guard's limits, and how traits map onto CRM contact and company fields. Stored as one
//! JSON document per workspace; the defaults apply until an admin saves their own.

use crate::error::CdpError;
use rapport_core::codes::ErrorCode;
use rapport_core::metadata::WorkspaceSchema;
use rapport_store::Store;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// One kind of identifier. Built-in names: `user_id`, `anonymous_id`, `email`, `phone`,
/// `wechat_openid`, `wechat_unionid`, `device_id`; admins add their own (e.g. `member_no`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentifierType {
    pub name: String,
    #[serde(default)]
    pub label_en: String,
    #[serde(default)]
    pub label_zh: String,
    /// Whether two profiles sharing this identifier become one.
    pub merge: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub identifier_types: Vec<IdentifierType>,
    /// How many merges one identifier value may cause before the guard refuses more (a shared
    /// `test@test.com` must not fold thousands of customers into one).
    pub max_merges_per_identifier: i64,
    /// Identifier values never used to link anyone (lower-case; compared after normalising).
    pub blocked_values: Vec<String>,
    /// Trait → contact field; an identify with any of these traits creates or updates the
    /// profile's contact through the record write path (history source `cdp`).
    pub contact_mapping: BTreeMap<String, String>,
    /// Group trait → company field, for `group` calls.
    pub company_mapping: BTreeMap<String, String>,
    /// The region phone numbers without a country code are read in (ISO 3166, e.g. CN).
    pub phone_region: String,
}

impl Default for Settings {
    fn default() -> Self {
        let id = |name: &str, en: &str, zh: &str, merge: bool| IdentifierType {
            name: name.into(),
            label_en: en.into(),
            label_zh: zh.into(),
            merge,
        };
        let map = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
                .collect()
        };
        Settings {
            identifier_types: vec![
                id("user_id", "User id", "用户ID", true),
                id("anonymous_id", "Anonymous id", "匿名ID", true),
                id("email", "Email", "邮箱", true),
                id("phone", "Phone", "手机号", true),
                id("wechat_unionid", "WeChat UnionID", "微信UnionID", true),
                id("wechat_openid", "WeChat OpenID", "微信OpenID", true),
                id("device_id", "Device id", "设备ID", false),
            ],
            max_merges_per_identifier: 10,
            blocked_values: [
                "test@test.com",
                "test@example.com",
                "null",
                "undefined",
                "none",
                "unknown",
                "0",
                "00000000-0000-0000-0000-000000000000",
            ]
            .iter()
            .map(|s| (*s).to_string())
            .collect(),
            contact_mapping: map(&[
                ("name", "name"),
                ("email", "email"),
                ("phone", "mobile"),
                ("title", "title"),
                ("city", "city"),
                ("birthday", "birthday"),
                ("wechat", "wechat"),
            ]),
            company_mapping: map(&[
                ("name", "name"),
                ("industry", "industry"),
                ("website", "website"),
            ]),
            phone_region: "CN".into(),
        }
    }
}

impl Settings {
    /// Whether a normalised identifier value is on the blocklist (ASCII letters compared
    /// without case).
    pub fn is_blocked(&self, value: &str) -> bool {
        self.blocked_values
            .iter()
            .any(|b| b.eq_ignore_ascii_case(value))
    }

    pub fn identifier(&self, name: &str) -> Option<&IdentifierType> {
        self.identifier_types.iter().find(|t| t.name == name)
    }

    /// Checks the document against itself and the workspace's metadata.
    pub fn validate(&self, schema: &WorkspaceSchema) -> Result<(), CdpError> {
        for required in ["user_id", "anonymous_id"] {
            if self.identifier(required).is_none() {
                return Err(CdpError::invalid(
                    ErrorCode::InvalidSettings,
                    format!("the identifier type `{required}` cannot be removed"),
                ));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for t in &self.identifier_types {
            rapport_core::names::validate_api_name(&t.name, "identifier type")
                .map_err(|e| CdpError::invalid(ErrorCode::InvalidSettings, e.to_string()))?;
            if !seen.insert(t.name.as_str()) {
                return Err(CdpError::invalid(
                    ErrorCode::InvalidSettings,
                    format!("identifier type `{}` is listed twice", t.name),
                ));
            }
        }
        if !(1..=1_000_000).contains(&self.max_merges_per_identifier) {
            return Err(CdpError::invalid(
                ErrorCode::InvalidSettings,
                "max_merges_per_identifier must be between 1 and 1,000,000",
            ));
        }
        if self
            .phone_region
            .parse::<phonenumber::country::Id>()
            .is_err()
        {
            return Err(CdpError::invalid(
                ErrorCode::InvalidSettings,
                format!("`{}` is not a region code", self.phone_region),
            ));
        }
        for (object, mapping) in [
            ("contact", &self.contact_mapping),
            ("company", &self.company_mapping),
        ] {
            let def = schema.object(object).ok_or(CdpError::NotFound {
                what: "mapped object",
            })?;
            for field in mapping.values() {
                if def.active_field(field).is_none() {
                    return Err(CdpError::invalid(
                        ErrorCode::InvalidSettings,
                        format!("{object} has no field `{field}`"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Reads the workspace's settings (the defaults when none were saved).
pub async fn load(store: &Store, workspace_id: &str) -> Result<Settings, CdpError> {
    let row = store
        .db
        .fetch_optional(
            &format!(
                "SELECT settings FROM cdp_settings WHERE workspace_id = {}",
                store.ph(1)
            ),
            &[rapport_core::sql::SqlParam::Text(workspace_id.into())],
            &[rapport_core::sql::ColumnKind::Json],
        )
        .await?;
    Ok(match row {
        Some(row) => serde_json::from_value(row.json("settings")?).map_err(|e| {
            rapport_store::StoreError::Corrupt(format!("the workspace's CDP settings: {e}"))
        })?,
        None => Settings::default(),
    })
}

pub async fn save(store: &Store, workspace_id: &str, settings: &Settings) -> Result<(), CdpError> {
    use rapport_core::sql::SqlParam;
    let json = serde_json::to_value(settings)
        .map_err(|e| CdpError::invalid(ErrorCode::InvalidSettings, e.to_string()))?;
    store
        .db
        .execute(
            &format!(
                "INSERT INTO cdp_settings (workspace_id, settings, updated_at) VALUES ({}, {}, {}) \
                 ON CONFLICT (workspace_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
                store.ph(1),
                store.ph(2),
                store.ph(3)
            ),
            &[
                SqlParam::Text(workspace_id.into()),
                SqlParam::Json(json),
                SqlParam::Timestamp(store.now()),
            ],
        )
        .await?;
    Ok(())
}
