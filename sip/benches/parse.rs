//! Parse benchmark (being written).
fn main() {}
