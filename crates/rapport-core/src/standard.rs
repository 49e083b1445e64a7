//! The standard objects every workspace starts with: companies, contacts, leads, deals,
//! activities, tasks, notes, tickets and campaigns, with bilingual labels and record-page
//! layouts. They are ordinary objects (the workspace may add, archive and relabel fields); they
//! are only marked `is_standard` so the UI can tell them from custom ones.
//!
//! Design choices:
//! - A contact's and a lead's name is one `name` field holding the full name: Chinese names
//!   are not split into given and family name, and one field keeps search and display simple.
//! - Money is CNY unless a value says otherwise; phone numbers without a country code are read
//!   as Chinese (the default region, so `default_region` stays unset).
//! - Relations to company, contact and deal are named after their target, so a record page can
//!   show "Company" / "公司" and the target's page a reverse list such as "Deals" / "商机".

use crate::metadata::{FieldConfig, FieldDef, FieldType, LayoutSection, ObjectDef, SelectOption};
use crate::Label;

/// Currency of the standard money fields.
const DEFAULT_CURRENCY: &str = "CNY";

/// The identity of a standard object: api name and bilingual labels (Chinese has no plural).
#[derive(Clone, Copy)]
struct Obj {
    api: &'static str,
    en: &'static str,
    plural_en: &'static str,
    zh: &'static str,
}

const COMPANY: Obj = Obj {
    api: "company",
    en: "Company",
    plural_en: "Companies",
    zh: "公司",
};
const CONTACT: Obj = Obj {
    api: "contact",
    en: "Contact",
    plural_en: "Contacts",
    zh: "联系人",
};
const LEAD: Obj = Obj {
    api: "lead",
    en: "Lead",
    plural_en: "Leads",
    zh: "线索",
};
const DEAL: Obj = Obj {
    api: "deal",
    en: "Deal",
    plural_en: "Deals",
    zh: "商机",
};
const ACTIVITY: Obj = Obj {
    api: "activity",
    en: "Activity",
    plural_en: "Activities",
    zh: "活动",
};
const TASK: Obj = Obj {
    api: "task",
    en: "Task",
    plural_en: "Tasks",
    zh: "任务",
};
const NOTE: Obj = Obj {
    api: "note",
    en: "Note",
    plural_en: "Notes",
    zh: "备注",
};
const TICKET: Obj = Obj {
    api: "ticket",
    en: "Ticket",
    plural_en: "Tickets",
    zh: "工单",
};
const CAMPAIGN: Obj = Obj {
    api: "campaign",
    en: "Campaign",
    plural_en: "Campaigns",
    zh: "营销活动",
};

/// A layout section: English label, Chinese label, field api names.
type Section<'a> = (&'a str, &'a str, &'a [&'a str]);

/// Option tuples: value, English label, Chinese label.
type Opt<'a> = (&'a str, &'a str, &'a str);

const BASIC: (&str, &str) = ("Basic information", "基本信息");
const CONTACT_INFO: (&str, &str) = ("Contact information", "联系方式");
const ADDRESS: (&str, &str) = ("Address", "地址信息");
const RELATED: (&str, &str) = ("Related records", "关联信息");
const MORE: (&str, &str) = ("Additional information", "附加信息");

// Colours of options, as CSS hex so any front end can use them.
const GREY: &str = "#9ca3af";
const BLUE: &str = "#3b82f6";
const CYAN: &str = "#06b6d4";
const PURPLE: &str = "#8b5cf6";
const ORANGE: &str = "#f97316";
const GREEN: &str = "#22c55e";
const RED: &str = "#ef4444";

/// All standard objects, in the order a new workspace lists them.
pub fn standard_objects() -> Vec<ObjectDef> {
    vec![
        company(),
        contact(),
        lead(),
        deal(),
        activity(),
        task(),
        note(),
        ticket(),
        campaign(),
    ]
}

