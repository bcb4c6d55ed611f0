//! Dry run (预演): how each school's seats would go, before any lottery.
//!
//! Each school is looked at on its own, as if every child eligible there applied
//! there: applicants are grouped by exact priority key, groups are admitted in
//! key order while seats last; the first group that does not fit is the lottery
//! group (odds = seats left / children in the group); later groups are not
//! admitted. Children of one family (twins) are counted individually.
//!
//! Administrative placement (统筹): a child whose eligible schools all have no
//! seats (or are missing from the seat table), or who has no eligible school, is
//! listed in `needs_placement`; a child who ranks below the cut-off at every
//! eligible school is listed in `likely_unplaced`.

use super::keys::ApplicantKeys;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Per category at one school.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CategoryCount {
    pub code: String,
    pub label: String,
    pub applicants: u32,
    /// Admitted without lottery.
    pub admitted: u32,
    /// In the lottery group.
    pub in_lottery: u32,
    /// Seats the lottery group competes for (only on the lottery category).
    pub lottery_seats: u32,
    /// Certainly not admitted.
    pub not_admitted: u32,
}

/// The lottery tier of a school.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LotteryOdds {
    pub key: Vec<i64>,
    pub category_code: String,
    pub seats_left: u32,
    pub tied: u32,
    /// `seats_left/tied`, unreduced.
    pub odds: String,
    /// Two decimals, e.g. `42.86%`.
    pub percent: String,
}

/// Where the cut-off falls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CutoffInfo {
    /// The category that is partly admitted (None when the seats end exactly
    /// between two categories).
    pub partial_category: Option<String>,
    pub partial_label: Option<String>,
    /// How many of that category get a seat (certain + lottery seats).
    pub admitted_of_category: u32,
    pub category_total: u32,
    /// The last category with anyone admitted.
    pub last_admitted_category: Option<String>,
}

/// One school's dry run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SchoolDryRun {
    pub school_id: String,
    pub school_name: String,
    pub seats: u32,
    pub applicants: u32,
    pub categories: Vec<CategoryCount>,
    /// None when everyone fits.
    pub cutoff: Option<CutoffInfo>,
    pub lottery: Option<LotteryOdds>,
    /// Chinese summary.
    pub message: String,
}

/// A child who needs (or likely needs) administrative placement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlacementNeed {
    pub application_no: String,
    pub eligible_schools: Vec<String>,
    pub reason: String,
}

/// The whole dry run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DryRunReport {
    pub schools: Vec<SchoolDryRun>,
    /// Admins and operators only (the API leaves it out for others).
    #[schema(required = false)]
    pub needs_placement: Vec<PlacementNeed>,
    /// Admins and operators only (the API leaves it out for others).
    #[schema(required = false)]
    pub likely_unplaced: Vec<PlacementNeed>,
}

/// `a/b` as a percentage with two decimals, rounded half up (integer arithmetic).
pub fn percent(a: u32, b: u32) -> String {
    if b == 0 {
        return "0.00%".into();
    }
    let h = (a as u64 * 20000 / b as u64).div_ceil(2); // hundredths of a percent
    format!("{}.{:02}%", h / 100, h % 100)
}

