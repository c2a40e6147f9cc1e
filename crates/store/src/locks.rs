//! Row locks for read-modify-write changes (API-5).
//!
//! A change reads a row, decides, and writes it back with a version check.
//! On PostgreSQL (read committed) a concurrent change committed between the
//! read and the write makes the write find a newer version, which would
//! answer `412 version_mismatch` although the client named no version. Taking
//! the row lock before the read makes concurrent changes of one row run one
//! after the other, each deciding on the other's result (a second approval
//! then gets `409 invalid_transition`, not 412). SQLite needs nothing: the
//! store's write lock already serialises every write transaction.

use diesel::RunQueryDsl;
use diesel::sql_types::Text;

use crate::{DbConn, StoreError};

/// A table whose rows are changed by read-modify-write and locked first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locked {
    /// `account_changes`.
    AccountChanges,
    /// `archives`.
    Archives,
    /// `ce_activities`.
    CeActivities,
    /// `ce_providers`.
    CeProviders,
    /// `certificate_requests`.
    CertificateRequests,
    /// `classes`.
    Classes,
    /// `deferrals`.
    Deferrals,
    /// `leave_requests`.
    LeaveRequests,
    /// `organisations`.
    Organisations,
    /// `people`.
    People,
    /// `plans`.
    Plans,
    /// `programs`.
    Programs,
    /// `refunds`.
    Refunds,
    /// `sanctions`.
    Sanctions,
    /// `substitutions`.
    Substitutions,
    /// `teacher_appointments`.
    TeacherAppointments,
    /// `users`.
    Users,
}

impl Locked {
    /// The statement that locks one row of the table by id (PostgreSQL).
    fn statement(self) -> &'static str {
        match self {
            Locked::AccountChanges => "SELECT 1 FROM account_changes WHERE id = $1 FOR UPDATE",
            Locked::Archives => "SELECT 1 FROM archives WHERE id = $1 FOR UPDATE",
            Locked::CeActivities => "SELECT 1 FROM ce_activities WHERE id = $1 FOR UPDATE",
            Locked::CeProviders => "SELECT 1 FROM ce_providers WHERE id = $1 FOR UPDATE",
            Locked::CertificateRequests => {
                "SELECT 1 FROM certificate_requests WHERE id = $1 FOR UPDATE"
            }
            Locked::Classes => "SELECT 1 FROM classes WHERE id = $1 FOR UPDATE",
            Locked::Deferrals => "SELECT 1 FROM deferrals WHERE id = $1 FOR UPDATE",
            Locked::LeaveRequests => "SELECT 1 FROM leave_requests WHERE id = $1 FOR UPDATE",
            Locked::Organisations => "SELECT 1 FROM organisations WHERE id = $1 FOR UPDATE",
            Locked::People => "SELECT 1 FROM people WHERE id = $1 FOR UPDATE",
            Locked::Plans => "SELECT 1 FROM plans WHERE id = $1 FOR UPDATE",
            Locked::Programs => "SELECT 1 FROM programs WHERE id = $1 FOR UPDATE",
            Locked::Refunds => "SELECT 1 FROM refunds WHERE id = $1 FOR UPDATE",
            Locked::Sanctions => "SELECT 1 FROM sanctions WHERE id = $1 FOR UPDATE",
            Locked::Substitutions => "SELECT 1 FROM substitutions WHERE id = $1 FOR UPDATE",
            Locked::TeacherAppointments => {
                "SELECT 1 FROM teacher_appointments WHERE id = $1 FOR UPDATE"
            }
            Locked::Users => "SELECT 1 FROM users WHERE id = $1 FOR UPDATE",
        }
    }
}

/// Locks the row `id` of `table` until the end of the write transaction, before
/// it is read for a change (see the module documentation). A missing row locks
/// nothing; the read that follows reports it. Must run inside
/// [`crate::Store::write`].
pub fn lock_row(conn: &mut DbConn, table: Locked, id: &str) -> Result<(), StoreError> {
    if let DbConn::Postgres(c) = conn {
        diesel::sql_query(table.statement())
            .bind::<Text, _>(id)
            .execute(c)?;
    }
    Ok(())
}
