//! Queries for offers, waitlists, their moves and administrative placements
//! (issue #12). No rules here: `service::offers` decides.

use super::models::{Application, ApplicationEvent, Offer, Placement, WaitlistEntry, WaitlistMove};
use super::schema::{
    applications as ap, children as ch, draw_entries as de, offers as of, placements as pl, schools as sc, waitlist_entries as we,
    waitlist_moves as wm,
};
use super::DbConn;
use crate::domain::ApplicationStatus;
use crate::error::AppError;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// `(registration_no, application_id)` of a draw's entries.
pub fn entries_of(conn: &mut DbConn, draw_id: &str) -> Result<Vec<(String, String, Option<String>)>, AppError> {
    Ok(de::table.filter(de::draw_id.eq(draw_id)).select((de::registration_no, de::application_id, de::category)).load(conn)?)
}

pub fn offers_of_draw(conn: &mut DbConn, draw_id: &str) -> Result<i64, AppError> {
    Ok(of::table.filter(of::draw_id.eq(draw_id)).count().get_result(conn)?)
}

pub fn insert_offer(conn: &mut DbConn, o: &Offer) -> Result<(), AppError> {
    diesel::insert_into(of::table).values(o).execute(conn)?;
    Ok(())
}

pub fn offer(conn: &mut DbConn, id: &str) -> Result<Option<Offer>, AppError> {
    Ok(of::table.filter(of::id.eq(id)).select(Offer::as_select()).first(conn).optional()?)
}

/// Every offer of an application, oldest first.
pub fn offers_of_app(conn: &mut DbConn, app_id: &str) -> Result<Vec<Offer>, AppError> {
    Ok(of::table.filter(of::application_id.eq(app_id)).order((of::offered_at.asc(), of::id.asc())).select(Offer::as_select()).load(conn)?)
}

/// The open or accepted offer of an application, if any.
pub fn live_offer(conn: &mut DbConn, app_id: &str) -> Result<Option<Offer>, AppError> {
    Ok(of::table
        .filter(of::application_id.eq(app_id))
        .filter(of::status.eq_any(["offered", "accepted"]))
        .select(Offer::as_select())
        .first(conn)
        .optional()?)
}

/// Sets an offer's status if it is still `from`; false when it moved first.
pub fn set_offer_status(
    conn: &mut DbConn,
    id: &str,
    from: &[&str],
    to: &str,
    at: NaiveDateTime,
    note: Option<&str>,
) -> Result<bool, AppError> {
    let n = diesel::update(of::table.filter(of::id.eq(id)).filter(of::status.eq_any(from)))
        .set((of::status.eq(to), of::responded_at.eq(Some(at)), of::note.eq(note)))
        .execute(conn)?;
    Ok(n == 1)
}

