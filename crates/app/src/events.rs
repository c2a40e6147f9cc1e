//! One event per state change (API-6, API-8).
//!
//! A use case describes what changed as one [`Event`] and hands it to
//! [`Ctx::emit`] inside the change's transaction. `emit` writes, all in that
//! transaction:
//!
//! - the audit event (API-6), under the kind's audit action (`refund.pay`),
//!   with before and after;
//! - the notifications the event carries ([`Notice`]);
//! - one **outbox** row (API-8) with the same id, the kind's name
//!   (`refund.paid`) and the payload, for the webhook dispatcher. Security
//!   events (`auth.*`) are audited only: they are never published.
//!
//! Every kind is listed once in [`CATALOGUE`], which is what webhook
//! subscribers can subscribe to.

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use guild_store::DbConn;
use guild_store::audit::AuditEventRow;
use guild_store::notifications::NotificationRow;
use guild_store::outbox::OutboxRow;

use crate::ctx::Ctx;
use crate::error::{AppError, AppResult};

/// One kind of event: its published name and the audit action it is logged under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventKind {
    /// `resource.action` in the past tense, e.g. `refund.paid`: the webhook event type.
    pub name: &'static str,
    /// The audit log's action for it, e.g. `refund.pay` (API-6, unchanged wire names).
    pub audit_action: &'static str,
    /// What happened, for the catalogue's readers.
    pub description: &'static str,
}

impl EventKind {
    /// The resource part of the name, e.g. `refund`.
    pub fn resource(&self) -> &'static str {
        self.name.split_once('.').map_or(self.name, |(r, _)| r)
    }

    /// Whether the event goes to the outbox (every kind but the security events,
    /// which are audited only).
    pub fn published(&self) -> bool {
        self.resource() != "auth"
    }
}

macro_rules! catalogue {
    ($( $ident:ident = ($name:literal, $action:literal, $desc:literal), )*) => {
        /// Every event kind, by name.
        pub mod kinds {
            use super::EventKind;
            $(
                #[doc = $desc]
                pub const $ident: EventKind = EventKind { name: $name, audit_action: $action, description: $desc };
            )*
        }
        /// Every event kind, in name order.
        pub const CATALOGUE: &[EventKind] = &[$(kinds::$ident,)*];
    };
}

