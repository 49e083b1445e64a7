//! Record generators: one method per object turns an index into the field values of one
//! record (plus what later objects need to link to it). All randomness comes from one seeded
//! `StdRng`, so the same seed and the same starting state give the same data.

use super::words::{
    City, Dial, Industry, ACTIVITY_KINDS, ACTIVITY_NOTES_EN, ACTIVITY_NOTES_ZH, CAMPAIGNS,
    CAMPAIGN_DESCRIPTIONS, CITIES, CN_BRANDS, CN_ROADS, EN_BRANDS, EN_FIRST, EN_LAST, EN_STREETS,
    GIVEN_FIRST, GIVEN_ONE, GIVEN_SECOND, INDUSTRIES, LEAD_NOTES_EN, LEAD_NOTES_ZH, MAIL_CN,
    MAIL_EN, MOBILE_PREFIXES, NEXT_STEPS_EN, NEXT_STEPS_ZH, NOTE_BODIES_EN, NOTE_BODIES_ZH,
    NOTE_TITLES_EN, NOTE_TITLES_ZH, OUTCOMES_EN, OUTCOMES_ZH, PRODUCTS_EN, PRODUCTS_ZH, SURNAMES,
    TASK_TITLES_EN, TASK_TITLES_ZH, TICKET_DESCRIPTIONS_EN, TICKET_DESCRIPTIONS_ZH,
    TICKET_SUBJECTS_EN, TICKET_SUBJECTS_ZH, TITLES_EN, TITLES_ZH,
};
use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, Offset, TimeZone, Utc, Weekday,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rapport_core::normalize;
use rapport_store::records::RecordInput;
use serde_json::{json, Map, Value as Json};

/// At most this many contact ids are kept (a uniform reservoir sample) to link records to.
pub const CONTACT_SAMPLE: usize = 50_000;
/// At most this many deal ids are kept to link activities, tasks and notes to.
pub const DEAL_SAMPLE: usize = 50_000;

/// A company written in this run (all are kept: at most 250,000).
pub struct CompanyRef {
    pub id: String,
    zh: bool,
    city: u8,
    industry: u8,
    brand: u8,
    word: u8,
    owner: u8,
}

/// A sampled contact.
pub struct ContactRef {
    pub id: String,
    company: Option<u32>,
    zh: bool,
    owner: u8,
}

/// A sampled deal.
pub struct DealRef {
    pub id: String,
    company: Option<u32>,
    contact: Option<String>,
    zh: bool,
    owner: u8,
}

/// What an activity, task, note or ticket is about.
struct Link {
    company: Option<String>,
    contact: Option<String>,
    deal: Option<String>,
    zh: bool,
    owner: u8,
}

/// Builds the values map of one record.
#[derive(Default)]
struct Values(Map<String, Json>);

impl Values {
    fn set(&mut self, field: &str, value: impl Into<Json>) {
        self.0.insert(field.to_owned(), value.into());
    }

    fn opt(&mut self, field: &str, value: Option<impl Into<Json>>) {
        if let Some(value) = value {
            self.set(field, value);
        }
    }

    fn into_input(self, owner: Option<String>) -> RecordInput {
        RecordInput {
            values: self.0,
            owner_id: owner,
        }
    }
}

fn money(amount: i64) -> Json {
    json!({"amount": format!("{amount}.00"), "currency": "CNY"})
}

pub struct Gen {
    rng: StdRng,
    now: DateTime<Utc>,
    offset: FixedOffset,
    today: NaiveDate,
    /// Ids of the users who own records.
    owners: Vec<String>,
    /// Indexes into `owners`, repeated by weight.
    owner_pool: Vec<u8>,
    /// Added to the contact index in email addresses, so a second run does not collide with
    /// the unique emails of the first.
    email_base: usize,
    /// Campaigns already in the workspace: a second run adds only the missing ones.
    pub campaign_base: usize,
    /// Files uploaded for deals' attachment field, some of which a deal carries.
    pub deal_files: Vec<String>,
    pub companies: Vec<CompanyRef>,
    pub contacts: Vec<ContactRef>,
    contacts_seen: usize,
    pub deals: Vec<DealRef>,
    deals_seen: usize,
}

impl Gen {
    /// `owners`: user ids with a weight (how many records each gets, relatively).
    pub fn new(
        seed: u64,
        now: DateTime<Utc>,
        utc_offset_minutes: i32,
        owners: Vec<(String, u8)>,
        email_base: usize,
    ) -> Self {
        let offset = FixedOffset::east_opt(utc_offset_minutes.saturating_mul(60))
            .unwrap_or_else(|| Utc.fix());
        let mut owner_pool = Vec::new();
        let mut ids = Vec::new();
        for (index, (id, weight)) in owners.into_iter().take(250).enumerate() {
            ids.push(id);
            let index = u8::try_from(index).unwrap_or(u8::MAX);
            owner_pool.extend(std::iter::repeat_n(index, usize::from(weight.max(1))));
        }
        Self {
            rng: StdRng::seed_from_u64(seed),
            now,
            offset,
            today: now.with_timezone(&offset).date_naive(),
            owners: ids,
            owner_pool,
            email_base,
            campaign_base: 0,
            deal_files: Vec::new(),
            companies: Vec::new(),
            contacts: Vec::new(),
            contacts_seen: 0,
            deals: Vec::new(),
            deals_seen: 0,
        }
    }

