use super::*;
use crate::metadata::{FieldConfig, SelectOption};
use crate::Label;
use chrono::{NaiveDate, TimeZone, Utc};
use std::collections::BTreeMap;

fn field(name: &str, t: FieldType, config: FieldConfig) -> FieldDef {
    FieldDef {
        api_name: name.into(),
        label: Label::new(name, name),
        field_type: t,
        required: false,
        unique: false,
        config,
        is_standard: false,
        archived_at: None,
    }
}

fn scaled(scale: u8) -> FieldConfig {
    FieldConfig {
        scale: Some(scale),
        ..Default::default()
    }
}

fn deal() -> ObjectDef {
    let option = |v: &str| SelectOption {
        value: v.into(),
        label: Label::new(v, v),
        probability: None,
        color: None,
    };
    let mut archived = field("old_note", FieldType::Text, FieldConfig::default());
    archived.archived_at = Some(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
    ObjectDef {
        api_name: "deal".into(),
        label: Label::new("Deal", "商机"),
        plural_label: Label::new("Deals", "商机"),
        is_standard: true,
        name_field: "name".into(),
        fields: vec![
            field("name", FieldType::Text, FieldConfig::default()),
            field("amount", FieldType::Currency, FieldConfig::default()),
            field("probability", FieldType::Percent, FieldConfig::default()),
            field("rate", FieldType::Decimal, scaled(4)),
            field("qty", FieldType::Integer, FieldConfig::default()),
            field(
                "industry",
                FieldType::Select,
                FieldConfig {
                    options: vec![option("manufacturing"), option("retail")],
                    ..Default::default()
                },
            ),
            field(
                "tags",
                FieldType::MultiSelect,
                FieldConfig {
                    options: vec![option("a")],
                    ..Default::default()
                },
            ),
            field("won", FieldType::Boolean, FieldConfig::default()),
            field("close_date", FieldType::Date, FieldConfig::default()),
            field("start_date", FieldType::Date, FieldConfig::default()),
            field("signed_at", FieldType::Datetime, FieldConfig::default()),
            field("email", FieldType::Email, FieldConfig::default()),
            field(
                "account",
                FieldType::Relation,
                FieldConfig {
                    target: Some("company".into()),
                    ..Default::default()
                },
            ),
            archived,
            formula_field("weighted", "amount * probability / 100", None, None),
        ],
        archived_at: None,
        layout: vec![],
    }
}

fn formula_field(
    name: &str,
    expression: &str,
    result: Option<FormulaResult>,
    scale: Option<u8>,
) -> FieldDef {
    field(
        name,
        FieldType::Formula,
        FieldConfig {
            expression: Some(expression.into()),
            result_type: result,
            scale,
            ..Default::default()
        },
    )
}

fn record(values: &[(&str, Value)]) -> Record {
    Record {
        id: "r1".into(),
        version: 1,
        created_at: Utc.with_ymd_and_hms(2026, 1, 10, 23, 30, 0).unwrap(),
        updated_at: Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap(),
        created_by: Some("u1".into()),
        updated_by: None,
        owner_id: Some("u1".into()),
        deleted_at: None,
        values: values
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<BTreeMap<_, _>>(),
        unreadable: Vec::new(),
    }
}

fn compile(expr: &str, result: FormulaResult, scale: Option<u8>) -> Result<Formula, CoreError> {
    Formula::compile(&formula_field("f", expr, Some(result), scale), &deal())
}

fn eval_with(expr: &str, result: FormulaResult, values: &[(&str, Value)]) -> Value {
    compile(expr, result, None)
        .unwrap_or_else(|e| panic!("{expr}: {e}"))
        .eval(&record(values))
}

fn num(expr: &str) -> Value {
    eval_with(expr, FormulaResult::Decimal, &[])
}

fn text(expr: &str) -> Value {
    eval_with(expr, FormulaResult::Text, &[])
}

fn boolean(expr: &str) -> Value {
    eval_with(expr, FormulaResult::Boolean, &[])
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

fn error(expr: &str, result: FormulaResult) -> String {
    match compile(expr, result, None) {
        Err(CoreError::InvalidFormula(m)) => m,
        other => panic!("{expr}: expected an invalid formula, got {other:?}"),
    }
}

#[test]
fn precedence_and_associativity() {
    assert_eq!(num("1 + 2 * 3"), Value::Decimal(700));
    assert_eq!(num("(1 + 2) * 3"), Value::Decimal(900));
    assert_eq!(num("10 - 4 - 3"), Value::Decimal(300));
    assert_eq!(num("100 / 10 / 5"), Value::Decimal(200));
    assert_eq!(num("-2 * 3 + 1"), Value::Decimal(-500));
    assert_eq!(num("- -2"), Value::Decimal(200));
    assert_eq!(num("2 - -2"), Value::Decimal(400));
    assert_eq!(text("1 + 2 & \"x\""), t("3x"));
    assert_eq!(boolean("\"a\" & \"b\" = \"ab\""), Value::Boolean(true));
    assert_eq!(boolean("1 + 1 = 2 AND 2 < 3"), Value::Boolean(true));
    assert_eq!(boolean("true OR false AND false"), Value::Boolean(true));
    assert_eq!(boolean("(true OR false) AND false"), Value::Boolean(false));
    assert_eq!(boolean("NOT 1 = 2"), Value::Boolean(true));
    assert_eq!(boolean("not true or true"), Value::Boolean(true));
    assert_eq!(boolean("!(1 > 2) && 1 <= 1 || false"), Value::Boolean(true));
    assert_eq!(
        boolean("1 != 2 and 1 <> 2 and 1 == 1"),
        Value::Boolean(true)
    );
    assert_eq!(boolean("2 >= 3"), Value::Boolean(false));
}

#[test]
fn literals() {
    assert_eq!(text(r#""say \"hi\" \\ ok""#), t(r#"say "hi" \ ok"#));
    assert_eq!(text(r#""a\nb""#), t("a\nb"));
    assert_eq!(text("\"重点客户\""), t("重点客户"));
    assert_eq!(num("3.5"), Value::Decimal(350));
    assert_eq!(num("0.12345678"), Value::Decimal(12));
    assert_eq!(num("1.500000000"), Value::Decimal(150));
    assert_eq!(boolean("TRUE"), Value::Boolean(true));
    assert_eq!(num("NULL"), Value::Null);
    assert_eq!(text("\"\""), Value::Null);
}

#[test]
fn exact_decimal_maths() {
    assert_eq!(num("0.1 + 0.2"), Value::Decimal(30));
    assert_eq!(boolean("0.1 + 0.2 = 0.3"), Value::Boolean(true));
    assert_eq!(num("10 / 3"), Value::Decimal(333));
    assert_eq!(num("-1 / 8"), Value::Decimal(-13));
    assert_eq!(num("1 / 8"), Value::Decimal(13));
    assert_eq!(num("2 / 3"), Value::Decimal(67));
    assert_eq!(num("1 / 3 * 3"), Value::Decimal(100));
    assert_eq!(num("0.005 * 1"), Value::Decimal(1));
    assert_eq!(num("-0.005"), Value::Decimal(-1));
    // The field's scale decides the stored units.
    let f = compile("10 / 3", FormulaResult::Decimal, Some(4)).unwrap();
    assert_eq!(f.eval(&record(&[])), Value::Decimal(33333));
    let f = compile("2.5", FormulaResult::Decimal, Some(0)).unwrap();
    assert_eq!(f.eval(&record(&[])), Value::Decimal(3));
    let f = compile("1 / 3", FormulaResult::Decimal, Some(8)).unwrap();
    assert_eq!(f.eval(&record(&[])), Value::Decimal(33_333_333));
}

#[test]
fn division_by_zero_and_overflow_are_null() {
    assert_eq!(num("1 / 0"), Value::Null);
    assert_eq!(num("1 / (2 - 2) + 5"), Value::Null);
    assert_eq!(num("COALESCE(1 / 0, 7)"), Value::Decimal(700));
    // Fits i128 but not the i64 column.
    assert_eq!(num("100000000000000000000"), Value::Null);
    // Overflows i128 internally.
    assert_eq!(
        num("1000000000000000000000 * 1000000000000000000000"),
        Value::Null
    );
    assert_eq!(
        num("-1000000000000000000000000000000 - 1000000000000000000000000000000"),
        Value::Null
    );
    assert_eq!(
        num("ABS(-1000000000000000000000000000000 * 1000000)"),
        Value::Null
    );
    assert!(compile(
        "1000000000000000000000000000000000",
        FormulaResult::Decimal,
        None
    )
    .is_err());
}

#[test]
fn fields_are_read_at_their_scale() {
    let values = [
        (
            "amount",
            Value::Currency {
                units: 60_000_050,
                code: "CNY".into(),
            },
        ),
        ("probability", Value::Decimal(2500)),
        ("rate", Value::Decimal(12_345)),
        ("qty", Value::Integer(3)),
    ];
    let n = |e: &str| eval_with(e, FormulaResult::Decimal, &values);
    assert_eq!(n("amount"), Value::Decimal(60_000_050));
    // 600000.50 × 25 / 100 = 150000.125 → 150000.13
    assert_eq!(n("amount * probability / 100"), Value::Decimal(15_000_013));
    assert_eq!(n("rate"), Value::Decimal(123));
    assert_eq!(n("rate * 10"), Value::Decimal(1235));
    assert_eq!(n("qty * 2"), Value::Decimal(600));
}

#[test]
fn deal_examples() {
    let object = deal();
    let segment = formula_field(
        "segment",
        r#"IF(amount > 500000 AND industry = "manufacturing", "重点客户", "普通")"#,
        Some(FormulaResult::Text),
        None,
    );
    let f = Formula::compile(&segment, &object).unwrap();
    assert_eq!(
        f.inputs(),
        vec!["amount".to_string(), "industry".to_string()]
    );
    let big = |units: i64, industry: &str| {
        record(&[
            (
                "amount",
                Value::Currency {
                    units,
                    code: "CNY".into(),
                },
            ),
            ("industry", t(industry)),
        ])
    };
    assert_eq!(f.eval(&big(60_000_000, "manufacturing")), t("重点客户"));
    assert_eq!(f.eval(&big(50_000_000, "manufacturing")), t("普通"));
    assert_eq!(f.eval(&big(60_000_000, "retail")), t("普通"));
    // Unknown amount: the condition is null, so the else branch.
    assert_eq!(
        f.eval(&record(&[("industry", t("manufacturing"))])),
        t("普通")
    );

    let weighted = object.field("weighted").unwrap();
    let f = Formula::compile(weighted, &object).unwrap();
    assert_eq!(
        f.inputs(),
        vec!["amount".to_string(), "probability".to_string()]
    );
    let r = record(&[
        (
            "amount",
            Value::Currency {
                units: 1_234_567,
                code: "CNY".into(),
            },
        ),
        ("probability", Value::Decimal(3000)),
    ]);
    // 12345.67 × 30 / 100 = 3703.701 → 3703.70
    assert_eq!(f.eval(&r), Value::Decimal(370_370));
    assert_eq!(
        f.eval(&record(&[("probability", Value::Decimal(3000))])),
        Value::Null
    );
}

#[test]
fn apply_formulas_fills_every_active_formula() {
    let mut object = deal();
    object.fields.push(formula_field(
        "label",
        r#"UPPER(name) & " / " & TEXT(qty)"#,
        Some(FormulaResult::Text),
        None,
    ));
    object
        .fields
        .push(formula_field("broken", "nope +", None, None));
    let mut gone = formula_field("gone", "1", None, None);
    gone.archived_at = Some(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
    object.fields.push(gone);
    let mut r = record(&[
        ("name", t("Acme 华东")),
        ("qty", Value::Integer(4)),
        (
            "amount",
            Value::Currency {
                units: 1000,
                code: "CNY".into(),
            },
        ),
        ("probability", Value::Decimal(5000)),
        ("broken", t("stale")),
    ]);
    apply_formulas(&object, &mut r);
    assert_eq!(r.values.get("label"), Some(&t("ACME 华东 / 4")));
    assert_eq!(r.values.get("weighted"), Some(&Value::Decimal(500)));
    assert_eq!(r.values.get("broken"), Some(&t("stale")));
    assert_eq!(r.values.get("gone"), None);
}

#[test]
fn null_rules() {
    let none: [(&str, Value); 0] = [];
    let n = |e: &str| eval_with(e, FormulaResult::Decimal, &none);
    let b = |e: &str| eval_with(e, FormulaResult::Boolean, &none);
    let s = |e: &str| eval_with(e, FormulaResult::Text, &none);
    assert_eq!(n("amount + 1"), Value::Null);
    assert_eq!(n("-amount"), Value::Null);
    assert_eq!(n("null * 2"), Value::Null);
    assert_eq!(b("amount > 1"), Value::Null);
    assert_eq!(b("name = \"x\""), Value::Null);
    assert_eq!(b("null = null"), Value::Null);
    assert_eq!(b("NOT won"), Value::Null);
    assert_eq!(b("won AND false"), Value::Boolean(false));
    assert_eq!(b("won AND true"), Value::Null);
    assert_eq!(b("won OR true"), Value::Boolean(true));
    assert_eq!(b("won OR false"), Value::Null);
    assert_eq!(b("AND(true, won, false)"), Value::Boolean(false));
    assert_eq!(b("OR(false, won)"), Value::Null);
    assert_eq!(n("IF(won, 1, 2)"), Value::Decimal(200));
    assert_eq!(n("IF(won, 1)"), Value::Null);
    assert_eq!(s("name & \"-\" & null"), t("-"));
    assert_eq!(s("CONCAT(name, null, \"x\", qty)"), t("x"));
    assert_eq!(s("name & \"\""), Value::Null);
    assert_eq!(b("ISBLANK(name)"), Value::Boolean(true));
    assert_eq!(b("ISBLANK(\"\")"), Value::Boolean(true));
    assert_eq!(b("ISBLANK(name & \"\")"), Value::Boolean(true));
    assert_eq!(b("ISBLANK(0)"), Value::Boolean(false));
    assert_eq!(n("COALESCE(amount, qty, 5)"), Value::Decimal(500));
    assert_eq!(n("COALESCE(amount, null)"), Value::Null);
    assert_eq!(n("LEN(name)"), Value::Decimal(0));
    assert_eq!(s("UPPER(name)"), Value::Null);
    assert_eq!(s("TEXT(amount)"), Value::Null);
    assert_eq!(n("MIN(1, amount)"), Value::Null);
    assert_eq!(n("ROUND(amount, 1)"), Value::Null);
    assert_eq!(n("ABS(amount)"), Value::Null);
    assert_eq!(n("YEAR(close_date)"), Value::Null);
    assert_eq!(n("DAYS_BETWEEN(close_date, created_at)"), Value::Null);
}

#[test]
fn functions() {
    assert_eq!(num("IF(1 < 2, 10, 20)"), Value::Decimal(1000));
    assert_eq!(num("if(false, 10, 20)"), Value::Decimal(2000));
    assert_eq!(num("IF(true, null, 3)"), Value::Null);
    assert_eq!(boolean("AND(true, true, 1 = 1)"), Value::Boolean(true));
    assert_eq!(boolean("And(true, false)"), Value::Boolean(false));
    assert_eq!(boolean("OR(false, false, true)"), Value::Boolean(true));
    assert_eq!(boolean("OR(false)"), Value::Boolean(false));
    assert_eq!(boolean("NOT(false)"), Value::Boolean(true));
    assert_eq!(
        text("CONCAT(\"a\", 1.50, true, \"客户\")"),
        t("a1.5true客户")
    );
    assert_eq!(num("ROUND(2.345, 2)"), Value::Decimal(235));
    assert_eq!(num("ROUND(-2.345, 2)"), Value::Decimal(-235));
    assert_eq!(num("ROUND(2.5, 0)"), Value::Decimal(300));
    assert_eq!(num("ROUND(1250, -2)"), Value::Decimal(130_000));
    assert_eq!(num("ROUND(1.23456, 1.9)"), Value::Decimal(120));
    assert_eq!(num("ABS(-3.25)"), Value::Decimal(325));
    assert_eq!(num("MIN(3, 1, 2)"), Value::Decimal(100));
    assert_eq!(num("MAX(3, 1, 2)"), Value::Decimal(300));
    assert_eq!(num("max(-1)"), Value::Decimal(-100));
    assert_eq!(text("MIN(\"b\", \"a\")"), t("a"));
    assert_eq!(num("COALESCE(null, 2, 3)"), Value::Decimal(200));
    assert_eq!(num("LEN(\"重点客户\")"), Value::Decimal(400));
    assert_eq!(num("LEN(\"abc\")"), Value::Decimal(300));
    assert_eq!(text("UPPER(\"abc 中\")"), t("ABC 中"));
    assert_eq!(text("LOWER(\"ABC\")"), t("abc"));
    assert_eq!(boolean("ISBLANK(\"x\")"), Value::Boolean(false));
    assert_eq!(text("TEXT(1234.50)"), t("1234.5"));
    assert_eq!(text("TEXT(-0.05)"), t("-0.05"));
    assert_eq!(text("TEXT(42)"), t("42"));
    assert_eq!(text("TEXT(1 = 1)"), t("true"));
    assert_eq!(text("TEXT(\"x\")"), t("x"));
    assert_eq!(text("TEXT(created_at)"), t("2026-01-10T23:30:00.000000Z"));
    assert_eq!(num("YEAR(created_at)"), Value::Decimal(202_600));
    assert_eq!(num("MONTH(updated_at)"), Value::Decimal(300));
    assert_eq!(
        num("DAYS_BETWEEN(created_at, updated_at)"),
        Value::Decimal(5000)
    );
    assert_eq!(
        num("DAYS_BETWEEN(updated_at, created_at)"),
        Value::Decimal(-5000)
    );
}

#[test]
fn dates_and_system_columns() {
    let d = |y, m, day| Value::Date(NaiveDate::from_ymd_opt(y, m, day).unwrap());
    let values = [
        ("start_date", d(2026, 2, 27)),
        ("close_date", d(2026, 3, 2)),
        (
            "signed_at",
            Value::DateTime(Utc.with_ymd_and_hms(2026, 3, 2, 23, 59, 0).unwrap()),
        ),
    ];
    let n = |e: &str| eval_with(e, FormulaResult::Decimal, &values);
    let b = |e: &str| eval_with(e, FormulaResult::Boolean, &values);
    let s = |e: &str| eval_with(e, FormulaResult::Text, &values);
    assert_eq!(
        n("DAYS_BETWEEN(start_date, close_date)"),
        Value::Decimal(300)
    );
    assert_eq!(n("DAYS_BETWEEN(close_date, signed_at)"), Value::Decimal(0));
    assert_eq!(
        n("DAYS_BETWEEN(created_at, close_date)"),
        Value::Decimal(5100)
    );
    assert_eq!(
        n("YEAR(close_date) * 100 + MONTH(close_date)"),
        Value::Decimal(20_260_300)
    );
    assert_eq!(b("close_date > start_date"), Value::Boolean(true));
    assert_eq!(b("signed_at >= created_at"), Value::Boolean(true));
    assert_eq!(s("MAX(start_date, close_date) & \"\""), t("2026-03-02"));
    assert_eq!(s("id & \":\" & owner_id"), t("r1:u1"));
    assert_eq!(b("ISBLANK(updated_by)"), Value::Boolean(true));
    let f = compile(
        "DAYS_BETWEEN(created_at, close_date)",
        FormulaResult::Decimal,
        None,
    )
    .unwrap();
    assert_eq!(
        f.inputs(),
        vec!["close_date".to_string(), "created_at".to_string()]
    );
}

#[test]
fn type_errors() {
    use FormulaResult::*;
    let cases = [
        (
            "1 + \"a\"",
            Decimal,
            "`+` needs a number, found text (at position 5)",
        ),
        ("-name", Decimal, "`-` needs a number, found text"),
        (
            "name",
            Decimal,
            "gives text but the field's result_type needs number",
        ),
        ("amount", Text, "use TEXT(...)"),
        ("1 = 1", Text, "gives boolean"),
        ("1 = \"1\"", Boolean, "cannot compare number with text"),
        ("won < true", Boolean, "cannot order booleans"),
        (
            "close_date = created_at",
            Boolean,
            "cannot compare date with datetime",
        ),
        (
            "IF(1, 2, 3)",
            Decimal,
            "IF's condition needs a boolean, found number",
        ),
        (
            "IF(won, 1, \"x\")",
            Decimal,
            "IF's arguments must share one type",
        ),
        ("NOT 1", Boolean, "NOT needs a boolean"),
        ("1 AND true", Boolean, "`AND` needs a boolean, found number"),
        ("LEN(3)", Decimal, "LEN needs a text, found number"),
        ("UPPER(won)", Text, "UPPER needs a text"),
        ("ROUND(\"1\", 2)", Decimal, "ROUND needs a number"),
        ("YEAR(3)", Decimal, "YEAR needs a date or datetime"),
        (
            "MAX(1, name)",
            Decimal,
            "MAX's arguments must share one type",
        ),
        ("MIN(won, won)", Boolean, "MIN cannot order booleans"),
        ("COALESCE(qty, name)", Decimal, "must share one type"),
    ];
    for (expr, result, wanted) in cases {
        let message = error(expr, result);
        assert!(message.contains(wanted), "{expr}: {message}");
    }
}

#[test]
fn reference_errors() {
    use FormulaResult::*;
    let cases = [
        ("amout * 2", "unknown field `amout` on deal (at position 1)"),
        (
            "1 + old_note",
            "field `old_note` is archived (at position 5)",
        ),
        ("weighted * 2", "`weighted` is a formula field"),
        ("LEN(tags)", "multi-select field `tags` cannot be used"),
        ("account.name", "formulas cannot follow relations"),
        ("Amount", "unknown field `Amount`"),
        ("version", "unknown field `version`"),
    ];
    for (expr, wanted) in cases {
        let message = error(expr, Decimal);
        assert!(message.contains(wanted), "{expr}: {message}");
    }
    let own = formula_field("me", "me + 1", None, None);
    let mut object = deal();
    object.fields.push(own.clone());
    assert!(Formula::compile(&own, &object).is_err());
    assert!(Formula::compile(object.field("amount").unwrap(), &object).is_err());
    let empty = formula_field("e", "  ", None, None);
    assert!(Formula::compile(&empty, &object).is_err());
    assert!(error("1", Text).contains("gives number"));
    assert!(compile("null", Text, None).is_ok());
}

#[test]
fn syntax_errors_name_the_position() {
    use FormulaResult::*;
    let cases = [
        ("1 +", "the formula ends too early (at position 4)"),
        ("(1 + 2", "`(` is never closed (at position 1)"),
        ("1 + 2)", "unexpected `)` (at position 6)"),
        ("1 2", "unexpected number 2 (at position 3)"),
        ("\"abc", "text is missing its closing `\"` (at position 1)"),
        ("\"a\\q\"", "unknown escape `\\q`"),
        ("1 # 2", "unexpected character '#' (at position 3)"),
        ("1 | 2", "unexpected character '|'"),
        ("FOO(1)", "unknown function `FOO` (at position 1)"),
        ("IF(true)", "IF takes 2 to 3 argument(s), got 1"),
        ("ROUND(1)", "ROUND takes 2 argument(s), got 1"),
        ("MAX()", "MAX takes at least 1 argument(s), got 0"),
        ("ABS(1, 2", "`(` is never closed"),
        ("ABS(1 2)", "expected `,` or `)` but found number 2"),
        ("1.123456789", "more than 8 digits after the point"),
        ("12abc", "malformed number"),
        ("AND 1", "`AND` needs an operand before it"),
        ("重点", "unexpected character '重' (at position 1)"),
        ("1 & \"重点\" +", "ends too early (at position 11)"),
    ];
    for (expr, wanted) in cases {
        let message = error(expr, Decimal);
        assert!(message.contains(wanted), "{expr}: {message}");
    }
}

#[test]
fn hostile_input_is_refused() {
    use FormulaResult::*;
    let long = format!("\"{}\"", "x".repeat(MAX_LEN));
    assert!(error(&long, Text).contains("limit is 2000"));
    let ok = format!("\"{}\"", "中".repeat(MAX_LEN - 2));
    assert!(compile(&ok, Text, None).is_ok());

    let nested = |n: usize| format!("{}1{}", "(".repeat(n), ")".repeat(n));
    assert!(compile(&nested(MAX_DEPTH), Decimal, None).is_ok());
    assert!(error(&nested(MAX_DEPTH + 1), Decimal).contains("deeper than 32"));
    assert!(error(&nested(900), Decimal).contains("deeper than 32"));
    let calls = |n: usize| format!("{}1{}", "ABS(".repeat(n), ")".repeat(n));
    assert!(compile(&calls(MAX_DEPTH), Decimal, None).is_ok());
    assert!(error(&calls(MAX_DEPTH + 1), Decimal).contains("deeper than 32"));
    assert!(error(&"-".repeat(1999), Decimal).contains("deeper than 32"));
    assert!(error(&"NOT ".repeat(400), Boolean).contains("deeper than 32"));

    let chain = |n: usize| vec!["1"; n].join("+");
    assert_eq!(num(&chain(150)), Value::Decimal(15_000));
    assert!(error(&chain(999), Decimal).contains("too complex"));
    let concat = vec!["name"; 390].join("&");
    assert!(error(&concat, Text).contains("too complex"));

    // Text that would grow past the limit becomes null instead.
    let big = "x".repeat(60_000);
    let v = eval_with("name & name", FormulaResult::Text, &[("name", t(&big))]);
    assert_eq!(v, Value::Null);
    let v = eval_with(
        "CONCAT(name, name)",
        FormulaResult::Text,
        &[("name", t(&big))],
    );
    assert_eq!(v, Value::Null);
    assert_eq!(
        eval_with("name", FormulaResult::Text, &[("name", t(&big))]),
        t(&big)
    );
}

#[test]
fn deep_formulas_evaluate_on_a_small_stack() {
    // The deepest trees the limits allow must not exhaust a modest thread stack (they take
    // about 150 KiB in a debug build; server threads have 2 MiB).
    let chain = vec!["1"; MAX_HEIGHT].join("+");
    let nested = format!("{}1{}", "ABS(-(".repeat(10), "))".repeat(10));
    let handle = std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(move || {
            // Every precedence level at every nesting level (parses, then fails on types).
            let worst = format!(
                "{}1{}",
                "1 OR 1 AND 1 = 1 & 1 + 1 * -(".repeat(16),
                ")".repeat(16)
            );
            assert!(compile(&worst, FormulaResult::Boolean, None).is_err());
            (num(&chain), num(&nested))
        })
        .unwrap();
    let (a, b) = handle.join().unwrap();
    assert_eq!(a, Value::Decimal(i64::try_from(MAX_HEIGHT).unwrap() * 100));
    assert_eq!(b, Value::Decimal(100));
}

#[test]
fn wrong_stored_shapes_read_as_null() {
    let v = eval_with("qty + 1", FormulaResult::Decimal, &[("qty", t("3"))]);
    assert_eq!(v, Value::Null);
    let v = eval_with(
        "qty + 1",
        FormulaResult::Decimal,
        &[("qty", Value::Decimal(300))],
    );
    assert_eq!(v, Value::Decimal(30_100));
}