catalogue! {
    ACCOUNT_CHANGE_APPROVED = ("account_change.approved", "account_change.approve", "The association approved a change of an organisation's accounts."),
    ACCOUNT_CHANGE_REJECTED = ("account_change.rejected", "account_change.reject", "The association rejected a change of an organisation's accounts."),
    ACCOUNT_CHANGE_SUBMITTED = ("account_change.submitted", "account_change.submit", "An organisation asked to change its accounts."),
    ARCHIVE_COMPLETED = ("archive.completed", "archive.complete", "A class archive was completed."),
    ARCHIVE_DOCUMENT_ATTACHED = ("archive.document_attached", "archive.attach_document", "A document was attached to a class archive."),
    ARCHIVE_OPENED = ("archive.opened", "archive.open", "A class archive was opened."),
    ARCHIVE_OVERDUE = ("archive.overdue", "archive.overdue", "An open class archive passed its due date (ARC-2; scheduled, no actor)."),
    ATTENDANCE_RECORDED = ("attendance.recorded", "attendance.record", "A teacher recorded attendance of a session."),
    AUTH_LOGGED_IN = ("auth.logged_in", "auth.login", "An account logged in (audited only)."),
    AUTH_LOGGED_OUT = ("auth.logged_out", "auth.logout", "An account logged out (audited only)."),
    AUTH_LOGIN_FAILED = ("auth.login_failed", "auth.login_failed", "A login failed (audited only)."),
    AUTH_PASSWORD_CHANGE_FAILED = ("auth.password_change_failed", "auth.password_change_failed", "A password change gave a wrong current password (audited only)."),
    AUTH_REFRESH_TOKEN_REUSED = ("auth.refresh_token_reused", "auth.refresh_reused", "A spent refresh token was presented again, ending its session (audited only)."),
    AUTH_TOKENS_REFRESHED = ("auth.tokens_refreshed", "auth.refresh", "An account exchanged its refresh token for new tokens (audited only)."),
    BAN_CREATED = ("ban.created", "ban.create", "A person was banned from enrolling."),
    BAN_WITHDRAWN = ("ban.withdrawn", "ban.withdraw", "A ban was withdrawn."),
    CALENDAR_DAY_DELETED = ("calendar_day.deleted", "calendar_day.delete", "A calendar day override was removed."),
    CALENDAR_DAY_SET = ("calendar_day.set", "calendar_day.set", "A calendar day was marked as a working day or holiday."),
    CE_REQUIREMENT_UNMET = ("ce.requirement_unmet", "ce.requirement_unmet", "On 1 December a person under CE obligation was short of the year's credits (CED-2; scheduled, no actor)."),
    CE_ACTIVITY_CREATED = ("ce_activity.created", "ce_activity.create", "A continuing-education activity was recorded."),
    CE_ACTIVITY_REGISTERED = ("ce_activity.registered", "ce_activity.register", "The authority registered a CE activity."),
    CE_ACTIVITY_REJECTED = ("ce_activity.rejected", "ce_activity.reject", "The authority rejected a CE activity."),
    CE_CREDIT_RECORDED = ("ce_credit.recorded", "ce_activity.record_credits", "CE credits were recorded for an activity."),
    CE_PROVIDER_ACCREDITED = ("ce_provider.accredited", "ce_provider.accredit", "The authority accredited a CE provider."),
    CE_PROVIDER_APPLIED = ("ce_provider.applied", "ce_provider.apply", "A CE provider applied for accreditation."),
    CE_PROVIDER_REINSTATED = ("ce_provider.reinstated", "ce_provider.reinstate", "A suspended CE provider was reinstated."),
    CE_PROVIDER_REJECTED = ("ce_provider.rejected", "ce_provider.reject", "A CE provider's application was rejected."),
    CE_PROVIDER_SUSPENDED = ("ce_provider.suspended", "ce_provider.suspend", "A CE provider was suspended."),
    CE_PROVIDER_UPDATED = ("ce_provider.updated", "ce_provider.update", "A CE provider's details changed."),
    CE_PROVIDER_WITHDRAWN = ("ce_provider.withdrawn", "ce_provider.withdraw", "A CE provider's accreditation was withdrawn."),
    CE_REQUIREMENT_SET = ("ce_requirement.set", "ce_requirement.set", "A region's annual CE requirement was set."),
    CERTIFICATE_CANCELLED = ("certificate.cancelled", "certificate.cancellation", "A certificate was cancelled on request."),
    CERTIFICATE_CE_RECORDED = ("certificate.ce_recorded", "certificate.ce_record", "Continuing education was recorded on a certificate."),
    CERTIFICATE_CHANGED = ("certificate.changed", "certificate.change", "A certificate was reissued with changed details."),
    CERTIFICATE_EXPIRED = ("certificate.expired", "certificate.expire", "A certificate's validity ended without recorded CE (CRT-8; scheduled, no actor)."),
    CERTIFICATE_EXPIRING = ("certificate.expiring", "certificate.expiring", "A certificate ends in 90 or 30 days without recorded CE (CRT-4; scheduled, no actor)."),
    CERTIFICATE_ISSUED = ("certificate.issued", "certificate.issue", "A certificate was issued."),
    CERTIFICATE_LAPSED = ("certificate.lapsed", "certificate.lapse", "A certificate's CE grace window closed: it is void (CRT-4; scheduled, no actor)."),
    CERTIFICATE_REISSUED = ("certificate.reissued", "certificate.reissue", "A certificate was reissued."),
    CERTIFICATE_REVOKED = ("certificate.revoked", "certificate.revoke", "A certificate was revoked."),
    CERTIFICATE_SUPERSEDED = ("certificate.superseded", "certificate.supersede", "A certificate was replaced by a new one."),
    CERTIFICATE_REQUEST_APPROVED = ("certificate_request.approved", "certificate_request.approve", "A certificate request was approved."),
    CERTIFICATE_REQUEST_FILED = ("certificate_request.filed", "certificate_request.file", "A certificate request was filed."),
    CERTIFICATE_REQUEST_REJECTED = ("certificate_request.rejected", "certificate_request.reject", "A certificate request was rejected."),
    CERTIFICATE_REQUEST_WITHDRAWN = ("certificate_request.withdrawn", "certificate_request.withdraw", "A certificate request was withdrawn."),
    CLASS_CANCELLED = ("class.cancelled", "class.cancel", "A class was cancelled."),
    CLASS_CHECKLIST_ITEM_ADDED = ("class.checklist_item_added", "class.checklist.add", "An item was added to a class's preparation checklist."),
    CLASS_CHECKLIST_ITEM_CHECKED = ("class.checklist_item_checked", "class.checklist.check", "An item of a class's preparation checklist was checked off."),
    CLASS_CHECKLIST_ITEM_UNCHECKED = ("class.checklist_item_unchecked", "class.checklist.uncheck", "A checked item of a class's preparation checklist was unchecked."),
    CLASS_CREATED = ("class.created", "class.create", "A class was created."),
    CLASS_FINISHED = ("class.finished", "class.finish", "A class finished."),
    CLASS_OPENED = ("class.opened", "class.open", "A class was opened for enrolment."),
    CLASS_RESULTS_PUBLISHED = ("class.results_published", "class.results_publish", "A class's exam results were published."),
    CLASS_STARTED = ("class.started", "class.start", "A class started."),
    CLASS_UPDATED = ("class.updated", "class.update", "A class's details changed."),
    DEFERRAL_APPROVED = ("deferral.approved", "deferral.approve", "A deferral was approved."),
    DEFERRAL_FILED = ("deferral.filed", "deferral.file", "A deferral was filed."),
    DEFERRAL_REJECTED = ("deferral.rejected", "deferral.reject", "A deferral was rejected."),
    DEFERRAL_TRANSFERRED = ("deferral.transferred", "deferral.transfer", "A deferred trainee was moved to a later class."),
    ENROLMENT_APPROVED = ("enrolment.approved", "enrolment.approve", "The organisation's reviewer approved an enrolment."),
    ENROLMENT_CANCELLED = ("enrolment.cancelled", "enrolment.cancel", "An enrolment was cancelled."),
    ENROLMENT_CARD_FEE_CHARGED = ("enrolment.card_fee_charged", "enrolment.card_fee", "A certificate card fee was charged to an enrolment."),
    ENROLMENT_CONFIRMED = ("enrolment.confirmed", "enrolment.confirm", "The training department confirmed an enrolment."),
    ENROLMENT_CREATED = ("enrolment.created", "enrolment.create", "An enrolment was drafted."),
    ENROLMENT_DEFERRED = ("enrolment.deferred", "enrolment.defer", "An enrolment was deferred."),
    ENROLMENT_NO_SHOW = ("enrolment.no_show", "enrolment.no_show", "A trainee did not turn up."),
    ENROLMENT_NOTIFIED = ("enrolment.notified", "enrolment.notify", "The class notice was sent for an enrolment."),
    ENROLMENT_PAID = ("enrolment.paid", "enrolment.pay", "An enrolment was paid in full."),
    ENROLMENT_PAYMENT_RECORDED = ("enrolment.payment_recorded", "enrolment.payment", "A payment was recorded on an enrolment's ledger."),
    ENROLMENT_PROMOTED = ("enrolment.promoted", "enrolment.promote", "A waiting enrolment got a seat."),
    ENROLMENT_REFUNDED = ("enrolment.refunded", "enrolment.refund", "An enrolment was closed by a paid refund."),
    ENROLMENT_REJECTED = ("enrolment.rejected", "enrolment.reject", "An enrolment was returned to the submitter."),
    ENROLMENT_SUBMITTED = ("enrolment.submitted", "enrolment.submit", "An enrolment was submitted for approval."),
    ENROLMENT_SUBSTITUTED = ("enrolment.substituted", "enrolment.substitute", "An enrolment passed to another person."),
    ENROLMENT_TRANSFERRED = ("enrolment.transferred", "enrolment.transfer", "An enrolment moved to a later class."),
    ENROLMENT_TRANSFERRED_IN = ("enrolment.transferred_in", "enrolment.transfer_in", "An enrolment arrived from an earlier class."),
    ENROLMENT_WAITLISTED = ("enrolment.waitlisted", "enrolment.waitlist", "An enrolment was put on the waiting list."),
    EXAM_REGISTRATION_CREATED = ("exam_registration.created", "exam_registration.create", "A trainee was registered for an exam sitting."),
    EXAM_REGISTRATION_DISQUALIFIED = ("exam_registration.disqualified", "exam_registration.disqualify", "A candidate was disqualified."),
    EXAM_REGISTRATION_REINSTATED = ("exam_registration.reinstated", "exam_registration.reinstate", "A disqualified candidate was reinstated."),
    EXAM_REGISTRATION_RESULT_RECORDED = ("exam_registration.result_recorded", "exam_registration.result", "An exam result was recorded."),
    FORGERY_REPORT_CREATED = ("forgery_report.created", "forgery_report.create", "A suspected forged certificate was reported."),
    LEAVE_REQUEST_APPROVED = ("leave_request.approved", "leave_request.approve", "A leave request was approved."),
    LEAVE_REQUEST_FILED = ("leave_request.filed", "leave_request.file", "A leave request was filed."),
    LEAVE_REQUEST_REFUSED = ("leave_request.refused", "leave_request.refuse", "A leave request was refused."),
    MISCONDUCT_ENTRY_LISTED = ("misconduct_entry.listed", "misconduct_entry.list", "A case was listed on the public misconduct register."),
    MISCONDUCT_ENTRY_WITHDRAWN = ("misconduct_entry.withdrawn", "misconduct_entry.withdraw", "A case on the public misconduct register was marked withdrawn."),
    NOTICE_PUBLISHED = ("notice.published", "notice.publish", "The association published a public notice."),
    ORGANISATION_APPROVED = ("organisation.approved", "organisation.approve", "An organisation was approved."),
    ORGANISATION_CREATED = ("organisation.created", "organisation.create", "An organisation registered."),
    ORGANISATION_REINSTATED = ("organisation.reinstated", "organisation.reinstate", "A suspended organisation was reinstated."),
    ORGANISATION_REJECTED = ("organisation.rejected", "organisation.reject", "An organisation's registration was rejected."),
    ORGANISATION_SUSPENDED = ("organisation.suspended", "organisation.suspend", "An organisation was suspended."),
    ORGANISATION_UPDATED = ("organisation.updated", "organisation.update", "An organisation's details changed."),
    PERSON_CREATED = ("person.created", "person.create", "A person was recorded."),
    PERSON_UPDATED = ("person.updated", "person.update", "A person's details changed."),
    PLAN_AMENDED = ("plan.amended", "plan.amend", "A published training plan was amended."),
    PLAN_CREATED = ("plan.created", "plan.create", "A training plan was drafted."),
    PLAN_PUBLISHED = ("plan.published", "plan.publish", "A training plan was published."),
    PLAN_UPDATED = ("plan.updated", "plan.update", "A draft training plan changed."),
    PROGRAM_CREATED = ("program.created", "program.create", "A training program was created."),
    PROGRAM_REINSTATED = ("program.reinstated", "program.reinstate", "A retired program was reinstated."),
    PROGRAM_RETIRED = ("program.retired", "program.retire", "A program was retired."),
    PROGRAM_UPDATED = ("program.updated", "program.update", "A program's details changed."),
    REFUND_FILED = ("refund.filed", "refund.file", "The training department filed a cancelled class's refund (REF-1)."),
    REFUND_FINANCE_CONFIRMED = ("refund.finance_confirmed", "refund.confirm_finance", "Finance confirmed a refund (REF-3)."),
    REFUND_LEADER_APPROVED = ("refund.leader_approved", "refund.approve", "The leadership approved a refund (REF-3)."),
    REFUND_PAID = ("refund.paid", "refund.pay", "Finance paid a refund (REF-3)."),
    REFUND_REJECTED = ("refund.rejected", "refund.reject", "A refund was rejected at one of its steps (REF-3)."),
    REFUND_REQUESTED = ("refund.requested", "refund.request", "The payer asked for a refund (REF-2)."),
    REFUND_TRAINING_CONFIRMED = ("refund.training_confirmed", "refund.confirm_training", "The training department confirmed a refund (REF-3)."),
    SANCTION_CREATED = ("sanction.created", "sanction.create", "A discipline sanction was recorded."),
    SANCTION_WITHDRAWN = ("sanction.withdrawn", "sanction.withdraw", "A sanction was withdrawn."),
    SIGNING_KEY_CREATED = ("signing_key.created", "signing_key.create", "A certificate signing key was created."),
    SIGNING_KEY_ROTATED = ("signing_key.rotated", "signing_key.rotate", "The certificate signing key was rotated."),
    SITTING_CREATED = ("sitting.created", "sitting.create", "An exam sitting was scheduled."),
    SUBSTITUTION_APPROVED = ("substitution.approved", "substitution.approve", "A substitution was approved."),
    SUBSTITUTION_FILED = ("substitution.filed", "substitution.file", "A substitution was filed."),
    SUBSTITUTION_REJECTED = ("substitution.rejected", "substitution.reject", "A substitution was rejected."),
    TEACHER_APPOINTED = ("teacher.appointed", "teacher.appoint", "A teacher was appointed."),
    TEACHER_DISMISSED = ("teacher.dismissed", "teacher.dismiss", "A teacher was dismissed."),
    TERM_CREATED = ("term.created", "term.create", "A term was created."),
    USER_CREATED = ("user.created", "user.create", "An account was created."),
    USER_DISABLED = ("user.disabled", "user.disable", "An account was disabled."),
    USER_ENABLED = ("user.enabled", "user.enable", "An account was enabled again."),
    USER_PASSWORD_CHANGED = ("user.password_changed", "user.change_password", "An account changed its password."),
    USER_PASSWORD_RESET = ("user.password_reset", "user.reset_password", "An administrator reset an account's password."),
    USER_UNLOCKED = ("user.unlocked", "user.unlock", "An administrator unlocked an account."),
    USER_UPDATED = ("user.updated", "user.update", "An account's details changed."),
    WEBHOOK_CREATED = ("webhook.created", "webhook.create", "A webhook subscription was created (its secret is never in the event)."),
    WEBHOOK_DELETED = ("webhook.deleted", "webhook.delete", "A webhook subscription was deleted."),
    WEBHOOK_DISABLED = ("webhook.disabled", "webhook.disable", "A webhook subscription was disabled because every delivery failed for 5 days."),
    WEBHOOK_SECRET_ROTATED = ("webhook.secret_rotated", "webhook.rotate_secret", "A webhook subscription's signing secret was rotated."),
    WEBHOOK_UPDATED = ("webhook.updated", "webhook.update", "A webhook subscription changed."),
}

