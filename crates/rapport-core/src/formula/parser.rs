//! Precedence-climbing parser: tokens to a typed tree, resolving field names against the
//! object and checking each node's types as it is built.
//!
//! Precedence, loosest first: `OR`/`||`, `AND`/`&&`, prefix `NOT`/`!`, comparisons, `&`,
//! `+ -`, `* /`, unary `-`, then literals, fields, calls and parentheses. Binary operators are
//! left-associative; `NOT(x)` followed by `(` is the function. Recursion is bounded by [`MAX_DEPTH`] (parentheses, calls and prefix
//! operators) and the tree's height by [`MAX_HEIGHT`], so no later pass can run deep.

use super::lexer::{Tok, Token};
use super::types::{type_of, Ty};
use super::{invalid, MAX_DEPTH, MAX_HEIGHT};
use crate::metadata::{FieldDef, FieldType, ObjectDef};
use crate::record::system_fields;
use crate::CoreError;
use std::collections::BTreeSet;

/// How a referenced field's stored value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Read {
    /// Integer, decimal, percent or currency (its amount), stored at `scale`.
    Number {
        scale: u8,
    },
    Text,
    Boolean,
    Date,
    DateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Concat,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Concat => "&",
            BinOp::Eq => "=",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "AND",
            BinOp::Or => "OR",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Func {
    If,
    And,
    Or,
    Not,
    Concat,
    Round,
    Abs,
    Min,
    Max,
    Coalesce,
    Len,
    Upper,
    Lower,
    IsBlank,
    Text,
    DaysBetween,
    Year,
    Month,
}

