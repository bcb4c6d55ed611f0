//! The policy document as a notice a family can read (招生公告): who may
//! register, the categories (顺位) in order with their documents, the cut-off
//! dates, the residence-time rules for migrant children, policy care, sibling
//! priority, which schools are decided by lottery and how the draw is run and
//! checked. Every sentence is generated from the [`Policy`] the keys are
//! computed from ([`super::compute_keys`]), so the notice cannot say
//! something the system does not do. Pure: no database, no clock.
//!
//! The public page `/campaigns/{id}/notice` and the parent page
//! `/parent/campaigns/{id}` both render it (`templates/_policy_notice.html`).

use super::doc::{CarePlacement, Condition, Granularity, Policy, SiblingMode};
use super::tier_name;
use crate::registration::upload::DocumentKind;
use chrono::NaiveDate;
use serde::Serialize;

/// One category (顺位) as the notice states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct NoticeCategory {
    /// `第一顺位`, … (policy care with its own tier comes before these and
    /// is listed separately).
    pub tier: String,
    pub code: String,
    pub label: String,
    /// The condition in words ([`Condition::describe`]).
    pub condition: String,
    /// What the condition asks of the family, sentence by sentence.
    pub details: Vec<String>,
    /// Documents to bring for this category (labels of [`DocumentKind`]).
    pub documents: Vec<String>,
}

/// The policy as a notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PolicyNotice {
    pub name: String,
    pub version: String,
    pub description: Option<String>,
    pub categories: Vec<NoticeCategory>,
    /// (what the date limits, `YYYY年M月D日`).
    #[schema(value_type = Vec<Vec<String>>)]
    pub cutoffs: Vec<(String, String)>,
    /// Residence-time rules for migrant children (随迁子女).
    pub residence: Vec<String>,
    /// Policy care (政策性照顾对象): who, and where they stand.
    pub care: Vec<String>,
    /// Sibling priority (长幼随学) and twins.
    pub family: Vec<String>,
    /// Documents every family brings, then per category (see `categories`).
    pub documents: Vec<String>,
}

