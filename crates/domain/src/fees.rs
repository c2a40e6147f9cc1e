//! The fee ledger of an enrolment (ENR-3): every charge, payment, refund and
//! transfer is an entry; balances are always derived from the entries, never stored.

use serde::Serialize;

use crate::error::Refusal;
use crate::money::Fen;
use crate::wire::wire_enum;

wire_enum! {
    /// What a ledger entry records. Amounts are never negative; the kind gives
    /// the direction (ENR-3).
    pub enum LedgerKind("ledger_kind") {
        /// A fee charged to the enrolment (on confirmation, from the program).
        Charge => "charge",
        /// Money received, recorded by finance with a receipt number.
        Payment => "payment",
        /// Money paid back (REF-1 to REF-4).
        Refund => "refund",
        /// Credit brought over from an earlier enrolment (DEF-2 transfer).
        TransferIn => "transfer_in",
        /// Credit carried over to a later enrolment (DEF-2 transfer).
        TransferOut => "transfer_out",
        /// A charge taken back, e.g. when a deferred enrolment moves to a later
        /// class and its charges move with it (DEF-2): the old enrolment then
        /// owes nothing and holds nothing.
        ChargeReversal => "charge_reversal",
    }
}

wire_enum! {
    /// What an entry is for (PRG-1 fees, CRT-5 card fee).
    pub enum FeeItem("fee_item") {
        /// The program's training fee.
        TrainingFee => "training_fee",
        /// The program's exam fee.
        ExamFee => "exam_fee",
        /// A physical certificate card (CRT-5).
        CardFee => "card_fee",
        /// Anything else (payments name no particular item).
        Other => "other",
    }
}

/// One entry as the rules need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The kind of entry.
    pub kind: LedgerKind,
    /// What it is for.
    pub item: FeeItem,
    /// The amount (never negative).
    pub amount: Fen,
}

/// The balance of an enrolment, derived only from its entries (ENR-3).
///
/// `due = (charged − charges_reversed) − (paid + transferred_in − refunded −
/// transferred_out)`, i.e. what is (still) charged minus the money that is
/// (still) held for it; `due` is never negative: money held beyond the charges
/// shows as `credit` instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Balance {
    /// Sum of charges.
    pub charged: Fen,
    /// Sum of charges taken back (a transfer to a later class, DEF-2).
    pub charges_reversed: Fen,
    /// Sum of payments.
    pub paid: Fen,
    /// Sum of refunds.
    pub refunded: Fen,
    /// Sum of credit brought over from an earlier enrolment.
    pub transferred_in: Fen,
    /// Sum of credit carried over to a later enrolment.
    pub transferred_out: Fen,
    /// What is still to be paid (never negative).
    pub due: Fen,
    /// Money held beyond the charges (never negative); 0 in normal operation.
    pub credit: Fen,
}

impl Balance {
    /// Sums `entries` (ENR-3: the balance is derived, never stored).
    pub fn of<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Balance {
        let mut b = Balance::default();
        for e in entries {
            let slot = match e.kind {
                LedgerKind::Charge => &mut b.charged,
                LedgerKind::Payment => &mut b.paid,
                LedgerKind::Refund => &mut b.refunded,
                LedgerKind::TransferIn => &mut b.transferred_in,
                LedgerKind::TransferOut => &mut b.transferred_out,
                LedgerKind::ChargeReversal => &mut b.charges_reversed,
            };
            *slot = slot.plus(e.amount);
        }
        // Signed arithmetic on i64 fen: amounts are capped far below overflow (MAX_FEN).
        let held =
            b.paid.get() + b.transferred_in.get() - b.refunded.get() - b.transferred_out.get();
        let due = b.charged.get() - b.charges_reversed.get() - held;
        b.due = Fen::from_stored(due.max(0));
        b.credit = Fen::from_stored((-due).max(0));
        b
    }

    /// The money held for the enrolment: `paid + transferred_in − refunded −
    /// transferred_out`, never below zero (what a refund or transfer may move, REF-4).
    pub fn held(&self) -> Fen {
        let held = self.paid.get() + self.transferred_in.get()
            - self.refunded.get()
            - self.transferred_out.get();
        Fen::from_stored(held.max(0))
    }

    /// Whether something was charged and nothing is due any more (ENR-3).
    pub fn is_settled(&self) -> bool {
        self.due.is_zero()
    }
}

/// ENR-3: a payment must be more than zero and at most what is due (no overpayment).
pub fn check_payment(balance: &Balance, amount: Fen) -> Result<(), Refusal> {
    if amount.is_zero() {
        return Err(Refusal::rule(
            "ENR-3",
            "payment_amount_zero",
            "a payment must be more than 0 fen",
        ));
    }
    if amount > balance.due {
        return Err(Refusal::rule(
            "ENR-3",
            "overpayment",
            format!(
                "the payment of {amount} is more than the {} still due",
                balance.due
            ),
        ));
    }
    Ok(())
}

