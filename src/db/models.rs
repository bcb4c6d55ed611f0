//! Row types. One struct per table, used both to read and to insert.

use super::schema::*;
use crate::domain::{ApplicationStatus, CampaignStatus, DrawKind, DrawStatus, Role, SupplementExpiry, WitnessRole};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = townships)]
pub struct Township {
    pub id: String,
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = schools)]
pub struct School {
    pub id: String,
    pub code: String,
    pub name: String,
    /// `primary` (grades 1–6) or `junior` (grades 7–9).
    pub kind: String,
    pub township_id: String,
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = campaigns)]
pub struct Campaign {
    pub id: String,
    pub year: i32,
    pub grade: i32,
    pub name: String,
    pub status: CampaignStatus,
    pub registration_opens: NaiveDateTime,
    pub registration_closes: NaiveDateTime,
    pub review_deadline: NaiveDateTime,
    pub draw_day: NaiveDateTime,
    pub offer_deadline: NaiveDateTime,
    pub min_age: i32,
    pub max_age: i32,
    /// `MM-DD`: the child must be `min_age` full years old on this day of `year`.
    pub age_cutoff: String,
    pub policy_toml: String,
    pub policy_version: String,
    pub policy_frozen_at: Option<NaiveDateTime>,
    pub four_eyes: bool,
    pub created_at: NaiveDateTime,
    /// What an unanswered supplement request becomes at its deadline.
    pub supplement_expiry: SupplementExpiry,
    /// Days after a rejection in which the family may ask for its review.
    pub appeal_days: i32,
    /// Days a family has to accept or decline an offer made after the draw
    /// (a waitlist seat, a placement); draw offers run to `offer_deadline`.
    pub offer_days: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = school_plans)]
pub struct SchoolPlan {
    pub campaign_id: String,
    pub school_id: String,
    pub planned_classes: i32,
    pub class_size_cap: i32,
}

impl SchoolPlan {
    /// Seats = planned classes × class-size cap (消除大班额: never above the cap).
    pub fn seats(&self) -> i64 {
        i64::from(self.planned_classes) * i64::from(self.class_size_cap)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = zones)]
pub struct Zone {
    pub id: String,
    pub campaign_id: String,
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = zone_schools)]
pub struct ZoneSchool {
    pub zone_id: String,
    pub school_id: String,
    pub position: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = catchment_rules)]
pub struct CatchmentRuleRow {
    pub id: String,
    pub campaign_id: String,
    pub position: i32,
    pub precedence: i32,
    pub kind: String,
    pub township: String,
    pub target_school_id: Option<String>,
    pub target_zone_id: Option<String>,
    pub rule_json: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = guardians)]
pub struct Guardian {
    pub id: String,
    pub openid: String,
    pub unionid: Option<String>,
    pub name: String,
    pub relation: String,
    pub phone: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Where email notifications go, when the guardian gave an address.
    pub email: Option<String>,
    /// `wechat`, `email` or `both` (see `crate::notify::Channels`).
    pub notify_channels: String,
}

/// A child. The national ID number is stored encrypted (`id_number_enc`),
/// with a keyed hash for the uniqueness lookup and a masked copy for lists.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = children)]
pub struct Child {
    pub id: String,
    pub campaign_id: String,
    pub guardian_id: String,
    pub name: String,
    pub id_number_enc: String,
    pub id_number_hash: String,
    pub id_number_masked: String,
    pub birth_date: NaiveDate,
    pub sex: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = applications)]
pub struct Application {
    pub id: String,
    pub campaign_id: String,
    pub child_id: String,
    pub registration_no: String,
    pub status: ApplicationStatus,
    /// The guardian's declarations (hukou, property, residence, special
    /// situations) as JSON; reviewers annotate, never edit.
    pub facts_json: String,
    pub family_id: Option<String>,
    pub township_id: Option<String>,
    pub catchment_school_id: Option<String>,
    pub zone_id: Option<String>,
    pub category: Option<String>,
    pub priority_json: Option<String>,
    pub explanation: Option<String>,
    pub idempotency_key: Option<String>,
    pub submitted_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
    /// An admin's assignment to a township of an application that no
    /// address places (the county queue); see `crate::review::scope`.
    pub assigned_township_id: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = application_events)]
pub struct ApplicationEvent {
    pub id: String,
    pub application_id: String,
    pub at: NaiveDateTime,
    pub status: ApplicationStatus,
    pub actor: String,
    pub note: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = documents)]
pub struct Document {
    pub id: String,
    pub application_id: String,
    pub kind: String,
    pub content_hash: String,
    pub mime: String,
    pub size_bytes: i64,
    pub uploaded_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = staff)]
