//! The account pages: preferences and API tokens.
