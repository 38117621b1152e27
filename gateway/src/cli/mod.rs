//! Command-line subcommands that are not the server itself.

pub mod decode;
pub mod input;
pub mod token;
