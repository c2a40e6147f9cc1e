//! Training programs (PRG-1).
