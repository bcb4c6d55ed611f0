//! Guardians, drafts and applications of the parent flow. Every write runs in
//! the caller's transaction (`Db::write`), so a refused request leaves nothing
//! behind.

use super::models::*;
use super::schema;
use super::{audit, now, DbConn};
use crate::domain::{ApplicationStatus, CampaignStatus};
use crate::error::AppError;
use crate::identity::crypto::{mask_id, mask_name, IdCipher};
use crate::registration::draft::{DraftData, DraftDocument};
use crate::registration::forms::{StoredFacts, ValidChild};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = schema::registration_drafts)]
pub struct DraftRow {
    pub id: String,
    pub guardian_id: String,
    pub campaign_id: String,
    pub application_id: Option<String>,
    pub status: String,
    pub data_json: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl DraftRow {
    pub fn data(&self) -> Result<DraftData, AppError> {
        serde_json::from_str(&self.data_json).map_err(|e| AppError::internal(format!("draft data: {e}")))
    }
}

pub fn guardian(conn: &mut DbConn, id: &str) -> Result<Option<Guardian>, AppError> {
    Ok(schema::guardians::table.filter(schema::guardians::id.eq(id)).select(Guardian::as_select()).first(conn).optional()?)
}

/// The guardian with this openid, created on first login (unionid kept up to date).
pub fn upsert_guardian(conn: &mut DbConn, openid: &str, unionid: Option<&str>) -> Result<Guardian, AppError> {
    use schema::guardians::dsl as g;
    let existing: Option<Guardian> = g::guardians.filter(g::openid.eq(openid)).select(Guardian::as_select()).first(conn).optional()?;
    let t = now();
    if let Some(mut row) = existing {
        if unionid.is_some() && row.unionid.as_deref() != unionid {
            diesel::update(g::guardians.filter(g::id.eq(&row.id))).set((g::unionid.eq(unionid), g::updated_at.eq(t))).execute(conn)?;
            row.unionid = unionid.map(str::to_string);
        }
        return Ok(row);
    }
    let row = Guardian {
        id: super::new_id(),
        openid: openid.to_string(),
        unionid: unionid.map(str::to_string),
        name: String::new(),
        relation: String::new(),
        phone: String::new(),
        created_at: t,
        updated_at: t,
        email: None,
        notify_channels: "wechat".into(),
    };
    diesel::insert_into(g::guardians).values(&row).execute(conn)?;
    audit::append(
        conn,
        &format!("guardian:{}", row.id),
        "guardian.create",
        &format!("guardian:{}", row.id),
        None,
        Some(&json!({"via": "wechat"})),
    )?;
    Ok(row)
}

pub fn update_guardian(conn: &mut DbConn, id: &str, v: &crate::registration::forms::ValidGuardian) -> Result<(), AppError> {
    use schema::guardians::dsl as g;
    let (name, relation, phone) = (v.name.as_str(), v.relation.as_str(), v.mobile.as_str());
    let n = diesel::update(g::guardians.filter(g::id.eq(id)))
        .set((
            g::name.eq(name),
            g::relation.eq(relation),
            g::phone.eq(phone),
            g::email.eq(v.email.as_deref()),
            g::notify_channels.eq(v.notify.as_str()),
            g::updated_at.eq(now()),
        ))
        .execute(conn)?;
    if n == 0 {
        return Err(AppError::NotFound);
    }
    // Personal data stays out of the audit log: masked values only.
    audit::append(
        conn,
        &format!("guardian:{id}"),
        "guardian.profile",
        &format!("guardian:{id}"),
        None,
        Some(&json!({
            "name": mask_name(name),
            "relation": relation,
            "phone": crate::identity::crypto::mask_phone(phone),
            "email": v.email.as_deref().map(|e| crate::notify::mask_recipient("email", e)),
            "notify": v.notify,
        })),
    )?;
    Ok(())
}

/// Campaigns taking registrations at `at`.
pub fn open_campaigns(conn: &mut DbConn, at: NaiveDateTime) -> Result<Vec<Campaign>, AppError> {
    use schema::campaigns::dsl as c;
    Ok(c::campaigns
        .filter(c::status.eq("registration"))
        .filter(c::registration_opens.le(at))
        .filter(c::registration_closes.gt(at))
        .order((c::year.desc(), c::grade.asc()))
        .select(Campaign::as_select())
        .load(conn)?)
}

pub fn township_names(conn: &mut DbConn) -> Result<Vec<(String, String)>, AppError> {
    Ok(schema::townships::table.order(schema::townships::code.asc()).select((schema::townships::id, schema::townships::name)).load(conn)?)
}

/// Schools of the campaign's kind (grade 1 → primary, 7 → junior), (id, name).
pub fn schools_for(conn: &mut DbConn, c: &Campaign) -> Result<Vec<(String, String)>, AppError> {
    let kind = if c.grade >= 7 { "junior" } else { "primary" };
    Ok(schema::schools::table
        .filter(schema::schools::kind.eq(kind))
        .order(schema::schools::code.asc())
        .select((schema::schools::id, schema::schools::name))
        .load(conn)?)
}

pub fn create_draft(
    conn: &mut DbConn,
    guardian_id: &str,
    campaign_id: &str,
    application_id: Option<&str>,
    data: &DraftData,
) -> Result<DraftRow, AppError> {
    let t = now();
    let row = DraftRow {
        id: super::new_id(),
        guardian_id: guardian_id.into(),
        campaign_id: campaign_id.into(),
        application_id: application_id.map(str::to_string),
        status: "open".into(),
        data_json: serde_json::to_string(data).map_err(AppError::internal)?,
        created_at: t,
        updated_at: t,
    };
    diesel::insert_into(schema::registration_drafts::table).values(&row).execute(conn)?;
    Ok(row)
}

/// The guardian's own draft; another guardian's draft is "not found".
pub fn draft(conn: &mut DbConn, guardian_id: &str, id: &str) -> Result<DraftRow, AppError> {
    use schema::registration_drafts::dsl as d;
    d::registration_drafts
        .filter(d::id.eq(id))
        .filter(d::guardian_id.eq(guardian_id))
        .select(DraftRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)
}

pub fn save_draft(conn: &mut DbConn, id: &str, data: &DraftData) -> Result<(), AppError> {
    use schema::registration_drafts::dsl as d;
    diesel::update(d::registration_drafts.filter(d::id.eq(id)).filter(d::status.eq("open")))
        .set((d::data_json.eq(serde_json::to_string(data).map_err(AppError::internal)?), d::updated_at.eq(now())))
        .execute(conn)?;
    Ok(())
}

/// The guardian's open drafts in a campaign (newest first).
pub fn open_drafts(conn: &mut DbConn, guardian_id: &str) -> Result<Vec<DraftRow>, AppError> {
    use schema::registration_drafts::dsl as d;
    Ok(d::registration_drafts
        .filter(d::guardian_id.eq(guardian_id))
        .filter(d::status.eq("open"))
        .order(d::updated_at.desc())
        .select(DraftRow::as_select())
        .load(conn)?)
}

/// An existing registration of the same child in the campaign.
#[derive(Debug, Clone, Serialize)]
pub struct ExistingChild {
    pub application_id: String,
    /// Shown only to the guardian who registered the child.
    pub registration_no: String,
    pub guardian_id: String,
}

pub fn existing_child(
    conn: &mut DbConn,
    campaign_id: &str,
    id_hash: &str,
    except_application: Option<&str>,
) -> Result<Option<ExistingChild>, AppError> {
    let row: Option<(String, String, String)> = schema::children::table
        .inner_join(schema::applications::table.on(schema::applications::child_id.eq(schema::children::id)))
        .filter(schema::children::campaign_id.eq(campaign_id))
        .filter(schema::children::id_number_hash.eq(id_hash))
        .select((schema::applications::id, schema::applications::registration_no, schema::children::guardian_id))
        .first(conn)
        .optional()?;
    Ok(row
        .filter(|(app, ..)| Some(app.as_str()) != except_application)
        .map(|(application_id, registration_no, guardian_id)| ExistingChild { application_id, registration_no, guardian_id }))
}

/// Catchment outcome stored with the application at submit (provisional until review).
#[derive(Debug, Clone, Default)]
pub struct Placement {
    pub township_id: Option<String>,
    pub school_id: Option<String>,
    pub zone_id: Option<String>,
}

/// What a submit produced; also the remembered idempotent answer.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Submitted {
    pub application_id: String,
    pub registration_no: String,
    /// False for an edit of an existing application.
    pub created: bool,
    /// The application's status after the submit (`None` in answers
    /// remembered before this field existed: submitted).
    #[serde(default)]
    pub status: Option<ApplicationStatus>,
}

