//! HTTP tests for exams (issue 4).