/// The kind logged under audit action `action`, if there is one.
pub fn by_audit_action(action: &str) -> Option<&'static EventKind> {
    CATALOGUE.iter().find(|k| k.audit_action == action)
}

/// The kind named `name`, if there is one.
pub fn by_name(name: &str) -> Option<&'static EventKind> {
    CATALOGUE.iter().find(|k| k.name == name)
}

/// Who a notice goes to.
#[derive(Debug, Clone)]
pub enum Recipients {
    /// The payer of an enrolment: its organisation's fillers and reviewers
    /// (when it has one) and the person's own accounts.
    Payer {
        /// The enrolment's organisation.
        organisation_id: Option<String>,
        /// The enrolled person.
        person_id: String,
    },
    /// These accounts.
    Users(Vec<String>),
}

/// A notification an event calls for.
#[derive(Debug, Clone)]
pub struct Notice {
    /// Who gets it.
    pub to: Recipients,
    /// The notification kind, e.g. `refund_paid`.
    pub kind: &'static str,
    /// The title.
    pub title: String,
    /// The body.
    pub body: String,
}

impl Notice {
    /// A notice of `kind` with a `(title, body)` pair as the domain writes them.
    pub fn new(to: Recipients, kind: &'static str, (title, body): (String, String)) -> Self {
        Notice {
            to,
            kind,
            title,
            body,
        }
    }
}

