//! A campaign as the parent forms see it (its policy, catchment map and the
//! choices the forms offer), and the provisional placement a guardian is
//! shown before review ("以审核结果为准"). Pure: the caller loads it.

use crate::catchment::{Directory, StaticDirectory};
use crate::db::models::Campaign;
use crate::db::registration::Placement;
use crate::domain::CampaignStatus;
use crate::error::AppError;
use crate::policy::{compute_keys, CatchmentContext, Policy};
use crate::registration::forms::{self, ChildRules};
use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

/// China Standard Time, for everything a parent reads.
pub fn local(t: NaiveDateTime) -> NaiveDateTime {
    crate::db::beijing(t)
}
pub fn fmt_time(t: NaiveDateTime) -> String {
    local(t).format("%Y年%m月%d日 %H:%M").to_string()
}
pub fn fmt_date(d: NaiveDate) -> String {
    d.format("%Y年%m月%d日").to_string()
}

/// A campaign with its policy, rules and the choices its forms offer.
#[derive(Clone)]
pub struct CampaignCtx {
    pub campaign: Campaign,
    pub policy: Policy,
    pub rules: Vec<crate::catchment::CatchmentRule>,
    pub directory: StaticDirectory,
    /// (id, name)
    pub townships: Vec<(String, String)>,
    pub township_names: Vec<String>,
    /// (id, name) of schools an elder sibling may attend.
    pub schools: Vec<(String, String)>,
    /// school code → id, zone code → id
    pub school_ids: Vec<(String, String)>,
    pub zone_ids: Vec<(String, String)>,
}

impl CampaignCtx {
    /// The child form's rules on `today` (Beijing date).
    pub fn child_rules(&self, today: NaiveDate) -> ChildRules<'_> {
        ChildRules {
            today,
            campaign_year: self.campaign.year,
            age: forms::age_rule(self.campaign.min_age, self.campaign.max_age, &self.campaign.age_cutoff),
            townships: &self.township_names,
            care_kinds: &self.policy.care.kinds,
            sibling_schools: &self.schools,
        }
    }

    /// The provisional catchment outcome for these facts.
    pub fn provisional(&self, facts: &crate::policy::ApplicantFacts) -> (Provisional, Placement) {
        let ctx = CatchmentContext { rules: &self.rules, directory: &self.directory };
        let mut placement = Placement::default();
        let mut p = Provisional::default();
        let keys = compute_keys(facts, &self.policy, &ctx);
        placement.township_id =
            crate::review::scope::review_township(facts, keys.as_ref().ok().and_then(|k| k.schools.first()), &self.townships);
        match keys {
            Ok(keys) => {
                p.notes = keys.notes.clone();
                if let Some(best) = keys.schools.first() {
                    p.found = true;
                    p.category_code = Some(best.category_code.clone());
                    p.category_label = Some(match self.policy.category_index(&best.category_code) {
                        Some(i) => format!("{}（{}）", crate::policy::tier_name(i + 1), best.category_label),
                        None => best.category_label.clone(),
                    });
                    p.explanation = Some(best.explanation.clone());
                    p.basis = best.via.iter().map(|b| b.label().to_string()).collect();
                    match &best.zone_id {
                        Some(z) => {
                            p.zone_code = Some(z.clone());
                            p.zone_name = self.directory.zone_name(z).or_else(|| Some(z.clone()));
                            p.schools = self.directory.zone_schools(z).iter().filter_map(|s| self.directory.school_name(s)).collect();
                            placement.zone_id = self.zone_ids.iter().find(|(c, _)| c == z).map(|(_, id)| id.clone());
                        }
                        None => {
                            p.school_code = Some(best.school_id.clone());
                            p.school_name = Some(best.school_name.clone());
                            placement.school_id = self.school_ids.iter().find(|(c, _)| *c == best.school_id).map(|(_, id)| id.clone());
                        }
                    }
                } else {
                    p.notes.push("按您填写的地址未找到对口学校，将由教育局统筹安排学位".into());
                }
            }
            Err(e) => p.notes.push(format!("暂时无法计算对口学校：{e}")),
        }
        (p, placement)
    }
}

