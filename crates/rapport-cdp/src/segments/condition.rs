//! The segment condition: the kernel's condition tree (`all` / `any` / `not`) whose leaves are
//! kernel field tests on the customer's contact (`contact.<field>`, `contact.<relation>.<field>`),
//! tests of profile traits, or behaviour tests (an event type, property filters, a time window
//! and a count comparison). Parsing checks shape and limits; checking resolves contact fields
//! through the kernel and event types and properties through the schema registry; evaluation
//! runs on the [`Facts`] of one customer.

use super::behavior::{Behavior, CountOp, CountTest, JsonOp, JsonTest, PropertyFilter, Window};
use crate::error::CdpError;
use crate::json_schema::Schema;
use rapport_core::codes::ErrorCode;
use rapport_core::condition::{parse_tree, CheckedCondition, Condition, DateContext, Tree};
use rapport_core::metadata::WorkspaceSchema;
use rapport_core::record::Record;
use rapport_core::CoreError;
use serde_json::{Map, Value as Json};
use std::collections::HashMap;

/// Most behaviour tests in one segment.
pub const MAX_BEHAVIORS: usize = 20;
/// Most property filters in one behaviour test.
pub const MAX_FILTERS: usize = 10;
/// Largest count a behaviour test may compare with.
pub const MAX_COUNT: u32 = 1_000;
/// Shortest and longest sliding window.
pub const MIN_WINDOW_MS: i64 = 60_000;
pub const MAX_WINDOW_MS: i64 = 366 * 86_400_000;

/// A condition ready to evaluate.
#[derive(Debug, Clone)]
pub struct SegmentCondition {
    root: SNode,
    /// The behaviour tests, in order of appearance; leaves point into this list.
    pub behaviors: Vec<Behavior>,
    /// Relation fields of the contact that field tests go through (to prefetch).
    pub contact_relations: Vec<String>,
    pub uses_contact: bool,
    pub uses_traits: bool,
    /// Per behaviour: whether an event leaving its window can make a member leave, and whether
    /// it can make a non-member enter (which decides the timers worth keeping).
    watch: Vec<(bool, bool)>,
}

/// A segment's leaf: a kernel field test on the contact, a trait test, or a behaviour test
/// (an index into `behaviors`).
#[derive(Debug, Clone)]
enum SLeaf {
    Field(Box<CheckedCondition>, Json),
    Trait {
        name: String,
        test: JsonTest,
        json: Json,
    },
    Behavior(usize),
}

type SNode = Tree<SLeaf>;

/// What is known of one customer when a condition is evaluated.
pub struct Facts<'a> {
    pub traits: &'a Map<String, Json>,
    /// The linked contact, or an empty record.
    pub contact: &'a Record,
    pub related: &'a dyn Fn(&str, &str) -> Option<Record>,
    /// Per behaviour test (same order as `behaviors`): matching events in its window, capped
    /// at the counter's depth (exact for every comparison the test can make).
    pub counts: &'a [u32],
}

/// Where a segment condition is checked: the workspace's metadata, its registered event types
/// and the moment relative dates of field tests resolve against.
pub struct CheckContext<'a> {
    pub schema: &'a WorkspaceSchema,
    pub event_types: &'a HashMap<String, Schema>,
    pub dates: DateContext,
}

fn err(path: &str, message: impl Into<String>) -> CdpError {
    CdpError::Condition {
        code: ErrorCode::InvalidCondition,
        path: path.to_string(),
        message: message.into(),
    }
}

fn child(path: &str, seg: &str) -> String {
    if path == "/" {
        format!("/{seg}")
    } else {
        format!("{path}/{seg}")
    }
}

