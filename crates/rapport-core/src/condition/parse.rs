//! JSON → [`Condition`]: shape, operators, value shapes and the size limits.

use super::{
    child, echo, Condition, Leaf, Op, Tree, MAX_DEPTH, MAX_FIELD_NAME_LEN, MAX_LIST_ITEMS,
    MAX_NODES, MAX_RELATIVE_DAYS, MAX_STRING_CHARS, MAX_TOTAL_VALUES,
};
use crate::CoreError;
use serde_json::{Map, Value as Json};

/// How deep a single value may nest (a currency object in a list is depth 2).
const MAX_VALUE_DEPTH: usize = 3;

pub(super) fn parse(json: &Json) -> Result<Condition, CoreError> {
    let mut parser = Parser { values: 0 };
    let root = parse_tree(json, &mut |map, path| parser.leaf(map, path))?;
    Ok(Condition { root })
}

/// Reads one leaf object (with its JSON pointer) into a leaf of the tree.
pub type LeafReader<'f, L, E> = dyn FnMut(&Map<String, Json>, &str) -> Result<L, E> + 'f;

/// Reads the `all` / `any` / `not` shape within [`MAX_DEPTH`] and [`MAX_NODES`]; every other
/// object is a leaf, read by `leaf` with its JSON pointer.
pub fn parse_tree<L, E: From<CoreError>>(
    json: &Json,
    leaf: &mut LeafReader<'_, L, E>,
) -> Result<Tree<L>, E> {
    let mut walker = Walker { nodes: 0, leaf };
    walker.node(json, "/", 1)
}

struct Walker<'f, L, E> {
    nodes: usize,
    leaf: &'f mut LeafReader<'f, L, E>,
}

impl<L, E: From<CoreError>> Walker<'_, L, E> {
    fn node(&mut self, json: &Json, path: &str, depth: usize) -> Result<Tree<L>, E> {
        if depth > MAX_DEPTH {
            return Err(err(
                path,
                format!("conditions nest at most {MAX_DEPTH} levels deep"),
            )
            .into());
        }
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(err(path, format!("a condition has at most {MAX_NODES} nodes")).into());
        }
        let Json::Object(map) = json else {
            return Err(err(
                path,
                "expected an object: {\"all\": [..]}, {\"any\": [..]}, {\"not\": ..} or a test",
            )
            .into());
        };
        let mut combinators = map
            .keys()
            .filter(|k| matches!(k.as_str(), "all" | "any" | "not"));
        let Some(kind) = combinators.next() else {
            return (self.leaf)(map, path).map(Tree::Leaf);
        };
        if let Some(other) = map.keys().find(|k| *k != kind) {
            return Err(err(
                &child(path, other),
                format!("unknown key: a {kind:?} node has no other keys"),
            )
            .into());
        }
        let inner_path = child(path, kind);
        let Some(inner) = map.get(kind.as_str()) else {
            return Err(err(&inner_path, "missing").into());
        };
        match kind.as_str() {
            "not" => Ok(Tree::Not(Box::new(self.node(
                inner,
                &inner_path,
                depth + 1,
            )?))),
            _ => {
                let Json::Array(items) = inner else {
                    return Err(err(&inner_path, "expected a list of conditions").into());
                };
                if items.len() > MAX_NODES {
                    return Err(err(
                        &inner_path,
                        format!("a condition has at most {MAX_NODES} nodes"),
                    )
                    .into());
                }
                let mut nodes = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    nodes.push(self.node(item, &child(&inner_path, &i.to_string()), depth + 1)?);
                }
                Ok(if kind == "all" {
                    Tree::All(nodes)
                } else {
                    Tree::Any(nodes)
                })
            }
        }
    }
}

struct Parser {
    values: usize,
}

fn err(path: &str, message: impl Into<String>) -> CoreError {
    CoreError::condition(path, message)
}

