//! Transaction tests (filled below).
