// The ModelStore module; see docs/ARCHITECTURE.md.
