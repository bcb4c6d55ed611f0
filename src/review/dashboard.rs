//! Dashboard figures per school and zone: applications against seats by
//! category, oversubscription and the class-size check (大班额). Pure.

use crate::domain::ApplicationStatus;
use serde::Serialize;
use std::collections::BTreeMap;

/// One school's plan in a campaign.
#[derive(Debug, Clone)]
pub struct PlanRow {
    pub school_id: String,
    pub school_name: String,
    pub planned_classes: i32,
    pub class_size_cap: i32,
    /// The zone the school belongs to (seventh grade), if any.
    pub zone_id: Option<String>,
}

/// One application as counted.
#[derive(Debug, Clone)]
pub struct AppRow {
    pub school_id: Option<String>,
    pub zone_id: Option<String>,
    pub status: ApplicationStatus,
    pub category: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Unit {
    /// `school` or `zone`.
    pub kind: &'static str,
    pub id: String,
    pub name: String,
    pub classes: i32,
    pub seats: i64,
    /// Every application not rejected.
    pub applications: i64,
    pub approved: i64,
    /// Submitted, under review or awaiting a supplement.
    pub pending: i64,
    pub rejected: i64,
    /// Approved applications per category code, in category order.
    pub by_category: Vec<(String, i64)>,
    /// Approved ÷ seats (0 when there are no seats).
    pub ratio: f64,
    pub oversubscribed: bool,
    /// Admitted (offers made or accepted), or, before any offer, the approved
    /// applications as a projection.
    pub admitted: i64,
    pub admitted_basis: &'static str,
    pub class_size_flag: bool,
    /// Chinese reasons for the flag.
    pub flags: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub units: Vec<Unit>,
    pub total_applications: i64,
    pub total_approved: i64,
    pub total_pending: i64,
    pub total_rejected: i64,
    pub total_seats: i64,
    pub flagged: usize,
}

/// `offers` maps a school id to its offers made or accepted; `cap_limit` is
/// the class-size ceiling from `admission.class_cap_*`.
pub fn summarise(
    plans: &[PlanRow],
    zones: &[(String, String)],
    apps: &[AppRow],
    offers: &BTreeMap<String, i64>,
    categories: &[String],
    cap_limit: i32,
) -> Summary {
    #[derive(Default)]
    struct Acc {
        approved: i64,
        pending: i64,
        rejected: i64,
        cats: BTreeMap<String, i64>,
    }
    let mut acc: BTreeMap<(bool, String), Acc> = BTreeMap::new();
    for a in apps {
        // A withdrawn registration asks for no seat.
        if a.status == ApplicationStatus::Withdrawn {
            continue;
        }
        let key = match (&a.zone_id, &a.school_id) {
            (Some(z), _) => (true, z.clone()),
            (None, Some(s)) => (false, s.clone()),
            (None, None) => continue,
        };
        let e = acc.entry(key).or_default();
        match a.status {
            ApplicationStatus::Rejected | ApplicationStatus::Declined => e.rejected += 1,
            s if s.is_reviewable() => e.pending += 1,
            _ => {
                e.approved += 1;
                *e.cats.entry(a.category.clone().unwrap_or_else(|| "?".into())).or_default() += 1;
            }
        }
    }
    let order = |cats: &BTreeMap<String, i64>| -> Vec<(String, i64)> {
        let mut v: Vec<(String, i64)> = cats.iter().map(|(k, n)| (k.clone(), *n)).collect();
        v.sort_by_key(|(k, _)| categories.iter().position(|c| c == k).unwrap_or(usize::MAX));
        v
    };
    let mut units = Vec::new();
    let mut build = |kind: &'static str, id: &str, name: &str, members: &[&PlanRow]| {
        let a = acc.remove(&(kind == "zone", id.to_string())).unwrap_or_default();
        let classes: i32 = members.iter().map(|p| p.planned_classes).sum();
        let seats: i64 = members.iter().map(|p| i64::from(p.planned_classes) * i64::from(p.class_size_cap)).sum();
        let offered: i64 = members.iter().map(|p| offers.get(&p.school_id).copied().unwrap_or(0)).sum();
        let any_offers = members.iter().any(|p| offers.contains_key(&p.school_id));
        let (admitted, basis) = if any_offers { (offered, "offers") } else { (a.approved, "approved") };
        let mut flags = Vec::new();
        for p in members {
            if p.class_size_cap > cap_limit {
                flags.push(format!("{}：班额上限 {} 人超过规定的 {} 人", p.school_name, p.class_size_cap, cap_limit));
            }
        }
        if admitted > seats {
            flags.push(format!(
                "{}人数 {} 超过 {} 个班 × 班额 = {} 个学位，将形成大班额",
                if any_offers { "录取" } else { "审核通过（预计录取）" },
                admitted,
                classes,
                seats
            ));
        }
        units.push(Unit {
            kind,
            id: id.to_string(),
            name: name.to_string(),
            classes,
            seats,
            applications: a.approved + a.pending,
            approved: a.approved,
            pending: a.pending,
            rejected: a.rejected,
            by_category: order(&a.cats),
            ratio: if seats > 0 { a.approved as f64 / seats as f64 } else { 0.0 },
            oversubscribed: a.approved > seats,
            admitted,
            admitted_basis: basis,
            class_size_flag: !flags.is_empty(),
            flags,
        });
    };
    for p in plans.iter().filter(|p| p.zone_id.is_none()) {
        build("school", &p.school_id, &p.school_name, &[p]);
    }
    for (zid, zname) in zones {
        let members: Vec<&PlanRow> = plans.iter().filter(|p| p.zone_id.as_deref() == Some(zid)).collect();
        build("zone", zid, zname, &members);
    }
    let total_applications = units.iter().map(|u| u.applications).sum();
    let total_approved = units.iter().map(|u| u.approved).sum();
    let total_pending = units.iter().map(|u| u.pending).sum();
    let total_rejected = units.iter().map(|u| u.rejected).sum();
    let total_seats = units.iter().map(|u| u.seats).sum();
    let flagged = units.iter().filter(|u| u.class_size_flag).count();
    Summary { units, total_applications, total_approved, total_pending, total_rejected, total_seats, flagged }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_flags() {
        let plans = vec![
            PlanRow { school_id: "P01".into(), school_name: "一小".into(), planned_classes: 1, class_size_cap: 2, zone_id: None },
            PlanRow {
                school_id: "J01".into(),
                school_name: "八中".into(),
                planned_classes: 1,
                class_size_cap: 60,
                zone_id: Some("Z".into()),
            },
        ];
        let app = |s: Option<&str>, z: Option<&str>, st: &str, c: Option<&str>| AppRow {
            school_id: s.map(Into::into),
            zone_id: z.map(Into::into),
            status: ApplicationStatus::parse(st).expect("a status code"),
            category: c.map(Into::into),
        };
        let apps = vec![
            app(Some("P01"), None, "approved", Some("B")),
            app(Some("P01"), None, "approved", Some("A")),
            app(Some("P01"), None, "approved", Some("A")),
            app(Some("P01"), None, "under_review", None),
            app(Some("P01"), None, "rejected", None),
            app(None, Some("Z"), "approved", Some("A")),
        ];
        let cats = vec!["A".to_string(), "B".to_string()];
        let s = summarise(&plans, &[("Z".into(), "片区".into())], &apps, &BTreeMap::new(), &cats, 50);
        let p = &s.units[0];
        assert_eq!((p.applications, p.approved, p.pending, p.rejected, p.seats), (4, 3, 1, 1, 2));
        assert_eq!(p.by_category, vec![("A".into(), 2), ("B".into(), 1)]);
        assert!(p.oversubscribed && p.class_size_flag);
        let z = &s.units[1];
        assert_eq!((z.kind, z.seats, z.approved), ("zone", 60, 1));
        assert!(z.class_size_flag, "cap 60 > 50");
        // Offers, once made, are what counts.
        let offers = BTreeMap::from([("P01".to_string(), 2i64)]);
        let s = summarise(&plans, &[], &apps, &offers, &cats, 50);
        assert_eq!((s.units[0].admitted, s.units[0].admitted_basis, s.units[0].class_size_flag), (2, "offers", false));
    }
}
