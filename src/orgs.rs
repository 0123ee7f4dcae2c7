//! Organizations: the rules (roles, the last owner, invitations) shared by pages and the API.
