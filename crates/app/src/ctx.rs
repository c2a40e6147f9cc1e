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
