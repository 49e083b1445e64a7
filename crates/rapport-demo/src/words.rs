//! Word lists the demo generator draws from: names (with pinyin for email addresses), cities,
//! company name parts, job titles and the subjects of activities, tasks, notes and tickets.

/// Chinese family names with their pinyin and a rough frequency weight.
pub const SURNAMES: &[(&str, &str, u32)] = &[
    ("王", "wang", 72),
    ("李", "li", 70),
    ("张", "zhang", 66),
    ("刘", "liu", 55),
    ("陈", "chen", 46),
    ("杨", "yang", 32),
    ("赵", "zhao", 22),
    ("黄", "huang", 22),
    ("周", "zhou", 21),
    ("吴", "wu", 20),
    ("徐", "xu", 17),
    ("孙", "sun", 16),
    ("胡", "hu", 14),
    ("朱", "zhu", 13),
    ("高", "gao", 12),
    ("林", "lin", 12),
    ("何", "he", 11),
    ("郭", "guo", 11),
    ("马", "ma", 11),
    ("罗", "luo", 9),
    ("梁", "liang", 9),
    ("宋", "song", 8),
    ("郑", "zheng", 8),
    ("谢", "xie", 7),
    ("韩", "han", 7),
    ("唐", "tang", 7),
    ("冯", "feng", 7),
    ("于", "yu", 6),
    ("董", "dong", 6),
    ("萧", "xiao", 5),
    ("程", "cheng", 5),
    ("曹", "cao", 5),
    ("袁", "yuan", 5),
    ("邓", "deng", 5),
    ("许", "xu", 5),
    ("沈", "shen", 4),
    ("曾", "zeng", 4),
    ("彭", "peng", 4),
    ("吕", "lv", 3),
    ("欧阳", "ouyang", 1),
    ("司马", "sima", 1),
];

