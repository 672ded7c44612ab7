//! The test CAPF server.
