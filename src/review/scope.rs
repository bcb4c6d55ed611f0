//! Who reviews an application (pure): the township whose reviewers see it,
//! and the county-level queue (县级待分配) for those no address places.
//!
//! # The rule
//! Review follows the address that decides the catchment. The best
//! [`SchoolKey`] names the bases (`via`) that put the child in the winning
//! school's or zone's catchment; the first of them (hukou, then property,
//! then residence permit) whose address lies in a county township gives
//! the township. So a migrant child (随迁子女) whose hukou is elsewhere is
//! reviewed where the property or residence address is.
//!
//! When no school was found (or the keys could not be computed), the first
//! declared address in a county township (same order) still gives the
//! township: its reviewers know their addresses best. An application with
//! no address in any county township has no township: it waits in the
//! county queue until an admin assigns it to a township (see
//! [`check_assignment`]); reviewers never see it before that.
//!
//! An admin's assignment is kept apart from the computed township
//! ([`effective_township`]): when the guardian later edits the application
//! and an address now places it, the address wins; otherwise the
//! assignment stays.

use crate::catchment::Address;
use crate::policy::{ApplicantFacts, Basis, SchoolKey};

/// The county queue's name on every page.
pub const COUNTY_QUEUE: &str = "县级待分配";

/// The queue filter value selecting the county queue.
pub const COUNTY_QUEUE_FILTER: &str = "county";

/// Longest assignment reason, in characters.
pub const REASON_MAX_CHARS: usize = 200;

const ORDER: [Basis; 3] = [Basis::Hukou, Basis::Property, Basis::Residence];

fn address_of(facts: &ApplicantFacts, basis: Basis) -> Option<&Address> {
    match basis {
        Basis::Hukou => facts.hukou.as_ref(),
        Basis::Property => facts.property.as_ref().map(|p| &p.address),
        Basis::Residence => facts.migrant.as_ref().and_then(|m| m.residence_address.as_ref()),
    }
}

/// The township id of `addr`, when its township is one of `townships`
/// (`(id, name)`).
fn township_of(addr: Option<&Address>, townships: &[(String, String)]) -> Option<String> {
    let name = addr?.township.as_deref()?.trim();
    townships.iter().find(|(_, n)| n == name).map(|(id, _)| id.clone())
}

/// The township whose reviewers review an application with these facts and
/// this best catchment outcome (see the module docs); `None`: the county queue.
pub fn review_township(facts: &ApplicantFacts, best: Option<&SchoolKey>, townships: &[(String, String)]) -> Option<String> {
    if let Some(best) = best {
        let decided = ORDER.iter().filter(|b| best.via.contains(b)).find_map(|b| township_of(address_of(facts, *b), townships));
        if decided.is_some() {
            return decided;
        }
    }
    ORDER.iter().find_map(|b| township_of(address_of(facts, *b), townships))
}

/// The township stored on an application: the computed one, else an
/// admin's assignment.
pub fn effective_township(computed: Option<String>, assigned: Option<String>) -> Option<String> {
    computed.or(assigned)
}

/// What an admin's assignment may do, or the field and Chinese reason why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignError {
    pub field: &'static str,
    pub message: String,
    /// The application's state refuses it (409), rather than the input (422).
    pub conflict: bool,
}

fn invalid(field: &'static str, message: impl Into<String>) -> AssignError {
    AssignError { field, message: message.into(), conflict: false }
}

