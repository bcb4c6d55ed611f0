//! The audit log in words (pure): who by name and role, what in Chinese,
//! and before/after as a list of the fields that changed. The stored codes
//! stay as they are (the hash chain covers them); this is how staff read them.

use crate::domain::{ApplicationStatus, DecisionKind, Role};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

/// Chinese for the actions the service writes; unknown codes read as they are.
pub const ACTIONS: &[(&str, &str)] = &[
    ("application.submit", "家长提交报名"),
    ("campaign.plan_set", "修改学校招生计划"),
    ("draw.freeze", "锁定派位名单"),
    ("draw.witness_add", "添加派位见证人"),
    ("draw.witness_commit", "见证人提交承诺值"),
    ("draw.witness_reveal", "见证人揭示随机数"),
    ("draw.announce", "签名发布派位公告"),
    ("draw.beacon", "录入公共随机信标"),
    ("draw.run", "执行电脑派位"),
    ("draw.publish", "公布派位结果"),
    ("draw.change_refused", "拒绝修改已锁定的派位"),
    ("application.edit", "家长修改报名"),
    ("application.view", "查看申请"),
    ("document.view", "查看材料"),
    ("review.queue_view", "查看审核队列"),
    ("review.approve", "审核通过"),
    ("review.reject", "驳回"),
    ("review.supplement", "要求补充材料"),
    ("notify.resend", "重新发送通知"),
    ("review.note", "添加备注"),
    ("review.second_agree", "复核同意改判"),
    ("review.second_disagree", "复核不同意改判"),
    ("review.assign", "县级待分配：分配给乡镇审核"),
    ("offers.from_draw", "按派位结果发出录取并公布候补名单"),
    ("offers.admit_all", "学位充足学校直接发出录取"),
    ("offer.accept", "家长确认入学"),
    ("offer.decline", "家长放弃学位（候补递补）"),
    ("offer.expire", "逾期未确认（候补递补）"),
    ("placement.propose", "提出统筹安置"),
    ("placement.approve", "复核同意统筹安置"),
    ("placement.refuse", "复核不同意统筹安置"),
    ("notice.print", "打印录取通知书"),
    ("notice.print_school", "打印学校录取通知书"),
    ("roster.export", "导出新生名册"),
    ("demo.after_draw", "演示：进入派位阶段"),
    ("application.supplement_answer", "家长补充材料"),
    ("review.supplement_expired", "补充材料逾期，按方案处理"),
    ("application.appeal", "家长申请复核"),
    ("review.appeal_granted", "复核申请：改为通过"),
    ("review.appeal_upheld", "复核申请：维持驳回"),
    ("application.withdraw", "家长撤回报名"),
    ("campaign.advance", "招生批次进入下一阶段"),
    ("campaign.advance_refused", "招生批次进入下一阶段被拒绝"),
    ("campaign.copy", "复制上一年招生批次"),
    ("review.rescope", "重新计算审核乡镇"),
    ("staff.create", "创建工作人员账号"),
    ("staff.login", "工作人员登录"),
    ("staff.login_failed", "登录失败"),
    ("staff.login_refused", "登录被拒绝（账号锁定）"),
    ("staff.logout", "退出登录"),
    ("staff.password_change", "修改本人密码"),
    ("staff.password_reset", "管理员重置密码"),
    ("staff.refresh_reuse", "刷新令牌被重复使用（已吊销全部会话）"),
    ("audit.export", "下载审计日志"),
    ("export.dry_run", "下载政策试算"),
    ("policy.set", "设置招生方案"),
    ("policy.freeze", "冻结招生方案"),
    ("campaign.open_registration", "开放报名"),
    ("catchment.import", "导入招生范围"),
    ("guardian.profile", "家长填写个人信息"),
    ("guardian.create", "家长首次登录"),
    ("demo.load", "载入演示数据"),
    ("staff.disable", "停用工作人员账号"),
    ("staff.enable", "启用工作人员账号"),
    ("staff.unlock", "解除账号锁定"),
];

pub fn action_label(code: &str) -> String {
    ACTIONS.iter().find(|(c, _)| *c == code).map(|(_, l)| l.to_string()).unwrap_or_else(|| code.to_string())
}

/// A staff member as the log names them.
#[derive(Debug, Clone)]
pub struct Person {
    pub name: String,
    pub role: Role,
}

