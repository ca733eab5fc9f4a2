// The Server module; see docs/ARCHITECTURE.md.
