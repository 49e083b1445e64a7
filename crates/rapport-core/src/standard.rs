//! The standard objects every workspace starts with (being written).
