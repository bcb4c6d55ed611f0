//! The versioned admissions policy document (招生方案), its validation and diff.
//!
//! Carried by each campaign as TOML (or JSON). Dates are ISO strings
//! (`"2019-08-31"`, quoted in TOML). See `demo_policy.toml` for a full example.

use super::facts::OwnerRelation;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Errors of this module and of key computation; every message is Chinese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("招生方案 TOML 格式错误：{0}")]
    Toml(String),
    #[error("招生方案 JSON 格式错误：{0}")]
    Json(String),
    #[error("招生方案校验未通过：{}", .0.iter().map(|i| i.to_string()).collect::<Vec<_>>().join("；"))]
    Invalid(Vec<PolicyIssue>),
    #[error("居住起始日期 {start} 晚于截止日期 {cutoff}，无法计算居住时长，请核对居住证信息")]
    ResidenceAfterCutoff { start: NaiveDate, cutoff: NaiveDate },
    #[error("政策性照顾类别「{0}」不在本招生方案列出的照顾类别中")]
    UnknownCareCategory(String),
}

/// One validation problem: the field path (e.g. `categories[2].code`) and a Chinese message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyIssue {
    pub field: String,
    pub message: String,
}

impl fmt::Display for PolicyIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}：{}", self.field, self.message)
    }
}

/// Cut-off dates for every duration the policy measures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cutoffs {
    /// Residence (居住证 / 入住) months are counted up to this day.
    pub residence: NaiveDate,
    /// A property must have been acquired on or before this day to count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property_acquired_by: Option<NaiveDate>,
    /// A residence permit must have been issued on or before this day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permit_issued_by: Option<NaiveDate>,
    /// The day social-insurance months are counted to (informational: the
    /// month count itself arrives in the applicant facts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub social_insurance: Option<NaiveDate>,
}

/// Unit in which residence duration is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    #[default]
    Month,
    Year,
}

impl Granularity {
    pub fn label(self) -> &'static str {
        match self {
            Granularity::Month => "按月",
            Granularity::Year => "按年",
        }
    }
}

fn default_owners() -> Vec<OwnerRelation> {
    vec![OwnerRelation::Father, OwnerRelation::Mother]
}
fn default_true() -> bool {
    true
}

/// The condition of a category (顺位), from a fixed vocabulary. "In the
/// catchment" always means: the address resolves to the school (or to a zone
/// containing it) under the campaign's catchment rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Condition {
    /// 房户一致: hukou and property both in the catchment, the property owned by
    /// one of `owner_relations` (and acquired by the cut-off); with
    /// `same_address`, the hukou must also be registered at the property itself.
    HukouAndProperty {
        #[serde(default = "default_owners")]
        owner_relations: Vec<OwnerRelation>,
        #[serde(default)]
        same_address: bool,
    },
    /// 户籍: hukou in the catchment.
    Hukou,
    /// 房产: a qualifying property in the catchment.
    Property {
        #[serde(default = "default_owners")]
        owner_relations: Vec<OwnerRelation>,
    },
    /// 随迁子女: residence permit, residence address in the catchment, minimum
    /// residence and social-insurance months; with `order_by_residence`, longer
    /// residence sorts first (key gets `-units`), equals go to the lottery.
    Migrant {
        #[serde(default)]
        min_residence_months: u32,
        #[serde(default)]
        min_social_insurance_months: u32,
        #[serde(default = "default_true")]
        order_by_residence: bool,
    },
    /// 长幼随学 as a category: an elder sibling studies at this school.
    Sibling,
    /// Everyone else in the catchment.
    Others,
}

impl Condition {
    pub fn describe(&self) -> String {
        let owners = |v: &Vec<OwnerRelation>| v.iter().map(|o| o.label()).collect::<Vec<_>>().join("、");
        match self {
            Condition::HukouAndProperty { owner_relations, same_address } => {
                format!("房户一致（产权人：{}{}）", owners(owner_relations), if *same_address { "，户籍须登记在该房产" } else { "" })
            }
            Condition::Hukou => "户籍在招生范围内".into(),
            Condition::Property { owner_relations } => format!("房产在招生范围内（产权人：{}）", owners(owner_relations)),
            Condition::Migrant { min_residence_months, min_social_insurance_months, order_by_residence } => format!(
                "随迁子女（居住满 {min_residence_months} 个月、社保满 {min_social_insurance_months} 个月{}）",
                if *order_by_residence { "，居住时间长者优先" } else { "" }
            ),
            Condition::Sibling => "长幼随学".into(),
            Condition::Others => "其他".into(),
        }
    }
}

