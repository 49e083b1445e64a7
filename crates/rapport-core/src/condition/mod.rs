//! The one condition model: a JSON tree of `all` / `any` / `not` nodes and field tests, used by
//! list filters, saved views, automations and permissions alike. It compiles to SQL for both
//! dialects and evaluates on an in-memory [`Record`], and the two always agree.
//!
//! # JSON shape
//!
//! ```json
//! {"all": [
//!   {"field": "amount", "op": "gt", "value": 1000},
//!   {"any": [{"field": "stage", "op": "in", "value": ["won", "lost"]},
//!            {"not": {"field": "company.industry", "op": "is_empty"}}]}
//! ]}
//! ```
//!
//! * `{"all": [..]}` (an empty list is true), `{"any": [..]}` (an empty list is false),
//!   `{"not": c}`, or a leaf `{"field", "op", "value"}`. Unknown keys are an error.
//! * `field` is a field of the object, a system column (`id`, `created_at`, `updated_at`,
//!   `created_by`, `updated_by`, `owner_id`), or a one-hop path `relation.field` into the
//!   relation's target object. Archived fields and objects are unknown.
//! * Operators: `eq ne lt lte gt gte between in not_in contains starts_with is_empty
//!   is_not_empty today last_n_days next_n_days this_week this_month this_quarter`; which ones
//!   a field accepts depends on its type (see [`Op`]).
//!
//! # API
//!
//! ```text
//! Condition::parse(&serde_json::Value) -> Result<Condition, CoreError>          // shape + limits
//! Condition::check(&self, &WorkspaceSchema, object, &DateContext)
//!     -> Result<CheckedCondition, CoreError>                                    // metadata + values
//! CheckedCondition::to_sql(&self, &mut SqlBuilder, alias, table_of: &dyn Fn(&str) -> String)
//! CheckedCondition::eval(&self, &Record, related: &dyn Fn(&str, &str) -> Option<Record>) -> bool
//! CheckedCondition::relation_fields(&self) -> Vec<String>
//! ```
//!
//! Errors are [`CoreError::InvalidCondition`] whose `path` is a JSON pointer into the input
//! (`/all/2/value/0`; the root node is `/`).
//!
//! # Semantics (SQL and `eval` agree exactly)
//!
//! * Every leaf is two-valued (never SQL NULL), so `not` is plain negation. A NULL value makes
//!   `eq lt lte gt gte between in contains starts_with` false and `ne not_in is_empty` true.
//! * Values are normalised with [`crate::value::parse_input`] exactly like record input (phones
//!   to E.164, emails lowercased, decimals to units, select options checked), except that the
//!   field's own length / pattern / min / max rules are not applied (a condition may name any
//!   value). A value that normalises to empty (`""`, `null`) is an error: use `is_empty`.
//! * `contains` / `starts_with` take a plain substring (trimmed, not normalised as a whole
//!   value), matched case-insensitively for ASCII letters only.
//! * Text compares byte-wise; numbers by scaled units (a currency by its amount only, the code
//!   is ignored); dates as `YYYY-MM-DD`; date-times as instants truncated to microseconds.
//! * Relative dates use the local date `(now + utc_offset_minutes).date()`: `today` = `[d, d]`,
//!   `last_n_days N` = `[d-N, d]`, `next_n_days N` = `[d, d+N]`, `this_week` (ISO, Monday
//!   first), `this_month`, `this_quarter`. Date fields test the inclusive day range; date-time
//!   fields the half-open instant range `[first day 00:00 local, day after last 00:00 local)`.
//!   They are resolved once, by `check`.
//! * Multi-select: `contains` (has the option), `in` (has any), `not_in` (has none, or is
//!   empty), `is_empty` / `is_not_empty` (an empty list counts as empty).
//! * A relation path reads the related record's field; a missing or deleted related record
//!   reads as NULL.
//!
//! # Limits against hostile input
//!
//! Depth ≤ [`MAX_DEPTH`], nodes ≤ [`MAX_NODES`], strings in values ≤ [`MAX_STRING_CHARS`]
//! characters, `in` lists ≤ [`MAX_LIST_ITEMS`] items, all values together ≤
//! [`MAX_TOTAL_VALUES`] (this bounds the number of SQL parameters). Field names reach SQL only
//! after they have been found in the metadata.

