//! Deferral, substitution and no-show (DEF-1 to DEF-4).