    // ----- random helpers -----

    fn pick<T: Copy>(&mut self, list: &[T]) -> T {
        list[self.rng.gen_range(0..list.len())]
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.gen_bool(p.clamp(0.0, 1.0))
    }

    /// Index of an item chosen by weight.
    fn weighted_index(&mut self, weights: impl Iterator<Item = u32> + Clone) -> usize {
        let total: u32 = weights.clone().sum();
        let mut x = self.rng.gen_range(0..total.max(1));
        let mut last = 0;
        for (index, weight) in weights.enumerate() {
            if x < weight {
                return index;
            }
            x -= weight;
            last = index;
        }
        last
    }

    fn weighted(&mut self, items: &[(&'static str, u32)]) -> &'static str {
        let index = self.weighted_index(items.iter().map(|i| i.1));
        items[index].0
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.rng.gen_range(0..10u8)))
            .collect()
    }

    /// A log-uniform integer in `[low, high]`, rounded to `step`.
    fn log_uniform(&mut self, low: i64, high: i64, step: i64) -> i64 {
        let (a, b) = ((low as f64).ln(), (high as f64).ln());
        let x = self.rng.gen_range(a..=b).exp() as i64;
        ((x / step.max(1)) * step.max(1)).clamp(low, high)
    }

    fn owner(&mut self) -> u8 {
        if self.owner_pool.is_empty() {
            return 0;
        }
        let index = self.rng.gen_range(0..self.owner_pool.len());
        self.owner_pool[index]
    }

    fn owner_id(&self, owner: u8) -> Option<String> {
        self.owners.get(usize::from(owner)).cloned()
    }

    fn city(&mut self) -> u8 {
        u8::try_from(self.weighted_index(CITIES.iter().map(|c| c.weight))).unwrap_or(0)
    }

    fn date(&self, days_from_today: i64) -> NaiveDate {
        self.today + Duration::days(days_from_today)
    }

    fn date_text(&self, days_from_today: i64) -> String {
        self.date(days_from_today).format("%Y-%m-%d").to_string()
    }

    /// A working day `days_ago` (moved back to Friday when it falls on a weekend) at a working
    /// hour, in the workspace's time zone, never in the future.
    fn work_datetime(&mut self, days_ago: i64) -> Option<String> {
        let mut day = self.date(-days_ago);
        day = match day.weekday() {
            Weekday::Sat => day - Duration::days(1),
            Weekday::Sun => day - Duration::days(2),
            _ => day,
        };
        let hour = self.rng.gen_range(9..18);
        let minute = self.pick(&[0, 0, 15, 30, 30, 45]);
        let naive = day.and_hms_opt(hour, minute, 0)?;
        let at = self.offset.from_local_datetime(&naive).single()?;
        let at = if at.with_timezone(&Utc) > self.now {
            at - Duration::days(1)
        } else {
            at
        };
        Some(at.to_rfc3339())
    }

    /// A working day `days_ahead` from today (moved on to Monday when it falls on a weekend) at
    /// a working hour, in the workspace's time zone: a meeting already scheduled.
    fn upcoming_work_datetime(&mut self, days_ahead: i64) -> Option<String> {
        let mut day = self.date(days_ahead);
        day = match day.weekday() {
            Weekday::Sat => day + Duration::days(2),
            Weekday::Sun => day + Duration::days(1),
            _ => day,
        };
        let hour = self.rng.gen_range(9..18);
        let minute = self.pick(&[0, 0, 30]);
        let naive = day.and_hms_opt(hour, minute, 0)?;
        let at = self.offset.from_local_datetime(&naive).single()?;
        Some(at.to_rfc3339())
    }

    // ----- people and phones -----

    /// A Chinese name and its pinyin (surname first, e.g. "zhangwei").
    fn chinese_name(&mut self) -> (String, String) {
        let (surname, sur_py, _) = SURNAMES[self.weighted_index(SURNAMES.iter().map(|s| s.2))];
        if self.chance(0.4) {
            let (given, py) = self.pick(GIVEN_ONE);
            (format!("{surname}{given}"), format!("{sur_py}{py}"))
        } else {
            let (g1, p1) = self.pick(GIVEN_FIRST);
            let (g2, p2) = self.pick(GIVEN_SECOND);
            (format!("{surname}{g1}{g2}"), format!("{sur_py}{p1}{p2}"))
        }
    }

    /// An English name and an email local part ("emily.chen").
    fn english_name(&mut self) -> (String, String) {
        let first = self.pick(EN_FIRST);
        let last = self.pick(EN_LAST);
        (
            format!("{first} {last}"),
            format!("{}.{}", first.to_lowercase(), last.to_lowercase()),
        )
    }

    fn person(&mut self, zh: bool) -> (String, String) {
        if zh {
            self.chinese_name()
        } else {
            self.english_name()
        }
    }

    /// A mobile number as people type it. Mainland numbers are valid by construction (the
    /// tests check); overseas ranges are patchy in the phone metadata the write path validates
    /// with, so those are checked and retried.
    pub fn mobile(&mut self, dial: Dial) -> Option<String> {
        self.checked(dial, |g| g.raw_mobile(dial))
    }

    /// An office number (landline), like `mobile`.
    pub fn landline(&mut self, dial: Dial) -> Option<String> {
        self.checked(dial, |g| g.raw_landline(dial))
    }

    fn checked(&mut self, dial: Dial, make: impl Fn(&mut Self) -> String) -> Option<String> {
        if matches!(dial, Dial::Cn(_)) {
            return Some(make(self));
        }
        (0..8)
            .map(|_| make(self))
            .find(|phone| normalize::phone(phone, None).is_some())
    }

    fn raw_mobile(&mut self, dial: Dial) -> String {
        match dial {
            Dial::Cn(_) => {
                let prefix = self.pick(MOBILE_PREFIXES);
                let (a, b) = (self.digits(4), self.digits(4));
                match self.rng.gen_range(0..4) {
                    0 => format!("{prefix} {a} {b}"),
                    1 => format!("+86 {prefix} {a} {b}"),
                    _ => format!("{prefix}{a}{b}"),
                }
            }
            Dial::Singapore => {
                let first = self.pick(&["81", "82", "83", "84", "90", "91", "92", "93", "94"]);
                format!("+65 {first}{} {}", self.digits(2), self.digits(4))
            }
            Dial::HongKong => {
                let first = self.pick(&["51", "52", "53", "54", "55", "62", "66", "92", "93"]);
                format!("+852 {first}{} {}", self.digits(2), self.digits(4))
            }
            Dial::London => {
                let second = self.pick(&['7', '8', '9']);
                format!("+44 7{second}{} {}", self.digits(2), self.digits(6))
            }
        }
    }

    fn raw_landline(&mut self, dial: Dial) -> String {
        match dial {
            Dial::Cn(area) => {
                let first = self.pick(&["5", "6", "8"]);
                let second = self.rng.gen_range(1..10);
                format!(
                    "0{area}-{first}{second}{} {}",
                    self.digits(2),
                    self.digits(4)
                )
            }
            Dial::Singapore => {
                let second = self.rng.gen_range(1..9);
                format!("+65 6{second}{} {}", self.digits(2), self.digits(4))
            }
            Dial::HongKong => {
                let first = self.pick(&["21", "23", "25", "27", "28", "31", "35", "36"]);
                format!("+852 {first}{} {}", self.digits(2), self.digits(4))
            }
            Dial::London => format!("+44 20 7{} {}", self.digits(3), self.digits(4)),
        }
    }

    fn address(&mut self, city: &City, district: &str) -> String {
        if city.is_cn() {
            let road = self.pick(CN_ROADS);
            let number = self.rng.gen_range(1..1200);
            if self.chance(0.6) {
                let building = self.rng.gen_range(1..12);
                let room = self.rng.gen_range(2..30) * 100 + self.rng.gen_range(1..20);
                format!("{district}{road}{number}号 {building}号楼 {room}室")
            } else {
                format!("{district}{road}{number}号")
            }
        } else {
            let street = self.pick(EN_STREETS);
            let number = self.rng.gen_range(1..300);
            format!("{number} {street}, {district}")
        }
    }

    // ----- companies -----

    fn industry_of(r: &CompanyRef) -> &'static Industry {
        &INDUSTRIES[usize::from(r.industry) % INDUSTRIES.len()]
    }

