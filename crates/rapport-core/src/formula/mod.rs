//! Formula fields (being written).