fn company() -> ObjectDef {
    let fields = vec![
        required(text("name", "Company name", "公司名称")),
        field("website", "Website", "官网", FieldType::Url),
        select("industry", "Industry", "行业", industry_options()),
        select(
            "tier",
            "Account tier",
            "客户等级",
            colored(
                options(&[
                    ("a", "Tier A (key account)", "A 类（重点客户）"),
                    ("b", "Tier B", "B 类（重要客户）"),
                    ("c", "Tier C", "C 类（普通客户）"),
                ]),
                &[RED, ORANGE, BLUE],
            ),
        ),
        bounded(
            field("employees", "Employees", "员工人数", FieldType::Integer),
            Some("0"),
            None,
        ),
        money("annual_revenue", "Annual revenue", "年营业额"),
        field("phone", "Phone", "电话", FieldType::Phone),
        field("email", "Email", "邮箱", FieldType::Email),
        text("country", "Country/Region", "国家/地区"),
        text("province", "Province/State", "省份"),
        text("city", "City", "城市"),
        field("address", "Street address", "详细地址", FieldType::LongText),
        description(),
    ];
    object(
        COMPANY,
        "name",
        fields,
        &[
            (
                BASIC.0,
                BASIC.1,
                &[
                    "name",
                    "website",
                    "industry",
                    "tier",
                    "employees",
                    "annual_revenue",
                    "phone",
                    "email",
                ],
            ),
            (
                ADDRESS.0,
                ADDRESS.1,
                &["country", "province", "city", "address"],
            ),
            (MORE.0, MORE.1, &["description"]),
        ],
    )
}

fn contact() -> ObjectDef {
    let fields = vec![
        required(text("name", "Name", "姓名")),
        text("title", "Job title", "职位"),
        relation(COMPANY, CONTACT),
        select(
            "lifecycle_stage",
            "Lifecycle stage",
            "生命周期阶段",
            options(&[
                ("subscriber", "Subscriber", "订阅者"),
                ("lead", "Lead", "线索"),
                ("mql", "Marketing qualified lead", "市场认可线索（MQL）"),
                ("sql", "Sales qualified lead", "销售认可线索（SQL）"),
                ("opportunity", "Opportunity", "商机"),
                ("customer", "Customer", "客户"),
                ("evangelist", "Evangelist", "忠实推荐者"),
                ("churned", "Churned", "流失"),
            ]),
        ),
        unique(field("email", "Email", "邮箱", FieldType::Email)),
        field("phone", "Phone", "电话", FieldType::Phone),
        field("mobile", "Mobile", "手机", FieldType::Phone),
        text("wechat", "WeChat", "微信"),
        text("city", "City", "城市"),
        field("birthday", "Birthday", "生日", FieldType::Date),
        description(),
    ];
    object(
        CONTACT,
        "name",
        fields,
        &[
            (
                BASIC.0,
                BASIC.1,
                &["name", "title", "company", "lifecycle_stage", "birthday"],
            ),
            (
                CONTACT_INFO.0,
                CONTACT_INFO.1,
                &["email", "phone", "mobile", "wechat", "city"],
            ),
            (MORE.0, MORE.1, &["description"]),
        ],
    )
}

fn lead() -> ObjectDef {
    let fields = vec![
        required(text("name", "Name", "姓名")),
        text("company_name", "Company name", "公司名称"),
        field("email", "Email", "邮箱", FieldType::Email),
        field("phone", "Phone", "电话", FieldType::Phone),
        select("source", "Source", "来源", source_options()),
        select(
            "status",
            "Status",
            "状态",
            colored(
                options(&[
                    ("new", "New", "新线索"),
                    ("working", "Working", "跟进中"),
                    ("qualified", "Qualified", "已确认"),
                    ("unqualified", "Unqualified", "无效"),
                    ("converted", "Converted", "已转化"),
                ]),
                &[BLUE, CYAN, PURPLE, GREY, GREEN],
            ),
        ),
        select(
            "rating",
            "Rating",
            "意向等级",
            colored(
                options(&[
                    ("hot", "Hot", "热"),
                    ("warm", "Warm", "温"),
                    ("cold", "Cold", "冷"),
                ]),
                &[RED, ORANGE, BLUE],
            ),
        ),
        select(
            "region",
            "Region",
            "区域",
            options(&[
                ("east", "East China", "华东"),
                ("north", "North China", "华北"),
                ("south", "South China", "华南"),
                ("central", "Central China", "华中"),
                ("west", "West China", "西部"),
                ("overseas", "Overseas", "海外"),
            ]),
        ),
        select("industry", "Industry", "行业", industry_options()),
        description(),
    ];
    object(
        LEAD,
        "name",
        fields,
        &[
            (
                BASIC.0,
                BASIC.1,
                &["name", "company_name", "email", "phone"],
            ),
            (
                MORE.0,
                MORE.1,
                &[
                    "source",
                    "status",
                    "rating",
                    "region",
                    "industry",
                    "description",
                ],
            ),
        ],
    )
}

