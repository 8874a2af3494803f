"""Errors the application core raises for the user to read.

Every error a person may cause (a bad file, a missing memory, a wrong setting) derives from
UserError, whose str() is a sentence saying what happened and what to do. The command line and
the GUI show those as they are; anything else is a bug and gets a traceback in the log.
"""

import logging

log = logging.getLogger(__name__)


class UserError(Exception):
    """Something the user can fix; str() is the sentence to show."""


class JobError(UserError):
    """A job could not do what was asked."""


def user_message(exc: BaseException) -> str:
    """A sentence to show a person: core errors already are one; anything else gets its type.

    Tracebacks go to the log, never to a message box.
    """
    if isinstance(exc, UserError):
        return str(exc)
    log.error("unexpected error", exc_info=exc)
    text = str(exc).strip() or exc.__class__.__name__
    return f"Something went wrong: {text}"
