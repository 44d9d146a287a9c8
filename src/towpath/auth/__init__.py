"""Who is calling: principals, credentials, roles and workspace scoping."""