impl SegmentCondition {
    /// Parses and checks a condition. Errors carry a JSON pointer to the offending part.
    pub fn compile(json: &Json, cx: &CheckContext<'_>) -> Result<SegmentCondition, CdpError> {
        if let Some(at) = nul_at(json, "/") {
            return Err(err(&at, "text may not contain the NUL character"));
        }
        let mut compiler = Compiler {
            cx,
            behaviors: Vec::new(),
            relations: Vec::new(),
            uses_contact: false,
            uses_traits: false,
        };
        let root = parse_tree(json, &mut |map, path| compiler.leaf(map, path))?;
        if is_trivially_true(&root) {
            return Err(CdpError::Condition {
                code: ErrorCode::SegmentMatchesEverything,
                path: "/".into(),
                message: "the condition matches every customer; add at least one test".into(),
            });
        }
        let mut condition = SegmentCondition {
            root,
            behaviors: compiler.behaviors,
            contact_relations: compiler.relations,
            uses_contact: compiler.uses_contact,
            uses_traits: compiler.uses_traits,
            watch: Vec::new(),
        };
        // And / or are monotone, so a leaf's effect only depends on the `not`s above it: a
        // count that drops can turn a test false (≥, >) or true (≤, <), and = / ≠ either way.
        let mut watch = vec![(false, false); condition.behaviors.len()];
        for leaf in condition.leaves() {
            if let LeafInfo::Behavior { index, negated } = leaf {
                let op = condition.behaviors[index].count.op;
                let falls = matches!(op, CountOp::Gte | CountOp::Gt | CountOp::Eq | CountOp::Ne);
                let rises = matches!(op, CountOp::Lte | CountOp::Lt | CountOp::Eq | CountOp::Ne);
                watch[index] = if negated {
                    (rises, falls)
                } else {
                    (falls, rises)
                };
            }
        }
        condition.watch = watch;
        Ok(condition)
    }

    /// When a customer's membership may next change by time alone: the earliest expiry (per
    /// behaviour, `expiries`) among the behaviours that can change it from where it is.
    pub fn due(&self, member: bool, expiries: &[Option<i64>]) -> Option<i64> {
        expiries
            .iter()
            .zip(&self.watch)
            .filter(|(_, (leave, enter))| if member { *leave } else { *enter })
            .filter_map(|(e, _)| *e)
            .min()
    }

    pub fn eval(&self, facts: &Facts<'_>) -> bool {
        eval(&self.root, self, facts)
    }

    /// The behaviour test that every member must pass with at least one matching event (a
    /// top-level `all` item, or the root itself), if any: its counters list every candidate.
    pub fn anchor(&self) -> Option<usize> {
        let positive = |n: &SNode| match n {
            Tree::Leaf(SLeaf::Behavior(i)) => {
                self.behaviors[*i].count.requires_events().then_some(*i)
            }
            _ => None,
        };
        match &self.root {
            Tree::All(items) => items.iter().find_map(positive),
            other => positive(other),
        }
    }

    /// Every leaf in order, with whether it sits under an odd number of `not`s (for lineage).
    pub fn leaves(&self) -> Vec<LeafInfo> {
        let mut out = Vec::new();
        collect(&self.root, false, &mut out);
        out
    }
}

/// A leaf as lineage explains it: the leaf as written, and whether it sits under an odd
/// number of `not`s.
#[derive(Debug, Clone)]
pub enum LeafInfo {
    Behavior {
        index: usize,
        negated: bool,
    },
    Trait {
        name: String,
        json: Json,
        negated: bool,
    },
    Field {
        json: Json,
        negated: bool,
    },
}

fn collect(node: &SNode, negated: bool, out: &mut Vec<LeafInfo>) {
    match node {
        Tree::All(items) | Tree::Any(items) => {
            for n in items {
                collect(n, negated, out);
            }
        }
        Tree::Not(inner) => collect(inner, !negated, out),
        Tree::Leaf(SLeaf::Field(_, json)) => out.push(LeafInfo::Field {
            json: json.clone(),
            negated,
        }),
        Tree::Leaf(SLeaf::Trait { name, json, .. }) => out.push(LeafInfo::Trait {
            name: name.clone(),
            json: json.clone(),
            negated,
        }),
        Tree::Leaf(SLeaf::Behavior(index)) => out.push(LeafInfo::Behavior {
            index: *index,
            negated,
        }),
    }
}

