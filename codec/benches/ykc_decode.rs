//! Placeholder until the YKC codec lands.
fn main() {}
