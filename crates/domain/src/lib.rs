//! Guild's pure business rules: roles, people, organisations, accounts and
//! their state machines. No I/O; time comes from a [`Clock`].
//!
//! Rule IDs in doc comments and tests refer to `SPEC.md`.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]
#![warn(missing_docs)]

mod wire;

pub mod access;
pub mod account;
pub mod archive;
pub mod attendance;
pub mod ban;
pub mod calendar;
pub mod ce;
pub mod ce_compliance;
pub mod certificate;
pub mod certificate_request;
pub mod class;
pub mod clock;
pub mod codes;
pub mod deferral;
pub mod discipline;
pub mod enrolment;
pub mod error;
pub mod exam;
pub mod fees;
pub mod money;
pub mod notice;
pub mod organisation;
pub mod person;
pub mod plan;
pub mod program;
pub mod refund;
pub mod role;
pub mod roles;
pub mod schedule;
pub mod teacher;
pub mod webhook;

pub use account::{LoginThrottle, UserAction, UserStatus};
pub use clock::{Clock, DEFAULT_TIME_ZONE, ManualClock, SystemClock, local_date};
pub use error::{FieldError, InvalidTransition, Refusal, UnknownValue};
pub use money::Fen;
pub use organisation::{
    AccountChangeAction, AccountChangeStatus, CreditCode, OrgAction, OrgKind, OrgStatus,
};
pub use person::{Gender, IdType, ResidentIdNumber, SkillLevel, TraineeCategory, TraineeGroup};
pub use role::Role;
