//! Evaluation of a [`CheckedCondition`](super::CheckedCondition) on a record, mirroring the SQL.

use super::{CLeaf, CNode, Scalar, Target, Test};
use crate::record::Record;
use crate::value::Value;
use std::cmp::Ordering;

pub(super) fn node(
    node: &CNode,
    record: &Record,
    related: &dyn Fn(&str, &str) -> Option<Record>,
) -> bool {
    match node {
        CNode::All(items) => items.iter().all(|n| self::node(n, record, related)),
        CNode::Any(items) => items.iter().any(|n| self::node(n, record, related)),
        CNode::Not(inner) => !self::node(inner, record, related),
        CNode::Leaf(leaf) => self::leaf(leaf, record, related),
    }
}

fn value_of(
    target: &Target,
    record: &Record,
    related: &dyn Fn(&str, &str) -> Option<Record>,
) -> Value {
    match target {
        Target::Column(column) => record.get(column),
        Target::Related {
            relation, column, ..
        } => match record.get(relation) {
            Value::Text(id) => related(relation, &id)
                .filter(|r| r.deleted_at.is_none())
                .map_or(Value::Null, |r| r.get(column)),
            _ => Value::Null,
        },
    }
}

fn leaf(leaf: &CLeaf, record: &Record, related: &dyn Fn(&str, &str) -> Option<Record>) -> bool {
    let value = value_of(&leaf.target, record, related);
    test(&leaf.test, &value)
}

/// How many items a list-like value holds.
fn item_count(value: &Value) -> usize {
    match value {
        Value::List(items) => items.len(),
        Value::Files(files) => files.len(),
        _ => 0,
    }
}

fn has_any(value: &Value, options: &[String]) -> bool {
    match value {
        Value::List(items) => items.iter().any(|i| options.contains(i)),
        _ => false,
    }
}

fn in_regions(value: &Value, regions: &[String]) -> bool {
    match value {
        Value::Address { region, .. } => regions.iter().any(|r| region.starts_with(r.as_str())),
        _ => false,
    }
}

fn ordered(value: &Value, other: &Scalar<'_>, accept: fn(Ordering) -> bool) -> bool {
    Scalar::of(value)
        .and_then(|v| v.compare(other))
        .is_some_and(accept)
}

fn equals(value: &Value, other: &Scalar<'_>) -> bool {
    ordered(value, other, Ordering::is_eq)
}

fn text_lower(value: &Value) -> Option<String> {
    match value {
        Value::Text(t) => Some(t.to_ascii_lowercase()),
        _ => None,
    }
}

fn test(test: &Test, value: &Value) -> bool {
    match test {
        Test::Eq(v) => equals(value, v),
        Test::Ne(v) => !equals(value, v),
        Test::Lt(v) => ordered(value, v, Ordering::is_lt),
        Test::Lte(v) => ordered(value, v, Ordering::is_le),
        Test::Gt(v) => ordered(value, v, Ordering::is_gt),
        Test::Gte(v) => ordered(value, v, Ordering::is_ge),
        Test::Range {
            lo,
            hi,
            hi_inclusive,
        } => {
            ordered(value, lo, Ordering::is_ge)
                && if *hi_inclusive {
                    ordered(value, hi, Ordering::is_le)
                } else {
                    ordered(value, hi, Ordering::is_lt)
                }
        }
        Test::In(values) => values.iter().any(|v| equals(value, v)),
        Test::NotIn(values) => !values.iter().any(|v| equals(value, v)),
        Test::Contains(needle) => text_lower(value).is_some_and(|t| t.contains(needle.as_str())),
        Test::StartsWith(needle) => {
            text_lower(value).is_some_and(|t| t.starts_with(needle.as_str()))
        }
        Test::IsEmpty => value.is_null(),
        Test::IsNotEmpty => !value.is_null(),
        Test::HasAny(options) => has_any(value, options),
        Test::HasNone(options) => !has_any(value, options),
        Test::ListEmpty => item_count(value) == 0,
        Test::ListNotEmpty => item_count(value) > 0,
        Test::InRegions(regions) => in_regions(value, regions),
        Test::NotInRegions(regions) => !in_regions(value, regions),
    }
}