/// Where a string (key or value) holds a NUL character, which no backend stores in text.
fn nul_at(json: &Json, path: &str) -> Option<String> {
    match json {
        Json::String(s) if s.contains('\0') => Some(path.to_string()),
        Json::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_at(v, &child(path, &i.to_string()))),
        Json::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                Some(path.to_string())
            } else {
                nul_at(v, &child(path, k))
            }
        }),
        _ => None,
    }
}

fn is_trivially_true(node: &SNode) -> bool {
    match node {
        Tree::All(items) => items.iter().all(is_trivially_true),
        Tree::Any(items) => items.iter().any(is_trivially_true),
        Tree::Not(inner) => is_trivially_false(inner),
        Tree::Leaf(_) => false,
    }
}

fn is_trivially_false(node: &SNode) -> bool {
    match node {
        Tree::All(items) => items.iter().any(is_trivially_false),
        Tree::Any(items) => items.iter().all(is_trivially_false),
        Tree::Not(inner) => is_trivially_true(inner),
        Tree::Leaf(_) => false,
    }
}

fn eval(node: &SNode, c: &SegmentCondition, facts: &Facts<'_>) -> bool {
    match node {
        Tree::All(items) => items.iter().all(|n| eval(n, c, facts)),
        Tree::Any(items) => items.iter().any(|n| eval(n, c, facts)),
        Tree::Not(inner) => !eval(inner, c, facts),
        Tree::Leaf(SLeaf::Field(checked, _)) => checked.eval(facts.contact, facts.related),
        Tree::Leaf(SLeaf::Trait { name, test, .. }) => test.eval(facts.traits.get(name)),
        Tree::Leaf(SLeaf::Behavior(i)) => c.behaviors[*i]
            .count
            .eval(facts.counts.get(*i).copied().unwrap_or(0)),
    }
}

struct Compiler<'a, 'b> {
    cx: &'a CheckContext<'b>,
    behaviors: Vec<Behavior>,
    relations: Vec<String>,
    uses_contact: bool,
    uses_traits: bool,
}

impl Compiler<'_, '_> {
    /// A leaf of the tree: `behavior`, `trait` or `field`.
    fn leaf(&mut self, map: &Map<String, Json>, path: &str) -> Result<SLeaf, CdpError> {
        if let Some(inner) = map.get("behavior") {
            if let Some(other) = map.keys().find(|k| *k != "behavior") {
                return Err(err(
                    &child(path, other),
                    "unknown key: a \"behavior\" node has no other keys",
                ));
            }
            return self.behavior(inner, &child(path, "behavior"));
        }
        if map.contains_key("trait") {
            return self.trait_leaf(map, path);
        }
        if map.contains_key("field") {
            return self.field(map, path);
        }
        Err(err(
            path,
            "expected all, any, not, field, trait or behavior",
        ))
    }

    fn field(&mut self, map: &Map<String, Json>, path: &str) -> Result<SLeaf, CdpError> {
        // A field that is no string reads as "", which the prefix test below refuses.
        let field = map.get("field").and_then(Json::as_str).unwrap_or_default();
        let Some(rest) = field.strip_prefix("contact.") else {
            return Err(err(
                &child(path, "field"),
                "a field test names `contact.<field>` or `contact.<relation>.<field>`",
            ));
        };
        let written = Json::Object(map.clone());
        let mut leaf = map.clone();
        leaf.insert("field".into(), Json::String(rest.to_string()));
        let relocate = |e: CoreError| match e {
            CoreError::InvalidCondition {
                path: inner,
                message,
            } => {
                let at = if inner == "/" {
                    path.to_string()
                } else {
                    format!("{}{inner}", if path == "/" { "" } else { path })
                };
                err(&at, message)
            }
            other => CdpError::Store(other.into()),
        };
        let checked = Condition::parse(&Json::Object(leaf))
            .and_then(|c| c.check(self.cx.schema, "contact", &self.cx.dates))
            .map_err(relocate)?;
        for r in checked.relation_fields() {
            if !self.relations.contains(&r) {
                self.relations.push(r);
            }
        }
        self.uses_contact = true;
        Ok(SLeaf::Field(Box::new(checked), written))
    }

