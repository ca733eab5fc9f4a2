// The JSON module; see docs/ARCHITECTURE.md.