fn deal() -> ObjectDef {
    let fields = vec![
        required(text("name", "Deal name", "商机名称")),
        relation(COMPANY, DEAL),
        relation(CONTACT, DEAL),
        bounded(money("amount", "Amount", "金额"), Some("0"), None),
        select("stage", "Stage", "销售阶段", deal_stages()),
        field("close_date", "Close date", "预计成交日期", FieldType::Date),
        bounded(
            field("probability", "Probability", "赢率", FieldType::Percent),
            Some("0"),
            Some("100"),
        ),
        select(
            "type",
            "Type",
            "商机类型",
            options(&[
                ("new_business", "New business", "新业务"),
                ("renewal", "Renewal", "续约"),
                ("upsell", "Upsell", "增购"),
            ]),
        ),
        select("source", "Source", "来源", source_options()),
        text("next_step", "Next step", "下一步"),
        description(),
    ];
    object(
        DEAL,
        "name",
        fields,
        &[
            (
                BASIC.0,
                BASIC.1,
                &[
                    "name",
                    "company",
                    "contact",
                    "amount",
                    "stage",
                    "close_date",
                    "probability",
                ],
            ),
            (
                MORE.0,
                MORE.1,
                &["type", "source", "next_step", "description"],
            ),
        ],
    )
}

fn activity() -> ObjectDef {
    let mut fields = vec![
        required(text("subject", "Subject", "主题")),
        select(
            "type",
            "Type",
            "类型",
            options(&[
                ("call", "Call", "电话"),
                ("meeting", "Meeting", "会议"),
                ("email", "Email", "邮件"),
                ("visit", "Visit", "拜访"),
            ]),
        ),
        field(
            "occurred_at",
            "Date and time",
            "发生时间",
            FieldType::Datetime,
        ),
        bounded(
            field(
                "duration_minutes",
                "Duration (minutes)",
                "时长（分钟）",
                FieldType::Integer,
            ),
            Some("0"),
            None,
        ),
        text("outcome", "Outcome", "结果"),
        field("notes", "Notes", "纪要", FieldType::LongText),
    ];
    fields.extend(crm_links(ACTIVITY));
    object(
        ACTIVITY,
        "subject",
        fields,
        &[
            (
                BASIC.0,
                BASIC.1,
                &[
                    "subject",
                    "type",
                    "occurred_at",
                    "duration_minutes",
                    "outcome",
                    "notes",
                ],
            ),
            (RELATED.0, RELATED.1, &["company", "contact", "deal"]),
        ],
    )
}

fn task() -> ObjectDef {
    let mut fields = vec![
        required(text("title", "Title", "标题")),
        field("due_date", "Due date", "截止日期", FieldType::Date),
        select(
            "status",
            "Status",
            "状态",
            colored(
                options(&[
                    ("not_started", "Not started", "未开始"),
                    ("in_progress", "In progress", "进行中"),
                    ("completed", "Completed", "已完成"),
                    ("deferred", "Deferred", "已推迟"),
                ]),
                &[GREY, BLUE, GREEN, ORANGE],
            ),
        ),
        select("priority", "Priority", "优先级", priority_options(false)),
        field("assigned_to", "Assigned to", "执行人", FieldType::User),
        description(),
    ];
    fields.extend(crm_links(TASK));
    object(
        TASK,
        "title",
        fields,
        &[
            (
                BASIC.0,
                BASIC.1,
                &[
                    "title",
                    "due_date",
                    "status",
                    "priority",
                    "assigned_to",
                    "description",
                ],
            ),
            (RELATED.0, RELATED.1, &["company", "contact", "deal"]),
        ],
    )
}

