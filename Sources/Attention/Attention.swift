// The Attention module; see docs/ARCHITECTURE.md.
