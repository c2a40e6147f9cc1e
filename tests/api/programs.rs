//! HTTP tests for programs (issue 3).