fn note() -> ObjectDef {
    let mut fields = vec![
        required(text("title", "Title", "标题")),
        field("body", "Body", "内容", FieldType::LongText),
    ];
    fields.extend(crm_links(NOTE));
    object(
        NOTE,
        "title",
        fields,
        &[
            (BASIC.0, BASIC.1, &["title", "body"]),
            (RELATED.0, RELATED.1, &["company", "contact", "deal"]),
        ],
    )
}

fn ticket() -> ObjectDef {
    let fields = vec![
        required(text("subject", "Subject", "主题")),
        select(
            "status",
            "Status",
            "状态",
            colored(
                options(&[
                    ("new", "New", "新建"),
                    ("open", "Open", "处理中"),
                    ("pending", "Pending", "待回复"),
                    ("resolved", "Resolved", "已解决"),
                    ("closed", "Closed", "已关闭"),
                ]),
                &[BLUE, CYAN, ORANGE, GREEN, GREY],
            ),
        ),
        select("priority", "Priority", "优先级", priority_options(true)),
        select(
            "channel",
            "Channel",
            "渠道",
            options(&[
                ("phone", "Phone", "电话"),
                ("email", "Email", "邮件"),
                ("wecom", "WeCom", "企业微信"),
                ("web", "Web", "网页"),
                ("app", "App", "App"),
            ]),
        ),
        relation(CONTACT, TICKET),
        relation(COMPANY, TICKET),
        field(
            "resolved_at",
            "Resolved at",
            "解决时间",
            FieldType::Datetime,
        ),
        description(),
    ];
    object(
        TICKET,
        "subject",
        fields,
        &[
            (
                BASIC.0,
                BASIC.1,
                &[
                    "subject",
                    "status",
                    "priority",
                    "channel",
                    "resolved_at",
                    "description",
                ],
            ),
            (RELATED.0, RELATED.1, &["contact", "company"]),
        ],
    )
}

fn campaign() -> ObjectDef {
    let fields = vec![
        required(text("name", "Campaign name", "活动名称")),
        select(
            "type",
            "Type",
            "类型",
            options(&[
                ("email", "Email", "邮件营销"),
                ("event", "Event", "线下活动"),
                ("ad", "Advertising", "广告投放"),
                ("wecom", "WeCom", "企业微信"),
                ("sms", "SMS", "短信"),
                ("webinar", "Webinar", "线上研讨会"),
            ]),
        ),
        select(
            "status",
            "Status",
            "状态",
            colored(
                options(&[
                    ("planned", "Planned", "计划中"),
                    ("active", "Active", "进行中"),
                    ("completed", "Completed", "已完成"),
                    ("aborted", "Aborted", "已中止"),
                ]),
                &[GREY, BLUE, GREEN, RED],
            ),
        ),
        field("start_date", "Start date", "开始日期", FieldType::Date),
        field("end_date", "End date", "结束日期", FieldType::Date),
        money("budget", "Budget", "预算"),
        money("expected_revenue", "Expected revenue", "预期收入"),
        description(),
    ];
    object(
        CAMPAIGN,
        "name",
        fields,
        &[
            (
                BASIC.0,
                BASIC.1,
                &["name", "type", "status", "start_date", "end_date"],
            ),
            (
                MORE.0,
                MORE.1,
                &["budget", "expected_revenue", "description"],
            ),
        ],
    )
}

/// Industries shared by companies and leads.
fn industry_options() -> Vec<SelectOption> {
    options(&[
        ("manufacturing", "Manufacturing", "制造业"),
        ("retail", "Retail", "零售"),
        ("finance", "Finance", "金融"),
        ("technology", "Technology & internet", "科技/互联网"),
        ("healthcare", "Healthcare", "医疗健康"),
        ("education", "Education", "教育"),
        ("real_estate", "Real estate", "房地产"),
        ("logistics", "Logistics", "物流"),
        ("energy", "Energy", "能源"),
        ("other", "Other", "其他"),
    ])
}