use crate::metadata::WorkspaceSchema;
use crate::record::Record;
use crate::sql::SqlBuilder;
use crate::value::Value;
use crate::CoreError;
use chrono::{DateTime, SubsecRound, Utc};
use serde_json::Value as Json;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

mod check;
mod dates;
mod eval;
mod parse;
mod sql;

pub use parse::parse_tree;
#[cfg(test)]
mod tests;

/// Deepest nesting of nodes; a lone leaf has depth 1.
pub const MAX_DEPTH: usize = 8;
/// Most nodes (combinators and leaves) in one condition.
pub const MAX_NODES: usize = 200;
/// Longest string anywhere in a value, in characters.
pub const MAX_STRING_CHARS: usize = 1000;
/// Most items in one `in` / `not_in` list.
pub const MAX_LIST_ITEMS: usize = 1000;
/// Most values (list items count one each) in one condition.
pub const MAX_TOTAL_VALUES: usize = 10_000;
/// Largest N of `last_n_days` / `next_n_days`.
pub const MAX_RELATIVE_DAYS: u64 = 3650;
/// Longest field name or path accepted before the metadata lookup.
pub const MAX_FIELD_NAME_LEN: usize = 100;

/// A leaf operator. Which field types accept which operator:
///
/// | type | operators |
/// |---|---|
/// | text, long_text, email, phone, url, text formula, `id` | `eq ne lt lte gt gte between in not_in contains starts_with is_empty is_not_empty` |
/// | select, relation, user (`created_by`, `updated_by`, `owner_id`) | `eq ne in not_in is_empty is_not_empty` |
/// | integer, decimal, percent, currency, decimal formula | `eq ne lt lte gt gte between in not_in is_empty is_not_empty` |
/// | boolean, boolean formula | `eq ne is_empty is_not_empty` |
/// | date, datetime (`created_at`, `updated_at`) | `eq ne lt lte gt gte between in not_in is_empty is_not_empty today last_n_days next_n_days this_week this_month this_quarter` |
/// | multi_select | `contains in not_in is_empty is_not_empty` |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
    Between,
    In,
    NotIn,
    Contains,
    StartsWith,
    IsEmpty,
    IsNotEmpty,
    Today,
    LastNDays,
    NextNDays,
    ThisWeek,
    ThisMonth,
    ThisQuarter,
}

impl Op {
    pub const ALL: [Op; 19] = [
        Op::Eq,
        Op::Ne,
        Op::Lt,
        Op::Lte,
        Op::Gt,
        Op::Gte,
        Op::Between,
        Op::In,
        Op::NotIn,
        Op::Contains,
        Op::StartsWith,
        Op::IsEmpty,
        Op::IsNotEmpty,
        Op::Today,
        Op::LastNDays,
        Op::NextNDays,
        Op::ThisWeek,
        Op::ThisMonth,
        Op::ThisQuarter,
    ];

    /// The operator's name in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::Between => "between",
            Op::In => "in",
            Op::NotIn => "not_in",
            Op::Contains => "contains",
            Op::StartsWith => "starts_with",
            Op::IsEmpty => "is_empty",
            Op::IsNotEmpty => "is_not_empty",
            Op::Today => "today",
            Op::LastNDays => "last_n_days",
            Op::NextNDays => "next_n_days",
            Op::ThisWeek => "this_week",
            Op::ThisMonth => "this_month",
            Op::ThisQuarter => "this_quarter",
        }
    }

    pub fn from_name(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.name() == name)
    }

    /// Operators that are resolved against the [`DateContext`].
    pub fn is_relative_date(self) -> bool {
        matches!(
            self,
            Op::Today
                | Op::LastNDays
                | Op::NextNDays
                | Op::ThisWeek
                | Op::ThisMonth
                | Op::ThisQuarter
        )
    }

    /// Operators written without a `value`.
    pub fn takes_no_value(self) -> bool {
        matches!(
            self,
            Op::IsEmpty
                | Op::IsNotEmpty
                | Op::Today
                | Op::ThisWeek
                | Op::ThisMonth
                | Op::ThisQuarter
        )
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A parsed condition: well-formed and within the limits, but not yet checked against metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    root: Node,
}

