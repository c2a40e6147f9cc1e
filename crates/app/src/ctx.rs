//! The context of one use case: who asks, when, in which time zone, and the
//! request it came with (omicron's `OpContext`).

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use guild_domain::Role;
use guild_domain::access;

use crate::ids::fact;

use crate::error::{AppError, AppResult};

/// The authenticated account a use case runs for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The account id.
    pub id: String,
    /// The account's role.
    pub role: Role,
    /// The organisation of an organisation or provider account.
    pub organisation_id: Option<String>,
    /// The person record of a trainee or teacher account.
    pub person_id: Option<String>,
}

impl Caller {
    /// The caller as the visibility policy sees it (ACC-2). A stored id that
    /// is not a UUID is no fact at all, so it grants nothing (fail closed).
    pub fn policy(&self) -> access::Caller {
        access::Caller::new(
            self.role,
            fact(Some(&self.id)).unwrap_or_default(),
            fact(self.organisation_id.as_deref()),
            fact(self.person_id.as_deref()),
        )
    }

    /// ACC-2: whether the caller may see a resource with these facts.
    pub fn sees(&self, owner: &access::Owner) -> bool {
        access::can_see(&self.policy(), owner)
    }

    /// ACC-2: what the caller's list queries are confined to.
    pub fn scope(&self) -> access::Scope {
        access::scope(&self.policy())
    }

    /// ACC-2: the organisation a list of organisations' own records (about
    /// no person) is confined to: `None` for association staff and the
    /// authority, else the own organisation, or an id matching nothing.
    pub fn organisation_scope(&self) -> Option<String> {
        match self.scope().for_organisation_records() {
            access::Scope::All => None,
            access::Scope::Organisation(own) => Some(own.to_string()),
            _ => Some(crate::access::no_id()),
        }
    }

    /// ACC-2: the organisation filter of a list of organisations' own records
    /// when the client asked for `wanted`: `None` when the caller may not see
    /// that organisation (the list is empty), else the filter to apply
    /// (`Some(None)`: every organisation).
    pub fn organisation_filter(&self, wanted: Option<uuid::Uuid>) -> Option<Option<String>> {
        let wanted = wanted.map(|o| o.to_string());
        match self.organisation_scope() {
            None => Some(wanted),
            Some(own) if wanted.as_ref().is_some_and(|w| *w != own) => None,
            Some(own) => Some(Some(own)),
        }
    }

    /// ACC-2: whether the caller may see an organisation's own records
    /// (records about no person) of `organisation_id`.
    pub fn can_see_organisation(&self, organisation_id: Option<&str>) -> bool {
        self.sees(&access::Owner::of_organisation(fact(organisation_id)))
    }

    /// 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> AppResult<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}

/// Everything a use case knows about its request besides its input.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The caller; `None` only for unauthenticated work (a failed login).
    pub caller: Option<Caller>,
    /// The instant of the change, from the injected clock, microsecond precision.
    pub now: DateTime<Utc>,
    /// The association's time zone, for date rules.
    pub tz: Tz,
    /// The request's `X-Request-Id` (empty for work no request started).
    pub request_id: String,
    /// The client's address.
    pub address: String,
}

impl Ctx {
    /// The context of work no request started and no account asked for: the
    /// scheduler's time-driven events (CRT-4, CRT-8, ARC-2, CED-2). It has
    /// no caller, no request id and no address, so the audit row of what it
    /// emits has an empty actor (`actor_user_id` and `actor_role` null): the
    /// system did it, on the day the injected clock says.
    pub fn system(now: DateTime<Utc>, tz: Tz) -> Ctx {
        Ctx {
            caller: None,
            now,
            tz,
            request_id: String::new(),
            address: String::new(),
        }
    }

    /// The caller, or 401-worthy internal error if a use case that needs one
    /// runs without (a wiring fault, never a client's).
    pub fn caller(&self) -> AppResult<&Caller> {
        self.caller
            .as_ref()
            .ok_or_else(|| AppError::Internal("use case run without a caller".to_owned()))
    }

    /// Today in the association's time zone.
    pub fn today(&self) -> NaiveDate {
        guild_domain::local_date(self.now, self.tz)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn caller(role: Role, organisation: Option<Uuid>) -> Caller {
        Caller {
            id: Uuid::from_u128(1).to_string(),
            role,
            organisation_id: organisation.map(|o| o.to_string()),
            person_id: None,
        }
    }

    #[test]
    fn organisation_filter_confines_organisation_accounts_acc_2() {
        // rule ACC-2: staff filter as asked; an organisation account gets its
        // own organisation, and another organisation's list is empty
        let (own, other) = (Uuid::from_u128(7), Uuid::from_u128(8));
        let staff = caller(Role::Admin, None);
        assert_eq!(staff.organisation_filter(None), Some(None));
        assert_eq!(
            staff.organisation_filter(Some(other)),
            Some(Some(other.to_string()))
        );
        let org = caller(Role::OrgReviewer, Some(own));
        assert_eq!(org.organisation_filter(None), Some(Some(own.to_string())));
        assert_eq!(
            org.organisation_filter(Some(own)),
            Some(Some(own.to_string()))
        );
        assert_eq!(org.organisation_filter(Some(other)), None);
        let orphan = caller(Role::OrgFiller, None);
        assert_eq!(orphan.organisation_filter(None), Some(Some(String::new())));
    }
}
