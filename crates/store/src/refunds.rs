//! Refund requests and their four-step approval (REF-1 to REF-4).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::classes::ClassRow;
use crate::enrolments::EnrolmentRow;
use crate::schema::{classes, enrolments, people, refunds};
use crate::{DbConn, Page, StoreError, page_of};

/// One `refunds` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = refunds, treat_none_as_null = true)]
pub struct RefundRow {
    pub id: String,
    pub enrolment_id: String,
    pub organisation_id: Option<String>,
    pub kind: String,
    pub amount_fen: i64,
    pub deferral_id: Option<String>,
    pub reason: String,
    pub status: String,
    pub requested_by: String,
    pub requested_at: NaiveDateTime,
    pub training_confirmed_by: Option<String>,
    pub training_confirmed_at: Option<NaiveDateTime>,
    pub finance_confirmed_by: Option<String>,
    pub finance_confirmed_at: Option<NaiveDateTime>,
    pub leader_approved_by: Option<String>,
    pub leader_approved_at: Option<NaiveDateTime>,
    pub paid_by: Option<String>,
    pub paid_at: Option<NaiveDateTime>,
    pub payment_reference: Option<String>,
    pub rejected_by: Option<String>,
    pub rejected_at: Option<NaiveDateTime>,
    pub rejection_reason: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a `refunds` row.
pub fn insert(conn: &mut DbConn, row: &RefundRow) -> Result<(), StoreError> {
    diesel::insert_into(refunds::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Finds a `refunds` row by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<RefundRow>, StoreError> {
    Ok(refunds::table
        .find(id)
        .select(RefundRow::as_select())
        .first(conn)
        .optional()?)
}

/// Saves `row` as the next version if nobody changed it since it was read (API-5).
pub fn update(conn: &mut DbConn, row: &mut RefundRow, at: NaiveDateTime) -> Result<(), StoreError> {
    let read_version = row.version;
    row.version += 1;
    row.updated_at = at;
    let n = diesel::update(
        refunds::table
            .filter(refunds::id.eq(&row.id))
            .filter(refunds::version.eq(read_version)),
    )
    .set(&*row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale { table: "refunds" })
    }
}

/// A refund with what a list shows of its enrolment: the class, the person
/// and the person's name.
#[derive(Debug, Clone, PartialEq)]
pub struct RefundListRow {
    pub refund: RefundRow,
    pub class_id: String,
    pub person_id: String,
    pub person_name: String,
}

/// Filters for [`list`]; `None` means "any".
#[derive(Debug, Default, Clone)]
pub struct RefundFilter {
    pub status: Option<String>,
    pub kind: Option<String>,
    pub class_id: Option<String>,
    pub enrolment_id: Option<String>,
    /// Confines the list to one organisation (organisation users, ACC-2).
    pub only_organisation: Option<String>,
    /// Confines the list to the enrolments of one person (trainees).
    pub only_person: Option<String>,
}

/// Lists refunds with their enrolment's class and person, in id (filing) order after `after`.
pub fn list(
    conn: &mut DbConn,
    filter: &RefundFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<RefundListRow>, StoreError> {
    let mut query = refunds::table
        .inner_join(enrolments::table.inner_join(people::table))
        .select((
            RefundRow::as_select(),
            enrolments::class_id,
            enrolments::person_id,
            people::name,
        ))
        .into_boxed();
    if let Some(v) = &filter.status {
        query = query.filter(refunds::status.eq(v.clone()));
    }
    if let Some(v) = &filter.kind {
        query = query.filter(refunds::kind.eq(v.clone()));
    }
    if let Some(v) = &filter.class_id {
        query = query.filter(enrolments::class_id.eq(v.clone()));
    }
    if let Some(v) = &filter.enrolment_id {
        query = query.filter(refunds::enrolment_id.eq(v.clone()));
    }
    if let Some(v) = &filter.only_organisation {
        query = query.filter(refunds::organisation_id.eq(v.clone()));
    }
    if let Some(v) = &filter.only_person {
        query = query.filter(enrolments::person_id.eq(v.clone()));
    }
    if let Some(after) = after {
        query = query.filter(refunds::id.gt(after.to_owned()));
    }
    let rows = query
        .order(refunds::id.asc())
        .limit(limit + 1)
        .load::<(RefundRow, String, String, String)>(conn)?
        .into_iter()
        .map(|(refund, class_id, person_id, person_name)| RefundListRow {
            refund,
            class_id,
            person_id,
            person_name,
        })
        .collect();
    Ok(page_of(rows, limit, |r| r.refund.id.clone()))
}

/// The enrolment's open refund (neither `rejected` nor `paid`), if any
/// (REF-4: the partial unique index `refunds_one_open_per_enrolment` allows one).
pub fn open_for_enrolment(
    conn: &mut DbConn,
    enrolment_id: &str,
) -> Result<Option<RefundRow>, StoreError> {
    Ok(refunds::table
        .filter(refunds::enrolment_id.eq(enrolment_id))
        .filter(refunds::status.ne_all(["rejected", "paid"]))
        .select(RefundRow::as_select())
        .order(refunds::id.asc())
        .first(conn)
        .optional()?)
}

/// Loads the enrolment row and locks it until the end of the transaction
/// (REF-4): `SELECT … FOR UPDATE` on PostgreSQL, so two payments of refunds
/// of one enrolment (or a payment and any other change of the enrolment) run
/// one after the other and the second sees the first one's ledger entries.
/// SQLite has no row locks; there the store's write lock already serialises
/// every write transaction. Must run inside [`crate::Store::write`]. `None`
/// when the enrolment does not exist.
pub fn lock_enrolment(conn: &mut DbConn, id: &str) -> Result<Option<EnrolmentRow>, StoreError> {
    let row = match conn {
        DbConn::Postgres(c) => enrolments::table
            .find(id)
            .select(EnrolmentRow::as_select())
            .for_update()
            .first(c)
            .optional()?,
        DbConn::Sqlite(c) => enrolments::table
            .find(id)
            .select(EnrolmentRow::as_select())
            .first(c)
            .optional()?,
    };
    Ok(row)
}

/// Every enrolment of a class, in id order (REF-1 looks at each one's ledger).
pub fn enrolments_of_class(
    conn: &mut DbConn,
    class_id: &str,
) -> Result<Vec<EnrolmentRow>, StoreError> {
    Ok(enrolments::table
        .filter(enrolments::class_id.eq(class_id))
        .select(EnrolmentRow::as_select())
        .order(enrolments::id.asc())
        .load(conn)?)
}

/// The classes of `program_id` starting after `after` and no later than
/// `until`, other than `except`, in start order (REF-1: is a later class
/// available that year? the domain decides which statuses count).
pub fn later_classes_of_program(
    conn: &mut DbConn,
    program_id: &str,
    except: &str,
    after: NaiveDate,
    until: NaiveDate,
) -> Result<Vec<ClassRow>, StoreError> {
    Ok(classes::table
        .filter(classes::program_id.eq(program_id))
        .filter(classes::id.ne(except))
        .filter(classes::start_date.gt(after))
        .filter(classes::start_date.le(until))
        .select(ClassRow::as_select())
        .order((classes::start_date.asc(), classes::id.asc()))
        .load(conn)?)
}
