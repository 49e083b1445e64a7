//! Unsubscribe links: each marketing email carries a link naming its workspace and address,
//! signed with the node's key (nothing stored until it is used). Opening it (or the one-click
//! POST mail clients send) records the address; later emails skip it unless transactional.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rapport_core::codes::ErrorCode;
use rapport_core::sql::{ColumnKind, SqlParam};
use rapport_store::{Store, StoreError};

const PURPOSE: &str = "unsubscribe";

fn normalized(address: &str) -> String {
    address.trim().to_lowercase()
}

/// The token of `address` in `workspace_id`: `<base64 of workspace\naddress>.<signature>`.
pub fn token(store: &Store, workspace_id: &str, address: &str) -> String {
    let data = format!("{workspace_id}\n{}", normalized(address));
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(data.as_bytes()),
        store.sealer().sign(PURPOSE, data.as_bytes())
    )
}

/// The link under Rapport's public address.
pub fn link(store: &Store, public_url: &str, workspace_id: &str, address: &str) -> String {
    format!(
        "{}/api/v1/unsubscribe/{}",
        public_url.trim_end_matches('/'),
        token(store, workspace_id, address)
    )
}

/// Records the unsubscription a token names; answers the address. A token Rapport did not
/// make is refused (`invalid_link`).
pub async fn apply(store: &Store, token: &str) -> Result<String, StoreError> {
    let refused = || StoreError::bad_request(ErrorCode::InvalidLink, "this link is not valid");
    let (data, signature) = token.split_once('.').ok_or_else(refused)?;
    let data = URL_SAFE_NO_PAD.decode(data).map_err(|_| refused())?;
    if !store.sealer().verify(PURPOSE, &data, signature) {
        return Err(refused());
    }
    let text = String::from_utf8(data).map_err(|_| refused())?;
    let (workspace_id, address) = text.split_once('\n').ok_or_else(refused)?;
    // Both databases take ON CONFLICT (SQLite since 3.24).
    let sql = format!(
        "INSERT INTO email_unsubscribes (workspace_id, address, created_at) VALUES ({}, {}, {}) \
         ON CONFLICT DO NOTHING",
        store.ph(1),
        store.ph(2),
        store.ph(3)
    );
    store
        .db
        .execute(
            &sql,
            &[
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(address.into()),
                SqlParam::Timestamp(store.now()),
            ],
        )
        .await?;
    Ok(address.to_string())
}

pub async fn is_unsubscribed(
    store: &Store,
    workspace_id: &str,
    address: &str,
) -> Result<bool, StoreError> {
    Ok(store
        .db
        .fetch_optional(
            &format!(
                "SELECT address FROM email_unsubscribes WHERE workspace_id = {} AND address = {}",
                store.ph(1),
                store.ph(2)
            ),
            &[
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(normalized(address)),
            ],
            &[ColumnKind::Text],
        )
        .await?
        .is_some())
}
