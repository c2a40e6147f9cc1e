//! The fee ledger of an enrolment (ENR-3): charges written on confirmation,
//! payments recorded by finance, refunds and transfers later; the balance is
//! always derived from the entries.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use guild_domain::enrolment::{EnrolmentAction, EnrolmentStatus};
use guild_domain::fees::{Balance, FeeItem, LedgerKind, check_payment};
use guild_domain::{Fen, Role};
use guild_store::DbConn;
use guild_store::ledger::LedgerEntryRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::audit::Actor;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{RequestContext, parse_stored, validate};
use crate::openapi::{ActionErrors, ReadErrors};
use crate::routes::enrolments::EnrolmentView;
use crate::routes::users::stored_uuid;
use crate::state::AppState;
use guild_app::enrolments as service;

/// One ledger entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
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

impl TryFrom<LedgerEntryRow> for LedgerEntryView {
    type Error = ApiError;
    fn try_from(r: LedgerEntryRow) -> ApiResult<Self> {
        Ok(LedgerEntryView {
            id: stored_uuid("ledger_entries", &r.id)?,
            kind: parse_stored("ledger_entries", &r.kind)?,
            item: parse_stored("ledger_entries", &r.item)?,
            amount_fen: Fen::from_stored(r.amount_fen),
            reference: r.reference,
            note: r.note,
            recorded_by: stored_uuid("ledger_entries", &r.recorded_by)?,
            created_at: r.created_at.and_utc(),
        })
    }
}

/// The ledger of one enrolment (ENR-3).
#[derive(Debug, Clone, Serialize, ToSchema)]
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
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount_fen": 120000, "reference": "RCPT-2026-00017"}))]
pub struct RecordPayment {
    /// The amount received, in fen; more than 0 and at most what is due.
    pub amount_fen: Fen,
    /// The receipt or voucher number (required).
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub reference: String,
    /// A note.
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub note: Option<String>,
}

fn ledger_view(conn: &mut DbConn, row_id: &str, status: EnrolmentStatus) -> ApiResult<LedgerView> {
    let (rows, balance) = service::ledger_of(conn, row_id)?;
    Ok(LedgerView {
        enrolment_id: stored_uuid("enrolments", row_id)?,
        status,
        is_paid_up: status.is_paid_up(),
        entries: rows
            .into_iter()
            .map(LedgerEntryView::try_from)
            .collect::<ApiResult<_>>()?,
        balance,
    })
}

/// The fee ledger of an enrolment: every entry and the balance derived from
/// them (ENR-3). Visible to whoever may see the enrolment.
#[utoipa::path(
    operation_id = "get_enrolment_ledger",
    tag = "enrolments",
    params(("id" = Uuid, Path, description = "Enrolment id")),
    responses((status = 200, description = "OK", body = LedgerView), ReadErrors)
)]
#[get("/enrolments/{id}/ledger")]
pub async fn get_ledger(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner().to_string();
    let view = state
        .run(move |s| {
            s.store.read(|c| {
                let row = service::visible(c, &user.caller(), &id)?;
                let (status, _) = service::status_of(&row)?;
                ledger_view(c, &row.id, status)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Records a payment in one transaction (ENR-3): on a `confirmed`
/// enrolment, or on a `paid`/`notified` one for a later charge such as a
/// retake's exam fee or a card fee (409 otherwise); more than 0 and not more
/// than is due (422 `overpayment`). When nothing is due any more a
/// `confirmed` enrolment becomes `paid`.
fn pay_in_tx(
    c: &mut DbConn,
    actor: &Actor<'_>,
    user: &AuthUser,
    id: &str,
    body: RecordPayment,
) -> ApiResult<(LedgerView, EnrolmentView)> {
    // Locked: concurrent payments run one after the other, each checked
    // against the ledger the previous one left (no 412 without If-Match).
    let mut row = service::locked(c, &user.caller(), id)?;
    let (status, _) = service::status_of(&row)?;
    let (_, balance) = service::ledger_of(c, &row.id)?;
    // A later charge (retake exam fee, card fee) is paid without a transition;
    // with nothing due, paying a paid enrolment is the wrong state (409).
    let next = if status.pays_later_charges() && !balance.is_settled() {
        None
    } else {
        Some(service::step(&user.caller(), &row, EnrolmentAction::Pay)?)
    };
    check_payment(&balance, body.amount_fen)?;
    let before = service::view_of(c, row.clone(), true)?;
    let mut entry = service::ledger_entry(
        &row.id,
        LedgerKind::Payment,
        FeeItem::Other,
        body.amount_fen,
        &user.id,
        actor.at,
    );
    entry.reference = Some(body.reference.trim().to_owned());
    entry.note = body.note.map(|n| n.trim().to_owned());
    guild_store::ledger::insert(c, &entry)?;
    let (_, after) = service::ledger_of(c, &row.id)?;
    let action = match next {
        Some(next) if after.is_settled() => {
            row.status = next.as_str().to_owned();
            row.paid_at = Some(actor.at.naive_utc());
            "enrolment.pay"
        }
        _ => "enrolment.payment",
    };
    let view = service::save(&actor.ctx(), c, crate::audit::kind(action)?, row, &before)?;
    let ledger = ledger_view(c, id, view.status)?;
    Ok((ledger, view))
}

/// Record a payment received for a confirmed enrolment, or for a later charge
/// (retake exam fee, card fee) of a paid one (finance, ENR-3). The receipt or
/// voucher number is required; overpayment is refused. When the fee of a
/// confirmed enrolment is fully paid it becomes `paid` and the trainee may take part.
#[utoipa::path(
    operation_id = "record_enrolment_payment",
    tag = "enrolments",
    params(("id" = Uuid, Path, description = "Enrolment id")),
    request_body = RecordPayment,
    responses((status = 201, description = "Recorded; the ledger after the payment", body = LedgerView), ActionErrors)
)]
#[post("/enrolments/{id}/payments")]
pub async fn record_payment(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<RecordPayment>,
) -> ApiResult<HttpResponse> {
    user.require(&[Role::Finance])?;
    validate(&*body)?;
    let body = body.into_inner();
    if body.reference.trim().is_empty() {
        return Err(ApiError::field(
            "reference",
            "required",
            "the receipt or voucher number is required",
        ));
    }
    let id = id.into_inner().to_string();
    let (ledger, _) = state
        .run(move |s| {
            let now = s.clock.now();
            s.store
                .write(|c| pay_in_tx(c, &Actor::new(&user, &ctx, now), &user, &id, body))
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/api/v1/enrolments/{}/ledger", ledger.enrolment_id),
        ))
        .json(ledger))
}