const SUBMIT_SCOPE: &str = "registration.submit";

/// A remembered answer for this (namespaced) key.
pub fn remembered(conn: &mut DbConn, key: &str) -> Result<Option<Submitted>, AppError> {
    let row: Option<(String, String)> = schema::idempotency_keys::table
        .filter(schema::idempotency_keys::key.eq(key))
        .select((schema::idempotency_keys::scope, schema::idempotency_keys::response_json))
        .first(conn)
        .optional()?;
    match row {
        None => Ok(None),
        Some((scope, _)) if scope != SUBMIT_SCOPE => {
            Err(AppError::conflict("idempotency_key", "该请求标识已用于其他操作，请刷新页面后重试"))
        }
        Some((_, json)) if json == "{}" => Ok(None),
        Some((_, json)) => Ok(Some(serde_json::from_str(&json).map_err(AppError::internal)?)),
    }
}

/// Next registration number `{campaign}-{NNNNN}`, skipping numbers already used
/// (e.g. loaded by the demo without the counter).
///
/// On PostgreSQL the number comes from a sequence per campaign
/// (`ruxue_regno_{hex of the campaign id}`), so concurrent submissions hold no
/// row lock: a submission that fails after taking its number leaves a gap
/// (numbers are unique and increasing, not necessarily consecutive; see
/// docs/performance.md). On SQLite, with one writer at a time, the
/// `registration_no:{campaign}` counter gives consecutive numbers.
fn next_registration_no(conn: &mut DbConn, campaign_id: &str) -> Result<String, AppError> {
    if conn.backend() == super::Backend::Postgres {
        return next_registration_no_pg(conn, campaign_id);
    }
    let counter = format!("registration_no:{campaign_id}");
    let n = super::next_counter(conn, &counter)?;
    let candidate = format!("{campaign_id}-{n:05}");
    if !registration_no_taken(conn, &candidate)? {
        return Ok(candidate);
    }
    let next = highest_registration_no(conn, campaign_id)?.max(n) + 1;
    diesel::update(schema::counters::table.filter(schema::counters::name.eq(&counter)))
        .set(schema::counters::value.eq(next))
        .execute(conn)?;
    Ok(format!("{campaign_id}-{next:05}"))
}

