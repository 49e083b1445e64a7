//! [`Condition`] → [`CheckedCondition`]: field names against metadata, operators against field
//! types, values through `parse_input`, relative dates to bounds.

use super::dates::{instant_range, local_range};
use super::{
    child, echo, CLeaf, CNode, CheckedCondition, Condition, DateContext, Leaf, Node, Op, Scalar,
    Target, Test, MAX_STRING_CHARS,
};
use crate::metadata::{FieldConfig, FieldDef, FieldType, ObjectDef, WorkspaceSchema};
use crate::record::system_fields;
use crate::value::{parse_input, Value};
use crate::CoreError;
use serde_json::Value as Json;

pub(super) fn check(
    condition: &Condition,
    schema: &WorkspaceSchema,
    object: &str,
    dates: &DateContext,
) -> Result<CheckedCondition, CoreError> {
    let obj = schema
        .active_object(object)
        .ok_or_else(|| CoreError::condition("/", format!("unknown object {}", echo(object))))?;
    let mut checker = Checker {
        schema,
        obj,
        system: system_fields(),
        dates,
        relations: Vec::new(),
        objects: Vec::new(),
    };
    let root = checker.node(&condition.root)?;
    Ok(CheckedCondition {
        root,
        relations: checker.relations,
        objects: checker.objects,
    })
}

/// What a field's values are like, for the purpose of conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Text,
    Choice,
    Number,
    Boolean,
    Date,
    Datetime,
    Multi,
    /// An address: empty or not, or within regions.
    Region,
    /// Attachments: empty or not.
    Files,
}

impl Class {
    fn of(field: &FieldDef) -> Class {
        match field.value_type() {
            FieldType::Text
            | FieldType::LongText
            | FieldType::Email
            | FieldType::Phone
            | FieldType::Url => Class::Text,
            FieldType::Select | FieldType::Relation | FieldType::User => Class::Choice,
            FieldType::Integer
            | FieldType::Decimal
            | FieldType::Percent
            | FieldType::Currency
            | FieldType::Formula => Class::Number,
            FieldType::Boolean => Class::Boolean,
            FieldType::Date => Class::Date,
            FieldType::Datetime => Class::Datetime,
            FieldType::MultiSelect | FieldType::MultiUser => Class::Multi,
            FieldType::Address => Class::Region,
            FieldType::Attachment => Class::Files,
            FieldType::AutoNumber => Class::Text,
        }
    }

    fn allows(self, op: Op) -> bool {
        use Op::*;
        let empty = matches!(op, IsEmpty | IsNotEmpty);
        let equality = matches!(op, Eq | Ne);
        let order = matches!(op, Lt | Lte | Gt | Gte | Between);
        let list = matches!(op, In | NotIn);
        empty
            || match self {
                Class::Text => equality || order || list || matches!(op, Contains | StartsWith),
                Class::Choice => equality || list,
                Class::Number => equality || order || list,
                Class::Boolean => equality,
                Class::Date | Class::Datetime => equality || order || list || op.is_relative_date(),
                Class::Multi => list || op == Contains,
                Class::Region => list,
                Class::Files => false,
            }
    }

    fn describe(self) -> &'static str {
        match self {
            Class::Text => "a text",
            Class::Choice => "a select, relation or user",
            Class::Number => "a number",
            Class::Boolean => "a boolean",
            Class::Date => "a date",
            Class::Datetime => "a date-time",
            Class::Multi => "a multi-select or multi-user",
            Class::Region => "an address",
            Class::Files => "an attachment",
        }
    }
}

/// The field as condition values are read: its storage type, its options, scale, currency and
/// phone region, but none of its length, pattern or range rules.
fn relaxed(field: &FieldDef) -> FieldDef {
    let c = &field.config;
    FieldDef {
        api_name: field.api_name.clone(),
        label: field.label.clone(),
        field_type: field.value_type(),
        required: false,
        unique: false,
        config: FieldConfig {
            max_length: Some(MAX_STRING_CHARS as u32),
            scale: c.scale,
            default_currency: c.default_currency.clone(),
            options: c.options.clone(),
            default_region: c.default_region.clone(),
            ..Default::default()
        },
        is_standard: field.is_standard,
        archived_at: None,
    }
}

