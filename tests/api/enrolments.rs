//! HTTP tests for enrolments (issue 3).
