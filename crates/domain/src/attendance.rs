//! Attendance and leave (ATT-1 to ATT-3).