/// The shape every condition shares: `all` / `any` / `not` nodes over leaves of one kind. The
/// kernel's leaves are field tests ([`Leaf`]); segments add behaviour and trait tests and read
/// the same shape with [`parse_tree`].
#[derive(Debug, Clone, PartialEq)]
pub enum Tree<L> {
    All(Vec<Tree<L>>),
    Any(Vec<Tree<L>>),
    Not(Box<Tree<L>>),
    Leaf(L),
}

/// One node of a parsed condition.
pub type Node = Tree<Leaf>;

/// A field test as written. `value` is the raw JSON (absent or `null` for operators without one).
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf {
    pub field: String,
    pub op: Op,
    pub value: Option<Json>,
    /// JSON pointer of this leaf in the input, for error messages.
    pub path: String,
}

impl Condition {
    /// Reads the JSON form, checking its shape and the size limits (no metadata needed).
    pub fn parse(json: &Json) -> Result<Condition, CoreError> {
        parse::parse(json)
    }

    pub fn root(&self) -> &Node {
        &self.root
    }

    /// Resolves field names against `object` of `schema`, parses and normalises the values,
    /// checks each operator applies to its field, and resolves relative dates using `dates`.
    pub fn check(
        &self,
        schema: &WorkspaceSchema,
        object: &str,
        dates: &DateContext,
    ) -> Result<CheckedCondition, CoreError> {
        check::check(self, schema, object, dates)
    }
}

/// The moment and the workspace's local UTC offset that relative dates are resolved against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateContext {
    pub now: DateTime<Utc>,
    /// Workspace local time minus UTC, in minutes (+480 for China).
    pub utc_offset_minutes: i32,
}

impl DateContext {
    pub fn new(now: DateTime<Utc>, utc_offset_minutes: i32) -> Self {
        Self {
            now,
            utc_offset_minutes,
        }
    }
}

/// A condition ready to run: fields resolved, values normalised, relative dates resolved to
/// concrete bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedCondition {
    root: CNode,
    relations: Vec<String>,
    objects: Vec<String>,
}

impl CheckedCondition {
    /// Appends a boolean SQL expression (never NULL) selecting the rows of the checked object
    /// whose table is aliased `alias` in the surrounding query. `alias` is a plain identifier
    /// written verbatim (e.g. `t`). `table_of(object_api_name)` names the table of a related
    /// object; the name is passed through [`crate::names::quote`] (so a bare or an already
    /// double-quoted, unqualified name both work). Related rows are read with aliases `rel` /
    /// `je` (renamed if `alias` is one of them).
    pub fn to_sql(&self, b: &mut SqlBuilder, alias: &str, table_of: &dyn Fn(&str) -> String) {
        sql::write_node(&self.root, b, alias, table_of);
    }

    /// Evaluates on a record. `related(relation_field_api_name, target_id)` returns the related
    /// record if it exists and is not deleted (a record returned with `deleted_at` set is
    /// treated as missing too).
    pub fn eval(&self, record: &Record, related: &dyn Fn(&str, &str) -> Option<Record>) -> bool {
        eval::node(&self.root, record, related)
    }

    /// Relation fields of the object that paths go through, in order of first use, without
    /// duplicates (so callers can pre-fetch the related records).
    pub fn relation_fields(&self) -> Vec<String> {
        self.relations.clone()
    }

    /// The other objects whose fields the condition reads through relations (`company` for
    /// `company.annual_revenue`), without duplicates. Whoever runs the condition must be
    /// allowed to read each of them: its answer tells about their records.
    pub fn related_objects(&self) -> &[String] {
        &self.objects
    }
}

/// A checked node.
#[derive(Debug, Clone, PartialEq)]
enum CNode {
    All(Vec<CNode>),
    Any(Vec<CNode>),
    Not(Box<CNode>),
    Leaf(CLeaf),
}

#[derive(Debug, Clone, PartialEq)]
struct CLeaf {
    target: Target,
    test: Test,
}

