"""Pure workflow model: definitions, graph checks, states and templates; no I/O."""