fn registration_no_taken(conn: &mut DbConn, no: &str) -> Result<bool, AppError> {
    let taken: i64 = schema::applications::table.filter(schema::applications::registration_no.eq(no)).count().get_result(conn)?;
    Ok(taken > 0)
}

/// The largest number in `{campaign}-{N}` registration numbers already stored.
fn highest_registration_no(conn: &mut DbConn, campaign_id: &str) -> Result<i64, AppError> {
    let used: Vec<String> = schema::applications::table
        .filter(schema::applications::campaign_id.eq(campaign_id))
        .select(schema::applications::registration_no)
        .load(conn)?;
    let prefix = format!("{campaign_id}-");
    Ok(used.iter().filter_map(|r| r.strip_prefix(&prefix).and_then(|s| s.parse::<i64>().ok())).max().unwrap_or(0))
}

#[derive(diesel::QueryableByName)]
struct NextVal {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    v: Option<i64>,
}

fn registration_sequence(campaign_id: &str) -> String {
    format!("ruxue_regno_{}", hex::encode(campaign_id.as_bytes()))
}

/// Creates the campaign's registration-number sequence when it does not
/// exist yet (PostgreSQL; nothing on SQLite), starting after the numbers
/// already stored and the old counter. Call it outside the submit's
/// transaction, in a transaction of its own (the service does, once per
/// campaign and process): a transaction that waited for another one to
/// create it would not see it. Two instances creating it at once: one wins,
/// the other's error is ignored and the sequence is there.
pub fn ensure_registration_sequence(conn: &mut DbConn, campaign_id: &str) -> Result<(), AppError> {
    if conn.backend() != super::Backend::Postgres {
        return Ok(());
    }
    let seq = registration_sequence(campaign_id);
    let exists = |c: &mut DbConn| -> Result<bool, AppError> {
        #[derive(diesel::QueryableByName)]
        struct Found {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            v: bool,
        }
        Ok(diesel::sql_query(format!("SELECT to_regclass('{seq}') IS NOT NULL AS v")).get_result::<Found>(c)?.v)
    };
    if exists(conn)? {
        return Ok(());
    }
    let created = conn.transaction(|c| -> Result<(), AppError> {
        let counter: Option<i64> = schema::counters::table
            .filter(schema::counters::name.eq(format!("registration_no:{campaign_id}")))
            .select(schema::counters::value)
            .first(c)
            .optional()?;
        let start = highest_registration_no(c, campaign_id)?.max(counter.unwrap_or(0)) + 1;
        diesel::sql_query(format!("CREATE SEQUENCE IF NOT EXISTS {seq} START WITH {start}")).execute(c)?;
        Ok(())
    });
    match created {
        Ok(()) => Ok(()),
        // Created meanwhile by another instance.
        Err(_) if exists(conn)? => Ok(()),
        Err(e) => Err(e),
    }
}

