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
    }
}

diesel::table! {
    login_failures (id) {
        id -> Text,
        username -> Text,
        address -> Text,
        created_at -> Timestamp,
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
    }
}

diesel::joinable!(people -> organisations (organisation_id));
diesel::joinable!(account_changes -> organisations (organisation_id));
diesel::joinable!(refresh_tokens -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    organisations,
    people,
    users,
    account_changes,
    refresh_tokens,
    login_failures,
    audit_events,
    idempotency_keys,
);
