//! Files of attachment fields: an upload is kept in the database with its content (so every
//! node and every backup has it), named for one object's field; a record write naming it gets
//! its descriptor, and the first record to take it is remembered. Uploads no record took are
//! purged after a day.

use crate::schema::placeholder;
use crate::{Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use rapport_core::codes::{ErrorCode, FieldCode};
use rapport_core::metadata::{FieldDef, FieldType, ObjectDef};
use rapport_core::sql::{ColumnKind, SqlParam};
use rapport_core::value::FileRef;
use rapport_core::{FieldError, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// How long an upload no record took is kept.
pub const UNATTACHED_FOR: Duration = Duration::hours(24);

/// A file as its upload answers and its download serves it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct StoredFile {
    pub id: String,
    pub name: String,
    pub size: i64,
    pub content_type: String,
    #[serde(skip)]
    pub object: String,
    #[serde(skip)]
    pub field: String,
    pub created_at: DateTime<Utc>,
}

impl StoredFile {
    pub fn to_ref(&self) -> FileRef {
        FileRef {
            id: self.id.clone(),
            name: self.name.clone(),
            size: self.size,
            content_type: self.content_type.clone(),
        }
    }
}

/// A file about to be kept: what the caller sent.
pub struct Upload<'a> {
    pub name: &'a str,
    pub claimed_type: Option<&'a str>,
    pub content: Vec<u8>,
}

const COLUMNS: &str = "id, name, size, content_type, object, field, created_at";
const KINDS: [ColumnKind; 7] = [
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Int,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Timestamp,
];

fn decode(row: &crate::Row) -> Result<StoredFile, StoreError> {
    Ok(StoredFile {
        id: row.text(0)?,
        name: row.text(1)?,
        size: row.int(2)?,
        content_type: row.text(3)?,
        object: row.text(4)?,
        field: row.text(5)?,
        created_at: row.timestamp(6)?,
    })
}

impl Store {
    /// Keeps a file uploaded for `field` of `object`, after the field's limits: its size, and
    /// for a pictures-only field a PNG, JPEG, GIF or WebP content.
    pub async fn save_file(
        &self,
        workspace_id: &str,
        object: &ObjectDef,
        field: &FieldDef,
        upload: Upload<'_>,
        uploaded_by: &str,
    ) -> Result<StoredFile, StoreError> {
        if field.field_type != FieldType::Attachment || !field.is_active() {
            return Err(StoreError::not_found("attachment field"));
        }
        let max = field.max_file_bytes();
        if upload.content.len() > max {
            return Err(StoreError::bad_request(
                ErrorCode::FileTooLarge,
                format!(
                    "{} takes files of at most {} MiB",
                    field.api_name,
                    max >> 20
                ),
            ));
        }
        let content_type = rapport_core::files::content_type(&upload.content, upload.claimed_type);
        if field.config.images_only && rapport_core::files::sniff_image(&upload.content).is_none() {
            return Err(StoreError::bad_request(
                ErrorCode::FileTypeNotAllowed,
                format!(
                    "{} takes pictures only (PNG, JPEG, GIF or WebP)",
                    field.api_name
                ),
            ));
        }
        let file = StoredFile {
            id: uuid::Uuid::now_v7().to_string(),
            name: rapport_core::files::clean_file_name(upload.name),
            size: i64::try_from(upload.content.len()).unwrap_or(i64::MAX),
            content_type,
            object: object.api_name.clone(),
            field: field.api_name.clone(),
            created_at: self.now(),
        };
        let sha256 = hex::encode(Sha256::digest(&upload.content));
        let marks: Vec<String> = (1..=11).map(|n| self.ph(n)).collect();
        self.db
            .execute(
                &format!(
                    "INSERT INTO files (id, workspace_id, object, field, name, content_type, size, \
                     sha256, content, uploaded_by, created_at) VALUES ({})",
                    marks.join(", ")
                ),
                &[
                    SqlParam::Text(file.id.clone()),
                    SqlParam::Text(workspace_id.to_string()),
                    SqlParam::Text(file.object.clone()),
                    SqlParam::Text(file.field.clone()),
                    SqlParam::Text(file.name.clone()),
                    SqlParam::Text(file.content_type.clone()),
                    SqlParam::Int(file.size),
                    SqlParam::Text(sha256),
                    SqlParam::Bytes(upload.content),
                    SqlParam::Text(uploaded_by.to_string()),
                    SqlParam::Timestamp(file.created_at),
                ],
            )
            .await?;
        Ok(file)
    }

