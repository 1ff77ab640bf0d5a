"""Support code for the tests of every app (never imported by production code)."""