fn next_registration_no_pg(conn: &mut DbConn, campaign_id: &str) -> Result<String, AppError> {
    let seq = registration_sequence(campaign_id);
    // NULL when the sequence does not exist (nextval is strict).
    let next = |c: &mut DbConn| -> Result<Option<i64>, AppError> {
        Ok(diesel::sql_query(format!("SELECT nextval(to_regclass('{seq}')) AS v")).get_result::<NextVal>(c)?.v)
    };
    let mut n = next(conn)?;
    if n.is_none() {
        // Not ensured beforehand (a caller other than the service): create
        // it in this transaction; it disappears with it if the submit fails.
        let counter: Option<i64> = schema::counters::table
            .filter(schema::counters::name.eq(format!("registration_no:{campaign_id}")))
            .select(schema::counters::value)
            .first(conn)
            .optional()?;
        let start = highest_registration_no(conn, campaign_id)?.max(counter.unwrap_or(0)) + 1;
        diesel::sql_query(format!("CREATE SEQUENCE IF NOT EXISTS {seq} START WITH {start}")).execute(conn)?;
        n = next(conn)?;
    }
    loop {
        let candidate = format!("{campaign_id}-{:05}", n.ok_or_else(|| AppError::internal("registration number sequence missing"))?);
        if !registration_no_taken(conn, &candidate)? {
            return Ok(candidate);
        }
        n = next(conn)?;
    }
}

/// Everything submit needs, validated by the caller against the campaign.
pub struct SubmitInput<'a> {
    pub guardian_id: &'a str,
    pub draft: &'a DraftRow,
    pub data: &'a DraftData,
    pub child: &'a ValidChild,
    pub placement: Placement,
    /// Namespaced idempotency key.
    pub key: &'a str,
    pub cipher: &'a IdCipher,
    /// The edit answers a supplement request: the application goes back to
    /// review (the caller records the answer and its audit entry); the text
    /// is the timeline's note.
    pub answering: Option<String>,
}

