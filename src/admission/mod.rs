//! After the draw (issue #12): what a published record means for one child
//! ([`explain`]), whether a seat fits a school's seats and class-size cap
//! ([`fits`]), and the inspectors' indicators ([`indicators`]). Pure: records,
//! counts and labels come in, Chinese sentences and figures go out.

pub mod indicators;
pub mod nearest;
pub mod notice;

use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// One roster entry of a record (draw-v1 §2).
#[derive(Debug, Clone)]
pub struct RosterEntry {
    pub id: String,
    pub prefs: Vec<String>,
    pub priority: HashMap<String, Vec<i64>>,
}

/// The parts of a published record (draw-v1 §8) the results need.
#[derive(Debug, Clone)]
pub struct RecordView {
    pub roster: Vec<RosterEntry>,
    pub lottery_numbers: HashMap<String, i64>,
    pub assignments: BTreeMap<String, Vec<String>>,
    pub waitlists: BTreeMap<String, Vec<String>>,
    pub unassigned: Vec<String>,
}

fn ids(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

fn per_school(v: Option<&Value>) -> BTreeMap<String, Vec<String>> {
    v.and_then(Value::as_object).map(|o| o.iter().map(|(k, v)| (k.clone(), ids(Some(v)))).collect()).unwrap_or_default()
}

/// Reads a stored record (the engine wrote and verified it; a record that
/// does not read is an error, never a guess).
pub fn parse_record(text: &str) -> Result<RecordView, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("派位记录无法读取：{e}"))?;
    let result = v.get("result").ok_or("派位记录没有结果")?;
    let roster = v
        .get("roster")
        .and_then(Value::as_array)
        .ok_or("派位记录没有名单")?
        .iter()
        .map(|e| RosterEntry {
            id: e.get("id").and_then(Value::as_str).unwrap_or_default().to_string(),
            prefs: ids(e.get("prefs")),
            priority: e
                .get("priority")
                .and_then(Value::as_object)
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| (k.clone(), v.as_array().map(|a| a.iter().filter_map(Value::as_i64).collect()).unwrap_or_default()))
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect();
    let lottery_numbers = result
        .get("lottery_numbers")
        .and_then(Value::as_object)
        .map(|o| o.iter().filter_map(|(k, v)| v.as_i64().map(|n| (k.clone(), n))).collect())
        .unwrap_or_default();
    Ok(RecordView {
        roster,
        lottery_numbers,
        assignments: per_school(result.get("assignments")),
        waitlists: per_school(result.get("waitlists")),
        unassigned: ids(result.get("unassigned")),
    })
}

/// How a tier reads for a school: e.g. `("第二顺位", "户籍在片区")`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Tier {
    pub text: String,
    pub label: String,
}

/// The last child a school admitted.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Cutoff {
    pub tier: Tier,
    /// Their place within that tier (1-based).
    pub rank_in_tier: usize,
    pub lottery_number: i64,
}

/// One school the child was ranked at.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SchoolLine {
    pub school_id: String,
    pub school_name: String,
    /// The child's preference (1-based).
    pub preference: usize,
    pub tier: Tier,
    /// Place in the school's whole ranking, and within the child's tier.
    pub rank: usize,
    pub rank_in_tier: usize,
    pub seats_admitted: usize,
    pub admitted: bool,
    pub cutoff: Option<Cutoff>,
    /// Place on the school's published waitlist (1-based).
    pub waitlist_position: Option<usize>,
    /// The sentence a parent reads.
    pub sentence: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChildResult {
    pub registration_no: String,
    pub lottery_number: i64,
    /// The school the draw assigned, if any.
    pub assigned_school: Option<String>,
    pub schools: Vec<SchoolLine>,
}

/// Chinese ordinal words for small tiers: 1 → 一, 12 → 十二.
pub fn cn_number(n: i64) -> String {
    const D: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        0..=9 => D[n as usize].to_string(),
        10 => "十".into(),
        11..=19 => format!("十{}", D[(n - 10) as usize]),
        20..=99 => format!("{}十{}", D[(n / 10) as usize], if n % 10 == 0 { "" } else { D[(n % 10) as usize] }),
        _ => n.to_string(),
    }
}

