"""The two kinds of error the engine raises: a bad catalogue, a bad navigator input."""

from __future__ import annotations


class CatalogueError(ValueError):
    """A catalogue file was refused. ``errors`` lists every problem, each naming its entry
    (``procedures[12] (kaigo.enroll): condition: …``)."""

    def __init__(self, errors: list[str] | str) -> None:
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        super().__init__("\n".join(self.errors))


class NavigatorInputError(ValueError):
    """A navigator input was refused. ``errors`` lists every problem, each naming its
    field (``persons[2].birth_date: …``, ``event.type: …``)."""

    def __init__(self, errors: list[str] | str) -> None:
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        super().__init__("\n".join(self.errors))


class RuleEvaluationError(RuntimeError):
    """A condition failed while the navigator ran (a catalogue bug the validation could not
    foresee); the message names the entry."""
