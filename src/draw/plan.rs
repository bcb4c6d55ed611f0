//! Planning a campaign's draws (draw-v1 §10, step 0): which schools and
//! zones need a public lottery once review is closed, from the approved
//! applications and the seats (classes × the class-size cap). Pure.
//!
//! - A school whose approved applicants fit its seats admits everyone and
//!   needs no draw.
//! - An over-subscribed school needs a draw. Its applicants are ranked by
//!   their priority key (smaller first); groups that fit are admitted for
//!   certain, the first group that does not fit is the lottery tier, and
//!   later groups are placed elsewhere (统筹) unless seats free up.
//! - A seventh-grade zone (片区) places every applicant among its schools
//!   by lottery (pure 派位), so it always needs a draw when it has
//!   applicants; more applicants than seats leaves the excess to 统筹.

use serde::Serialize;
use std::collections::BTreeMap;

/// One approved application as the plan sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applicant {
    /// The registration number (the roster id).
    pub id: String,
    /// Twins and multiple births share one lottery number.
    pub family: Option<String>,
    /// The priority key at this unit (draw-v1 §2: smaller is better).
    pub key: Vec<i64>,
}

/// A school or zone with its seats and approved applicants.
#[derive(Debug, Clone)]
pub struct Unit {
    pub zone: bool,
    pub id: String,
    pub name: String,
    /// `(school id, name, seats)`: one for a school, the zone's schools in
    /// announced order for a zone.
    pub schools: Vec<(String, String, u32)>,
    pub applicants: Vec<Applicant>,
}

