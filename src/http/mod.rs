//! The HTTP side: the server's handler (`server`), routing (`routes`), content negotiation
//! (`negotiate`), the landing page (`landing`) and the ground-truth API (`expected`).

mod expected;
mod landing;
mod negotiate;
mod routes;
mod server;

pub use landing::{page as landing_page, CONTENT_SECURITY_POLICY, DRAWN};
pub use negotiate::{accepts_gzip, choose_format};
pub use server::{handler, Reload, STALLED};
