//! The registration forms (guardian, child) and their server-side rules.
//! Pure: no database, no HTTP, no clock (the caller passes `today` and the
//! campaign's parameters). HTML forms and the JSON API share these structs;
//! field names are the form's `name` attributes and the API's JSON keys.
//!
//! Every refusal names the field and says in Chinese what to fix; all
//! problems of one submission are reported together.
//!
//! Names: any letters of any script (so rare characters such as 𠈌 U+2020C
//! or 䶮 U+4DAE are accepted), the middle dot `·` of minority and foreign
//! names, and inner spaces; emoji are refused with their own message, and so
//! is markup or punctuation. Other text fields (addresses, certificate
//! numbers) are stored verbatim (only surrounding whitespace is trimmed and
//! control characters are refused) and always rendered escaped.

use crate::catchment::Address;
use crate::identity::idcard::{self, AgeRule, IdCard};
use crate::policy::{ApplicantFacts, Migrant, OwnerRelation, Property};
use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize};

pub const RELATIONS: [&str; 7] = ["父亲", "母亲", "祖父", "祖母", "外祖父", "外祖母", "其他监护人"];
pub const OWNER_RELATIONS: [(&str, &str); 5] =
    [("father", "父亲"), ("mother", "母亲"), ("grandparent", "（外）祖父母"), ("self", "儿童本人"), ("other", "其他人")];
/// Value of the township select for an address outside the listed townships.
pub const OTHER_TOWNSHIP: &str = "其他";
pub const NAME_MAX_CHARS: usize = 30;
pub const TEXT_MAX_CHARS: usize = 60;

/// A field-level problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        if !self.0.iter().any(|e| e.field == field) {
            self.0.push(FieldError { field: field.into(), message: message.into() });
        }
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// field → message, for templates.
    pub fn map(&self) -> std::collections::BTreeMap<String, String> {
        self.0.iter().map(|e| (e.field.clone(), e.message.clone())).collect()
    }
}

/// Accepts a JSON string, boolean or number, or a form value, as text.
fn flex<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flex {
        S(String),
        B(bool),
        I(i64),
        F(f64),
        N(()),
    }
    Ok(match Flex::deserialize(d)? {
        Flex::S(s) => s,
        Flex::B(b) => {
            if b {
                "1".into()
            } else {
                String::new()
            }
        }
        Flex::I(i) => i.to_string(),
        Flex::F(f) => f.to_string(),
        Flex::N(()) => String::new(),
    })
}

fn checked(v: &str) -> bool {
    matches!(v.trim(), "1" | "on" | "true" | "yes")
}

