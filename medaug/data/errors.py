"""Errors of dataset pipelines: config errors that name the YAML key and line."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from medaug.data.yaml_lines import format_path

if TYPE_CHECKING:
    from medaug.data.yaml_lines import YamlDocument

__all__ = ["ConfigIssue", "ConfigError", "GenerationError", "suggest"]


@dataclasses.dataclass(frozen=True)
class ConfigIssue:
    """One problem in a config: the key path, its line (if known) and the message."""

    path: tuple[str | int, ...]
    message: str
    line: int | None = None

    def describe(self, source: str | None = None) -> str:
        """Return ``file:line: key: message``."""
        where = source or "<config>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: `{format_path(self.path)}`: {self.message}"


class ConfigError(ValueError):
    """A pipeline config is invalid; each issue names the key and its YAML line.

    Parameters
    ----------
    issues : sequence of ConfigIssue
        At least one problem.
    source : str, optional
        The config file name, used as the prefix of every line.
    """

    def __init__(self, issues: Sequence[ConfigIssue], source: str | None = None) -> None:
        if not issues:
            raise ValueError("`issues` must contain at least one ConfigIssue")
        # A union type (a shape of 2 or 3 axes) reports the same failure once per member.
        self.issues = tuple(dict.fromkeys(issues))
        self.source = source
        lines = [issue.describe(source) for issue in self.issues]
        header = "invalid config" if len(lines) == 1 else f"invalid config ({len(lines)} problems)"
        super().__init__(header + ":\n  " + "\n  ".join(lines))

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuild from the issues, so the error survives the pickling of a worker process's result.
        return (type(self), (self.issues, self.source))

    def with_document(self, document: YamlDocument) -> ConfigError:
        """Return a copy whose issues carry the lines of ``document``."""
        located = [
            dataclasses.replace(issue, line=issue.line or document.line_of(issue.path))
            for issue in self.issues
        ]
        return ConfigError(located, document.source)


class GenerationError(RuntimeError):
    """Writing a benchmark set failed; samples finished before the failure are kept.

    Parameters
    ----------
    message : str
        What failed, with the sample, the step and the config key where known.
    index : int, optional
        The sample that failed.
    retry : bool, default True
        True when the cause may pass (a full disk, a lost worker), so
        rerunning the same command resumes the set. False when the config
        makes the sample fail the same way on every run.
    finished : int, optional
        Committed samples in the set folder when the run stopped; 0 when
        nothing was written.
    """

    def __init__(
        self, message: str, *, index: int | None = None, retry: bool = True, finished: int | None = None
    ) -> None:
        super().__init__(message)
        self.index = index
        self.retry = retry
        self.finished = finished


def suggest(value: Any, choices: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest choice, or an empty string.

    Examples
    --------
    >>> suggest("simulaton", ["simulation", "source"])
    "; did you mean 'simulation'?"
    """
    matches = difflib.get_close_matches(str(value), list(choices), n=1, cutoff=0.6)
    return f"; did you mean {matches[0]!r}?" if matches else ""
