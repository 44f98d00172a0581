"""Core: extensions, accounts and roles, areas, audit log, shared helpers."""