/// Open offers past their deadline, oldest deadline first (then id).
pub fn overdue_offers(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> Result<Vec<Offer>, AppError> {
    Ok(of::table
        .filter(of::status.eq("offered"))
        .filter(of::deadline.lt(now))
        .order((of::deadline.asc(), of::id.asc()))
        .limit(limit)
        .select(Offer::as_select())
        .load(conn)?)
}

/// Open and accepted offers at a school in a campaign.
pub fn seats_taken(conn: &mut DbConn, campaign_id: &str, school_id: &str) -> Result<i64, AppError> {
    let offers: i64 = of::table
        .inner_join(ap::table)
        .filter(ap::campaign_id.eq(campaign_id))
        .filter(of::school_id.eq(school_id))
        .filter(of::status.eq_any(["offered", "accepted"]))
        .count()
        .get_result(conn)?;
    let pending: i64 = pl::table
        .filter(pl::campaign_id.eq(campaign_id))
        .filter(pl::school_id.eq(school_id))
        .filter(pl::status.eq("pending"))
        .count()
        .get_result(conn)?;
    Ok(offers + pending)
}

/// `(school_id, status)` of every offer of a campaign, for counts.
pub fn campaign_offers(conn: &mut DbConn, campaign_id: &str) -> Result<Vec<(Offer, String)>, AppError> {
    Ok(of::table
        .inner_join(ap::table)
        .filter(ap::campaign_id.eq(campaign_id))
        .order((ap::registration_no.asc(), of::offered_at.asc(), of::id.asc()))
        .select((Offer::as_select(), ap::registration_no))
        .load(conn)?)
}

pub fn set_app_status(
    conn: &mut DbConn,
    app: &str,
    status: ApplicationStatus,
    at: NaiveDateTime,
    actor: &str,
    note: &str,
) -> Result<(), AppError> {
    diesel::update(ap::table.filter(ap::id.eq(app)))
        .set((ap::status.eq(status), ap::updated_at.eq(at), ap::version.eq(ap::version + 1)))
        .execute(conn)?;
    let e = ApplicationEvent {
        id: super::new_id(),
        application_id: app.to_string(),
        at,
        status,
        actor: actor.to_string(),
        note: note.to_string(),
    };
    diesel::insert_into(super::schema::application_events::table).values(&e).execute(conn)?;
    Ok(())
}

pub fn application(conn: &mut DbConn, id: &str) -> Result<Option<Application>, AppError> {
    Ok(ap::table.filter(ap::id.eq(id)).select(Application::as_select()).first(conn).optional()?)
}

pub fn application_by_no(conn: &mut DbConn, no: &str) -> Result<Option<Application>, AppError> {
    Ok(ap::table.filter(ap::registration_no.eq(no)).select(Application::as_select()).first(conn).optional()?)
}

/// A child's name and encrypted ID number.
pub fn child_name_and_id(conn: &mut DbConn, child_id: &str) -> Result<(String, String, String), AppError> {
    Ok(ch::table.filter(ch::id.eq(child_id)).select((ch::name, ch::id_number_enc, ch::id_number_masked)).first(conn)?)
}

pub fn school_name(conn: &mut DbConn, id: &str) -> Result<String, AppError> {
    Ok(sc::table.filter(sc::id.eq(id)).select(sc::name).first(conn).optional()?.unwrap_or_else(|| id.to_string()))
}

// ---------------------------------------------------------------- waitlists

pub fn insert_waitlist(conn: &mut DbConn, rows: &[WaitlistEntry]) -> Result<(), AppError> {
    // MultiConnection has no batch insert: one row at a time, in the
    // caller's transaction.
    for r in rows {
        diesel::insert_into(we::table).values(r).execute(conn)?;
    }
    Ok(())
}

/// The first child still waiting at a school, in the record's order.
pub fn first_waiting(conn: &mut DbConn, draw_id: &str, school_id: &str) -> Result<Option<WaitlistEntry>, AppError> {
    Ok(we::table
        .filter(we::draw_id.eq(draw_id))
        .filter(we::school_id.eq(school_id))
        .filter(we::status.eq("waiting"))
        .order(we::position.asc())
        .select(WaitlistEntry::as_select())
        .first(conn)
        .optional()?)
}

pub fn waitlist_of_app(conn: &mut DbConn, app_id: &str) -> Result<Vec<WaitlistEntry>, AppError> {
    Ok(we::table.filter(we::application_id.eq(app_id)).order(we::position.asc()).select(WaitlistEntry::as_select()).load(conn)?)
}

pub fn waitlist_of_school(conn: &mut DbConn, school_id: &str) -> Result<Vec<WaitlistEntry>, AppError> {
    Ok(we::table
        .filter(we::school_id.eq(school_id))
        .order((we::draw_id.asc(), we::position.asc()))
        .select(WaitlistEntry::as_select())
        .load(conn)?)
}

pub fn set_waitlist_status(conn: &mut DbConn, draw_id: &str, school_id: &str, app_id: &str, status: &str) -> Result<(), AppError> {
    diesel::update(we::table.filter(we::draw_id.eq(draw_id)).filter(we::school_id.eq(school_id)).filter(we::application_id.eq(app_id)))
        .set(we::status.eq(status))
        .execute(conn)?;
    Ok(())
}

/// Every waiting entry of an application leaves its waitlists.
pub fn leave_all_waitlists(conn: &mut DbConn, app_id: &str) -> Result<(), AppError> {
    diesel::update(we::table.filter(we::application_id.eq(app_id)).filter(we::status.eq("waiting")))
        .set(we::status.eq("left"))
        .execute(conn)?;
    Ok(())
}

pub fn next_move_seq(conn: &mut DbConn, campaign_id: &str, school_id: &str) -> Result<i32, AppError> {
    let max: Option<i32> = wm::table
        .filter(wm::campaign_id.eq(campaign_id))
        .filter(wm::school_id.eq(school_id))
        .select(diesel::dsl::max(wm::seq))
        .first(conn)?;
    Ok(max.unwrap_or(0) + 1)
}

pub fn insert_move(conn: &mut DbConn, m: &WaitlistMove) -> Result<(), AppError> {
    diesel::insert_into(wm::table).values(m).execute(conn)?;
    Ok(())
}

pub fn moves_of_school(conn: &mut DbConn, campaign_id: &str, school_id: &str) -> Result<Vec<WaitlistMove>, AppError> {
    Ok(wm::table
        .filter(wm::campaign_id.eq(campaign_id))
        .filter(wm::school_id.eq(school_id))
        .order(wm::seq.asc())
        .select(WaitlistMove::as_select())
        .load(conn)?)
}

// ---------------------------------------------------------------- placements

pub fn insert_placement(conn: &mut DbConn, p: &Placement) -> Result<(), AppError> {
    diesel::insert_into(pl::table).values(p).execute(conn)?;
    Ok(())
}

pub fn placement(conn: &mut DbConn, id: &str) -> Result<Option<Placement>, AppError> {
    Ok(pl::table.filter(pl::id.eq(id)).select(Placement::as_select()).first(conn).optional()?)
}

pub fn placements_of(conn: &mut DbConn, campaign_id: &str) -> Result<Vec<Placement>, AppError> {
    Ok(pl::table
        .filter(pl::campaign_id.eq(campaign_id))
        .order((pl::proposed_at.asc(), pl::id.asc()))
        .select(Placement::as_select())
        .load(conn)?)
}

pub fn pending_placement_of_app(conn: &mut DbConn, app_id: &str) -> Result<Option<Placement>, AppError> {
    Ok(pl::table
        .filter(pl::application_id.eq(app_id))
        .filter(pl::status.eq("pending"))
        .select(Placement::as_select())
        .first(conn)
        .optional()?)
}

/// Decides a pending placement; false when it was decided first.
pub fn decide_placement(
    conn: &mut DbConn,
    id: &str,
    status: &str,
    by: &str,
    at: NaiveDateTime,
    offer_id: Option<&str>,
) -> Result<bool, AppError> {
    let n = diesel::update(pl::table.filter(pl::id.eq(id)).filter(pl::status.eq("pending")))
        .set((pl::status.eq(status), pl::decided_by.eq(Some(by)), pl::decided_at.eq(Some(at)), pl::offer_id.eq(offer_id)))
        .execute(conn)?;
    Ok(n == 1)
}

/// Applications of a campaign in the given statuses, by registration number.
pub fn applications_in(conn: &mut DbConn, campaign_id: &str, statuses: &[ApplicationStatus]) -> Result<Vec<Application>, AppError> {
    Ok(ap::table
        .filter(ap::campaign_id.eq(campaign_id))
        .filter(ap::status.eq_any(statuses.to_vec()))
        .order(ap::registration_no.asc())
        .select(Application::as_select())
        .load(conn)?)
}