/// 监护人信息.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(default)]
pub struct GuardianForm {
    #[serde(deserialize_with = "flex")]
    pub name: String,
    #[serde(deserialize_with = "flex")]
    pub relation: String,
    #[serde(deserialize_with = "flex")]
    pub mobile: String,
    /// Optional; required when notifications go by email.
    #[serde(deserialize_with = "flex")]
    pub email: String,
    /// `wechat` (default), `email` or `both`.
    #[serde(deserialize_with = "flex")]
    pub notify: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidGuardian {
    pub name: String,
    pub relation: String,
    pub mobile: String,
    pub email: Option<String>,
    pub notify: crate::domain::NotifyChannels,
}

/// A plausible email address: one `@`, a dotted domain, no spaces or
/// characters mail headers would need quoting for.
pub fn plausible_email(e: &str) -> bool {
    let Some((user, domain)) = e.split_once('@') else { return false };
    !user.is_empty()
        && user.len() <= 64
        && domain.len() <= 190
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && e.chars().all(|c| c.is_ascii_alphanumeric() || "._%+-@".contains(c))
}

/// The refusal of an ID number already registered in the campaign. To the
/// guardian who registered it: their own registration number and where to
/// change it. To anyone else: only that the number is registered and whom
/// to call — never the other family's registration number or child's name.
pub fn duplicate_id_message(own_registration_no: Option<&str>, bureau_name: &str, bureau_phone: &str) -> String {
    match own_registration_no {
        Some(no) => format!("您已为该儿童报名（报名号 {no}），不能重复报名；如需修改，请在“我的报名”中修改原报名"),
        None => format!("该身份证号码已在本批次报名，不能重复报名。如有疑问，请致电{bureau_name}招生咨询电话 {bureau_phone}"),
    }
}

pub fn validate_guardian(f: &GuardianForm) -> Result<ValidGuardian, FieldErrors> {
    let mut e = FieldErrors::default();
    let name = check_name(&mut e, "name", "监护人姓名", &f.name);
    let relation = f.relation.trim().to_string();
    if relation.is_empty() {
        e.add("relation", "请选择与儿童的关系");
    } else if !RELATIONS.contains(&relation.as_str()) {
        e.add("relation", "与儿童的关系不在可选范围内");
    }
    let mobile: String = f.mobile.trim().chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if mobile.is_empty() {
        e.add("mobile", "请填写手机号码");
    } else if !(mobile.len() == 11 && mobile.starts_with('1') && mobile.bytes().all(|b| b.is_ascii_digit()) && mobile.as_bytes()[1] >= b'3')
    {
        e.add("mobile", "手机号码应为以1开头的11位数字");
    }
    let email = f.email.trim().to_ascii_lowercase();
    if !email.is_empty() && !plausible_email(&email) {
        e.add("email", "邮箱地址格式不正确");
    }
    let notify = match f.notify.trim() {
        "" => crate::domain::NotifyChannels::Wechat,
        v => match crate::domain::NotifyChannels::parse(v) {
            Some(c) => c,
            None => {
                e.add("notify", "通知方式只能是微信消息、电子邮件或两者");
                crate::domain::NotifyChannels::Wechat
            }
        },
    };
    if notify != crate::domain::NotifyChannels::Wechat && email.is_empty() {
        e.add("email", "选择电子邮件通知时请填写邮箱地址");
    }
    if e.is_empty() {
        Ok(ValidGuardian { name, relation, mobile, email: Some(email).filter(|m| !m.is_empty()), notify })
    } else {
        Err(e)
    }
}

/// 儿童信息 and the family's declarations, flat so that a plain HTML form
/// maps onto it. Address fields are `{prefix}_{part}` for the prefixes
/// `hukou`, `prop` (property) and `res` (residence-permit address).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(default)]
pub struct ChildForm {
    #[serde(deserialize_with = "flex")]
    pub child_name: String,
    /// Never stored in this form: drafts keep it encrypted apart.
    #[serde(deserialize_with = "flex")]
    pub id_number: String,
    /// `local` (本县户籍) or `migrant` (随迁子女, hukou elsewhere).
    #[serde(deserialize_with = "flex")]
    pub hukou_type: String,
    #[serde(deserialize_with = "flex")]
    pub hukou_township: String,
    #[serde(deserialize_with = "flex")]
    pub hukou_community: String,
    #[serde(deserialize_with = "flex")]
    pub hukou_road: String,
    #[serde(deserialize_with = "flex")]
    pub hukou_number: String,
    #[serde(deserialize_with = "flex")]
    pub hukou_compound: String,
    #[serde(deserialize_with = "flex")]
    pub hukou_building: String,
    #[serde(deserialize_with = "flex")]
    pub has_property: String,
    #[serde(deserialize_with = "flex")]
    pub prop_cert_no: String,
    #[serde(deserialize_with = "flex")]
    pub prop_owner_name: String,
    #[serde(deserialize_with = "flex")]
    pub prop_owner_relation: String,
    /// `YYYY-MM-DD`: the day the property was acquired (不动产登记日期), which
    /// the policy's `property_acquired_by` cut-off reads.
    #[serde(deserialize_with = "flex")]
    pub prop_acquired_on: String,
    #[serde(deserialize_with = "flex")]
    pub prop_township: String,
    #[serde(deserialize_with = "flex")]
    pub prop_community: String,
    #[serde(deserialize_with = "flex")]
    pub prop_road: String,
    #[serde(deserialize_with = "flex")]
    pub prop_number: String,
    #[serde(deserialize_with = "flex")]
    pub prop_compound: String,
    #[serde(deserialize_with = "flex")]
    pub prop_building: String,
    #[serde(deserialize_with = "flex")]
    pub permit_no: String,
    /// `YYYY-MM-DD`.
    #[serde(deserialize_with = "flex")]
    pub residence_start: String,
    /// `YYYY-MM-DD`: the permit's issue date (签发日期), which the policy's
    /// `permit_issued_by` cut-off reads.
    #[serde(deserialize_with = "flex")]
    pub permit_issued_on: String,
    #[serde(deserialize_with = "flex")]
    pub social_insurance_months: String,
    #[serde(deserialize_with = "flex")]
    pub res_township: String,
    #[serde(deserialize_with = "flex")]
    pub res_community: String,
    #[serde(deserialize_with = "flex")]
    pub res_road: String,
    #[serde(deserialize_with = "flex")]
    pub res_number: String,
    #[serde(deserialize_with = "flex")]
    pub res_compound: String,
    #[serde(deserialize_with = "flex")]
    pub res_building: String,
    #[serde(deserialize_with = "flex")]
    pub disability_support: String,
    #[serde(deserialize_with = "flex")]
    pub left_behind: String,
    #[serde(deserialize_with = "flex")]
    pub care_category: String,
    /// School id (code) where an elder sibling studies, or empty.
    #[serde(deserialize_with = "flex")]
    pub sibling_school: String,
}

/// What the declarations add to [`ApplicantFacts`]; stored alongside it in
/// `applications.facts_json` (readers that parse `ApplicantFacts` ignore it).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Declared {
    #[serde(default)]
    pub hukou_local: bool,
    #[serde(default)]
    pub property_owner_name: Option<String>,
}