/// Turns a draft into an application (or applies an edit), in the caller's
/// transaction: idempotency row first (on PostgreSQL a concurrent twin waits
/// on it and then fails with a unique violation), then child, application,
/// event, documents, twins, audit, and the draft marked submitted.
pub fn submit(conn: &mut DbConn, input: SubmitInput<'_>) -> Result<Submitted, AppError> {
    let t = now();
    diesel::insert_into(schema::idempotency_keys::table)
        .values((
            schema::idempotency_keys::key.eq(input.key),
            schema::idempotency_keys::scope.eq(SUBMIT_SCOPE),
            schema::idempotency_keys::response_json.eq("{}"),
            schema::idempotency_keys::created_at.eq(t),
        ))
        .execute(conn)?;
    let draft = input.draft;
    let child = input.child;
    let number = &child.id.number;
    let hash = input.cipher.lookup_hash(number);
    if existing_child(conn, &draft.campaign_id, &hash, draft.application_id.as_deref())?.is_some() {
        // The service words the refusal (it knows who asks and the bureau's phone).
        return Err(AppError::Conflict {
            code: "duplicate_child",
            message: "该身份证号码已在本批次报名".into(),
            field: Some("id_number".into()),
        });
    }
    let mut facts: StoredFacts = child.facts.clone();
    let result = match &draft.application_id {
        Some(app_id) => {
            let app: Application =
                schema::applications::table.filter(schema::applications::id.eq(app_id)).select(Application::as_select()).first(conn)?;
            let owner: String =
                schema::children::table.filter(schema::children::id.eq(&app.child_id)).select(schema::children::guardian_id).first(conn)?;
            if owner != input.guardian_id {
                return Err(AppError::NotFound);
            }
            let (expected, next) = match &input.answering {
                Some(_) => (ApplicationStatus::Supplement, ApplicationStatus::UnderReview),
                None => (ApplicationStatus::Submitted, ApplicationStatus::Submitted),
            };
            if app.status != expected {
                return Err(match &input.answering {
                    Some(_) => AppError::conflict("supplement_closed", "这项补充材料要求已经处理，不能再提交"),
                    None => AppError::conflict("review_started", "报名已进入审核，不能再修改；如有变化请联系招生办"),
                });
            }
            diesel::update(schema::children::table.filter(schema::children::id.eq(&app.child_id)))
                .set((
                    schema::children::name.eq(&child.name),
                    schema::children::id_number_enc.eq(input.cipher.encrypt(number)),
                    schema::children::id_number_hash.eq(&hash),
                    schema::children::id_number_masked.eq(mask_id(number)),
                    schema::children::birth_date.eq(child.id.birth_date),
                    schema::children::sex.eq(child.id.sex.label()),
                ))
                .execute(conn)?;
            facts.facts.application_no = app.registration_no.clone();
            facts.facts.family_id = app.family_id.clone();
            let n = diesel::update(
                schema::applications::table
                    .filter(schema::applications::id.eq(&app.id))
                    .filter(schema::applications::version.eq(app.version)),
            )
            .set((
                schema::applications::facts_json.eq(serde_json::to_string(&facts).map_err(AppError::internal)?),
                schema::applications::township_id
                    .eq(crate::review::scope::effective_township(input.placement.township_id.clone(), app.assigned_township_id.clone())),
                schema::applications::catchment_school_id.eq(&input.placement.school_id),
                schema::applications::zone_id.eq(&input.placement.zone_id),
                schema::applications::status.eq(next),
                schema::applications::updated_at.eq(t),
                schema::applications::version.eq(app.version + 1),
            ))
            .execute(conn)?;
            if n != 1 {
                return Err(AppError::conflict("stale", "报名信息刚被修改过，请刷新页面后重试"));
            }
            match &input.answering {
                // A supplement answer adds to what the reviewer has seen; it
                // never takes evidence away.
                Some(note) => insert_event(conn, &app.id, next, "guardian", note, t)?,
                None => {
                    insert_event(conn, &app.id, next, "guardian", "家长修改了报名信息", t)?;
                    // Files the guardian took out of the edit leave the application too.
                    let stored: Vec<(String, String, String)> = schema::documents::table
                        .filter(schema::documents::application_id.eq(&app.id))
                        .select((schema::documents::id, schema::documents::kind, schema::documents::content_hash))
                        .load(conn)?;
                    let removed: Vec<String> = stored
                        .into_iter()
                        .filter(|(_, k, h)| !input.data.documents.iter().any(|d| &d.kind == k && &d.content_hash == h))
                        .map(|(id, ..)| id)
                        .collect();
                    if !removed.is_empty() {
                        diesel::delete(schema::documents::table.filter(schema::documents::id.eq_any(&removed))).execute(conn)?;
                    }
                    audit::append(
                        conn,
                        &format!("guardian:{}", input.guardian_id),
                        "application.edit",
                        &format!("application:{}", app.id),
                        Some(&json!({"version": app.version})),
                        Some(&json!({"version": app.version + 1, "registration_no": app.registration_no, "documents_removed": removed})),
                    )?;
                }
            }
            Submitted { application_id: app.id, registration_no: app.registration_no, created: false, status: Some(next) }
        }
        None => {
            let child_id = super::new_id();
            diesel::insert_into(schema::children::table)
                .values(Child {
                    id: child_id.clone(),
                    campaign_id: draft.campaign_id.clone(),
                    guardian_id: input.guardian_id.into(),
                    name: child.name.clone(),
                    id_number_enc: input.cipher.encrypt(number),
                    id_number_hash: hash.clone(),
                    id_number_masked: mask_id(number),
                    birth_date: child.id.birth_date,
                    sex: child.id.sex.label().into(),
                    created_at: t,
                })
                .execute(conn)?;
            let registration_no = next_registration_no(conn, &draft.campaign_id)?;
            facts.facts.application_no = registration_no.clone();
            // Twins and other multiple births: same guardian, campaign and birth date.
            let sibling: Option<(String, String, Option<String>, String)> = schema::applications::table
                .inner_join(schema::children::table.on(schema::children::id.eq(schema::applications::child_id)))
                // By the child's campaign, not the application's (the same
                // value): then `children (guardian_id, campaign_id)` serves the
                // whole condition and no planner starts from the campaign.
                .filter(schema::children::campaign_id.eq(&draft.campaign_id))
                .filter(schema::children::guardian_id.eq(input.guardian_id))
                .filter(schema::children::birth_date.eq(child.id.birth_date))
                .filter(schema::applications::status.ne(ApplicationStatus::Withdrawn))
                .select((
                    schema::applications::id,
                    schema::applications::registration_no,
                    schema::applications::family_id,
                    schema::applications::facts_json,
                ))
                .first(conn)
                .optional()?;
            if let Some((sib_id, sib_no, sib_family, sib_facts)) = sibling {
                let family = sib_family.clone().unwrap_or(sib_no);
                if sib_family.is_none() {
                    let mut v: serde_json::Value = serde_json::from_str(&sib_facts).map_err(AppError::internal)?;
                    v["family_id"] = json!(family);
                    diesel::update(schema::applications::table.filter(schema::applications::id.eq(&sib_id)))
                        .set((schema::applications::family_id.eq(&family), schema::applications::facts_json.eq(v.to_string())))
                        .execute(conn)?;
                }
                facts.facts.family_id = Some(family);
            }
            let app_id = super::new_id();
            diesel::insert_into(schema::applications::table)
                .values(Application {
                    id: app_id.clone(),
                    campaign_id: draft.campaign_id.clone(),
                    child_id,
                    registration_no: registration_no.clone(),
                    status: ApplicationStatus::Submitted,
                    facts_json: serde_json::to_string(&facts).map_err(AppError::internal)?,
                    family_id: facts.facts.family_id.clone(),
                    township_id: input.placement.township_id.clone(),
                    catchment_school_id: input.placement.school_id.clone(),
                    zone_id: input.placement.zone_id.clone(),
                    category: None,
                    priority_json: None,
                    explanation: None,
                    idempotency_key: Some(input.key.to_string()),
                    submitted_at: t,
                    updated_at: t,
                    version: 1,
                    assigned_township_id: None,
                })
                .execute(conn)?;
            insert_event(conn, &app_id, ApplicationStatus::Submitted, "guardian", "", t)?;
            audit::append(
                conn,
                &format!("guardian:{}", input.guardian_id),
                "application.submit",
                &format!("application:{app_id}"),
                None,
                Some(&json!({"registration_no": registration_no, "campaign": draft.campaign_id, "id_number": mask_id(number)})),
            )?;
            Submitted { application_id: app_id, registration_no, created: true, status: Some(ApplicationStatus::Submitted) }
        }
    };
    let have: Vec<(String, String)> = schema::documents::table
        .filter(schema::documents::application_id.eq(&result.application_id))
        .select((schema::documents::kind, schema::documents::content_hash))
        .load(conn)?;
    for d in &input.data.documents {
        if have.iter().any(|(k, h)| k == &d.kind && h == &d.content_hash) {
            continue;
        }
        insert_document(conn, &result.application_id, d, t)?;
    }
    diesel::update(schema::registration_drafts::table.filter(schema::registration_drafts::id.eq(&draft.id)))
        .set((
            schema::registration_drafts::status.eq("submitted"),
            schema::registration_drafts::application_id.eq(&result.application_id),
            schema::registration_drafts::updated_at.eq(t),
        ))
        .execute(conn)?;
    diesel::update(schema::idempotency_keys::table.filter(schema::idempotency_keys::key.eq(input.key)))
        .set(schema::idempotency_keys::response_json.eq(serde_json::to_string(&result).map_err(AppError::internal)?))
        .execute(conn)?;
    Ok(result)
}