/// `2019年8月31日`.
pub fn date_cn(d: NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

fn owners(v: &[super::OwnerRelation]) -> String {
    v.iter().map(|o| o.label()).collect::<Vec<_>>().join("、")
}

fn docs(kinds: &[DocumentKind]) -> Vec<String> {
    kinds.iter().map(|k| k.label().to_string()).collect()
}

/// What a condition asks, and the documents that prove it.
fn condition_details(p: &Policy, c: &Condition) -> (Vec<String>, Vec<String>) {
    let property_by = p.cutoffs.property_acquired_by.map(|d| format!("，且须在{}（含当日）前取得", date_cn(d))).unwrap_or_default();
    match c {
        Condition::HukouAndProperty { owner_relations, same_address } => {
            let mut d = vec![
                "儿童户籍在本校（片区）招生范围内".to_string(),
                format!("在招生范围内有住房，产权人为{}{property_by}", owners(owner_relations)),
            ];
            if *same_address {
                d.push("户籍须登记在该住房地址".into());
            }
            (d, docs(&[DocumentKind::Hukou, DocumentKind::PropertyCert]))
        }
        Condition::Hukou => (vec!["儿童户籍在本校（片区）招生范围内".into()], docs(&[DocumentKind::Hukou])),
        Condition::Property { owner_relations } => (
            vec![format!("在招生范围内有住房，产权人为{}{property_by}", owners(owner_relations))],
            docs(&[DocumentKind::PropertyCert, DocumentKind::PurchaseContract]),
        ),
        Condition::Migrant { min_residence_months, min_social_insurance_months, order_by_residence } => {
            let mut d = vec!["非本县户籍，持有本县居住证，居住地址在本校（片区）招生范围内".to_string()];
            if *min_residence_months > 0 {
                d.push(format!("截至{}在本县居住满 {min_residence_months} 个月", date_cn(p.cutoffs.residence)));
            }
            if *min_social_insurance_months > 0 {
                let to = p.cutoffs.social_insurance.map(|d| format!("截至{}", date_cn(d))).unwrap_or_default();
                d.push(format!("{to}父母一方在本县连续缴纳社会保险满 {min_social_insurance_months} 个月"));
            }
            if *order_by_residence {
                d.push(format!("同一顺位内居住时间长者优先（{}计算），居住时间相同的电脑派位", p.residence_granularity.label()));
            } else {
                d.push("同一顺位内不按居住时间排序，学位不足时电脑派位".into());
            }
            (d, docs(&[DocumentKind::ResidencePermit, DocumentKind::SocialInsurance]))
        }
        Condition::Sibling => (vec!["儿童的哥哥或姐姐目前在本校就读（长幼随学）".into()], docs(&[DocumentKind::Other])),
        Condition::Others => (vec!["不符合以上各顺位条件、居住在招生范围内的适龄儿童".into()], Vec::new()),
    }
}

/// The notice of `p`.
pub fn notice(p: &Policy) -> PolicyNotice {
    let care_own_tier = matches!(p.care.placement, CarePlacement::OwnTier) && !p.care.kinds.is_empty();
    let categories = p
        .categories
        .iter()
        .enumerate()
        .map(|(i, cat)| {
            let (details, documents) = condition_details(p, &cat.condition);
            NoticeCategory {
                tier: tier_name(i + 1),
                code: cat.code.clone(),
                label: cat.label.clone(),
                condition: cat.condition.describe(),
                details,
                documents,
            }
        })
        .collect();

    let mut cutoffs = vec![("居住时间计算截止日期".to_string(), date_cn(p.cutoffs.residence))];
    if let Some(d) = p.cutoffs.property_acquired_by {
        cutoffs.push(("房产取得截止日期（不动产权证登记或购房合同备案）".into(), date_cn(d)));
    }
    if let Some(d) = p.cutoffs.permit_issued_by {
        cutoffs.push(("居住证签发截止日期".into(), date_cn(d)));
    }
    if let Some(d) = p.cutoffs.social_insurance {
        cutoffs.push(("社会保险缴费月数计算截止日期".into(), date_cn(d)));
    }

    let mut residence = Vec::new();
    let migrant: Vec<_> = p
        .categories
        .iter()
        .enumerate()
        .filter_map(|(i, c)| match &c.condition {
            Condition::Migrant { min_residence_months, .. } => Some((i, c, *min_residence_months)),
            _ => None,
        })
        .collect();
    if migrant.is_empty() {
        residence.push("本方案不单列随迁子女顺位。".into());
    } else {
        for (i, c, _) in &migrant {
            residence.push(format!("随迁子女按{}（{}）报名。", tier_name(i + 1), c.label));
        }
        residence.push(format!(
            "居住时间从居住证登记的居住起始日期起算，至{}止，按整月计算（不足一个月的不计）；排序时{}。",
            date_cn(p.cutoffs.residence),
            match p.residence_granularity {
                Granularity::Month => "按月数比较",
                Granularity::Year => "按整年数比较（满 12 个月为一年，不足一年的部分不计）",
            }
        ));
        if let Some(d) = p.cutoffs.permit_issued_by {
            residence.push(format!("居住证须在{}（含当日）前签发，之后签发的不能按随迁子女顺位录取。", date_cn(d)));
        }
        residence.push("居住起始日期晚于截止日期的，无法计算居住时间，请先核对居住证信息。".into());
    }

    let mut care = Vec::new();
    if p.care.kinds.is_empty() && !p.care.include_disability_support && !p.care.include_left_behind {
        care.push("本方案不设政策性照顾对象。".into());
    } else {
        if !p.care.kinds.is_empty() {
            care.push(format!("政策性照顾对象：{}，须提供优抚证明。", p.care.kinds.join("、")));
        }
        if p.care.include_disability_support {
            care.push("残疾儿童随班就读的，按政策性照顾对象安排，须提供残疾证或随班就读评估。".into());
        }
        if p.care.include_left_behind {
            care.push("农村留守儿童按政策性照顾对象安排。".into());
        }
        care.push(match &p.care.placement {
            CarePlacement::OwnTier => "政策性照顾对象单列一个顺位，排在所有顺位之前。".into(),
            CarePlacement::MergeWith { category } => {
                let tier = p.category_index(category).map(|i| tier_name(i + 1)).unwrap_or_else(|| category.clone());
                let label = p.categories.iter().find(|c| &c.code == category).map(|c| c.label.as_str()).unwrap_or("");
                format!("政策性照顾对象与{tier}（{label}）同等对待，按两者中较优的顺位录取。")
            }
        });
    }

    let mut family = vec![match p.sibling {
        SiblingMode::None => "本方案不设长幼随学优先。".to_string(),
        SiblingMode::SubKey => "长幼随学：哥哥或姐姐在该校就读的，在同一顺位内优先录取。".into(),
        SiblingMode::Category => "长幼随学：哥哥或姐姐在该校就读的，按「长幼随学」顺位录取。".into(),
    }];
    family.push(if p.twins_as_family {
        "双胞胎（多胞胎）参加电脑派位时使用同一个派位号，一同录取或一同不录取。".into()
    } else {
        "双胞胎（多胞胎）各自参加电脑派位。".into()
    });

    let mut documents = vec!["户口簿（户主页及儿童页）".to_string(), format!("{}及监护人身份证", DocumentKind::BirthCert.label())];
    if care_own_tier || !p.care.kinds.is_empty() {
        documents.push(format!("政策性照顾对象：{}", DocumentKind::PolicyCare.label()));
    }
    if p.care.include_disability_support {
        documents.push(format!("残疾儿童随班就读：{}", DocumentKind::Disability.label()));
    }

    PolicyNotice {
        name: p.name.clone(),
        version: p.version.clone(),
        description: p.description.clone(),
        categories,
        cutoffs,
        residence,
        care,
        family,
        documents,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_policy_reads_in_order_with_its_dates() {
        let n = notice(&crate::policy::demo_policy());
        let tiers: Vec<_> = n.categories.iter().map(|c| (c.tier.as_str(), c.code.as_str())).collect();
        assert_eq!(tiers, [("第一顺位", "A"), ("第二顺位", "B"), ("第三顺位", "C"), ("第四顺位", "D"), ("第五顺位", "E")]);
        assert!(n.cutoffs.contains(&("居住时间计算截止日期".into(), "2019年8月31日".into())));
        assert!(n.categories[3].details.iter().any(|d| d.contains("居住满 12 个月")), "{:?}", n.categories[3]);
        assert!(n.residence.iter().any(|r| r.contains("第四顺位（随迁子女）")));
        assert!(n.care[0].contains("军人"));
        assert!(n.family[0].contains("同一顺位内优先"));
    }

    #[test]
    fn year_granularity_and_merged_care_are_stated() {
        let mut p = crate::policy::demo_policy();
        p.residence_granularity = Granularity::Year;
        p.care.placement = CarePlacement::MergeWith { category: "B".into() };
        p.sibling = SiblingMode::None;
        p.twins_as_family = false;
        let n = notice(&p);
        assert!(n.residence.iter().any(|r| r.contains("按整年数比较")));
        assert!(n.care.iter().any(|c| c.contains("与第二顺位（户籍在片区）同等对待")));
        assert_eq!(n.family, ["本方案不设长幼随学优先。", "双胞胎（多胞胎）各自参加电脑派位。"]);
    }
}