/// A plain text field for `contains` / `starts_with` needles.
fn needle_field(field: &FieldDef) -> FieldDef {
    FieldDef {
        api_name: field.api_name.clone(),
        label: field.label.clone(),
        field_type: FieldType::Text,
        required: false,
        unique: false,
        config: FieldConfig {
            max_length: Some(MAX_STRING_CHARS as u32),
            ..Default::default()
        },
        is_standard: false,
        archived_at: None,
    }
}

fn err(path: &str, message: impl Into<String>) -> CoreError {
    CoreError::condition(path, message)
}

struct Checker<'a> {
    schema: &'a WorkspaceSchema,
    obj: &'a ObjectDef,
    system: Vec<FieldDef>,
    dates: &'a DateContext,
    relations: Vec<String>,
    objects: Vec<String>,
}

impl Checker<'_> {
    fn node(&mut self, node: &Node) -> Result<CNode, CoreError> {
        Ok(match node {
            Node::All(items) => CNode::All(
                items
                    .iter()
                    .map(|n| self.node(n))
                    .collect::<Result<_, _>>()?,
            ),
            Node::Any(items) => CNode::Any(
                items
                    .iter()
                    .map(|n| self.node(n))
                    .collect::<Result<_, _>>()?,
            ),
            Node::Not(inner) => CNode::Not(Box::new(self.node(inner)?)),
            Node::Leaf(leaf) => CNode::Leaf(self.leaf(leaf)?),
        })
    }

    /// An active field or a system column of `obj`.
    fn lookup(&self, obj: &ObjectDef, name: &str) -> Option<FieldDef> {
        obj.active_field(name)
            .or_else(|| self.system.iter().find(|f| f.api_name == name))
            .cloned()
    }

    fn resolve(&mut self, leaf: &Leaf) -> Result<(Target, FieldDef), CoreError> {
        let path = child(&leaf.path, "field");
        let name = leaf.field.as_str();
        let Some((relation, column)) = name.split_once('.') else {
            let field = self.lookup(self.obj, name).ok_or_else(|| {
                err(
                    &path,
                    format!(
                        "unknown field {} of object {}",
                        echo(name),
                        self.obj.api_name
                    ),
                )
            })?;
            return Ok((Target::Column(field.api_name.clone()), field));
        };
        if column.contains('.') {
            return Err(err(
                &path,
                "a field path goes through at most one relation (relation.field)",
            ));
        }
        let rel = match self.obj.active_field(relation) {
            Some(f) if f.field_type == FieldType::Relation => f,
            Some(_) => {
                return Err(err(
                    &path,
                    format!("{} is not a relation field", echo(relation)),
                ))
            }
            None => {
                return Err(err(
                    &path,
                    format!(
                        "unknown field {} of object {}",
                        echo(relation),
                        self.obj.api_name
                    ),
                ))
            }
        };
        let target = rel
            .config
            .target
            .as_deref()
            .and_then(|t| self.schema.active_object(t))
            .ok_or_else(|| {
                err(
                    &path,
                    format!(
                        "relation {} points to an object that does not exist or is archived",
                        rel.api_name
                    ),
                )
            })?;
        let field = self.lookup(target, column).ok_or_else(|| {
            err(
                &path,
                format!(
                    "unknown field {} of object {}",
                    echo(column),
                    target.api_name
                ),
            )
        })?;
        let relation = rel.api_name.clone();
        if !self.relations.contains(&relation) {
            self.relations.push(relation.clone());
        }
        if !self.objects.contains(&target.api_name) {
            self.objects.push(target.api_name.clone());
        }
        Ok((
            Target::Related {
                relation,
                object: target.api_name.clone(),
                column: field.api_name.clone(),
            },
            field,
        ))
    }

    fn leaf(&mut self, leaf: &Leaf) -> Result<CLeaf, CoreError> {
        let (target, field) = self.resolve(leaf)?;
        let class = Class::of(&field);
        let op = leaf.op;
        if !class.allows(op) {
            let allowed: Vec<&str> = Op::ALL
                .into_iter()
                .filter(|o| class.allows(*o))
                .map(Op::name)
                .collect();
            return Err(err(
                &child(&leaf.path, "op"),
                format!(
                    "operator {op} does not apply to {} field ({}); use one of {}",
                    class.describe(),
                    leaf.field,
                    allowed.join(", ")
                ),
            ));
        }
        let path = child(&leaf.path, "value");
        let value = leaf.value.as_ref().filter(|v| !v.is_null());
        let test = match class {
            Class::Multi | Class::Files => multi_test(&field, op, value, &path)?,
            Class::Region => region_test(op, value, &path)?,
            _ => self.scalar_test(&field, class, op, value, &path)?,
        };
        Ok(CLeaf { target, test })
    }

    fn scalar_test(
        &self,
        field: &FieldDef,
        class: Class,
        op: Op,
        value: Option<&Json>,
        path: &str,
    ) -> Result<Test, CoreError> {
        let relaxed = relaxed(field);
        let one = || scalar(&relaxed, required(value, path)?, path);
        Ok(match op {
            Op::Eq => Test::Eq(one()?),
            Op::Ne => Test::Ne(one()?),
            Op::Lt => Test::Lt(one()?),
            Op::Lte => Test::Lte(one()?),
            Op::Gt => Test::Gt(one()?),
            Op::Gte => Test::Gte(one()?),
            Op::Between => {
                let items = list(value, path)?;
                let (Some(lo), Some(hi), 2) = (items.first(), items.get(1), items.len()) else {
                    return Err(err(path, "between takes a list of two values [low, high]"));
                };
                Test::Range {
                    lo: scalar(&relaxed, lo, &child(path, "0"))?,
                    hi: scalar(&relaxed, hi, &child(path, "1"))?,
                    hi_inclusive: true,
                }
            }
            Op::In | Op::NotIn => {
                let items = list(value, path)?
                    .iter()
                    .enumerate()
                    .map(|(i, item)| scalar(&relaxed, item, &child(path, &i.to_string())))
                    .collect::<Result<Vec<_>, _>>()?;
                if op == Op::In {
                    Test::In(items)
                } else {
                    Test::NotIn(items)
                }
            }
            Op::Contains | Op::StartsWith => {
                let needle = match parse_input(&needle_field(field), required(value, path)?) {
                    Ok(Value::Text(t)) => t.to_ascii_lowercase(),
                    Ok(_) => {
                        return Err(err(path, format!("operator {op} needs a non-empty string")))
                    }
                    Err(e) => return Err(err(path, e.message)),
                };
                if op == Op::Contains {
                    Test::Contains(needle)
                } else {
                    Test::StartsWith(needle)
                }
            }
            Op::IsEmpty => Test::IsEmpty,
            Op::IsNotEmpty => Test::IsNotEmpty,
            Op::Today
            | Op::LastNDays
            | Op::NextNDays
            | Op::ThisWeek
            | Op::ThisMonth
            | Op::ThisQuarter => self.relative(class, op, value, path)?,
        })
    }

    fn relative(
        &self,
        class: Class,
        op: Op,
        value: Option<&Json>,
        path: &str,
    ) -> Result<Test, CoreError> {
        let n = match op {
            Op::LastNDays | Op::NextNDays => required(value, path)?
                .as_u64()
                .ok_or_else(|| err(path, format!("operator {op} takes a whole number of days")))?,
            _ => 0,
        };
        let out_of_range = || err(path, "the date range is out of range");
        let (first, last) = local_range(op, n, self.dates).ok_or_else(out_of_range)?;
        if class == Class::Datetime {
            let (start, end) = instant_range(first, last, self.dates).ok_or_else(out_of_range)?;
            Ok(Test::Range {
                lo: Scalar::Ts(start),
                hi: Scalar::Ts(end),
                hi_inclusive: false,
            })
        } else {
            let day = |d: chrono::NaiveDate| Scalar::Text(d.format("%Y-%m-%d").to_string().into());
            Ok(Test::Range {
                lo: day(first),
                hi: day(last),
                hi_inclusive: true,
            })
        }
    }
}

