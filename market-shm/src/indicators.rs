//! Indicators (placeholder while being written).