/// Characters of Chinese given names, with pinyin. One-character names use the first list,
/// two-character names one from each.
pub const GIVEN_ONE: &[(&str, &str)] = &[
    ("伟", "wei"),
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("磊", "lei"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("艳", "yan"),
    ("杰", "jie"),
    ("军", "jun"),
    ("强", "qiang"),
    ("丽", "li"),
    ("婷", "ting"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("霞", "xia"),
    ("平", "ping"),
    ("刚", "gang"),
    ("鹏", "peng"),
    ("辉", "hui"),
    ("斌", "bin"),
    ("飞", "fei"),
    ("琳", "lin"),
    ("颖", "ying"),
    ("倩", "qian"),
    ("凯", "kai"),
];

pub const GIVEN_FIRST: &[(&str, &str)] = &[
    ("子", "zi"),
    ("浩", "hao"),
    ("欣", "xin"),
    ("嘉", "jia"),
    ("俊", "jun"),
    ("文", "wen"),
    ("建", "jian"),
    ("国", "guo"),
    ("海", "hai"),
    ("志", "zhi"),
    ("晓", "xiao"),
    ("思", "si"),
    ("梓", "zi"),
    ("一", "yi"),
    ("佳", "jia"),
    ("雨", "yu"),
    ("家", "jia"),
    ("春", "chun"),
    ("美", "mei"),
    ("天", "tian"),
    ("宏", "hong"),
    ("立", "li"),
    ("永", "yong"),
    ("玉", "yu"),
];

pub const GIVEN_SECOND: &[(&str, &str)] = &[
    ("宇", "yu"),
    ("怡", "yi"),
    ("晨", "chen"),
    ("博", "bo"),
    ("雪", "xue"),
    ("鑫", "xin"),
    ("华", "hua"),
    ("云", "yun"),
    ("红", "hong"),
    ("萱", "xuan"),
    ("涵", "han"),
    ("睿", "rui"),
    ("轩", "xuan"),
    ("泽", "ze"),
    ("慧", "hui"),
    ("宁", "ning"),
    ("成", "cheng"),
    ("亮", "liang"),
    ("瑶", "yao"),
    ("峰", "feng"),
    ("军", "jun"),
    ("英", "ying"),
    ("林", "lin"),
    ("东", "dong"),
];

pub const EN_FIRST: &[&str] = &[
    "James", "Emily", "David", "Sarah", "Michael", "Jessica", "Daniel", "Olivia", "Kevin", "Grace",
    "Jason", "Linda", "Eric", "Amy", "Ryan", "Sophia", "Andrew", "Chloe", "Brian", "Hannah",
    "Peter", "Rachel", "Thomas", "Laura", "Alex", "Emma", "Mark", "Kate", "Oliver", "Lucy",
    "Vincent", "Cindy", "Jack", "Tina", "Frank", "Helen",
];

pub const EN_LAST: &[&str] = &[
    "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Chen", "Wang", "Lee", "Wong", "Tan", "Lim",
    "Ng", "Williams", "Davies", "Evans", "Roberts", "Walker", "Wright", "Thompson", "White",
    "Harris", "Martin", "Clarke", "Lewis", "Hall", "Allen", "Young", "King", "Scott", "Zhang",
];

/// How a city's phone numbers look.
#[derive(Clone, Copy)]
pub enum Dial {
    /// Mainland China, with the area code (without the leading 0).
    Cn(&'static str),
    Singapore,
    HongKong,
    London,
}

pub struct City {
    pub name: &'static str,
    /// The name in English company names, e.g. "Acme Robotics (Shanghai) Co., Ltd.".
    pub en: &'static str,
    pub province: &'static str,
    pub country: &'static str,
    /// Value of the lead `region` option.
    pub region: &'static str,
    pub dial: Dial,
    pub districts: &'static [&'static str],
    pub weight: u32,
}

impl City {
    pub fn is_cn(&self) -> bool {
        matches!(self.dial, Dial::Cn(_))
    }
}

pub const CITIES: &[City] = &[
    City {
        name: "上海",
        en: "Shanghai",
        province: "上海市",
        country: "中国",
        region: "east",
        dial: Dial::Cn("21"),
        districts: &["浦东新区", "闵行区", "徐汇区", "静安区", "长宁区", "嘉定区"],
        weight: 18,
    },
    City {
        name: "北京",
        en: "Beijing",
        province: "北京市",
        country: "中国",
        region: "north",
        dial: Dial::Cn("10"),
        districts: &["海淀区", "朝阳区", "东城区", "丰台区", "大兴区"],
        weight: 16,
    },
    City {
        name: "深圳",
        en: "Shenzhen",
        province: "广东省",
        country: "中国",
        region: "south",
        dial: Dial::Cn("755"),
        districts: &["南山区", "福田区", "宝安区", "龙岗区"],
        weight: 12,
    },
    City {
        name: "杭州",
        en: "Hangzhou",
        province: "浙江省",
        country: "中国",
        region: "east",
        dial: Dial::Cn("571"),
        districts: &["西湖区", "滨江区", "余杭区", "萧山区"],
        weight: 9,
    },
    City {
        name: "广州",
        en: "Guangzhou",
        province: "广东省",
        country: "中国",
        region: "south",
        dial: Dial::Cn("20"),
        districts: &["天河区", "海珠区", "番禺区", "黄埔区"],
        weight: 9,
    },
    City {
        name: "成都",
        en: "Chengdu",
        province: "四川省",
        country: "中国",
        region: "west",
        dial: Dial::Cn("28"),
        districts: &["高新区", "武侯区", "锦江区", "双流区"],
        weight: 6,
    },
    City {
        name: "苏州",
        en: "Suzhou",
        province: "江苏省",
        country: "中国",
        region: "east",
        dial: Dial::Cn("512"),
        districts: &["工业园区", "姑苏区", "吴中区", "昆山市"],
        weight: 6,
    },
    City {
        name: "南京",
        en: "Nanjing",
        province: "江苏省",
        country: "中国",
        region: "east",
        dial: Dial::Cn("25"),
        districts: &["鼓楼区", "建邺区", "江宁区", "玄武区"],
        weight: 5,
    },
    City {
        name: "武汉",
        en: "Wuhan",
        province: "湖北省",
        country: "中国",
        region: "central",
        dial: Dial::Cn("27"),
        districts: &["洪山区", "江汉区", "东湖高新区", "武昌区"],
        weight: 5,
    },
    City {
        name: "西安",
        en: "Xi'an",
        province: "陕西省",
        country: "中国",
        region: "west",
        dial: Dial::Cn("29"),
        districts: &["雁塔区", "高新区", "未央区"],
        weight: 3,
    },
    City {
        name: "天津",
        en: "Tianjin",
        province: "天津市",
        country: "中国",
        region: "north",
        dial: Dial::Cn("22"),
        districts: &["滨海新区", "和平区", "南开区"],
        weight: 3,
    },
    City {
        name: "重庆",
        en: "Chongqing",
        province: "重庆市",
        country: "中国",
        region: "west",
        dial: Dial::Cn("23"),
        districts: &["渝北区", "江北区", "九龙坡区"],
        weight: 3,
    },
    City {
        name: "Singapore",
        en: "Singapore",
        province: "Singapore",
        country: "Singapore",
        region: "overseas",
        dial: Dial::Singapore,
        districts: &["Raffles Place", "Jurong East", "One-North", "Marina Bay"],
        weight: 3,
    },
    City {
        name: "Hong Kong",
        en: "Hong Kong",
        province: "Hong Kong",
        country: "中国香港",
        region: "overseas",
        dial: Dial::HongKong,
        districts: &["Central", "Kowloon Bay", "Wan Chai", "Tsim Sha Tsui"],
        weight: 2,
    },
    City {
        name: "London",
        en: "London",
        province: "England",
        country: "United Kingdom",
        region: "overseas",
        dial: Dial::London,
        districts: &["Canary Wharf", "Shoreditch", "Westminster", "King's Cross"],
        weight: 2,
    },
];

pub const CN_ROADS: &[&str] = &[
    "人民路",
    "中山路",
    "建设路",
    "科技路",
    "创业路",
    "长江路",
    "黄河路",
    "新华路",
    "工业园路",
    "高新大道",
    "金融街",
    "滨江大道",
    "软件园路",
    "学院路",
    "光华路",
    "迎宾大道",
];

pub const EN_STREETS: &[&str] = &[
    "High Street",
    "Market Street",
    "Harbour Road",
    "Queen's Road",
    "Church Lane",
    "Station Road",
    "Victoria Avenue",
    "Park Lane",
    "Cecil Street",
    "Science Park Drive",
];

/// Chinese company name parts: 字号 with its pinyin.
pub const CN_BRANDS: &[(&str, &str)] = &[
    ("明远", "mingyuan"),
    ("云帆", "yunfan"),
    ("华信", "huaxin"),
    ("博瑞", "borui"),
    ("恒通", "hengtong"),
    ("启航", "qihang"),
    ("鼎盛", "dingsheng"),
    ("瑞丰", "ruifeng"),
    ("中科", "zhongke"),
    ("天成", "tiancheng"),
    ("金桥", "jinqiao"),
    ("宏达", "hongda"),
    ("新锐", "xinrui"),
    ("远景", "yuanjing"),
    ("星辰", "xingchen"),
    ("汇智", "huizhi"),
    ("同创", "tongchuang"),
    ("嘉禾", "jiahe"),
    ("永信", "yongxin"),
    ("长风", "changfeng"),
    ("海纳", "haina"),
    ("盛世", "shengshi"),
    ("万通", "wantong"),
    ("凯德", "kaide"),
    ("安泰", "antai"),
    ("润泽", "runze"),
    ("卓越", "zhuoyue"),
    ("弘毅", "hongyi"),
    ("睿智", "ruizhi"),
    ("东方", "dongfang"),
    ("蓝海", "lanhai"),
    ("青松", "qingsong"),
    ("腾飞", "tengfei"),
    ("领航", "linghang"),
    ("聚力", "juli"),
    ("优创", "youchuang"),
    ("百川", "baichuan"),
    ("九州", "jiuzhou"),
    ("四方", "sifang"),
    ("泰和", "taihe"),
    ("景明", "jingming"),
    ("德润", "derun"),
    ("信达", "xinda"),
    ("立新", "lixin"),
    ("金石", "jinshi"),
    ("华创", "huachuang"),
    ("国鑫", "guoxin"),
    ("合力", "heli"),
];

/// English company name parts.
pub const EN_BRANDS: &[&str] = &[
    "Northwind",
    "Acme",
    "Contoso",
    "Fabrikam",
    "Globex",
    "Initech",
    "Blue Harbor",
    "Silverline",
    "Redwood",
    "Summit",
    "Evergreen",
    "Lighthouse",
    "Pioneer",
    "Horizon",
    "Atlas",
    "Crescent",
    "Granite",
    "Maple",
    "Orion",
    "Sterling",
    "Vertex",
    "Bluebird",
    "Ironwood",
    "Tailspin",
];

/// Per industry option: its value, Chinese business words (with a domain slug) and English
/// business words.
pub struct Industry {
    pub value: &'static str,
    pub cn: &'static [(&'static str, &'static str)],
    pub en: &'static [&'static str],
    pub weight: u32,
}

pub const INDUSTRIES: &[Industry] = &[
    Industry {
        value: "manufacturing",
        cn: &[
            ("精密机械", "precision"),
            ("智能装备", "equipment"),
            ("汽车零部件", "autoparts"),
            ("电子", "electronics"),
            ("模具", "mould"),
            ("新材料", "materials"),
        ],
        en: &["Robotics", "Manufacturing", "Precision Parts", "Industries"],
        weight: 22,
    },
    Industry {
        value: "retail",
        cn: &[
            ("商贸", "trading"),
            ("连锁超市", "mart"),
            ("电子商务", "ecommerce"),
            ("服饰", "fashion"),
            ("食品", "foods"),
        ],
        en: &["Traders", "Retail", "Outfitters", "Foods"],
        weight: 12,
    },
    Industry {
        value: "finance",
        cn: &[
            ("投资管理", "invest"),
            ("融资租赁", "leasing"),
            ("保险代理", "insurance"),
            ("资产管理", "capital"),
        ],
        en: &["Capital", "Partners", "Financial"],
        weight: 8,
    },
    Industry {
        value: "technology",
        cn: &[
            ("科技", "tech"),
            ("信息技术", "it"),
            ("软件", "soft"),
            ("网络科技", "net"),
            ("数据科技", "data"),
            ("智能科技", "ai"),
        ],
        en: &["Software", "Systems", "Labs", "Networks", "Data"],
        weight: 20,
    },
    Industry {
        value: "healthcare",
        cn: &[
            ("医疗器械", "medical"),
            ("生物医药", "bio"),
            ("健康管理", "health"),
            ("医药", "pharma"),
        ],
        en: &["Health", "Medical", "Biotech"],
        weight: 8,
    },
    Industry {
        value: "education",
        cn: &[
            ("教育科技", "edu"),
            ("职业培训", "training"),
            ("文化传播", "culture"),
        ],
        en: &["Learning", "Academy"],
        weight: 5,
    },
    Industry {
        value: "real_estate",
        cn: &[
            ("置业", "land"),
            ("物业管理", "property"),
            ("地产", "realty"),
        ],
        en: &["Properties", "Realty"],
        weight: 4,
    },
    Industry {
        value: "logistics",
        cn: &[
            ("物流", "logistics"),
            ("供应链管理", "supplychain"),
            ("国际货运代理", "freight"),
        ],
        en: &["Logistics", "Freight", "Shipping"],
        weight: 8,
    },
    Industry {
        value: "energy",
        cn: &[
            ("新能源", "newenergy"),
            ("能源科技", "energy"),
            ("光伏科技", "solar"),
            ("电力工程", "power"),
        ],
        en: &["Energy", "Solar", "Power"],
        weight: 6,
    },
    Industry {
        value: "other",
        cn: &[
            ("企业管理咨询", "consulting"),
            ("广告", "media"),
            ("人力资源", "hr"),
        ],
        en: &["Consulting", "Group"],
        weight: 7,
    },
];

pub const TITLES_ZH: &[&str] = &[
    "销售总监",
    "采购经理",
    "总经理",
    "副总经理",
    "技术总监",
    "IT 经理",
    "财务总监",
    "运营经理",
    "市场经理",
    "人力资源经理",
    "项目经理",
    "产品经理",
    "采购专员",
    "行政主管",
    "董事长",
    "信息部主任",
    "供应链经理",
    "质量经理",
    "工程师",
    "CTO",
];

pub const TITLES_EN: &[&str] = &[
    "CTO",
    "CEO",
    "CFO",
    "Operations Manager",
    "Procurement Manager",
    "Sales Director",
    "IT Manager",
    "Head of Marketing",
    "Product Manager",
    "Project Manager",
    "VP Engineering",
    "Finance Director",
    "Office Manager",
    "Supply Chain Manager",
    "Business Analyst",
];

/// Free mail domains for contacts and leads without a company domain.
pub const MAIL_CN: &[&str] = &["qq.com", "163.com", "126.com", "sina.com", "aliyun.com"];
pub const MAIL_EN: &[&str] = &["gmail.com", "outlook.com", "yahoo.com", "icloud.com"];

/// Mainland mobile prefixes (China Mobile, Unicom, Telecom).
pub const MOBILE_PREFIXES: &[&str] = &[
    "138", "139", "137", "136", "135", "150", "151", "152", "158", "159", "186", "185", "187",
    "188", "189", "180", "177", "176", "133", "153", "131", "132", "155", "156", "130", "183",
    "182", "181", "199", "166",
];

pub const PRODUCTS_ZH: &[&str] = &[
    "CRM 年度订阅",
    "MES 系统升级",
    "ERP 实施项目",
    "数据中台建设",
    "年度维保服务",
    "智能仓储改造",
    "生产设备采购",
    "员工培训服务",
    "私有化部署",
    "渠道合作框架协议",
    "二期扩容",
    "SaaS 续费",
    "门店数字化",
    "质量追溯系统",
];

pub const PRODUCTS_EN: &[&str] = &[
    "CRM annual subscription",
    "ERP rollout",
    "Data platform",
    "Support renewal",
    "Warehouse automation",
    "Pilot project",
    "Phase 2 expansion",
    "Hardware refresh",
    "Training package",
];

pub const NEXT_STEPS_ZH: &[&str] = &[
    "安排技术交流",
    "发送报价单",
    "确认采购流程",
    "准备合同草稿",
    "约见决策人",
    "提交方案书",
    "安排现场演示",
    "等待客户内部审批",
];

pub const NEXT_STEPS_EN: &[&str] = &[
    "Schedule technical workshop",
    "Send quotation",
    "Confirm procurement process",
    "Draft contract",
    "Meet the decision maker",
    "Await internal approval",
];

/// An activity type with its subjects and a plausible duration.
pub struct ActivityKind {
    /// Value of the activity `type` option.
    pub value: &'static str,
    pub zh: &'static [&'static str],
    pub en: &'static [&'static str],
    /// Duration range in minutes.
    pub minutes: (i64, i64),
    pub weight: u32,
}