/// Checks an assignment of an application (stored `township_id` and
/// `assigned_township_id`) to `township` for `reason`. Returns the township
/// id and the trimmed reason. Only applications that no address places may
/// be assigned (or re-assigned); the others follow their address.
pub fn check_assignment(
    current: Option<&str>,
    assigned: Option<&str>,
    township: &str,
    reason: &str,
    townships: &[(String, String)],
) -> Result<(String, String), AssignError> {
    let t = township.trim();
    if t.is_empty() {
        return Err(invalid("township_id", "请选择负责审核的乡镇"));
    }
    if !townships.iter().any(|(id, _)| id == t) {
        return Err(invalid("township_id", format!("没有编号为 {t} 的乡镇")));
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(invalid("reason", "请填写分配理由"));
    }
    if reason.chars().count() > REASON_MAX_CHARS {
        return Err(invalid("reason", format!("分配理由不能超过 {REASON_MAX_CHARS} 个字")));
    }
    let placed_by_address = current.is_some() && current != assigned;
    if placed_by_address {
        return Err(AssignError {
            field: "township_id",
            message: "该申请已按申报地址归属乡镇审核，不在县级待分配队列中".into(),
            conflict: true,
        });
    }
    if current == Some(t) {
        return Err(AssignError { field: "township_id", message: "该申请已分配给这个乡镇".into(), conflict: true });
    }
    Ok((t.to_string(), reason.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Migrant, OwnerRelation, Property};
    use chrono::NaiveDate;

    fn towns() -> Vec<(String, String)> {
        [("FC", "凤城镇"), ("CX", "城厢镇"), ("CN", "参内镇")].iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    fn addr(t: &str) -> Address {
        Address { township: Some(t.into()), road: Some("某路".into()), number: Some(1), ..Default::default() }
    }

    fn facts(h: Option<&str>, p: Option<&str>, r: Option<&str>) -> ApplicantFacts {
        let mut f = ApplicantFacts::new("T-1");
        f.hukou = h.map(addr);
        f.property =
            p.map(|t| Property { address: addr(t), certificate_no: "C".into(), owner_relation: OwnerRelation::Father, acquired_on: None });
        f.migrant = r.map(|t| Migrant {
            permit_no: "P".into(),
            residence_start: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
            permit_issued_on: None,
            social_insurance_months: 0,
            residence_address: Some(addr(t)),
        });
        f
    }

    fn key(via: &[Basis]) -> SchoolKey {
        SchoolKey {
            school_id: "P01".into(),
            school_name: "学校".into(),
            zone_id: None,
            via: via.to_vec(),
            category_code: "A".into(),
            category_label: "甲".into(),
            key: vec![1],
            explanation: String::new(),
            catchment: Vec::new(),
        }
    }

    #[test]
    fn the_deciding_address_gives_the_township() {
        use Basis::*;
        let cases: Vec<(&str, ApplicantFacts, Option<SchoolKey>, Option<&str>)> = vec![
            ("hukou decides", facts(Some("凤城镇"), None, None), Some(key(&[Hukou])), Some("FC")),
            ("migrant, hukou elsewhere, residence decides", facts(Some("其他"), None, Some("凤城镇")), Some(key(&[Residence])), Some("FC")),
            ("migrant without hukou", facts(None, None, Some("城厢镇")), Some(key(&[Residence])), Some("CX")),
            ("property decides over an in-county hukou", facts(Some("凤城镇"), Some("城厢镇"), None), Some(key(&[Property])), Some("CX")),
            ("residence decides over an in-county hukou", facts(Some("参内镇"), None, Some("凤城镇")), Some(key(&[Residence])), Some("FC")),
            ("several bases: hukou first", facts(Some("凤城镇"), Some("城厢镇"), None), Some(key(&[Property, Hukou])), Some("FC")),
            ("the basis is outside: the next basis", facts(Some("其他"), Some("参内镇"), None), Some(key(&[Hukou, Property])), Some("CN")),
            ("no school: the first in-county address", facts(Some("蓬莱镇"), None, Some("参内镇")), None, Some("CN")),
            ("no school: hukou before residence", facts(Some("城厢镇"), None, Some("参内镇")), None, Some("CX")),
            ("nothing in the county: county queue", facts(Some("蓬莱镇"), None, None), None, None),
            ("hukou elsewhere, no other address", facts(Some("其他"), None, None), None, None),
            ("no address at all", facts(None, None, None), None, None),
        ];
        for (what, f, best, want) in cases {
            assert_eq!(review_township(&f, best.as_ref(), &towns()).as_deref(), want, "{what}");
        }
    }

    #[test]
    fn a_township_name_is_matched_whole_and_trimmed() {
        let f = facts(Some(" 凤城镇 "), None, None);
        assert_eq!(review_township(&f, None, &towns()).as_deref(), Some("FC"));
        let f = facts(Some("凤城"), None, None);
        assert_eq!(review_township(&f, None, &towns()), None);
    }

    #[test]
    fn the_address_wins_over_an_assignment() {
        assert_eq!(effective_township(Some("FC".into()), Some("CX".into())).as_deref(), Some("FC"));
        assert_eq!(effective_township(None, Some("CX".into())).as_deref(), Some("CX"));
        assert_eq!(effective_township(None, None), None);
    }

    #[test]
    fn assignments_are_checked() {
        let t = towns();
        let ok = |cur: Option<&str>, asg: Option<&str>, to: &str, why: &str| check_assignment(cur, asg, to, why, &t);
        assert_eq!(ok(None, None, " FC ", " 户籍在外省，居住在凤城镇 "), Ok(("FC".into(), "户籍在外省，居住在凤城镇".into())));
        assert_eq!(ok(Some("FC"), Some("FC"), "CX", "改派"), Ok(("CX".into(), "改派".into())), "re-assignment");
        // (current, assigned, to, reason, field, conflict)
        type Case<'a> = (Option<&'a str>, Option<&'a str>, &'a str, String, &'a str, bool);
        let cases: Vec<Case> = vec![
            (None, None, "", "理由".into(), "township_id", false),
            (None, None, "XX", "理由".into(), "township_id", false),
            (None, None, "FC", "  ".into(), "reason", false),
            (None, None, "FC", "长".repeat(REASON_MAX_CHARS + 1), "reason", false),
            (Some("FC"), None, "CX", "理由".into(), "township_id", true),
            (Some("FC"), Some("CX"), "CX", "理由".into(), "township_id", true),
            (Some("FC"), Some("FC"), "FC", "理由".into(), "township_id", true),
        ];
        for (cur, asg, to, why, field, conflict) in cases {
            let e = ok(cur, asg, to, &why).unwrap_err();
            assert_eq!((e.field, e.conflict), (field, conflict), "{cur:?} {asg:?} {to} {why}: {}", e.message);
            assert!(!e.message.is_empty());
        }
    }
}