/// One category (顺位), in priority order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    /// `A`, `B`, …: upper-case letters/digits, unique.
    pub code: String,
    /// Chinese label, e.g. `房户一致`.
    pub label: String,
    pub condition: Condition,
}

/// Where policy-care children (军人, 烈士, 公安英模, 高层次人才, …) stand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CarePlacement {
    /// A tier of their own before every category (key `[0, …]`).
    #[default]
    OwnTier,
    /// Same tier as the named category (the better of that and their own).
    MergeWith { category: String },
}

/// Policy-care settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PolicyCare {
    /// Accepted `care_category` values.
    #[serde(default)]
    pub kinds: Vec<String>,
    #[serde(default)]
    pub placement: CarePlacement,
    /// Children with `disability_support` count as policy care.
    #[serde(default)]
    pub include_disability_support: bool,
    /// Children with `left_behind` count as policy care.
    #[serde(default)]
    pub include_left_behind: bool,
}

/// How sibling priority (长幼随学) works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SiblingMode {
    /// No sibling priority.
    #[default]
    None,
    /// Within every tier, a sibling at the school sorts first: the key's
    /// second element is 0 (sibling) or 1 (none).
    SubKey,
    /// A category with condition `sibling` carries it.
    Category,
}

/// Schools or zones decided by lottery alone (no categories).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotteryPlacement {
    /// A school id, or a zone id (then every school of the zone).
    pub target: String,
    /// Policy-care children still go first (key `[0]` instead of `[1]`).
    #[serde(default)]
    pub keep_policy_care: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A campaign's admissions policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub name: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub cutoffs: Cutoffs,
    #[serde(default)]
    pub residence_granularity: Granularity,
    #[serde(default)]
    pub sibling: SiblingMode,
    /// Twins / multiple births share one lottery number (family id passed on).
    #[serde(default = "default_true")]
    pub twins_as_family: bool,
    #[serde(default)]
    pub care: PolicyCare,
    pub categories: Vec<Category>,
    #[serde(default)]
    pub lottery: Vec<LotteryPlacement>,
}

fn ordinal_cn(n: usize) -> String {
    const D: [&str; 11] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];
    match n {
        0..=10 => D[n].to_string(),
        11..=19 => format!("十{}", D[n - 10]),
        20..=99 if n % 10 == 0 => format!("{}十", D[n / 10]),
        20..=99 => format!("{}十{}", D[n / 10], D[n % 10]),
        _ => n.to_string(),
    }
}

/// `第一顺位`, `第二顺位`, … for the 1-based tier.
pub fn tier_name(tier: usize) -> String {
    format!("第{}顺位", ordinal_cn(tier))
}

