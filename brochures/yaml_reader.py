"""Reads a YAML file safely into plain data, remembering the line of every field.

Every scalar is kept as the text the user typed; the schema decides what it
means. So a phone number `0207946000` keeps its leading zero, `language: no`
stays "no" and `12:30` stays "12:30", instead of YAML 1.1 turning them into a
number, False or 750. Only a bare `~`, `null` or empty value becomes None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .problems import InputError, Problem

MAX_FILE_BYTES = 256 * 1024
_NULL_TAG = "tag:yaml.org,2002:null"
_STANDARD_TAGS = {
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")
}

FieldPath = tuple[str | int, ...]


@dataclass
class YamlFile:
    """The data of one YAML file, and where each field was written."""

    path: Path
    data: Any
    lines: dict[FieldPath, int] = field(default_factory=dict)
    text: str = ""
    # Structural problems (duplicate keys, aliases, tags): reported with the schema's, so all come at once.
    problems: list[Problem] = field(default_factory=list)

    def line_of(self, loc: FieldPath) -> int | None:
        """The line of a field, or of its nearest parent for a field that is missing."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), 1)

    def source_line(self, line: int | None) -> str:
        if not line:
            return ""
        lines = self.text.splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else ""


def read_yaml(path: Path) -> YamlFile:
    """Parse `path`; raise InputError naming the file and line if it cannot be parsed at all.

    Problems in a file that parses (a duplicate key, an alias, a custom tag) are
    collected in `problems`; the offending value is left out of `data`.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError([Problem(path, None, "", "file not found")])
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError([Problem(path, None, "", f"expected a file of at most {MAX_FILE_BYTES // 1024} KB, got {size // 1024} KB")])
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError([Problem(path, None, "", f"expected UTF-8 text, got an undecodable byte at offset {error.start}")]) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        reason = error.problem or "not valid YAML"
        raise InputError([Problem(path, line, "", f"not valid YAML: {reason}")]) from None
    except yaml.YAMLError as error:
        raise InputError([Problem(path, None, "", f"not valid YAML: {error}")]) from None

    result = YamlFile(path=path, data=None, text=text)
    if root is not None:
        result.data = _build(root, (), result, result.problems, seen=set())
    return result


def _build(node: yaml.Node, loc: FieldPath, doc: YamlFile, problems: list[Problem], seen: set[int]) -> Any:
    name = dotted(loc)
    # An alias hands back a node already built: refusing it stops alias bombs.
    # It carries the anchor's position, so report the line of the field that uses it.
    if id(node) in seen:
        problems.append(Problem(doc.path, doc.line_of(loc), name, "expected plain values, got a YAML alias (*name); anchors and aliases are not supported"))
        return None
    seen.add(id(node))
    line = node.start_mark.line + 1
    doc.lines.setdefault(loc, line)
    if node.tag not in _STANDARD_TAGS:
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        problems.append(Problem(doc.path, line, name, f"expected plain values, got the custom YAML tag {tag}"))
        return None

    if isinstance(node, yaml.MappingNode):
        mapping: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(Problem(doc.path, key_line, name, "expected a field name, got a list or group used as a key"))
                continue
            key = key_node.value
            if key == "<<":
                problems.append(Problem(doc.path, key_line, name, "expected plain fields, got a YAML merge key (<<); it is not supported"))
                continue
            if key in first_line:
                problems.append(Problem(doc.path, key_line, dotted(loc + (key,)),
                                        f"expected each field once, got it again (first on line {first_line[key]})"))
                continue
            first_line[key] = key_line
            doc.lines[loc + (key,)] = key_line
            mapping[key] = _build(value_node, loc + (key,), doc, problems, seen)
        return mapping
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, loc + (index,), doc, problems, seen) for index, item in enumerate(node.value)]
    if node.tag == _NULL_TAG and node.style is None:
        return None
    return node.value


def dotted(loc: FieldPath) -> str:
    """`("contact", "address", 1)` → `contact.address[1]`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
