//! A rejected family's review request (复核申请): when it may be filed, what
//! it must say, and who may decide it. Pure: `now` is passed in.

use crate::domain::ApplicationStatus;
use chrono::NaiveDateTime;

pub const MAX_REASON_CHARS: usize = 1000;

/// The last moment an appeal may be filed for a rejection at `rejected_at`.
pub fn appeal_until(rejected_at: NaiveDateTime, days: i32) -> NaiveDateTime {
    rejected_at + chrono::Duration::days(i64::from(days.max(0)))
}

/// Whether the family may file an appeal now; else the Chinese reason.
pub fn may_appeal(
    status: ApplicationStatus,
    rejected_at: Option<NaiveDateTime>,
    days: i32,
    filed: bool,
    now: NaiveDateTime,
) -> Result<(), String> {
    if filed {
        return Err("这份报名已经申请过复核，复核结果为最终结果".into());
    }
    let Some(at) = rejected_at.filter(|_| status == ApplicationStatus::Rejected) else {
        return Err("只有审核未通过的报名才能申请复核".into());
    };
    if now > appeal_until(at, days) {
        return Err(format!("复核申请须在审核未通过后 {days} 天内提出，现已超过期限"));
    }
    Ok(())
}

/// The family's reason, trimmed: required, at most [`MAX_REASON_CHARS`].
pub fn check_reason(reason: &str) -> Result<String, (&'static str, String)> {
    let r = reason.trim();
    if r.chars().count() < 5 {
        return Err(("reason", "请写明申请复核的理由（至少 5 个字），例如哪些情况与审核意见不符".into()));
    }
    if r.chars().count() > MAX_REASON_CHARS {
        return Err(("reason", format!("复核理由不能超过 {MAX_REASON_CHARS} 个字")));
    }
    if r.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
        return Err(("reason", "复核理由含有无效字符".into()));
    }
    Ok(r.to_string())
}

/// An appeal is decided by someone other than the reviewer who rejected.
pub fn may_decide(rejected_by: Option<&str>, who: &str) -> Result<(), String> {
    match rejected_by {
        Some(r) if r == who => Err("复核申请须由作出驳回决定以外的工作人员审核".into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_reason_and_decider() {
        let t = chrono::NaiveDate::from_ymd_opt(2027, 7, 20).unwrap().and_hms_opt(10, 0, 0).unwrap();
        let rej = ApplicationStatus::Rejected;
        assert!(may_appeal(rej, Some(t), 5, false, t + chrono::Duration::days(5)).is_ok());
        assert!(may_appeal(rej, Some(t), 5, false, t + chrono::Duration::days(5) + chrono::Duration::seconds(1))
            .unwrap_err()
            .contains("5 天内"));
        assert!(may_appeal(rej, Some(t), 5, true, t).unwrap_err().contains("已经申请过"));
        assert!(may_appeal(ApplicationStatus::Approved, Some(t), 5, false, t).is_err());
        assert!(may_appeal(rej, None, 5, false, t).is_err());
        assert_eq!(check_reason("  房产证已补办，请重新审核 ").unwrap(), "房产证已补办，请重新审核");
        assert_eq!(check_reason("不服").unwrap_err().0, "reason");
        assert!(may_decide(Some("s1"), "s1").is_err());
        assert!(may_decide(Some("s1"), "s2").is_ok());
        assert!(may_decide(None, "s1").is_ok());
    }
}
