//! Supplement requests (补充材料) and their answers: what a reviewer may ask
//! for, whether a family may still answer, and what an answer changed. Pure:
//! `now` is passed in.

use crate::registration::upload::DocumentKind;
use serde::{Deserialize, Serialize};

/// The parts of the child form a reviewer may ask a family to correct.
pub const SECTIONS: [(&str, &str); 6] = [
    ("child", "儿童姓名和身份证号码"),
    ("hukou", "户籍地址"),
    ("property", "房产信息"),
    ("migrant", "居住证信息"),
    ("special", "特殊情况与政策性照顾"),
    ("sibling", "长幼随学"),
];

pub const MAX_REPLY_CHARS: usize = 500;

/// What a reviewer asks for beyond the note (`review_decisions.supplement_items`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = SupplementItems)]
pub struct Items {
    /// Document kind codes (`DocumentKind::code`).
    #[serde(default)]
    pub documents: Vec<String>,
    /// Section codes of [`SECTIONS`].
    #[serde(default)]
    pub sections: Vec<String>,
}

impl Items {
    /// Checks the requested kinds and sections; duplicates are dropped.
    /// Errors name the field (`documents` or `sections`) in Chinese.
    pub fn check(documents: &[String], sections: &[String]) -> Result<Items, (&'static str, String)> {
        let mut out = Items::default();
        for d in documents.iter().map(|d| d.trim()).filter(|d| !d.is_empty()) {
            if DocumentKind::from_code(d).is_none() {
                return Err(("documents", format!("没有「{d}」这类材料，请从列表中选择")));
            }
            if !out.documents.iter().any(|x| x == d) {
                out.documents.push(d.to_string());
            }
        }
        for s in sections.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            if section_label(s).is_none() {
                return Err(("sections", format!("没有「{s}」这一项信息，请从列表中选择")));
            }
            if !out.sections.iter().any(|x| x == s) {
                out.sections.push(s.to_string());
            }
        }
        Ok(out)
    }

    pub fn document_labels(&self) -> Vec<String> {
        self.documents.iter().map(|d| DocumentKind::from_code(d).map(|k| k.label().to_string()).unwrap_or_else(|| d.clone())).collect()
    }

    pub fn section_labels(&self) -> Vec<String> {
        self.sections.iter().map(|s| section_label(s).unwrap_or(s).to_string()).collect()
    }

    /// The request in one Chinese sentence, for the timeline and messages.
    pub fn describe(&self, note: &str) -> String {
        let mut parts = Vec::new();
        if !self.documents.is_empty() {
            parts.push(format!("请上传：{}", self.document_labels().join("、")));
        }
        if !self.sections.is_empty() {
            parts.push(format!("请核对修改：{}", self.section_labels().join("、")));
        }
        if !note.trim().is_empty() {
            parts.push(format!("说明：{}", note.trim()));
        }
        parts.join("；")
    }
}

pub fn section_label(code: &str) -> Option<&'static str> {
    SECTIONS.iter().find(|(c, _)| *c == code).map(|(_, l)| *l)
}

/// Whether a family may still answer a request with this deadline.
pub fn is_open(deadline: chrono::NaiveDateTime, now: chrono::NaiveDateTime) -> bool {
    now < deadline
}

/// The family's reply, trimmed; at most [`MAX_REPLY_CHARS`], no control characters.
pub fn check_reply(reply: &str) -> Result<String, (&'static str, String)> {
    let r = reply.trim();
    if r.chars().count() > MAX_REPLY_CHARS {
        return Err(("reply", format!("答复说明不能超过 {MAX_REPLY_CHARS} 个字")));
    }
    if r.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
        return Err(("reply", "答复说明含有无效字符".into()));
    }
    Ok(r.to_string())
}

/// One corrected field, as the reviewer reads it beside the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = SupplementChange)]
pub struct Change {
    pub label: String,
    pub before: String,
    pub after: String,
}

/// What differs between two labelled row lists (the reviewer's fact rows
/// before and after the answer), in the order rows first appear.
pub fn changes(before: &[(String, String)], after: &[(String, String)]) -> Vec<Change> {
    let mut labels: Vec<&String> = Vec::new();
    for (l, _) in before.iter().chain(after) {
        if !labels.contains(&l) {
            labels.push(l);
        }
    }
    let get = |rows: &[(String, String)], l: &String| rows.iter().find(|(k, _)| k == l).map(|(_, v)| v.clone());
    labels
        .into_iter()
        .filter_map(|l| {
            let (b, a) = (get(before, l), get(after, l));
            (b != a).then(|| Change {
                label: l.clone(),
                before: b.unwrap_or_else(|| "（无）".into()),
                after: a.unwrap_or_else(|| "（无）".into()),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn items_are_checked_and_described() {
        let i = Items::check(&s(&["property_cert", "property_cert", " "]), &s(&["hukou"])).unwrap();
        assert_eq!(i.documents, ["property_cert"]);
        assert_eq!(i.describe("房产证不清晰"), "请上传：房产证/不动产权证；请核对修改：户籍地址；说明：房产证不清晰");
        assert_eq!(Items::check(&s(&["passport"]), &[]).unwrap_err().0, "documents");
        assert_eq!(Items::check(&[], &s(&["salary"])).unwrap_err().0, "sections");
        assert_eq!(Items::default().describe(""), "");
    }

    #[test]
    fn window_reply_and_changes() {
        let t = chrono::NaiveDate::from_ymd_opt(2027, 7, 20).unwrap().and_hms_opt(10, 0, 0).unwrap();
        assert!(is_open(t, t - chrono::Duration::seconds(1)));
        assert!(!is_open(t, t));
        assert_eq!(check_reply("  已补交  ").unwrap(), "已补交");
        assert_eq!(check_reply(&"字".repeat(501)).unwrap_err().0, "reply");
        assert_eq!(check_reply("a\u{0}b").unwrap_err().0, "reply");
        let row = |k: &str, v: &str| (k.to_string(), v.to_string());
        let before = vec![row("户籍地址", "凤城镇二环路12号"), row("房产", "未申报")];
        let after = vec![row("户籍地址", "凤城镇二环路12号"), row("房产地址", "凤城镇二环路12号"), row("取得日期", "2020-06-18")];
        let c = changes(&before, &after);
        assert_eq!(c.iter().map(|c| c.label.as_str()).collect::<Vec<_>>(), ["房产", "房产地址", "取得日期"]);
        assert_eq!(c[0].after, "（无）");
        assert!(changes(&before, &before).is_empty());
    }
}