    /// Short display name: "云帆科技", "Acme Robotics".
    fn company_short(r: &CompanyRef) -> String {
        let industry = Self::industry_of(r);
        if r.zh {
            let brand = CN_BRANDS[usize::from(r.brand) % CN_BRANDS.len()].0;
            let word = industry.cn[usize::from(r.word) % industry.cn.len()].0;
            let word: String = word.chars().take(2).collect();
            format!("{brand}{word}")
        } else {
            let brand = EN_BRANDS[usize::from(r.brand) % EN_BRANDS.len()];
            let word = industry.en[usize::from(r.word) % industry.en.len()];
            format!("{brand} {word}")
        }
    }

    fn company_domain(r: &CompanyRef) -> String {
        let industry = Self::industry_of(r);
        if r.zh {
            let brand = CN_BRANDS[usize::from(r.brand) % CN_BRANDS.len()].1;
            let slug = industry.cn[usize::from(r.word) % industry.cn.len()].1;
            let tld = if (u16::from(r.brand) + u16::from(r.word)) % 3 == 0 {
                "com"
            } else {
                "com.cn"
            };
            format!("{brand}{slug}.{tld}")
        } else {
            let brand = EN_BRANDS[usize::from(r.brand) % EN_BRANDS.len()];
            let word = industry.en[usize::from(r.word) % industry.en.len()];
            format!("{brand}{word}.com").to_lowercase().replace(' ', "")
        }
    }

