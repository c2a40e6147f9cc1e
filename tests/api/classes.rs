//! HTTP tests for classes (issue 3).
