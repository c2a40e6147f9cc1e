//! Who sees what (ACC-2): the one visibility policy, and the list scopes.
//!
//! A [`Caller`] is the account asking: its role, and its organisation and
//! person where it has them. A resource's [`Owner`] is the facts visibility
//! depends on: its organisation, the people it is about, the CE provider
//! whose data it is, the teachers it names, and whether it is the
//! association's own record. [`can_see`] answers for one resource; [`scope`]
//! gives the [`Scope`] a list query is confined to. Both are one policy:
//! `can_see(caller, owner) == scope(caller).admits(owner)`.
//!
//! The policy, per role (SPEC §1, ACC-2):
//!
//! - association staff (admin, training officer, training head, finance,
//!   leader) and the authority see everything ([`Scope::All`]);
//! - organisation accounts (filler, reviewer) see what belongs to their
//!   organisation: its own records, its people's data, and the CE data of
//!   activities it recorded ([`Scope::Organisation`]);
//! - provider accounts see the CE data of their provider (the activities
//!   their organisation recorded and the credits earned there) and their
//!   organisation's own records, but no person's data through the
//!   organisation ([`Scope::Provider`]);
//! - a trainee sees the data about their own person ([`Scope::Person`]);
//! - a teacher sees what names them as teacher: the classes they head or
//!   teach, leave requests of the classes they head, sanctions they recorded
//!   as invigilator ([`Scope::Teacher`]);
//! - every role but the teacher sees the association's own records (a
//!   class); an account lacking the organisation or person its role needs
//!   sees nothing else ([`Scope::Nothing`]).
//!
//! Reaching a resource the caller may not see answers exactly like an
//! unknown id (404), so ids do not leak.
//!
//! # Where the old copies disagreed
//!
//! The rule was written once per resource before; these readings were chosen
//! (the one that best protects trainees' data):
//!
//! - *A person's data for roles other than trainee.* The people endpoints
//!   let teacher and provider accounts see the person record their account
//!   is linked to; every other copy (certificates, certificate requests,
//!   sanctions, compliance, enrolments) gave person data to trainee accounts
//!   only. Now only trainee accounts see by person; a teacher sees what it
//!   teaches, a provider its CE data (SPEC §1: the own profile is the
//!   trainee's).
//! - *Provider accounts and their organisation.* The organisation-only
//!   copies (organisations, CE providers, activities, account changes)
//!   let a provider account see its organisation's records; the person
//!   copies did not let it see people of its organisation. Now both hold:
//!   a provider sees its organisation's records that are about no person.
//! - *Roles a copy did not name.* Some list copies added no filter for a
//!   role they did not name (sanctions for a provider, certificate requests
//!   for a teacher), others answered 403 or nothing; the role lists in front
//!   kept those roles out. Now every role has its scope, and a role with no
//!   claim to a resource sees none of it.
//! - *The administrator and other staff on accounts.* The account copy let
//!   the administrator through by name; association staff see everything
//!   here like everywhere (only the administrator reads accounts anyway).

use uuid::Uuid;

use crate::Role;

/// The account asking (ACC-2): its role, and the organisation and person
/// it belongs to where it has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    /// The account's role.
    pub role: Role,
    /// The account id. Class heads, teachers and invigilators are named by
    /// their account id.
    pub user: Uuid,
    /// The organisation of an organisation or provider account.
    pub organisation: Option<Uuid>,
    /// The person record of a trainee (or teacher) account.
    pub person: Option<Uuid>,
}

impl Caller {
    /// A caller with these facts.
    pub const fn new(
        role: Role,
        user: Uuid,
        organisation: Option<Uuid>,
        person: Option<Uuid>,
    ) -> Self {
        Caller {
            role,
            user,
            organisation,
            person,
        }
    }

    /// The CE provider a provider account speaks for. A provider is known by
    /// the organisation that runs it (the activities it records carry that
    /// organisation), so this is the account's organisation.
    pub const fn provider(&self) -> Option<Uuid> {
        match self.role {
            Role::Provider => self.organisation,
            _ => None,
        }
    }

    /// The teacher a teacher account is: its account id.
    pub const fn teacher(&self) -> Option<Uuid> {
        match self.role {
            Role::Teacher => Some(self.user),
            _ => None,
        }
    }
}