/// One state change.
#[derive(Debug, Clone)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// The changed entity's type, e.g. `refund`.
    pub entity_type: &'static str,
    /// The changed entity's id.
    pub entity_id: String,
    /// The organisation the entity belongs to (it may read its own events).
    pub organisation_id: Option<String>,
    /// The entity before the change (`None` when created).
    pub before: Option<Value>,
    /// The entity after the change (`None` when deleted).
    pub after: Option<Value>,
    /// The notifications it calls for.
    pub notices: Vec<Notice>,
}

impl Event {
    /// An event about `entity_type` `entity_id` with before and after snapshots
    /// as the API shows them (people as an organisation user sees them).
    pub fn new<B: Serialize + ?Sized, A: Serialize + ?Sized>(
        kind: EventKind,
        entity_type: &'static str,
        entity_id: impl ToString,
        before: Option<&B>,
        after: Option<&A>,
    ) -> AppResult<Event> {
        Ok(Event {
            kind,
            entity_type,
            entity_id: entity_id.to_string(),
            organisation_id: None,
            before: before.map(snapshot).transpose()?,
            after: after.map(snapshot).transpose()?,
            notices: Vec::new(),
        })
    }

    /// The change of `record` from `before` to `after`: entity type, id and
    /// organisation come from the record itself ([`Record`]).
    pub fn change<R: Record>(kind: EventKind, before: Option<&R>, after: &R) -> AppResult<Event> {
        Ok(
            Event::new(kind, R::ENTITY, after.entity_id(), before, Some(after))?
                .in_organisation(after.organisation()),
        )
    }