fn insert_event(
    conn: &mut DbConn,
    app_id: &str,
    status: ApplicationStatus,
    actor: &str,
    note: &str,
    at: NaiveDateTime,
) -> Result<(), AppError> {
    diesel::insert_into(schema::application_events::table)
        .values(ApplicationEvent { id: super::new_id(), application_id: app_id.into(), at, status, actor: actor.into(), note: note.into() })
        .execute(conn)?;
    Ok(())
}

fn insert_document(conn: &mut DbConn, app_id: &str, d: &DraftDocument, at: NaiveDateTime) -> Result<(), AppError> {
    diesel::insert_into(schema::documents::table)
        .values(Document {
            id: super::new_id(),
            application_id: app_id.into(),
            kind: d.kind.clone(),
            content_hash: d.content_hash.clone(),
            mime: d.mime.clone(),
            size_bytes: d.size_bytes,
            uploaded_at: at,
        })
        .execute(conn)?;
    Ok(())
}

/// One of the guardian's applications with what the status page shows.
#[derive(Debug, Clone)]
pub struct ApplicationView {
    pub application: Application,
    pub child: Child,
    pub campaign: Campaign,
    pub events: Vec<ApplicationEvent>,
    pub offers: Vec<(Offer, String)>,
    pub documents: Vec<Document>,
    pub school_name: Option<String>,
    pub zone_name: Option<String>,
    /// The latest supplement request and its answer.
    pub supplement: Option<(super::review::DecisionRow, Option<super::review::SupplementResponse>)>,
    /// The family's review request of a rejection.
    pub appeal: Option<super::review::AppealRow>,
}

