use super::*;
use crate::metadata::{FieldConfig, FieldDef, FieldType, ObjectDef, SelectOption};
use crate::sql::{Dialect, SqlBuilder, SqlParam};
use crate::Label;
use chrono::TimeZone;
use serde_json::json;
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

fn options(values: &[&str]) -> FieldConfig {
    FieldConfig {
        options: values
            .iter()
            .map(|v| SelectOption {
                value: (*v).into(),
                label: Label::new(*v, *v),
                probability: None,
                color: None,
            })
            .collect(),
        ..Default::default()
    }
}

fn relation(target: &str) -> FieldConfig {
    FieldConfig {
        target: Some(target.into()),
        ..Default::default()
    }
}

fn object(name: &str, fields: Vec<FieldDef>) -> ObjectDef {
    ObjectDef {
        api_name: name.into(),
        label: Label::new(name, name),
        plural_label: Label::new(name, name),
        is_standard: false,
        name_field: "name".into(),
        fields,
        archived_at: None,
        layout: Vec::new(),
    }
}

fn archived_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()
}

fn schema() -> WorkspaceSchema {
    let mut old_field = field("old_code", FieldType::Text, FieldConfig::default());
    old_field.archived_at = Some(archived_at());
    let deal = object(
        "deal",
        vec![
            field(
                "name",
                FieldType::Text,
                FieldConfig {
                    max_length: Some(20),
                    pattern: Some("[A-Za-z ]+".into()),
                    ..Default::default()
                },
            ),
            field("notes", FieldType::LongText, FieldConfig::default()),
            field("amount", FieldType::Currency, FieldConfig::default()),
            field(
                "probability",
                FieldType::Percent,
                FieldConfig {
                    scale: Some(1),
                    min: Some("0".into()),
                    max: Some("100".into()),
                    ..Default::default()
                },
            ),
            field("qty", FieldType::Integer, FieldConfig::default()),
            field("stage", FieldType::Select, options(&["new", "won", "lost"])),
            field(
                "tags",
                FieldType::MultiSelect,
                options(&["hot", "cold", "vip", "50%_off"]),
            ),
            field("closed", FieldType::Boolean, FieldConfig::default()),
            field("close_date", FieldType::Date, FieldConfig::default()),
            field("next_call", FieldType::Datetime, FieldConfig::default()),
            field("email", FieldType::Email, FieldConfig::default()),
            field("phone", FieldType::Phone, FieldConfig::default()),
            field("website", FieldType::Url, FieldConfig::default()),
            field("company", FieldType::Relation, relation("company")),
            field("legacy", FieldType::Relation, relation("legacy")),
            field(
                "score",
                FieldType::Formula,
                FieldConfig {
                    expression: Some("qty * 2".into()),
                    ..Default::default()
                },
            ),
            old_field,
        ],
    );
    let company = object(
        "company",
        vec![
            field("name", FieldType::Text, FieldConfig::default()),
            field(
                "industry",
                FieldType::Select,
                options(&["tech", "retail", "energy"]),
            ),
            field("revenue", FieldType::Decimal, FieldConfig::default()),
            field("labels", FieldType::MultiSelect, options(&["a", "b"])),
            field("parent", FieldType::Relation, relation("company")),
        ],
    );
    let mut legacy = object(
        "legacy",
        vec![field("name", FieldType::Text, FieldConfig::default())],
    );
    legacy.archived_at = Some(archived_at());
    WorkspaceSchema {
        objects: vec![deal, company, legacy],
    }
}

/// 2026-03-31T18:00Z is Wednesday 2026-04-01 02:00 in UTC+8.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 31, 18, 0, 0).unwrap()
}

fn ctx() -> DateContext {
    DateContext::new(now(), 480)
}

fn try_check(json: Json) -> Result<CheckedCondition, CoreError> {
    Condition::parse(&json)?.check(&schema(), "deal", &ctx())
}

fn checked(json: Json) -> CheckedCondition {
    try_check(json.clone()).unwrap_or_else(|e| panic!("{json}: {e:?}"))
}

/// The error path of a condition that fails to parse or check.
fn error_path(json: Json) -> String {
    match Condition::parse(&json).and_then(|c| c.check(&schema(), "deal", &ctx())) {
        Err(CoreError::InvalidCondition { path, .. }) => path,
        other => panic!("expected an invalid condition for {json}, got {other:?}"),
    }
}

fn error_message(json: Json) -> String {
    match try_check(json.clone()) {
        Err(CoreError::InvalidCondition { message, .. }) => message,
        other => panic!("expected an invalid condition for {json}, got {other:?}"),
    }
}

fn record(values: Vec<(&str, Value)>) -> Record {
    Record {
        id: "rec_1".into(),
        version: 1,
        created_at: Utc.with_ymd_and_hms(2026, 3, 31, 16, 0, 0).unwrap(),
        updated_at: Utc.with_ymd_and_hms(2026, 3, 31, 15, 59, 59).unwrap(),
        created_by: Some("user_1".into()),
        updated_by: None,
        owner_id: Some("user_2".into()),
        deleted_at: None,
        values: values
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<BTreeMap<_, _>>(),
        unreadable: Vec::new(),
    }
}

fn no_related(_: &str, _: &str) -> Option<Record> {
    None
}

