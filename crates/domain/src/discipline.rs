//! Exam discipline: offences, sanctions and bans (DSC-1 to DSC-5).
