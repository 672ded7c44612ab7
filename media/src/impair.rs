//! impair (being written).
