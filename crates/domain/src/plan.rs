//! Annual training plans (PLN-1).