/// `applications.facts_json`: the policy's facts plus [`Declared`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredFacts {
    #[serde(flatten)]
    pub facts: ApplicantFacts,
    #[serde(default)]
    pub declared: Declared,
}

/// What a campaign allows, for validation.
#[derive(Debug, Clone)]
pub struct ChildRules<'a> {
    pub today: NaiveDate,
    pub campaign_year: i32,
    pub age: AgeRule,
    /// Township names of the county (the select's options).
    pub townships: &'a [String],
    /// Accepted policy-care kinds.
    pub care_kinds: &'a [String],
    /// (id, name) of schools an elder sibling may attend.
    pub sibling_schools: &'a [(String, String)],
}

#[derive(Debug, Clone)]
pub struct ValidChild {
    pub name: String,
    pub id: IdCard,
    /// Full years on the campaign's age cut-off.
    pub age: u32,
    pub facts: StoredFacts,
}

/// `MM-DD` → age rule with the campaign's bounds.
pub fn age_rule(min_age: i32, max_age: i32, cutoff_mm_dd: &str) -> AgeRule {
    let (m, d) = cutoff_mm_dd.split_once('-').unwrap_or(("08", "31"));
    AgeRule {
        min_age: min_age.max(0) as u32,
        cutoff_month: m.trim().parse().unwrap_or(8),
        cutoff_day: d.trim().parse().unwrap_or(31),
        max_age: if max_age > 0 { Some(max_age as u32) } else { None },
    }
}

fn is_emoji(c: char) -> bool {
    matches!(c as u32,
        0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF | 0xFE0F | 0x200D | 0x20E3 | 0xE0020..=0xE007F | 0x2190..=0x21FF | 0x2300..=0x23FF)
}

/// Validates a personal name; returns the trimmed name (or "" after recording an error).
pub fn check_name(e: &mut FieldErrors, field: &str, label: &str, value: &str) -> String {
    let v = value.trim();
    if v.is_empty() {
        e.add(field, format!("请填写{label}"));
    } else if v.chars().count() > NAME_MAX_CHARS {
        e.add(field, format!("{label}不能超过 {NAME_MAX_CHARS} 个字"));
    } else if v.chars().any(is_emoji) {
        e.add(field, format!("{label}不能包含表情符号，请填写与户口簿一致的姓名"));
    } else if !v.chars().all(|c| c.is_alphabetic() || matches!(c, '·' | '•' | '・' | ' ')) {
        e.add(field, format!("{label}只能包含汉字、字母和间隔号「·」，请与户口簿保持一致"));
    } else if v.chars().all(|c| matches!(c, '·' | '•' | '・' | ' ')) {
        e.add(field, format!("请填写{label}"));
    } else {
        return v.to_string();
    }
    String::new()
}

