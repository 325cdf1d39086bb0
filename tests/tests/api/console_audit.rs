//! The console's audit tools through HTTP (placeholder).
