"""Accounts, roles, sessions, API keys, host links and the audit log."""
