//! A campaign's lifecycle: which phase may follow which, and what must be
//! true first. Pure: the caller loads a [`Snapshot`] of counts and passes
//! the time in.
//!
//! The phases run strictly forward, one step at a time:
//! draft → registration → review → draw → offers → closed. Nothing moves a
//! campaign back through [`check`], in any environment; reopening
//! registration to try the parent forms stays with `ruxue campaign open`,
//! which only non-production environments allow and which audits it as a
//! reopening.

use crate::domain::CampaignStatus;
use chrono::NaiveDateTime;
use serde::Serialize;

/// What the checks look at, loaded in the same transaction as the step.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Snapshot {
    /// The campaign's policy has been frozen (`ruxue policy freeze`).
    pub policy_frozen: bool,
    /// Schools with a plan (classes × class-size cap) in this campaign.
    pub school_plans: i64,
    /// Catchment rules of this campaign.
    pub catchment_rules: i64,
    /// When registration closes (UTC).
    pub registration_closes: NaiveDateTime,
    /// Applications submitted and not yet picked up by a reviewer.
    pub submitted: i64,
    /// Applications a reviewer is working on.
    pub under_review: i64,
    /// Applications waiting for the family's supplement.
    pub supplement: i64,
    /// Rejections the family asked to have reviewed (复核申请), not yet decided.
    pub appealed: i64,
    /// Overrides waiting for a second staff member (four eyes).
    pub pending_seconds: i64,
}

/// Choices the admin makes explicitly with a step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// End registration before its published closing time.
    pub close_registration_early: bool,
}

/// The phase after `s`, if any.
pub fn next(s: CampaignStatus) -> Option<CampaignStatus> {
    use CampaignStatus::*;
    match s {
        Draft => Some(Registration),
        Registration => Some(Review),
        Review => Some(Draw),
        Draw => Some(Offers),
        Offers => Some(Closed),
        Closed => None,
    }
}

/// Whether the campaign may move from `from` to `to` now, or every Chinese
/// reason why not.
///
/// - into `registration`: the policy is frozen, and the campaign has school
///   plans and catchment rules;
/// - into `review` (registration ends): the published closing time has been
///   reached, or the admin closes early on purpose
///   ([`Options::close_registration_early`]);
/// - into `draw` (review ends): no application is still submitted, under
///   review or waiting for a supplement, and no override awaits its second
///   staff member;
/// - into `offers`: nothing beyond the phase order — the draw itself is not
///   stored by the service yet, so there is nothing to check that it ran;
/// - into `closed`: only from `offers` (the phase order).
pub fn check(from: CampaignStatus, to: CampaignStatus, s: &Snapshot, opts: Options, now: NaiveDateTime) -> Result<(), Vec<String>> {
    use CampaignStatus::*;
    if from == to {
        return Err(vec![format!("招生批次已处于「{}」阶段", to.label())]);
    }
    let Some(expected) = next(from) else {
        return Err(vec![format!("招生批次已结束，不能再变更阶段")]);
    };
    if to != expected {
        let reason = if to < from {
            format!("不能从「{}」退回到「{}」：阶段只能依次向前推进", from.label(), to.label())
        } else {
            format!("不能跳过「{}」阶段：当前为「{}」，下一阶段只能是「{}」", expected.label(), from.label(), expected.label())
        };
        return Err(vec![reason]);
    }
    let mut reasons = Vec::new();
    match to {
        Registration => {
            if !s.policy_frozen {
                reasons.push("招生方案尚未冻结（先核对方案，再执行 ruxue policy freeze）".to_string());
            }
            if s.school_plans <= 0 {
                reasons.push("尚未设置任何学校的招生计划（班数、班额）".to_string());
            }
            if s.catchment_rules <= 0 {
                reasons.push("尚未导入划片规则".to_string());
            }
        }
        Review => {
            if now < s.registration_closes && !opts.close_registration_early {
                // Beijing time (UTC+8, no daylight saving) for the person reading.
                let bj = s.registration_closes + chrono::Duration::hours(8);
                reasons
                    .push(format!("报名截止时间（{}）尚未到达；如需提前结束报名，请明确选择“提前截止报名”", bj.format("%Y-%m-%d %H:%M")));
            }
        }
        Draw => {
            if s.submitted > 0 {
                reasons.push(format!("仍有 {} 份申请已提交、尚未开始审核", s.submitted));
            }
            if s.under_review > 0 {
                reasons.push(format!("仍有 {} 份申请正在审核中", s.under_review));
            }
            if s.supplement > 0 {
                reasons.push(format!("仍有 {} 份申请等待家长补充材料", s.supplement));
            }
            if s.appealed > 0 {
                reasons.push(format!("仍有 {} 份复核申请尚未办结", s.appealed));
            }
            if s.pending_seconds > 0 {
                reasons.push(format!("仍有 {} 项改判等待另一名工作人员复核", s.pending_seconds));
            }
        }
        Draft | Offers | Closed => {}
    }
    if reasons.is_empty() {
        Ok(())
    } else {
        Err(reasons)
    }
}