    fn company_full_name(&mut self, r: &CompanyRef) -> String {
        let city = &CITIES[usize::from(r.city) % CITIES.len()];
        let short = Self::company_short(r);
        if r.zh {
            let industry = Self::industry_of(r);
            let brand = CN_BRANDS[usize::from(r.brand) % CN_BRANDS.len()].0;
            let word = industry.cn[usize::from(r.word) % industry.cn.len()].0;
            let kind = if self.chance(0.15) {
                "股份有限公司"
            } else {
                "有限公司"
            };
            format!("{}{brand}{word}{kind}", city.name)
        } else {
            match city.dial {
                Dial::Cn(_) => format!("{short} ({}) Co., Ltd.", city.en),
                Dial::Singapore => format!("{short} Pte. Ltd."),
                Dial::HongKong => format!("{short} (HK) Limited"),
                Dial::London => format!("{short} Ltd"),
            }
        }
    }

    /// A company that is not written (for a lead's company name).
    fn random_company(&mut self, zh: bool) -> CompanyRef {
        let city = self.city();
        let industry = self.weighted_index(INDUSTRIES.iter().map(|i| i.weight));
        let words = if zh {
            INDUSTRIES[industry].cn.len()
        } else {
            INDUSTRIES[industry].en.len()
        };
        let brands = if zh { CN_BRANDS.len() } else { EN_BRANDS.len() };
        CompanyRef {
            id: String::new(),
            zh,
            city,
            industry: u8::try_from(industry).unwrap_or(0),
            brand: u8::try_from(self.rng.gen_range(0..brands)).unwrap_or(0),
            word: u8::try_from(self.rng.gen_range(0..words)).unwrap_or(0),
            owner: 0,
        }
    }

    pub fn company(&mut self, _index: usize) -> (RecordInput, CompanyRef) {
        let city_index = self.city();
        let city = &CITIES[usize::from(city_index)];
        let zh = if city.is_cn() {
            self.chance(0.82)
        } else {
            false
        };
        let mut r = self.random_company(zh);
        r.city = city_index;
        r.owner = self.owner();
        let industry = Self::industry_of(&r);
        let domain = Self::company_domain(&r);
        let mut v = Values::default();
        v.set("name", self.company_full_name(&r));
        v.set("website", format!("https://www.{domain}"));
        v.set("industry", industry.value);
        let employees = self.log_uniform(8, 30_000, 1);
        let revenue = employees * self.rng.gen_range(20..150) * 10_000;
        let revenue = self.log_uniform(revenue.max(1_000_000) / 2, revenue.max(1_000_000), 10_000);
        let tier = if revenue >= 500_000_000 {
            if self.chance(0.8) {
                "a"
            } else {
                "b"
            }
        } else if revenue >= 50_000_000 {
            if self.chance(0.7) {
                "b"
            } else {
                "c"
            }
        } else if self.chance(0.05) {
            "b"
        } else {
            "c"
        };
        v.set("tier", tier);
        v.set("employees", employees);
        v.set("annual_revenue", money(revenue));
        v.opt("phone", self.landline(city.dial));
        let mailbox = self.pick(&["info", "contact", "sales", "service", "hr"]);
        v.set("email", format!("{mailbox}@{domain}"));
        v.set("country", city.country);
        v.set("province", city.province);
        v.set("city", city.name);
        let district = self.pick(city.districts);
        let street = self.address(city, district);
        // The same place as a region of the national list, for the location field.
        if let Some(code) = city
            .is_cn()
            .then(|| {
                rapport_core::regions::code_for(city.province, Some(city.name), Some(district))
            })
            .flatten()
        {
            let street = street.strip_prefix(district).unwrap_or(&street).trim();
            v.set("location", json!({"code": code, "street": street}));
        }
        v.set("address", street.clone());
        if self.chance(0.3) {
            let text = if zh {
                format!(
                    "{}{}企业，员工约 {employees} 人，客户主要分布在{}。",
                    city.name, industry.cn[0].0, city.province
                )
            } else {
                format!(
                    "{} company based in {}, about {employees} employees.",
                    industry.en[0], city.en
                )
            };
            v.set("description", text);
        }
        let owner = self.owner_id(r.owner);
        (v.into_input(owner), r)
    }

    pub fn keep_company(&mut self, id: String, mut r: CompanyRef) {
        r.id = id;
        self.companies.push(r);
    }

    /// A company of this run, skewed so that some companies have many contacts and deals.
    fn some_company(&mut self) -> Option<u32> {
        let n = self.companies.len();
        if n == 0 {
            return None;
        }
        let x: f64 = self.rng.gen();
        let index = ((n as f64) * x.powf(1.6)) as usize;
        u32::try_from(index.min(n - 1)).ok()
    }

    fn company_ref(&self, index: Option<u32>) -> Option<&CompanyRef> {
        // No index or one past usize: no company.
        self.companies.get(usize::try_from(index?).ok()?)
    }

    // ----- contacts -----

