//! HTTP tests for plans (issue 3).
