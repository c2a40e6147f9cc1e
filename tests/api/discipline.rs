//! HTTP tests for discipline (issue 4).
