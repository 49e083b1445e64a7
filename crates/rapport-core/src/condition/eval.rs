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

fn items(value: &Value) -> &[String] {
    match value {
        Value::MultiSelect(items) => items,
        _ => &[],
    }
}

fn has_any(value: &Value, options: &[String]) -> bool {
    items(value).iter().any(|i| options.contains(i))
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
        Test::ListEmpty => items(value).is_empty(),
        Test::ListNotEmpty => !items(value).is_empty(),
    }
}
