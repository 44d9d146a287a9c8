"""Database models, query functions, the unit of work and migrations."""
