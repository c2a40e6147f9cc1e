//! Who may call what (ACC-1): the role lists of the actions, in one table.
//!
//! A handler checks its list before anything else (403); what a caller then
//! *sees* is the visibility policy ([`crate::access`]), not these lists. The
//! lists are built from a few groups, so the same audience is written once:
//! an action's list is an alias of its group, and the table test below pins
//! who is in each.

use crate::Role;

/// Admin, training officer, training head: the training department.
pub const TRAINING_STAFF: &[Role] = &[Role::Admin, Role::TrainingOfficer, Role::TrainingHead];

/// Admin and training head: the decisions the head of training signs.
pub const TRAINING_LEADS: &[Role] = &[Role::Admin, Role::TrainingHead];

/// The training department and the part-time teachers (class heads and
/// teachers act on their own classes only, by [`crate::access`]).
pub const TEACHING_STAFF: &[Role] = &[
    Role::Admin,
    Role::TrainingOfficer,
    Role::TrainingHead,
    Role::Teacher,
];

/// The training department and the organisations' accounts: the desks that
/// enter people and their account changes (each organisation its own).
pub const PEOPLE_DESKS: &[Role] = &[
    Role::Admin,
    Role::TrainingOfficer,
    Role::TrainingHead,
    Role::OrgFiller,
    Role::OrgReviewer,
];

/// Association staff and the (read-only) authority: association data that
/// organisations and trainees never read.
pub const ASSOCIATION_READERS: &[Role] = &[
    Role::Admin,
    Role::TrainingOfficer,
    Role::TrainingHead,
    Role::Finance,
    Role::Leader,
    Role::Authority,
];

/// The administrator alone: accounts, terms and signing keys.
pub const ADMINS: &[Role] = &[Role::Admin];

/// The organisations' own accounts: the filler and the reviewer.
pub const ORGANISATION_DESKS: &[Role] = &[Role::OrgFiller, Role::OrgReviewer];

/// The administrator and the organisations' accounts: who manages accounts
/// (each organisation its own).
pub const ACCOUNT_DESKS: &[Role] = &[Role::Admin, Role::OrgFiller, Role::OrgReviewer];

/// [`ASSOCIATION_READERS`] and the organisations' accounts (each its own):
/// overviews about a company's staff that are not a trainee's own record.
pub const ORGANISATION_READERS: &[Role] = &[
    Role::Admin,
    Role::TrainingOfficer,
    Role::TrainingHead,
    Role::Finance,
    Role::Leader,
    Role::Authority,
    Role::OrgFiller,
    Role::OrgReviewer,
];

/// Everyone with a stake in a trainee's records: association staff, the
/// authority, the trainee's organisation and the trainee (each sees only
/// their own, by [`crate::access`]).
pub const RECORD_READERS: &[Role] = &[
    Role::Admin,
    Role::TrainingOfficer,
    Role::TrainingHead,
    Role::Finance,
    Role::Leader,
    Role::Authority,
    Role::OrgFiller,
    Role::OrgReviewer,
    Role::Trainee,
];

/// [`RECORD_READERS`] and the teachers of a class: attendance, results and
/// discipline of the classes they teach.
pub const CLASS_RECORD_READERS: &[Role] = &[
    Role::Admin,
    Role::TrainingOfficer,
    Role::TrainingHead,
    Role::Finance,
    Role::Leader,
    Role::Authority,
    Role::OrgFiller,
    Role::OrgReviewer,
    Role::Trainee,
    Role::Teacher,
];

/// [`RECORD_READERS`] and the CE providers: continuing-education credits,
/// which a provider reads for its own activities.
pub const CREDIT_READERS: &[Role] = &[
    Role::Admin,
    Role::TrainingOfficer,
    Role::TrainingHead,
    Role::Finance,
    Role::Leader,
    Role::Authority,
    Role::OrgFiller,
    Role::OrgReviewer,
    Role::Trainee,
    Role::Provider,
];

