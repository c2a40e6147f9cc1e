//! The fee ledger and balances derived from its entries (ENR-3).
