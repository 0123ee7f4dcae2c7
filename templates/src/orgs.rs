//! Organization pages.