/// Policy text for one campaign's notice: the clauses (split at `；` and `。`)
/// that name none of `foreign` (zones of other campaigns — a 一年级 notice
/// does not speak of the 七年级 建安片区); `None` when nothing is left.
pub fn own_clauses(text: &str, foreign: &[String]) -> Option<String> {
    let mut out = String::new();
    let mut clause = String::new();
    for c in text.chars() {
        clause.push(c);
        if c == '；' || c == '。' {
            if !foreign.iter().any(|f| !f.is_empty() && clause.contains(f.as_str())) {
                out.push_str(&clause);
            }
            clause.clear();
        }
    }
    if !clause.trim().is_empty() && !foreign.iter().any(|f| !f.is_empty() && clause.contains(f.as_str())) {
        out.push_str(&clause);
    }
    // A kept clause that ended in `；` now ends the text.
    if let Some(stem) = out.strip_suffix('；') {
        out = format!("{stem}。");
    }
    let out = out.trim().to_string();
    (!out.is_empty()).then_some(out)
}

impl CampaignCtx {
    /// Whether a policy target (school or zone code, as in `[[lottery]]`)
    /// is one this campaign's map assigns.
    pub fn assigns(&self, target: &str) -> bool {
        self.rules.iter().any(|r| match &r.target {
            crate::catchment::Target::School(c) | crate::catchment::Target::Zone(c) => c == target,
        })
    }
}

/// The provisional catchment school or zone and category ("以审核结果为准").
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Provisional {
    pub found: bool,
    pub school_code: Option<String>,
    pub school_name: Option<String>,
    pub zone_code: Option<String>,
    pub zone_name: Option<String>,
    /// The zone's schools, in announced order.
    pub schools: Vec<String>,
    pub category_code: Option<String>,
    pub category_label: Option<String>,
    pub explanation: Option<String>,
    pub basis: Vec<String>,
    pub notes: Vec<String>,
}

/// Whether a campaign takes registrations (and edits) now; else the Chinese reason.
pub fn registration_open(c: &Campaign, at: NaiveDateTime) -> Result<(), AppError> {
    if c.status != CampaignStatus::Registration || at < c.registration_opens {
        return Err(AppError::conflict("registration_closed", format!("「{}」当前不在报名时间内", c.name)));
    }
    if at >= c.registration_closes {
        return Err(AppError::conflict("registration_closed", format!("「{}」报名已截止，不能再提交或修改", c.name)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::own_clauses;

    #[test]
    fn a_notice_keeps_only_its_own_clauses() {
        let zones = ["建安片区".to_string(), "德苑片区".to_string()];
        let text = "城区小学一年级按划片招生、分顺位录取；七年级建安片区、德苑片区划分片区和电脑派位相结合。";
        for (text, foreign, expected) in [
            (text, &zones[..], Some("城区小学一年级按划片招生、分顺位录取。")),
            (text, &[][..], Some(text)),
            ("建安片区片区内电脑派位", &zones[..], None),
            ("龙湖小学生源超额，全部由电脑派位确定", &zones[..], Some("龙湖小学生源超额，全部由电脑派位确定")),
            ("甲。德苑片区乙；丙", &zones[..], Some("甲。丙")),
        ] {
            assert_eq!(own_clauses(text, foreign).as_deref(), expected, "{text}");
        }
    }
}

/// One step of a campaign's calendar as the public reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalendarStep {
    pub label: &'static str,
    pub at: String,
    /// `done`, `now` or `upcoming`.
    pub state: &'static str,
}

/// The campaign's calendar on `now`: registration, review (with
/// supplements), the draw and the offers, each done, under way or to come.
pub fn calendar(c: &Campaign, now: NaiveDateTime) -> Vec<CalendarStep> {
    let step = |label, from: NaiveDateTime, until: NaiveDateTime, at: String| CalendarStep {
        label,
        at,
        state: if now >= until {
            "done"
        } else if now >= from {
            "now"
        } else {
            "upcoming"
        },
    };
    let range = |a: NaiveDateTime, b: NaiveDateTime| format!("{} 至 {}", fmt_time(a), fmt_time(b));
    vec![
        step("网上报名", c.registration_opens, c.registration_closes, range(c.registration_opens, c.registration_closes)),
        step("资格审核（含补充材料）", c.registration_closes, c.review_deadline, format!("{} 前完成", fmt_time(c.review_deadline))),
        step("电脑派位（公开进行，可复核）", c.review_deadline, c.draw_day + chrono::Duration::hours(4), fmt_time(c.draw_day)),
        step("录取结果与确认", c.draw_day, c.offer_deadline, format!("{} 前确认", fmt_time(c.offer_deadline))),
    ]
}
