//! HTTP tests for substitutions (issue 3).