/// What the plan proposes for one unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "decision", rename_all = "snake_case")]
#[schema(as = DrawDecision)]
pub enum Decision {
    /// Everyone fits: no draw.
    AdmitsAll,
    /// An over-subscribed school: a single-school draw.
    SchoolDraw {
        /// Admitted for certain (groups that fit entirely).
        certain: u32,
        /// The lottery tier's key and size, and the seats it competes for.
        tier_key: Vec<i64>,
        tied: u32,
        tier_seats: u32,
        /// Below the tier: placed elsewhere unless seats free up.
        below: u32,
    },
    /// A zone: pure 派位 among its schools.
    ZoneDraw {
        /// Applicants beyond the zone's seats (to 统筹).
        excess: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Proposal {
    pub kind: &'static str,
    pub id: String,
    pub name: String,
    pub seats: u32,
    pub applicants: u32,
    /// Distinct lottery units (a family counts once).
    pub lottery_units: u32,
    #[serde(flatten)]
    pub decision: Decision,
    /// The decision in one Chinese sentence.
    pub summary: String,
}

impl Proposal {
    pub fn needs_draw(&self) -> bool {
        !matches!(self.decision, Decision::AdmitsAll)
    }
}

fn units_of(a: &[Applicant]) -> u32 {
    let mut seen: Vec<&str> = a.iter().map(|x| x.family.as_deref().unwrap_or(&x.id)).collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len() as u32
}

fn key_text(k: &[i64]) -> String {
    format!("[{}]", k.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", "))
}

/// The proposal for every unit, in the order given.
pub fn propose(units: &[Unit]) -> Vec<Proposal> {
    units
        .iter()
        .map(|u| {
            let seats: u32 = u.schools.iter().map(|s| s.2).sum();
            let n = u.applicants.len() as u32;
            let lottery_units = units_of(&u.applicants);
            let (decision, summary) = if u.zone && n > 0 {
                let excess = n.saturating_sub(seats);
                let s = format!(
                    "{}：{} 名学生在片区内 {} 所学校（{} 个学位）中电脑派位{}",
                    u.name,
                    n,
                    u.schools.len(),
                    seats,
                    if excess > 0 { format!("，超出学位的 {excess} 名由教育局统筹安排") } else { String::new() }
                );
                (Decision::ZoneDraw { excess }, s)
            } else if n <= seats {
                (Decision::AdmitsAll, format!("{}：{} 名学生，{} 个学位，全部录取，无需派位", u.name, n, seats))
            } else {
                let mut groups: BTreeMap<&[i64], u32> = BTreeMap::new();
                for a in &u.applicants {
                    *groups.entry(a.key.as_slice()).or_default() += 1;
                }
                let (mut certain, mut left) = (0u32, seats);
                let mut tier: Option<(Vec<i64>, u32, u32)> = None;
                let mut below = 0u32;
                for (key, count) in groups {
                    match &tier {
                        Some(_) => below += count,
                        None if count <= left => {
                            certain += count;
                            left -= count;
                        }
                        None => tier = Some((key.to_vec(), count, left)),
                    }
                }
                let (tier_key, tied, tier_seats) = tier.unwrap_or_default();
                let s = format!(
                    "{}：{} 名学生，{} 个学位；{} 名按顺位直接录取，优先级 {} 的 {} 名学生电脑派位争取 {} 个学位{}",
                    u.name,
                    n,
                    seats,
                    certain,
                    key_text(&tier_key),
                    tied,
                    tier_seats,
                    if below > 0 { format!("，其后 {below} 名由教育局统筹安排") } else { String::new() }
                );
                (Decision::SchoolDraw { certain, tier_key, tied, tier_seats, below }, s)
            };
            Proposal {
                kind: if u.zone { "zone" } else { "school" },
                id: u.id.clone(),
                name: u.name.clone(),
                seats,
                applicants: n,
                lottery_units,
                decision,
                summary,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(id: &str, key: &[i64]) -> Applicant {
        Applicant { id: id.into(), family: None, key: key.to_vec() }
    }

    fn school(seats: u32, applicants: Vec<Applicant>) -> Unit {
        Unit {
            zone: false, id: "P01".into(), name: "实验小学".into(), schools: vec![("P01".into(), "实验小学".into(), seats)], applicants
        }
    }

    #[test]
    fn a_school_that_fits_everyone_needs_no_draw() {
        let p = &propose(&[school(3, vec![a("R1", &[1]), a("R2", &[2]), a("R3", &[2])])])[0];
        assert_eq!(p.decision, Decision::AdmitsAll);
        assert!(!p.needs_draw());
        assert!(p.summary.contains("全部录取"));
    }

    #[test]
    fn an_oversubscribed_school_draws_in_the_tier_where_seats_run_out() {
        let apps = vec![a("R1", &[1]), a("R2", &[2, 0]), a("R3", &[2, 0]), a("R4", &[2, 0]), a("R5", &[4, -30]), a("R6", &[2, 1])];
        let p = &propose(&[school(3, apps)])[0];
        assert_eq!(p.decision, Decision::SchoolDraw { certain: 1, tier_key: vec![2, 0], tied: 3, tier_seats: 2, below: 2 });
        assert!(p.summary.contains("优先级 [2, 0] 的 3 名学生电脑派位争取 2 个学位"), "{}", p.summary);
        // Seats that end exactly at a group boundary: the next group is the tier, with no seat.
        let p = &propose(&[school(1, vec![a("R1", &[1]), a("R2", &[2]), a("R3", &[2])])])[0];
        assert_eq!(p.decision, Decision::SchoolDraw { certain: 1, tier_key: vec![2], tied: 2, tier_seats: 0, below: 0 });
    }

    #[test]
    fn a_zone_always_draws_and_families_count_once() {
        let mut twins = vec![a("R1", &[1]), a("R2", &[1]), a("R3", &[1])];
        twins[0].family = Some("R1".into());
        twins[1].family = Some("R1".into());
        let z = Unit {
            zone: true,
            id: "JA".into(),
            name: "建安片区".into(),
            schools: vec![("J01".into(), "一中".into(), 1), ("J02".into(), "二中".into(), 1)],
            applicants: twins,
        };
        let p = &propose(&[z])[0];
        assert_eq!(p.decision, Decision::ZoneDraw { excess: 1 });
        assert_eq!((p.seats, p.applicants, p.lottery_units), (2, 3, 2));
        assert!(p.needs_draw());
    }
}
