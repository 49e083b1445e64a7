//! The kinds of connector and the settings each takes: one declaration that checks input,
//! fills defaults and tells the web app which form to draw (`GET /api/v1/connectors/kinds`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a connector talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConnectorKind {
    /// Email over SMTP (STARTTLS, TLS or plain on a trusted network), with login.
    Smtp,
    /// SMS through any HTTP gateway: a URL and a body template.
    SmsHttp,
    /// Aliyun SMS (阿里云短信, `SendSms`, signature version 1.0).
    SmsAliyun,
    /// Tencent Cloud SMS (腾讯云短信, API 3.0, TC3-HMAC-SHA256).
    SmsTencent,
    /// A WeCom (企业微信) group robot.
    WecomRobot,
    /// A DingTalk (钉钉) custom robot, signed when it has a signing secret.
    DingtalkRobot,
    /// A Feishu / Lark (飞书) custom bot, signed when it has a signing secret.
    FeishuBot,
    /// Any HTTP API (an ERP, an OA system): method, URL and body templates, auth, and values
    /// of the answer written back into the record.
    Http,
}

/// How a setting is entered and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Text,
    Textarea,
    Url,
    /// 1 to 65535.
    Number,
    Select(&'static [&'static str]),
    /// A JSON object (headers, a mapping).
    Json,
}

/// One setting of a kind.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    pub key: &'static str,
    /// Sealed at rest and never answered.
    pub secret: bool,
    pub required: bool,
    pub input: Input,
    pub default: Option<&'static str>,
}

const fn text(key: &'static str, required: bool) -> FieldSpec {
    FieldSpec {
        key,
        secret: false,
        required,
        input: Input::Text,
        default: None,
    }
}

const fn secret(key: &'static str, required: bool) -> FieldSpec {
    FieldSpec {
        key,
        secret: true,
        required,
        input: Input::Text,
        default: None,
    }
}

const fn with(input: Input, key: &'static str, default: Option<&'static str>) -> FieldSpec {
    FieldSpec {
        key,
        secret: false,
        required: default.is_some(),
        input,
        default,
    }
}

const SMTP: &[FieldSpec] = &[
    text("host", true),
    with(Input::Number, "port", Some("587")),
    with(
        Input::Select(&["starttls", "tls", "none"]),
        "security",
        Some("starttls"),
    ),
    text("username", false),
    secret("password", false),
    text("from_address", true),
    text("from_name", false),
    text("reply_to", false),
    // Rapport's address as recipients reach it; with it, emails carry an unsubscribe link.
    with(Input::Url, "public_url", None),
];

