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
