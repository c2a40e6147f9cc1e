//! HTTP tests for training_story (issue 3).