pub struct Staff {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    /// JSON list of township ids a reviewer may see.
    pub township_scope: String,
    pub failed_logins: i32,
    pub locked_until: Option<NaiveDateTime>,
    pub token_version: i32,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub password_changed_at: NaiveDateTime,
}

/// A public draw (issue #11): frozen, then announced, then drawn once.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = draws)]
pub struct Draw {
    pub id: String,
    pub campaign_id: String,
    /// The spec's `draw_id`, e.g. `2027-G1-S03`; the same as `id`.
    pub draw_id: String,
    pub kind: DrawKind,
    pub unit_id: String,
    pub title: String,
    pub status: DrawStatus,
    /// CJSON of the announcement's `schools` and of the frozen roster.
    pub schools_json: String,
    pub roster_json: String,
    pub roster_root: String,
    pub roster_size: i32,
    pub scheduled_at: Option<NaiveDateTime>,
    pub beacon_round: Option<i64>,
    pub announcement_json: Option<String>,
    pub announcement_digest: Option<String>,
    /// The announcement's compact JWS (EdDSA).
    pub signature: Option<String>,
    pub beacon_value: Option<String>,
    pub record_json: Option<String>,
    pub record_digest: Option<String>,
    pub result_digest: Option<String>,
    pub frozen_by: String,
    pub created_at: NaiveDateTime,
    pub announced_at: Option<NaiveDateTime>,
    pub computed_at: Option<NaiveDateTime>,
    pub published_at: Option<NaiveDateTime>,
}

/// An application held by a frozen draw.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = draw_entries)]
pub struct DrawEntry {
    pub draw_id: String,
    pub application_id: String,
    pub registration_no: String,
    pub category: Option<String>,
}

/// A draw's witness: only the commitment is kept until the reveal.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = draw_witnesses)]
pub struct DrawWitness {
    pub id: String,
    pub draw_id: String,
    pub seq: i32,
    pub source_name: String,
    pub name: String,
    pub role: WitnessRole,
    #[serde(skip)]
    pub token_hash: Option<String>,
    #[serde(skip)]
    pub token_expires_at: Option<NaiveDateTime>,
    pub commitment: Option<String>,
    pub committed_at: Option<NaiveDateTime>,
    pub value: Option<String>,
    pub revealed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = offers)]
pub struct Offer {
    pub id: String,
    pub application_id: String,
    pub school_id: String,
    pub draw_id: Option<String>,
    pub status: String,
    pub deadline: NaiveDateTime,
    pub offered_at: NaiveDateTime,
    pub responded_at: Option<NaiveDateTime>,
    /// `draw`, `admit_all`, `waitlist` or `placement`.
    pub source: String,
    /// Why a seat was withdrawn, or the placement's reason.
    pub note: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = waitlist_entries)]
pub struct WaitlistEntry {
    pub draw_id: String,
    pub school_id: String,
    pub application_id: String,
    pub registration_no: String,
    /// 1-based, in the record's order; never changes.
    pub position: i32,
    /// `waiting`, `offered` or `left`.
    pub status: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = waitlist_moves)]
pub struct WaitlistMove {
    pub id: String,
    pub campaign_id: String,
    pub school_id: String,
    pub seq: i32,
    pub at: NaiveDateTime,
    /// `declined`, `expired` or `moved_up` (the child took a seat they preferred).
    pub cause: String,
    pub freed_registration_no: String,
    pub offered_registration_no: Option<String>,
    pub waitlist_position: Option<i32>,
    pub offer_id: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = placements)]
pub struct Placement {
    pub id: String,
    pub campaign_id: String,
    pub application_id: String,
    pub school_id: String,
    pub reason: String,
    /// `pending`, `approved` or `refused`.
    pub status: String,
    pub proposed_by: String,
    pub proposed_at: NaiveDateTime,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub offer_id: Option<String>,
}

/// One message in the outbox (`src/service/notify.rs` delivers it).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = notifications)]
// `None` is NULL, not DEFAULT: SQLite's multi-row insert has no DEFAULT
// (`db::notify::insert_many`); the nullable columns default to NULL anyway.
#[diesel(treat_none_as_default_value = false)]
pub struct Notification {
    pub id: String,
    /// Deterministic per event and channel: the same event is never queued
    /// twice; sent as WeChat `client_msg_id` and as the email Message-ID.
    pub dedup_key: String,
    pub event: String,
    pub campaign_id: Option<String>,
    pub application_id: Option<String>,
    pub guardian_id: Option<String>,
    pub channel: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// The rendered message (`crate::notify::Message`) as JSON.
    pub data_json: String,
    /// `pending`, `sending` (leased), `sent`, `failed` (refused, not retried), `dead` (attempts used up).
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

/// One fixed-window request counter (`rate_limits`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = rate_limits)]
pub struct RateLimitRow {
    pub bucket: String,
    pub window_start: i64,
    pub hits: i32,
}