impl Func {
    fn lookup(name: &str) -> Option<Func> {
        Some(match name.to_ascii_uppercase().as_str() {
            "IF" => Func::If,
            "AND" => Func::And,
            "OR" => Func::Or,
            "NOT" => Func::Not,
            "CONCAT" => Func::Concat,
            "ROUND" => Func::Round,
            "ABS" => Func::Abs,
            "MIN" => Func::Min,
            "MAX" => Func::Max,
            "COALESCE" => Func::Coalesce,
            "LEN" => Func::Len,
            "UPPER" => Func::Upper,
            "LOWER" => Func::Lower,
            "ISBLANK" => Func::IsBlank,
            "TEXT" => Func::Text,
            "DAYS_BETWEEN" => Func::DaysBetween,
            "YEAR" => Func::Year,
            "MONTH" => Func::Month,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Func::If => "IF",
            Func::And => "AND",
            Func::Or => "OR",
            Func::Not => "NOT",
            Func::Concat => "CONCAT",
            Func::Round => "ROUND",
            Func::Abs => "ABS",
            Func::Min => "MIN",
            Func::Max => "MAX",
            Func::Coalesce => "COALESCE",
            Func::Len => "LEN",
            Func::Upper => "UPPER",
            Func::Lower => "LOWER",
            Func::IsBlank => "ISBLANK",
            Func::Text => "TEXT",
            Func::DaysBetween => "DAYS_BETWEEN",
            Func::Year => "YEAR",
            Func::Month => "MONTH",
        }
    }

    /// Least and most arguments (`None`: any number).
    fn arity(self) -> (usize, Option<usize>) {
        match self {
            Func::If => (2, Some(3)),
            Func::And | Func::Or | Func::Concat | Func::Min | Func::Max | Func::Coalesce => {
                (1, None)
            }
            Func::Round | Func::DaysBetween => (2, Some(2)),
            Func::Not
            | Func::Abs
            | Func::Len
            | Func::Upper
            | Func::Lower
            | Func::IsBlank
            | Func::Text
            | Func::Year
            | Func::Month => (1, Some(1)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ExprKind {
    Num(i128),
    Text(String),
    Bool(bool),
    Null,
    Field { name: String, read: Read },
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Expr {
    pub kind: ExprKind,
    /// 1-based character position of the token that made this node.
    pub pos: usize,
    /// The node's static type, checked when the node is built (so no recursive pass is needed).
    pub ty: Ty,
    /// Height of the subtree (a leaf is 1).
    height: usize,
}

impl Expr {
    /// Builds a node, checking its type against its children's and the height limit.
    fn new(kind: ExprKind, pos: usize) -> Result<Expr, CoreError> {
        let below = match &kind {
            ExprKind::Neg(e) | ExprKind::Not(e) => e.height,
            ExprKind::Binary(_, l, r) => l.height.max(r.height),
            ExprKind::Call(_, args) => args.iter().map(|a| a.height).max().unwrap_or(0),
            _ => 0,
        };
        let height = below + 1;
        if height > MAX_HEIGHT {
            return Err(invalid(
                pos,
                format!("the formula is too complex (more than {MAX_HEIGHT} operations deep)"),
            ));
        }
        let ty = type_of(&kind, pos)?;
        Ok(Expr {
            kind,
            pos,
            ty,
            height,
        })
    }
}

/// Parses tokens into a tree; returns it with the names of the fields it reads.
pub(super) fn parse(
    tokens: Vec<Token>,
    object: &ObjectDef,
) -> Result<(Expr, BTreeSet<String>), CoreError> {
    let end = tokens.last().map_or(1, |t| t.pos);
    let mut parser = Parser {
        tokens,
        i: 0,
        depth: 0,
        end: Token {
            tok: Tok::End,
            pos: end,
        },
        object,
        system: system_fields(),
        inputs: BTreeSet::new(),
    };
    let root = parser.parse_expr(0)?;
    let next = parser.peek();
    if next.tok != Tok::End {
        return Err(unexpected(next));
    }
    Ok((root, parser.inputs))
}

fn unexpected(token: &Token) -> CoreError {
    invalid(token.pos, format!("unexpected {}", token.tok.describe()))
}

/// Binding strength of prefix `NOT`'s operand: comparisons and tighter, not `AND`/`OR`.
const NOT_OPERAND: u8 = 3;
/// Binding strength of unary minus's operand: tighter than every infix operator.
const PREFIX: u8 = 8;

/// Infix operators and their binding strength (higher binds tighter).
fn infix(tok: &Tok) -> Option<(BinOp, u8)> {
    Some(match tok {
        Tok::OrOr => (BinOp::Or, 1),
        Tok::AndAnd => (BinOp::And, 2),
        Tok::Eq => (BinOp::Eq, 4),
        Tok::Ne => (BinOp::Ne, 4),
        Tok::Lt => (BinOp::Lt, 4),
        Tok::Le => (BinOp::Le, 4),
        Tok::Gt => (BinOp::Gt, 4),
        Tok::Ge => (BinOp::Ge, 4),
        Tok::Amp => (BinOp::Concat, 5),
        Tok::Plus => (BinOp::Add, 6),
        Tok::Minus => (BinOp::Sub, 6),
        Tok::Star => (BinOp::Mul, 7),
        Tok::Slash => (BinOp::Div, 7),
        _ if keyword(tok, "or") => (BinOp::Or, 1),
        _ if keyword(tok, "and") => (BinOp::And, 2),
        _ => return None,
    })
}

fn keyword(tok: &Tok, word: &str) -> bool {
    matches!(tok, Tok::Ident(s) if s.eq_ignore_ascii_case(word))
}

struct Parser<'a> {
    tokens: Vec<Token>,
    i: usize,
    depth: usize,
    end: Token,
    object: &'a ObjectDef,
    system: Vec<FieldDef>,
    inputs: BTreeSet<String>,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        self.tokens.get(self.i).unwrap_or(&self.end)
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        self.tokens
            .get(self.i + ahead)
            .map_or(&self.end.tok, |t| &t.tok)
    }

    fn bump(&mut self) -> Token {
        let token = self.peek().clone();
        if token.tok != Tok::End {
            self.i += 1;
        }
        token
    }

    fn enter(&mut self, pos: usize) -> Result<(), CoreError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(invalid(
                pos,
                format!("the formula nests deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Precedence climbing: parses operators binding at least as tightly as `min`.
    fn parse_expr(&mut self, min: u8) -> Result<Expr, CoreError> {
        let mut left = self.parse_prefix()?;
        while let Some((op, prec)) = infix(&self.peek().tok) {
            if prec < min {
                break;
            }
            let pos = self.bump().pos;
            let right = self.parse_expr(prec + 1)?;
            left = Expr::new(ExprKind::Binary(op, Box::new(left), Box::new(right)), pos)?;
        }
        Ok(left)
    }

    /// Prefix `NOT`/`!` (whose operand reaches over comparisons) and `-`, then a primary.
    fn parse_prefix(&mut self) -> Result<Expr, CoreError> {
        let token = self.peek();
        let not = token.tok == Tok::Bang
            || (keyword(&token.tok, "not") && *self.peek_at(1) != Tok::LParen);
        if !not && token.tok != Tok::Minus {
            return self.parse_primary();
        }
        let pos = self.bump().pos;
        self.enter(pos)?;
        let (operand, kind): (_, fn(Box<Expr>) -> ExprKind) = if not {
            (self.parse_expr(NOT_OPERAND)?, ExprKind::Not)
        } else {
            (self.parse_expr(PREFIX)?, ExprKind::Neg)
        };
        self.leave();
        Expr::new(kind(Box::new(operand)), pos)
    }

    fn parse_primary(&mut self) -> Result<Expr, CoreError> {
        let token = self.bump();
        let pos = token.pos;
        match token.tok {
            Tok::Num(n) => Expr::new(ExprKind::Num(n), pos),
            Tok::Str(s) => Expr::new(ExprKind::Text(s), pos),
            Tok::LParen => {
                self.enter(pos)?;
                let inner = self.parse_expr(0)?;
                self.expect_close(pos)?;
                self.leave();
                Ok(inner)
            }
            Tok::Ident(name) => {
                if *self.peek_at(0) == Tok::LParen {
                    return self.parse_call(&name, pos);
                }
                let lower = name.to_ascii_lowercase();
                match lower.as_str() {
                    "true" => return Expr::new(ExprKind::Bool(true), pos),
                    "false" => return Expr::new(ExprKind::Bool(false), pos),
                    "null" => return Expr::new(ExprKind::Null, pos),
                    "and" | "or" | "not" => {
                        return Err(invalid(pos, format!("`{name}` needs an operand before it")))
                    }
                    _ => {}
                }
                if *self.peek_at(0) == Tok::Dot {
                    return Err(invalid(
                        pos,
                        format!(
                            "`{name}.…`: formulas cannot follow relations; only fields of this object can be used"
                        ),
                    ));
                }
                let read = self.resolve(&name, pos)?;
                self.inputs.insert(name.clone());
                Expr::new(ExprKind::Field { name, read }, pos)
            }
            Tok::End => Err(invalid(pos, "the formula ends too early")),
            other => Err(unexpected(&Token { tok: other, pos })),
        }
    }

    fn expect_close(&mut self, open: usize) -> Result<(), CoreError> {
        let token = self.bump();
        match token.tok {
            Tok::RParen => Ok(()),
            Tok::End => Err(invalid(open, "`(` is never closed")),
            _ => Err(invalid(
                token.pos,
                format!("expected `)` but found {}", token.tok.describe()),
            )),
        }
    }

    fn parse_call(&mut self, name: &str, pos: usize) -> Result<Expr, CoreError> {
        let Some(func) = Func::lookup(name) else {
            return Err(invalid(pos, format!("unknown function `{name}`")));
        };
        let open = self.bump().pos;
        self.enter(pos)?;
        let mut args = Vec::new();
        if self.peek().tok == Tok::RParen {
            self.bump();
        } else {
            loop {
                args.push(self.parse_expr(0)?);
                let token = self.bump();
                match token.tok {
                    Tok::Comma => continue,
                    Tok::RParen => break,
                    Tok::End => return Err(invalid(open, "`(` is never closed")),
                    _ => {
                        return Err(invalid(
                            token.pos,
                            format!("expected `,` or `)` but found {}", token.tok.describe()),
                        ))
                    }
                }
            }
        }
        self.leave();
        let (least, most) = func.arity();
        let count = args.len();
        if count < least || most.is_some_and(|m| count > m) {
            let wanted = match most {
                Some(m) if m == least => format!("{least}"),
                Some(m) => format!("{least} to {m}"),
                None => format!("at least {least}"),
            };
            return Err(invalid(
                pos,
                format!("{} takes {wanted} argument(s), got {count}", func.name()),
            ));
        }
        Expr::new(ExprKind::Call(func, args), pos)
    }

    fn resolve(&self, name: &str, pos: usize) -> Result<Read, CoreError> {
        let field = match self.object.field(name) {
            Some(f) if !f.is_active() => {
                return Err(invalid(pos, format!("field `{name}` is archived")))
            }
            Some(f) => f,
            None => match self.system.iter().find(|f| f.api_name == name) {
                Some(f) => f,
                None => {
                    return Err(invalid(
                        pos,
                        format!("unknown field `{name}` on {}", self.object.api_name),
                    ))
                }
            },
        };
        Ok(match field.field_type {
            FieldType::Integer | FieldType::Decimal | FieldType::Percent | FieldType::Currency => {
                Read::Number {
                    scale: field.scale(),
                }
            }
            FieldType::Text
            | FieldType::LongText
            | FieldType::Email
            | FieldType::Phone
            | FieldType::Url
            | FieldType::Select
            | FieldType::Relation
            | FieldType::User => Read::Text,
            FieldType::Boolean => Read::Boolean,
            FieldType::Date => Read::Date,
            FieldType::Datetime => Read::DateTime,
            FieldType::MultiSelect
            | FieldType::MultiUser
            | FieldType::Address
            | FieldType::Attachment
            | FieldType::AutoNumber => {
                let kind = match field.field_type {
                    FieldType::MultiSelect => "multi-select",
                    FieldType::MultiUser => "multi-user",
                    FieldType::Address => "address",
                    FieldType::Attachment => "attachment",
                    _ => "auto-number",
                };
                return Err(invalid(
                    pos,
                    format!("{kind} field `{name}` cannot be used in a formula"),
                ));
            }
            FieldType::Formula => {
                return Err(invalid(
                    pos,
                    format!("`{name}` is a formula field; formulas cannot use other formulas"),
                ))
            }
        })
    }
}