/// The guardian's applications, newest first: (application, child, campaign name).
pub fn applications_of(conn: &mut DbConn, guardian_id: &str) -> Result<Vec<(Application, Child, String)>, AppError> {
    let rows: Vec<(Application, Child, String)> = schema::applications::table
        .inner_join(schema::children::table.on(schema::children::id.eq(schema::applications::child_id)))
        .inner_join(schema::campaigns::table.on(schema::campaigns::id.eq(schema::applications::campaign_id)))
        .filter(schema::children::guardian_id.eq(guardian_id))
        .order(schema::applications::submitted_at.desc())
        .select((Application::as_select(), Child::as_select(), schema::campaigns::name))
        .load(conn)?;
    let mut rows = rows;
    super::draw::show_in_draw_all(conn, rows.iter_mut().map(|(a, _, _)| a))?;
    Ok(rows)
}

/// The guardian's own application; another guardian's is "not found".
pub fn application_view(conn: &mut DbConn, guardian_id: &str, app_id: &str) -> Result<ApplicationView, AppError> {
    let (mut application, child): (Application, Child) = schema::applications::table
        .inner_join(schema::children::table.on(schema::children::id.eq(schema::applications::child_id)))
        .filter(schema::applications::id.eq(app_id))
        .filter(schema::children::guardian_id.eq(guardian_id))
        .select((Application::as_select(), Child::as_select()))
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)?;
    super::draw::show_in_draw(conn, &mut application)?;
    let campaign = super::catchment::load_campaign(conn, &application.campaign_id)?;
    let events = schema::application_events::table
        .filter(schema::application_events::application_id.eq(app_id))
        .order(schema::application_events::at.asc())
        .select(ApplicationEvent::as_select())
        .load(conn)?;
    let offers = schema::offers::table
        .inner_join(schema::schools::table)
        .filter(schema::offers::application_id.eq(app_id))
        .order(schema::offers::offered_at.asc())
        .select((Offer::as_select(), schema::schools::name))
        .load(conn)?;
    let documents = schema::documents::table
        .filter(schema::documents::application_id.eq(app_id))
        .order(schema::documents::uploaded_at.asc())
        .select(Document::as_select())
        .load(conn)?;
    let school_name = match &application.catchment_school_id {
        Some(s) => schema::schools::table.filter(schema::schools::id.eq(s)).select(schema::schools::name).first(conn).optional()?,
        None => None,
    };
    let zone_name = match &application.zone_id {
        Some(z) => schema::zones::table.filter(schema::zones::id.eq(z)).select(schema::zones::name).first(conn).optional()?,
        None => None,
    };
    let supplement = super::review::latest_supplement(conn, app_id)?;
    let appeal = super::review::appeal_of(conn, app_id)?;
    Ok(ApplicationView { application, child, campaign, events, offers, documents, school_name, zone_name, supplement, appeal })
}

