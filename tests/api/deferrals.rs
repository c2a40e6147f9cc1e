//! HTTP tests for deferrals (issue 3).