/// `staff:ID` → `陈招生（教育局）（教育局管理员）`; guardians, the command line
/// and the system by what they are.
pub fn actor_label(actor: &str, people: &HashMap<String, Person>) -> String {
    match actor.split_once(':') {
        Some(("staff", id)) => match people.get(id) {
            Some(p) => format!("{}（{}）", p.name, p.role.label()),
            None => format!("工作人员 {id}"),
        },
        Some(("guardian", _)) => "家长".into(),
        _ => match actor {
            "anonymous" => "未登录者".into(),
            "cli" => "命令行（服务器管理员）".into(),
            "system" => "系统".into(),
            "test" => "测试".into(),
            other => other.to_string(),
        },
    }
}

/// `application:ID` → `申请 2027-G1-00012`; `staff:ID` → `账号 王复核`.
pub fn target_label(target: &str, people: &HashMap<String, Person>, applications: &HashMap<String, String>) -> String {
    match target.split_once(':') {
        Some(("application", id)) => format!("申请 {}", applications.get(id).map(String::as_str).unwrap_or(id)),
        Some(("staff", "unknown")) => "不存在的账号".into(),
        Some(("staff", id)) => format!("账号 {}", people.get(id).map(|p| p.name.as_str()).unwrap_or(id)),
        Some(("document", id)) => format!("材料 {id}"),
        Some(("campaign", id)) => format!("招生计划 {id}"),
        _ => match target {
            "review_queue" => "审核队列".into(),
            "audit_log" => "审计日志".into(),
            other => other.to_string(),
        },
    }
}

/// The application ids an entry's target names (to look their numbers up).
pub fn application_of(target: &str) -> Option<&str> {
    target.strip_prefix("application:")
}

const FIELDS: [(&str, &str); 33] = [
    ("status", "状态"),
    ("version", "版本"),
    ("township_id", "审核乡镇编号"),
    ("township", "审核乡镇"),
    ("reason", "理由"),
    ("note", "说明"),
    ("category", "类别"),
    ("catchment_school_id", "对口学校"),
    ("zone_id", "片区"),
    ("decision", "决定"),
    ("decision.decision", "决定"),
    ("decision.id", "决定编号"),
    ("decision.note", "说明"),
    ("decision.reason_code", "驳回原因"),
    ("decision.override_school_id", "改判学校"),
    ("decision.override_category", "改判类别"),
    ("decision.needs_second", "需第二人复核"),
    ("decision.supplement_deadline", "补充材料截止"),
    ("second.agree", "复核意见"),
    ("second.decision_id", "复核的决定"),
    ("format", "格式"),
    ("filter", "筛选条件"),
    ("page", "页码"),
    ("rows", "本页条数"),
    ("total", "总条数"),
    ("tokens_revoked", "吊销全部会话"),
    ("registration_no", "报名号"),
    ("role", "角色"),
    ("username", "用户名"),
    ("display_name", "姓名"),
    ("active", "在用"),
    ("locked", "锁定"),
    ("failures", "连续失败次数"),
];

fn field_label(key: &str) -> String {
    FIELDS.iter().find(|(k, _)| *k == key).map(|(_, l)| l.to_string()).unwrap_or_else(|| key.to_string())
}

/// A value as a person reads it: statuses, decisions, roles and booleans in
/// Chinese, missing as `—`.
fn value_text(key: &str, v: Option<&Value>) -> String {
    let Some(v) = v else { return "—".into() };
    match v {
        Value::Null => "—".into(),
        Value::Bool(true) if key == "second.agree" => "同意".into(),
        Value::Bool(false) if key == "second.agree" => "不同意".into(),
        Value::Bool(b) => if *b { "是" } else { "否" }.into(),
        Value::String(s) => {
            let leaf = key.rsplit('.').next().unwrap_or(key);
            let label = match leaf {
                "status" => ApplicationStatus::parse(s).map(|x| x.label().to_string()),
                "decision" => DecisionKind::parse(s).map(|x| x.label().to_string()),
                "role" => Role::parse(s).map(|x| x.label().to_string()),
                "reason_code" => super::reject_reason_label(s).map(str::to_string),
                "reason" => match s.as_str() {
                    "unknown_user" => Some("用户名不存在".into()),
                    "locked" => Some("账号已锁定".into()),
                    "bad_password" => Some("密码错误".into()),
                    "inactive" => Some("账号已停用".into()),
                    _ => None,
                },
                _ => None,
            };
            label.unwrap_or_else(|| s.clone())
        }
        other => other.to_string(),
    }
}

fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) if prefix != "filter" => {
            for (k, x) in m {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(&key, x, out);
            }
        }
        other => out.push((prefix.to_string(), other.clone())),
    }
}

/// One changed (or recorded) field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = AuditChange)]
pub struct Change {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// The fields that differ between `before` and `after` (stored canonical
/// JSON), in the order they first appear; with only one side, every field
/// it records. Unparsable text is shown whole.
pub fn changes(before: Option<&str>, after: Option<&str>) -> Vec<Change> {
    let parse = |s: Option<&str>| -> Vec<(String, Value)> {
        let mut out = Vec::new();
        match s.map(serde_json::from_str::<Value>) {
            Some(Ok(v @ Value::Object(_))) => flatten("", &v, &mut out),
            Some(Ok(v)) => out.push((String::new(), v)),
            Some(Err(_)) => out.push((String::new(), Value::String(s.unwrap_or_default().to_string()))),
            None => {}
        }
        out
    };
    let (b, a) = (parse(before), parse(after));
    let mut keys: Vec<&String> = Vec::new();
    for (k, _) in b.iter().chain(a.iter()) {
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let get = |side: &[(String, Value)], k: &str| side.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone());
    keys.into_iter()
        .filter_map(|k| {
            let (x, y) = (get(&b, k), get(&a, k));
            if x == y {
                return None;
            }
            Some(Change {
                field: if k.is_empty() { "内容".into() } else { field_label(k) },
                before: value_text(k, x.as_ref()),
                after: value_text(k, y.as_ref()),
            })
        })
        .collect()
}

/// The changes as one line, e.g. `状态：待审核 → 审核通过；版本：1 → 2`.
pub fn changes_line(changes: &[Change]) -> String {
    changes.iter().map(|c| format!("{}：{} → {}", c.field, c.before, c.after)).collect::<Vec<_>>().join("；")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people() -> HashMap<String, Person> {
        [("s1".to_string(), Person { name: "林审核（凤城镇）".into(), role: Role::Reviewer })].into_iter().collect()
    }

    #[test]
    fn actors_and_targets_read_as_words() {
        let p = people();
        let apps: HashMap<String, String> = [("a1".to_string(), "2027-G1-00001".to_string())].into_iter().collect();
        for (actor, want) in [
            ("staff:s1", "林审核（凤城镇）（乡镇审核员）"),
            ("staff:gone", "工作人员 gone"),
            ("guardian:g1", "家长"),
            ("anonymous", "未登录者"),
            ("cli", "命令行（服务器管理员）"),
        ] {
            assert_eq!(actor_label(actor, &p), want);
        }
        for (target, want) in [
            ("application:a1", "申请 2027-G1-00001"),
            ("application:zz", "申请 zz"),
            ("staff:s1", "账号 林审核（凤城镇）"),
            ("staff:unknown", "不存在的账号"),
            ("review_queue", "审核队列"),
        ] {
            assert_eq!(target_label(target, &p, &apps), want);
        }
        assert_eq!(action_label("review.assign"), "县级待分配：分配给乡镇审核");
        assert_eq!(action_label("staff.unlock"), "解除账号锁定");
        assert_eq!(action_label("something.new"), "something.new");
        let codes: Vec<&str> = ACTIONS.iter().map(|(c, _)| *c).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), codes.len(), "no action listed twice");
    }

    #[test]
    fn changes_list_only_what_differs_in_words() {
        let before = r#"{"category":null,"status":"under_review","version":3}"#;
        let after = r#"{"category":"B","decision":{"decision":"approve","needs_second":false},"status":"approved","version":4}"#;
        let c = changes(Some(before), Some(after));
        assert_eq!(
            changes_line(&c),
            "类别：— → B；状态：审核中 → 审核通过；版本：3 → 4；决定：— → 审核通过；需第二人复核：— → 否",
            "{c:?}"
        );
        // One side only: everything it records.
        let c = changes(None, Some(r#"{"reason":"locked"}"#));
        assert_eq!(changes_line(&c), "理由：— → 账号已锁定");
        assert!(changes(None, None).is_empty());
        assert!(changes(Some(before), Some(before)).is_empty());
        // Not JSON: shown whole.
        assert_eq!(changes_line(&changes(None, Some("plain"))), "内容：— → plain");
        let c = changes(None, Some(r#"{"second":{"agree":false}}"#));
        assert_eq!(changes_line(&c), "复核意见：— → 不同意");
    }
}