fn eval(json: Json, r: &Record) -> bool {
    checked(json).eval(r, &no_related)
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn date(s: &str) -> Value {
    Value::Date(chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
}

fn ts(s: &str) -> Value {
    Value::DateTime(crate::value::parse_datetime(s).unwrap())
}

fn multi(items: &[&str]) -> Value {
    Value::List(items.iter().map(|s| s.to_string()).collect())
}

fn sql(json: Json, dialect: Dialect) -> (String, Vec<SqlParam>) {
    let mut b = SqlBuilder::new(dialect);
    checked(json).to_sql(&mut b, "t", &|o: &str| format!("obj_{o}"));
    (b.sql, b.params)
}

fn leaf(field: &str, op: &str, value: Json) -> Json {
    json!({"field": field, "op": op, "value": value})
}

// ---------------------------------------------------------------- parsing

#[test]
fn parses_nested_trees() {
    let c = Condition::parse(&json!({"all": [
        {"field": "amount", "op": "gt", "value": 1000},
        {"any": [{"field": "stage", "op": "eq", "value": "won"}, {"not": {"field": "tags", "op": "is_empty"}}]},
        {"field": "close_date", "op": "today", "value": null}
    ]}))
    .unwrap();
    let Node::All(items) = c.root() else {
        panic!("expected all")
    };
    assert_eq!(items.len(), 3);
    let Node::Leaf(l) = &items[2] else {
        panic!("expected a leaf")
    };
    assert_eq!(l.op, Op::Today);
    assert_eq!(l.value, None);
    assert_eq!(l.path, "/all/2");
    assert!(Condition::parse(&json!({"all": []})).is_ok());
    assert!(Condition::parse(&json!({"any": []})).is_ok());
}

#[test]
fn op_names_round_trip() {
    for op in Op::ALL {
        assert_eq!(Op::from_name(op.name()), Some(op));
        assert_eq!(op.to_string(), op.name());
    }
    assert_eq!(Op::from_name("EQ"), None);
}

#[test]
fn parse_errors_point_at_the_problem() {
    let cases = [
        (json!([1]), "/"),
        (json!("amount > 1"), "/"),
        (json!({}), "/"),
        (
            json!({"all": [leaf("qty", "eq", json!(1)), {"field": "qty", "op": "bogus"}]}),
            "/all/1/op",
        ),
        (
            json!({"field": "qty", "op": "eq", "value": 1, "extra": true}),
            "/extra",
        ),
        (json!({"all": [], "field": "qty"}), "/field"),
        (json!({"all": [], "any": []}), "/any"),
        (json!({"all": {"field": "qty"}}), "/all"),
        (json!({"not": [leaf("qty", "eq", json!(1))]}), "/not"),
        (
            json!({"any": [{"not": {"op": "eq", "value": 1}}]}),
            "/any/0/not/field",
        ),
        (json!({"field": 3, "op": "eq", "value": 1}), "/field"),
        (json!({"field": "", "op": "eq", "value": 1}), "/field"),
        (json!({"field": "qty", "value": 1}), "/op"),
        (json!({"field": "qty", "op": 1, "value": 1}), "/op"),
        (json!({"field": "qty", "op": "eq"}), "/value"),
        (json!({"field": "qty", "op": "eq", "value": null}), "/value"),
        (
            json!({"field": "qty", "op": "is_empty", "value": 1}),
            "/value",
        ),
        (leaf("qty", "between", json!([1, 2, 3])), "/value"),
        (leaf("qty", "between", json!(1)), "/value"),
        (leaf("qty", "between", json!([1, null])), "/value/1"),
        (leaf("qty", "in", json!([])), "/value"),
        (leaf("qty", "in", json!(1)), "/value"),
        (leaf("qty", "not_in", json!([1, null])), "/value/1"),
        (leaf("close_date", "last_n_days", json!(0)), "/value"),
        (leaf("close_date", "last_n_days", json!(3651)), "/value"),
        (leaf("close_date", "next_n_days", json!(1.5)), "/value"),
        (leaf("close_date", "next_n_days", json!("3")), "/value"),
        (leaf("close_date", "next_n_days", json!(-1)), "/value"),
        (
            json!({"field": "close_date", "op": "last_n_days"}),
            "/value",
        ),
        (
            json!({"field": "a/b~c", "op": "eq", "value": 1, "x/y": 1}),
            "/x~1y",
        ),
    ];
    for (input, path) in cases {
        match Condition::parse(&input) {
            Err(CoreError::InvalidCondition { path: p, .. }) => assert_eq!(p, path, "{input}"),
            other => panic!("{input}: expected a parse error, got {other:?}"),
        }
    }
}

#[test]
fn depth_limit() {
    let mut c = leaf("qty", "eq", json!(1));
    for _ in 0..(MAX_DEPTH - 1) {
        c = json!({ "not": c });
    }
    assert!(Condition::parse(&c).is_ok(), "depth {MAX_DEPTH} is allowed");
    let deeper = json!({ "all": [c] });
    let Err(CoreError::InvalidCondition { path, message }) = Condition::parse(&deeper) else {
        panic!("depth 9 must fail")
    };
    assert_eq!(path, format!("/all/0{}", "/not".repeat(MAX_DEPTH - 1)));
    assert!(message.contains("deep"), "{message}");
}

#[test]
fn node_limit() {
    let leaves = |n: usize| json!({ "any": vec![leaf("qty", "eq", json!(1)); n] });
    assert!(Condition::parse(&leaves(MAX_NODES - 1)).is_ok());
    let Err(CoreError::InvalidCondition { path, .. }) = Condition::parse(&leaves(MAX_NODES)) else {
        panic!("201 nodes must fail")
    };
    assert_eq!(path, format!("/any/{}", MAX_NODES - 1));
    assert!(Condition::parse(&leaves(100_000)).is_err());
}

#[test]
fn string_and_list_limits() {
    let ok = "é".repeat(MAX_STRING_CHARS);
    assert!(Condition::parse(&leaf("notes", "contains", json!(ok))).is_ok());
    let long = "a".repeat(MAX_STRING_CHARS + 1);
    assert_eq!(
        error_path(leaf("notes", "contains", json!(long.clone()))),
        "/value"
    );
    assert_eq!(
        error_path(leaf("name", "in", json!(["a", long]))),
        "/value/1"
    );
    let list: Vec<i64> = (0..MAX_LIST_ITEMS as i64).collect();
    assert!(Condition::parse(&leaf("qty", "in", json!(list))).is_ok());
    let list: Vec<i64> = (0..=MAX_LIST_ITEMS as i64).collect();
    assert_eq!(error_path(leaf("qty", "in", json!(list))), "/value");
    // Many full lists exceed the total value budget.
    let full: Vec<i64> = (0..MAX_LIST_ITEMS as i64).collect();
    let many = json!({"all": vec![leaf("qty", "in", json!(full)); 11]});
    assert_eq!(error_path(many), "/all/10/value");
    // Values may not nest deeply.
    assert_eq!(
        error_path(leaf("qty", "eq", json!([[[[1]]]]))),
        "/value/0/0"
    );
    let long_field = "a".repeat(MAX_FIELD_NAME_LEN + 1);
    assert_eq!(error_path(leaf(&long_field, "eq", json!(1))), "/field");
}

// ---------------------------------------------------------------- checking

#[test]
fn unknown_and_hostile_fields_are_refused() {
    for name in [
        "nope",
        "name; DROP TABLE x",
        "\"name\"",
        "Name",
        "old_code",
        "version",
        "deleted_at",
        "amount__currency",
        "company.nope",
        "company.name; --",
        "legacy.name",
        "stage.name",
        "company.parent.name",
        ".name",
        "company.",
    ] {
        assert_eq!(
            error_path(json!({"all": [leaf(name, "is_empty", Json::Null)]})),
            "/all/0/field",
            "{name}"
        );
    }
    match Condition::parse(&leaf("qty", "eq", json!(1)))
        .unwrap()
        .check(&schema(), "legacy", &ctx())
    {
        Err(CoreError::InvalidCondition { path, .. }) => assert_eq!(path, "/"),
        other => panic!("archived object must be unknown: {other:?}"),
    }
    assert!(Condition::parse(&leaf("qty", "eq", json!(1)))
        .unwrap()
        .check(&schema(), "nope", &ctx())
        .is_err());
}

#[test]
fn system_columns_are_fields() {
    let r = record(vec![]);
    assert!(eval(leaf("id", "eq", json!("rec_1")), &r));
    assert!(eval(
        leaf("owner_id", "in", json!(["user_2", "user_3"])),
        &r
    ));
    assert!(eval(leaf("updated_by", "is_empty", Json::Null), &r));
    assert!(eval(leaf("created_by", "ne", json!("user_9")), &r));
    assert!(eval(
        leaf("created_at", "gte", json!("2026-04-01T00:00:00+08:00")),
        &r
    ));
    assert!(!eval(
        leaf("updated_at", "gte", json!("2026-04-01T00:00:00+08:00")),
        &r
    ));
    assert!(eval(leaf("created_at", "today", Json::Null), &r));
    assert!(!eval(leaf("updated_at", "today", Json::Null), &r));
}

#[test]
fn operators_must_fit_the_field_type() {
    let cases = [
        leaf("stage", "gt", json!("new")),
        leaf("stage", "contains", json!("ne")),
        leaf("amount", "contains", json!("1")),
        leaf("name", "today", Json::Null),
        leaf("tags", "eq", json!("hot")),
        leaf("tags", "starts_with", json!("h")),
        leaf("closed", "lt", json!(true)),
        leaf("closed", "in", json!([true])),
        leaf("company", "lt", json!("c1")),
        leaf("owner_id", "contains", json!("u")),
        leaf("qty", "this_week", Json::Null),
    ];
    for c in cases {
        assert_eq!(error_path(c.clone()), "/op", "{c}");
    }
    assert!(error_message(leaf("stage", "gt", json!("new"))).contains("eq, ne, in, not_in"));
}

#[test]
fn values_are_checked_and_normalised() {
    let cases = [
        (leaf("stage", "eq", json!("bogus")), "/value"),
        (leaf("stage", "in", json!(["new", "bogus"])), "/value/1"),
        (leaf("tags", "in", json!(["hot", "zzz"])), "/value/1"),
        (leaf("tags", "contains", json!("zzz")), "/value"),
        (leaf("tags", "contains", json!(["hot"])), "/value"),
        (leaf("qty", "eq", json!("abc")), "/value"),
        (leaf("qty", "eq", json!(1.5)), "/value"),
        (leaf("qty", "between", json!([1, "x"])), "/value/1"),
        (leaf("amount", "gt", json!("1.234")), "/value"),
        (leaf("closed", "eq", json!("true")), "/value"),
        (leaf("close_date", "eq", json!("2026-02-30")), "/value"),
        (leaf("next_call", "lt", json!("2026-01-01")), "/value"),
        (leaf("name", "eq", json!("   ")), "/value"),
        (leaf("name", "contains", json!("  ")), "/value"),
        (leaf("name", "contains", json!(12)), "/value"),
        (leaf("phone", "eq", json!("12")), "/value"),
        (leaf("email", "eq", json!("not an email")), "/value"),
        (leaf("company.industry", "eq", json!("bogus")), "/value"),
    ];
    for (c, path) in cases {
        assert_eq!(error_path(c.clone()), path, "{c}");
    }
    let first = |c: CheckedCondition| match c.root {
        CNode::Leaf(l) => l.test,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        first(checked(leaf("phone", "eq", json!("138 0013 8000")))),
        Test::Eq(Scalar::Text("+8613800138000".into()))
    );
    assert_eq!(
        first(checked(leaf("email", "eq", json!(" Wang@Example.CN ")))),
        Test::Eq(Scalar::Text("wang@example.cn".into()))
    );
    assert_eq!(
        first(checked(leaf(
            "amount",
            "gte",
            json!({"amount": "1000.5", "currency": "USD"})
        ))),
        Test::Gte(Scalar::Int(100050))
    );
    assert_eq!(
        first(checked(leaf("probability", "lt", json!("12.5")))),
        Test::Lt(Scalar::Int(125))
    );
    // The field's own range, length and pattern rules do not restrict condition values.
    assert_eq!(
        first(checked(leaf("probability", "lt", json!(150)))),
        Test::Lt(Scalar::Int(1500))
    );
    assert_eq!(
        first(checked(leaf(
            "name",
            "eq",
            json!("a very long name with digits 123")
        ))),
        Test::Eq(Scalar::Text("a very long name with digits 123".into()))
    );
    assert_eq!(
        first(checked(leaf("name", "contains", json!(" AbC ")))),
        Test::Contains("abc".into())
    );
    assert_eq!(
        first(checked(leaf("phone", "starts_with", json!("+86138")))),
        Test::StartsWith("+86138".into())
    );
    assert_eq!(
        first(checked(leaf("score", "gt", json!("2.5")))),
        Test::Gt(Scalar::Int(250))
    );
    assert_eq!(
        first(checked(leaf(
            "next_call",
            "eq",
            json!("2026-01-31T09:30:00.123456789+08:00")
        ))),
        Test::Eq(Scalar::Ts(
            Utc.with_ymd_and_hms(2026, 1, 31, 1, 30, 0).unwrap()
                + chrono::Duration::microseconds(123_456)
        ))
    );
}

#[test]
fn relation_fields_are_listed_once() {
    let c = checked(json!({"any": [
        leaf("company.industry", "eq", json!("tech")),
        leaf("qty", "gt", json!(1)),
        leaf("company.revenue", "gt", json!(1)),
        {"not": leaf("company.name", "is_empty", Json::Null)}
    ]}));
    assert_eq!(c.relation_fields(), vec!["company".to_string()]);
    assert!(checked(leaf("company", "eq", json!("c1")))
        .relation_fields()
        .is_empty());
}

// ---------------------------------------------------------------- evaluation

#[test]
fn null_semantics() {
    let empty = record(vec![]);
    let null_true = [
        leaf("qty", "ne", json!(1)),
        leaf("qty", "not_in", json!([1, 2])),
        json!({"field": "qty", "op": "is_empty"}),
        leaf("tags", "not_in", json!(["hot"])),
        json!({"field": "tags", "op": "is_empty"}),
        leaf("closed", "ne", json!(true)),
        leaf("closed", "ne", json!(false)),
        leaf("company.industry", "ne", json!("tech")),
    ];
    for c in null_true {
        assert!(eval(c.clone(), &empty), "{c}");
        assert!(!eval(json!({ "not": c.clone() }), &empty), "not {c}");
    }
    let null_false = [
        leaf("qty", "eq", json!(1)),
        leaf("qty", "lt", json!(1)),
        leaf("qty", "lte", json!(1)),
        leaf("qty", "gt", json!(1)),
        leaf("qty", "gte", json!(1)),
        leaf("qty", "between", json!([0, 10])),
        leaf("qty", "in", json!([1])),
        leaf("name", "contains", json!("a")),
        leaf("name", "starts_with", json!("a")),
        json!({"field": "name", "op": "is_not_empty"}),
        leaf("tags", "contains", json!("hot")),
        leaf("tags", "in", json!(["hot"])),
        json!({"field": "tags", "op": "is_not_empty"}),
        leaf("closed", "eq", json!(false)),
        json!({"field": "close_date", "op": "today"}),
        json!({"field": "next_call", "op": "this_month"}),
        leaf("company.industry", "eq", json!("tech")),
    ];
    for c in null_false {
        assert!(!eval(c.clone(), &empty), "{c}");
        assert!(eval(json!({ "not": c.clone() }), &empty), "not {c}");
    }
}

#[test]
fn comparisons() {
    let r = record(vec![
        ("qty", Value::Integer(5)),
        (
            "amount",
            Value::Currency {
                units: 100_000,
                code: "USD".into(),
            },
        ),
        ("probability", Value::Decimal(255)),
        ("name", text("Beta")),
        ("stage", text("won")),
        ("closed", Value::Boolean(false)),
        ("close_date", date("2026-04-01")),
        ("next_call", ts("2026-04-01T10:00:00Z")),
    ]);
    let yes = [
        leaf("qty", "eq", json!(5)),
        leaf("qty", "ne", json!(4)),
        leaf("qty", "lt", json!(6)),
        leaf("qty", "lte", json!(5)),
        leaf("qty", "gt", json!(-1)),
        leaf("qty", "gte", json!(5)),
        leaf("qty", "between", json!([5, 5])),
        leaf("qty", "in", json!([1, 5])),
        leaf("qty", "not_in", json!([1, 2])),
        json!({"field": "qty", "op": "is_not_empty"}),
        // currency compares the amount only, whatever the code
        leaf("amount", "eq", json!({"amount": 1000, "currency": "CNY"})),
        leaf("amount", "between", json!(["999.99", "1000"])),
        leaf("probability", "gt", json!("25.4")),
        leaf("probability", "lt", json!(26)),
        // byte-wise text order: uppercase sorts before lowercase
        leaf("name", "lt", json!("a")),
        leaf("name", "gt", json!("B")),
        leaf("name", "between", json!(["Beta", "Beta"])),
        leaf("stage", "eq", json!("won")),
        leaf("stage", "in", json!(["new", "won"])),
        leaf("stage", "ne", json!("lost")),
        leaf("closed", "eq", json!(false)),
        leaf("closed", "ne", json!(true)),
        leaf("close_date", "gt", json!("2026-03-31")),
        leaf("close_date", "between", json!(["2026-04-01", "2026-04-01"])),
        leaf("close_date", "in", json!(["2026-04-01"])),
        leaf("next_call", "gte", json!("2026-04-01T18:00:00+08:00")),
        leaf("next_call", "lt", json!("2026-04-01T10:00:00.000001Z")),
        leaf("next_call", "eq", json!("2026-04-01T10:00:00.0000009Z")),
    ];
    for c in yes {
        assert!(eval(c.clone(), &r), "{c}");
        assert!(!eval(json!({"not": c.clone()}), &r), "not {c}");
    }
    let no = [
        leaf("qty", "eq", json!(4)),
        leaf("qty", "ne", json!(5)),
        leaf("qty", "lt", json!(5)),
        leaf("qty", "gt", json!(5)),
        leaf("qty", "between", json!([6, 9])),
        leaf("qty", "between", json!([9, 1])),
        leaf("qty", "not_in", json!([5])),
        json!({"field": "qty", "op": "is_empty"}),
        leaf("amount", "gt", json!(1000)),
        leaf("name", "eq", json!("beta")),
        leaf("stage", "not_in", json!(["won"])),
        leaf("closed", "eq", json!(true)),
        leaf("close_date", "lt", json!("2026-04-01")),
        leaf("next_call", "gt", json!("2026-04-01T10:00:00Z")),
    ];
    for c in no {
        assert!(!eval(c.clone(), &r), "{c}");
        assert!(eval(json!({"not": c.clone()}), &r), "not {c}");
    }
}

#[test]
fn text_matching_folds_ascii_only() {
    let r = record(vec![
        ("notes", text("Rapport CRM: 50%_off \\ Ärger ÉTÉ")),
        ("email", text("wang@example.cn")),
    ]);
    let yes = [
        leaf("notes", "contains", json!("crm")),
        leaf("notes", "contains", json!("CRM:")),
        leaf("notes", "contains", json!("50%_OFF")),
        leaf("notes", "contains", json!("\\")),
        leaf("notes", "contains", json!("Ärger")),
        leaf("notes", "starts_with", json!("RAPPORT")),
        leaf("email", "contains", json!("EXAMPLE")),
        leaf("email", "starts_with", json!("wang@")),
    ];
    for c in yes {
        assert!(eval(c.clone(), &r), "{c}");
    }
    let no = [
        leaf("notes", "contains", json!("ärger")),
        leaf("notes", "contains", json!("été")),
        leaf("notes", "contains", json!("50%x")),
        leaf("notes", "starts_with", json!("crm")),
        leaf("email", "starts_with", json!("example")),
    ];
    for c in no {
        assert!(!eval(c.clone(), &r), "{c}");
    }
}

#[test]
fn multi_select() {
    let r = record(vec![("tags", multi(&["hot", "vip"]))]);
    let empty_list = record(vec![("tags", multi(&[]))]);
    let cases = [
        (leaf("tags", "contains", json!("hot")), true, false),
        (leaf("tags", "contains", json!("cold")), false, false),
        (leaf("tags", "in", json!(["cold", "vip"])), true, false),
        (leaf("tags", "in", json!(["cold"])), false, false),
        (leaf("tags", "not_in", json!(["cold"])), true, true),
        (leaf("tags", "not_in", json!(["cold", "hot"])), false, true),
        (json!({"field": "tags", "op": "is_empty"}), false, true),
        (json!({"field": "tags", "op": "is_not_empty"}), true, false),
    ];
    for (c, on_r, on_empty) in cases {
        assert_eq!(eval(c.clone(), &r), on_r, "{c}");
        assert_eq!(eval(c.clone(), &empty_list), on_empty, "{c} on []");
    }
}

#[test]
fn combinators() {
    let r = record(vec![("qty", Value::Integer(5))]);
    assert!(eval(json!({"all": []}), &r));
    assert!(!eval(json!({"any": []}), &r));
    assert!(eval(
        json!({"all": [leaf("qty", "gt", json!(1)), {"any": [leaf("qty", "eq", json!(9)), leaf("qty", "lt", json!(6))]}]}),
        &r
    ));
    assert!(!eval(
        json!({"all": [leaf("qty", "gt", json!(1)), {"not": leaf("qty", "eq", json!(5))}]}),
        &r
    ));
    assert!(eval(
        json!({"not": {"not": leaf("qty", "eq", json!(5))}}),
        &r
    ));
}

#[test]
fn relation_paths_read_the_related_record() {
    let deal = record(vec![("company", text("c1"))]);
    let orphan = record(vec![("company", text("gone"))]);
    let deleted = record(vec![("company", text("c_deleted"))]);
    let related = |rel: &str, id: &str| -> Option<Record> {
        assert_eq!(rel, "company");
        match id {
            "c1" => {
                let mut c = record(vec![
                    ("industry", text("tech")),
                    ("revenue", Value::Decimal(150_000)),
                    ("labels", multi(&["a"])),
                ]);
                c.id = "c1".into();
                Some(c)
            }
            "c_deleted" => {
                let mut c = record(vec![("industry", text("tech"))]);
                c.deleted_at = Some(archived_at());
                Some(c)
            }
            _ => None,
        }
    };
    let run = |json: Json, r: &Record| checked(json).eval(r, &related);
    assert!(run(leaf("company.industry", "eq", json!("tech")), &deal));
    assert!(run(leaf("company.revenue", "gt", json!(1000)), &deal));
    assert!(run(leaf("company.labels", "contains", json!("a")), &deal));
    assert!(run(leaf("company.id", "eq", json!("c1")), &deal));
    assert!(run(leaf("company.name", "is_empty", Json::Null), &deal));
    for missing in [&orphan, &deleted, &record(vec![])] {
        assert!(!run(leaf("company.industry", "eq", json!("tech")), missing));
        assert!(run(leaf("company.industry", "ne", json!("tech")), missing));
        assert!(run(
            leaf("company.industry", "is_empty", Json::Null),
            missing
        ));
        assert!(run(leaf("company.labels", "not_in", json!(["a"])), missing));
    }
}

// ---------------------------------------------------------------- relative dates

fn range_of(json: Json, dates: DateContext) -> (Scalar<'static>, Scalar<'static>, bool) {
    let c = Condition::parse(&json)
        .unwrap()
        .check(&schema(), "deal", &dates)
        .unwrap();
    match c.root {
        CNode::Leaf(CLeaf {
            test:
                Test::Range {
                    lo,
                    hi,
                    hi_inclusive,
                },
            ..
        }) => (lo, hi, hi_inclusive),
        other => panic!("{other:?}"),
    }
}

fn day_range(op: &str, value: Json, dates: DateContext) -> (String, String) {
    let c = if value.is_null() {
        json!({"field": "close_date", "op": op})
    } else {
        leaf("close_date", op, value)
    };
    match range_of(c, dates) {
        (Scalar::Text(lo), Scalar::Text(hi), true) => (lo.into_owned(), hi.into_owned()),
        other => panic!("{other:?}"),
    }
}

fn instant_range(op: &str, value: Json, dates: DateContext) -> (String, String) {
    let c = if value.is_null() {
        json!({"field": "next_call", "op": op})
    } else {
        leaf("next_call", op, value)
    };
    match range_of(c, dates) {
        (Scalar::Ts(lo), Scalar::Ts(hi), false) => (
            crate::value::format_datetime(&lo),
            crate::value::format_datetime(&hi),
        ),
        other => panic!("{other:?}"),
    }
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_string(), b.to_string())
}

#[test]
fn relative_date_bounds_use_local_time() {
    // now = 2026-03-31T18:00Z = Wednesday 2026-04-01 02:00 at UTC+8.
    let cn = ctx();
    assert_eq!(
        day_range("today", Json::Null, cn),
        pair("2026-04-01", "2026-04-01")
    );
    assert_eq!(
        day_range("last_n_days", json!(7), cn),
        pair("2026-03-25", "2026-04-01")
    );
    assert_eq!(
        day_range("next_n_days", json!(30), cn),
        pair("2026-04-01", "2026-05-01")
    );
    assert_eq!(
        day_range("this_week", Json::Null, cn),
        pair("2026-03-30", "2026-04-05")
    );
    assert_eq!(
        day_range("this_month", Json::Null, cn),
        pair("2026-04-01", "2026-04-30")
    );
    assert_eq!(
        day_range("this_quarter", Json::Null, cn),
        pair("2026-04-01", "2026-06-30")
    );
    assert_eq!(
        instant_range("today", Json::Null, cn),
        pair("2026-03-31T16:00:00.000000Z", "2026-04-01T16:00:00.000000Z")
    );
    assert_eq!(
        instant_range("this_week", Json::Null, cn),
        pair("2026-03-29T16:00:00.000000Z", "2026-04-05T16:00:00.000000Z")
    );
    assert_eq!(
        instant_range("last_n_days", json!(1), cn),
        pair("2026-03-30T16:00:00.000000Z", "2026-04-01T16:00:00.000000Z")
    );

    // The same instant in UTC is still Tuesday 2026-03-31, in the first quarter.
    let utc = DateContext::new(now(), 0);
    assert_eq!(
        day_range("today", Json::Null, utc),
        pair("2026-03-31", "2026-03-31")
    );
    assert_eq!(
        day_range("this_month", Json::Null, utc),
        pair("2026-03-01", "2026-03-31")
    );
    assert_eq!(
        day_range("this_quarter", Json::Null, utc),
        pair("2026-01-01", "2026-03-31")
    );
    assert_eq!(
        instant_range("this_month", Json::Null, utc),
        pair("2026-03-01T00:00:00.000000Z", "2026-04-01T00:00:00.000000Z")
    );

    // West of UTC, and across a year end.
    let ny = DateContext::new(Utc.with_ymd_and_hms(2027, 1, 1, 3, 0, 0).unwrap(), -300);
    assert_eq!(
        day_range("today", Json::Null, ny),
        pair("2026-12-31", "2026-12-31")
    );
    assert_eq!(
        day_range("this_quarter", Json::Null, ny),
        pair("2026-10-01", "2026-12-31")
    );
    assert_eq!(
        day_range("this_week", Json::Null, ny),
        pair("2026-12-28", "2027-01-03")
    );
    assert_eq!(
        instant_range("this_month", Json::Null, ny),
        pair("2026-12-01T05:00:00.000000Z", "2027-01-01T05:00:00.000000Z")
    );
    assert_eq!(
        day_range("next_n_days", json!(1), ny),
        pair("2026-12-31", "2027-01-01")
    );
    // Leap day.
    let leap = DateContext::new(Utc.with_ymd_and_hms(2028, 2, 10, 0, 0, 0).unwrap(), 0);
    assert_eq!(
        day_range("this_month", Json::Null, leap),
        pair("2028-02-01", "2028-02-29")
    );
}

#[test]
fn relative_dates_evaluate_on_both_kinds() {
    let at = |s: &str| record(vec![("next_call", ts(s)), ("close_date", date(&s[..10]))]);
    let today = json!({"field": "next_call", "op": "today"});
    assert!(eval(today.clone(), &at("2026-03-31T16:00:00Z")));
    assert!(eval(today.clone(), &at("2026-04-01T15:59:59.999999Z")));
    assert!(!eval(today.clone(), &at("2026-04-01T16:00:00Z")));
    assert!(!eval(today, &at("2026-03-31T15:59:59.999999Z")));
    let day_today = json!({"field": "close_date", "op": "today"});
    assert!(eval(
        day_today.clone(),
        &record(vec![("close_date", date("2026-04-01"))])
    ));
    assert!(!eval(
        day_today,
        &record(vec![("close_date", date("2026-03-31"))])
    ));
    let last = leaf("close_date", "last_n_days", json!(7));
    assert!(eval(
        last.clone(),
        &record(vec![("close_date", date("2026-03-25"))])
    ));
    assert!(!eval(
        last,
        &record(vec![("close_date", date("2026-03-24"))])
    ));
}

// ---------------------------------------------------------------- SQL

#[test]
fn sql_for_comparisons() {
    let c = json!({"all": [
        leaf("amount", "gt", json!(1000)),
        leaf("name", "lt", json!("M")),
        leaf("stage", "ne", json!("lost"))
    ]});
    let (sqlite, params) = sql(c.clone(), Dialect::Sqlite);
    assert_eq!(
        sqlite,
        "((t.\"amount\" IS NOT NULL AND t.\"amount\" > ?1) AND (t.\"name\" IS NOT NULL AND t.\"name\" < ?2) AND (t.\"stage\" IS NOT ?3))"
    );
    assert_eq!(
        params,
        vec![
            SqlParam::Int(100_000),
            SqlParam::Text("M".into()),
            SqlParam::Text("lost".into())
        ]
    );
    let (pg, pg_params) = sql(c, Dialect::Postgres);
    assert_eq!(
        pg,
        "((t.\"amount\" IS NOT NULL AND t.\"amount\" > $1) AND (t.\"name\" IS NOT NULL AND t.\"name\" < $2 COLLATE \"C\") AND (t.\"stage\" IS DISTINCT FROM $3))"
    );
    assert_eq!(pg_params, params);
}

#[test]
fn sql_for_lists_and_emptiness() {
    let c = json!({"any": [
        leaf("qty", "in", json!([1, 2])),
        {"not": leaf("stage", "not_in", json!(["won"]))},
        {"field": "close_date", "op": "is_empty"},
        {"all": []},
        {"any": []}
    ]});
    let (sqlite, params) = sql(c.clone(), Dialect::Sqlite);
    assert_eq!(
        sqlite,
        "((t.\"qty\" IS NOT NULL AND t.\"qty\" IN (?1, ?2)) OR (NOT (t.\"stage\" IS NULL OR t.\"stage\" NOT IN (?3))) OR (t.\"close_date\" IS NULL) OR (1=1) OR (1=0))"
    );
    assert_eq!(
        params,
        vec![
            SqlParam::Int(1),
            SqlParam::Int(2),
            SqlParam::Text("won".into())
        ]
    );
    let (pg, _) = sql(c, Dialect::Postgres);
    assert_eq!(
        pg,
        "((t.\"qty\" IS NOT NULL AND t.\"qty\" IN ($1, $2)) OR (NOT (t.\"stage\" IS NULL OR t.\"stage\" NOT IN ($3))) OR (t.\"close_date\" IS NULL) OR (1=1) OR (1=0))"
    );
}

#[test]
fn sql_for_text_matching() {
    let c = leaf("notes", "contains", json!("50%_Off\\"));
    let (sqlite, params) = sql(c.clone(), Dialect::Sqlite);
    assert_eq!(
        sqlite,
        "(t.\"notes\" IS NOT NULL AND t.\"notes\" LIKE ?1 ESCAPE '\\')"
    );
    assert_eq!(params, vec![SqlParam::Text("%50\\%\\_off\\\\%".into())]);
    let (pg, params) = sql(c, Dialect::Postgres);
    assert_eq!(
        pg,
        "(t.\"notes\" IS NOT NULL AND t.\"notes\" ILIKE $1 COLLATE \"C\" ESCAPE '\\')"
    );
    assert_eq!(params, vec![SqlParam::Text("%50\\%\\_off\\\\%".into())]);
    let (_, params) = sql(leaf("name", "starts_with", json!("Ab")), Dialect::Sqlite);
    assert_eq!(params, vec![SqlParam::Text("ab%".into())]);
}

#[test]
fn sql_for_booleans_and_dates() {
    let c = json!({"all": [
        leaf("closed", "eq", json!(true)),
        {"field": "close_date", "op": "this_month"},
        {"field": "next_call", "op": "today"}
    ]});
    let (sqlite, params) = sql(c.clone(), Dialect::Sqlite);
    assert_eq!(
        sqlite,
        "((t.\"closed\" IS NOT NULL AND t.\"closed\" = ?1) AND (t.\"close_date\" IS NOT NULL AND t.\"close_date\" >= ?2 AND t.\"close_date\" <= ?3) AND (t.\"next_call\" IS NOT NULL AND t.\"next_call\" >= ?4 AND t.\"next_call\" < ?5))"
    );
    assert_eq!(
        params,
        vec![
            SqlParam::Bool(true),
            SqlParam::Text("2026-04-01".into()),
            SqlParam::Text("2026-04-30".into()),
            SqlParam::Text("2026-03-31T16:00:00.000000Z".into()),
            SqlParam::Text("2026-04-01T16:00:00.000000Z".into()),
        ]
    );
    let (pg, params) = sql(c, Dialect::Postgres);
    assert_eq!(
        pg,
        "((t.\"closed\" IS NOT NULL AND t.\"closed\" = $1) AND (t.\"close_date\" IS NOT NULL AND t.\"close_date\" >= $2 COLLATE \"C\" AND t.\"close_date\" <= $3 COLLATE \"C\") AND (t.\"next_call\" IS NOT NULL AND t.\"next_call\" >= $4 AND t.\"next_call\" < $5))"
    );
    assert_eq!(
        params[3],
        SqlParam::Timestamp(Utc.with_ymd_and_hms(2026, 3, 31, 16, 0, 0).unwrap())
    );
}

#[test]
fn sql_for_multi_select() {
    let c = json!({"all": [
        leaf("tags", "in", json!(["hot", "vip"])),
        leaf("tags", "not_in", json!(["cold"])),
        {"field": "tags", "op": "is_empty"},
        {"field": "tags", "op": "is_not_empty"}
    ]});
    let (sqlite, params) = sql(c.clone(), Dialect::Sqlite);
    assert_eq!(
        sqlite,
        "((EXISTS (SELECT 1 FROM json_each(t.\"tags\") AS je WHERE je.value IN (?1, ?2))) AND (NOT (EXISTS (SELECT 1 FROM json_each(t.\"tags\") AS je WHERE je.value IN (?3)))) AND (NOT EXISTS (SELECT 1 FROM json_each(t.\"tags\"))) AND (EXISTS (SELECT 1 FROM json_each(t.\"tags\"))))"
    );
    assert_eq!(
        params,
        vec![
            SqlParam::Text("hot".into()),
            SqlParam::Text("vip".into()),
            SqlParam::Text("cold".into())
        ]
    );
    let (pg, _) = sql(c, Dialect::Postgres);
    assert_eq!(
        pg,
        "((t.\"tags\" IS NOT NULL AND (t.\"tags\" @> jsonb_build_array(CAST($1 AS TEXT)) OR t.\"tags\" @> jsonb_build_array(CAST($2 AS TEXT)))) AND (NOT (t.\"tags\" IS NOT NULL AND (t.\"tags\" @> jsonb_build_array(CAST($3 AS TEXT))))) AND (t.\"tags\" IS NULL OR t.\"tags\" = CAST('[]' AS JSONB)) AND (t.\"tags\" IS NOT NULL AND t.\"tags\" <> CAST('[]' AS JSONB)))"
    );
}

#[test]
fn sql_for_relation_paths() {
    let sub = "(SELECT rel.\"industry\" FROM \"obj_company\" rel WHERE rel.\"id\" = t.\"company\" AND rel.\"deleted_at\" IS NULL)";
    let (sqlite, params) = sql(
        leaf("company.industry", "eq", json!("tech")),
        Dialect::Sqlite,
    );
    assert_eq!(sqlite, format!("({sub} IS NOT NULL AND {sub} = ?1)"));
    assert_eq!(params, vec![SqlParam::Text("tech".into())]);
    let (pg, _) = sql(
        leaf("company.industry", "ne", json!("tech")),
        Dialect::Postgres,
    );
    assert_eq!(pg, format!("({sub} IS DISTINCT FROM $1)"));

    // The inner aliases never shadow the outer one.
    let c = checked(json!({"all": [
        leaf("company.labels", "contains", json!("a")),
        leaf("tags", "contains", json!("hot"))
    ]}));
    let mut b = SqlBuilder::new(Dialect::Sqlite);
    c.to_sql(&mut b, "rel", &|o: &str| format!("\"obj_{o}\""));
    assert_eq!(
        b.sql,
        "((EXISTS (SELECT 1 FROM json_each((SELECT rel_1.\"labels\" FROM \"obj_company\" rel_1 WHERE rel_1.\"id\" = rel.\"company\" AND rel_1.\"deleted_at\" IS NULL)) AS je WHERE je.value IN (?1))) AND (EXISTS (SELECT 1 FROM json_each(rel.\"tags\") AS je WHERE je.value IN (?2))))"
    );
    let mut b = SqlBuilder::new(Dialect::Sqlite);
    checked(leaf("tags", "contains", json!("hot"))).to_sql(&mut b, "je", &|o: &str| o.into());
    assert_eq!(
        b.sql,
        "(EXISTS (SELECT 1 FROM json_each(je.\"tags\") AS je_1 WHERE je_1.value IN (?1)))"
    );
}

#[test]
fn sql_appends_after_existing_parameters() {
    let mut b = SqlBuilder::new(Dialect::Postgres);
    b.push("SELECT * FROM deals t WHERE t.\"owner_id\" = ");
    b.bind(SqlParam::Text("u1".into()));
    b.push(" AND ");
    checked(leaf("qty", "between", json!([1, 9]))).to_sql(&mut b, "t", &|o: &str| o.into());
    assert_eq!(
        b.sql,
        "SELECT * FROM deals t WHERE t.\"owner_id\" = $1 AND (t.\"qty\" IS NOT NULL AND t.\"qty\" >= $2 AND t.\"qty\" <= $3)"
    );
    assert_eq!(b.params.len(), 3);
}