impl Policy {
    pub fn from_toml(s: &str) -> Result<Policy, PolicyError> {
        toml::from_str(s).map_err(|e| PolicyError::Toml(e.to_string()))
    }
    pub fn to_toml(&self) -> Result<String, PolicyError> {
        toml::to_string(self).map_err(|e| PolicyError::Toml(e.to_string()))
    }
    pub fn from_json(s: &str) -> Result<Policy, PolicyError> {
        serde_json::from_str(s).map_err(|e| PolicyError::Json(e.to_string()))
    }
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("policy serialises")
    }

    /// Parse (TOML) and validate.
    pub fn load_toml(s: &str) -> Result<Policy, PolicyError> {
        let p = Self::from_toml(s)?;
        p.validate().map_err(PolicyError::Invalid)?;
        Ok(p)
    }

    /// Index of a category by code.
    pub fn category_index(&self, code: &str) -> Option<usize> {
        self.categories.iter().position(|c| c.code == code)
    }

    /// Check the document; every issue names its field.
    pub fn validate(&self) -> Result<(), Vec<PolicyIssue>> {
        let mut v = Vec::new();
        let mut issue = |field: String, message: String| v.push(PolicyIssue { field, message });
        if self.name.trim().is_empty() {
            issue("name".into(), "方案名称不能为空".into());
        }
        if self.version.trim().is_empty() {
            issue("version".into(), "方案版本不能为空".into());
        }
        if let Some(p) = self.cutoffs.property_acquired_by {
            if p > self.cutoffs.residence {
                issue(
                    "cutoffs.property_acquired_by".into(),
                    format!("房产取得截止日期 {p} 不应晚于居住时长截止日期 {}", self.cutoffs.residence),
                );
            }
        }
        if let Some(p) = self.cutoffs.permit_issued_by {
            if p > self.cutoffs.residence {
                issue(
                    "cutoffs.permit_issued_by".into(),
                    format!("居住证签发截止日期 {p} 不应晚于居住时长截止日期 {}", self.cutoffs.residence),
                );
            }
        }
        if self.categories.is_empty() {
            issue("categories".into(), "至少需要一个顺位".into());
        }
        let mut seen = std::collections::HashSet::new();
        for (i, c) in self.categories.iter().enumerate() {
            let f = |s: &str| format!("categories[{i}].{s}");
            if c.code.is_empty() || !c.code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
                issue(f("code"), format!("顺位代码「{}」只能由大写字母和数字组成，且不能为空", c.code));
            }
            if c.code == "CARE" || c.code == "LOT" {
                issue(f("code"), format!("顺位代码「{}」为系统保留代码", c.code));
            }
            if !seen.insert(c.code.clone()) {
                issue(f("code"), format!("顺位代码「{}」重复", c.code));
            }
            if c.label.trim().is_empty() {
                issue(f("label"), format!("顺位 {} 的名称不能为空", c.code));
            }
            match &c.condition {
                Condition::HukouAndProperty { owner_relations, .. } | Condition::Property { owner_relations }
                    if owner_relations.is_empty() =>
                {
                    issue(f("condition.owner_relations"), format!("顺位 {} 至少需要一种认可的产权人关系", c.code));
                }
                Condition::Migrant { min_residence_months, .. } if *min_residence_months > 240 => {
                    issue(
                        f("condition.min_residence_months"),
                        format!("顺位 {} 的最短居住月数 {min_residence_months} 不合理（超过 240 个月）", c.code),
                    );
                }
                Condition::Sibling if self.sibling != SiblingMode::Category => {
                    issue(f("condition"), format!("顺位 {} 为长幼随学，但 sibling 设置不是 category", c.code))
                }
                Condition::Others if i + 1 != self.categories.len() => {
                    issue(f("condition"), format!("顺位 {}（其他）之后的顺位永远不会生效，「其他」应为最后一个顺位", c.code))
                }
                _ => {}
            }
        }
        if self.sibling == SiblingMode::Category && !self.categories.iter().any(|c| c.condition == Condition::Sibling) {
            issue("sibling".into(), "sibling 设为 category，但没有条件为 sibling 的顺位".into());
        }
        let mut kinds = std::collections::HashSet::new();
        for (i, k) in self.care.kinds.iter().enumerate() {
            if k.trim().is_empty() {
                issue(format!("care.kinds[{i}]"), "照顾类别名称不能为空".into());
            } else if !kinds.insert(k) {
                issue(format!("care.kinds[{i}]"), format!("照顾类别「{k}」重复"));
            }
        }
        if let CarePlacement::MergeWith { category } = &self.care.placement {
            match self.categories.iter().find(|c| &c.code == category) {
                None => issue("care.placement.category".into(), format!("政策性照顾并入的顺位「{category}」不存在")),
                Some(c) if matches!(c.condition, Condition::Migrant { .. }) => {
                    issue("care.placement.category".into(), format!("政策性照顾不能并入按居住时长排序的随迁子女顺位「{category}」"))
                }
                _ => {}
            }
        }
        let mut targets = std::collections::HashSet::new();
        for (i, l) in self.lottery.iter().enumerate() {
            if l.target.trim().is_empty() {
                issue(format!("lottery[{i}].target"), "电脑派位的学校或片区代码不能为空".into());
            } else if !targets.insert(&l.target) {
                issue(format!("lottery[{i}].target"), format!("学校或片区「{}」重复设置", l.target));
            }
        }
        if v.is_empty() {
            Ok(())
        } else {
            Err(v)
        }
    }
}

