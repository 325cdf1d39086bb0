//! The console's programs pages through HTTP (placeholder).