const SMS_HTTP: &[FieldSpec] = &[
    FieldSpec {
        required: true,
        ..with(Input::Url, "url", None)
    },
    with(Input::Json, "headers", None),
    with(
        Input::Textarea,
        "body_template",
        Some(r#"{"phone": "{{to}}", "text": "{{text}}"}"#),
    ),
    secret("token", false),
];

const SMS_ALIYUN: &[FieldSpec] = &[
    with(
        Input::Url,
        "endpoint",
        Some("https://dysmsapi.aliyuncs.com/"),
    ),
    text("access_key_id", true),
    secret("access_key_secret", true),
    text("sign_name", true),
    with(Input::Text, "region", Some("cn-hangzhou")),
];

const SMS_TENCENT: &[FieldSpec] = &[
    with(
        Input::Url,
        "endpoint",
        Some("https://sms.tencentcloudapi.com/"),
    ),
    text("secret_id", true),
    secret("secret_key", true),
    text("sdk_app_id", true),
    text("sign_name", true),
    with(Input::Text, "region", Some("ap-guangzhou")),
];

const WECOM: &[FieldSpec] = &[
    with(
        Input::Url,
        "url",
        Some("https://qyapi.weixin.qq.com/cgi-bin/webhook/send"),
    ),
    secret("key", true),
];

const DINGTALK: &[FieldSpec] = &[
    with(
        Input::Url,
        "url",
        Some("https://oapi.dingtalk.com/robot/send"),
    ),
    secret("access_token", true),
    secret("signing_secret", false),
];

const FEISHU: &[FieldSpec] = &[
    with(
        Input::Url,
        "url",
        Some("https://open.feishu.cn/open-apis/bot/v2/hook/"),
    ),
    secret("hook_id", true),
    secret("signing_secret", false),
];

const HTTP: &[FieldSpec] = &[
    with(
        Input::Select(&["POST", "PUT", "PATCH", "GET", "DELETE"]),
        "method",
        Some("POST"),
    ),
    FieldSpec {
        required: true,
        ..with(Input::Text, "url_template", None)
    },
    with(Input::Json, "headers", None),
    with(
        Input::Select(&["none", "basic", "bearer", "hmac"]),
        "auth",
        Some("none"),
    ),
    text("username", false),
    secret("password", false),
    secret("token", false),
    secret("hmac_secret", false),
    with(Input::Text, "hmac_header", Some("X-Signature")),
    with(Input::Textarea, "body_template", None),
    // Record field → JSON pointer into the answer (`{"erp_order_no": "/data/orderNo"}`).
    with(Input::Json, "response_mapping", None),
    // The pre-check: a call made first whose JSON answer must pass (`precheck_pass`:
    // `{"/data/available": {">=": "{{params.quantity}}"}, "/data/active": true}`).
    with(Input::Text, "precheck_url_template", None),
    with(
        Input::Select(&["GET", "POST"]),
        "precheck_method",
        Some("GET"),
    ),
    with(Input::Textarea, "precheck_body_template", None),
    with(Input::Json, "precheck_pass", None),
];

impl ConnectorKind {
    pub const ALL: [ConnectorKind; 8] = [
        ConnectorKind::Smtp,
        ConnectorKind::SmsHttp,
        ConnectorKind::SmsAliyun,
        ConnectorKind::SmsTencent,
        ConnectorKind::WecomRobot,
        ConnectorKind::DingtalkRobot,
        ConnectorKind::FeishuBot,
        ConnectorKind::Http,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorKind::Smtp => "smtp",
            ConnectorKind::SmsHttp => "sms_http",
            ConnectorKind::SmsAliyun => "sms_aliyun",
            ConnectorKind::SmsTencent => "sms_tencent",
            ConnectorKind::WecomRobot => "wecom_robot",
            ConnectorKind::DingtalkRobot => "dingtalk_robot",
            ConnectorKind::FeishuBot => "feishu_bot",
            ConnectorKind::Http => "http",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    pub fn fields(self) -> &'static [FieldSpec] {
        match self {
            ConnectorKind::Smtp => SMTP,
            ConnectorKind::SmsHttp => SMS_HTTP,
            ConnectorKind::SmsAliyun => SMS_ALIYUN,
            ConnectorKind::SmsTencent => SMS_TENCENT,
            ConnectorKind::WecomRobot => WECOM,
            ConnectorKind::DingtalkRobot => DINGTALK,
            ConnectorKind::FeishuBot => FEISHU,
            ConnectorKind::Http => HTTP,
        }
    }

    pub fn field(self, key: &str) -> Option<&'static FieldSpec> {
        self.fields().iter().find(|f| f.key == key)
    }

    /// What its messages are: an email, a text message, a chat message or an HTTP call.
    pub fn channel(self) -> Channel {
        match self {
            ConnectorKind::Smtp => Channel::Email,
            ConnectorKind::SmsHttp | ConnectorKind::SmsAliyun | ConnectorKind::SmsTencent => {
                Channel::Sms
            }
            ConnectorKind::WecomRobot | ConnectorKind::DingtalkRobot | ConnectorKind::FeishuBot => {
                Channel::Chat
            }
            ConnectorKind::Http => Channel::Http,
        }
    }
}

/// The shape of a kind's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Sms,
    Chat,
    Http,
}

/// A kind as the web app draws its form.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KindInfo {
    pub kind: ConnectorKind,
    pub channel: Channel,
    pub fields: Vec<FieldInfo>,
}

/// A setting as the web app draws it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldInfo {
    pub key: &'static str,
    pub secret: bool,
    pub required: bool,
    /// `text`, `textarea`, `url`, `number`, `select` or `json`.
    pub input: &'static str,
    /// A select's choices.
    pub options: Vec<&'static str>,
    pub default: Option<&'static str>,
}

/// Every kind with its settings.
pub fn catalogue() -> Vec<KindInfo> {
    ConnectorKind::ALL
        .into_iter()
        .map(|kind| KindInfo {
            kind,
            channel: kind.channel(),
            fields: kind
                .fields()
                .iter()
                .map(|f| {
                    let (input, options) = match f.input {
                        Input::Text => ("text", Vec::new()),
                        Input::Textarea => ("textarea", Vec::new()),
                        Input::Url => ("url", Vec::new()),
                        Input::Number => ("number", Vec::new()),
                        Input::Json => ("json", Vec::new()),
                        Input::Select(options) => ("select", options.to_vec()),
                    };
                    FieldInfo {
                        key: f.key,
                        secret: f.secret,
                        required: f.required,
                        input,
                        options,
                        default: f.default,
                    }
                })
                .collect(),
        })
        .collect()
}
