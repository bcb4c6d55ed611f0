//! The guardian's status page: where the application stands, the
//! provisional or approved placement, and the timeline of what happened and
//! what comes next. Pure: `now` is passed in.

use super::campaign::{fmt_date, fmt_time, registration_open, CampaignCtx};
use crate::db::registration::ApplicationView;
use crate::domain::ApplicationStatus;
use crate::registration::forms;
use crate::registration::upload::{doc_view, DocView};
use crate::review::appeal;
use crate::review::supplement::{self, Items};
use chrono::NaiveDateTime;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TimelineStep {
    pub label: String,
    pub at: Option<String>,
    pub note: String,
    pub done: bool,
}

/// A supplement request the family has not answered yet.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OpenSupplement {
    pub decision_id: String,
    pub deadline: NaiveDateTime,
    /// The deadline as a parent reads it (Beijing time).
    pub deadline_text: String,
    pub note: String,
    pub items: Items,
    /// Labels of the requested documents and form sections.
    pub documents: Vec<String>,
    pub sections: Vec<String>,
    /// The whole request in one sentence.
    pub asked: String,
}

/// The application's unanswered supplement request, if it is waiting for one.
pub fn open_supplement(
    status: ApplicationStatus,
    latest: &Option<(crate::db::review::DecisionRow, Option<crate::db::review::SupplementResponse>)>,
) -> Option<OpenSupplement> {
    let (d, None) = latest.as_ref()? else { return None };
    if status != ApplicationStatus::Supplement {
        return None;
    }
    let deadline = d.supplement_deadline?;
    let items: Items = d.supplement_items.as_deref().and_then(|j| serde_json::from_str(j).ok()).unwrap_or_default();
    Some(OpenSupplement {
        decision_id: d.id.clone(),
        deadline,
        deadline_text: fmt_time(deadline),
        note: d.note.clone(),
        documents: items.document_labels(),
        sections: items.section_labels(),
        asked: items.describe(&d.note),
        items,
    })
}

/// The supplement part of the status page.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SupplementStatus {
    #[serde(flatten)]
    pub request: OpenSupplement,
    /// The family may still answer (before the deadline).
    pub open: bool,
    /// What the campaign does with a request unanswered at its deadline.
    pub on_expiry: &'static str,
}

/// What a rejected family reads: why, what it can do, whom to call.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RejectedView {
    /// The reason as the reviewer coded and explained it.
    pub reason: String,
    pub at: String,
    /// The last moment for a 复核申请.
    pub appeal_until: String,
    pub can_appeal: bool,
    /// Why no appeal can be filed (past the window, already filed).
    pub appeal_refusal: Option<String>,
}

/// The family's appeal, once filed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AppealView {
    pub filed_at: String,
    pub reason: String,
    /// `pending`, `granted` or `upheld`.
    pub outcome: &'static str,
    pub outcome_label: &'static str,
}

/// The bureau's admissions office, for "whom to call".
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Contact {
    pub name: String,
    pub phone: String,
}

/// The status page's content.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatusView {
    pub application_id: String,
    pub registration_no: String,
    pub campaign_id: String,
    pub campaign_name: String,
    pub child_name: String,
    pub id_number_masked: String,
    pub birth_date: String,
    pub sex: String,
    pub status: ApplicationStatus,
    pub status_label: String,
    pub submitted_at: String,
    pub editable: bool,
    pub edit_until: String,
    /// The catchment school or zone: provisional until approved.
    pub provisional: bool,
    pub school_name: Option<String>,
    pub zone_name: Option<String>,
    pub category: Option<String>,
    pub explanation: Option<String>,
    pub family_id: Option<String>,
    pub timeline: Vec<TimelineStep>,
    pub documents: Vec<DocView>,
    /// The supplement request waiting for the family, with whether it can
    /// still be answered.
    pub supplement: Option<SupplementStatus>,
    /// Set when the application was rejected.
    pub rejected: Option<RejectedView>,
    pub appeal: Option<AppealView>,
    /// The family may withdraw (before review begins).
    pub can_withdraw: bool,
    pub contact: Contact,
}