    fn trait_leaf(&mut self, map: &Map<String, Json>, path: &str) -> Result<SLeaf, CdpError> {
        if let Some(unknown) = map
            .keys()
            .find(|k| !matches!(k.as_str(), "trait" | "op" | "value"))
        {
            return Err(err(
                &child(path, unknown),
                "unknown key: a trait test has only trait, op and value",
            ));
        }
        let name = match map.get("trait") {
            Some(Json::String(n)) if !n.trim().is_empty() && n.chars().count() <= 100 => n.clone(),
            _ => {
                return Err(err(
                    &child(path, "trait"),
                    "expected a trait name (1 to 100 characters)",
                ))
            }
        };
        let test = JsonTest::parse(map, path, false)?;
        self.uses_traits = true;
        Ok(SLeaf::Trait {
            name,
            test,
            json: Json::Object(map.clone()),
        })
    }

    fn behavior(&mut self, json: &Json, path: &str) -> Result<SLeaf, CdpError> {
        let Json::Object(map) = json else {
            return Err(err(
                path,
                "expected {\"event\", \"where\"?, \"window\", \"count\"}",
            ));
        };
        if let Some(unknown) = map
            .keys()
            .find(|k| !matches!(k.as_str(), "event" | "where" | "window" | "count"))
        {
            return Err(err(
                &child(path, unknown),
                "unknown key: a behaviour has event, where, window and count",
            ));
        }
        if self.behaviors.len() >= MAX_BEHAVIORS {
            return Err(err(
                path,
                format!("a segment has at most {MAX_BEHAVIORS} behaviour tests"),
            ));
        }
        let event_path = child(path, "event");
        let event = match map.get("event") {
            Some(Json::String(e)) if !e.is_empty() => e.clone(),
            _ => return Err(err(&event_path, "expected an event type name")),
        };
        let schema = match self.cx.event_types.get(&event) {
            Some(s) => Some(s),
            None if crate::registry::BUILT_IN.contains(&event.as_str()) => None,
            None => {
                return Err(CdpError::Condition {
                    code: ErrorCode::UnknownEventType,
                    path: event_path,
                    message: format!("the event type {event:?} is not registered"),
                })
            }
        };
        let filters = self.filters(map.get("where"), &child(path, "where"), schema)?;
        let window = Window::parse(map.get("window"), &child(path, "window"), &self.cx.dates)?;
        let count = CountTest::parse(map.get("count"), &child(path, "count"))?;
        let mut behavior = Behavior::new(event, filters, window, count);
        behavior.json = json.clone();
        self.behaviors.push(behavior);
        Ok(SLeaf::Behavior(self.behaviors.len() - 1))
    }

