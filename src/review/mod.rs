//! Review of applications (pure parts): the decision vocabulary, what a
//! decision may do to an application, fraud signals, dashboard figures,
//! SVG charts and export tables. Nothing here touches the database or HTTP.

pub mod appeal;
pub mod audit_text;
pub mod charts;
pub mod dashboard;
pub mod export;
pub mod fraud;
pub mod scope;
pub mod supplement;

use crate::domain::{ApplicationStatus, DecisionKind};

use serde::Serialize;

/// Coded rejection reasons, with the label staff and guardians read.
pub const REJECT_REASONS: [(&str, &str); 10] = [
    ("out_of_catchment", "住址不在本校（片区）招生范围"),
    ("age_ineligible", "年龄不符合入学条件"),
    ("hukou_invalid", "户籍证明不符合要求"),
    ("property_invalid", "房产证明不符合要求"),
    ("residence_invalid", "居住证或社保证明不符合要求"),
    ("documents_false", "材料不真实"),
    ("duplicate", "重复报名"),
    ("withdrawn", "监护人申请撤回"),
    ("supplement_expired", "逾期未补充材料"),
    ("other", "其他原因（见说明）"),
];

pub fn reject_reason_label(code: &str) -> Option<&'static str> {
    REJECT_REASONS.iter().find(|(c, _)| *c == code).map(|(_, l)| *l)
}

/// The guardian's declarations as labelled rows for a reviewer to read
/// (read-only; reviewers annotate, they never edit these).
pub fn facts_rows(f: &crate::policy::ApplicantFacts) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut push = |k: &str, v: String| rows.push((k.to_string(), v));
    match &f.hukou {
        Some(a) => push("户籍地址", a.display()),
        None => push("户籍地址", "未申报".into()),
    }
    if let Some(p) = &f.property {
        push("房产地址", p.address.display());
        push("不动产权证号", p.certificate_no.clone());
        push("产权人", p.owner_relation.label().into());
        if let Some(d) = p.acquired_on {
            push("房产取得日期", d.to_string());
        }
    } else {
        push("房产", "未申报".into());
    }
    if let Some(m) = &f.migrant {
        push("居住证号", m.permit_no.clone());
        push("居住起始", m.residence_start.to_string());
        push("居住证签发", m.permit_issued_on.map(|d| d.to_string()).unwrap_or_else(|| "未填".into()));
        push("社保缴纳", format!("{} 个月", m.social_insurance_months));
        if let Some(a) = &m.residence_address {
            push("居住证地址", a.display());
        }
    }
    if let Some(c) = &f.care_category {
        push("政策性照顾", c.clone());
    }
    if let Some(s) = &f.sibling_school_id {
        push("兄姊就读学校", s.clone());
    }
    if f.disability_support {
        push("随班就读", "是".into());
    }
    if f.left_behind {
        push("留守儿童", "是".into());
    }
    if let Some(fam) = &f.family_id {
        push("多胞胎（同一家庭）", fam.clone());
    }
    rows
}

/// The guardian's declarations with personal data masked, for auditors:
/// addresses keep township, community and road (what places the child)
/// but not the house number, compound, building or detail; certificate
/// and permit numbers are masked.
pub fn masked_facts(f: &crate::policy::ApplicantFacts) -> crate::policy::ApplicantFacts {
    use crate::identity::mask_id;
    let addr = |a: &crate::catchment::Address| crate::catchment::Address {
        township: a.township.clone(),
        community: a.community.clone(),
        road: a.road.clone(),
        ..Default::default()
    };
    let mut m = f.clone();
    m.hukou = f.hukou.as_ref().map(addr);
    if let Some(p) = m.property.as_mut() {
        p.address = addr(&p.address);
        p.certificate_no = mask_id(&p.certificate_no);
    }
    if let Some(g) = m.migrant.as_mut() {
        g.residence_address = g.residence_address.as_ref().map(addr);
        g.permit_no = mask_id(&g.permit_no);
    }
    m
}

