//! Queries of draw day (issue #11): frozen draws, their applications and
//! witnesses. No rules here; `service::draw` decides.

use super::models::{Draw, DrawEntry, DrawWitness};
use super::schema::{applications as ap, children as ch, draw_entries as de, draw_witnesses as dw, draws};
use super::DbConn;
use crate::domain::{ApplicationStatus, DrawStatus};
use crate::error::AppError;
use chrono::NaiveDateTime;
use diesel::prelude::*;

pub fn get(conn: &mut DbConn, id: &str) -> Result<Option<Draw>, AppError> {
    Ok(draws::table.find(id).select(Draw::as_select()).first(conn).optional()?)
}

/// A draw's row without its roster and record (lists, status checks).
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = draws)]
pub struct DrawBrief {
    pub id: String,
    pub campaign_id: String,
    pub kind: crate::domain::DrawKind,
    pub unit_id: String,
    pub title: String,
    pub status: DrawStatus,
    pub schools_json: String,
    pub roster_root: String,
    pub roster_size: i32,
    pub scheduled_at: Option<NaiveDateTime>,
    pub beacon_round: Option<i64>,
    pub beacon_value: Option<String>,
    pub announcement_digest: Option<String>,
    pub record_digest: Option<String>,
    pub result_digest: Option<String>,
    pub created_at: NaiveDateTime,
    pub announced_at: Option<NaiveDateTime>,
    pub computed_at: Option<NaiveDateTime>,
    pub published_at: Option<NaiveDateTime>,
}

/// Every draw (of one campaign when given), by campaign and id.
pub fn briefs(conn: &mut DbConn, campaign_id: Option<&str>) -> Result<Vec<DrawBrief>, AppError> {
    let mut q = draws::table.order((draws::campaign_id.asc(), draws::id.asc())).select(DrawBrief::as_select()).into_boxed();
    if let Some(c) = campaign_id {
        q = q.filter(draws::campaign_id.eq(c.to_string()));
    }
    Ok(q.load(conn)?)
}

pub fn brief(conn: &mut DbConn, id: &str) -> Result<Option<DrawBrief>, AppError> {
    Ok(draws::table.find(id).select(DrawBrief::as_select()).first(conn).optional()?)
}

pub fn by_unit(conn: &mut DbConn, campaign_id: &str, unit_id: &str) -> Result<Option<String>, AppError> {
    Ok(draws::table
        .filter(draws::campaign_id.eq(campaign_id))
        .filter(draws::unit_id.eq(unit_id))
        .select(draws::id)
        .first(conn)
        .optional()?)
}

/// The stored record, if drawn.
pub fn record(conn: &mut DbConn, id: &str) -> Result<Option<String>, AppError> {
    Ok(draws::table.find(id).select(draws::record_json).first::<Option<String>>(conn).optional()?.flatten())
}

pub fn insert(conn: &mut DbConn, d: &Draw) -> Result<(), AppError> {
    diesel::insert_into(draws::table).values(d).execute(conn)?;
    Ok(())
}

/// Record the applications a freeze read (the approved ones at the unit,
/// as [`approved_at`] selects them) as the draw's entries, in one
/// statement, and mark them `in_draw`. Returns how many it recorded, for
/// the caller to check against the roster it froze.
pub fn insert_entries(conn: &mut DbConn, draw_id: &str, campaign_id: &str, unit_id: &str, zone: bool) -> Result<usize, AppError> {
    use diesel::sql_types::Text;
    let base = ap::table.filter(ap::campaign_id.eq(campaign_id.to_string())).filter(ap::status.eq(ApplicationStatus::Approved));
    let select = (draw_id.to_string().into_sql::<Text>(), ap::id, ap::registration_no, ap::category);
    let cols = (de::draw_id, de::application_id, de::registration_no, de::category);
    let n = if zone {
        diesel::insert_into(de::table)
            .values(base.filter(ap::zone_id.eq(unit_id.to_string())).select(select))
            .into_columns(cols)
            .execute(conn)?
    } else {
        diesel::insert_into(de::table)
            .values(base.filter(ap::catchment_school_id.eq(unit_id.to_string())).filter(ap::zone_id.is_null()).select(select))
            .into_columns(cols)
            .execute(conn)?
    };
    // The applications keep their status `approved`: their entries are the
    // mark (the guards read them), and readers show `in_draw` through
    // [`show_in_draw`]. Rewriting 100,000 application rows here took 2 s of a
    // PostgreSQL freeze.
    Ok(n)
}

