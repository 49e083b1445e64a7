//! Static types: every formula is checked before it is accepted, so evaluation never meets a
//! value of the wrong kind (and if it somehow did, it would yield null rather than fail).
//! Each node is checked as the parser builds it, from its children's types: no recursion.

use super::invalid;
use super::parser::{BinOp, Expr, ExprKind, Func, Read};
use crate::CoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ty {
    /// The `null` literal (and expressions made only of it): fits any other type.
    Null,
    Number,
    Text,
    Boolean,
    Date,
    DateTime,
}

impl Ty {
    pub fn name(self) -> &'static str {
        match self {
            Ty::Null => "null",
            Ty::Number => "number",
            Ty::Text => "text",
            Ty::Boolean => "boolean",
            Ty::Date => "date",
            Ty::DateTime => "datetime",
        }
    }

    fn orderable(self) -> bool {
        !matches!(self, Ty::Boolean)
    }
}

/// The common type of two branches or operands, if they have one.
fn unify(a: Ty, b: Ty) -> Option<Ty> {
    match (a, b) {
        (Ty::Null, t) | (t, Ty::Null) => Some(t),
        (a, b) if a == b => Some(a),
        _ => None,
    }
}

fn expect(e: &Expr, wanted: Ty, what: &str) -> Result<(), CoreError> {
    let ty = e.ty;
    if ty == wanted || ty == Ty::Null {
        Ok(())
    } else {
        Err(invalid(
            e.pos,
            format!("{what} needs a {}, found {}", wanted.name(), ty.name()),
        ))
    }
}

fn expect_date(e: &Expr, what: &str) -> Result<(), CoreError> {
    let ty = e.ty;
    if matches!(ty, Ty::Date | Ty::DateTime | Ty::Null) {
        Ok(())
    } else {
        Err(invalid(
            e.pos,
            format!("{what} needs a date or datetime, found {}", ty.name()),
        ))
    }
}

/// The type of a node about to be built at `pos`, whose children are already typed.
pub(super) fn type_of(kind: &ExprKind, pos: usize) -> Result<Ty, CoreError> {
    match kind {
        ExprKind::Num(_) => Ok(Ty::Number),
        ExprKind::Text(_) => Ok(Ty::Text),
        ExprKind::Bool(_) => Ok(Ty::Boolean),
        ExprKind::Null => Ok(Ty::Null),
        ExprKind::Field { read, .. } => Ok(match read {
            Read::Number { .. } => Ty::Number,
            Read::Text => Ty::Text,
            Read::Boolean => Ty::Boolean,
            Read::Date => Ty::Date,
            Read::DateTime => Ty::DateTime,
        }),
        ExprKind::Neg(inner) => {
            expect(inner, Ty::Number, "`-`")?;
            Ok(Ty::Number)
        }
        ExprKind::Not(inner) => {
            expect(inner, Ty::Boolean, "NOT")?;
            Ok(Ty::Boolean)
        }
        ExprKind::Binary(op, left, right) => {
            let (lt, rt) = (left.ty, right.ty);
            let what = format!("`{}`", op.symbol());
            match op {
                BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => {
                    expect(left, Ty::Number, &what)?;
                    expect(right, Ty::Number, &what)?;
                    Ok(Ty::Number)
                }
                BinOp::Concat => Ok(Ty::Text),
                BinOp::And | BinOp::Or => {
                    expect(left, Ty::Boolean, &what)?;
                    expect(right, Ty::Boolean, &what)?;
                    Ok(Ty::Boolean)
                }
                BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                    let Some(common) = unify(lt, rt) else {
                        return Err(invalid(
                            pos,
                            format!("{what} cannot compare {} with {}", lt.name(), rt.name()),
                        ));
                    };
                    if !matches!(op, BinOp::Eq | BinOp::Ne) && !common.orderable() {
                        return Err(invalid(
                            pos,
                            format!("{what} cannot order booleans; use = or !="),
                        ));
                    }
                    Ok(Ty::Boolean)
                }
            }
        }
        ExprKind::Call(func, args) => check_call(pos, *func, args),
    }
}

fn check_call(pos: usize, func: Func, args: &[Expr]) -> Result<Ty, CoreError> {
    let types: Vec<Ty> = args.iter().map(|a| a.ty).collect();
    let name = func.name();
    let all = |wanted: Ty| -> Result<(), CoreError> {
        for arg in args {
            expect(arg, wanted, name)?;
        }
        Ok(())
    };
    let common = |from: &[Ty], from_args: &[Expr]| -> Result<Ty, CoreError> {
        let mut acc = Ty::Null;
        for (arg, ty) in from_args.iter().zip(from) {
            acc = unify(acc, *ty).ok_or_else(|| {
                invalid(
                    arg.pos,
                    format!(
                        "{name}'s arguments must share one type, but {} meets {}",
                        acc.name(),
                        ty.name()
                    ),
                )
            })?;
        }
        Ok(acc)
    };
    match func {
        Func::If => {
            let (Some((cond, branches)), Some((_, branch_types))) =
                (args.split_first(), types.split_first())
            else {
                return Err(invalid(pos, "IF needs a condition"));
            };
            expect(cond, Ty::Boolean, "IF's condition")?;
            common(branch_types, branches)
        }
        Func::And | Func::Or | Func::Not => {
            all(Ty::Boolean)?;
            Ok(Ty::Boolean)
        }
        Func::Concat | Func::Text => Ok(Ty::Text),
        Func::Round | Func::Abs => {
            all(Ty::Number)?;
            Ok(Ty::Number)
        }
        Func::Min | Func::Max => {
            let ty = common(&types, args)?;
            if !ty.orderable() {
                return Err(invalid(pos, format!("{name} cannot order booleans")));
            }
            Ok(ty)
        }
        Func::Coalesce => common(&types, args),
        Func::Len => {
            all(Ty::Text)?;
            Ok(Ty::Number)
        }
        Func::Upper | Func::Lower => {
            all(Ty::Text)?;
            Ok(Ty::Text)
        }
        Func::IsBlank => Ok(Ty::Boolean),
        Func::DaysBetween | Func::Year | Func::Month => {
            for arg in args {
                expect_date(arg, name)?;
            }
            Ok(Ty::Number)
        }
    }
}
