// The KVMemory module; see docs/ARCHITECTURE.md.
