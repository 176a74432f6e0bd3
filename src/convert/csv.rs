//! csv conversions (work in progress on its branch).
