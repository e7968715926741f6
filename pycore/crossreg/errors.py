"""Exceptions that carry a message meant for the user.

Every error about bad input names the file, the line or record and what was expected.
The CLI prints these messages without a traceback; anything else is a bug.
"""


class CrossregError(Exception):
    """Base class of errors whose message is shown to the user as is."""


class InputError(CrossregError):
    """A user-supplied file or argument is malformed or inconsistent."""


class IntegrityError(CrossregError):
    """A file crossreg wrote earlier is truncated, altered or inconsistent with its manifest."""