fn required<'v>(value: Option<&'v Json>, path: &str) -> Result<&'v Json, CoreError> {
    value.ok_or_else(|| err(path, "this operator needs a value"))
}

fn list<'v>(value: Option<&'v Json>, path: &str) -> Result<&'v [Json], CoreError> {
    match required(value, path)? {
        Json::Array(items) if !items.is_empty() => Ok(items),
        _ => Err(err(path, "expected a non-empty list of values")),
    }
}

/// One comparison value, normalised like record input.
fn scalar(field: &FieldDef, json: &Json, path: &str) -> Result<Scalar<'static>, CoreError> {
    let value = parse_input(field, json).map_err(|e| err(path, e.message))?;
    Scalar::of(&value).map(Scalar::into_owned).ok_or_else(|| {
        err(
            path,
            "an empty value matches nothing; use is_empty or is_not_empty",
        )
    })
}

/// One option value of a multi-select field, or one user id of a multi-user field.
fn option(field: &FieldDef, json: &Json, path: &str) -> Result<String, CoreError> {
    let Json::String(v) = json else {
        return Err(err(path, "expected an option value (a string)"));
    };
    if field.field_type == FieldType::MultiUser {
        if v.is_empty() || v.chars().count() > 64 {
            return Err(err(path, "expected a user id"));
        }
        return Ok(v.clone());
    }
    if field.option(v).is_none() {
        return Err(err(
            path,
            format!("{} is not an option of {}", echo(v), field.api_name),
        ));
    }
    Ok(v.clone())
}

