//! framer (being written).