/// Where leads and deals come from.
fn source_options() -> Vec<SelectOption> {
    options(&[
        ("website", "Website", "官网"),
        ("referral", "Referral", "客户推荐"),
        ("event", "Event", "展会"),
        ("ad", "Advertising", "广告"),
        ("wecom", "WeCom", "企业微信"),
        ("cold_call", "Cold call", "电话陌拜"),
        ("other", "Other", "其他"),
    ])
}

/// Task priorities; tickets add "urgent" on top.
fn priority_options(with_urgent: bool) -> Vec<SelectOption> {
    let urgent = [("urgent", "Urgent", "紧急")];
    let rest = [
        ("high", "High", "高"),
        ("normal", "Normal", "普通"),
        ("low", "Low", "低"),
    ];
    let (list, colors): (Vec<Opt>, &[&str]) = if with_urgent {
        (
            urgent.iter().chain(rest.iter()).copied().collect(),
            &[RED, ORANGE, BLUE, GREY],
        )
    } else {
        (rest.to_vec(), &[ORANGE, BLUE, GREY])
    };
    colored(options(&list), colors)
}

/// The sales pipeline, with the win probability of each stage.
fn deal_stages() -> Vec<SelectOption> {
    let stages: [(Opt, u8, &str); 6] = [
        (("prospecting", "Prospecting", "初步接洽"), 10, GREY),
        (("qualification", "Qualification", "需求确认"), 20, BLUE),
        (("proposal", "Proposal", "方案报价"), 50, CYAN),
        (("negotiation", "Negotiation", "商务谈判"), 75, PURPLE),
        (("closed_won", "Closed won", "赢单"), 100, GREEN),
        (("closed_lost", "Closed lost", "输单"), 0, RED),
    ];
    stages
        .iter()
        .map(|&((value, en, zh), probability, color)| SelectOption {
            value: value.to_owned(),
            label: Label::new(en, zh),
            probability: Some(probability),
            color: Some(color.to_owned()),
        })
        .collect()
}

fn options(list: &[Opt]) -> Vec<SelectOption> {
    list.iter()
        .map(|&(value, en, zh)| SelectOption {
            value: value.to_owned(),
            label: Label::new(en, zh),
            probability: None,
            color: None,
        })
        .collect()
}

/// Gives options their colours, in order.
fn colored(mut options: Vec<SelectOption>, colors: &[&str]) -> Vec<SelectOption> {
    for (option, color) in options.iter_mut().zip(colors) {
        option.color = Some((*color).to_owned());
    }
    options
}

fn object(obj: Obj, name_field: &str, fields: Vec<FieldDef>, sections: &[Section]) -> ObjectDef {
    ObjectDef {
        api_name: obj.api.to_owned(),
        label: Label::new(obj.en, obj.zh),
        plural_label: Label::new(obj.plural_en, obj.zh),
        is_standard: true,
        name_field: name_field.to_owned(),
        fields,
        archived_at: None,
        layout: sections
            .iter()
            .map(|&(en, zh, names)| LayoutSection {
                label: Label::new(en, zh),
                fields: names.iter().map(|n| (*n).to_owned()).collect(),
            })
            .collect(),
    }
}

fn field(api: &str, en: &str, zh: &str, field_type: FieldType) -> FieldDef {
    FieldDef {
        api_name: api.to_owned(),
        label: Label::new(en, zh),
        field_type,
        required: false,
        unique: false,
        config: FieldConfig::default(),
        is_standard: true,
        archived_at: None,
    }
}

fn text(api: &str, en: &str, zh: &str) -> FieldDef {
    field(api, en, zh, FieldType::Text)
}

fn description() -> FieldDef {
    field("description", "Description", "描述", FieldType::LongText)
}

fn select(api: &str, en: &str, zh: &str, options: Vec<SelectOption>) -> FieldDef {
    let mut f = field(api, en, zh, FieldType::Select);
    f.config.options = options;
    f
}

fn money(api: &str, en: &str, zh: &str) -> FieldDef {
    let mut f = field(api, en, zh, FieldType::Currency);
    f.config.default_currency = Some(DEFAULT_CURRENCY.to_owned());
    f
}