pub const ACTIVITY_KINDS: &[ActivityKind] = &[
    ActivityKind {
        value: "call",
        zh: &[
            "电话沟通需求",
            "电话回访",
            "跟进报价反馈",
            "确认会议时间",
            "催款电话",
        ],
        en: &["Discovery call", "Follow-up call", "Pricing call"],
        minutes: (5, 45),
        weight: 40,
    },
    ActivityKind {
        value: "meeting",
        zh: &[
            "方案演示",
            "需求调研会",
            "商务谈判会议",
            "季度业务回顾",
            "线上产品培训",
        ],
        en: &[
            "Product demo",
            "Requirements workshop",
            "Quarterly business review",
        ],
        minutes: (30, 120),
        weight: 25,
    },
    ActivityKind {
        value: "email",
        zh: &["发送产品资料", "发送报价单", "发送合同草稿", "会议纪要确认"],
        en: &["Sent proposal", "Follow-up on quotation", "Meeting recap"],
        minutes: (5, 20),
        weight: 20,
    },
    ActivityKind {
        value: "visit",
        zh: &["上门拜访", "客户现场调研", "陪同参观工厂", "节日拜访"],
        en: &["On-site visit", "Site survey"],
        minutes: (60, 240),
        weight: 15,
    },
];

pub const OUTCOMES_ZH: &[&str] = &[
    "客户有意向，约下周演示",
    "已发送资料，等待反馈",
    "客户预算待审批",
    "需求明确，准备报价",
    "决策人出差，下月再约",
    "对价格有异议，需要申请折扣",
    "客户满意，推进签约",
    "暂无需求，季度后回访",
];

