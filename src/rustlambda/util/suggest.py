"""The one "did you mean": the closest known name to a misspelt one."""

from __future__ import annotations

from collections.abc import Iterable


def closest(word: str, known: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The known name ``word`` most likely misspells, if one is close enough (``cutoff``:
    difflib's similarity ratio; raise it for long lists, where 0.6 matches almost anything)."""
    import difflib  # only a misspelt name needs it, not every start-up

    matches = difflib.get_close_matches(word, list(known), n=1, cutoff=cutoff)
    return matches[0] if matches else None


def did_you_mean(word: str, known: Iterable[str], *, cutoff: float = 0.6) -> str:
    """`` (did you mean 'x'?)`` for the closest known name, or nothing."""
    return suggestion(closest(word, known, cutoff=cutoff))


def suggestion(name: str | None) -> str:
    """`` (did you mean 'name'?)``, or nothing for None."""
    return f" (did you mean {name!r}?)" if name else ""