    fn filters(
        &self,
        json: Option<&Json>,
        path: &str,
        schema: Option<&Schema>,
    ) -> Result<Vec<PropertyFilter>, CdpError> {
        let items = match json {
            None | Some(Json::Null) => return Ok(Vec::new()),
            Some(Json::Array(items)) => items,
            Some(_) => return Err(err(path, "expected a list of property filters")),
        };
        if items.len() > MAX_FILTERS {
            return Err(err(
                path,
                format!("a behaviour has at most {MAX_FILTERS} property filters"),
            ));
        }
        let declared = schema.map(Schema::declared_properties);
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let at = child(path, &i.to_string());
            let Json::Object(map) = item else {
                return Err(err(&at, "expected {\"property\", \"op\", \"value\"}"));
            };
            if let Some(unknown) = map
                .keys()
                .find(|k| !matches!(k.as_str(), "property" | "op" | "value"))
            {
                return Err(err(
                    &child(&at, unknown),
                    "unknown key: a property filter has property, op and value",
                ));
            }
            let property = match map.get("property") {
                Some(Json::String(p))
                    if !p.is_empty() && p.len() <= 200 && p.split('.').all(|s| !s.is_empty()) =>
                {
                    p.clone()
                }
                _ => {
                    return Err(err(
                        &child(&at, "property"),
                        "expected a property path such as `series` or `product.series`",
                    ))
                }
            };
            // `split` yields at least one part; the default is never used.
            let top = property.split('.').next().unwrap_or_default();
            if let Some(declared) = &declared {
                if !declared.is_empty() && !declared.iter().any(|d| d == top) {
                    return Err(CdpError::Condition {
                        code: ErrorCode::UnknownProperty,
                        path: child(&at, "property"),
                        message: format!(
                            "the event type does not declare the property {top:?}; declared: {}",
                            declared.join(", ")
                        ),
                    });
                }
            }
            out.push(PropertyFilter {
                property,
                test: JsonTest::parse(map, &at, true)?,
            });
        }
        Ok(out)
    }
}

impl JsonTest {
    /// Reads `op` and `value` of a trait test or a property filter (`exists` / `not_exists`
    /// only for properties).
    fn parse(map: &Map<String, Json>, path: &str, property: bool) -> Result<JsonTest, CdpError> {
        let op_path = child(path, "op");
        let op = map
            .get("op")
            .and_then(Json::as_str)
            .and_then(JsonOp::from_name)
            .filter(|op| property || !matches!(op, JsonOp::Exists | JsonOp::NotExists))
            .ok_or_else(|| {
                err(
                    &op_path,
                    if property {
                        "expected one of eq ne in not_in contains gt gte lt lte exists not_exists"
                    } else {
                        "expected one of eq ne in not_in contains gt gte lt lte is_empty is_not_empty"
                    },
                )
            })?;
        let value_path = child(path, "value");
        let value = map.get("value").cloned().unwrap_or(Json::Null);
        let scalar_ok = |v: &Json| match v {
            Json::String(s) => !s.is_empty() && s.chars().count() <= 1000,
            Json::Number(_) | Json::Bool(_) => true,
            _ => false,
        };
        match op {
            JsonOp::Exists | JsonOp::NotExists | JsonOp::IsEmpty | JsonOp::IsNotEmpty => {
                if !value.is_null() {
                    return Err(err(&value_path, "this operator takes no value"));
                }
            }
            JsonOp::In | JsonOp::NotIn => match &value {
                Json::Array(items)
                    if !items.is_empty() && items.len() <= 1000 && items.iter().all(scalar_ok) => {}
                _ => {
                    return Err(err(
                        &value_path,
                        "expected a list of 1 to 1000 strings, numbers or booleans",
                    ))
                }
            },
            JsonOp::Contains => {
                if !matches!(&value, Json::String(s) if !s.trim().is_empty() && s.chars().count() <= 1000)
                {
                    return Err(err(&value_path, "expected a non-empty string"));
                }
            }
            _ => {
                if !scalar_ok(&value) {
                    return Err(err(&value_path, "expected a string, a number or a boolean"));
                }
            }
        }
        Ok(JsonTest { op, value })
    }
}

