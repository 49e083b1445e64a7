//! [`CheckedCondition`](super::CheckedCondition) → SQL. Every leaf compiles to a two-valued
//! expression (never NULL), so `NOT` is plain negation, exactly like `eval`.

use super::{CLeaf, CNode, Scalar, Target, Test};
use crate::names::quote;
use crate::sql::{Dialect, SqlBuilder, SqlParam};

pub(super) fn write_node(
    node: &CNode,
    b: &mut SqlBuilder,
    alias: &str,
    table_of: &dyn Fn(&str) -> String,
) {
    match node {
        CNode::All(items) => join(items, " AND ", "(1=1)", b, alias, table_of),
        CNode::Any(items) => join(items, " OR ", "(1=0)", b, alias, table_of),
        CNode::Not(inner) => {
            b.push("(NOT ");
            write_node(inner, b, alias, table_of);
            b.push(")");
        }
        CNode::Leaf(leaf) => write_leaf(leaf, b, alias, table_of),
    }
}

fn join(
    items: &[CNode],
    separator: &str,
    empty: &str,
    b: &mut SqlBuilder,
    alias: &str,
    table_of: &dyn Fn(&str) -> String,
) {
    if items.is_empty() {
        b.push(empty);
        return;
    }
    b.push("(");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            b.push(separator);
        }
        write_node(item, b, alias, table_of);
    }
    b.push(")");
}

/// An alias for an inner query that cannot be mistaken for the outer `alias`.
fn inner_alias(alias: &str, base: &str) -> String {
    if alias.trim_matches('"').eq_ignore_ascii_case(base) {
        format!("{base}_1")
    } else {
        base.to_string()
    }
}

/// The SQL expression of a leaf's value (no parameters, so it may be repeated).
fn value_expr(target: &Target, alias: &str, table_of: &dyn Fn(&str) -> String) -> String {
    match target {
        Target::Column(column) => format!("{alias}.{}", quote(column)),
        Target::Related {
            relation,
            object,
            column,
        } => {
            let r = inner_alias(alias, "rel");
            format!(
                "(SELECT {r}.{col} FROM {table} {r} WHERE {r}.\"id\" = {alias}.{rel} AND {r}.\"deleted_at\" IS NULL)",
                col = quote(column),
                table = quote(&table_of(object)),
                rel = quote(relation),
            )
        }
    }
}

fn bind(b: &mut SqlBuilder, value: &Scalar<'_>) {
    match value {
        Scalar::Text(t) => b.bind(SqlParam::Text(t.to_string())),
        Scalar::Int(i) => b.bind(SqlParam::Int(*i)),
        Scalar::Bool(v) => b.bind(SqlParam::Bool(*v)),
        Scalar::Ts(at) => b.bind_timestamp(*at),
    };
}

/// Binds a value an ordering compares against: text is compared byte-wise on PostgreSQL
/// whatever the column's collation.
fn bind_ordered(b: &mut SqlBuilder, value: &Scalar<'_>) {
    bind(b, value);
    if b.dialect == Dialect::Postgres && matches!(value, Scalar::Text(_)) {
        b.push(" COLLATE \"C\"");
    }
}