/// Changes from policy `a` to policy `b`, one Chinese line each.
pub fn diff(a: &Policy, b: &Policy) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = |label: &str, x: String, y: String| {
        if x != y {
            out.push(format!("{label}：{x} → {y}"));
        }
    };
    let od = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_else(|| "（未设置）".into());
    field("方案名称", a.name.clone(), b.name.clone());
    field("版本", a.version.clone(), b.version.clone());
    field("说明", a.description.clone().unwrap_or_default(), b.description.clone().unwrap_or_default());
    field("居住时长截止日期", a.cutoffs.residence.to_string(), b.cutoffs.residence.to_string());
    field("房产取得截止日期", od(a.cutoffs.property_acquired_by), od(b.cutoffs.property_acquired_by));
    field("居住证签发截止日期", od(a.cutoffs.permit_issued_by), od(b.cutoffs.permit_issued_by));
    field("社保截止日期", od(a.cutoffs.social_insurance), od(b.cutoffs.social_insurance));
    field("居住时长计算单位", a.residence_granularity.label().into(), b.residence_granularity.label().into());
    let sib = |m: SiblingMode| match m {
        SiblingMode::None => "不设长幼随学",
        SiblingMode::SubKey => "长幼随学作为同顺位内的优先条件",
        SiblingMode::Category => "长幼随学作为独立顺位",
    };
    field("长幼随学", sib(a.sibling).into(), sib(b.sibling).into());
    let yn = |x: bool| if x { "是" } else { "否" }.to_string();
    field("双（多）胞胎按一户派位", yn(a.twins_as_family), yn(b.twins_as_family));
    let care = |c: &PolicyCare| match &c.placement {
        CarePlacement::OwnTier => "单列为最优先顺位".to_string(),
        CarePlacement::MergeWith { category } => format!("并入顺位 {category}"),
    };
    field("政策性照顾位置", care(&a.care), care(&b.care));
    field("政策性照顾类别", a.care.kinds.join("、"), b.care.kinds.join("、"));
    field("残疾儿童随班就读计入照顾", yn(a.care.include_disability_support), yn(b.care.include_disability_support));
    field("留守儿童计入照顾", yn(a.care.include_left_behind), yn(b.care.include_left_behind));

    for c in &b.categories {
        match a.categories.iter().find(|x| x.code == c.code) {
            None => out.push(format!("新增顺位 {}（{}）：{}", c.code, c.label, c.condition.describe())),
            Some(o) => {
                if o.label != c.label {
                    out.push(format!("顺位 {} 名称：{} → {}", c.code, o.label, c.label));
                }
                if o.condition != c.condition {
                    out.push(format!("顺位 {} 条件：{} → {}", c.code, o.condition.describe(), c.condition.describe()));
                }
            }
        }
    }
    for c in &a.categories {
        if !b.categories.iter().any(|x| x.code == c.code) {
            out.push(format!("删除顺位 {}（{}）", c.code, c.label));
        }
    }
    let order = |p: &Policy| p.categories.iter().map(|c| c.code.clone()).collect::<Vec<_>>().join(" > ");
    let common_a: Vec<&str> = a.categories.iter().filter(|c| b.category_index(&c.code).is_some()).map(|c| c.code.as_str()).collect();
    let common_b: Vec<&str> = b.categories.iter().filter(|c| a.category_index(&c.code).is_some()).map(|c| c.code.as_str()).collect();
    if common_a != common_b {
        out.push(format!("顺位先后次序：{} → {}", order(a), order(b)));
    }
    for l in &b.lottery {
        match a.lottery.iter().find(|x| x.target == l.target) {
            None => out.push(format!("新增全部电脑派位的学校/片区：{}", l.target)),
            Some(o) if o != l => out.push(format!("学校/片区 {} 的电脑派位设置有变化", l.target)),
            _ => {}
        }
    }
    for l in &a.lottery {
        if !b.lottery.iter().any(|x| x.target == l.target) {
            out.push(format!("取消全部电脑派位的学校/片区：{}", l.target));
        }
    }
    out
}