/// Marks an application withdrawn (at `version`) and frees its child's ID
/// number for a new registration: the lookup hash is replaced by one that no
/// ID number hashes to, so the uniqueness rule and the duplicate check let
/// the child be registered again. False when the application changed meanwhile.
pub fn withdraw_application(conn: &mut DbConn, app: &Application, at: NaiveDateTime) -> Result<bool, AppError> {
    let n = diesel::update(
        schema::applications::table.filter(schema::applications::id.eq(&app.id)).filter(schema::applications::version.eq(app.version)),
    )
    .set((
        schema::applications::status.eq(ApplicationStatus::Withdrawn),
        schema::applications::idempotency_key.eq(None::<String>),
        schema::applications::updated_at.eq(at),
        schema::applications::version.eq(app.version + 1),
    ))
    .execute(conn)?;
    if n != 1 {
        return Ok(false);
    }
    diesel::update(schema::children::table.filter(schema::children::id.eq(&app.child_id)))
        .set(schema::children::id_number_hash.eq(format!("withdrawn:{}", app.id)))
        .execute(conn)?;
    insert_event(conn, &app.id, ApplicationStatus::Withdrawn, "guardian", "监护人撤回了报名", at)?;
    Ok(true)
}

/// Sets a campaign's status and calendar.
pub fn set_calendar(conn: &mut DbConn, campaign_id: &str, status: CampaignStatus, cal: &Calendar) -> Result<(), AppError> {
    use schema::campaigns::dsl as c;
    diesel::update(c::campaigns.filter(c::id.eq(campaign_id)))
        .set((
            c::status.eq(status),
            c::registration_opens.eq(cal.registration_opens),
            c::registration_closes.eq(cal.registration_closes),
            c::review_deadline.eq(cal.review_deadline),
            c::draw_day.eq(cal.draw_day),
            c::offer_deadline.eq(cal.offer_deadline),
        ))
        .execute(conn)?;
    Ok(())
}

/// A campaign's phase dates (UTC).
#[derive(Debug, Clone, Copy)]
pub struct Calendar {
    pub registration_opens: NaiveDateTime,
    pub registration_closes: NaiveDateTime,
    pub review_deadline: NaiveDateTime,
    pub draw_day: NaiveDateTime,
    pub offer_deadline: NaiveDateTime,
}