/// A note with any quoted address (「…」) masked, for auditors.
pub fn masked_note(note: &str) -> String {
    let mut out = String::new();
    let mut rest = note;
    while let Some(i) = rest.find('「') {
        let (head, tail) = rest.split_at(i);
        out.push_str(head);
        let tail = &tail['「'.len_utf8()..];
        match tail.find('」') {
            Some(j) => {
                out.push('「');
                out.push_str(&crate::identity::mask_address(&tail[..j]));
                out.push('」');
                rest = &tail[j + '」'.len_utf8()..];
            }
            None => {
                out.push('「');
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A reviewer's request, before it is checked against the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecisionRequest {
    Approve { school_id: Option<String>, category: Option<String>, reason: String },
    Reject { reason_code: String, note: String },
    Supplement { deadline: chrono::NaiveDateTime, note: String, items: supplement::Items },
    Note { note: String },
}

/// What the computed keys say about an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = ReviewComputed)]
pub struct Computed {
    pub school_id: Option<String>,
    pub zone_id: Option<String>,
    pub category: Option<String>,
    pub priority_json: Option<String>,
    pub explanation: Option<String>,
}

/// The checked outcome of a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub decision: DecisionKind,
    /// New application status; `None` leaves it (notes, pending overrides).
    pub new_status: Option<ApplicationStatus>,
    pub reason_code: Option<String>,
    pub note: String,
    pub override_school_id: Option<String>,
    pub override_category: Option<String>,
    pub needs_second: bool,
    pub supplement_deadline: Option<chrono::NaiveDateTime>,
    /// What a supplement request asks for beyond its note.
    pub supplement_items: Option<supplement::Items>,
}

/// Field-named problem with a Chinese message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

fn err(field: &'static str, message: impl Into<String>) -> FieldError {
    FieldError { field, message: message.into() }
}

pub const MAX_NOTE_CHARS: usize = 1000;

/// Checks a decision against the application's status and computed keys.
/// `schools` are the ids a school override may name; `categories` the
/// category codes of the campaign's policy.
pub fn check_decision(
    req: &DecisionRequest,
    status: ApplicationStatus,
    computed: &Computed,
    schools: &[String],
    categories: &[String],
    four_eyes: bool,
    now: chrono::NaiveDateTime,
) -> Result<Outcome, FieldError> {
    let note_ok = |n: &str, field: &'static str, required: bool| -> Result<String, FieldError> {
        let n = n.trim();
        if required && n.is_empty() {
            return Err(err(field, "请填写说明"));
        }
        if n.chars().count() > MAX_NOTE_CHARS {
            return Err(err(field, format!("说明不能超过 {MAX_NOTE_CHARS} 个字")));
        }
        if n.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
            return Err(err(field, "说明含有无效字符"));
        }
        Ok(n.to_string())
    };
    if let DecisionRequest::Note { note } = req {
        let note = note_ok(note, "note", true)?;
        return Ok(Outcome {
            decision: DecisionKind::Note,
            new_status: None,
            reason_code: None,
            note,
            override_school_id: None,
            override_category: None,
            needs_second: false,
            supplement_deadline: None,
            supplement_items: None,
        });
    }
    if !status.is_reviewable() {
        return Err(err("status", format!("该申请当前状态为“{}”，不能再作审核决定", status.label())));
    }
    match req {
        DecisionRequest::Approve { school_id, category, reason } => {
            let school_id = school_id.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
            let category = category.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
            if let Some(s) = &school_id {
                if !schools.contains(s) {
                    return Err(err("school_id", "没有这所学校"));
                }
            }
            if let Some(c) = &category {
                if !categories.contains(c) {
                    return Err(err("category", "没有这个类别"));
                }
            }
            let school_override = school_id.filter(|s| computed.school_id.as_ref() != Some(s));
            let category_override = category.filter(|c| computed.category.as_ref() != Some(c));
            let overriding = school_override.is_some() || category_override.is_some();
            if !overriding && computed.category.is_none() {
                return Err(err("category", "系统未能计算出类别，请指定类别并说明理由"));
            }
            let reason = note_ok(reason, "reason", overriding)?;
            let needs_second = overriding && four_eyes;
            Ok(Outcome {
                decision: DecisionKind::Approve,
                new_status: if needs_second { Some(ApplicationStatus::UnderReview) } else { Some(ApplicationStatus::Approved) },
                reason_code: None,
                note: reason,
                override_school_id: school_override,
                override_category: category_override,
                needs_second,
                supplement_deadline: None,
                supplement_items: None,
            })
        }
        DecisionRequest::Reject { reason_code, note } => {
            if reject_reason_label(reason_code).is_none() {
                return Err(err("reason_code", "请选择驳回原因"));
            }
            let note = note_ok(note, "note", reason_code == "other")?;
            Ok(Outcome {
                decision: DecisionKind::Reject,
                new_status: Some(ApplicationStatus::Rejected),
                reason_code: Some(reason_code.clone()),
                note,
                override_school_id: None,
                override_category: None,
                needs_second: false,
                supplement_deadline: None,
                supplement_items: None,
            })
        }
        DecisionRequest::Supplement { deadline, note, items } => {
            if *deadline <= now {
                return Err(err("deadline", "补充材料截止时间必须晚于现在"));
            }
            if *deadline > now + chrono::Duration::days(60) {
                return Err(err("deadline", "补充材料截止时间不能超过 60 天"));
            }
            // A request names something to do: documents, sections or a note.
            let nothing = items.documents.is_empty() && items.sections.is_empty();
            let note = note_ok(note, "note", nothing)?;
            Ok(Outcome {
                decision: DecisionKind::Supplement,
                new_status: Some(ApplicationStatus::Supplement),
                reason_code: None,
                note,
                override_school_id: None,
                override_category: None,
                needs_second: false,
                supplement_deadline: Some(*deadline),
                supplement_items: Some(items.clone()),
            })
        }
        DecisionRequest::Note { .. } => unreachable!("handled above"),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn auditors_read_facts_masked() {
        use crate::catchment::Address;
        use crate::policy::{ApplicantFacts, Migrant, OwnerRelation, Property};
        let a = Address {
            township: Some("凤城镇".into()),
            community: Some("东岳社区".into()),
            road: Some("二环路".into()),
            number: Some(123),
            compound: Some("中骏四季阳光".into()),
            building: Some("3号楼".into()),
            ..Default::default()
        };
        let mut f = ApplicantFacts::new("N");
        f.hukou = Some(a.clone());
        f.property = Some(Property {
            address: a.clone(),
            certificate_no: "闽(2026)安溪县不动产权第0000123号".into(),
            owner_relation: OwnerRelation::Father,
            acquired_on: None,
        });
        f.migrant = Some(Migrant {
            permit_no: "350524000000123".into(),
            residence_start: chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
            permit_issued_on: None,
            social_insurance_months: 3,
            residence_address: Some(a),
        });
        let m = masked_facts(&f);
        let text = serde_json::to_string(&m).unwrap();
        for secret in ["123", "中骏四季阳光", "3号楼", "0000123"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert_eq!(m.hukou.as_ref().unwrap().road.as_deref(), Some("二环路"));
        assert_eq!(m.migrant.as_ref().unwrap().social_insurance_months, 3);
        let n = masked_note("户籍地址「凤城镇东岳社区二环路123号」未匹配到招生范围");
        assert!(n.starts_with("户籍地址「") && n.ends_with("」未匹配到招生范围") && !n.contains("123"), "{n}");
        assert_eq!(masked_note("没有地址"), "没有地址");
        assert_eq!(masked_note("半个「括号"), "半个「括号");
    }

    use super::*;

    fn computed() -> Computed {
        Computed { school_id: Some("P01".into()), zone_id: None, category: Some("A".into()), priority_json: None, explanation: None }
    }

    #[test]
    fn approvals_and_overrides() {
        let now = chrono::Utc::now().naive_utc();
        let schools = vec!["P01".to_string(), "P02".to_string()];
        let cats = vec!["A".to_string(), "B".to_string()];
        let plain = DecisionRequest::Approve { school_id: Some("P01".into()), category: Some("A".into()), reason: String::new() };
        let o = check_decision(&plain, ApplicationStatus::UnderReview, &computed(), &schools, &cats, true, now).unwrap();
        assert_eq!((o.new_status, o.needs_second), (Some(ApplicationStatus::Approved), false));
        let over = DecisionRequest::Approve { school_id: Some("P02".into()), category: None, reason: String::new() };
        assert_eq!(
            check_decision(&over, ApplicationStatus::UnderReview, &computed(), &schools, &cats, true, now).unwrap_err().field,
            "reason"
        );
        let over = DecisionRequest::Approve { school_id: Some("P02".into()), category: None, reason: "实际居住地核实".into() };
        let o = check_decision(&over, ApplicationStatus::UnderReview, &computed(), &schools, &cats, true, now).unwrap();
        assert!(o.needs_second);
        assert_eq!(o.new_status, Some(ApplicationStatus::UnderReview));
        assert_eq!(o.override_school_id.as_deref(), Some("P02"));
        let o = check_decision(&over, ApplicationStatus::UnderReview, &computed(), &schools, &cats, false, now).unwrap();
        assert_eq!((o.new_status, o.needs_second), (Some(ApplicationStatus::Approved), false));
        let bad = DecisionRequest::Approve { school_id: Some("X".into()), category: None, reason: "x".into() };
        assert_eq!(
            check_decision(&bad, ApplicationStatus::UnderReview, &computed(), &schools, &cats, true, now).unwrap_err().field,
            "school_id"
        );
        assert_eq!(
            check_decision(&plain, ApplicationStatus::Approved, &computed(), &schools, &cats, true, now).unwrap_err().field,
            "status"
        );
    }

    #[test]
    fn rejections_and_supplements() {
        let now = chrono::Utc::now().naive_utc();
        let r = DecisionRequest::Reject { reason_code: "nope".into(), note: String::new() };
        assert_eq!(check_decision(&r, ApplicationStatus::Submitted, &computed(), &[], &[], true, now).unwrap_err().field, "reason_code");
        let r = DecisionRequest::Reject { reason_code: "other".into(), note: String::new() };
        assert_eq!(check_decision(&r, ApplicationStatus::Submitted, &computed(), &[], &[], true, now).unwrap_err().field, "note");
        let r = DecisionRequest::Reject { reason_code: "age_ineligible".into(), note: String::new() };
        assert_eq!(
            check_decision(&r, ApplicationStatus::Submitted, &computed(), &[], &[], true, now).unwrap().new_status,
            Some(ApplicationStatus::Rejected)
        );
        let s = DecisionRequest::Supplement {
            deadline: now - chrono::Duration::hours(1),
            note: "补交房产证".into(),
            items: Default::default(),
        };
        assert_eq!(check_decision(&s, ApplicationStatus::Submitted, &computed(), &[], &[], true, now).unwrap_err().field, "deadline");
        let s =
            DecisionRequest::Supplement {
                deadline: now + chrono::Duration::days(3), note: "补交房产证".into(), items: Default::default()
            };
        assert_eq!(
            check_decision(&s, ApplicationStatus::Submitted, &computed(), &[], &[], true, now).unwrap().new_status,
            Some(ApplicationStatus::Supplement)
        );
        let n = DecisionRequest::Note { note: "电话核实".into() };
        assert_eq!(check_decision(&n, ApplicationStatus::Approved, &computed(), &[], &[], true, now).unwrap().new_status, None);
    }
}