/// Free text (addresses, certificate numbers): verbatim but for trimming.
fn check_text(e: &mut FieldErrors, field: &str, label: &str, value: &str, required: bool) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        if required {
            e.add(field, format!("请填写{label}"));
        }
        return None;
    }
    if v.chars().count() > TEXT_MAX_CHARS {
        e.add(field, format!("{label}不能超过 {TEXT_MAX_CHARS} 个字"));
        return None;
    }
    if v.chars().any(|c| c.is_control()) {
        e.add(field, format!("{label}含有无效字符"));
        return None;
    }
    Some(v.to_string())
}

fn part<'a>(f: &'a ChildForm, prefix: &str, name: &str) -> &'a str {
    match (prefix, name) {
        ("hukou", "township") => &f.hukou_township,
        ("hukou", "community") => &f.hukou_community,
        ("hukou", "road") => &f.hukou_road,
        ("hukou", "number") => &f.hukou_number,
        ("hukou", "compound") => &f.hukou_compound,
        ("hukou", "building") => &f.hukou_building,
        ("prop", "township") => &f.prop_township,
        ("prop", "community") => &f.prop_community,
        ("prop", "road") => &f.prop_road,
        ("prop", "number") => &f.prop_number,
        ("prop", "compound") => &f.prop_compound,
        ("prop", "building") => &f.prop_building,
        ("res", "township") => &f.res_township,
        ("res", "community") => &f.res_community,
        ("res", "road") => &f.res_road,
        ("res", "number") => &f.res_number,
        ("res", "compound") => &f.res_compound,
        ("res", "building") => &f.res_building,
        _ => "",
    }
}

/// A structured address from `{prefix}_*` fields: township (from the list),
/// then a road with a house number, or a compound (小区) with a building.
fn address(e: &mut FieldErrors, f: &ChildForm, prefix: &str, what: &str, townships: &[String]) -> Option<Address> {
    let field = |n: &str| format!("{prefix}_{n}");
    let before = e.0.len();
    let township = f_trim(part(f, prefix, "township"));
    if township.is_empty() {
        e.add(&field("township"), format!("请选择{what}所在乡镇（街道）"));
    } else if township != OTHER_TOWNSHIP && !townships.iter().any(|t| t == township) {
        e.add(&field("township"), format!("{what}所在乡镇不在可选范围内"));
    }
    let community = check_text(e, &field("community"), "社区（村）", part(f, prefix, "community"), false);
    let road = check_text(e, &field("road"), "道路（街巷）", part(f, prefix, "road"), false);
    let compound = check_text(e, &field("compound"), "小区名称", part(f, prefix, "compound"), false);
    let building = check_text(e, &field("building"), "楼栋", part(f, prefix, "building"), false);
    let (mut number, mut suffix) = (None, None);
    if let Some(n) = check_text(e, &field("number"), "门牌号", part(f, prefix, "number"), false) {
        let n = crate::catchment::normalize_text(&n);
        let n = n.trim_end_matches('号');
        let digits: String = n.chars().take_while(|c| c.is_ascii_digit()).collect();
        match digits.parse::<u32>() {
            Ok(v) if v > 0 && v < 100_000 => {
                number = Some(v);
                let rest = &n[digits.len()..];
                if !rest.is_empty() {
                    suffix = Some(rest.to_string());
                }
            }
            _ => e.add(&field("number"), "门牌号应以数字开头，例如 12 或 12-1"),
        }
    }
    if road.is_none() && compound.is_none() && e.0.len() == before {
        e.add(&field("road"), format!("请填写{what}的道路（街巷）和门牌号，或所在小区"));
    }
    if road.is_some() && number.is_none() && compound.is_none() && e.0.len() == before {
        e.add(&field("number"), "请填写门牌号");
    }
    if e.0.len() != before {
        return None;
    }
    Some(Address { township: Some(township.to_string()), community, road, number, number_suffix: suffix, compound, building, detail: None })
}

