"""Locas Reader application core: library, importers, jobs, settings, command line (no Qt here)."""
