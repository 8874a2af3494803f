"""Errors the application core raises for the user to read."""


class JobError(Exception):
    """A job could not do what was asked; str() is a sentence for the user, never a traceback."""
