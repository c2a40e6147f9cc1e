//! Public notices published on the association's web site (TCH-2; later also
//! certificate changes and cancellations, CRT-6). A notice names people only by
//! name: never an ID number or any other personal data.

use crate::wire::wire_enum;

wire_enum! {
    /// What a public notice announces. Other areas add their kinds here.
    pub enum NoticeKind("notice_kind") {
        /// A part-time teacher was dismissed (TCH-2).
        TeacherDismissal => "teacher_dismissal",
        /// A sanction listed in the public misconduct register was withdrawn
        /// by a training head (DSC-5).
        MisconductWithdrawal => "misconduct_withdrawal",
        /// A certificate was changed (name or employer) and replaced by a new
        /// one (CRT-5, CRT-6).
        CertificateChange => "certificate_change",
        /// A certificate was cancelled (注销, CRT-5, CRT-6).
        CertificateCancellation => "certificate_cancellation",
    }
}

/// The text of a public notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeText {
    /// One line, shown in lists.
    pub title: String,
    /// The full text.
    pub body: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::assert_wire_enums;

    #[test]
    fn notice_kinds_wire_names() {
        assert_wire_enums!(NoticeKind);
        // rule TCH-2
        assert_eq!(NoticeKind::TeacherDismissal.as_str(), "teacher_dismissal");
        // rule DSC-5
        assert_eq!(
            NoticeKind::MisconductWithdrawal.as_str(),
            "misconduct_withdrawal"
        );
        // rule CRT-6
        assert_eq!(NoticeKind::CertificateChange.as_str(), "certificate_change");
        assert_eq!(
            NoticeKind::CertificateCancellation.as_str(),
            "certificate_cancellation"
        );
    }
}
