//! The enrolment chain (ENR-1 to ENR-5).

use crate::wire::wire_enum;

wire_enum! {
    /// Where an enrolment is in its chain (ENR-1). Organisation submissions go
    /// `draft → submitted → org_approved → confirmed → paid → notified`;
    /// individuals skip `org_approved`. A full class puts confirmations on the
    /// waiting list (CLS-3).
    pub enum EnrolmentStatus("enrolment_status") {
        /// Entered, not yet submitted.
        Draft => "draft",
        /// Submitted by the filler (or the individual).
        Submitted => "submitted",
        /// Approved by the organisation's reviewer (ENR-2).
        OrgApproved => "org_approved",
        /// Confirmed by an association officer; holds a seat.
        Confirmed => "confirmed",
        /// Confirmed but the class was full: waits for a seat (CLS-3).
        Waitlisted => "waitlisted",
        /// The fee is paid (ENR-3); holds a seat.
        Paid => "paid",
        /// The class notice was sent (ENR-1); holds a seat.
        Notified => "notified",
        /// Returned to the submitter with a reason; can be corrected and resubmitted.
        Rejected => "rejected",
        /// Withdrawn before payment.
        Cancelled => "cancelled",
        /// An approved deferral (DEF-1): waits to join a later class.
        Deferred => "deferred",
        /// Moved to a later class (DEF-2); the new enrolment carries the payment.
        Transferred => "transferred",
        /// Paid, did not come and filed no deferral in time (DEF-4).
        NoShow => "no_show",
    }
}

impl EnrolmentStatus {
    /// Whether the enrolment occupies one of the class's seats (CLS-3).
    pub fn holds_seat(self) -> bool {
        matches!(self, Self::Confirmed | Self::Paid | Self::Notified)
    }

    /// Whether the enrolment still counts as the person's enrolment in its
    /// class (ENR-5); matches the database's partial unique index.
    pub fn is_live(self) -> bool {
        !matches!(self, Self::Cancelled | Self::Transferred)
    }

    /// The statuses that hold a seat, as stored.
    pub fn seat_holding() -> Vec<&'static str> {
        Self::ALL
            .iter()
            .filter(|s| s.holds_seat())
            .map(|s| s.as_str())
            .collect()
    }
}

wire_enum! {
    /// Who submitted the enrolment.
    pub enum Channel("enrolment_channel") {
        /// A member organisation's filler (two-level approval, ACC-3).
        Organisation => "organisation",
        /// An individual enrolling themself (skips the organisation step).
        Individual => "individual",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seats_are_held_from_confirmation_to_notice() {
        // rule CLS-3
        assert_eq!(
            EnrolmentStatus::seat_holding(),
            vec!["confirmed", "paid", "notified"]
        );
        assert!(!EnrolmentStatus::Waitlisted.holds_seat());
        assert!(!EnrolmentStatus::Deferred.holds_seat());
    }

    #[test]
    fn cancelled_and_transferred_enrolments_are_not_live() {
        // rule ENR-5
        for s in EnrolmentStatus::ALL {
            assert_eq!(
                s.is_live(),
                !matches!(s, EnrolmentStatus::Cancelled | EnrolmentStatus::Transferred)
            );
        }
    }
}