    pub fn contact(&mut self, index: usize) -> (RecordInput, ContactRef) {
        let company = if self.chance(0.95) {
            self.some_company()
        } else {
            None
        };
        let (company_zh, company_city, company_owner, company_id, domain) =
            match self.company_ref(company) {
                Some(c) => (
                    Some(c.zh),
                    Some(c.city),
                    c.owner,
                    Some(c.id.clone()),
                    Some(Self::company_domain(c)),
                ),
                None => (None, None, 0, None, None),
            };
        let zh = match company_zh {
            Some(true) => self.chance(0.92),
            Some(false) => self.chance(0.15),
            None => self.chance(0.7),
        };
        let city_index = match company_city {
            Some(c) if self.chance(0.9) => c,
            _ => self.city(),
        };
        let city = &CITIES[usize::from(city_index)];
        let owner = if company_id.is_some() && self.chance(0.85) {
            company_owner
        } else {
            self.owner()
        };
        let (name, local) = self.person(zh);
        let mut v = Values::default();
        v.set("name", name);
        let title = if zh {
            self.pick(TITLES_ZH)
        } else {
            self.pick(TITLES_EN)
        };
        v.set("title", title);
        v.opt("company", company_id);
        v.set(
            "lifecycle_stage",
            self.weighted(&[
                ("subscriber", 8),
                ("lead", 20),
                ("mql", 12),
                ("sql", 10),
                ("opportunity", 15),
                ("customer", 25),
                ("evangelist", 4),
                ("churned", 6),
            ]),
        );
        let serial = self.email_base + index + 1;
        let domain = match domain {
            Some(d) if self.chance(0.75) => d,
            _ if zh => self.pick(MAIL_CN).to_owned(),
            _ => self.pick(MAIL_EN).to_owned(),
        };
        v.set("email", format!("{local}{serial}@{domain}"));
        if self.chance(0.4) {
            v.opt("phone", self.landline(city.dial));
        }
        if self.chance(0.9) {
            v.opt("mobile", self.mobile(city.dial));
        }
        if zh && self.chance(0.5) {
            let wechat = if self.chance(0.5) {
                format!("{local}{}", self.digits(3))
            } else {
                format!("wxid_{}", self.digits(10))
            };
            v.set("wechat", wechat);
        }
        v.set("city", city.name);
        if self.chance(0.3) {
            let days = self.rng.gen_range(365 * 22..365 * 60);
            v.set("birthday", self.date_text(-days));
        }
        if self.chance(0.1) {
            let text = if zh {
                self.pick(&[
                    "关键决策人，偏好电话沟通。",
                    "技术背景，关注系统集成。",
                    "通过展会认识，对移动端感兴趣。",
                    "老客户推荐，合作意向强。",
                ])
            } else {
                self.pick(&[
                    "Key decision maker; prefers calls.",
                    "Technical background, cares about integrations.",
                    "Met at a trade show.",
                ])
            };
            v.set("description", text);
        }
        let r = ContactRef {
            id: String::new(),
            company,
            zh,
            owner,
        };
        (v.into_input(self.owner_id(owner)), r)
    }

    pub fn keep_contact(&mut self, id: String, mut r: ContactRef) {
        r.id = id;
        self.contacts_seen += 1;
        if self.contacts.len() < CONTACT_SAMPLE {
            self.contacts.push(r);
        } else {
            let j = self.rng.gen_range(0..self.contacts_seen);
            if let Some(slot) = self.contacts.get_mut(j) {
                *slot = r;
            }
        }
    }

    // ----- leads -----

    pub fn lead(&mut self, index: usize) -> (RecordInput, ()) {
        let zh = self.chance(0.7);
        let company = self.random_company(zh);
        let city = &CITIES[usize::from(company.city)];
        let (name, local) = self.person(zh);
        let mut v = Values::default();
        v.set("name", name);
        v.set("company_name", self.company_full_name(&company));
        let domain = if self.chance(0.6) {
            Self::company_domain(&company)
        } else if zh {
            self.pick(MAIL_CN).to_owned()
        } else {
            self.pick(MAIL_EN).to_owned()
        };
        v.set("email", format!("{local}{}@{domain}", index + 1));
        if self.chance(0.85) {
            v.opt("phone", self.mobile(city.dial));
        }
        v.set(
            "source",
            self.weighted(&[
                ("website", 30),
                ("referral", 15),
                ("event", 15),
                ("ad", 12),
                ("wecom", 12),
                ("cold_call", 10),
                ("other", 6),
            ]),
        );
        v.set(
            "status",
            self.weighted(&[
                ("new", 30),
                ("working", 25),
                ("qualified", 15),
                ("unqualified", 15),
                ("converted", 15),
            ]),
        );
        v.set(
            "rating",
            self.weighted(&[("hot", 20), ("warm", 45), ("cold", 35)]),
        );
        v.set("region", city.region);
        v.set("industry", Self::industry_of(&company).value);
        if self.chance(0.5) {
            let text = if zh {
                self.pick(LEAD_NOTES_ZH)
            } else {
                self.pick(LEAD_NOTES_EN)
            };
            v.set("description", text);
        }
        let owner = self.owner();
        (v.into_input(self.owner_id(owner)), ())
    }

    // ----- deals -----