/// The charges written when an enrolment is confirmed (ENR-3, PRG-1): the
/// program's training fee and exam fee as two entries, skipping zero amounts.
pub fn confirmation_charges(training_fee: Fen, exam_fee: Fen) -> Vec<(FeeItem, Fen)> {
    [
        (FeeItem::TrainingFee, training_fee),
        (FeeItem::ExamFee, exam_fee),
    ]
    .into_iter()
    .filter(|(_, amount)| !amount.is_zero())
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::assert_wire_enums;

    fn fen(n: i64) -> Fen {
        Fen::new(n).unwrap()
    }

    fn e(kind: LedgerKind, amount: i64) -> Entry {
        Entry {
            kind,
            item: FeeItem::Other,
            amount: fen(amount),
        }
    }

    #[test]
    fn wire_names() {
        assert_wire_enums!(LedgerKind, FeeItem);
    }

    #[test]
    fn balance_is_derived_from_entries_enr_3() {
        // rule ENR-3: balances always derived from the entries
        use LedgerKind::*;
        let entries = [e(Charge, 100_000), e(Charge, 20_000), e(Payment, 50_000)];
        let b = Balance::of(&entries);
        assert_eq!(b.charged, fen(120_000));
        assert_eq!(b.paid, fen(50_000));
        assert_eq!(b.due, fen(70_000));
        assert!(!b.is_settled());
        let entries = [
            e(Charge, 120_000),
            e(Payment, 120_000),
            e(Refund, 100_000),
            e(TransferOut, 20_000),
        ];
        let b = Balance::of(&entries);
        assert_eq!(b.due, fen(120_000));
        assert_eq!(b.held(), Fen::ZERO);
        let entries = [e(Charge, 120_000), e(TransferIn, 120_000)];
        let b = Balance::of(&entries);
        assert!(b.is_settled());
        assert_eq!(b.credit, Fen::ZERO);
        assert_eq!(Balance::of(&[]), Balance::default());
    }

    #[test]
    fn a_transfer_leaves_nothing_owed_on_either_side_def_2() {
        // rule DEF-2: the old enrolment's charges are reversed and its money
        // carried out; the new one is charged the same and receives the money
        use LedgerKind::*;
        let old = [
            e(Charge, 120_000),
            e(Charge, 30_000),
            e(Payment, 150_000),
            e(TransferOut, 150_000),
            e(ChargeReversal, 120_000),
            e(ChargeReversal, 30_000),
        ];
        let b = Balance::of(&old);
        assert_eq!(b.charged, fen(150_000));
        assert_eq!(b.charges_reversed, fen(150_000));
        assert_eq!(
            (b.due, b.credit, b.held()),
            (Fen::ZERO, Fen::ZERO, Fen::ZERO)
        );
        let new = [
            e(Charge, 120_000),
            e(Charge, 30_000),
            e(TransferIn, 150_000),
        ];
        let b = Balance::of(&new);
        assert_eq!(
            (b.due, b.credit, b.held()),
            (Fen::ZERO, Fen::ZERO, fen(150_000))
        );
        assert!(b.is_settled());
        // A reversal alone turns money held into credit, never into a negative due.
        let b = Balance::of(&[e(Charge, 100), e(Payment, 100), e(ChargeReversal, 100)]);
        assert_eq!((b.due, b.credit), (Fen::ZERO, fen(100)));
    }

    #[test]
    fn due_is_never_negative() {
        // rule ENR-3
        let b = Balance::of(&[e(LedgerKind::Charge, 100), e(LedgerKind::TransferIn, 150)]);
        assert_eq!(b.due, Fen::ZERO);
        assert_eq!(b.credit, fen(50));
    }

    #[test]
    fn payments_must_not_exceed_what_is_due_enr_3() {
        // rule ENR-3: no overpayment, no zero payment
        let b = Balance::of(&[e(LedgerKind::Charge, 1000), e(LedgerKind::Payment, 400)]);
        assert!(check_payment(&b, fen(600)).is_ok());
        assert!(check_payment(&b, fen(1)).is_ok());
        let r = check_payment(&b, fen(601)).unwrap_err();
        assert_eq!((r.code, r.rule), ("overpayment", Some("ENR-3")));
        let r = check_payment(&b, Fen::ZERO).unwrap_err();
        assert_eq!((r.code, r.rule), ("payment_amount_zero", Some("ENR-3")));
        let settled = Balance::of(&[e(LedgerKind::Charge, 1000), e(LedgerKind::Payment, 1000)]);
        assert_eq!(
            check_payment(&settled, fen(1)).unwrap_err().code,
            "overpayment"
        );
    }

    #[test]
    fn confirmation_charges_skip_zero_fees() {
        // rule ENR-3, PRG-1
        assert_eq!(
            confirmation_charges(fen(100), fen(20)),
            vec![
                (FeeItem::TrainingFee, fen(100)),
                (FeeItem::ExamFee, fen(20))
            ]
        );
        assert_eq!(
            confirmation_charges(fen(100), Fen::ZERO),
            vec![(FeeItem::TrainingFee, fen(100))]
        );
        assert!(confirmation_charges(Fen::ZERO, Fen::ZERO).is_empty());
    }
}
