//! HTTP tests for refunds (issue 4).
