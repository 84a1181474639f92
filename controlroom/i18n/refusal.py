"""Why something a person asked for is refused, in the reader's language.

A refusal carries an English message id with %(name)s placeholders and the values for
them, never a sentence formatted beforehand: the route that answers the person says it
with the request's translations (`translated`), and str() is the English text (logs,
tests). `make messages` extracts the message ids (pybabel -k <class name>); values that
come from people (titles, SKUs, what they typed) go in the params only.
"""

from __future__ import annotations

from collections.abc import Callable


class Refusal(ValueError):
    """`Refusal("seconds: extend by ±60 or ±300, not %(seconds)s", seconds=90)`."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params

    def translated(self, gettext: Callable[[str], str]) -> str:
        """The message in the language of `gettext` (the English id where it has no
        translation), with its values filled in."""
        text = gettext(self.message)
        return text % self.params if self.params else text
