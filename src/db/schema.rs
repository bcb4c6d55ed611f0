// Diesel table definitions mirroring migrations/*/up.sql; keep the two in step
// (tests/schema_matches.rs compares them on both backends).
// Only SQL types both backends share: Text, Integer, BigInt, Bool, Timestamp, Date.

diesel::table! {
    townships (id) {
        id -> Text,
        code -> Text,
        name -> Text,
    }
}

diesel::table! {
    schools (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        kind -> Text,
        township_id -> Text,
        address -> Text,
        lat -> Nullable<Double>,
        lon -> Nullable<Double>,
    }
}

diesel::table! {
    campaigns (id) {
        id -> Text,
        year -> Integer,
        grade -> Integer,
        name -> Text,
        status -> Text,
        registration_opens -> Timestamp,
        registration_closes -> Timestamp,
        review_deadline -> Timestamp,
        draw_day -> Timestamp,
        offer_deadline -> Timestamp,
        min_age -> Integer,
        max_age -> Integer,
        age_cutoff -> Text,
        policy_toml -> Text,
        policy_version -> Text,
        policy_frozen_at -> Nullable<Timestamp>,
        four_eyes -> Bool,
        created_at -> Timestamp,
        supplement_expiry -> Text,
        appeal_days -> Integer,
        offer_days -> Integer,
    }
}

diesel::table! {
    school_plans (campaign_id, school_id) {
        campaign_id -> Text,
        school_id -> Text,
        planned_classes -> Integer,
        class_size_cap -> Integer,
    }
}

diesel::table! {
    zones (id) {
        id -> Text,
        campaign_id -> Text,
        code -> Text,
        name -> Text,
    }
}

diesel::table! {
    zone_schools (zone_id, school_id) {
        zone_id -> Text,
        school_id -> Text,
        position -> Integer,
    }
}

diesel::table! {
    catchment_rules (id) {
        id -> Text,
        campaign_id -> Text,
        position -> Integer,
        precedence -> Integer,
        kind -> Text,
        township -> Text,
        target_school_id -> Nullable<Text>,
        target_zone_id -> Nullable<Text>,
        rule_json -> Text,
    }
}

diesel::table! {
    guardians (id) {
        id -> Text,
        openid -> Text,
        unionid -> Nullable<Text>,
        name -> Text,
        relation -> Text,
        phone -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        email -> Nullable<Text>,
        notify_channels -> Text,
    }
}