/// The policy TOML of a copied campaign: the top-level `version = "…"` line
/// (before the first table) set to `version`; everything else, comments
/// included, as it was. A text without such a line is returned unchanged.
pub fn with_policy_version(toml_text: &str, version: &str) -> String {
    let mut out = String::with_capacity(toml_text.len() + 8);
    let mut done = false;
    for line in toml_text.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with('[') {
            done = true;
        }
        let is_version = !done && t.strip_prefix("version").map(|r| r.trim_start().starts_with('=')).unwrap_or(false);
        if is_version {
            let eol = if line.ends_with("\r\n") {
                "\r\n"
            } else if line.ends_with('\n') {
                "\n"
            } else {
                ""
            };
            out.push_str(&format!("version = \"{}\"{eol}", version.replace('\\', "\\\\").replace('"', "\\\"")));
            done = true;
        } else {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use CampaignStatus::*;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn ready() -> Snapshot {
        Snapshot {
            policy_frozen: true,
            school_plans: 12,
            catchment_rules: 30,
            registration_closes: t("2027-07-10 10:00"),
            ..Snapshot::default()
        }
    }

    /// (from, to, snapshot, options, now, the reasons expected as substrings; none: permitted)
    type Case = (CampaignStatus, CampaignStatus, Snapshot, Options, NaiveDateTime, Vec<&'static str>);

    #[test]
    fn table() {
        let now = t("2027-07-20 00:00");
        let early = t("2027-07-01 00:00");
        let unfrozen = Snapshot { policy_frozen: false, ..ready() };
        let empty = Snapshot { policy_frozen: true, ..Snapshot::default() };
        let busy = Snapshot { submitted: 3, under_review: 2, supplement: 1, pending_seconds: 4, ..ready() };
        let supp = Snapshot { supplement: 5, ..ready() };
        let appealed = Snapshot { appealed: 2, ..ready() };
        let none = Options::default();
        let override_close = Options { close_registration_early: true };
        let cases: Vec<Case> = vec![
            (Draft, Registration, ready(), none, now, vec![]),
            (Draft, Registration, unfrozen, none, now, vec!["招生方案尚未冻结"]),
            (Draft, Registration, empty, none, now, vec!["招生计划", "划片规则"]),
            (Draft, Review, ready(), none, now, vec!["不能跳过「报名中」"]),
            (Draft, Closed, ready(), none, now, vec!["不能跳过「报名中」"]),
            (Draft, Draft, ready(), none, now, vec!["已处于「筹备中」"]),
            (Registration, Review, ready(), none, now, vec![]),
            (Registration, Review, ready(), none, early, vec!["报名截止时间（2027-07-10 18:00）尚未到达"]),
            (Registration, Review, ready(), override_close, early, vec![]),
            (Registration, Draft, ready(), none, now, vec!["不能从「报名中」退回到「筹备中」"]),
            (Review, Registration, ready(), none, now, vec!["退回"]),
            (Review, Draw, ready(), none, now, vec![]),
            (Review, Draw, busy, none, now, vec!["3 份申请已提交", "2 份申请正在审核中", "1 份申请等待家长补充材料", "4 项改判"]),
            (Review, Draw, supp, none, now, vec!["5 份申请等待家长补充材料"]),
            (Review, Draw, appealed, none, now, vec!["2 份复核申请尚未办结"]),
            (Review, Offers, ready(), none, now, vec!["不能跳过「派位」"]),
            (Review, Closed, ready(), none, now, vec!["不能跳过「派位」"]),
            (Draw, Offers, Snapshot::default(), none, now, vec![]),
            (Offers, Closed, Snapshot::default(), none, now, vec![]),
            (Draw, Closed, ready(), none, now, vec!["不能跳过「录取确认」"]),
            (Closed, Draft, ready(), none, now, vec!["已结束"]),
            (Closed, Closed, ready(), none, now, vec!["已处于「已结束」"]),
        ];
        for (from, to, snap, opts, at, want) in cases {
            let got = check(from, to, &snap, opts, at);
            if want.is_empty() {
                assert_eq!(got, Ok(()), "{from} → {to}");
            } else {
                let reasons = got.expect_err(&format!("{from} → {to} should be refused"));
                assert_eq!(reasons.len(), want.len(), "{from} → {to}: {reasons:?}");
                for (r, w) in reasons.iter().zip(&want) {
                    assert!(r.contains(w), "{from} → {to}: {r:?} should say {w:?}");
                }
            }
        }
    }

    #[test]
    fn only_one_step_forward_is_ever_allowed() {
        // With every precondition met, exactly the next phase is permitted.
        for &from in CampaignStatus::ALL {
            for &to in CampaignStatus::ALL {
                let ok = check(from, to, &ready(), Options { close_registration_early: true }, t("2030-01-01 00:00")).is_ok();
                assert_eq!(ok, next(from) == Some(to), "{from} → {to}");
            }
        }
    }

    #[test]
    fn policy_version_is_replaced_in_place() {
        let src = "# 注释 version = \"x\"\nname = \"方案\"\nversion = \"2019.1\"\n\n[cutoffs]\nversion = \"keep\"\n";
        let out = with_policy_version(src, "2028.1");
        assert_eq!(out, "# 注释 version = \"x\"\nname = \"方案\"\nversion = \"2028.1\"\n\n[cutoffs]\nversion = \"keep\"\n");
        assert_eq!(with_policy_version("[a]\nversion = \"1\"\n", "2"), "[a]\nversion = \"1\"\n");
        assert_eq!(with_policy_version("version=\"1\"", "2"), "version = \"2\"");
        // Not a version key.
        assert_eq!(with_policy_version("versions = 1\n", "2"), "versions = 1\n");
    }

    #[test]
    fn the_demo_policy_keeps_parsing_with_a_new_version() {
        let src = include_str!("../policy/demo_policy.toml");
        let out = with_policy_version(src, "2028.1");
        let doc: toml::Value = toml::from_str(&out).expect("still TOML");
        assert_eq!(doc["version"].as_str(), Some("2028.1"));
        assert_eq!(out.lines().count(), src.lines().count());
    }
}
