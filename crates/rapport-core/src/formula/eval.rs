//! Evaluation. Total: every input gives a value, overflow and division by zero give null.

use super::num::{self, ONE};
use super::parser::{BinOp, Expr, ExprKind, Func, Read};
use crate::record::Record;
use crate::value::{format_datetime, Value, MAX_TEXT_BYTES};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use std::cmp::Ordering;

/// A value while a formula runs; numbers are internal fixed-point units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum V {
    Null,
    Num(i128),
    Text(String),
    Bool(bool),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
}

fn num(n: Option<i128>) -> V {
    n.map_or(V::Null, V::Num)
}

fn whole_num(n: i64) -> V {
    num(i128::from(n).checked_mul(ONE))
}

/// Text results longer than any field accepts become null rather than growing without bound.
fn text(s: String) -> V {
    if s.len() > MAX_TEXT_BYTES {
        V::Null
    } else {
        V::Text(s)
    }
}

fn read(value: Value, how: Read) -> V {
    match (how, value) {
        (Read::Number { .. }, Value::Integer(i)) => whole_num(i),
        (Read::Number { scale }, Value::Decimal(units))
        | (Read::Number { scale }, Value::Currency { units, .. }) => {
            num(num::from_units(i128::from(units), scale))
        }
        (Read::Text, Value::Text(s)) => V::Text(s),
        (Read::Boolean, Value::Boolean(b)) => V::Bool(b),
        (Read::Date, Value::Date(d)) => V::Date(d),
        (Read::DateTime, Value::DateTime(d)) => V::DateTime(d),
        _ => V::Null,
    }
}

/// The text form used by `TEXT`, `&` and `CONCAT` (`None` for null).
fn to_text(v: &V) -> Option<String> {
    match v {
        V::Null => None,
        V::Num(n) => Some(num::format(*n)),
        V::Text(s) => Some(s.clone()),
        V::Bool(b) => Some(b.to_string()),
        V::Date(d) => Some(d.format("%Y-%m-%d").to_string()),
        V::DateTime(d) => Some(format_datetime(d)),
    }
}

