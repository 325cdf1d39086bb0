//! The console's networks pages through HTTP (placeholder).