fn f_trim(s: &str) -> &str {
    s.trim()
}

/// A `YYYY-MM-DD` date (also `YYYY/MM/DD`, `YYYY年M月D日`).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let t = s.trim().replace(['/', '.', '年', '月'], "-").replace('日', "");
    NaiveDate::parse_from_str(&t, "%Y-%m-%d").ok()
}

/// No property title in the county predates this.
const EARLIEST_PROPERTY: NaiveDate = match NaiveDate::from_ymd_opt(1950, 1, 1) {
    Some(d) => d,
    None => panic!("a valid date"),
};

/// A required date field: a date, not after `today`, not before `not_before`
/// (with the Chinese name of that bound).
fn check_date(
    e: &mut FieldErrors,
    field: &str,
    label: &str,
    value: &str,
    today: NaiveDate,
    not_before: Option<(NaiveDate, &str)>,
) -> Option<NaiveDate> {
    if value.trim().is_empty() {
        e.add(field, format!("请填写{label}"));
        return None;
    }
    match parse_date(value) {
        None => e.add(field, format!("{label}格式应为 年-月-日，例如 2024-03-01")),
        Some(d) if d > today => e.add(field, format!("{label}不能晚于今天")),
        Some(d) => match not_before {
            Some((bound, what)) if d < bound => e.add(field, format!("{label}不能早于{what}")),
            _ => return Some(d),
        },
    }
    None
}

