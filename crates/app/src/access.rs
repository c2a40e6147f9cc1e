//! The visibility policy (ACC-2, [`guild_domain::access`]) applied to stored
//! rows: the [`Owner`] facts of a class and which rows of a class's sheet a
//! caller sees. An unseen resource answers 404 exactly like an unknown id.

pub use guild_domain::access::{Owner, Scope, can_see, scope};
use guild_store::DbConn;
use guild_store::classes::ClassRow;
use guild_store::enrolments::EnrolmentRow;
use uuid::Uuid;

use crate::ctx::Caller;
use crate::enrolments::owner as enrolment_owner;
use crate::error::AppResult;
use crate::ids::fact;

/// A stored id as a visibility fact. Stored ids are UUIDs; one that is not
/// reads as no id, which matches nothing (fails closed).
pub fn id(stored: &str) -> Option<Uuid> {
    fact(Some(stored))
}

/// [`id`] of an optional stored id.
pub fn opt_id(stored: Option<&str>) -> Option<Uuid> {
    fact(stored)
}

/// The filter value of a list confined to nothing: no stored id equals it.
pub fn no_id() -> String {
    String::new()
}

/// The class head and teachers of a class, as far as `caller` needs them:
/// they decide only a teacher's scope, so they are loaded only for one.
pub fn class_teachers(
    conn: &mut DbConn,
    class: &ClassRow,
    caller: &Caller,
) -> AppResult<Vec<Uuid>> {
    if !matches!(caller.scope(), Scope::Teacher(_)) {
        return Ok(Vec::new());
    }
    let mut teachers: Vec<Uuid> = opt_id(class.class_head_user_id.as_deref())
        .into_iter()
        .collect();
    teachers.extend(
        guild_store::classes::teachers(conn, &class.id)?
            .iter()
            .filter_map(|t| id(&t.user_id)),
    );
    Ok(teachers)
}

/// The facts of a class: the association's own record, taught by its class
/// head and teachers.
pub fn class_owner(conn: &mut DbConn, class: &ClassRow, caller: &Caller) -> AppResult<Owner> {
    Ok(Owner::of_association().with_teachers(class_teachers(conn, class, caller)?))
}

/// Which rows of a class's sheet or results a caller sees (ACC-2): every
/// row for the class's head and teachers, else the rows of the enrolments
/// the caller may see.
#[derive(Debug, Clone)]
pub struct ClassRows {
    caller: guild_domain::access::Caller,
    teachers: Vec<Uuid>,
}

impl ClassRows {
    /// The rows of `class` that `caller` sees, or `None` when it may not see
    /// the class at all (a teacher of other classes).
    pub fn of(conn: &mut DbConn, class: &ClassRow, caller: &Caller) -> AppResult<Option<Self>> {
        let teachers = class_teachers(conn, class, caller)?;
        let class_owner = Owner::of_association().with_teachers(teachers.iter().copied());
        Ok(caller.sees(&class_owner).then(|| ClassRows {
            caller: caller.policy(),
            teachers,
        }))
    }

    /// Whether the row of `enrolment` is one of them.
    pub fn sees(&self, enrolment: &EnrolmentRow) -> bool {
        can_see(
            &self.caller,
            &enrolment_owner(enrolment).with_teachers(self.teachers.iter().copied()),
        )
    }
}
