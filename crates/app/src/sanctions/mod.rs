//! Exam discipline (DSC-1 to DSC-5) and the public misconduct register
//! (不良行为专栏, DSC-3; later also certificate forgery, CRT-7).
//!
//! - Invigilators record incidents of a sitting: training staff, or the class
//!   head and teachers of the sitting's class (a teacher of another class gets
//!   404 for the sitting, as for the class). The caller is the invigilator
//!   recorded (DSC-5). In one transaction the domain decides the sanction
//!   ([`guild_domain::discipline::decide`]) and it is applied: the registration
//!   is disqualified with score zero, the ban is written to `bans` (ENR-4 and
//!   EXM-2 check it), and for serious misconduct the employer organisation's
//!   accounts are notified and the case is listed on the public register
//!   ([`record_incident`]).
//! - Who reads sanctions: association staff and the authority all of them;
//!   organisation accounts those of the people their organisation sent to the
//!   class (ACC-2: another organisation's answer 404); trainees their own;
//!   teachers those they recorded; providers none.
//! - Only a training head withdraws a sanction, with a reason (DSC-5,
//!   [`withdraw`]): its ban is withdrawn, the disqualification is lifted (back
//!   to `registered` with the scores cleared, to be entered again) unless
//!   another active sanction still disqualifies, and a listed case stays on
//!   the register marked withdrawn with the reason, with a public notice.
//! - The public register lists entries newest first (by publication).
//!
//! Recording and withdrawing each emit one `sanction.*` event (carrying the
//! employer's notifications), and one more event for each thing that changes
//! with it: `exam_registration.*` for the registration, `ban.*` for the ban,
//! `misconduct_entry.*` for the register entry and `notice.published` for a
//! public notice.

mod record;
mod records;
pub(crate) mod register;
mod withdraw;

pub use record::record_incident;
pub use records::{
    ListMisconduct, ListSanctions, MisconductEntryView, RecordIncident, RegisterSubject,
    SanctionBan, SanctionView,
};
pub use withdraw::withdraw;

use guild_domain::access::{Owner, Scope};
use guild_domain::discipline::{Offence, Outcome, SanctionStatus};
use guild_store::DbConn;
use guild_store::exams::ExamRegistrationRow;
use guild_store::sanctions::{EntryFilter, SanctionFilter, SanctionRow};
use serde::Serialize;
use uuid::Uuid;

use crate::access::{self, id as fact, opt_id};
use crate::ctx::{Caller, Ctx};
use crate::error::{AppError, AppResult, stored};
use crate::events::{Notice, Recipients};
use crate::{Page, PageRequest};

/// Notification kinds written by exam discipline.
pub mod kinds {
    /// The employer is told of an employee's serious misconduct (DSC-3).
    pub const MISCONDUCT_NOTICE: &str = "misconduct_notice";
    /// The employer is told that sanction was withdrawn (DSC-5).
    pub const MISCONDUCT_WITHDRAWN: &str = "misconduct_withdrawn";
}

/// The entity type of a sanction in events and notifications.
const ENTITY: &str = "sanction";

/// ACC-2: whether `caller` may see sanction `row` ([`guild_domain::access`]):
/// its person's and organisation's, and the invigilator's who recorded it.
fn can_see(caller: &Caller, row: &SanctionRow) -> bool {
    caller.sees(
        &Owner::of_person(fact(&row.person_id), opt_id(row.organisation_id.as_deref()))
            .with_teachers(fact(&row.invigilator_user_id)),
    )
}

/// The list filter that confines `caller` to what it may see (ACC-2).
fn scoped_filter(caller: &Caller) -> SanctionFilter {
    let mut filter = SanctionFilter::default();
    match caller.scope() {
        Scope::All => {}
        Scope::Organisation(o) => filter.organisation_id = Some(o.to_string()),
        Scope::Person(p) => filter.person_id = Some(p.to_string()),
        Scope::Teacher(u) => filter.invigilator_user_id = Some(u.to_string()),
        Scope::Provider(_) | Scope::Nothing => filter.person_id = Some(access::no_id()),
    }
    filter
}

