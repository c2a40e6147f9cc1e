//! The portable Diesel schema shared by SQLite and PostgreSQL.
//!
//! Only SQL types that `#[derive(MultiConnection)]` understands appear here:
//! UUIDs and enums are `Text`, instants are `Timestamp` holding UTC.

diesel::table! {
    organisations (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        credit_code -> Nullable<Text>,
        region -> Nullable<Text>,
        contact_name -> Nullable<Text>,
        contact_phone -> Nullable<Text>,
        address -> Nullable<Text>,
        status -> Text,
        status_reason -> Nullable<Text>,
        version -> Integer,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    people (id) {
        id -> Text,
        name -> Text,
        gender -> Text,
        id_type -> Text,
        id_number -> Text,
        phone -> Nullable<Text>,
        organisation_id -> Nullable<Text>,
        category -> Nullable<Text>,
        occupation -> Nullable<Text>,
        skill_level -> Nullable<Text>,
        skill_certificate_number -> Nullable<Text>,
        skill_certificate_issued_on -> Nullable<Date>,
        version -> Integer,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        display_name -> Text,
        password_hash -> Text,
        role -> Text,
        organisation_id -> Nullable<Text>,
        person_id -> Nullable<Text>,
        status -> Text,
        token_version -> Integer,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    account_changes (id) {
        id -> Text,
        organisation_id -> Text,
        role -> Text,
        username -> Text,
        display_name -> Text,
        password_hash -> Text,
        replaces_user_id -> Nullable<Text>,
        reason -> Text,
        status -> Text,
        submitted_by -> Text,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        decision_reason -> Nullable<Text>,
        created_user_id -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        user_id -> Text,
        family_id -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Text,
        username -> Text,
        address -> Text,
        created_at -> Timestamp,
        kind -> Text,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        occurred_at -> Timestamp,
        actor_user_id -> Nullable<Text>,
        actor_role -> Nullable<Text>,
        action -> Text,
        entity_type -> Text,
        entity_id -> Text,
        organisation_id -> Nullable<Text>,
        before_json -> Nullable<Text>,
        after_json -> Nullable<Text>,
        request_id -> Nullable<Text>,
        address -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (id) {
        id -> Text,
        scope -> Text,
        idempotency_key -> Text,
        method -> Text,
        path -> Text,
        request_hash -> Text,
        status_code -> Nullable<Integer>,
        response_body -> Nullable<Text>,
        content_type -> Nullable<Text>,
        created_at -> Timestamp,
        completed_at -> Nullable<Timestamp>,
        location -> Nullable<Text>,
        etag -> Nullable<Text>,
    }
}

diesel::table! {
    programs (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        description -> Nullable<Text>,
        target_categories -> Text,
        training_fee_fen -> BigInt,
        exam_fee_fen -> BigInt,
        theory_mode -> Nullable<Text>,
        theory_pass_mark -> Nullable<Integer>,
        practical_pass_mark -> Nullable<Integer>,
        skill_level -> Bool,
        certificate_name -> Text,
        validity_years -> Integer,
        status -> Text,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    plans (id) {
        id -> Text,
        year -> Integer,
        title -> Text,
        items_json -> Text,
        notes -> Nullable<Text>,
        status -> Text,
        latest_version -> Integer,
        published_at -> Nullable<Timestamp>,
        version -> Integer,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    plan_versions (id) {
        id -> Text,
        plan_id -> Text,
        number -> Integer,
        title -> Text,
        items_json -> Text,
        notes -> Nullable<Text>,
        change_note -> Nullable<Text>,
        published_by -> Text,
        published_at -> Timestamp,
    }
}

diesel::table! {
    terms (id) {
        id -> Text,
        name -> Text,
        starts_on -> Date,
        ends_on -> Date,
        created_at -> Timestamp,
    }
}

diesel::table! {
    teacher_appointments (id) {
        id -> Text,
        user_id -> Text,
        term_id -> Text,
        subjects -> Nullable<Text>,
        status -> Text,
        appointed_by -> Text,
        dismissed_at -> Nullable<Timestamp>,
        dismissed_by -> Nullable<Text>,
        dismissal_reason -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    notices (id) {
        id -> Text,
        kind -> Text,
        title -> Text,
        body -> Text,
        entity_type -> Text,
        entity_id -> Text,
        published_at -> Timestamp,
    }
}

diesel::table! {
    classes (id) {
        id -> Text,
        program_id -> Text,
        code -> Text,
        title -> Text,
        year -> Integer,
        start_date -> Date,
        end_date -> Date,
        place -> Text,
        capacity -> Integer,
        class_head_user_id -> Nullable<Text>,
        status -> Text,
        cancellation_reason -> Nullable<Text>,
        version -> Integer,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        results_published_at -> Nullable<Timestamp>,
        results_published_by -> Nullable<Text>,
    }
}

diesel::table! {
    class_teachers (id) {
        id -> Text,
        class_id -> Text,
        user_id -> Text,
    }
}

diesel::table! {
    class_sessions (id) {
        id -> Text,
        class_id -> Text,
        session_date -> Date,
        starts_at -> Time,
        ends_at -> Time,
        topic -> Text,
        teacher_user_id -> Nullable<Text>,
    }
}

diesel::table! {
    checklist_items (id) {
        id -> Text,
        class_id -> Text,
        position -> Integer,
        label -> Text,
        mandatory -> Bool,
        checked_by -> Nullable<Text>,
        checked_at -> Nullable<Timestamp>,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    enrolments (id) {
        id -> Text,
        class_id -> Text,
        person_id -> Text,
        organisation_id -> Nullable<Text>,
        channel -> Text,
        status -> Text,
        submitted_at -> Nullable<Timestamp>,
        org_approved_by -> Nullable<Text>,
        org_approved_at -> Nullable<Timestamp>,
        confirmed_by -> Nullable<Text>,
        confirmed_at -> Nullable<Timestamp>,
        waitlisted_at -> Nullable<Timestamp>,
        paid_at -> Nullable<Timestamp>,
        notified_at -> Nullable<Timestamp>,
        rejected_by -> Nullable<Text>,
        rejected_at -> Nullable<Timestamp>,
        rejection_reason -> Nullable<Text>,
        transferred_from_id -> Nullable<Text>,
        created_by -> Text,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    ledger_entries (id) {
        id -> Text,
        enrolment_id -> Text,
        kind -> Text,
        item -> Text,
        amount_fen -> BigInt,
        reference -> Nullable<Text>,
        note -> Nullable<Text>,
        recorded_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        recipient_user_id -> Text,
        kind -> Text,
        title -> Text,
        body -> Text,
        entity_type -> Text,
        entity_id -> Text,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    bans (id) {
        id -> Text,
        person_id -> Text,
        scope -> Text,
        program_id -> Nullable<Text>,
        starts_on -> Date,
        ends_on -> Date,
        reason -> Text,
        rule -> Text,
        sanction_id -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        withdrawn_at -> Nullable<Timestamp>,
        withdrawn_by -> Nullable<Text>,
        withdrawal_reason -> Nullable<Text>,
    }
}

diesel::table! {
    deferrals (id) {
        id -> Text,
        enrolment_id -> Text,
        organisation_id -> Nullable<Text>,
        letter_reference -> Text,
        reason -> Text,
        status -> Text,
        filed_by -> Text,
        filed_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        decision_reason -> Nullable<Text>,
        transferred_to_id -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    substitutions (id) {
        id -> Text,
        enrolment_id -> Text,
        organisation_id -> Nullable<Text>,
        old_person_id -> Text,
        new_person_id -> Text,
        reason -> Text,
        status -> Text,
        filed_by -> Text,
        filed_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        decision_reason -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    refunds (id) {
        id -> Text,
        enrolment_id -> Text,
        organisation_id -> Nullable<Text>,
        kind -> Text,
        amount_fen -> BigInt,
        deferral_id -> Nullable<Text>,
        reason -> Text,
        status -> Text,
        requested_by -> Text,
        requested_at -> Timestamp,
        training_confirmed_by -> Nullable<Text>,
        training_confirmed_at -> Nullable<Timestamp>,
        finance_confirmed_by -> Nullable<Text>,
        finance_confirmed_at -> Nullable<Timestamp>,
        leader_approved_by -> Nullable<Text>,
        leader_approved_at -> Nullable<Timestamp>,
        paid_by -> Nullable<Text>,
        paid_at -> Nullable<Timestamp>,
        payment_reference -> Nullable<Text>,
        rejected_by -> Nullable<Text>,
        rejected_at -> Nullable<Timestamp>,
        rejection_reason -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    attendance_records (id) {
        id -> Text,
        class_id -> Text,
        session_id -> Text,
        enrolment_id -> Text,
        status -> Text,
        note -> Nullable<Text>,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    leave_requests (id) {
        id -> Text,
        enrolment_id -> Text,
        session_id -> Text,
        organisation_id -> Nullable<Text>,
        reason -> Text,
        status -> Text,
        filed_by -> Text,
        filed_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        decision_reason -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sittings (id) {
        id -> Text,
        class_id -> Text,
        kind -> Text,
        held_on -> Date,
        starts_at -> Time,
        place -> Text,
        status -> Text,
        version -> Integer,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    exam_registrations (id) {
        id -> Text,
        sitting_id -> Text,
        enrolment_id -> Text,
        person_id -> Text,
        attempt -> Integer,
        charged -> Bool,
        status -> Text,
        theory_score -> Nullable<Integer>,
        practical_score -> Nullable<Integer>,
        passed -> Nullable<Bool>,
        result_entered_by -> Nullable<Text>,
        result_entered_at -> Nullable<Timestamp>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sanctions (id) {
        id -> Text,
        sitting_id -> Text,
        registration_id -> Text,
        person_id -> Text,
        organisation_id -> Nullable<Text>,
        offence -> Text,
        outcome -> Text,
        rule -> Text,
        description -> Text,
        evidence_reference -> Text,
        invigilator_user_id -> Text,
        occurred_at -> Timestamp,
        ban_id -> Nullable<Text>,
        employer_notified_at -> Nullable<Timestamp>,
        status -> Text,
        withdrawn_by -> Nullable<Text>,
        withdrawn_at -> Nullable<Timestamp>,
        withdrawal_reason -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    misconduct_entries (id) {
        id -> Text,
        person_id -> Nullable<Text>,
        organisation_id -> Nullable<Text>,
        offence -> Text,
        sanction_summary -> Text,
        starts_on -> Date,
        ends_on -> Nullable<Date>,
        sanction_id -> Nullable<Text>,
        status -> Text,
        withdrawal_reason -> Nullable<Text>,
        withdrawn_at -> Nullable<Timestamp>,
        published_at -> Timestamp,
    }
}

diesel::table! {
    certificates (id) {
        id -> Text,
        number -> Text,
        code -> Text,
        person_id -> Text,
        organisation_id -> Nullable<Text>,
        holder_name -> Text,
        program_id -> Text,
        class_id -> Nullable<Text>,
        enrolment_id -> Nullable<Text>,
        registration_id -> Nullable<Text>,
        issued_on -> Date,
        validity_years -> Integer,
        period_started_on -> Date,
        valid_until -> Date,
        renewals -> Integer,
        status -> Text,
        replaces_id -> Nullable<Text>,
        superseded_by_id -> Nullable<Text>,
        ended_at -> Nullable<Timestamp>,
        end_reason -> Nullable<Text>,
        issued_by -> Text,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    certificate_numbers (year) {
        year -> Integer,
        last_number -> Integer,
    }
}

diesel::table! {
    certificate_ce_records (id) {
        id -> Text,
        certificate_id -> Text,
        person_id -> Text,
        kind -> Text,
        title -> Text,
        hours -> Integer,
        completed_on -> Date,
        evidence_reference -> Nullable<Text>,
        period_ended_on -> Date,
        renewed_until -> Nullable<Date>,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    certificate_requests (id) {
        id -> Text,
        certificate_id -> Text,
        kind -> Text,
        organisation_id -> Nullable<Text>,
        person_id -> Text,
        reason -> Text,
        new_holder_name -> Nullable<Text>,
        new_organisation_id -> Nullable<Text>,
        physical_card -> Bool,
        card_fee_fen -> BigInt,
        status -> Text,
        filed_by -> Text,
        filed_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        decision_reason -> Nullable<Text>,
        new_certificate_id -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    forgery_reports (id) {
        id -> Text,
        person_id -> Nullable<Text>,
        organisation_id -> Nullable<Text>,
        claimed_number -> Nullable<Text>,
        certificate_id -> Nullable<Text>,
        description -> Text,
        evidence_reference -> Text,
        misconduct_entry_id -> Text,
        reported_by -> Text,
        reported_at -> Timestamp,
    }
}

diesel::table! {
    signing_keys (id) {
        id -> Text,
        algorithm -> Text,
        public_key -> Text,
        private_key -> Text,
        status -> Text,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    calendar_days (day) {
        day -> Date,
        kind -> Text,
        name -> Text,
        updated_by -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    archives (id) {
        id -> Text,
        class_id -> Text,
        results_published_at -> Timestamp,
        status -> Text,
        completed_by -> Nullable<Text>,
        completed_at -> Nullable<Timestamp>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    archive_documents (id) {
        id -> Text,
        archive_id -> Text,
        kind -> Text,
        reference -> Text,
        note -> Nullable<Text>,
        attached_by -> Text,
        attached_at -> Timestamp,
    }
}

diesel::table! {
    ce_providers (id) {
        id -> Text,
        organisation_id -> Text,
        name -> Text,
        region -> Text,
        status -> Text,
        conditions_json -> Text,
        scope -> Text,
        content -> Text,
        fee_items_json -> Text,
        standards -> Text,
        contact_phone -> Nullable<Text>,
        status_reason -> Nullable<Text>,
        applied_by -> Text,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    ce_activities (id) {
        id -> Text,
        provider_id -> Nullable<Text>,
        organisation_id -> Text,
        source -> Text,
        title -> Text,
        subject_category -> Text,
        credits -> Integer,
        hours -> Integer,
        fee_fen -> BigInt,
        held_on -> Date,
        year -> Integer,
        has_exam -> Bool,
        region -> Text,
        evidence_json -> Text,
        status -> Text,
        review_reason -> Nullable<Text>,
        reviewed_by -> Nullable<Text>,
        reviewed_at -> Nullable<Timestamp>,
        created_by -> Text,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    ce_credits (id) {
        id -> Text,
        activity_id -> Text,
        person_id -> Text,
        year -> Integer,
        earned_on -> Date,
        source -> Text,
        subject_category -> Text,
        credits -> Integer,
        hours -> Integer,
        fee_fen -> BigInt,
        exam_based -> Bool,
        exam_score -> Nullable<Integer>,
        exam_passed -> Nullable<Bool>,
        provider_id -> Nullable<Text>,
        organisation_id -> Nullable<Text>,
        occupation -> Nullable<Text>,
        region -> Nullable<Text>,
        evidence_json -> Text,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    ce_person_years (person_id,year) {
        person_id -> Text,
        year -> Integer,
        region -> Nullable<Text>,
        organisation_id -> Nullable<Text>,
        occupation -> Nullable<Text>,
        total_credits -> Integer,
        public_credits -> Integer,
        professional_credits -> Integer,
        exam_credits -> Integer,
        hours -> Integer,
        fee_fen -> BigInt,
        records -> Integer,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    ce_requirements (region) {
        region -> Text,
        total_credits -> Integer,
        public_credits -> Integer,
        professional_credits -> Integer,
        exam_credits -> Integer,
        version -> Integer,
        updated_by -> Text,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(people -> organisations (organisation_id));
diesel::joinable!(account_changes -> organisations (organisation_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(classes -> programs (program_id));
diesel::joinable!(enrolments -> classes (class_id));
diesel::joinable!(enrolments -> people (person_id));
diesel::joinable!(ledger_entries -> enrolments (enrolment_id));
diesel::joinable!(plan_versions -> plans (plan_id));
diesel::joinable!(teacher_appointments -> terms (term_id));
diesel::joinable!(checklist_items -> classes (class_id));
diesel::joinable!(class_sessions -> classes (class_id));
diesel::joinable!(class_teachers -> classes (class_id));
diesel::joinable!(deferrals -> enrolments (enrolment_id));
diesel::joinable!(substitutions -> enrolments (enrolment_id));
diesel::joinable!(refunds -> enrolments (enrolment_id));
diesel::joinable!(exam_registrations -> sittings (sitting_id));
diesel::joinable!(sittings -> classes (class_id));
diesel::joinable!(sanctions -> exam_registrations (registration_id));

diesel::joinable!(certificates -> people (person_id));
diesel::joinable!(certificates -> programs (program_id));
diesel::joinable!(certificate_ce_records -> certificates (certificate_id));
diesel::joinable!(certificate_requests -> certificates (certificate_id));
diesel::joinable!(archives -> classes (class_id));
diesel::joinable!(archive_documents -> archives (archive_id));
diesel::joinable!(ce_activities -> ce_providers (provider_id));
diesel::joinable!(ce_credits -> ce_activities (activity_id));

diesel::table! {
    outbox (id) {
        id -> Text,
        kind -> Text,
        entity_type -> Text,
        entity_id -> Text,
        organisation_id -> Nullable<Text>,
        payload -> Text,
        created_at -> Timestamp,
        delivery_state -> Text,
        dispatched_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    worker_leases (name) {
        name -> Text,
        holder -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    webhook_subscriptions (id) {
        id -> Text,
        owner_user_id -> Text,
        owner_role -> Text,
        organisation_id -> Nullable<Text>,
        url -> Text,
        description -> Nullable<Text>,
        event_types -> Text,
        enabled -> Bool,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamp>,
        failing_since -> Nullable<Timestamp>,
        disabled_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    scheduled_events (kind, entity_id, occasion) {
        kind -> Text,
        entity_id -> Text,
        occasion -> Text,
        event_id -> Text,
        emitted_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        subscription_id -> Text,
        event_id -> Text,
        event_type -> Text,
        entity_type -> Text,
        entity_id -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        lease_token -> Nullable<Text>,
        last_status_code -> Nullable<Integer>,
        last_response_excerpt -> Nullable<Text>,
        last_error -> Nullable<Text>,
        last_attempt_at -> Nullable<Timestamp>,
        last_duration_ms -> Nullable<BigInt>,
        delivered_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_subscriptions (subscription_id));

diesel::allow_tables_to_appear_in_same_query!(
    outbox,
    webhook_subscriptions,
    webhook_deliveries,
    organisations,
    people,
    users,
    account_changes,
    refresh_tokens,
    login_failures,
    audit_events,
    idempotency_keys,
    programs,
    plans,
    plan_versions,
    terms,
    teacher_appointments,
    notices,
    classes,
    class_teachers,
    class_sessions,
    checklist_items,
    enrolments,
    ledger_entries,
    notifications,
    bans,
    deferrals,
    substitutions,
    refunds,
    attendance_records,
    leave_requests,
    sittings,
    exam_registrations,
    sanctions,
    misconduct_entries,
    certificates,
    certificate_numbers,
    certificate_ce_records,
    certificate_requests,
    forgery_reports,
    signing_keys,
    calendar_days,
    archives,
    archive_documents,
    ce_providers,
    ce_activities,
    ce_credits,
    ce_person_years,
    ce_requirements,
    worker_leases,
    scheduled_events,
);
