//! The visibility policy (ACC-2, [`guild_domain::access`]) at the HTTP
//! boundary, for the resources whose use cases are still in `routes`: thin
//! delegations to [`guild_app::access`] for an [`AuthUser`]. Handlers ask
//! [`AuthUser::sees`] for one resource and [`AuthUser::scope`] for a list; an
//! unseen resource answers 404 exactly like an unknown id.

pub use guild_app::access::{Owner, Scope, can_see, id, no_id, opt_id, scope};
pub use guild_app::enrolments::owner as enrolment_owner;
pub use guild_domain::access::Caller;
use guild_store::DbConn;
use guild_store::classes::ClassRow;
use guild_store::enrolments::EnrolmentRow;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::ApiResult;

/// The class head and teachers of a class, as far as `caller` needs them
/// ([`guild_app::access::class_teachers`]).
pub fn class_teachers(
    conn: &mut DbConn,
    class: &ClassRow,
    caller: &AuthUser,
) -> ApiResult<Vec<Uuid>> {
    Ok(guild_app::access::class_teachers(
        conn,
        class,
        &caller.caller(),
    )?)
}

/// The facts of a class ([`guild_app::access::class_owner`]).
pub fn class_owner(conn: &mut DbConn, class: &ClassRow, caller: &AuthUser) -> ApiResult<Owner> {
    Ok(guild_app::access::class_owner(
        conn,
        class,
        &caller.caller(),
    )?)
}

/// Which rows of a class's sheet or results a caller sees
/// ([`guild_app::access::ClassRows`]).
#[derive(Debug, Clone)]
pub struct ClassRows(guild_app::access::ClassRows);

impl ClassRows {
    /// The rows of `class` that `caller` sees, or `None` when it may not see
    /// the class at all (a teacher of other classes).
    pub fn of(conn: &mut DbConn, class: &ClassRow, caller: &AuthUser) -> ApiResult<Option<Self>> {
        Ok(guild_app::access::ClassRows::of(conn, class, &caller.caller())?.map(ClassRows))
    }

    /// Whether the row of `enrolment` is one of them.
    pub fn sees(&self, enrolment: &EnrolmentRow) -> bool {
        self.0.sees(enrolment)
    }
}