pub const OUTCOMES_EN: &[&str] = &[
    "Interested, demo next week",
    "Waiting for feedback",
    "Budget pending approval",
    "Ready for a quote",
    "No need right now, follow up next quarter",
];

pub const ACTIVITY_NOTES_ZH: &[&str] = &[
    "客户关注系统与现有 ERP 的集成，以及数据迁移的工作量。",
    "对方 IT 部门提出需要私有化部署，需技术团队评估。",
    "采购流程需经过三家比价，预计一个月内完成。",
    "客户希望先在一个事业部试点，再全面推广。",
    "讨论了实施周期和培训安排，客户倾向于年后启动。",
];

pub const ACTIVITY_NOTES_EN: &[&str] = &[
    "Customer asked about integration with their ERP and data migration effort.",
    "IT wants an on-premise option; needs a technical review.",
    "Procurement requires three competing quotes.",
    "They prefer a pilot in one business unit first.",
];

pub const TASK_TITLES_ZH: &[&str] = &[
    "准备报价单",
    "发送合同草稿",
    "安排技术交流",
    "回访客户满意度",
    "整理会议纪要",
    "更新客户资料",
    "跟进回款",
    "准备投标文件",
    "邀请参加产品发布会",
    "确认发票信息",
];

pub const TASK_TITLES_EN: &[&str] = &[
    "Prepare quotation",
    "Send contract draft",
    "Book technical workshop",
    "Customer satisfaction call",
    "Update account details",
    "Chase payment",
];

