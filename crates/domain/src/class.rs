//! Classes, their states and the preparation checklist (CLS-1 to CLS-3).
