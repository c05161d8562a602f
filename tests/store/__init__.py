"""Tests of the store (both backends)."""
