//! Uploaded files outside the store: their bytes as content-addressed blobs (`blobs`),
//! what they are (`sniff`), and what is made of images (`images`). Their records, who
//! may read them and where they are attached are the store's and the service's
//! (`store/ops/files.rs`, `service/files.rs`).

pub mod blobs;
pub mod extract;
pub mod images;
pub mod sniff;

pub use blobs::{Blobs, ReceiveError, Received};
