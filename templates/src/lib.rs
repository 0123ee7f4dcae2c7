//! Herald's HTML: the maud layout, small components, one function per page, and the static
//! assets (htmx, CSS, favicon) embedded in the binary under content-hashed names.
//!
//! This crate only turns data into markup. It never touches the database or knows about axum:
//! handlers gather what a page needs, call a page function and return the [`Markup`].
//!
//! ```
//! use herald_templates::pages;
//! let html = pages::home(&herald_templates::Shell::default()).into_string();
//! assert!(html.contains(&herald_templates::url("herald.css")));
//! ```

pub mod account;
pub mod accounts;
pub mod announcements;
pub mod assets;
pub mod charts;
pub mod components;
pub mod delivery;
pub mod events;
pub mod forms;
pub mod integrations;
pub mod layout;
pub mod orgs;
pub mod pages;
pub mod participants;
pub mod rules;

pub use assets::{Asset, assets, find, url};
pub use components::{FlashKind, empty_state, flash, status_badge};
pub use layout::{Page, Shell, ShellOrg, ShellUser, csrf_field, layout};
pub use maud::Markup;
pub use pages::{Check, DashboardView, HomeRow, HomeStatus, Step, dashboard, error_page, home};
