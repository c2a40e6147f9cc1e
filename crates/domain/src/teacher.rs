//! Teacher appointments for the association board's terms (TCH-1, TCH-2).