pub const NOTE_TITLES_ZH: &[&str] = &[
    "客户组织架构",
    "竞品情况",
    "需求要点",
    "拜访记录",
    "关键决策人",
    "预算与时间表",
];

pub const NOTE_BODIES_ZH: &[&str] = &[
    "采购由总经理最终拍板，技术评估由 IT 经理负责。",
    "客户目前在用竞品的标准版，合同年底到期，对售后响应不满意。",
    "核心需求：销售过程管理、移动端拜访签到、与企业微信打通。",
    "今年预算约 30 万，计划第三季度完成选型。",
    "财务总监关注总拥有成本，需要提供三年报价对比。",
];

pub const NOTE_TITLES_EN: &[&str] = &["Org chart", "Competition", "Key requirements", "Budget"];

pub const NOTE_BODIES_EN: &[&str] = &[
    "The COO signs off; the IT manager runs the technical evaluation.",
    "Currently on a competitor's plan that renews in December.",
    "Must integrate with their e-mail and calendar; mobile access is key.",
];

pub const TICKET_SUBJECTS_ZH: &[&str] = &[
    "系统登录失败",
    "发票开具申请",
    "数据导入报错",
    "报表导出速度慢",
    "企业微信消息收不到",
    "申请增加用户席位",
    "手机端无法同步",
    "合同附件无法下载",
    "密码重置",
    "咨询接口文档",
];

