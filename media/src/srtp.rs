//! srtp (being written).