/// Shows an approved application that a frozen draw holds as `in_draw`
/// (参加电脑派位): the freeze records the draw in `draw_entries` only.
pub fn show_in_draw(conn: &mut DbConn, app: &mut crate::db::models::Application) -> Result<(), AppError> {
    show_in_draw_all(conn, [app])
}

/// [`show_in_draw`] for several applications, in one query.
pub fn show_in_draw_all<'a>(
    conn: &mut DbConn,
    apps: impl IntoIterator<Item = &'a mut crate::db::models::Application>,
) -> Result<(), AppError> {
    let approved: Vec<&mut crate::db::models::Application> = apps.into_iter().filter(|a| a.status == ApplicationStatus::Approved).collect();
    if approved.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = approved.iter().map(|a| a.id.as_str()).collect();
    let held: std::collections::HashSet<String> =
        de::table.filter(de::application_id.eq_any(&ids)).select(de::application_id).load::<String>(conn)?.into_iter().collect();
    for a in approved {
        if held.contains(&a.id) {
            a.status = ApplicationStatus::InDraw;
        }
    }
    Ok(())
}

/// An approved application as a freeze reads it.
#[derive(Debug, Clone, Queryable)]
pub struct Approved {
    pub id: String,
    pub registration_no: String,
    pub family_id: Option<String>,
    pub school_id: Option<String>,
    pub zone_id: Option<String>,
    pub category: Option<String>,
    pub priority_json: Option<String>,
}

/// Approved applications of a campaign at one school (outside zones) or one zone.
pub fn approved_at(conn: &mut DbConn, campaign_id: &str, unit_id: &str, zone: bool) -> Result<Vec<Approved>, AppError> {
    let q = ap::table
        .filter(ap::campaign_id.eq(campaign_id))
        .filter(ap::status.eq(ApplicationStatus::Approved))
        .select((ap::id, ap::registration_no, ap::family_id, ap::catchment_school_id, ap::zone_id, ap::category, ap::priority_json))
        .into_boxed();
    let q = if zone {
        q.filter(ap::zone_id.eq(unit_id.to_string()))
    } else {
        q.filter(ap::catchment_school_id.eq(unit_id.to_string())).filter(ap::zone_id.is_null())
    };
    Ok(q.load(conn)?)
}

/// The frozen draw holding an application, if any.
pub fn draw_of_application(conn: &mut DbConn, application_id: &str) -> Result<Option<String>, AppError> {
    Ok(de::table.filter(de::application_id.eq(application_id)).select(de::draw_id).first(conn).optional()?)
}

/// A frozen draw's application by registration number.
pub fn entry_by_no(conn: &mut DbConn, draw_id: &str, registration_no: &str) -> Result<Option<DrawEntry>, AppError> {
    Ok(de::table
        .filter(de::draw_id.eq(draw_id))
        .filter(de::registration_no.eq(registration_no))
        .select(DrawEntry::as_select())
        .first(conn)
        .optional()?)
}

/// A draw's roster as the public page shows it: registration number,
/// category and the child's masked name.
pub fn public_roster(conn: &mut DbConn, draw_id: &str) -> Result<Vec<(String, Option<String>, String)>, AppError> {
    Ok(de::table
        .inner_join(ap::table.on(ap::id.eq(de::application_id)))
        .inner_join(ch::table.on(ch::id.eq(ap::child_id)))
        .filter(de::draw_id.eq(draw_id))
        .order(de::registration_no.asc())
        .select((de::registration_no, de::category, ch::name))
        .load(conn)?)
}

pub fn entries(conn: &mut DbConn, draw_id: &str) -> Result<Vec<DrawEntry>, AppError> {
    Ok(de::table.filter(de::draw_id.eq(draw_id)).order(de::registration_no.asc()).select(DrawEntry::as_select()).load(conn)?)
}

// ---------------------------------------------------------------- witnesses

pub fn witnesses(conn: &mut DbConn, draw_id: &str) -> Result<Vec<DrawWitness>, AppError> {
    Ok(dw::table.filter(dw::draw_id.eq(draw_id)).order(dw::seq.asc()).select(DrawWitness::as_select()).load(conn)?)
}

