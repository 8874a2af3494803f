"""Errors the application core raises for the user to read.

Every error a person may cause (a bad file, a missing memory, a wrong setting) derives from
UserError, whose str() is a sentence saying what happened and what to do. The command line and
the GUI show those as they are; anything else is a bug and gets a traceback in the log.
"""


class UserError(Exception):
    """Something the user can fix; str() is the sentence to show."""


class JobError(UserError):
    """A job could not do what was asked."""