pub const TICKET_SUBJECTS_EN: &[&str] = &[
    "Unable to export report",
    "Login issue after password change",
    "Invoice request",
    "API rate limit question",
    "Mobile app does not sync",
];

/// Campaigns: name, type, start (days from today), length in days, budget in CNY.
pub const CAMPAIGNS: &[(&str, &str, i64, i64, i64)] = &[
    ("春季新品发布会", "event", -330, 2, 180_000),
    ("进博会参展", "event", -250, 6, 600_000),
    ("双十一促销", "ad", -220, 20, 350_000),
    ("Webinar：制造业数字化转型", "webinar", -200, 1, 20_000),
    ("企业微信私域运营", "wecom", -180, 120, 80_000),
    ("Q3 EDM Newsletter", "email", -160, 90, 15_000),
    ("老客户续费短信提醒", "sms", -150, 30, 8_000),
    ("百度搜索推广", "ad", -140, 180, 450_000),
    ("深圳高交会", "event", -110, 5, 260_000),
    ("年终客户答谢会", "event", -75, 1, 220_000),
    (
        "Customer Success Summit Singapore",
        "event",
        -60,
        2,
        300_000,
    ),
    ("春节问候邮件", "email", -45, 7, 5_000),
    ("线上研讨会：AI 赋能销售", "webinar", -20, 1, 25_000),
    ("抖音信息流广告", "ad", -15, 60, 500_000),
    ("渠道伙伴大会", "event", 10, 2, 400_000),
    ("Product launch webinar", "webinar", 25, 1, 30_000),
    ("618 大促", "ad", 40, 20, 380_000),
    ("企业微信社群裂变", "wecom", 55, 45, 60_000),
    ("夏季客户回访短信", "sms", 70, 14, 6_000),
    ("行业白皮书下载推广", "email", 90, 60, 40_000),
];