impl RecordView {
    pub fn entry(&self, id: &str) -> Option<&RosterEntry> {
        self.roster.iter().find(|e| e.id == id)
    }

    fn lottery(&self, id: &str) -> i64 {
        self.lottery_numbers.get(id).copied().unwrap_or(i64::MAX)
    }

    /// A school's ranking (draw-v1 §7): everyone who lists it, by
    /// (priority, lottery number, id).
    pub fn ranking(&self, school: &str) -> Vec<&RosterEntry> {
        let mut r: Vec<&RosterEntry> = self.roster.iter().filter(|e| e.priority.contains_key(school)).collect();
        r.sort_by(|a, b| {
            a.priority[school]
                .cmp(&b.priority[school])
                .then(self.lottery(&a.id).cmp(&self.lottery(&b.id)))
                .then(a.id.as_bytes().cmp(b.id.as_bytes()))
        });
        r
    }

    /// The school the record assigned `id` to.
    pub fn assigned(&self, id: &str) -> Option<&str> {
        self.assignments.iter().find(|(_, v)| v.iter().any(|x| x == id)).map(|(k, _)| k.as_str())
    }

    /// What the record means for one child. `tier_of(school, key)` reads a
    /// priority key in the policy's words; `name_of` names a school.
    pub fn explain(&self, id: &str, tier_of: &dyn Fn(&str, &[i64]) -> Tier, name_of: &dyn Fn(&str) -> String) -> Option<ChildResult> {
        let me = self.entry(id)?;
        let assigned = self.assigned(id).map(str::to_string);
        let mut schools = Vec::new();
        for (i, s) in me.prefs.iter().enumerate() {
            let ranking = self.ranking(s);
            let key = &me.priority[s];
            let tier = tier_of(s, key);
            let rank = ranking.iter().position(|e| e.id == id).map(|p| p + 1).unwrap_or(0);
            let in_tier = |e: &RosterEntry| e.priority[s].first() == key.first();
            let rank_in_tier = ranking.iter().take_while(|e| e.id != id).filter(|e| in_tier(e)).count() + 1;
            let admitted_ids = self.assignments.get(s).cloned().unwrap_or_default();
            let cutoff = admitted_ids.last().and_then(|last| {
                let e = self.entry(last)?;
                let k = &e.priority[s];
                let pos = ranking.iter().take_while(|x| x.id != *last).filter(|x| x.priority[s].first() == k.first()).count() + 1;
                Some(Cutoff { tier: tier_of(s, k), rank_in_tier: pos, lottery_number: self.lottery(last) })
            });
            let waitlist_position = self.waitlists.get(s).and_then(|w| w.iter().position(|x| x == id)).map(|p| p + 1);
            let admitted = assigned.as_deref() == Some(s.as_str());
            let name = name_of(s);
            let mut sentence = format!("您的孩子在{name}的{}（{}）中排第 {rank_in_tier} 位", tier.text, tier.label);
            match &cutoff {
                Some(c) => sentence.push_str(&format!(
                    "，该校录取至{}（{}）第 {} 位（末位录取者派位号 {}）",
                    c.tier.text, c.tier.label, c.rank_in_tier, c.lottery_number
                )),
                None => sentence.push_str("，该校本次没有录取名额"),
            }
            if admitted {
                sentence.push_str("，您的孩子已被该校录取");
            } else if let Some(w) = waitlist_position {
                sentence.push_str(&format!("，您的孩子在该校候补第 {w} 位"));
            } else if assigned.is_some() {
                sentence.push_str("，您的孩子已被更靠前的志愿学校录取");
            }
            sentence.push('。');
            schools.push(SchoolLine {
                school_id: s.clone(),
                school_name: name,
                preference: i + 1,
                tier,
                rank,
                rank_in_tier,
                seats_admitted: admitted_ids.len(),
                admitted,
                cutoff,
                waitlist_position,
                sentence,
            });
        }
        Some(ChildResult { registration_no: id.to_string(), lottery_number: self.lottery(id), assigned_school: assigned, schools })
    }
}

