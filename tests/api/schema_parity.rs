//! Schema parity (STYLE habit 10): the SQLite and PostgreSQL migrations yield the
//! same tables and columns.

use std::collections::BTreeSet;

use diesel::sql_types::Text;
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl, SqliteConnection};
use guild_tests::{TempPgDatabase, postgres_url};

#[derive(Debug, QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    nullable: String,
}

type Columns = BTreeSet<(String, String, bool)>;

const MIGRATIONS_TABLE: &str = "__diesel_schema_migrations";

fn sqlite_columns() -> Columns {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("parity.db");
    let url = format!("sqlite://{}", path.display());
    drop(guild_store::Store::open(&url, 2).expect("SQLite migrations run"));
    let mut conn =
        SqliteConnection::establish(&path.display().to_string()).expect("open the SQLite file");
    let rows: Vec<Column> = diesel::sql_query(
        "SELECT m.name AS table_name, p.name AS column_name, \
                CASE WHEN p.\"notnull\" = 1 OR p.pk > 0 THEN 'NO' ELSE 'YES' END AS nullable \
         FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations'",
    )
    .load(&mut conn)
    .expect("list SQLite columns");
    collect(rows)
}

fn postgres_columns(server: &str) -> Columns {
    let db = TempPgDatabase::create(server);
    drop(guild_store::Store::open(db.url(), 2).expect("PostgreSQL migrations run"));
    let mut conn = PgConnection::establish(db.url()).expect("connect to the test database");
    let rows: Vec<Column> = diesel::sql_query(
        "SELECT table_name::text AS table_name, column_name::text AS column_name, is_nullable::text AS nullable \
         FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
    )
    .load(&mut conn)
    .expect("list PostgreSQL columns");
    drop(conn);
    collect(rows)
}

fn collect(rows: Vec<Column>) -> Columns {
    rows.into_iter()
        .filter(|c| c.table_name != MIGRATIONS_TABLE)
        .map(|c| (c.table_name, c.column_name, c.nullable == "YES"))
        .collect()
}

fn names(columns: &Columns) -> BTreeSet<(String, String)> {
    columns
        .iter()
        .map(|(t, c, _)| (t.clone(), c.clone()))
        .collect()
}

fn report(label: &str, only_left: Vec<String>, only_right: Vec<String>) -> String {
    format!(
        "{label}\nonly in SQLite:\n  {}\nonly in PostgreSQL:\n  {}",
        only_left.join("\n  "),
        only_right.join("\n  ")
    )
}

/// Runs `check` with both column sets, or returns when PostgreSQL is not configured.
fn with_both(check: impl FnOnce(&Columns, &Columns)) {
    let Some(server) = postgres_url() else {
        eprintln!("skipped: {} is not set", guild_tests::POSTGRES_URL_VAR);
        return;
    };
    let sqlite = sqlite_columns();
    let postgres = postgres_columns(&server);
    check(&sqlite, &postgres);
}

#[test]
fn sqlite_migrations_create_the_expected_tables() {
    let tables: BTreeSet<String> = sqlite_columns().into_iter().map(|(t, _, _)| t).collect();
    for expected in [
        "organisations",
        "people",
        "users",
        "account_changes",
        "refresh_tokens",
        "login_failures",
        "audit_events",
        "idempotency_keys",
    ] {
        assert!(
            tables.contains(expected),
            "{expected} missing from {tables:?}"
        );
    }
}

#[test]
fn sqlite_and_postgres_have_the_same_tables_and_columns() {
    with_both(|sqlite, postgres| {
        let (s, p) = (names(sqlite), names(postgres));
        assert!(!s.is_empty() && !p.is_empty());
        let fmt = |set: BTreeSet<&(String, String)>| {
            set.into_iter()
                .map(|(t, c)| format!("{t}.{c}"))
                .collect::<Vec<_>>()
        };
        assert!(
            s == p,
            "{}",
            report(
                "the migrations disagree on tables/columns:",
                fmt(s.difference(&p).collect()),
                fmt(p.difference(&s).collect())
            )
        );
    });
}

#[test]
fn sqlite_and_postgres_agree_on_nullability() {
    with_both(|sqlite, postgres| {
        let fmt = |set: BTreeSet<&(String, String, bool)>| {
            set.into_iter()
                .map(|(t, c, n)| format!("{t}.{c} {}", if *n { "NULL" } else { "NOT NULL" }))
                .collect::<Vec<_>>()
        };
        assert!(
            sqlite == postgres,
            "{}",
            report(
                "the migrations disagree on nullability:",
                fmt(sqlite.difference(postgres).collect()),
                fmt(postgres.difference(sqlite).collect())
            )
        );
    });
}
