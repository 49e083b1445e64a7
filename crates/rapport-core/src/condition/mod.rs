//! The condition model (being written).