/// The facts of a resource that decide who sees it (ACC-2). Build it with
/// [`Owner::of_organisation`], [`Owner::of_person`] or
/// [`Owner::of_association`] and add the facts the resource has. A resource
/// without any fact is seen by the staff and the authority only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Owner {
    /// The organisation it belongs to: for an organisation's own records
    /// the organisation itself, for data about a person the organisation it
    /// was entered for (the employer).
    pub organisation: Option<Uuid>,
    /// The people it is about (a substitution names two). Data about a
    /// person is what the organisation-level rules of providers exclude.
    pub people: Vec<Uuid>,
    /// The organisation that recorded the CE activity it belongs to: an
    /// accredited provider, or an employer for its own training.
    pub provider: Option<Uuid>,
    /// The accounts that teach it: a class's head and teachers, the class
    /// head of a leave request's class, a sanction's invigilator.
    pub teachers: Vec<Uuid>,
    /// The association's own record (a class): every role sees it, except
    /// a teacher, who sees it only when named in `teachers`.
    pub association: bool,
}

impl Owner {
    /// An organisation's own record: the organisation, its accounts, its
    /// account changes, its CE provider record.
    pub fn of_organisation(organisation: impl Into<Option<Uuid>>) -> Self {
        Owner {
            organisation: organisation.into(),
            ..Owner::default()
        }
    }

    /// Data about a person, entered for `organisation` (none for an
    /// individual).
    pub fn of_person(
        person: impl Into<Option<Uuid>>,
        organisation: impl Into<Option<Uuid>>,
    ) -> Self {
        Owner {
            organisation: organisation.into(),
            ..Owner::default()
        }
        .with_person(person)
    }

    /// The association's own record (a class).
    pub fn of_association() -> Self {
        Owner {
            association: true,
            ..Owner::default()
        }
    }

    /// Adds a person it is about.
    #[must_use]
    pub fn with_person(mut self, person: impl Into<Option<Uuid>>) -> Self {
        self.people.extend(person.into());
        self
    }

    /// Sets the organisation that recorded its CE activity.
    #[must_use]
    pub fn with_provider(mut self, provider: impl Into<Option<Uuid>>) -> Self {
        self.provider = provider.into();
        self
    }

    /// Adds accounts that teach it.
    #[must_use]
    pub fn with_teachers(mut self, teachers: impl IntoIterator<Item = Uuid>) -> Self {
        self.teachers.extend(teachers);
        self
    }

    /// Whether it is about a person.
    pub fn is_about_a_person(&self) -> bool {
        !self.people.is_empty()
    }
}

/// What a caller's list queries are confined to (ACC-2). Every variant also
/// admits the association's own records, except [`Scope::Teacher`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everything: association staff and the authority.
    All,
    /// Organisation accounts: what belongs to this organisation (the
    /// owner's organisation), and the CE data of activities it recorded
    /// (the owner's provider).
    Organisation(Uuid),
    /// Provider accounts, by the provider's organisation: the CE data of
    /// activities it recorded (the owner's provider), and this
    /// organisation's own records that are about no person.
    Provider(Uuid),
    /// Trainees: what is about this person.
    Person(Uuid),
    /// Teachers, by account id: what names them as teacher.
    Teacher(Uuid),
    /// Nothing but the association's own records: an account without the
    /// organisation or person its role needs.
    Nothing,
}

impl Scope {
    /// Whether a list in this scope holds a resource with these facts.
    pub fn admits(&self, owner: &Owner) -> bool {
        match *self {
            Scope::All => true,
            Scope::Organisation(o) => {
                owner.association || owner.organisation == Some(o) || owner.provider == Some(o)
            }
            Scope::Provider(o) => {
                owner.association
                    || owner.provider == Some(o)
                    || (owner.organisation == Some(o) && !owner.is_about_a_person())
            }
            Scope::Person(p) => owner.association || owner.people.contains(&p),
            Scope::Teacher(u) => owner.teachers.contains(&u),
            Scope::Nothing => owner.association,
        }
    }

    /// The scope for lists of organisations' own records, which are about
    /// no person (organisations, accounts, account changes, audit events, CE
    /// providers and activities): organisation and provider accounts see
    /// their organisation's, so both answer [`Scope::Organisation`];
    /// trainees and teachers see none.
    #[must_use]
    pub fn for_organisation_records(self) -> Scope {
        match self {
            Scope::All => Scope::All,
            Scope::Organisation(o) | Scope::Provider(o) => Scope::Organisation(o),
            Scope::Person(_) | Scope::Teacher(_) | Scope::Nothing => Scope::Nothing,
        }
    }
}