    pub fn deal(&mut self, _index: usize) -> (RecordInput, DealRef) {
        let (company, contact, contact_zh, contact_owner) = match self.contacts.len().checked_sub(1)
        {
            Some(last) => {
                let pick = self.rng.gen_range(0..=last);
                let c = &self.contacts[pick];
                (c.company, Some(c.id.clone()), Some(c.zh), Some(c.owner))
            }
            None => (self.some_company(), None, None, None),
        };
        let company_ref = self.company_ref(company);
        let zh = company_ref.map(|c| c.zh).or(contact_zh).unwrap_or(true);
        let short = company_ref.map(Self::company_short);
        let company_id = company_ref.map(|c| c.id.clone());
        let owner = match company_ref.map(|c| c.owner).or(contact_owner) {
            Some(o) => o,
            None => self.owner(),
        };
        let product = if zh {
            self.pick(PRODUCTS_ZH)
        } else {
            self.pick(PRODUCTS_EN)
        };
        let name = match short {
            Some(s) if zh => format!("{s}{product}"),
            Some(s) => format!("{s} – {product}"),
            None => product.to_owned(),
        };
        let stage = self.weighted(&[
            ("prospecting", 20),
            ("qualification", 18),
            ("proposal", 17),
            ("negotiation", 12),
            ("closed_won", 18),
            ("closed_lost", 15),
        ]);
        let (probability, closed) = match stage {
            "prospecting" => (10, false),
            "qualification" => (20, false),
            "proposal" => (50, false),
            "negotiation" => (75, false),
            "closed_won" => (100, true),
            _ => (0, true),
        };
        let probability = if closed {
            probability
        } else {
            (probability + self.rng.gen_range(-5..=5)).clamp(5, 95)
        };
        let close = if closed {
            -self.rng.gen_range(0..365)
        } else {
            self.rng.gen_range(-14..92)
        };
        let mut v = Values::default();
        v.set("name", name);
        v.opt("company", company_id);
        v.opt("contact", contact.clone());
        v.set("amount", money(self.log_uniform(50_000, 5_000_000, 1_000)));
        v.set("stage", stage);
        v.set("close_date", self.date_text(close));
        v.set("probability", probability);
        let renewal = product.contains('续') || product.contains("renewal");
        let kind = if renewal {
            "renewal"
        } else {
            self.weighted(&[("new_business", 70), ("upsell", 18), ("renewal", 12)])
        };
        v.set("type", kind);
        v.set(
            "source",
            self.weighted(&[
                ("website", 22),
                ("referral", 25),
                ("event", 15),
                ("ad", 8),
                ("wecom", 10),
                ("cold_call", 12),
                ("other", 8),
            ]),
        );
        if !closed {
            let step = if zh {
                self.pick(NEXT_STEPS_ZH)
            } else {
                self.pick(NEXT_STEPS_EN)
            };
            v.set("next_step", step);
        }
        // A few colleagues help on some deals; some deals carry the quote and a site photo.
        if self.owners.len() > 1 && self.chance(0.3) {
            let own = self.owner_id(owner);
            let mut helpers = Vec::new();
            for _ in 0..self.rng.gen_range(1..=2) {
                let pick = self.owners[self.rng.gen_range(0..self.owners.len())].clone();
                if own.as_ref() != Some(&pick) {
                    helpers.push(pick);
                }
            }
            helpers.sort();
            helpers.dedup();
            if !helpers.is_empty() {
                v.set("collaborators", helpers);
            }
        }
        if !self.deal_files.is_empty() && self.chance(0.1) {
            v.set("attachments", self.deal_files.clone());
        }
        if stage == "closed_lost" && self.chance(0.6) {
            let reason = if zh {
                self.pick(&[
                    "输单原因：价格高于竞品",
                    "输单原因：客户预算取消",
                    "输单原因：选择了现有供应商",
                ])
            } else {
                self.pick(&["Lost on price", "Budget cancelled", "Stayed with incumbent"])
            };
            v.set("description", reason);
        }
        let r = DealRef {
            id: String::new(),
            company,
            contact,
            zh,
            owner,
        };
        (v.into_input(self.owner_id(owner)), r)
    }

    pub fn keep_deal(&mut self, id: String, mut r: DealRef) {
        r.id = id;
        self.deals_seen += 1;
        if self.deals.len() < DEAL_SAMPLE {
            self.deals.push(r);
        } else {
            let j = self.rng.gen_range(0..self.deals_seen);
            if let Some(slot) = self.deals.get_mut(j) {
                *slot = r;
            }
        }
    }

    /// Picks what a record is about: a deal (with its contact and company) with probability
    /// `deal_share`, else a contact and its company, else only a company.
    fn link(&mut self, deal_share: f64) -> Link {
        if !self.deals.is_empty() && self.chance(deal_share) {
            let pick = self.rng.gen_range(0..self.deals.len());
            let d = &self.deals[pick];
            let (deal, contact, company, zh, owner) =
                (d.id.clone(), d.contact.clone(), d.company, d.zh, d.owner);
            return Link {
                company: self.company_ref(company).map(|c| c.id.clone()),
                contact,
                deal: Some(deal),
                zh,
                owner,
            };
        }
        if !self.contacts.is_empty() && self.chance(0.9) {
            let pick = self.rng.gen_range(0..self.contacts.len());
            let c = &self.contacts[pick];
            let (contact, company, zh, owner) = (c.id.clone(), c.company, c.zh, c.owner);
            return Link {
                company: self.company_ref(company).map(|c| c.id.clone()),
                contact: Some(contact),
                deal: None,
                zh,
                owner,
            };
        }
        let company = self.some_company();
        match self.company_ref(company) {
            Some(c) => Link {
                company: Some(c.id.clone()),
                contact: None,
                deal: None,
                zh: c.zh,
                owner: c.owner,
            },
            None => {
                let zh = self.chance(0.7);
                let owner = self.owner();
                Link {
                    company: None,
                    contact: None,
                    deal: None,
                    zh,
                    owner,
                }
            }
        }
    }

