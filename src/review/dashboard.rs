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

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = DashboardUnit)]
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

/// How many applications stand at one status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StatusCount {
    pub status: ApplicationStatus,
    pub label: &'static str,
    pub count: i64,
}

/// The name of the line for applications without a school or zone (or
/// whose school has no plan in the campaign): the bureau places them.
pub const UNPLACED: &str = "待统筹";

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = DashboardSummary)]
pub struct Summary {
    pub units: Vec<Unit>,
    /// Applications without a school or zone with a plan (待统筹), counted
    /// like a unit without seats; `None` when there are none.
    pub unplaced: Option<Unit>,
    /// Every application once, by status, in status order (zeros left out);
    /// the counts add up to `total_applications`.
    pub by_status: Vec<StatusCount>,
    /// Every application of the campaign, whatever its status or school:
    /// `total_approved + total_pending + total_rejected`.
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
            (None, None) => (false, String::new()),
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
    // What no unit took: no school or zone, or a school without a plan.
    let mut rest = Acc::default();
    for (_, a) in std::mem::take(&mut acc) {
        rest.approved += a.approved;
        rest.pending += a.pending;
        rest.rejected += a.rejected;
        for (k, n) in a.cats {
            *rest.cats.entry(k).or_default() += n;
        }
    }
    let unplaced = (rest.approved + rest.pending + rest.rejected > 0).then(|| Unit {
        kind: "unplaced",
        id: String::new(),
        name: UNPLACED.to_string(),
        classes: 0,
        seats: 0,
        applications: rest.approved + rest.pending,
        approved: rest.approved,
        pending: rest.pending,
        rejected: rest.rejected,
        by_category: order(&rest.cats),
        ratio: 0.0,
        oversubscribed: false,
        admitted: rest.approved,
        admitted_basis: "approved",
        class_size_flag: false,
        flags: Vec::new(),
    });
    let counted = || units.iter().chain(unplaced.iter());
    let total_approved = counted().map(|u| u.approved).sum();
    let total_pending = counted().map(|u| u.pending).sum();
    let total_rejected = counted().map(|u| u.rejected).sum();
    let total_applications = counted().map(|u| u.approved + u.pending + u.rejected).sum();
    let total_seats = units.iter().map(|u| u.seats).sum();
    let flagged = units.iter().filter(|u| u.class_size_flag).count();
    let by_status = ApplicationStatus::ALL
        .iter()
        .map(|st| StatusCount { status: *st, label: st.label(), count: apps.iter().filter(|a| a.status == *st).count() as i64 })
        .filter(|c| c.count > 0)
        .collect();
    Summary { units, unplaced, by_status, total_applications, total_approved, total_pending, total_rejected, total_seats, flagged }
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
        assert!(s.unplaced.is_none());
        assert_eq!(s.total_applications, apps.len() as i64);
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

    #[test]
    fn every_application_is_counted_once() {
        let plans =
            vec![PlanRow { school_id: "P01".into(), school_name: "一小".into(), planned_classes: 1, class_size_cap: 45, zone_id: None }];
        let app = |s: Option<&str>, st: &str, c: Option<&str>| AppRow {
            school_id: s.map(Into::into),
            zone_id: None,
            status: ApplicationStatus::parse(st).expect("a status code"),
            category: c.map(Into::into),
        };
        let apps = vec![
            app(Some("P01"), "approved", Some("A")),
            app(Some("P01"), "submitted", None),
            app(Some("P01"), "declined", None),
            app(None, "approved", Some("E")),
            app(None, "under_review", None),
            app(None, "rejected", None),
            // A school without a plan in this campaign.
            app(Some("P99"), "supplement", None),
            app(Some("P01"), "in_draw", Some("A")),
        ];
        let s = summarise(&plans, &[], &apps, &BTreeMap::new(), &["A".into(), "E".into()], 45);
        assert_eq!(s.total_applications, 8);
        assert_eq!(s.total_approved + s.total_pending + s.total_rejected, 8);
        let u = s.unplaced.as_ref().expect("待统筹");
        assert_eq!((u.name.as_str(), u.approved, u.pending, u.rejected, u.seats), (UNPLACED, 1, 2, 1, 0));
        assert_eq!(u.by_category, vec![("E".into(), 1)]);
        assert_eq!((s.units[0].approved, s.units[0].pending, s.units[0].rejected), (2, 1, 1));
        let by: Vec<(&str, i64)> = s.by_status.iter().map(|c| (c.status.as_str(), c.count)).collect();
        assert_eq!(
            by,
            vec![
                ("submitted", 1),
                ("under_review", 1),
                ("supplement", 1),
                ("approved", 2),
                ("rejected", 1),
                ("in_draw", 1),
                ("declined", 1)
            ]
        );
        assert_eq!(s.by_status.iter().map(|c| c.count).sum::<i64>(), s.total_applications);
        assert!(summarise(&plans, &[], &[], &BTreeMap::new(), &[], 45).by_status.is_empty());
    }
}
