//! Category and draw priority key per school for one applicant.
//!
//! # Eligible schools
//! The hukou address, the property address and (for a migrant child) the
//! residence-permit address are each resolved against the campaign's rules
//! ([`crate::catchment::resolve`]); the winning rule's target gives one school or
//! every school of a zone. A child may attend exactly the union of these.
//! (Map polygons play no part here: facts carry no coordinates.)
//!
//! # Keys (smaller is better; draw spec §2)
//! - category at position `i` (1-based) → `[i]`;
//! - with `sibling = "sub_key"` every key gets a second element: 0 when the elder
//!   sibling studies at this school, else 1;
//! - a migrant category with `order_by_residence` appends `-units`, units being
//!   full months (or full years = months / 12, for `residence_granularity =
//!   "year"`), so longer residence sorts first and equal residence ties (lottery);
//! - policy care with `own_tier` → tier 0 (`[0]`, plus the sibling element);
//!   with `merge_with` → the better of the child's own key and the merged
//!   category's key;
//! - a school (or zone) listed under `lottery` → `[1]` for everyone (`[0]` for
//!   policy care when `keep_policy_care`), category code `LOT`.
//!
//! # Full months ([`full_months`])
//! `months = (cy − sy) × 12 + (cm − sm)`, minus 1 when the cut-off's day of month
//! is smaller than the start's. So a month is complete on the same day number of
//! a later month; when that month is too short (start on the 31st, or 29 Feb),
//! it completes only on the 1st of the month after. Examples: 2024-01-31 →
//! 2024-02-29: 0; → 2024-03-01: 1; 2024-02-29 → 2025-02-28: 11; → 2025-03-01:
//! 12; start on the cut-off day: 0. A start after the cut-off is an error.

use super::doc::{tier_name, CarePlacement, Condition, Granularity, Policy, PolicyError, SiblingMode};
use super::facts::{ApplicantFacts, OwnerRelation, Property};
use crate::catchment::{resolve, Address, CatchmentRule, Directory, Target};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// Full months from `start` to `cutoff` (see the module docs).
pub fn full_months(start: NaiveDate, cutoff: NaiveDate) -> Result<u32, PolicyError> {
    if start > cutoff {
        return Err(PolicyError::ResidenceAfterCutoff { start, cutoff });
    }
    let mut m = (cutoff.year() - start.year()) * 12 + cutoff.month() as i32 - start.month() as i32;
    if cutoff.day() < start.day() {
        m -= 1;
    }
    Ok(m.max(0) as u32)
}

/// The rules and names of a campaign, as the key computation needs them.
#[derive(Clone, Copy)]
pub struct CatchmentContext<'a> {
    pub rules: &'a [CatchmentRule],
    pub directory: &'a dyn Directory,
}

/// Which address put the child in a school's catchment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Hukou,
    Property,
    Residence,
}

impl Basis {
    pub fn label(self) -> &'static str {
        match self {
            Basis::Hukou => "户籍",
            Basis::Property => "房产",
            Basis::Residence => "居住证",
        }
    }
}

/// The outcome for one school.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchoolKey {
    pub school_id: String,
    pub school_name: String,
    /// Set when the school was reached through a zone.
    pub zone_id: Option<String>,
    pub via: Vec<Basis>,
    /// Category code (`A`…), `CARE` for the policy-care tier, `LOT` for lottery-only.
    pub category_code: String,
    pub category_label: String,
    /// The draw priority key; smaller is better.
    pub key: Vec<i64>,
    /// One Chinese sentence, e.g. `第四顺位：随迁子女，居住满 38 个月（截至 2027-08-31）`.
    pub explanation: String,
    /// Chinese catchment chains, one per basis.
    pub catchment: Vec<String>,
}

/// Keys of one applicant for every school they may attend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicantKeys {
    pub application_no: String,
    /// The draw `family` (twins) when the policy treats them as one.
    pub family: Option<String>,
    /// Full residence months at the cut-off, for migrant children.
    pub residence_months: Option<u32>,
    /// Best key first, then school id.
    pub schools: Vec<SchoolKey>,
    /// Chinese notes (e.g. why a property did not count, no catchment found).
    pub notes: Vec<String>,
}

struct Reach {
    school: String,
    zone: Option<String>,
    via: Vec<Basis>,
    chains: Vec<String>,
}