/// A school's seats: classes × the class-size cap, the cap being the
/// plan's or the county's (45 primary, 50 junior), whichever is smaller.
pub fn seats(classes: i32, plan_cap: i32, county_cap: i32) -> i64 {
    i64::from(classes.max(0)) * i64::from(plan_cap.min(county_cap).max(0))
}

/// Whether one more child fits: `taken` counts open and accepted offers and
/// pending placements. Refused with the reason in Chinese.
pub fn fits(school_name: &str, seats: i64, taken: i64, classes: i32, cap: i32) -> Result<(), String> {
    if taken + 1 > seats {
        return Err(format!(
            "{school_name}已无空余学位（计划 {classes} 个班 × 每班 {cap} 人 = {seats} 个学位，已占 {taken} 个）：统筹安置不得超过学位数和班额上限"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec() -> RecordView {
        let text = r#"{"roster":[
            {"id":"R1","prefs":["S1","S2"],"priority":{"S1":[1],"S2":[2]}},
            {"id":"R2","prefs":["S1"],"priority":{"S1":[2]}},
            {"id":"R3","prefs":["S1","S2"],"priority":{"S1":[2],"S2":[1]}},
            {"id":"R4","prefs":["S1"],"priority":{"S1":[2]}}],
          "result":{"lottery_numbers":{"R1":3,"R2":1,"R3":4,"R4":2},
            "assignments":{"S1":["R1","R2"],"S2":["R3"]},"unassigned":["R4"],
            "waitlists":{"S1":["R4","R3"],"S2":[]}}}"#;
        parse_record(text).unwrap()
    }

    fn tier(_: &str, k: &[i64]) -> Tier {
        let labels = ["照顾", "房户一致", "户籍在片区"];
        Tier { text: format!("第{}顺位", cn_number(k[0])), label: labels[k[0] as usize].into() }
    }

    #[test]
    fn explains_rank_cutoff_and_waitlist() {
        let r = rec();
        let name = |s: &str| format!("{s}小学");
        let x = r.explain("R4", &tier, &name).unwrap();
        assert_eq!(x.lottery_number, 2);
        assert_eq!(x.assigned_school, None);
        let s1 = &x.schools[0];
        // S1 ranks R1 ([1]), then R2 (lot 1), R4 (lot 2), R3 (lot 4).
        assert_eq!((s1.rank, s1.rank_in_tier, s1.waitlist_position), (3, 2, Some(1)));
        let c = s1.cutoff.as_ref().unwrap();
        assert_eq!((c.tier.text.as_str(), c.rank_in_tier, c.lottery_number), ("第二顺位", 1, 1));
        assert_eq!(
            s1.sentence,
            "您的孩子在S1小学的第二顺位（户籍在片区）中排第 2 位，该校录取至第二顺位（户籍在片区）第 1 位（末位录取者派位号 1），您的孩子在该校候补第 1 位。"
        );
        let y = r.explain("R3", &tier, &name).unwrap();
        assert_eq!(y.assigned_school.as_deref(), Some("S2"));
        assert!(y.schools[1].admitted);
        assert_eq!(y.schools[0].waitlist_position, Some(2));
        assert!(r.explain("R9", &tier, &name).is_none());
    }

    #[test]
    fn numbers_and_seats() {
        assert_eq!(cn_number(2), "二");
        assert_eq!(cn_number(12), "十二");
        assert_eq!(cn_number(20), "二十");
        assert_eq!(seats(2, 45, 45), 90);
        assert_eq!(seats(2, 50, 45), 90);
        assert!(fits("S", 90, 89, 2, 45).is_ok());
        assert!(fits("S", 90, 90, 2, 45).unwrap_err().contains("已无空余学位"));
    }
}
