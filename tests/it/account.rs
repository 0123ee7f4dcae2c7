//! Account pages, preferences, API tokens and the operator commands.
