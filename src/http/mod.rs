//! The HTTP side: the server's handler (`server`), routing (`routes`), content negotiation
//! (`negotiate`), the landing page (`landing`), the ground-truth API (`expected`) and the bound on
//! its concurrent work (`gate`), and the web configuration: TLS and basic auth (`web`).

mod expected;
mod gate;
mod landing;
mod negotiate;
mod routes;
mod server;
pub mod web;

pub use landing::{page as landing_page, CONTENT_SECURITY_POLICY, DRAWN};
pub use negotiate::{accepts_gzip, choose_format};
pub use server::{handler, Access, Reload, STALLED};