/// `in` / `not_in` a list of region codes: an address within one of the regions (its code
/// starts with the region's).
fn region_test(op: Op, value: Option<&Json>, path: &str) -> Result<Test, CoreError> {
    let codes = match op {
        Op::In | Op::NotIn => list(value, path)?
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Json::String(code) if crate::regions::is_known(code) => Ok(code.clone()),
                _ => Err(err(
                    &child(path, &i.to_string()),
                    "expected the code of a region of the national list",
                )),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Op::IsEmpty => return Ok(Test::IsEmpty),
        Op::IsNotEmpty => return Ok(Test::IsNotEmpty),
        _ => {
            return Err(err(
                path,
                format!("operator {op} does not apply to an address"),
            ))
        }
    };
    Ok(if op == Op::In {
        Test::InRegions(codes)
    } else {
        Test::NotInRegions(codes)
    })
}

fn multi_test(
    field: &FieldDef,
    op: Op,
    value: Option<&Json>,
    path: &str,
) -> Result<Test, CoreError> {
    Ok(match op {
        Op::Contains => Test::HasAny(vec![option(field, required(value, path)?, path)?]),
        Op::In | Op::NotIn => {
            let options = list(value, path)?
                .iter()
                .enumerate()
                .map(|(i, item)| option(field, item, &child(path, &i.to_string())))
                .collect::<Result<Vec<_>, _>>()?;
            if op == Op::In {
                Test::HasAny(options)
            } else {
                Test::HasNone(options)
            }
        }
        Op::IsEmpty => Test::ListEmpty,
        Op::IsNotEmpty => Test::ListNotEmpty,
        _ => {
            return Err(err(
                path,
                format!("operator {op} does not apply to a multi-select field"),
            ))
        }
    })
}