    fn set_links(v: &mut Values, link: &Link) {
        v.opt("company", link.company.clone());
        v.opt("contact", link.contact.clone());
        v.opt("deal", link.deal.clone());
    }

    // ----- activities, tasks, notes, tickets, campaigns -----

    pub fn activity(&mut self, _index: usize) -> (RecordInput, ()) {
        let link = self.link(0.55);
        let kind = &ACTIVITY_KINDS[self.weighted_index(ACTIVITY_KINDS.iter().map(|k| k.weight))];
        let (low, high) = kind.minutes;
        let mut v = Values::default();
        let subject = if link.zh {
            self.pick(kind.zh)
        } else {
            self.pick(kind.en)
        };
        v.set("subject", subject);
        v.set("type", kind.value);
        // One meeting in eight is still ahead (the next week's calendar); the rest happened.
        let upcoming = kind.value == "meeting" && self.chance(0.125);
        if upcoming {
            let days_ahead = self.rng.gen_range(0..7);
            v.opt("occurred_at", self.upcoming_work_datetime(days_ahead));
        } else {
            let days_ago = self.rng.gen_range(0..365);
            v.opt("occurred_at", self.work_datetime(days_ago));
        }
        let minutes = self.rng.gen_range(low..=high);
        v.set("duration_minutes", minutes - minutes % 5);
        if !upcoming && self.chance(0.7) {
            let outcome = if link.zh {
                self.pick(OUTCOMES_ZH)
            } else {
                self.pick(OUTCOMES_EN)
            };
            v.set("outcome", outcome);
        }
        if self.chance(0.4) {
            let notes = if link.zh {
                self.pick(ACTIVITY_NOTES_ZH)
            } else {
                self.pick(ACTIVITY_NOTES_EN)
            };
            v.set("notes", notes);
        }
        Self::set_links(&mut v, &link);
        (v.into_input(self.owner_id(link.owner)), ())
    }

    pub fn task(&mut self, _index: usize) -> (RecordInput, ()) {
        let link = self.link(0.5);
        let mut v = Values::default();
        let title = if link.zh {
            self.pick(TASK_TITLES_ZH)
        } else {
            self.pick(TASK_TITLES_EN)
        };
        v.set("title", title);
        // Some are due today, so a salesperson's day starts with work to do.
        let due = if self.chance(0.05) {
            0
        } else {
            self.rng.gen_range(-90..31)
        };
        v.set("due_date", self.date_text(due));
        let status = if due < 0 {
            self.weighted(&[
                ("completed", 75),
                ("deferred", 8),
                ("in_progress", 10),
                ("not_started", 7),
            ])
        } else {
            self.weighted(&[("not_started", 55), ("in_progress", 40), ("deferred", 5)])
        };
        v.set("status", status);
        v.set(
            "priority",
            self.weighted(&[("high", 20), ("normal", 60), ("low", 20)]),
        );
        let owner = self.owner_id(link.owner);
        v.opt("assigned_to", owner.clone());
        if self.chance(0.2) {
            let text = if link.zh {
                "请在截止日期前完成并在系统中更新进展。"
            } else {
                "Please update the record when done."
            };
            v.set("description", text);
        }
        Self::set_links(&mut v, &link);
        (v.into_input(owner), ())
    }

    pub fn note(&mut self, _index: usize) -> (RecordInput, ()) {
        let link = self.link(0.4);
        let mut v = Values::default();
        let (title, body) = if link.zh {
            (self.pick(NOTE_TITLES_ZH), self.pick(NOTE_BODIES_ZH))
        } else {
            (self.pick(NOTE_TITLES_EN), self.pick(NOTE_BODIES_EN))
        };
        v.set("title", title);
        v.set("body", body);
        Self::set_links(&mut v, &link);
        (v.into_input(self.owner_id(link.owner)), ())
    }

    pub fn ticket(&mut self, _index: usize) -> (RecordInput, ()) {
        let link = self.link(0.0);
        let mut v = Values::default();
        let subject = if link.zh {
            self.pick(TICKET_SUBJECTS_ZH)
        } else {
            self.pick(TICKET_SUBJECTS_EN)
        };
        v.set("subject", subject);
        let status = self.weighted(&[
            ("new", 10),
            ("open", 20),
            ("pending", 10),
            ("resolved", 30),
            ("closed", 30),
        ]);
        v.set("status", status);
        v.set(
            "priority",
            self.weighted(&[("urgent", 5), ("high", 20), ("normal", 55), ("low", 20)]),
        );
        v.set(
            "channel",
            self.weighted(&[
                ("phone", 30),
                ("email", 25),
                ("wecom", 25),
                ("web", 12),
                ("app", 8),
            ]),
        );
        v.opt("contact", link.contact.clone());
        v.opt("company", link.company.clone());
        if status == "resolved" || status == "closed" {
            let days_ago = self.rng.gen_range(0..180);
            v.opt("resolved_at", self.work_datetime(days_ago));
        }
        if self.chance(0.6) {
            let text = if link.zh {
                self.pick(TICKET_DESCRIPTIONS_ZH)
            } else {
                self.pick(TICKET_DESCRIPTIONS_EN)
            };
            v.set("description", text);
        }
        (v.into_input(self.owner_id(link.owner)), ())
    }