/// A relation named after its target, listed on the target's records under `from`'s plural.
fn relation(target: Obj, from: Obj) -> FieldDef {
    let mut f = field(target.api, target.en, target.zh, FieldType::Relation);
    f.config.target = Some(target.api.to_owned());
    f.config.reverse_label = Some(Label::new(from.plural_en, from.zh));
    f
}

/// Company, contact and deal relations of activities, tasks and notes.
fn crm_links(from: Obj) -> Vec<FieldDef> {
    [COMPANY, CONTACT, DEAL]
        .into_iter()
        .map(|target| relation(target, from))
        .collect()
}

fn required(mut f: FieldDef) -> FieldDef {
    f.required = true;
    f
}

fn unique(mut f: FieldDef) -> FieldDef {
    f.unique = true;
    f
}

fn bounded(mut f: FieldDef, min: Option<&str>, max: Option<&str>) -> FieldDef {
    f.config.min = min.map(str::to_owned);
    f.config.max = max.map(str::to_owned);
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::WorkspaceSchema;
    use crate::names::SYSTEM_COLUMNS;
    use std::collections::{HashMap, HashSet};

    fn schema() -> WorkspaceSchema {
        WorkspaceSchema {
            objects: standard_objects(),
        }
    }

    fn obj(api: &str) -> ObjectDef {
        schema().object(api).cloned().expect("standard object")
    }

    #[test]
    fn standard_has_the_expected_objects() {
        let names: Vec<String> = standard_objects().into_iter().map(|o| o.api_name).collect();
        assert_eq!(
            names,
            [
                "company", "contact", "lead", "deal", "activity", "task", "note", "ticket",
                "campaign"
            ]
        );
    }

    #[test]
    fn standard_objects_validate() {
        for o in standard_objects() {
            o.validate()
                .unwrap_or_else(|e| panic!("{} fails validation: {e:?}", o.api_name));
            assert!(o.is_standard && o.is_active(), "{}", o.api_name);
            let name = o.field(&o.name_field).expect("name field");
            assert!(name.required, "{} name field is required", o.api_name);
            for f in &o.fields {
                assert!(f.is_standard, "{}.{}", o.api_name, f.api_name);
                assert!(f.is_active());
                assert!(!SYSTEM_COLUMNS.contains(&f.api_name.as_str()));
            }
        }
    }

    #[test]
    fn standard_relation_targets_exist() {
        let schema = schema();
        let mut relations = 0;
        for o in &schema.objects {
            for f in o
                .fields
                .iter()
                .filter(|f| f.field_type == FieldType::Relation)
            {
                relations += 1;
                let target = f.config.target.as_deref().expect("target");
                assert!(
                    schema.active_object(target).is_some(),
                    "{}.{} -> {target}",
                    o.api_name,
                    f.api_name
                );
                let reverse = f.config.reverse_label.as_ref().expect("reverse label");
                assert!(!reverse.is_blank());
            }
        }
        assert_eq!(relations, 14);
        let reverse: HashSet<String> = schema
            .relations_to("company")
            .map(|(_, f)| f.config.reverse_label.clone().expect("reverse").zh)
            .collect();
        for zh in ["联系人", "商机", "活动", "任务", "备注", "工单"] {
            assert!(reverse.contains(zh), "company lists {zh}");
        }
    }

    #[test]
    fn standard_layouts_cover_every_field_once() {
        for o in standard_objects() {
            assert!(
                (2..=3).contains(&o.layout.len()),
                "{} has {} sections",
                o.api_name,
                o.layout.len()
            );
            let mut count: HashMap<&str, usize> = HashMap::new();
            for section in &o.layout {
                assert!(!section.label.is_blank());
                assert!(!section.fields.is_empty());
                for name in &section.fields {
                    assert!(o.field(name).is_some(), "{}: {name}", o.api_name);
                    *count.entry(name.as_str()).or_default() += 1;
                }
            }
            for f in o.active_fields() {
                assert_eq!(
                    count.get(f.api_name.as_str()).copied(),
                    Some(1),
                    "{}.{} must be in exactly one section",
                    o.api_name,
                    f.api_name
                );
            }
            assert_eq!(count.len(), o.fields.len());
        }
    }

    #[test]
    fn standard_deal_stages_have_probabilities() {
        let deal = obj("deal");
        let stage = deal.field("stage").expect("stage");
        assert_eq!(stage.config.options.len(), 6);
        for option in &stage.config.options {
            assert!(option.probability.is_some(), "{}", option.value);
            assert!(option.color.is_some(), "{}", option.value);
        }
        assert_eq!(
            stage.option("closed_won").and_then(|o| o.probability),
            Some(100)
        );
        assert_eq!(
            stage.option("closed_lost").and_then(|o| o.probability),
            Some(0)
        );
        assert_eq!(
            stage.option("proposal").map(|o| o.label.zh.as_str()),
            Some("方案报价")
        );
        let probability = deal.field("probability").expect("probability");
        assert_eq!(probability.field_type, FieldType::Percent);
        assert_eq!(probability.config.min.as_deref(), Some("0"));
        assert_eq!(probability.config.max.as_deref(), Some("100"));
    }

    #[test]
    fn standard_labels_are_bilingual() {
        let expected = [
            ("company", "公司"),
            ("contact", "联系人"),
            ("lead", "线索"),
            ("deal", "商机"),
            ("activity", "活动"),
            ("task", "任务"),
            ("note", "备注"),
            ("ticket", "工单"),
            ("campaign", "营销活动"),
        ];
        for (api, zh) in expected {
            let o = obj(api);
            assert_eq!(o.label.zh, zh);
            for label in [&o.label, &o.plural_label] {
                assert!(!label.zh.trim().is_empty());
                assert_ne!(label.en, label.zh);
            }
            for f in &o.fields {
                assert!(!f.label.is_blank());
                for option in &f.config.options {
                    assert!(!option.label.is_blank(), "{api}.{}", f.api_name);
                }
            }
        }
    }

    #[test]
    fn standard_shared_option_lists_match() {
        let industry = |o: &str| {
            obj(o)
                .field("industry")
                .expect("industry")
                .config
                .options
                .clone()
        };
        assert_eq!(industry("company"), industry("lead"));
        assert_eq!(industry("company").len(), 10);
        let source = |o: &str| {
            obj(o)
                .field("source")
                .expect("source")
                .config
                .options
                .clone()
        };
        assert_eq!(source("lead"), source("deal"));
        let ticket = obj("ticket");
        let priorities: Vec<&str> = ticket
            .field("priority")
            .expect("priority")
            .config
            .options
            .iter()
            .map(|o| o.value.as_str())
            .collect();
        assert_eq!(priorities, ["urgent", "high", "normal", "low"]);
    }

    #[test]
    fn standard_field_details() {
        let contact = obj("contact");
        let email = contact.field("email").expect("email");
        assert!(email.unique && email.field_type == FieldType::Email);
        assert!(contact.field("first_name").is_none());
        let company = obj("company");
        assert_eq!(
            company
                .field("employees")
                .and_then(|f| f.config.min.as_deref()),
            Some("0")
        );
        for (o, f) in [
            ("company", "annual_revenue"),
            ("deal", "amount"),
            ("campaign", "budget"),
            ("campaign", "expected_revenue"),
        ] {
            let field = obj(o).field(f).cloned().expect("money field");
            assert_eq!(field.field_type, FieldType::Currency);
            assert_eq!(field.default_currency(), "CNY");
        }
        let task = obj("task");
        assert_eq!(
            task.field("assigned_to").map(|f| f.field_type),
            Some(FieldType::User)
        );
        // A Chinese mobile number without country code is read as CN.
        let phone = contact.field("mobile").expect("mobile");
        let value = crate::value::parse_input(phone, &serde_json::json!("138 0013 8000"))
            .expect("valid CN mobile");
        assert_eq!(value, crate::Value::Text("+8613800138000".into()));
    }

    #[test]
    fn standard_objects_round_trip_through_json() {
        let objects = standard_objects();
        let json = serde_json::to_value(&objects).expect("serialize");
        let back: Vec<ObjectDef> = serde_json::from_value(json).expect("deserialize");
        assert_eq!(back, objects);
    }
}
