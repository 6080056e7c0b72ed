//! Cross-language search for the Collective Brain.
//!
//! This crate is reserved for the search issue: the tantivy schema, the analyzers per
//! language, the glossary of Social and Solidarity Economy terms and the single index
//! writer will live here. The server does not depend on it yet.