impl Parser {
    fn leaf(&mut self, map: &Map<String, Json>, path: &str) -> Result<Leaf, CoreError> {
        if map.is_empty() {
            return Err(err(
                path,
                "empty node: expected all, any, not, or field and op",
            ));
        }
        if let Some(unknown) = map
            .keys()
            .find(|k| !matches!(k.as_str(), "field" | "op" | "value"))
        {
            return Err(err(
                &child(path, unknown),
                "unknown key: a leaf has only field, op and value",
            ));
        }
        let field_path = child(path, "field");
        let field = match map.get("field") {
            None => return Err(err(&field_path, "missing: a leaf names a field")),
            Some(Json::String(f)) if f.is_empty() => {
                return Err(err(&field_path, "the field name is empty"))
            }
            Some(Json::String(f)) if f.len() > MAX_FIELD_NAME_LEN => {
                return Err(err(
                    &field_path,
                    format!("field names are at most {MAX_FIELD_NAME_LEN} characters"),
                ))
            }
            Some(Json::String(f)) => f.clone(),
            Some(_) => return Err(err(&field_path, "expected a field name (a string)")),
        };
        let op_path = child(path, "op");
        let op = match map.get("op") {
            None => return Err(err(&op_path, "missing: a leaf has an operator")),
            Some(Json::String(name)) => Op::from_name(name).ok_or_else(|| {
                err(
                    &op_path,
                    format!(
                        "unknown operator {}; expected one of {}",
                        echo(name),
                        Op::ALL.map(Op::name).join(", ")
                    ),
                )
            })?,
            Some(_) => return Err(err(&op_path, "expected an operator name (a string)")),
        };
        let value_path = child(path, "value");
        let value = map.get("value").filter(|v| !v.is_null());
        match (op, value) {
            (op, Some(_)) if op.takes_no_value() => {
                return Err(err(&value_path, format!("operator {op} takes no value")));
            }
            (op, None) if op.takes_no_value() => {}
            (op, None) => {
                return Err(err(&value_path, format!("operator {op} needs a value")));
            }
            (Op::LastNDays | Op::NextNDays, Some(v)) => {
                if !v
                    .as_u64()
                    .is_some_and(|n| (1..=MAX_RELATIVE_DAYS).contains(&n))
                {
                    return Err(err(
                        &value_path,
                        format!(
                            "operator {op} takes a whole number of days from 1 to {MAX_RELATIVE_DAYS}"
                        ),
                    ));
                }
                self.count_values(1, &value_path)?;
            }
            (Op::Between, Some(v)) => {
                let items = match v {
                    Json::Array(items) if items.len() == 2 => items,
                    _ => {
                        return Err(err(
                            &value_path,
                            "between takes a list of two values [low, high]",
                        ))
                    }
                };
                self.items(items, &value_path)?;
            }
            (Op::In | Op::NotIn, Some(v)) => {
                let items = match v {
                    Json::Array(items) if (1..=MAX_LIST_ITEMS).contains(&items.len()) => items,
                    _ => {
                        return Err(err(
                            &value_path,
                            format!("operator {op} takes a list of 1 to {MAX_LIST_ITEMS} values"),
                        ))
                    }
                };
                self.items(items, &value_path)?;
            }
            (_, Some(v)) => {
                check_value(v, &value_path, 1)?;
                self.count_values(1, &value_path)?;
            }
        }
        Ok(Leaf {
            field,
            op,
            value: value.cloned(),
            path: path.to_string(),
        })
    }

    /// The items of a `between` / `in` list: none may be null.
    fn items(&mut self, items: &[Json], path: &str) -> Result<(), CoreError> {
        self.count_values(items.len(), path)?;
        for (i, item) in items.iter().enumerate() {
            let item_path = child(path, &i.to_string());
            if item.is_null() {
                return Err(err(
                    &item_path,
                    "null matches nothing here; use is_empty or is_not_empty",
                ));
            }
            check_value(item, &item_path, 2)?;
        }
        Ok(())
    }

    fn count_values(&mut self, n: usize, path: &str) -> Result<(), CoreError> {
        self.values += n;
        if self.values > MAX_TOTAL_VALUES {
            return Err(err(
                path,
                format!("a condition has at most {MAX_TOTAL_VALUES} values in all"),
            ));
        }
        Ok(())
    }
}

/// Size limits inside one value: string lengths, list lengths, nesting.
fn check_value(value: &Json, path: &str, depth: usize) -> Result<(), CoreError> {
    match value {
        Json::String(s) => {
            if s.len() > MAX_STRING_CHARS && s.chars().count() > MAX_STRING_CHARS {
                return Err(err(
                    path,
                    format!("strings in values are at most {MAX_STRING_CHARS} characters"),
                ));
            }
        }
        Json::Array(items) => {
            if depth >= MAX_VALUE_DEPTH {
                return Err(err(path, "value is nested too deeply"));
            }
            if items.len() > MAX_LIST_ITEMS {
                return Err(err(
                    path,
                    format!("lists in values have at most {MAX_LIST_ITEMS} items"),
                ));
            }
            for (i, item) in items.iter().enumerate() {
                check_value(item, &child(path, &i.to_string()), depth + 1)?;
            }
        }
        Json::Object(map) => {
            if depth >= MAX_VALUE_DEPTH {
                return Err(err(path, "value is nested too deeply"));
            }
            if map.len() > 2 {
                return Err(err(path, "unexpected object value"));
            }
            for (k, v) in map {
                check_value(v, &child(path, k), depth + 1)?;
            }
        }
        Json::Null | Json::Bool(_) | Json::Number(_) => {}
    }
    Ok(())
}
