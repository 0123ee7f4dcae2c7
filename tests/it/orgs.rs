//! Organizations, members, invitations and role rules, through pages and the API.