    pub fn campaign(&mut self, index: usize) -> (RecordInput, ()) {
        let index = (self.campaign_base + index) % CAMPAIGNS.len();
        let (name, kind, start, days, budget) = CAMPAIGNS[index];
        let end = start + days;
        let status = if index == 6 {
            "aborted"
        } else if end < 0 {
            "completed"
        } else if start > 0 {
            "planned"
        } else {
            "active"
        };
        let mut v = Values::default();
        v.set("name", name);
        v.set("type", kind);
        v.set("status", status);
        v.set("start_date", self.date_text(start));
        v.set("end_date", self.date_text(end));
        v.set("budget", money(budget));
        let factor = self.rng.gen_range(3..12);
        v.set("expected_revenue", money(budget * factor));
        v.set("description", self.pick(CAMPAIGN_DESCRIPTIONS));
        let owner = self.owner();
        (v.into_input(self.owner_id(owner)), ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapport_core::metadata::WorkspaceSchema;
    use rapport_core::standard::standard_objects;
    use rapport_core::value::parse_input;

    fn generator() -> Gen {
        let now = Utc::now();
        Gen::new(
            7,
            now,
            480,
            vec![("admin".into(), 1), ("rep1".into(), 3), ("rep2".into(), 3)],
            0,
        )
    }

    fn check(schema: &WorkspaceSchema, object: &str, input: &RecordInput) {
        let def = schema.active_object(object).expect("object");
        for (name, json) in &input.values {
            let field = def
                .active_field(name)
                .unwrap_or_else(|| panic!("{object} has no field {name}"));
            parse_input(field, json).unwrap_or_else(|e| panic!("{object}.{name} = {json}: {e:?}"));
        }
        let name_field = &def.name_field;
        assert!(
            input.values.contains_key(name_field),
            "{object} lacks its name field"
        );
    }

    #[test]
    fn phones_are_valid() {
        let mut g = generator();
        for city in CITIES {
            for _ in 0..150 {
                for phone in [g.mobile(city.dial), g.landline(city.dial)] {
                    let phone = phone.unwrap_or_else(|| panic!("{}: no valid phone", city.name));
                    assert!(normalize::phone(&phone, None).is_some(), "{phone}");
                }
            }
        }
    }

    #[test]
    fn generated_records_validate() {
        let mut objects = standard_objects();
        for (object, field) in crate::day_one_fields() {
            if let Some(o) = objects.iter_mut().find(|o| o.api_name == object) {
                o.fields.push(field);
            }
        }
        let schema = WorkspaceSchema { objects };
        let mut g = generator();
        let mut fake_id = 0;
        let mut id = || {
            fake_id += 1;
            format!("id{fake_id}")
        };
        for i in 0..500 {
            let (input, r) = g.company(i);
            check(&schema, "company", &input);
            g.keep_company(id(), r);
        }
        let mut emails = std::collections::HashSet::new();
        let mut chinese = 0;
        for i in 0..3000 {
            let (input, r) = g.contact(i);
            check(&schema, "contact", &input);
            let email = input.values["email"].as_str().expect("email").to_owned();
            assert!(emails.insert(email.clone()), "duplicate {email}");
            chinese += usize::from(r.zh);
            g.keep_contact(id(), r);
        }
        assert!((1800..2400).contains(&chinese), "{chinese} of 3000 Chinese");
        for i in 0..1000 {
            let (input, r) = g.deal(i);
            check(&schema, "deal", &input);
            g.keep_deal(id(), r);
        }
        for i in 0..1000 {
            check(&schema, "lead", &g.lead(i).0);
            check(&schema, "activity", &g.activity(i).0);
            check(&schema, "task", &g.task(i).0);
            check(&schema, "note", &g.note(i).0);
            check(&schema, "ticket", &g.ticket(i).0);
        }
        for i in 0..CAMPAIGNS.len() {
            check(&schema, "campaign", &g.campaign(i).0);
        }
    }

    #[test]
    fn same_seed_same_data() {
        let now = Utc::now();
        let make = || Gen::new(42, now, 480, vec![("u".into(), 1)], 0);
        let (mut a, mut b) = (make(), make());
        for i in 0..50 {
            assert_eq!(a.company(i).0.values, b.company(i).0.values);
            assert_eq!(a.lead(i).0.values, b.lead(i).0.values);
        }
    }

    #[test]
    fn reservoir_stays_bounded() {
        let mut g = generator();
        for i in 0..(CONTACT_SAMPLE + 10) {
            g.keep_contact(
                format!("c{i}"),
                ContactRef {
                    id: String::new(),
                    company: None,
                    zh: true,
                    owner: 0,
                },
            );
        }
        assert_eq!(g.contacts.len(), CONTACT_SAMPLE);
    }
}
