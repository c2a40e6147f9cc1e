//! HTTP tests for notifications (issue 3).
