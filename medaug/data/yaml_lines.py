"""YAML loading that remembers the line of every key, for config errors.

PyYAML's composer gives every node a start mark (0-based line and column).
:func:`load_yaml` parses the text once into nodes, builds plain Python data
from them with the safe constructor, and keeps a map from each key path
(``("simulation", 0, "coils")``) to its 1-based line, so an error found
later by the schema can point at the line the user must edit.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["YamlDocument", "load_yaml", "format_path"]

PathKey = tuple[str | int, ...]


@dataclasses.dataclass(frozen=True)
class YamlDocument:
    """Parsed YAML data plus the 1-based line of each key path.

    Attributes
    ----------
    data : Any
        The document as plain dicts, lists and scalars.
    lines : dict
        Maps a key path (tuple of mapping keys and list indices) to the line
        where that key (or list item) starts.
    source : str
        File name (or ``"<string>"``) used in messages.
    """

    data: Any
    lines: dict[PathKey, int]
    source: str

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """Return the line of ``path``, or of its longest prefix that exists.

        A path that does not exist in the document (a missing key) points at
        the mapping that should hold it.
        """
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), None)


def format_path(path: Sequence[str | int]) -> str:
    """Write a key path the way a user reads it: ``simulation[0].coils``.

    Examples
    --------
    >>> format_path(("simulation", 0, "coils"))
    'simulation[0].coils'
    """
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "<top level>"


def load_yaml(source: str | os.PathLike[str], *, text: str | None = None) -> YamlDocument:
    """Parse a YAML file (or ``text``) into data plus a key-path-to-line map.

    Parameters
    ----------
    source : str or path-like
        The file to read; with ``text`` given, only its name for messages.
    text : str, optional
        YAML text to parse instead of reading ``source``.

    Raises
    ------
    FileNotFoundError
        If ``source`` does not exist and no ``text`` is given.
    ValueError
        If the YAML does not parse; the message gives the line and column.

    Examples
    --------
    >>> doc = load_yaml("example.yaml", text="seed: 1\\nsource:\\n  type: shapes\\n")
    >>> doc.data["source"]["type"], doc.line_of(("source", "type"))
    ('shapes', 3)
    """
    import yaml

    name = os.fspath(source)
    if text is None:
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"config file {name!r} not found")
        text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark is not None else name
        problem = getattr(error, "problem", None) or str(error)
        raise ValueError(f"{where}: invalid YAML: {problem}") from None
    if node is None:
        return YamlDocument(data=None, lines={(): 1}, source=name)

    constructor = yaml.SafeLoader("")
    data = constructor.construct_document(node)
    lines: dict[PathKey, int] = {(): node.start_mark.line + 1}
    _collect_lines(node, (), lines)
    return YamlDocument(data=data, lines=lines, source=name)


def _collect_lines(node: Any, path: PathKey, lines: dict[PathKey, int]) -> None:
    import yaml

    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            child = (*path, key)
            lines[child] = key_node.start_mark.line + 1
            _collect_lines(value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines[child] = item.start_mark.line + 1
            _collect_lines(item, child, lines)