    /// The organisation the entity belongs to.
    pub fn in_organisation(mut self, organisation_id: Option<impl ToString>) -> Self {
        self.organisation_id = organisation_id.map(|o| o.to_string());
        self
    }

    /// Adds a notification.
    pub fn notify(mut self, notice: Notice) -> Self {
        self.notices.push(notice);
        self
    }
}

/// A record the API returns, as the subject of events: which entity it is
/// and which organisation may read its events (ACC-2, API-8).
pub trait Record: Serialize {
    /// The entity type, e.g. `refund`.
    const ENTITY: &'static str;
    /// The entity's id.
    fn entity_id(&self) -> Uuid;
    /// The organisation the entity belongs to, if any.
    fn organisation(&self) -> Option<Uuid>;
}

fn snapshot<T: Serialize + ?Sized>(value: &T) -> AppResult<Value> {
    serde_json::to_value(value)
        .map_err(|e| AppError::Internal(format!("cannot serialise event snapshot: {e}")))
}

fn json_text(value: &Option<Value>) -> Option<String> {
    value.as_ref().map(Value::to_string)
}

impl Ctx {
    /// Records `event` in the current transaction: the audit row, its
    /// notifications and, for published kinds, the outbox row (same id).
    pub fn emit(&self, conn: &mut DbConn, event: Event) -> AppResult<()> {
        self.emit_as(conn, Uuid::now_v7().to_string(), event)
    }

