"""The event bus: committed run events fanned out to whoever listens."""
