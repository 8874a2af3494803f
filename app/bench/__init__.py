"""Benchmarks that need the application core (library, importers, jobs): QA and forgetting."""
