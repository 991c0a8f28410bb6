//! The capability registry: providers and what they can do.
