//! dtmf (being written).
