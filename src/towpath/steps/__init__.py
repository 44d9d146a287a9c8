"""Step types: one module per type with its config model and catalog entry."""