diesel::table! {
    children (id) {
        id -> Text,
        campaign_id -> Text,
        guardian_id -> Text,
        name -> Text,
        id_number_enc -> Text,
        id_number_hash -> Text,
        id_number_masked -> Text,
        birth_date -> Date,
        sex -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    applications (id) {
        id -> Text,
        campaign_id -> Text,
        child_id -> Text,
        registration_no -> Text,
        status -> Text,
        facts_json -> Text,
        family_id -> Nullable<Text>,
        township_id -> Nullable<Text>,
        catchment_school_id -> Nullable<Text>,
        zone_id -> Nullable<Text>,
        category -> Nullable<Text>,
        priority_json -> Nullable<Text>,
        explanation -> Nullable<Text>,
        idempotency_key -> Nullable<Text>,
        submitted_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
        assigned_township_id -> Nullable<Text>,
    }
}

diesel::table! {
    application_events (id) {
        id -> Text,
        application_id -> Text,
        at -> Timestamp,
        status -> Text,
        actor -> Text,
        note -> Text,
    }
}

diesel::table! {
    documents (id) {
        id -> Text,
        application_id -> Text,
        kind -> Text,
        content_hash -> Text,
        mime -> Text,
        size_bytes -> BigInt,
        uploaded_at -> Timestamp,
    }
}

diesel::table! {
    staff (id) {
        id -> Text,
        username -> Text,
        display_name -> Text,
        password_hash -> Text,
        role -> Text,
        township_scope -> Text,
        failed_logins -> Integer,
        locked_until -> Nullable<Timestamp>,
        token_version -> Integer,
        active -> Bool,
        created_at -> Timestamp,
        password_changed_at -> Timestamp,
    }
}

diesel::table! {
    staff_refresh_tokens (id) {
        id -> Text,
        staff_id -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    review_decisions (id) {
        id -> Text,
        application_id -> Text,
        reviewer_id -> Text,
        decision -> Text,
        reason_code -> Nullable<Text>,
        note -> Text,
        override_school_id -> Nullable<Text>,
        override_category -> Nullable<Text>,
        needs_second -> Bool,
        second_reviewer_id -> Nullable<Text>,
        second_at -> Nullable<Timestamp>,
        supplement_deadline -> Nullable<Timestamp>,
        created_at -> Timestamp,
        supplement_items -> Nullable<Text>,
    }
}

diesel::table! {
    draws (id) {
        id -> Text,
        campaign_id -> Text,
        draw_id -> Text,
        kind -> Text,
        unit_id -> Text,
        title -> Text,
        status -> Text,
        schools_json -> Text,
        roster_json -> Text,
        roster_root -> Text,
        roster_size -> Integer,
        scheduled_at -> Nullable<Timestamp>,
        beacon_round -> Nullable<BigInt>,
        announcement_json -> Nullable<Text>,
        announcement_digest -> Nullable<Text>,
        signature -> Nullable<Text>,
        beacon_value -> Nullable<Text>,
        record_json -> Nullable<Text>,
        record_digest -> Nullable<Text>,
        result_digest -> Nullable<Text>,
        frozen_by -> Text,
        created_at -> Timestamp,
        announced_at -> Nullable<Timestamp>,
        computed_at -> Nullable<Timestamp>,
        published_at -> Nullable<Timestamp>,
    }
}

// Draw day (migrations/2026-12-04-000100_draw_day): a frozen draw's
// applications and its witnesses; see src/service/draw.rs.
diesel::table! {
    draw_entries (draw_id, application_id) {
        draw_id -> Text,
        application_id -> Text,
        registration_no -> Text,
        category -> Nullable<Text>,
    }
}

diesel::table! {
    draw_witnesses (id) {
        id -> Text,
        draw_id -> Text,
        seq -> Integer,
        source_name -> Text,
        name -> Text,
        role -> Text,
        token_hash -> Nullable<Text>,
        token_expires_at -> Nullable<Timestamp>,
        commitment -> Nullable<Text>,
        committed_at -> Nullable<Timestamp>,
        value -> Nullable<Text>,
        revealed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    offers (id) {
        id -> Text,
        application_id -> Text,
        school_id -> Text,
        draw_id -> Nullable<Text>,
        status -> Text,
        deadline -> Timestamp,
        offered_at -> Timestamp,
        responded_at -> Nullable<Timestamp>,
        source -> Text,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        dedup_key -> Text,
        event -> Text,
        campaign_id -> Nullable<Text>,
        application_id -> Nullable<Text>,
        guardian_id -> Nullable<Text>,
        channel -> Text,
        recipient -> Text,
        subject -> Text,
        body -> Text,
        data_json -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_expires_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    idempotency_keys (key) {
        key -> Text,
        scope -> Text,
        response_json -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    counters (name) {
        name -> Text,
        value -> BigInt,
    }
}

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        target -> Text,
        before_json -> Nullable<Text>,
        after_json -> Nullable<Text>,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::joinable!(schools -> townships (township_id));
diesel::joinable!(school_plans -> campaigns (campaign_id));
diesel::joinable!(school_plans -> schools (school_id));
diesel::joinable!(zones -> campaigns (campaign_id));
diesel::joinable!(zone_schools -> zones (zone_id));
diesel::joinable!(zone_schools -> schools (school_id));
diesel::joinable!(catchment_rules -> campaigns (campaign_id));
diesel::joinable!(catchment_rules -> schools (target_school_id));
diesel::joinable!(catchment_rules -> zones (target_zone_id));
diesel::joinable!(children -> campaigns (campaign_id));
diesel::joinable!(children -> guardians (guardian_id));
diesel::joinable!(applications -> campaigns (campaign_id));
diesel::joinable!(applications -> children (child_id));
diesel::joinable!(applications -> townships (township_id));
diesel::joinable!(applications -> schools (catchment_school_id));
diesel::joinable!(applications -> zones (zone_id));
diesel::joinable!(application_events -> applications (application_id));
diesel::joinable!(documents -> applications (application_id));
diesel::joinable!(staff_refresh_tokens -> staff (staff_id));
diesel::joinable!(review_decisions -> applications (application_id));
diesel::joinable!(review_decisions -> staff (reviewer_id));
diesel::joinable!(review_decisions -> schools (override_school_id));
diesel::joinable!(draws -> campaigns (campaign_id));
diesel::joinable!(offers -> applications (application_id));
diesel::joinable!(offers -> schools (school_id));
diesel::joinable!(offers -> draws (draw_id));
diesel::joinable!(draw_entries -> draws (draw_id));
diesel::joinable!(draw_entries -> applications (application_id));
diesel::joinable!(draw_witnesses -> draws (draw_id));

/// Calls the macro `$m` with every table of the schema, so that lists of
/// tables (diesel's join permission below, the schema test) are written once.
#[macro_export]
macro_rules! for_each_table {
    ($($m:ident)::+) => {
        $($m)::+! {
            townships,
            schools,
            campaigns,
            school_plans,
            zones,
            zone_schools,
            catchment_rules,
            guardians,
            children,
            applications,
            application_events,
            documents,
            staff,
            staff_refresh_tokens,
            review_decisions,
            draws,
            draw_entries,
            draw_witnesses,
            offers,
            notifications,
            idempotency_keys,
            counters,
            audit_log,
            registration_drafts,
            supplement_responses,
            appeals,
            rate_limits,
            wechat_tokens,
            waitlist_entries,
            waitlist_moves,
            placements,
        }
    };
}

crate::for_each_table!(diesel::allow_tables_to_appear_in_same_query);

// Registration drafts (migrations/*/2026-11-29-000400_registration_drafts): a
// guardian's registration in progress; see src/db/registration.rs.
diesel::table! {
    registration_drafts (id) {
        id -> Text,
        guardian_id -> Text,
        campaign_id -> Text,
        application_id -> Nullable<Text>,
        status -> Text,
        data_json -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

// Answers to supplement requests (migrations/2026-12-03-000300_supplement_answers);
// see src/review/supplement.rs.
diesel::table! {
    supplement_responses (id) {
        id -> Text,
        decision_id -> Text,
        application_id -> Text,
        outcome -> Text,
        reply -> Text,
        documents_json -> Text,
        changes_json -> Text,
        at -> Timestamp,
    }
}

diesel::joinable!(supplement_responses -> review_decisions (decision_id));
diesel::joinable!(supplement_responses -> applications (application_id));

// Appeals of rejections (migrations/2026-12-03-000310_appeals); see
// src/review/appeal.rs.
diesel::table! {
    appeals (id) {
        id -> Text,
        application_id -> Text,
        rejected_by -> Nullable<Text>,
        reason -> Text,
        filed_at -> Timestamp,
        outcome -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(appeals -> applications (application_id));

// Request counters (migrations/2026-12-04-000300_rate_limits): fixed
// windows per hashed bucket, shared by every instance; see src/db/ratelimit.rs.
diesel::table! {
    rate_limits (bucket, window_start) {
        bucket -> Text,
        window_start -> BigInt,
        hits -> Integer,
    }
}
// The outbox's WeChat access_token, shared by every instance
// (migrations/2026-12-04-000200_notify); see src/db/notify.rs.
diesel::table! {
    wechat_tokens (app_id) {
        app_id -> Text,
        access_token -> Text,
        expires_at -> Timestamp,
        refreshing_until -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}
diesel::joinable!(notifications -> campaigns (campaign_id));
diesel::joinable!(notifications -> applications (application_id));
diesel::joinable!(notifications -> guardians (guardian_id));
// After the draw (migrations/2026-12-04-000600_after_draw): waitlists, their
// moves and administrative placements.
diesel::table! {
    waitlist_entries (draw_id, school_id, application_id) {
        draw_id -> Text,
        school_id -> Text,
        application_id -> Text,
        registration_no -> Text,
        position -> Integer,
        status -> Text,
    }
}

diesel::table! {
    waitlist_moves (id) {
        id -> Text,
        campaign_id -> Text,
        school_id -> Text,
        seq -> Integer,
        at -> Timestamp,
        cause -> Text,
        freed_registration_no -> Text,
        offered_registration_no -> Nullable<Text>,
        waitlist_position -> Nullable<Integer>,
        offer_id -> Nullable<Text>,
    }
}

diesel::table! {
    placements (id) {
        id -> Text,
        campaign_id -> Text,
        application_id -> Text,
        school_id -> Text,
        reason -> Text,
        status -> Text,
        proposed_by -> Text,
        proposed_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        offer_id -> Nullable<Text>,
    }
}

diesel::joinable!(waitlist_entries -> applications (application_id));
diesel::joinable!(waitlist_entries -> schools (school_id));
diesel::joinable!(placements -> applications (application_id));
diesel::joinable!(placements -> schools (school_id));