/// Read enrolments, their ledgers and notices (ENR, FEE).
pub const ENROLMENT_READERS: &[Role] = RECORD_READERS;
/// Create an enrolment: the organisation's accounts, a trainee for
/// themselves, or training staff on a company's behalf (ENR-1).
pub const ENROLMENT_CREATORS: &[Role] = &[
    Role::OrgFiller,
    Role::OrgReviewer,
    Role::Trainee,
    Role::Admin,
    Role::TrainingOfficer,
    Role::TrainingHead,
];
/// File a leave request (ATT): whoever may act for the trainee.
pub const LEAVE_FILERS: &[Role] = &[
    Role::Admin,
    Role::TrainingOfficer,
    Role::TrainingHead,
    Role::OrgFiller,
    Role::OrgReviewer,
    Role::Trainee,
];
/// Take attendance and decide leave: the class head or a teacher of the
/// class, or training staff (ATT).
pub const CLASS_HEAD_ROLES: &[Role] = TEACHING_STAFF;
/// Schedule sittings and register candidates (EXM).
pub const SITTING_MANAGERS: &[Role] = TRAINING_STAFF;
/// Enter exam results: training staff or a teacher of the class (EXM).
pub const RESULT_ENTERERS: &[Role] = TEACHING_STAFF;
/// Issue certificates (CRT-1).
pub const CERTIFICATE_ISSUERS: &[Role] = TRAINING_STAFF;
/// Read certificates (CRT-8).
pub const CERTIFICATE_READERS: &[Role] = RECORD_READERS;
/// Record exam incidents as invigilators (DSC-5).
pub const INVIGILATORS: &[Role] = TEACHING_STAFF;
/// Withdraw a sanction: the head of training alone (DSC).
pub const SANCTION_WITHDRAWERS: &[Role] = &[Role::TrainingHead];
/// Read the list of banned people (DIS).
pub const BAN_READERS: &[Role] = ASSOCIATION_READERS;
/// Impose and withdraw bans (DIS).
pub const BAN_WRITERS: &[Role] = TRAINING_LEADS;
/// Appoint and dismiss part-time teachers (TCH-1, TCH-2).
pub const APPOINTERS: &[Role] = TRAINING_LEADS;
/// Read annual training plans (PLN).
pub const PLAN_READERS: &[Role] = ASSOCIATION_READERS;
/// Draft and amend plans (PLN).
pub const PLAN_EDITORS: &[Role] = TRAINING_STAFF;
/// Publish plans (PLN).
pub const PLAN_PUBLISHERS: &[Role] = TRAINING_LEADS;
/// Read class archives (ARC).
pub const ARCHIVE_READERS: &[Role] = &[
    Role::Admin,
    Role::TrainingOfficer,
    Role::TrainingHead,
    Role::Authority,
];
/// Keep class archives (ARC).
pub const ARCHIVE_KEEPERS: &[Role] = TRAINING_STAFF;
/// Read the work calendar (ARC-2).
pub const CALENDAR_READERS: &[Role] = ASSOCIATION_READERS;
/// Keep the work calendar (ARC-2).
pub const CALENDAR_KEEPERS: &[Role] = TRAINING_LEADS;
/// Read accounts: the admin, and an organisation's own accounts (ACC).
pub const USER_READERS: &[Role] = ACCOUNT_DESKS;
/// Create, change, unlock and reset accounts (ACC).
pub const USER_ADMINS: &[Role] = ADMINS;
/// Read the audit log: the admin all of it, an organisation its own (API-6).
pub const AUDIT_READERS: &[Role] = ACCOUNT_DESKS;
/// File an account change request (ACC).
pub const CHANGE_FILERS: &[Role] = ACCOUNT_DESKS;
/// Upload a bulk enrolment file: the organisation's accounts (ENR-1).
pub const BULK_ENROLLERS: &[Role] = ORGANISATION_DESKS;
/// Read a class's waiting list (ENR).
pub const WAITING_LIST_READERS: &[Role] = ORGANISATION_READERS;
/// Record a payment on an enrolment's ledger (FEE).
pub const PAYMENT_RECORDERS: &[Role] = &[Role::Finance];
/// Open teacher terms (TCH-1).
pub const TERM_KEEPERS: &[Role] = ADMINS;
/// Read teacher terms and appointments (TCH).
pub const TEACHER_READERS: &[Role] = ASSOCIATION_READERS;
/// List and rotate the credential signing keys (CRT-3).
pub const SIGNING_KEY_KEEPERS: &[Role] = ADMINS;
/// Withdraw a ban early (DIS).
pub const BAN_WITHDRAWERS: &[Role] = &[Role::TrainingHead];
/// Read account change requests (ACC).
pub const CHANGE_READERS: &[Role] = PEOPLE_DESKS;
/// Enter and edit people (PPL).
pub const PEOPLE_WRITERS: &[Role] = PEOPLE_DESKS;
/// Create and manage organisations (ORG).
pub const ORG_MANAGERS: &[Role] = TRAINING_STAFF;
/// Create and manage programs (PRG).
pub const PROGRAM_MANAGERS: &[Role] = TRAINING_STAFF;
/// Create and run classes (CLS).
pub const CLASS_MANAGERS: &[Role] = TRAINING_STAFF;
/// Record CE activities: providers, and employers for their own staff (CED-3).
pub const ACTIVITY_RECORDERS: &[Role] = &[Role::Provider, Role::OrgFiller, Role::OrgReviewer];
/// Read CE providers: association staff and the authority all of them,
/// organisation and provider accounts their own organisation's (ACC-2).
pub const PROVIDER_READERS: &[Role] = &[
    Role::Admin,
    Role::TrainingOfficer,
    Role::TrainingHead,
    Role::Finance,
    Role::Leader,
    Role::Authority,
    Role::Provider,
    Role::OrgFiller,
    Role::OrgReviewer,
];
/// Apply for and maintain an organisation's provider record: its provider
/// accounts and its reviewer (the organisation's responsible person).
pub const PROVIDER_APPLICANTS: &[Role] = &[Role::Provider, Role::OrgReviewer];
/// Decide on providers (CED-4).
pub const PROVIDER_DECIDERS: &[Role] = &[Role::Authority];
/// Read the CE requirements (CED-1).
pub const REQUIREMENT_READERS: &[Role] = ASSOCIATION_READERS;
/// Set the CE requirements (CED-1).
pub const REQUIREMENT_WRITERS: &[Role] = &[Role::Admin, Role::Authority];
/// Read one's CE compliance (CED-2).
pub const COMPLIANCE_READERS: &[Role] = RECORD_READERS;
/// List CE compliance across people (CED-2): not trainees.
pub const COMPLIANCE_LISTERS: &[Role] = ORGANISATION_READERS;
/// Read CE statistics (CED-5).
pub const STATISTICS_READERS: &[Role] = ASSOCIATION_READERS;