    /// Like [`Ctx::emit`], with the event id chosen by the caller (the
    /// scheduler records it with the occasion it announced).
    pub fn emit_as(&self, conn: &mut DbConn, id: String, event: Event) -> AppResult<()> {
        let at = self.now.naive_utc();
        guild_store::audit::insert(
            conn,
            &AuditEventRow {
                id: id.clone(),
                occurred_at: at,
                actor_user_id: self.caller.as_ref().map(|c| c.id.clone()),
                actor_role: self.caller.as_ref().map(|c| c.role.as_str().to_owned()),
                action: event.kind.audit_action.to_owned(),
                entity_type: event.entity_type.to_owned(),
                entity_id: event.entity_id.clone(),
                organisation_id: event.organisation_id.clone(),
                before_json: json_text(&event.before),
                after_json: json_text(&event.after),
                request_id: Some(self.request_id.clone()).filter(|r| !r.is_empty()),
                address: Some(self.address.clone()).filter(|a| !a.is_empty()),
            },
        )?;
        for notice in &event.notices {
            self.deliver(conn, event.entity_type, &event.entity_id, notice)?;
        }
        if event.kind.published() {
            let payload = event.after.as_ref().or(event.before.as_ref());
            guild_store::outbox::insert(
                conn,
                &OutboxRow {
                    id,
                    kind: event.kind.name.to_owned(),
                    entity_type: event.entity_type.to_owned(),
                    entity_id: event.entity_id,
                    organisation_id: event.organisation_id,
                    payload: payload.map_or_else(|| "null".to_owned(), Value::to_string),
                    created_at: at,
                    delivery_state: guild_store::outbox::PENDING.to_owned(),
                    dispatched_at: None,
                },
            )?;
        }
        Ok(())
    }