pub fn witness(conn: &mut DbConn, id: &str) -> Result<Option<DrawWitness>, AppError> {
    Ok(dw::table.find(id).select(DrawWitness::as_select()).first(conn).optional()?)
}

pub fn witness_by_token(conn: &mut DbConn, token_hash: &str) -> Result<Option<DrawWitness>, AppError> {
    Ok(dw::table.filter(dw::token_hash.eq(token_hash)).select(DrawWitness::as_select()).first(conn).optional()?)
}

pub fn insert_witness(conn: &mut DbConn, w: &DrawWitness) -> Result<(), AppError> {
    diesel::insert_into(dw::table).values(w).execute(conn)?;
    Ok(())
}

/// Store a commitment once: false when the witness had committed already.
pub fn set_commitment(conn: &mut DbConn, id: &str, commitment: &str, at: NaiveDateTime) -> Result<bool, AppError> {
    let n = diesel::update(dw::table.filter(dw::id.eq(id)).filter(dw::commitment.is_null()))
        .set((dw::commitment.eq(commitment), dw::committed_at.eq(at)))
        .execute(conn)?;
    Ok(n == 1)
}

/// Store a revealed value once: false when it was revealed already.
pub fn set_value(conn: &mut DbConn, id: &str, value: &str, at: NaiveDateTime) -> Result<bool, AppError> {
    let n = diesel::update(dw::table.filter(dw::id.eq(id)).filter(dw::value.is_null()))
        .set((dw::value.eq(value), dw::revealed_at.eq(at), dw::token_hash.eq(None::<String>)))
        .execute(conn)?;
    Ok(n == 1)
}

// ---------------------------------------------------------------- steps

/// The announcement's columns.
pub struct Announced<'a> {
    pub scheduled_at: NaiveDateTime,
    pub beacon_round: i64,
    pub json: &'a str,
    pub digest: &'a str,
    pub jws: &'a str,
    pub at: NaiveDateTime,
}

/// Frozen → announced, once.
pub fn set_announced(conn: &mut DbConn, id: &str, a: &Announced) -> Result<bool, AppError> {
    let n = diesel::update(draws::table.filter(draws::id.eq(id)).filter(draws::status.eq(DrawStatus::Frozen)))
        .set((
            draws::status.eq(DrawStatus::Announced),
            draws::scheduled_at.eq(a.scheduled_at),
            draws::beacon_round.eq(a.beacon_round),
            draws::announcement_json.eq(a.json),
            draws::announcement_digest.eq(a.digest),
            draws::signature.eq(a.jws),
            draws::announced_at.eq(a.at),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Store the checked beacon value once.
pub fn set_beacon(conn: &mut DbConn, id: &str, value: &str) -> Result<bool, AppError> {
    let n = diesel::update(draws::table.filter(draws::id.eq(id)).filter(draws::beacon_value.is_null()))
        .set(draws::beacon_value.eq(value))
        .execute(conn)?;
    Ok(n == 1)
}

/// The computed record's columns.
pub struct Computed<'a> {
    pub record: &'a str,
    pub record_digest: &'a str,
    pub result_digest: &'a str,
    pub at: NaiveDateTime,
}

/// Store the record, once: false when another run stored it first (the
/// row is then left as that run wrote it).
pub fn set_record(conn: &mut DbConn, id: &str, c: &Computed) -> Result<bool, AppError> {
    let n = diesel::update(
        draws::table.filter(draws::id.eq(id)).filter(draws::status.eq(DrawStatus::Announced)).filter(draws::record_json.is_null()),
    )
    .set((
        draws::status.eq(DrawStatus::Drawn),
        draws::record_json.eq(c.record),
        draws::record_digest.eq(c.record_digest),
        draws::result_digest.eq(c.result_digest),
        draws::computed_at.eq(c.at),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn set_published(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> Result<bool, AppError> {
    let n = diesel::update(
        draws::table.filter(draws::id.eq(id)).filter(draws::status.eq(DrawStatus::Drawn)).filter(draws::published_at.is_null()),
    )
    .set(draws::published_at.eq(at))
    .execute(conn)?;
    Ok(n == 1)
}