pub const CAMPAIGN_DESCRIPTIONS: &[&str] = &[
    "面向华东地区制造业客户，目标收集 300 条有效线索。",
    "联合渠道伙伴开展，重点推广新版移动端。",
    "老客户增购与续约为主，配合限时折扣。",
    "Targets key accounts in the region; goal: 50 qualified meetings.",
];

pub const LEAD_NOTES_ZH: &[&str] = &[
    "官网留言咨询 CRM 报价",
    "展会收集名片，对移动端感兴趣",
    "老客户推荐，需求较明确",
    "下载了行业白皮书",
    "电话咨询私有化部署方案",
];

pub const LEAD_NOTES_EN: &[&str] = &[
    "Asked for pricing on the website",
    "Met at the trade show",
    "Referred by an existing customer",
];

pub const TICKET_DESCRIPTIONS_ZH: &[&str] = &[
    "客户反馈问题从昨天开始出现，影响 5 名销售人员。",
    "已请客户提供截图和操作步骤，等待回复。",
    "问题可复现，已提交研发排查。",
    "客户希望本周内解决。",
];

pub const TICKET_DESCRIPTIONS_EN: &[&str] = &[
    "Started yesterday; affects several users.",
    "Asked the customer for screenshots and steps.",
    "Reproduced; escalated to engineering.",
];

/// The demo sales teams: name, lead's email (none: the administrator), members' emails.
pub const DEMO_TEAMS: &[(&str, Option<&str>, &[&str])] = &[
    (
        "华东销售组",
        None,
        &[
            "zhang.wei@demo.rapport.local",
            "li.na@demo.rapport.local",
            "wang.fang@demo.rapport.local",
        ],
    ),
    (
        "大客户组",
        Some("emily.chen@demo.rapport.local"),
        &[
            "liu.yang@demo.rapport.local",
            "david.wang@demo.rapport.local",
        ],
    ),
];

/// The demo sales team: email, display name.
pub const DEMO_USERS: &[(&str, &str)] = &[
    ("zhang.wei@demo.rapport.local", "张伟"),
    ("li.na@demo.rapport.local", "李娜"),
    ("wang.fang@demo.rapport.local", "王芳"),
    ("liu.yang@demo.rapport.local", "刘洋"),
    ("emily.chen@demo.rapport.local", "Emily Chen"),
    ("david.wang@demo.rapport.local", "David Wang"),
];
