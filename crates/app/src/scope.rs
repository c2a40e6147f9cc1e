//! List scopes as store filters (ACC-2, [`guild_domain::access::scope`]).

use guild_domain::access::{self, Scope};

use crate::ctx::Caller;

/// How a list of data about people (enrolments and what hangs off them:
/// deferrals, substitutions, refunds) is confined for a caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonData {
    /// Only this organisation's (organisation accounts).
    pub only_organisation: Option<String>,
    /// Only this person's (trainees).
    pub only_person: Option<String>,
}

/// The filter of `caller`'s lists of data about people, or `None` when the
/// caller sees none of it (providers, teachers, accounts without their
/// organisation or person): the list is empty without asking the database.
pub fn person_data(caller: &Caller) -> Option<PersonData> {
    match access::scope(&caller.policy()) {
        Scope::All => Some(PersonData::default()),
        Scope::Organisation(o) => Some(PersonData {
            only_organisation: Some(o.to_string()),
            ..PersonData::default()
        }),
        Scope::Person(p) => Some(PersonData {
            only_person: Some(p.to_string()),
            ..PersonData::default()
        }),
        Scope::Provider(_) | Scope::Teacher(_) | Scope::Nothing => None,
    }
}

/// [`person_data`] as a store filter for callers that cannot skip the query:
/// a caller who sees none of it gets a filter no stored id matches.
pub fn person_data_filter(caller: &Caller) -> PersonData {
    person_data(caller).unwrap_or(PersonData {
        only_organisation: Some(String::new()),
        only_person: None,
    })
}