/// The status page's content for `v` at `now`.
pub fn status_view(v: &ApplicationView, ctx: &CampaignCtx, now: NaiveDateTime, contact: Contact) -> StatusView {
    let a = &v.application;
    let rejected_event = v.events.iter().rev().find(|e| e.status == ApplicationStatus::Rejected);
    let rejected = (a.status == ApplicationStatus::Rejected).then(|| {
        let at = rejected_event.map(|e| e.at);
        let allowed = appeal::may_appeal(a.status, at, v.campaign.appeal_days, v.appeal.is_some(), now);
        RejectedView {
            reason: rejected_event.map(|e| e.note.clone()).filter(|n| !n.is_empty()).unwrap_or_else(|| "审核未通过".into()),
            at: at.map(fmt_time).unwrap_or_default(),
            appeal_until: at.map(|t| fmt_time(appeal::appeal_until(t, v.campaign.appeal_days))).unwrap_or_default(),
            can_appeal: allowed.is_ok(),
            appeal_refusal: allowed.err(),
        }
    });
    let appeal = v.appeal.as_ref().map(|x| {
        let (outcome, outcome_label) = match x.outcome.as_deref() {
            None => ("pending", "复核中，将由另一名工作人员审核"),
            Some("granted") => ("granted", "复核通过"),
            Some(_) => ("upheld", "复核后维持原审核结果"),
        };
        AppealView { filed_at: fmt_time(x.filed_at), reason: x.reason.clone(), outcome, outcome_label }
    });
    let editable = a.status == ApplicationStatus::Submitted && registration_open(&v.campaign, now).is_ok();
    let approved = a.status.is_past_review();
    let facts: Option<forms::StoredFacts> = serde_json::from_str(&a.facts_json).ok();
    let prov = facts.as_ref().map(|f| ctx.provisional(&f.facts).0).unwrap_or_default();
    let category = if approved && a.category.is_some() {
        a.category.as_ref().map(|c| {
            let label = ctx
                .policy
                .categories
                .iter()
                .position(|x| &x.code == c)
                .map(|i| format!("{}（{}）", crate::policy::tier_name(i + 1), ctx.policy.categories[i].label));
            label.unwrap_or_else(|| c.clone())
        })
    } else {
        prov.category_label.clone()
    };
    let school_name = v.school_name.clone().or(prov.school_name.clone());
    let zone_name = v.zone_name.clone().or(prov.zone_name.clone());
    let mut timeline: Vec<TimelineStep> = v
        .events
        .iter()
        .map(|e| {
            let mut note = e.note.clone();
            if e.status == ApplicationStatus::Approved {
                let place = school_name.clone().or(zone_name.clone()).unwrap_or_else(|| "由教育局统筹安排".into());
                note = format!(
                    "对口学校（片区）：{place}；类别：{}{}",
                    category.clone().unwrap_or_else(|| "—".into()),
                    if note.is_empty() { String::new() } else { format!("；{note}") }
                );
            }
            TimelineStep { label: e.status.label().to_string(), at: Some(fmt_time(e.at)), note, done: true }
        })
        .collect();
    let past = |t: NaiveDateTime| now >= t;
    // Rejected or withdrawn: no later steps to announce.
    let ended = matches!(a.status, ApplicationStatus::Rejected | ApplicationStatus::Withdrawn);
    if !approved && !ended {
        timeline.push(TimelineStep {
            label: "资格审核".into(),
            at: Some(format!("{} 前完成", fmt_time(v.campaign.review_deadline))),
            note: "审核通过后显示对口学校和类别".into(),
            done: false,
        });
    }
    if !ended {
        timeline.push(TimelineStep {
            label: "电脑派位日".into(),
            at: Some(fmt_time(v.campaign.draw_day)),
            note: "派位公开进行，结果可由任何人复核".into(),
            done: past(v.campaign.draw_day),
        });
    }
    for (o, school) in &v.offers {
        let (label, note) = match o.status.as_str() {
            "offered" => ("录取结果", format!("{school}，请于 {} 前确认", fmt_time(o.deadline))),
            "accepted" => ("已确认入学", school.clone()),
            "declined" => ("已放弃学位", school.clone()),
            "expired" => ("逾期未确认", school.clone()),
            _ => ("学位已撤回", school.clone()),
        };
        timeline.push(TimelineStep { label: label.into(), at: Some(fmt_time(o.responded_at.unwrap_or(o.offered_at))), note, done: true });
    }
    if v.offers.is_empty() && !ended {
        timeline.push(TimelineStep {
            label: "录取结果与确认".into(),
            at: Some(format!("{} 前确认", fmt_time(v.campaign.offer_deadline))),
            note: String::new(),
            done: false,
        });
    }
    StatusView {
        application_id: a.id.clone(),
        registration_no: a.registration_no.clone(),
        campaign_id: v.campaign.id.clone(),
        campaign_name: v.campaign.name.clone(),
        child_name: v.child.name.clone(),
        id_number_masked: v.child.id_number_masked.clone(),
        birth_date: fmt_date(v.child.birth_date),
        sex: v.child.sex.clone(),
        status: a.status,
        status_label: a.status.label().to_string(),
        submitted_at: fmt_time(a.submitted_at),
        editable,
        edit_until: fmt_time(v.campaign.registration_closes),
        provisional: !approved,
        school_name,
        zone_name,
        category,
        explanation: if approved { a.explanation.clone() } else { prov.explanation.clone() },
        family_id: a.family_id.clone(),
        timeline,
        documents: v.documents.iter().map(|x| doc_view(&x.kind, &x.mime, x.size_bytes)).collect(),
        supplement: open_supplement(a.status, &v.supplement).map(|r| SupplementStatus {
            open: supplement::is_open(r.deadline, now),
            on_expiry: v.campaign.supplement_expiry.label(),
            request: r,
        }),
        rejected,
        appeal,
        can_withdraw: a.status == ApplicationStatus::Submitted,
        contact,
    }
}