fn bind_list(b: &mut SqlBuilder, values: &[Scalar<'_>]) {
    b.push("(");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            b.push(", ");
        }
        bind(b, v);
    }
    b.push(")");
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn write_leaf(leaf: &CLeaf, b: &mut SqlBuilder, alias: &str, table_of: &dyn Fn(&str) -> String) {
    let e = value_expr(&leaf.target, alias, table_of);
    let pg = b.dialect == Dialect::Postgres;
    match &leaf.test {
        Test::Eq(v) => {
            b.push(&format!("({e} IS NOT NULL AND {e} = "));
            bind(b, v);
            b.push(")");
        }
        Test::Ne(v) => {
            let op = if pg { "IS DISTINCT FROM" } else { "IS NOT" };
            b.push(&format!("({e} {op} "));
            bind(b, v);
            b.push(")");
        }
        Test::Lt(v) => compare(b, &e, "<", v),
        Test::Lte(v) => compare(b, &e, "<=", v),
        Test::Gt(v) => compare(b, &e, ">", v),
        Test::Gte(v) => compare(b, &e, ">=", v),
        Test::Range {
            lo,
            hi,
            hi_inclusive,
        } => {
            b.push(&format!("({e} IS NOT NULL AND {e} >= "));
            bind_ordered(b, lo);
            b.push(&format!(
                " AND {e} {} ",
                if *hi_inclusive { "<=" } else { "<" }
            ));
            bind_ordered(b, hi);
            b.push(")");
        }
        Test::In(values) => {
            b.push(&format!("({e} IS NOT NULL AND {e} IN "));
            bind_list(b, values);
            b.push(")");
        }
        Test::NotIn(values) => {
            b.push(&format!("({e} IS NULL OR {e} NOT IN "));
            bind_list(b, values);
            b.push(")");
        }
        Test::Contains(needle) => like(b, &e, format!("%{}%", escape_like(needle))),
        Test::StartsWith(needle) => like(b, &e, format!("{}%", escape_like(needle))),
        Test::IsEmpty => {
            b.push(&format!("({e} IS NULL)"));
        }
        Test::IsNotEmpty => {
            b.push(&format!("({e} IS NOT NULL)"));
        }
        Test::HasAny(options) => has_any(b, &e, alias, options),
        Test::HasNone(options) => {
            b.push("(NOT ");
            has_any(b, &e, alias, options);
            b.push(")");
        }
        Test::ListEmpty => {
            if pg {
                b.push(&format!("({e} IS NULL OR {e} = CAST('[]' AS JSONB))"));
            } else {
                b.push(&format!("(NOT EXISTS (SELECT 1 FROM json_each({e})))"));
            }
        }
        Test::InRegions(regions) => in_regions(b, &e, regions),
        Test::NotInRegions(regions) => {
            b.push(&format!("({e} IS NULL OR NOT "));
            in_regions(b, &e, regions);
            b.push(")");
        }
        Test::ListNotEmpty => {
            if pg {
                b.push(&format!("({e} IS NOT NULL AND {e} <> CAST('[]' AS JSONB))"));
            } else {
                b.push(&format!("(EXISTS (SELECT 1 FROM json_each({e})))"));
            }
        }
    }
}

fn compare(b: &mut SqlBuilder, e: &str, op: &str, value: &Scalar<'_>) {
    b.push(&format!("({e} IS NOT NULL AND {e} {op} "));
    bind_ordered(b, value);
    b.push(")");
}

/// Case-insensitive (ASCII) pattern match: `LIKE` on SQLite, `ILIKE` under "C" on PostgreSQL.
fn like(b: &mut SqlBuilder, e: &str, pattern: String) {
    if b.dialect == Dialect::Postgres {
        b.push(&format!("({e} IS NOT NULL AND {e} ILIKE "));
        b.bind(SqlParam::Text(pattern));
        b.push(" COLLATE \"C\" ESCAPE '\\')");
    } else {
        b.push(&format!("({e} IS NOT NULL AND {e} LIKE "));
        b.bind(SqlParam::Text(pattern));
        b.push(" ESCAPE '\\')");
    }
}

/// The region code in `e` starts with one of `regions` (digits only, checked against the list).
fn in_regions(b: &mut SqlBuilder, e: &str, regions: &[String]) {
    b.push(&format!("({e} IS NOT NULL AND ("));
    for (i, region) in regions.iter().enumerate() {
        if i > 0 {
            b.push(" OR ");
        }
        b.push(&format!("{e} LIKE "));
        b.bind(SqlParam::Text(format!("{}%", escape_like(region))));
        b.push(" ESCAPE '\\'");
    }
    b.push("))");
}

/// The multi-select in `e` holds at least one of `options` (false for NULL).
fn has_any(b: &mut SqlBuilder, e: &str, alias: &str, options: &[String]) {
    if b.dialect == Dialect::Postgres {
        b.push(&format!("({e} IS NOT NULL AND ("));
        for (i, option) in options.iter().enumerate() {
            if i > 0 {
                b.push(" OR ");
            }
            b.push(&format!("{e} @> jsonb_build_array(CAST("));
            b.bind(SqlParam::Text(option.clone()));
            b.push(" AS TEXT))");
        }
        b.push("))");
    } else {
        let je = inner_alias(alias, "je");
        b.push(&format!(
            "(EXISTS (SELECT 1 FROM json_each({e}) AS {je} WHERE {je}.value IN "
        ));
        b.push("(");
        for (i, option) in options.iter().enumerate() {
            if i > 0 {
                b.push(", ");
            }
            b.bind(SqlParam::Text(option.clone()));
        }
        b.push(")))");
    }
}