/// Run the dry run. `seats`: school id → seats; `names`: school id → name
/// (missing names fall back to the id; a [`crate::catchment::Directory`] can
/// supply them through [`names_from_directory`]).
#[allow(clippy::type_complexity)]
pub fn dry_run(applicants: &[ApplicantKeys], seats: &BTreeMap<String, u32>, names: &BTreeMap<String, String>) -> DryRunReport {
    // school → [(key, category code, label, application_no)]
    let mut by_school: BTreeMap<&str, Vec<(&Vec<i64>, &str, &str, &str)>> = BTreeMap::new();
    for a in applicants {
        for s in &a.schools {
            by_school.entry(s.school_id.as_str()).or_default().push((&s.key, &s.category_code, &s.category_label, &a.application_no));
        }
    }
    for id in seats.keys() {
        by_school.entry(id.as_str()).or_default();
    }
    let mut schools = Vec::new();
    // (school, application_no) → admitted for sure / in lottery / not
    let mut outcome: BTreeMap<(&str, &str), u8> = BTreeMap::new(); // 0 sure, 1 lottery, 2 out
    for (sid, mut list) in by_school {
        list.sort_by(|a, b| a.0.cmp(b.0).then(a.3.cmp(b.3)));
        let seat_n = seats.get(sid).copied().unwrap_or(0);
        let name = names.get(sid).cloned().unwrap_or_else(|| sid.to_string());
        let mut cats: Vec<CategoryCount> = Vec::new();
        let mut left = seat_n;
        let mut lottery: Option<LotteryOdds> = None;
        let mut i = 0;
        while i < list.len() {
            let mut j = i;
            while j < list.len() && list[j].0 == list[i].0 {
                j += 1;
            }
            let g = (j - i) as u32;
            let (code, label) = (list[i].1, list[i].2);
            if !cats.iter().any(|c| c.code == code) {
                cats.push(CategoryCount {
                    code: code.to_string(),
                    label: label.to_string(),
                    applicants: 0,
                    admitted: 0,
                    in_lottery: 0,
                    lottery_seats: 0,
                    not_admitted: 0,
                });
            }
            let c = cats.iter_mut().find(|c| c.code == code).unwrap();
            c.applicants += g;
            let state = if g <= left {
                c.admitted += g;
                left -= g;
                0
            } else if left > 0 {
                c.in_lottery += g;
                c.lottery_seats += left;
                lottery = Some(LotteryOdds {
                    key: list[i].0.clone(),
                    category_code: code.to_string(),
                    seats_left: left,
                    tied: g,
                    odds: format!("{left}/{g}"),
                    percent: percent(left, g),
                });
                left = 0;
                1
            } else {
                c.not_admitted += g;
                2
            };
            for x in &list[i..j] {
                outcome.insert((sid, x.3), state);
            }
            i = j;
        }
        let total = list.len() as u32;
        let cutoff = if total <= seat_n {
            None
        } else {
            let partial = cats.iter().find(|c| {
                let got = c.admitted + c.lottery_seats;
                got > 0 && got < c.applicants
            });
            let last = cats.iter().rfind(|c| c.admitted + c.lottery_seats > 0);
            Some(CutoffInfo {
                partial_category: partial.map(|c| c.code.clone()),
                partial_label: partial.map(|c| c.label.clone()),
                admitted_of_category: partial.map_or(0, |c| c.admitted + c.lottery_seats),
                category_total: partial.map_or(0, |c| c.applicants),
                last_admitted_category: last.map(|c| c.code.clone()),
            })
        };
        let message = school_message(&name, seat_n, total, &cats, &lottery, &cutoff);
        schools.push(SchoolDryRun {
            school_id: sid.to_string(),
            school_name: name,
            seats: seat_n,
            applicants: total,
            categories: cats,
            cutoff,
            lottery,
            message,
        });
    }

    let mut needs_placement = Vec::new();
    let mut likely_unplaced = Vec::new();
    for a in applicants {
        let eligible: Vec<String> = a.schools.iter().map(|s| s.school_id.clone()).collect();
        if eligible.is_empty() {
            needs_placement.push(PlacementNeed {
                application_no: a.application_no.clone(),
                eligible_schools: eligible,
                reason: "没有可就读的划片学校".into(),
            });
            continue;
        }
        if eligible.iter().all(|s| seats.get(s).copied().unwrap_or(0) == 0) {
            needs_placement.push(PlacementNeed {
                application_no: a.application_no.clone(),
                eligible_schools: eligible,
                reason: "可就读的学校均无学位".into(),
            });
            continue;
        }
        if a.schools.iter().all(|s| outcome.get(&(s.school_id.as_str(), a.application_no.as_str())) == Some(&2)) {
            likely_unplaced.push(PlacementNeed {
                application_no: a.application_no.clone(),
                eligible_schools: eligible,
                reason: "在所有可就读学校均排在录取线之后，预计需要统筹安排".into(),
            });
        }
    }
    DryRunReport { schools, needs_placement, likely_unplaced }
}

