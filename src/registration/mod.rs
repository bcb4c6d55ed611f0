//! The parent flow: registration forms, uploads, submission.

pub mod upload;