fn compare(a: &V, b: &V) -> Option<Ordering> {
    match (a, b) {
        (V::Num(x), V::Num(y)) => Some(x.cmp(y)),
        (V::Text(x), V::Text(y)) => Some(x.cmp(y)),
        (V::Bool(x), V::Bool(y)) => Some(x.cmp(y)),
        (V::Date(x), V::Date(y)) => Some(x.cmp(y)),
        (V::DateTime(x), V::DateTime(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn date_of(v: &V) -> Option<NaiveDate> {
    match v {
        V::Date(d) => Some(*d),
        V::DateTime(d) => Some(d.date_naive()),
        _ => None,
    }
}

fn truth(v: &V) -> Option<bool> {
    match v {
        V::Bool(b) => Some(*b),
        _ => None,
    }
}

/// Three-valued AND/OR over lazily evaluated operands: a deciding value short-circuits, null
/// is "unknown".
fn logic<'e>(decides: bool, operands: impl Iterator<Item = &'e Expr>, record: &Record) -> V {
    let mut unknown = false;
    for operand in operands {
        match truth(&eval(operand, record)) {
            Some(b) if b == decides => return V::Bool(decides),
            Some(_) => {}
            None => unknown = true,
        }
    }
    if unknown {
        V::Null
    } else {
        V::Bool(!decides)
    }
}

/// Evaluates a node. Kept to plain dispatch so each level of recursion costs little stack.
pub(super) fn eval(e: &Expr, record: &Record) -> V {
    match &e.kind {
        ExprKind::Num(n) => V::Num(*n),
        ExprKind::Text(s) => V::Text(s.clone()),
        ExprKind::Bool(b) => V::Bool(*b),
        ExprKind::Null => V::Null,
        ExprKind::Field { name, read: how } => read(record.get(name), *how),
        ExprKind::Neg(inner) => negate(inner, record),
        ExprKind::Not(inner) => not(inner, record),
        ExprKind::Binary(BinOp::And, l, r) => logic(false, [&**l, &**r].into_iter(), record),
        ExprKind::Binary(BinOp::Or, l, r) => logic(true, [&**l, &**r].into_iter(), record),
        ExprKind::Binary(op, l, r) => binary_of(*op, l, r, record),
        ExprKind::Call(func, args) => call(*func, args, record),
    }
}

fn negate(inner: &Expr, record: &Record) -> V {
    match eval(inner, record) {
        V::Num(n) => num(n.checked_neg()),
        _ => V::Null,
    }
}

fn not(inner: &Expr, record: &Record) -> V {
    match eval(inner, record) {
        V::Bool(b) => V::Bool(!b),
        _ => V::Null,
    }
}

fn binary_of(op: BinOp, l: &Expr, r: &Expr, record: &Record) -> V {
    let a = eval(l, record);
    binary(op, a, eval(r, record))
}

fn binary(op: BinOp, a: V, b: V) -> V {
    match op {
        BinOp::Concat => {
            // An empty value joins as empty text, as in spreadsheets.
            let mut s = to_text(&a).unwrap_or_default();
            s.push_str(&to_text(&b).unwrap_or_default());
            text(s)
        }
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => {
            let (V::Num(x), V::Num(y)) = (a, b) else {
                return V::Null;
            };
            num(match op {
                BinOp::Add => x.checked_add(y),
                BinOp::Sub => x.checked_sub(y),
                BinOp::Mul => num::mul(x, y),
                _ => num::div(x, y),
            })
        }
        _ => {
            let Some(ord) = compare(&a, &b) else {
                return V::Null;
            };
            V::Bool(match op {
                BinOp::Eq => ord == Ordering::Equal,
                BinOp::Ne => ord != Ordering::Equal,
                BinOp::Lt => ord == Ordering::Less,
                BinOp::Le => ord != Ordering::Greater,
                BinOp::Gt => ord == Ordering::Greater,
                _ => ord != Ordering::Less,
            })
        }
    }
}

fn call(func: Func, args: &[Expr], record: &Record) -> V {
    let arg = |i: usize| args.get(i).map_or(V::Null, |a| eval(a, record));
    match func {
        Func::If => {
            if truth(&arg(0)) == Some(true) {
                arg(1)
            } else {
                arg(2)
            }
        }
        Func::And => logic(false, args.iter(), record),
        Func::Or => logic(true, args.iter(), record),
        Func::Not => args.first().map_or(V::Null, |a| not(a, record)),
        Func::Concat => {
            let mut s = String::new();
            for a in args {
                // An empty value joins as empty text, as in spreadsheets.
                s.push_str(&to_text(&eval(a, record)).unwrap_or_default());
                if s.len() > MAX_TEXT_BYTES {
                    return V::Null;
                }
            }
            V::Text(s)
        }
        Func::Round => match (arg(0), arg(1)) {
            (V::Num(x), V::Num(d)) => num(num::round(x, d / ONE)),
            _ => V::Null,
        },
        Func::Abs => match arg(0) {
            V::Num(x) => num(x.checked_abs()),
            _ => V::Null,
        },
        Func::Min | Func::Max => {
            let wanted = if func == Func::Min {
                Ordering::Less
            } else {
                Ordering::Greater
            };
            let mut best: Option<V> = None;
            for a in args {
                let v = eval(a, record);
                if v == V::Null {
                    return V::Null;
                }
                best = match best {
                    None => Some(v),
                    Some(b) => match compare(&v, &b) {
                        Some(ord) if ord == wanted => Some(v),
                        Some(_) => Some(b),
                        None => return V::Null,
                    },
                };
            }
            best.unwrap_or(V::Null)
        }
        Func::Coalesce => args
            .iter()
            .map(|a| eval(a, record))
            .find(|v| *v != V::Null)
            .unwrap_or(V::Null),
        Func::Len => match arg(0) {
            V::Text(s) => num(i128::try_from(s.chars().count())
                .ok()
                .and_then(|n| n.checked_mul(ONE))),
            V::Null => V::Num(0),
            _ => V::Null,
        },
        Func::Upper => match arg(0) {
            V::Text(s) => text(s.to_uppercase()),
            _ => V::Null,
        },
        Func::Lower => match arg(0) {
            V::Text(s) => text(s.to_lowercase()),
            _ => V::Null,
        },
        Func::IsBlank => V::Bool(match arg(0) {
            V::Null => true,
            V::Text(s) => s.is_empty(),
            _ => false,
        }),
        Func::Text => to_text(&arg(0)).map_or(V::Null, V::Text),
        Func::DaysBetween => match (date_of(&arg(0)), date_of(&arg(1))) {
            (Some(a), Some(b)) => whole_num(b.signed_duration_since(a).num_days()),
            _ => V::Null,
        },
        Func::Year => date_of(&arg(0)).map_or(V::Null, |d| whole_num(i64::from(d.year()))),
        Func::Month => date_of(&arg(0)).map_or(V::Null, |d| whole_num(i64::from(d.month()))),
    }
}