/// Loads a sanction the caller may see, or 404 exactly like an unknown id (ACC-2).
fn visible(conn: &mut DbConn, caller: &Caller, id: &str) -> AppResult<SanctionRow> {
    guild_store::sanctions::find(conn, id)?
        .filter(|r| can_see(caller, r))
        .ok_or(AppError::NotFound("sanction"))
}

/// The records of many sanctions, with their bans and names in batched queries.
fn views(conn: &mut DbConn, rows: Vec<SanctionRow>) -> AppResult<Vec<SanctionView>> {
    let ban_ids: Vec<String> = rows.iter().filter_map(|r| r.ban_id.clone()).collect();
    let bans = guild_store::sanctions::bans_by_ids(conn, &ban_ids)?;
    let person_ids: Vec<String> = rows.iter().map(|r| r.person_id.clone()).collect();
    let names = guild_store::sanctions::person_names(conn, &person_ids)?;
    rows.into_iter()
        .map(|r| {
            let ban = match r.ban_id.as_deref() {
                Some(b) => Some(bans.iter().find(|x| x.id == b).ok_or_else(|| {
                    AppError::Internal(format!("sanction {} names the missing ban {b}", r.id))
                })?),
                None => None,
            };
            let name = names.get(&r.person_id).cloned().ok_or_else(|| {
                AppError::Internal(format!(
                    "sanction {} names the missing person {}",
                    r.id, r.person_id
                ))
            })?;
            SanctionView::from_parts(r, ban, name)
        })
        .collect()
}

/// The record of one sanction.
fn view(conn: &mut DbConn, row: SanctionRow) -> AppResult<SanctionView> {
    views(conn, vec![row])?
        .pop()
        .ok_or_else(|| AppError::Internal("a sanction view went missing".to_owned()))
}

/// A sanction of a registration with its stored enums read.
struct Past {
    row: SanctionRow,
    offence: Offence,
    outcome: Outcome,
    status: SanctionStatus,
}

/// The sanctions of a registration, oldest first.
fn history(conn: &mut DbConn, registration_id: &str) -> AppResult<Vec<Past>> {
    guild_store::sanctions::of_registration(conn, registration_id)?
        .into_iter()
        .map(|row| {
            Ok(Past {
                offence: stored("sanctions", &row.offence)?,
                outcome: stored("sanctions", &row.outcome)?,
                status: stored("sanctions", &row.status)?,
                row,
            })
        })
        .collect()
}

/// The notice to the accounts of the employer organisation (DSC-3, DSC-5).
fn employer_notice(
    conn: &mut DbConn,
    organisation_id: &str,
    kind: &'static str,
    text: (String, String),
) -> AppResult<Notice> {
    let accounts = guild_store::sanctions::organisation_accounts(conn, organisation_id)?;
    Ok(Notice::new(Recipients::Users(accounts), kind, text))
}

/// The audited state of a registration changed by a sanction.
#[derive(Debug, Serialize)]
struct RegistrationSnapshot<'a> {
    status: &'a str,
    theory_score: Option<i32>,
    practical_score: Option<i32>,
    passed: Option<bool>,
}

impl<'a> RegistrationSnapshot<'a> {
    fn of(r: &'a ExamRegistrationRow) -> Self {
        RegistrationSnapshot {
            status: &r.status,
            theory_score: r.theory_score,
            practical_score: r.practical_score,
            passed: r.passed,
        }
    }
}

/// Lists sanctions, oldest first, within the caller's scope (ACC-2):
/// association staff and the authority all; organisation accounts those of
/// the people their organisation sent; trainees their own; teachers those
/// they recorded. Asking for another person than one's own lists nothing.
pub fn list(
    ctx: &Ctx,
    conn: &mut DbConn,
    q: ListSanctions,
    page: PageRequest,
) -> AppResult<Page<SanctionView>> {
    let mut filter = scoped_filter(ctx.caller()?);
    if let Some(p) = q.person_id {
        match &filter.person_id {
            Some(own) if *own != p.to_string() => filter.person_id = Some(access::no_id()),
            _ => filter.person_id = Some(p.to_string()),
        }
    }
    filter.sitting_id = q.sitting_id.map(|v| v.to_string());
    filter.status = q.status.map(|v| v.as_str().to_owned());
    filter.offence = q.offence.map(|v| v.as_str().to_owned());
    let rows = guild_store::sanctions::list(conn, &filter, page.after.as_deref(), page.limit)?;
    Ok(Page {
        next_after: rows.next_after,
        items: views(conn, rows.items)?,
    })
}