/// Every rule of the child form; on success the facts to store (with an
/// empty application number, set on submit).
pub fn validate_child(f: &ChildForm, rules: &ChildRules<'_>) -> Result<ValidChild, FieldErrors> {
    let mut e = FieldErrors::default();
    let name = check_name(&mut e, "child_name", "儿童姓名", &f.child_name);
    let id = match idcard::parse(&f.id_number, rules.today) {
        Ok(id) => Some(id),
        Err(err) => {
            e.add("id_number", format!("儿童身份证号：{err}"));
            None
        }
    };
    let mut age = 0;
    if let Some(id) = &id {
        match idcard::age_eligible(id.birth_date, rules.campaign_year, &rules.age) {
            Ok(a) => age = a,
            Err(err) => e.add("id_number", format!("按身份证号出生日期 {}：{err}", id.birth_date.format("%Y年%m月%d日"))),
        }
    }
    let local = match f.hukou_type.trim() {
        "local" => true,
        "migrant" => false,
        "" => {
            e.add("hukou_type", "请选择户籍情况");
            true
        }
        _ => {
            e.add("hukou_type", "户籍情况不在可选范围内");
            true
        }
    };
    let mut facts = ApplicantFacts::new("");
    let mut declared = Declared { hukou_local: local, property_owner_name: None };
    // The hukou address: required for a local child; a migrant child's hukou
    // is elsewhere and optional.
    let hukou_given =
        ["township", "community", "road", "number", "compound", "building"].iter().any(|p| !part(f, "hukou", p).trim().is_empty());
    if local || hukou_given {
        facts.hukou = address(&mut e, f, "hukou", "户籍地址", rules.townships);
    }
    if checked(&f.has_property) {
        let cert = check_text(&mut e, "prop_cert_no", "不动产权证号", &f.prop_cert_no, true);
        let owner = check_name(&mut e, "prop_owner_name", "产权人姓名", &f.prop_owner_name);
        let relation = match f.prop_owner_relation.trim() {
            "father" => Some(OwnerRelation::Father),
            "mother" => Some(OwnerRelation::Mother),
            "grandparent" => Some(OwnerRelation::Grandparent),
            "self" => Some(OwnerRelation::Self_),
            "other" => Some(OwnerRelation::Other),
            "" => {
                e.add("prop_owner_relation", "请选择产权人与儿童的关系");
                None
            }
            _ => {
                e.add("prop_owner_relation", "产权人关系不在可选范围内");
                None
            }
        };
        let acquired =
            check_date(&mut e, "prop_acquired_on", "房产取得日期", &f.prop_acquired_on, rules.today, Some((EARLIEST_PROPERTY, "1950年")));
        let addr = address(&mut e, f, "prop", "房产地址", rules.townships);
        if let (Some(certificate_no), Some(owner_relation), Some(acquired), Some(address)) = (cert, relation, acquired, addr) {
            facts.property = Some(Property { address, certificate_no, owner_relation, acquired_on: Some(acquired) });
            declared.property_owner_name = Some(owner);
        }
    }
    if !local {
        let permit = check_text(&mut e, "permit_no", "居住证号码", &f.permit_no, true);
        let birth = id.as_ref().map(|i| (i.birth_date, "儿童出生日期"));
        let start = check_date(&mut e, "residence_start", "居住起始日期", &f.residence_start, rules.today, birth);
        let issued =
            check_date(&mut e, "permit_issued_on", "居住证签发日期", &f.permit_issued_on, rules.today, start.map(|d| (d, "居住起始日期")));
        let months = match f.social_insurance_months.trim() {
            "" => {
                e.add("social_insurance_months", "请填写社保缴纳月数（没有请填 0）");
                None
            }
            s => match s.parse::<u32>() {
                Ok(m) if m <= 600 => Some(m),
                _ => {
                    e.add("social_insurance_months", "社保缴纳月数应为 0 到 600 之间的整数");
                    None
                }
            },
        };
        let res = address(&mut e, f, "res", "居住证地址", rules.townships);
        if let (Some(permit_no), Some(residence_start), Some(issued), Some(social_insurance_months)) = (permit, start, issued, months) {
            facts.migrant = Some(Migrant {
                permit_no,
                residence_start,
                permit_issued_on: Some(issued),
                social_insurance_months,
                residence_address: res,
            });
        }
    }
    facts.disability_support = checked(&f.disability_support);
    facts.left_behind = checked(&f.left_behind);
    let care = f.care_category.trim();
    if !care.is_empty() {
        if rules.care_kinds.iter().any(|k| k == care) {
            facts.care_category = Some(care.to_string());
        } else {
            e.add("care_category", "政策性照顾类别不在本批次方案列出的范围内");
        }
    }
    let sib = f.sibling_school.trim();
    if !sib.is_empty() {
        if rules.sibling_schools.iter().any(|(id, _)| id == sib) {
            facts.sibling_school_id = Some(sib.to_string());
        } else {
            e.add("sibling_school", "兄姐就读学校不在可选范围内");
        }
    }
    match (e.is_empty(), id) {
        (true, Some(id)) => Ok(ValidChild { name, id, age, facts: StoredFacts { facts, declared } }),
        _ => Err(e),
    }
}

fn fill_address(f: &mut ChildForm, prefix: &str, a: &Address) {
    let number = a.number.map(|n| format!("{n}{}", a.number_suffix.clone().unwrap_or_default())).unwrap_or_default();
    let vals = [
        a.township.clone().unwrap_or_default(),
        a.community.clone().unwrap_or_default(),
        a.road.clone().unwrap_or_default(),
        number,
        a.compound.clone().unwrap_or_default(),
        a.building.clone().unwrap_or_default(),
    ];
    let [t, c, r, n, cp, b] = vals;
    match prefix {
        "hukou" => {
            (f.hukou_township, f.hukou_community, f.hukou_road, f.hukou_number, f.hukou_compound, f.hukou_building) = (t, c, r, n, cp, b)
        }
        "prop" => (f.prop_township, f.prop_community, f.prop_road, f.prop_number, f.prop_compound, f.prop_building) = (t, c, r, n, cp, b),
        _ => (f.res_township, f.res_community, f.res_road, f.res_number, f.res_compound, f.res_building) = (t, c, r, n, cp, b),
    }
}

