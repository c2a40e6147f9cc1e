//! The fee ledger of an enrolment (ENR-3): charges written on confirmation,
//! payments recorded by finance, refunds and transfers later; the balance is
//! always derived from the entries.

use chrono::{DateTime, Utc};
use guild_domain::Fen;
use guild_domain::enrolment::{EnrolmentAction, EnrolmentStatus};
use guild_domain::fees::{Balance, FeeItem, LedgerKind, check_payment};
use guild_store::DbConn;
use guild_store::ledger::LedgerEntryRow;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use super::{ledger_entry, ledger_of, locked, save, status_of, step, view_of, visible};
use crate::ctx::Ctx;
use crate::error::{AppResult, stored};
use crate::events::kinds as ev;
use crate::ids::stored_id;

/// One ledger entry.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LedgerEntryView {
    /// The entry id.
    pub id: Uuid,
    /// Charge, payment, refund or transfer.
    pub kind: LedgerKind,
    /// What it is for.
    pub item: FeeItem,
    /// The amount in fen (never negative; `kind` gives the direction).
    pub amount_fen: Fen,
    /// Receipt or voucher number of a payment.
    pub reference: Option<String>,
    /// A note.
    pub note: Option<String>,
    /// Who recorded it.
    pub recorded_by: Uuid,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl LedgerEntryView {
    /// The record of a stored entry.
    pub fn from_row(r: LedgerEntryRow) -> AppResult<Self> {
        const T: &str = "ledger_entries";
        Ok(LedgerEntryView {
            id: stored_id(T, &r.id)?,
            kind: stored(T, &r.kind)?,
            item: stored(T, &r.item)?,
            amount_fen: Fen::from_stored(r.amount_fen),
            reference: r.reference,
            note: r.note,
            recorded_by: stored_id(T, &r.recorded_by)?,
            created_at: r.created_at.and_utc(),
        })
    }
}

/// The ledger of one enrolment (ENR-3).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LedgerView {
    /// The enrolment.
    pub enrolment_id: Uuid,
    /// The enrolment's status.
    pub status: EnrolmentStatus,
    /// ENR-3: whether the trainee may take part (the fee is paid).
    pub is_paid_up: bool,
    /// Every entry, oldest first.
    pub entries: Vec<LedgerEntryView>,
    /// The balance derived from the entries.
    pub balance: Balance,
}

/// A payment received (ENR-3).
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"amount_fen": 120000, "reference": "RCPT-2026-00017"})))]
pub struct RecordPayment {
    /// The amount received, in fen; more than 0 and at most what is due.
    pub amount_fen: Fen,
    /// The receipt or voucher number (required).
    #[validate(length(min = 1, max = 64))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub reference: String,
    /// A note.
    #[validate(length(min = 1, max = 500))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500))]
    pub note: Option<String>,
}

fn ledger_view(conn: &mut DbConn, row_id: &str, status: EnrolmentStatus) -> AppResult<LedgerView> {
    let (rows, balance) = ledger_of(conn, row_id)?;
    Ok(LedgerView {
        enrolment_id: stored_id("enrolments", row_id)?,
        status,
        is_paid_up: status.is_paid_up(),
        entries: rows
            .into_iter()
            .map(LedgerEntryView::from_row)
            .collect::<AppResult<_>>()?,
        balance,
    })
}

/// The ledger of an enrolment the caller may see (404 otherwise, ACC-2).
pub fn get(ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<LedgerView> {
    let row = visible(conn, ctx.caller()?, &id.to_string())?;
    let (status, _) = status_of(&row)?;
    ledger_view(conn, &row.id, status)
}

/// Records a payment (ENR-3): at most what is due (422 otherwise); when it
/// settles the balance of a `confirmed` enrolment, the enrolment becomes
/// `paid` (`enrolment.paid`), else the payment is recorded
/// (`enrolment.payment_recorded`). A later charge (retake exam fee, card fee)
/// is paid without a transition; with nothing due, paying a paid enrolment is
/// the wrong state (409). The enrolment row is locked, so concurrent payments
/// run one after the other, each checked against the ledger the previous one
/// left (no 412 without If-Match).
pub fn pay(ctx: &Ctx, conn: &mut DbConn, id: Uuid, body: RecordPayment) -> AppResult<LedgerView> {
    let caller = ctx.caller()?;
    let id = id.to_string();
    let mut row = locked(conn, caller, &id)?;
    let (status, _) = status_of(&row)?;
    let (_, balance) = ledger_of(conn, &row.id)?;
    let next = if status.pays_later_charges() && !balance.is_settled() {
        None
    } else {
        Some(step(caller, &row, EnrolmentAction::Pay)?)
    };
    check_payment(&balance, body.amount_fen)?;
    let before = view_of(conn, row.clone(), true)?;
    let mut entry = ledger_entry(
        &row.id,
        LedgerKind::Payment,
        FeeItem::Other,
        body.amount_fen,
        &caller.id,
        ctx.now,
    );
    entry.reference = Some(body.reference.trim().to_owned());
    entry.note = body.note.map(|n| n.trim().to_owned());
    guild_store::ledger::insert(conn, &entry)?;
    let (_, after) = ledger_of(conn, &row.id)?;
    let kind = match next {
        Some(next) if after.is_settled() => {
            row.status = next.as_str().to_owned();
            row.paid_at = Some(ctx.now.naive_utc());
            ev::ENROLMENT_PAID
        }
        _ => ev::ENROLMENT_PAYMENT_RECORDED,
    };
    let view = save(ctx, conn, kind, row, &before)?;
    ledger_view(conn, &id, view.status)
}