/// Compute category, key and explanation for every school the child may attend.
pub fn compute_keys(facts: &ApplicantFacts, policy: &Policy, ctx: &CatchmentContext<'_>) -> Result<ApplicantKeys, PolicyError> {
    let dir = ctx.directory;
    let cutoff = policy.cutoffs.residence;
    let mut notes = Vec::new();

    // residence months (error if the start is after the cut-off)
    let residence_months = match &facts.migrant {
        Some(m) => Some(full_months(m.residence_start, cutoff)?),
        None => None,
    };
    // policy care
    let care_kind: Option<String> = match &facts.care_category {
        Some(k) if !k.trim().is_empty() => {
            if !policy.care.kinds.iter().any(|x| x == k) {
                return Err(PolicyError::UnknownCareCategory(k.clone()));
            }
            Some(k.clone())
        }
        _ if policy.care.include_disability_support && facts.disability_support => Some("残疾儿童随班就读".into()),
        _ if policy.care.include_left_behind && facts.left_behind => Some("留守儿童".into()),
        _ => None,
    };

    // reachable schools
    let mut reach: Vec<Reach> = Vec::new();
    let mut add = |addr: &Address, basis: Basis, notes: &mut Vec<String>| {
        let res = resolve(ctx.rules, addr, None, dir);
        let Some(w) = res.winner else {
            notes.push(format!("{}地址「{}」未匹配到招生范围", basis.label(), addr.display()));
            return;
        };
        let zone = match &w.target {
            Target::Zone(z) => Some(z.clone()),
            Target::School(_) => None,
        };
        let schools = dir.target_schools(&w.target);
        if schools.is_empty() {
            notes.push(format!("{}地址匹配到「{}」，但该片区没有登记学校", basis.label(), w.target_name));
        }
        for s in schools {
            let chain = format!("{}：{}", basis.label(), res.explanation);
            match reach.iter_mut().find(|r| r.school == s) {
                Some(r) => {
                    if !r.via.contains(&basis) {
                        r.via.push(basis);
                        r.chains.push(chain);
                    }
                }
                None => reach.push(Reach { school: s, zone: zone.clone(), via: vec![basis], chains: vec![chain] }),
            }
        }
    };
    if let Some(h) = &facts.hukou {
        add(h, Basis::Hukou, &mut notes);
    }
    if let Some(p) = &facts.property {
        add(&p.address, Basis::Property, &mut notes);
    }
    if let Some(m) = &facts.migrant {
        match &m.residence_address {
            Some(a) => add(a, Basis::Residence, &mut notes),
            None => notes.push("随迁子女未提供居住证地址，无法按居住地确定招生范围".into()),
        }
    }
    if reach.is_empty() {
        notes.push("未找到可就读的学校，需由教育局统筹安排".into());
    }

    // property qualification (owner relation checked per category)
    let property_in_time = |p: &Property| match (p.acquired_on, policy.cutoffs.property_acquired_by) {
        (Some(d), Some(limit)) => d <= limit,
        _ => true,
    };
    if let Some(p) = &facts.property {
        if !property_in_time(p) {
            notes.push(format!(
                "房产取得日期 {} 晚于截止日期 {}，不计入房产条件",
                p.acquired_on.unwrap(),
                policy.cutoffs.property_acquired_by.unwrap()
            ));
        }
    }
    let permit_ok = facts.migrant.as_ref().is_some_and(|m| match (m.permit_issued_on, policy.cutoffs.permit_issued_by) {
        (Some(d), Some(limit)) => d <= limit,
        (None, Some(_)) => false,
        _ => true,
    });
    if facts.migrant.is_some() && !permit_ok {
        notes.push("居住证签发日期缺失或晚于方案规定的截止日期，不符合随迁子女条件".into());
    }

    let mut schools = Vec::new();
    for r in &reach {
        let school_name = dir.school_name(&r.school).unwrap_or_else(|| r.school.clone());
        let hukou_in = r.via.contains(&Basis::Hukou);
        let property_in = r.via.contains(&Basis::Property);
        let residence_in = r.via.contains(&Basis::Residence);
        let sibling_here = facts.sibling_school_id.as_deref() == Some(r.school.as_str());
        let sib_el: Vec<i64> = if policy.sibling == SiblingMode::SubKey { vec![if sibling_here { 0 } else { 1 }] } else { vec![] };
        let sib_text = if policy.sibling == SiblingMode::SubKey && sibling_here { "；长幼随学，同顺位内优先" } else { "" };
        let owner_ok =
            |rels: &Vec<OwnerRelation>| facts.property.as_ref().is_some_and(|p| rels.contains(&p.owner_relation) && property_in_time(p));
        let owner_label = facts.property.as_ref().map(|p| p.owner_relation.label()).unwrap_or("");

        // lottery-only placement?
        let lottery = policy.lottery.iter().find(|l| l.target == r.school || r.zone.as_deref() == Some(l.target.as_str()));
        let (code, label, key, explanation) = if let Some(l) = lottery {
            let care_first = l.keep_policy_care && care_kind.is_some();
            let what = match (&r.zone, r.zone.as_deref() == Some(l.target.as_str())) {
                (Some(z), true) => format!(
                    "{}实行划分片区和电脑派位相结合，片区内不分顺位，由电脑派位确定就读学校",
                    dir.zone_name(z).unwrap_or_else(|| z.clone())
                ),
                _ => format!("{school_name}按方案不分顺位，全部由电脑派位确定"),
            };
            if care_first {
                (
                    "CARE".to_string(),
                    "政策性照顾对象".to_string(),
                    vec![0],
                    format!("优先安排：政策性照顾对象（{}）；{what}", care_kind.clone().unwrap()),
                )
            } else {
                ("LOT".to_string(), "电脑派位".to_string(), vec![1], format!("电脑派位：{what}"))
            }
        } else {
            // first matching category
            let mut found = None;
            for (i, c) in policy.categories.iter().enumerate() {
                let tier = (i + 1) as i64;
                let head = format!("{}：{}", tier_name(i + 1), c.label);
                let hit: Option<(Vec<i64>, String)> = match &c.condition {
                    Condition::HukouAndProperty { owner_relations, same_address } => {
                        let same =
                            !*same_address || matches!((&facts.hukou, &facts.property), (Some(h), Some(p)) if h.same_dwelling(&p.address));
                        (hukou_in && property_in && owner_ok(owner_relations) && same).then(|| {
                            (
                                [vec![tier], sib_el.clone()].concat(),
                                format!("{head}，户籍与房产均在{school_name}招生范围内，房产登记在{owner_label}名下"),
                            )
                        })
                    }
                    Condition::Hukou => {
                        hukou_in.then(|| ([vec![tier], sib_el.clone()].concat(), format!("{head}，户籍在{school_name}招生范围内")))
                    }
                    Condition::Property { owner_relations } => (property_in && owner_ok(owner_relations)).then(|| {
                        ([vec![tier], sib_el.clone()].concat(), format!("{head}，房产在{school_name}招生范围内，登记在{owner_label}名下"))
                    }),
                    Condition::Migrant { min_residence_months, min_social_insurance_months, order_by_residence } => {
                        let m = facts.migrant.as_ref();
                        let months = residence_months.unwrap_or(0);
                        let ok = residence_in
                            && permit_ok
                            && months >= *min_residence_months
                            && m.is_some_and(|m| m.social_insurance_months >= *min_social_insurance_months);
                        ok.then(|| {
                            let (units, unit_text) = match policy.residence_granularity {
                                Granularity::Month => (months as i64, format!("{months} 个月")),
                                Granularity::Year => ((months / 12) as i64, format!("{} 年", months / 12)),
                            };
                            let mut key = [vec![tier], sib_el.clone()].concat();
                            if *order_by_residence {
                                key.push(-units);
                            }
                            (key, format!("{head}，居住满 {unit_text}（截至 {cutoff}）"))
                        })
                    }
                    Condition::Sibling => sibling_here.then(|| (vec![tier], format!("{head}，兄姐在{school_name}就读（长幼随学）"))),
                    Condition::Others => Some((
                        [vec![tier], sib_el.clone()].concat(),
                        format!("{head}，{}在{school_name}招生范围内", r.via.iter().map(|b| b.label()).collect::<Vec<_>>().join("、")),
                    )),
                };
                if let Some((key, text)) = hit {
                    found = Some((c.code.clone(), c.label.clone(), key, format!("{text}{sib_text}")));
                    break;
                }
            }
            // policy care
            if let Some(kind) = &care_kind {
                match &policy.care.placement {
                    CarePlacement::OwnTier => {
                        found = Some((
                            "CARE".into(),
                            "政策性照顾对象".into(),
                            [vec![0], sib_el.clone()].concat(),
                            format!("优先安排：政策性照顾对象（{kind}），{school_name}招生范围内优先录取{sib_text}"),
                        ));
                    }
                    CarePlacement::MergeWith { category } => {
                        if let Some(i) = policy.category_index(category) {
                            let c = &policy.categories[i];
                            let care_key = [vec![(i + 1) as i64], sib_el.clone()].concat();
                            let better = found.as_ref().map_or(true, |f| care_key < f.2);
                            if better {
                                found = Some((
                                    c.code.clone(),
                                    c.label.clone(),
                                    care_key,
                                    format!("{}：政策性照顾对象（{kind}），按方案与「{}」同列{sib_text}", tier_name(i + 1), c.label),
                                ));
                            }
                        }
                    }
                }
            }
            match found {
                Some(f) => f,
                None => {
                    notes.push(format!("在{school_name}不符合任何顺位条件"));
                    continue;
                }
            }
        };
        schools.push(SchoolKey {
            school_id: r.school.clone(),
            school_name,
            zone_id: r.zone.clone(),
            via: r.via.clone(),
            category_code: code,
            category_label: label,
            key,
            explanation,
            catchment: r.chains.clone(),
        });
    }
    schools.sort_by(|a, b| a.key.cmp(&b.key).then(a.school_id.cmp(&b.school_id)));
    Ok(ApplicantKeys {
        application_no: facts.application_no.clone(),
        family: if policy.twins_as_family { facts.family_id.clone() } else { None },
        residence_months,
        schools,
        notes,
    })
}