    /// A file and its content.
    pub async fn file(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<Option<(StoredFile, Vec<u8>)>, StoreError> {
        let mut kinds = KINDS.to_vec();
        kinds.push(ColumnKind::Bytes);
        let row = self
            .db
            .fetch_optional(
                &format!(
                    "SELECT {COLUMNS}, content FROM files WHERE id = {} AND workspace_id = {}",
                    self.ph(1),
                    self.ph(2)
                ),
                &[
                    SqlParam::Text(id.to_string()),
                    SqlParam::Text(workspace_id.to_string()),
                ],
                &kinds,
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let content = match row.get(7)? {
            SqlParam::Bytes(b) => b.clone(),
            _ => Vec::new(),
        };
        Ok(Some((decode(&row)?, content)))
    }

    /// Deletes uploads no record took within [`UNATTACHED_FOR`]; how many went.
    pub async fn purge_unattached_files(&self) -> Result<u64, StoreError> {
        self.db
            .execute(
                &format!(
                    "DELETE FROM files WHERE record_id IS NULL AND created_at < {}",
                    self.ph(1)
                ),
                &[SqlParam::Timestamp(self.now() - UNATTACHED_FOR)],
            )
            .await
    }
}

/// Gives each attachment value of a write its files' descriptors, refusing a file that is
/// not one uploaded for that field of that object, and marks new files as taken by `record`.
pub(crate) async fn resolve_files(
    tx: &mut crate::Tx,
    workspace_id: &str,
    object: &ObjectDef,
    record_id: &str,
    values: &mut BTreeMap<String, Value>,
) -> Result<Vec<FieldError>, StoreError> {
    let mut errors = Vec::new();
    for (name, value) in values.iter_mut() {
        let Value::Files(files) = value else { continue };
        let d = tx.dialect();
        for file in files.iter_mut() {
            let row = tx
                .fetch_optional(
                    &format!(
                        "SELECT {COLUMNS} FROM files WHERE id = {} AND workspace_id = {} \
                         AND object = {} AND field = {}",
                        placeholder(d, 1),
                        placeholder(d, 2),
                        placeholder(d, 3),
                        placeholder(d, 4)
                    ),
                    &[
                        SqlParam::Text(file.id.clone()),
                        SqlParam::Text(workspace_id.to_string()),
                        SqlParam::Text(object.api_name.clone()),
                        SqlParam::Text(name.clone()),
                    ],
                    &KINDS,
                )
                .await?;
            match row {
                Some(row) => *file = decode(&row)?.to_ref(),
                None => {
                    errors.push(FieldError::new(
                        name.as_str(),
                        FieldCode::UnknownFile,
                        format!("no file {:?} was uploaded for {name}", file.id),
                    ));
                    continue;
                }
            }
            tx.execute(
                &format!(
                    "UPDATE files SET record_id = {} WHERE id = {} AND record_id IS NULL",
                    placeholder(d, 1),
                    placeholder(d, 2)
                ),
                &[
                    SqlParam::Text(record_id.to_string()),
                    SqlParam::Text(file.id.clone()),
                ],
            )
            .await?;
        }
    }
    Ok(errors)
}

/// The hourly purge of uploads no record took, as a worker for the node's supervisor.
pub struct FilePurge(pub Store);

impl crate::worker::Worker for FilePurge {
    fn name(&self) -> &'static str {
        "file_purge"
    }

    fn idle(&self) -> std::time::Duration {
        std::time::Duration::from_secs(3600)
    }

    fn tick(&self) -> crate::worker::TickFuture<'_> {
        Box::pin(async move {
            self.0.purge_unattached_files().await?;
            Ok(crate::worker::Tick::Idle)
        })
    }
}
