//! The `lockphone` command.
fn main() {}
