//! The parent flow: registration forms, drafts, uploads, guardian sessions
//! and the WeChat login. Pure; the database side is `crate::db::registration`,
//! the HTTP side `crate::web::parent`.

pub mod campaign;
pub mod draft;
pub mod forms;
pub mod lifecycle;
pub mod session;
pub mod status;
pub mod upload;
pub mod wechat;