impl ChildForm {
    /// The form that would produce these stored facts (to edit a submitted application).
    pub fn from_stored(name: &str, id_number: &str, s: &StoredFacts) -> ChildForm {
        let mut f = ChildForm {
            child_name: name.to_string(),
            id_number: id_number.to_string(),
            hukou_type: if s.declared.hukou_local || s.facts.migrant.is_none() { "local".into() } else { "migrant".into() },
            ..Default::default()
        };
        if let Some(h) = &s.facts.hukou {
            fill_address(&mut f, "hukou", h);
        }
        if let Some(p) = &s.facts.property {
            f.has_property = "1".into();
            f.prop_cert_no = p.certificate_no.clone();
            f.prop_owner_name = s.declared.property_owner_name.clone().unwrap_or_default();
            f.prop_owner_relation =
                serde_json::to_value(p.owner_relation).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            f.prop_acquired_on = p.acquired_on.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default();
            fill_address(&mut f, "prop", &p.address);
        }
        if let Some(m) = &s.facts.migrant {
            f.permit_no = m.permit_no.clone();
            f.residence_start = m.residence_start.format("%Y-%m-%d").to_string();
            f.permit_issued_on = m.permit_issued_on.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default();
            f.social_insurance_months = m.social_insurance_months.to_string();
            if let Some(a) = &m.residence_address {
                fill_address(&mut f, "res", a);
            }
        }
        if s.facts.disability_support {
            f.disability_support = "1".into();
        }
        if s.facts.left_behind {
            f.left_behind = "1".into();
        }
        f.care_category = s.facts.care_category.clone().unwrap_or_default();
        f.sibling_school = s.facts.sibling_school_id.clone().unwrap_or_default();
        f
    }