/// Where a leaf's value comes from.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    /// A column (field or system column) of the record itself.
    Column(String),
    /// `column` of the record of `object` that the record's `relation` field points to.
    Related {
        relation: String,
        object: String,
        column: String,
    },
}

/// A comparable value as it is stored: text (dates as `YYYY-MM-DD`), integer units, boolean,
/// or an instant (microsecond precision).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scalar<'a> {
    Text(Cow<'a, str>),
    Int(i64),
    Bool(bool),
    Ts(DateTime<Utc>),
}

impl Scalar<'_> {
    /// The comparable form of a record value; `None` for NULL (and for lists).
    fn of(value: &Value) -> Option<Scalar<'_>> {
        match value {
            Value::Null | Value::List(_) | Value::Files(_) => None,
            Value::Address { region, .. } => Some(Scalar::Text(Cow::Borrowed(region))),
            Value::Text(t) => Some(Scalar::Text(Cow::Borrowed(t))),
            Value::Integer(i) | Value::Decimal(i) => Some(Scalar::Int(*i)),
            Value::Currency { units, .. } => Some(Scalar::Int(*units)),
            Value::Boolean(b) => Some(Scalar::Bool(*b)),
            Value::Date(d) => Some(Scalar::Text(Cow::Owned(d.format("%Y-%m-%d").to_string()))),
            Value::DateTime(d) => Some(Scalar::Ts(d.trunc_subsecs(6))),
        }
    }

    fn into_owned(self) -> Scalar<'static> {
        match self {
            Scalar::Text(t) => Scalar::Text(Cow::Owned(t.into_owned())),
            Scalar::Int(i) => Scalar::Int(i),
            Scalar::Bool(b) => Scalar::Bool(b),
            Scalar::Ts(t) => Scalar::Ts(t),
        }
    }

    /// Ordering of two values of the same kind; `None` across kinds.
    fn compare(&self, other: &Scalar<'_>) -> Option<Ordering> {
        match (self, other) {
            (Scalar::Text(a), Scalar::Text(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
            (Scalar::Int(a), Scalar::Int(b)) => Some(a.cmp(b)),
            (Scalar::Bool(a), Scalar::Bool(b)) => Some(a.cmp(b)),
            (Scalar::Ts(a), Scalar::Ts(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

/// A leaf's test on its value, with values already normalised.
#[derive(Debug, Clone, PartialEq)]
enum Test {
    Eq(Scalar<'static>),
    Ne(Scalar<'static>),
    Lt(Scalar<'static>),
    Lte(Scalar<'static>),
    Gt(Scalar<'static>),
    Gte(Scalar<'static>),
    /// `lo <= v` and `v <= hi` (or `v < hi` when not inclusive).
    Range {
        lo: Scalar<'static>,
        hi: Scalar<'static>,
        hi_inclusive: bool,
    },
    In(Vec<Scalar<'static>>),
    NotIn(Vec<Scalar<'static>>),
    /// Needle already lowercased (ASCII).
    Contains(String),
    StartsWith(String),
    IsEmpty,
    IsNotEmpty,
    /// Multi-select has at least one of the options.
    HasAny(Vec<String>),
    /// Multi-select has none of the options (true when empty).
    HasNone(Vec<String>),
    ListEmpty,
    ListNotEmpty,
    /// An address lies within one of the regions (its region code starts with one of these).
    InRegions(Vec<String>),
    /// An address lies in none of the regions (true when empty).
    NotInRegions(Vec<String>),
}

/// Appends a segment to a JSON pointer (`~` and `/` escaped; overlong segments cut).
fn child(path: &str, segment: &str) -> String {
    let mut seg: String = segment.chars().take(64).collect();
    if seg.len() < segment.len() {
        seg.push('…');
    }
    let seg = seg.replace('~', "~0").replace('/', "~1");
    if path == "/" {
        format!("/{seg}")
    } else {
        format!("{path}/{seg}")
    }
}

/// A short, printable echo of user input for messages.
fn echo(text: &str) -> String {
    let mut s: String = text.chars().take(60).collect();
    if s.len() < text.len() {
        s.push('…');
    }
    format!("{s:?}")
}