impl Window {
    fn parse(json: Option<&Json>, path: &str, dates: &DateContext) -> Result<Window, CdpError> {
        let Some(Json::Object(map)) = json else {
            return Err(err(
                path,
                "expected {\"last\": N, \"unit\": \"minutes\"|\"hours\"|\"days\"} or {\"from\", \"to\"}",
            ));
        };
        if map.contains_key("last") {
            if let Some(unknown) = map.keys().find(|k| !matches!(k.as_str(), "last" | "unit")) {
                return Err(err(&child(path, unknown), "unknown key"));
            }
            let unit_ms: i64 = match map.get("unit").and_then(Json::as_str) {
                Some("minutes") => 60_000,
                Some("hours") => 3_600_000,
                Some("days") => 86_400_000,
                _ => return Err(err(&child(path, "unit"), "expected minutes, hours or days")),
            };
            let n = map.get("last").and_then(Json::as_i64).unwrap_or(0);
            let ms = n.saturating_mul(unit_ms);
            if n <= 0 || !(MIN_WINDOW_MS..=MAX_WINDOW_MS).contains(&ms) {
                return Err(CdpError::Condition {
                    code: ErrorCode::InvalidWindow,
                    path: child(path, "last"),
                    message: "a window lasts from 1 minute to 366 days".into(),
                });
            }
            return Ok(Window::Last { ms });
        }
        if let Some(unknown) = map.keys().find(|k| !matches!(k.as_str(), "from" | "to")) {
            return Err(err(&child(path, unknown), "unknown key"));
        }
        let instant = |key: &str| -> Result<i64, CdpError> {
            let at = child(path, key);
            let text = map
                .get(key)
                .and_then(Json::as_str)
                .ok_or_else(|| err(&at, "expected a date (YYYY-MM-DD) or an RFC 3339 time"))?;
            parse_instant(text, dates.utc_offset_minutes)
                .ok_or_else(|| err(&at, "expected a date (YYYY-MM-DD) or an RFC 3339 time"))
        };
        let from = instant("from")?;
        let to = instant("to")?;
        if to <= from {
            return Err(CdpError::Condition {
                code: ErrorCode::InvalidWindow,
                path: child(path, "to"),
                message: "the window ends after it starts".into(),
            });
        }
        Ok(Window::Between { from, to })
    }
}

/// `YYYY-MM-DD` (midnight in the workspace's offset) or RFC 3339, as epoch milliseconds.
fn parse_instant(text: &str, offset_minutes: i32) -> Option<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp_millis());
    }
    // Neither form: `None`, which the caller reports with the window's path.
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    let midnight = date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis();
    Some(midnight - i64::from(offset_minutes) * 60_000)
}

impl CountTest {
    fn parse(json: Option<&Json>, path: &str) -> Result<CountTest, CdpError> {
        let Some(Json::Object(map)) = json else {
            return Err(err(
                path,
                "expected {\"op\": \"gte\"|\"gt\"|\"lte\"|\"lt\"|\"eq\"|\"ne\", \"value\": N}",
            ));
        };
        if let Some(unknown) = map.keys().find(|k| !matches!(k.as_str(), "op" | "value")) {
            return Err(err(&child(path, unknown), "unknown key"));
        }
        let op = map
            .get("op")
            .and_then(Json::as_str)
            .and_then(CountOp::from_name)
            .ok_or_else(|| err(&child(path, "op"), "expected gte, gt, lte, lt, eq or ne"))?;
        let value = map
            .get("value")
            .and_then(Json::as_u64)
            .filter(|v| *v <= u64::from(MAX_COUNT))
            .ok_or_else(|| CdpError::Condition {
                code: ErrorCode::InvalidCount,
                path: child(path, "value"),
                message: format!("a count is a whole number from 0 to {MAX_COUNT}"),
            })?;
        let value = u32::try_from(value).unwrap_or(MAX_COUNT);
        if value == 0 && matches!(op, CountOp::Lt | CountOp::Gte) {
            return Err(CdpError::Condition {
                code: ErrorCode::InvalidCount,
                path: child(path, "value"),
                message: "this comparison with 0 is always false or always true".into(),
            });
        }
        Ok(CountTest { op, value })
    }
}