/// Subscribe to webhooks (API-8): admins (every event), organisation
/// reviewers (their organisation's events), CE providers (their CE data) and
/// the authority (CE events); what each receives is
/// [`crate::webhook::receives`].
pub const WEBHOOK_SUBSCRIBERS: &[Role] = &[
    Role::Admin,
    Role::OrgReviewer,
    Role::Provider,
    Role::Authority,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every role, for the table.
    const ALL: &[Role] = &[
        Role::Admin,
        Role::TrainingOfficer,
        Role::TrainingHead,
        Role::Finance,
        Role::Leader,
        Role::Authority,
        Role::OrgFiller,
        Role::OrgReviewer,
        Role::Trainee,
        Role::Teacher,
        Role::Provider,
    ];

    /// The lists as a table: one letter per role of [`ALL`], `x` = may.
    /// A change to any list shows here (ACC-1).
    #[test]
    fn who_may_call_what() {
        let table: &[(&str, &[Role], &str)] = &[
            //                        A  O  H  F  L  Au Of Or T  Te P
            ("training staff", TRAINING_STAFF, "xxx........"),
            ("training leads", TRAINING_LEADS, "x.x........"),
            ("teaching staff", TEACHING_STAFF, "xxx......x."),
            ("association readers", ASSOCIATION_READERS, "xxxxxx....."),
            ("record readers", RECORD_READERS, "xxxxxxxxx.."),
            ("admins", ADMINS, "x.........."),
            ("organisation desks", ORGANISATION_DESKS, "......xx..."),
            ("account desks", ACCOUNT_DESKS, "x.....xx..."),
            ("organisation readers", ORGANISATION_READERS, "xxxxxxxx..."),
            ("class record readers", CLASS_RECORD_READERS, "xxxxxxxxxx."),
            ("credit readers", CREDIT_READERS, "xxxxxxxxx.x"),
            ("enrolment creators", ENROLMENT_CREATORS, "xxx...xxx.."),
            ("leave filers", LEAVE_FILERS, "xxx...xxx.."),
            ("archive readers", ARCHIVE_READERS, "xxx..x....."),
            ("people desks", PEOPLE_DESKS, "xxx...xx..."),
            ("activity recorders", ACTIVITY_RECORDERS, "......xx..x"),
            ("provider readers", PROVIDER_READERS, "xxxxxxxx..x"),
            ("provider applicants", PROVIDER_APPLICANTS, ".......x..x"),
            ("provider deciders", PROVIDER_DECIDERS, ".....x....."),
            ("requirement writers", REQUIREMENT_WRITERS, "x....x....."),
            ("webhook subscribers", WEBHOOK_SUBSCRIBERS, "x....x.x..x"),
        ];
        for (name, list, expected) in table {
            let got: String = ALL
                .iter()
                .map(|r| if list.contains(r) { 'x' } else { '.' })
                .collect();
            assert_eq!(&got, expected, "{name}");
            assert_eq!(
                list.len(),
                expected.matches('x').count(),
                "{name} repeats a role"
            );
        }
    }

    /// Nobody outside the association acts for it: no organisation account,
    /// trainee, teacher or provider is in a list that changes association
    /// data (ACC-1).
    #[test]
    fn association_decisions_stay_inside_the_association() {
        for list in [
            TRAINING_STAFF,
            TRAINING_LEADS,
            REQUIREMENT_WRITERS,
            PROVIDER_DECIDERS,
        ] {
            for r in [
                Role::OrgFiller,
                Role::OrgReviewer,
                Role::Trainee,
                Role::Teacher,
                Role::Provider,
            ] {
                assert!(!list.contains(&r), "{r:?}");
            }
        }
    }
}