/// The scope of `caller`'s list queries (ACC-2); see the module docs.
pub fn scope(caller: &Caller) -> Scope {
    let or_nothing =
        |id: Option<Uuid>, within: fn(Uuid) -> Scope| id.map_or(Scope::Nothing, within);
    match caller.role {
        Role::Admin
        | Role::TrainingOfficer
        | Role::TrainingHead
        | Role::Finance
        | Role::Leader
        | Role::Authority => Scope::All,
        Role::OrgFiller | Role::OrgReviewer => or_nothing(caller.organisation, Scope::Organisation),
        Role::Provider => or_nothing(caller.provider(), Scope::Provider),
        Role::Trainee => or_nothing(caller.person, Scope::Person),
        Role::Teacher => or_nothing(caller.teacher(), Scope::Teacher),
    }
}

/// Whether `caller` may see a resource with these facts (ACC-2). Answer an
/// unseen resource exactly like an unknown id.
pub fn can_see(caller: &Caller, owner: &Owner) -> bool {
    scope(caller).admits(owner)
}

/// Whether `caller` may read a notification sent to the account
/// `recipient`: every account reads its own inbox; the administrator may
/// also read any single notification (support, `reading_one`), but lists and
/// marks read only their own. Anyone else's notification answers like an
/// unknown id.
pub fn can_read_notification(caller: &Caller, recipient: Uuid, reading_one: bool) -> bool {
    caller.user == recipient || (reading_one && caller.role == Role::Admin)
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: Uuid = Uuid::from_u128(0x0a);
    const OTHER_USER: Uuid = Uuid::from_u128(0x0b);
    const ORG: Uuid = Uuid::from_u128(0x1a);
    const OTHER_ORG: Uuid = Uuid::from_u128(0x1b);
    const PERSON: Uuid = Uuid::from_u128(0x2a);
    const OTHER_PERSON: Uuid = Uuid::from_u128(0x2b);

    /// The owner kinds, each with its name in failure messages.
    fn owners() -> Vec<(&'static str, Owner)> {
        vec![
            ("own organisation's record", Owner::of_organisation(ORG)),
            (
                "other organisation's record",
                Owner::of_organisation(OTHER_ORG),
            ),
            (
                "own organisation's person",
                Owner::of_person(OTHER_PERSON, ORG),
            ),
            (
                "other organisation's person",
                Owner::of_person(OTHER_PERSON, OTHER_ORG),
            ),
            ("own person, individual", Owner::of_person(PERSON, None)),
            (
                "own person, other organisation",
                Owner::of_person(PERSON, OTHER_ORG),
            ),
            (
                "other person, individual",
                Owner::of_person(OTHER_PERSON, None),
            ),
            (
                "own person as second person",
                Owner::of_person(OTHER_PERSON, OTHER_ORG).with_person(PERSON),
            ),
            (
                "own provider's CE data",
                Owner::of_person(OTHER_PERSON, OTHER_ORG).with_provider(ORG),
            ),
            (
                "other provider's CE data",
                Owner::of_person(OTHER_PERSON, OTHER_ORG).with_provider(OTHER_ORG),
            ),
            (
                "own provider's activity",
                Owner::default().with_provider(ORG),
            ),
            (
                "taught by the caller",
                Owner::of_person(OTHER_PERSON, OTHER_ORG).with_teachers([OTHER_USER, USER]),
            ),
            (
                "taught by another",
                Owner::of_person(OTHER_PERSON, OTHER_ORG).with_teachers([OTHER_USER]),
            ),
            (
                "association's, taught by the caller",
                Owner::of_association().with_teachers([USER]),
            ),
            (
                "association's, taught by another",
                Owner::of_association().with_teachers([OTHER_USER]),
            ),
            ("no owner facts", Owner::default()),
        ]
    }

    /// A caller of `role` with every fact, so the table also proves that a
    /// role ignores the facts it has no claim through.
    fn caller(role: Role) -> Caller {
        Caller::new(role, USER, Some(ORG), Some(PERSON))
    }

    /// Per role: its scope and, per owner kind in [`owners`] order, whether
    /// it sees it (1) or not (0).
    fn expected(role: Role) -> Option<(Scope, &'static str)> {
        use Role::*;
        // Columns in `owners` order, grouped: organisation records (own,
        // other) | people of the own, other organisation | own person
        // (individual, of another organisation), other person, own person
        // second | CE data of the own, other provider, own provider's
        // activity | taught by the caller, by another | association's,
        // taught by the caller, by another | no facts.
        let staff = (Scope::All, "11 11 1111 111 11 11 1");
        Some(match role {
            Admin | TrainingOfficer | TrainingHead | Finance | Leader | Authority => staff,
            OrgFiller | OrgReviewer => (Scope::Organisation(ORG), "10 10 0000 101 00 11 0"),
            Provider => (Scope::Provider(ORG), "10 00 0000 101 00 11 0"),
            Trainee => (Scope::Person(PERSON), "00 00 1101 000 00 11 0"),
            Teacher => (Scope::Teacher(USER), "00 00 0000 000 10 10 0"),
            #[allow(unreachable_patterns)]
            _ => return None,
        })
    }

    #[test]
    fn every_role_against_every_owner_acc_2() {
        // rule ACC-2: who sees what; a new role fails here until it is listed.
        let owners = owners();
        for &role in Role::ALL {
            let Some((want_scope, row)) = expected(role) else {
                panic!("role {role} has no row in the ACC-2 table");
            };
            let want: Vec<bool> = row
                .chars()
                .filter(|c| !c.is_whitespace())
                .map(|c| c == '1')
                .collect();
            assert_eq!(want.len(), owners.len(), "row of {role}");
            let caller = caller(role);
            assert_eq!(scope(&caller), want_scope, "scope of {role}");
            for ((name, owner), want) in owners.iter().zip(want) {
                assert_eq!(can_see(&caller, owner), want, "{role} sees {name}");
                assert_eq!(scope(&caller).admits(owner), want, "{role} lists {name}");
            }
        }
    }

    #[test]
    fn callers_without_their_facts_see_nothing_acc_2() {
        // rule ACC-2: an organisation or provider account without an
        // organisation, or a trainee without a person, sees no one's data.
        for &role in Role::ALL {
            let bare = Caller::new(role, USER, None, None);
            let want = match role {
                r if r.is_association_staff() || r == Role::Authority => Scope::All,
                Role::Teacher => Scope::Teacher(USER),
                _ => Scope::Nothing,
            };
            assert_eq!(scope(&bare), want, "bare {role}");
            if want == Scope::Nothing {
                for (name, owner) in owners() {
                    assert_eq!(
                        can_see(&bare, &owner),
                        owner.association,
                        "bare {role} sees {name}"
                    );
                }
            }
        }
    }

    #[test]
    fn caller_provider_and_teacher_follow_the_role() {
        let provider = caller(Role::Provider);
        assert_eq!(provider.provider(), Some(ORG));
        assert_eq!(provider.teacher(), None);
        let teacher = caller(Role::Teacher);
        assert_eq!(teacher.teacher(), Some(USER));
        assert_eq!(teacher.provider(), None);
        assert_eq!(caller(Role::OrgFiller).provider(), None);
    }

    #[test]
    fn organisation_records_scope_acc_2() {
        // rule ACC-2: organisation and provider accounts list their own
        // organisation's records; trainees and teachers none.
        assert_eq!(Scope::All.for_organisation_records(), Scope::All);
        assert_eq!(
            Scope::Organisation(ORG).for_organisation_records(),
            Scope::Organisation(ORG)
        );
        assert_eq!(
            Scope::Provider(ORG).for_organisation_records(),
            Scope::Organisation(ORG)
        );
        assert_eq!(
            Scope::Person(PERSON).for_organisation_records(),
            Scope::Nothing
        );
        assert_eq!(
            Scope::Teacher(USER).for_organisation_records(),
            Scope::Nothing
        );
        assert_eq!(Scope::Nothing.for_organisation_records(), Scope::Nothing);
        // The narrowed scope admits of an organisation's record what the
        // caller may see.
        for &role in Role::ALL {
            let c = caller(role);
            for owner in [
                Owner::of_organisation(ORG),
                Owner::of_organisation(OTHER_ORG),
            ] {
                assert_eq!(
                    scope(&c).for_organisation_records().admits(&owner),
                    can_see(&c, &owner),
                    "{role}"
                );
            }
        }
    }

    #[test]
    fn notifications_are_the_recipients_and_the_admin_reads_one_for_support() {
        for &role in Role::ALL {
            let caller = Caller::new(role, USER, Some(ORG), Some(PERSON));
            assert!(can_read_notification(&caller, USER, true), "{role:?}");
            assert!(can_read_notification(&caller, USER, false), "{role:?}");
            assert_eq!(
                can_read_notification(&caller, OTHER_USER, true),
                role == Role::Admin,
                "{role:?}"
            );
            assert!(
                !can_read_notification(&caller, OTHER_USER, false),
                "{role:?}"
            );
        }
    }
}
