//! HTTP tests for teachers (issue 3).
