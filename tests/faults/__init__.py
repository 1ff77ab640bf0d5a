"""Fault tests: the real services with parts switched off (see docs/reliability.md)."""