    /// Writes `notice` about `entity_type` `entity_id` to each of its recipients.
    pub fn deliver(
        &self,
        conn: &mut DbConn,
        entity_type: &str,
        entity_id: &str,
        notice: &Notice,
    ) -> AppResult<()> {
        let to = match &notice.to {
            Recipients::Payer {
                organisation_id,
                person_id,
            } => guild_store::notifications::enrolment_recipients(
                conn,
                organisation_id.as_deref(),
                person_id,
            )?,
            Recipients::Users(users) => users.clone(),
        };
        for user in to {
            guild_store::notifications::insert(
                conn,
                &NotificationRow {
                    id: Uuid::now_v7().to_string(),
                    recipient_user_id: user,
                    kind: notice.kind.to_owned(),
                    title: notice.title.clone(),
                    body: notice.body.clone(),
                    entity_type: entity_type.to_owned(),
                    entity_id: entity_id.to_owned(),
                    created_at: self.now.naive_utc(),
                    read_at: None,
                },
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_names_each_kind_once_as_resource_dot_action() {
        // rule API-8: one catalogue of `resource.action` event kinds
        let mut names: Vec<_> = CATALOGUE.iter().map(|k| k.name).collect();
        let sorted = names.clone();
        names.sort_unstable();
        assert_eq!(names, sorted, "keep the catalogue in name order");
        names.dedup();
        assert_eq!(names.len(), CATALOGUE.len(), "a kind is listed twice");
        let mut actions: Vec<_> = CATALOGUE.iter().map(|k| k.audit_action).collect();
        actions.sort_unstable();
        actions.dedup();
        assert_eq!(
            actions.len(),
            CATALOGUE.len(),
            "an audit action is listed twice"
        );
        for k in CATALOGUE {
            let (resource, action) = k.name.split_once('.').unwrap_or_default();
            let snake =
                |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c == '_');
            assert!(
                snake(resource) && snake(action),
                "{} is not resource.action",
                k.name
            );
            // The audit action keeps its historical name (API-6), e.g.
            // `ce_credit.recorded` is logged as `ce_activity.record_credits`.
            assert!(k.audit_action.split('.').all(snake), "{}", k.audit_action);
            assert!(!k.description.is_empty(), "{}", k.name);
        }
    }

    #[test]
    fn security_events_are_audited_but_never_published() {
        // rule API-8: `auth.*` stays in the audit log
        assert!(!kinds::AUTH_LOGIN_FAILED.published());
        assert!(kinds::REFUND_PAID.published());
        assert_eq!(by_audit_action("refund.pay"), Some(&kinds::REFUND_PAID));
        assert_eq!(by_name("refund.paid"), Some(&kinds::REFUND_PAID));
        assert_eq!(by_audit_action("refund.nonsense"), None);
    }
}