/// School names from a directory, for [`dry_run`].
pub fn names_from_directory(ids: impl IntoIterator<Item = String>, dir: &dyn crate::catchment::Directory) -> BTreeMap<String, String> {
    ids.into_iter().filter_map(|id| dir.school_name(&id).map(|n| (id, n))).collect()
}

fn school_message(
    name: &str,
    seats: u32,
    total: u32,
    cats: &[CategoryCount],
    lottery: &Option<LotteryOdds>,
    cutoff: &Option<CutoffInfo>,
) -> String {
    let mut s = format!("{name}：学位 {seats} 个，符合条件 {total} 人。");
    if total <= seats {
        s.push_str("全部可以录取，无需派位。");
        return s;
    }
    let full: Vec<String> = cats
        .iter()
        .filter(|c| c.admitted == c.applicants && c.applicants > 0)
        .map(|c| format!("{}（{}）{} 人", c.code, c.label, c.applicants))
        .collect();
    if !full.is_empty() {
        s.push_str(&format!("全部录取：{}。", full.join("、")));
    }
    if let Some(l) = lottery {
        let c = cats.iter().find(|c| c.code == l.category_code);
        let label = c.map(|c| c.label.as_str()).unwrap_or("");
        s.push_str(&format!(
            "{}（{}）中 {} 人参加电脑派位，争夺剩余 {} 个学位，中签率 {}（{}）。",
            l.category_code, label, l.tied, l.seats_left, l.odds, l.percent
        ));
    } else if let Some(c) = cutoff {
        if let Some(p) = &c.partial_category {
            s.push_str(&format!("{p} 类录取 {} / {} 人（按居住时长等排序）。", c.admitted_of_category, c.category_total));
        } else if let Some(last) = &c.last_admitted_category {
            s.push_str(&format!("学位恰好录取至 {last} 类。"));
        }
    }
    let out: u32 = cats.iter().map(|c| c.not_admitted).sum();
    if out > 0 {
        s.push_str(&format!("另有 {out} 人在本校不能录取。"));
    }
    s
}

/// CSV (UTF-8 with BOM) of the dry run: one row per school and category.
pub fn dry_run_csv(report: &DryRunReport) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "学校代码",
        "学校名称",
        "学位数",
        "符合条件人数",
        "顺位代码",
        "顺位名称",
        "人数",
        "确定录取",
        "参加派位",
        "派位名额",
        "中签率",
        "百分比",
        "不能录取",
    ])
    .expect("write to Vec");
    for s in &report.schools {
        if s.categories.is_empty() {
            w.write_record([s.school_id.as_str(), &s.school_name, &s.seats.to_string(), "0", "", "", "0", "0", "0", "0", "", "", "0"])
                .expect("write to Vec");
        }
        for c in &s.categories {
            let (odds, pct) = match &s.lottery {
                Some(l) if l.category_code == c.code && c.in_lottery > 0 => (l.odds.clone(), l.percent.clone()),
                _ => (String::new(), String::new()),
            };
            w.write_record([
                s.school_id.clone(),
                s.school_name.clone(),
                s.seats.to_string(),
                s.applicants.to_string(),
                c.code.clone(),
                c.label.clone(),
                c.applicants.to_string(),
                c.admitted.to_string(),
                c.in_lottery.to_string(),
                c.lottery_seats.to_string(),
                odds,
                pct,
                c.not_admitted.to_string(),
            ])
            .expect("write to Vec");
        }
    }
    let bytes = w.into_inner().expect("flush Vec");
    format!("\u{feff}{}", String::from_utf8(bytes).expect("utf-8"))
}

/// CSV (UTF-8 with BOM) of the children needing administrative placement
/// (统筹), followed by those likely to need it.
pub fn placement_csv(report: &DryRunReport) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["报名号", "类别", "可就读学校", "原因"]).expect("write to Vec");
    for (kind, list) in [("需统筹安排", &report.needs_placement), ("可能需统筹", &report.likely_unplaced)] {
        for p in list {
            w.write_record([p.application_no.as_str(), kind, &p.eligible_schools.join("、"), &p.reason]).expect("write to Vec");
        }
    }
    let bytes = w.into_inner().expect("flush Vec");
    format!("\u{feff}{}", String::from_utf8(bytes).expect("utf-8"))
}