    pub fn is_migrant(&self) -> bool {
        self.hukou_type.trim() == "migrant"
    }
    pub fn has_property(&self) -> bool {
        checked(&self.has_property)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules<'a>(t: &'a [String], k: &'a [String], s: &'a [(String, String)]) -> ChildRules<'a> {
        ChildRules {
            today: NaiveDate::from_ymd_opt(2027, 7, 5).unwrap(),
            campaign_year: 2027,
            age: age_rule(6, 9, "08-31"),
            townships: t,
            care_kinds: k,
            sibling_schools: s,
        }
    }

    fn id(birth: &str, seq: &str) -> String {
        let first = format!("350524{birth}{seq}");
        format!("{first}{}", idcard::check_digit(&first).unwrap())
    }

    fn base() -> ChildForm {
        ChildForm {
            child_name: "林𠈌".into(),
            id_number: id("20200915", "123"),
            hukou_type: "local".into(),
            hukou_township: "凤城镇".into(),
            hukou_road: "二环路".into(),
            hukou_number: "１２号".into(),
            ..Default::default()
        }
    }

    #[test]
    fn accepts_rare_characters_and_round_trips() {
        let t = vec!["凤城镇".to_string()];
        let (k, s) = (vec![], vec![]);
        let v = validate_child(&base(), &rules(&t, &k, &s)).unwrap();
        assert_eq!(v.name, "林𠈌");
        assert_eq!(v.age, 6);
        assert_eq!(v.facts.facts.hukou.as_ref().unwrap().number, Some(12));
        let back = ChildForm::from_stored(&v.name, &v.id.number, &v.facts);
        let again = validate_child(&back, &rules(&t, &k, &s)).unwrap();
        assert_eq!(again.facts, v.facts);
        let mut f = base();
        f.child_name = "王䶮".into();
        assert!(validate_child(&f, &rules(&t, &k, &s)).is_ok());
    }

    #[test]
    fn refusals_name_their_fields() {
        let t = vec!["凤城镇".to_string()];
        let (k, s) = (vec![], vec![]);
        let r = rules(&t, &k, &s);
        let case = |f: ChildForm, field: &str| {
            let e = validate_child(&f, &r).unwrap_err();
            assert!(e.0.iter().any(|x| x.field == field), "{field}: {e:?}");
        };
        case(ChildForm { child_name: "小明😀".into(), ..base() }, "child_name");
        case(ChildForm { child_name: "<b>x</b>".into(), ..base() }, "child_name");
        let good = id("20200915", "123");
        let wrong = if good.ends_with('0') { '1' } else { '0' };
        case(ChildForm { id_number: format!("{}{wrong}", &good[..17]), ..base() }, "id_number");
        case(ChildForm { id_number: id("20220101", "123"), ..base() }, "id_number");
        case(ChildForm { id_number: id("20150101", "123"), ..base() }, "id_number");
        case(ChildForm { hukou_township: String::new(), ..base() }, "hukou_township");
        case(ChildForm { hukou_type: "migrant".into(), residence_start: "2030-01-01".into(), ..base() }, "residence_start");
        case(ChildForm { has_property: "1".into(), ..base() }, "prop_cert_no");
        case(ChildForm { has_property: "1".into(), ..base() }, "prop_acquired_on");
        case(ChildForm { has_property: "1".into(), prop_acquired_on: "1949-09-30".into(), ..base() }, "prop_acquired_on");
        let migrant = ChildForm {
            hukou_type: "migrant".into(),
            permit_no: "350524000123".into(),
            residence_start: "2024-03-01".into(),
            social_insurance_months: "12".into(),
            ..base()
        };
        case(migrant.clone(), "permit_issued_on");
        case(ChildForm { permit_issued_on: "2024-02-01".into(), ..migrant.clone() }, "permit_issued_on");
        case(ChildForm { permit_issued_on: "2099-02-01".into(), ..migrant }, "permit_issued_on");
    }

    #[test]
    fn fifteen_digit_numbers_convert_with_a_note() {
        let t = vec!["凤城镇".to_string()];
        let (k, s) = (vec![], vec![]);
        // A 1996 campaign, so that a 1990 birth date (all 15-digit numbers are 19xx) is of age.
        let r = ChildRules { today: NaiveDate::from_ymd_opt(1996, 7, 1).unwrap(), campaign_year: 1996, ..rules(&t, &k, &s) };
        let v = validate_child(&ChildForm { id_number: "350524900315123".into(), ..base() }, &r).unwrap();
        assert_eq!(v.id.number.len(), 18);
        assert_eq!(v.id.birth_date, NaiveDate::from_ymd_opt(1990, 3, 15).unwrap());
        assert_eq!(v.id.note, Some(idcard::CONVERTED_FROM_15_NOTE));
        let e = validate_child(&ChildForm { id_number: "350524901315123".into(), ..base() }, &r).unwrap_err();
        assert!(e.0[0].message.contains("无法转换"), "{e:?}");
    }

    #[test]
    fn guardian_rules() {
        let ok = validate_guardian(&GuardianForm {
            name: "欧阳·娜娜".into(),
            relation: "母亲".into(),
            mobile: "138 0595 1234".into(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(ok.mobile, "13805951234");
        let e = validate_guardian(&GuardianForm { name: "".into(), relation: "x".into(), mobile: "123".into(), ..Default::default() })
            .unwrap_err();
        assert_eq!(e.0.len(), 3);
        let base = GuardianForm { name: "林美玲".into(), relation: "母亲".into(), mobile: "13805951234".into(), ..Default::default() };
        assert_eq!(validate_guardian(&base).unwrap().notify, crate::domain::NotifyChannels::Wechat);
        let both = GuardianForm { email: " Lin@Example.COM ".into(), notify: "both".into(), ..base.clone() };
        let v = validate_guardian(&both).unwrap();
        assert_eq!((v.email.as_deref(), v.notify), (Some("lin@example.com"), crate::domain::NotifyChannels::Both));
        for (email, notify) in [("", "email"), ("not-an-email", "wechat"), ("a@b.c", "sms"), ("a b@c.d", "both")] {
            let f = GuardianForm { email: email.into(), notify: notify.into(), ..base.clone() };
            assert!(validate_guardian(&f).is_err(), "{email} {notify}");
        }
    }
}