/// One sanction, as for the list (another organisation's answers 404).
pub fn get(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<SanctionView> {
    let row = visible(conn, ctx.caller()?, &id.to_string())?;
    view(conn, row)
}

/// The public misconduct register (DSC-3, DSC-5), newest first; needs no caller.
pub fn list_public(
    conn: &mut DbConn,
    q: ListMisconduct,
    page: PageRequest,
) -> AppResult<Page<MisconductEntryView>> {
    let filter = EntryFilter {
        status: q.status.map(|v| v.as_str().to_owned()),
        offence: q.offence.map(|v| v.as_str().to_owned()),
    };
    guild_store::sanctions::list_entries(conn, &filter, page.after.as_deref(), page.limit)?
        .try_map(MisconductEntryView::of)
}

#[cfg(test)]
mod tests {
    use super::*;
    use guild_domain::Role;

    fn caller(role: Role, organisation: Option<u128>, person: Option<u128>) -> Caller {
        Caller {
            id: Uuid::from_u128(1).to_string(),
            role,
            organisation_id: organisation.map(|o| Uuid::from_u128(o).to_string()),
            person_id: person.map(|p| Uuid::from_u128(p).to_string()),
        }
    }

    fn row(person: u128, organisation: Option<u128>, invigilator: u128) -> SanctionRow {
        let at = chrono::NaiveDateTime::default();
        SanctionRow {
            id: Uuid::from_u128(99).to_string(),
            sitting_id: Uuid::from_u128(98).to_string(),
            registration_id: Uuid::from_u128(97).to_string(),
            person_id: Uuid::from_u128(person).to_string(),
            organisation_id: organisation.map(|o| Uuid::from_u128(o).to_string()),
            offence: "cheating".to_owned(),
            outcome: "warning".to_owned(),
            rule: "DSC-1".to_owned(),
            description: String::new(),
            evidence_reference: String::new(),
            invigilator_user_id: Uuid::from_u128(invigilator).to_string(),
            occurred_at: at,
            ban_id: None,
            employer_notified_at: None,
            status: "active".to_owned(),
            withdrawn_by: None,
            withdrawn_at: None,
            withdrawal_reason: None,
            version: 1,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn sanctions_are_seen_by_staff_the_employer_the_person_and_the_invigilator_acc_2() {
        // rule ACC-2: another organisation's, another trainee's, another
        // teacher's sanction is not seen; providers see none
        let r = row(10, Some(20), 1);
        assert!(can_see(&caller(Role::TrainingHead, None, None), &r));
        assert!(can_see(&caller(Role::OrgReviewer, Some(20), None), &r));
        assert!(!can_see(&caller(Role::OrgReviewer, Some(21), None), &r));
        assert!(can_see(&caller(Role::Trainee, None, Some(10)), &r));
        assert!(!can_see(&caller(Role::Trainee, None, Some(11)), &r));
        assert!(can_see(&caller(Role::Teacher, None, None), &r));
        assert!(!can_see(
            &caller(Role::Teacher, None, None),
            &row(10, Some(20), 2)
        ));
        assert!(!can_see(&caller(Role::Provider, Some(20), None), &r));
    }

    #[test]
    fn the_list_filter_confines_each_scope_acc_2() {
        // rule ACC-2: the list filter matches what can_see admits
        assert_eq!(
            scoped_filter(&caller(Role::Admin, None, None)).organisation_id,
            None
        );
        let org = scoped_filter(&caller(Role::OrgFiller, Some(20), None));
        assert_eq!(org.organisation_id, Some(Uuid::from_u128(20).to_string()));
        let own = scoped_filter(&caller(Role::Trainee, None, Some(10)));
        assert_eq!(own.person_id, Some(Uuid::from_u128(10).to_string()));
        let teacher = scoped_filter(&caller(Role::Teacher, None, None));
        assert_eq!(
            teacher.invigilator_user_id,
            Some(Uuid::from_u128(1).to_string())
        );
        let provider = scoped_filter(&caller(Role::Provider, Some(20), None));
        assert_eq!(provider.person_id, Some(access::no_id()));
    }
}
