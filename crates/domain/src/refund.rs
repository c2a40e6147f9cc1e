//! Refunds: amounts, eligibility and the four-step approval (REF-1 to REF-4).
