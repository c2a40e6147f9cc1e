//! Bans and their scope, checked at enrolment (ENR-4, DSC-4).
