//! HTTP tests for attendance (issue 4).
