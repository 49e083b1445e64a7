//! Rapport's domain, free of I/O: workspace metadata (objects and fields), record values and
//! their validation, the condition model, formulas, the clock, and the domain error type.
//!
//! Everything here is pure so that the store, the server and tests share one definition of
//! what a valid record is and what a condition means.

pub mod access;
pub mod autonumber;
pub mod clock;
pub mod codes;
pub mod condition;
pub mod decimal;
pub mod error;
pub mod files;
pub mod formula;
pub mod label;
pub mod metadata;
pub mod names;
pub mod normalize;
pub mod record;
pub mod regions;
pub mod spreadsheet;
pub mod sql;
pub mod standard;
pub mod value;

pub use access::{Action, Principal, Role, Source};
pub use clock::{Clock, ManualClock, SystemClock};
pub use codes::{ErrorCode, EventCode, FieldCode, WarningCode};
pub use decimal::Decimal;
pub use error::{CoreError, FieldError};
pub use label::Label;
pub use metadata::{FieldConfig, FieldDef, FieldType, ObjectDef, SelectOption};
pub use record::Record;
pub use value::Value;
