"""Reads a YAML file safely into plain data, remembering the line of every field.

Every scalar is kept as the text the user typed; the schema decides what it
means. So a phone number `0207946000` keeps its leading zero, `language: no`
stays "no" and `12:30` stays "12:30", instead of YAML 1.1 turning them into a
number, False or 750. Only a bare `~`, `null` or empty value becomes None.

Text that could spoof or corrupt what is printed or shown is refused in every
value and field name: control characters (C0 and C1, except tab and newline:
ANSI escapes, NUL, CR, DEL), direction controls (U+202A–U+202E, U+2066–U+2069,
U+061C, U+200E, U+200F), zero-width characters (U+200B–U+200D, U+2060, U+FEFF),
the line and paragraph separators U+2028 and U+2029, and the other Unicode
format characters (categories Cc, Cf, Zl, Zp; the soft hyphen U+00AD is allowed).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from brochures.files.safe_read import NotARegularFile, file_kind, read_regular_file
from brochures.problems import (
    UNSAFE_CHARACTERS,
    InputError,
    Problem,
    character_kind,
    unsafe_character,
)

MAX_FILE_BYTES = 256 * 1024


# Lists and groups inside each other. Real files use fewer than 6; a deeper file is a mistake or an attack
# (1,000 levels in 2.7 KB would otherwise exhaust Python's recursion limit).
MAX_DEPTH = 32


TOO_DEEP = f"expected at most {MAX_DEPTH} levels of nesting (lists and groups inside each other), got more"


_NULL_TAG = "tag:yaml.org,2002:null"


_STANDARD_TAGS = {
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")
}


# libyaml when PyYAML was built with it (5 times faster on a 256 KB file), else the pure-Python parser.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# Stand-ins for the characters YAML itself refuses (or takes for line breaks), so that the file still parses
# and the field holding one can be named. Private-use code points that the file does not contain.
_STAND_INS = range(0x10FFFD, 0x10FE00, -1)


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
    # Stand-in → the character it replaced before parsing.
    _replaced: dict[int, str] = field(default_factory=dict, repr=False)

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
        lines = self.text.split("\n")
        return lines[line - 1] if 0 < line <= len(lines) else ""


def read_yaml(path: Path) -> YamlFile:
    """Parse `path`; raise InputError naming the file and line if it cannot be parsed at all.

    Problems in a file that parses (a duplicate key, an alias, a custom tag, an invisible character)
    are collected in `problems`; the offending value is left out of `data`. Only a regular file is
    read: a folder, a named pipe or a device is refused without being opened for long.
    """
    path = Path(path)
    text = _read_text(path)
    # A byte order mark, as some Windows editors write.
    if text.startswith("\ufeff"):
        text = text[1:]
    parsed, replaced = _with_stand_ins(text)

    def refuse(line: int | None, message: str) -> InputError:
        problems = [Problem(path, line, "", message)]
        # A character YAML refuses is the likely cause: name it first.
        if replaced:
            first = min(text.index(char) for char in replaced.values())
            problems.insert(0, Problem(path, text.count("\n", 0, first) + 1, "",
                                       f"expected plain text, got {character_kind(text[first])}"))
        return InputError(problems)

    try:
        _check_depth(parsed, path)
        root = yaml.compose(parsed, Loader=_LOADER)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        # Libyaml's own cap (1,000 levels) came first.
        if "nesting depth" in (error.problem or ""):
            raise InputError([Problem(path, line, "", TOO_DEEP)]) from None
        if tabbed := _tab_indented_line(text, line):
            raise InputError([Problem(path, tabbed, "", f"use spaces, not a tab, to indent (line {tabbed})")]) from None
        raise refuse(line, f"not valid YAML: {error.problem or 'not valid YAML'}") from None
    # A character YAML refuses that has no stand-in, such as U+FFFE.
    except yaml.reader.ReaderError as error:
        char = chr(error.character) if isinstance(error.character, int) else str(error.character)
        at = parsed.find(char)
        line = parsed.count("\n", 0, at) + 1 if at >= 0 else None
        raise refuse(
            line, f"expected plain text, got the character U+{ord(char[:1] or ' '):04X}, which YAML does not allow"
        ) from None
    except yaml.YAMLError as error:
        raise refuse(None, f"not valid YAML: {error}") from None

    result = YamlFile(path=path, data=None, text=text, _replaced=replaced)
    if root is not None:
        result.data = _build(root, (), result, result.problems, seen=set())
    return result


def _tab_indented_line(text: str, error_line: int | None) -> int | None:
    """The line YAML stopped at, if a tab indents it: YAML allows only spaces there, and its own words for it
    ("found character that cannot start any token") do not say so."""
    lines = text.split("\n")
    if not error_line or error_line > len(lines):
        return None
    line = lines[error_line - 1]
    return error_line if "\t" in line[: len(line) - len(line.lstrip(" \t"))] else None


def _read_text(path: Path) -> str:
    """The file's text, or an InputError saying why it cannot be had."""

    def refuse(message: str, line: int | None = None) -> InputError:
        return InputError([Problem(path, line, "", message)])

    try:
        mode = os.stat(path)
        if not stat.S_ISREG(mode.st_mode):
            raise NotARegularFile(path, file_kind(mode.st_mode))
        if mode.st_size > MAX_FILE_BYTES:
            raise refuse(f"expected a file of at most {MAX_FILE_BYTES // 1024} KB, got {mode.st_size // 1024} KB")
        data = read_regular_file(path, MAX_FILE_BYTES + 1)
    except NotARegularFile as error:
        raise refuse(f"expected a regular file, got {error.kind}") from None
    except (FileNotFoundError, NotADirectoryError):
        raise refuse(
            "expected a link to an existing file, got a link to nothing" if os.path.islink(path) else "file not found"
        ) from None
    except PermissionError:
        raise refuse("expected a file this program may read, got one it has no permission to read") from None
    except OSError as error:
        raise refuse(
            f"expected a readable file, got an error reading it ({error.strerror or type(error).__name__})"
        ) from None
    if len(data) > MAX_FILE_BYTES:
        raise refuse(f"expected a file of at most {MAX_FILE_BYTES // 1024} KB, got more")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        # Named by its line and column, as an editor shows them: an offset in bytes helps no one.
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise refuse(f"expected UTF-8 text (save the file as UTF-8), got a byte that is not UTF-8 "
                     f"(0x{data[error.start]:02X}, column {column}; in Latin-1 it would be "
                     f"{data[error.start:error.start + 1].decode('latin-1')!r})", line) from None


def _with_stand_ins(text: str) -> tuple[str, dict[int, str]]:
    """`text` with each unsafe character (other than CR, a line ending) replaced by a stand-in YAML accepts.

    YAML refuses control characters outright and takes U+0085, U+2028 and U+2029 for line breaks, which
    would shift every line number after them. With stand-ins the file parses, the lines stay right, and
    the field holding the character is named.
    """
    found = {char for char in UNSAFE_CHARACTERS.findall(text) if char != "\r"}
    if not found:
        return text, {}
    stand_ins = (chr(code) for code in _STAND_INS if chr(code) not in text)
    replaced = {ord(next(stand_ins)): char for char in sorted(found)}
    return text.translate({ord(char): stand_in for stand_in, char in replaced.items()}), replaced


def _check_depth(text: str, path: Path) -> None:
    """Refuse more than MAX_DEPTH levels of nesting, from the event stream (which is read without recursion)."""
    depth = 0
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark else None
                raise InputError([Problem(path, line, "", TOO_DEEP)])
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _build(node: yaml.Node, loc: FieldPath, doc: YamlFile, problems: list[Problem], seen: set[int]) -> Any:
    name = dotted(loc)
    # An alias hands back a node already built: refusing it stops alias bombs.
    # It carries the anchor's position, so report the line of the field that uses it.
    if id(node) in seen:
        problems.append(
            Problem(
                doc.path, doc.line_of(loc), name,
                "expected plain values, got a YAML alias (*name); anchors and aliases are not supported"
            )
        )
        return None
    seen.add(id(node))
    line = node.start_mark.line + 1
    doc.lines.setdefault(loc, line)
    if node.tag not in _STANDARD_TAGS:
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        problems.append(
            Problem(doc.path, line, name, f"expected plain values, got the custom YAML tag {_original(tag, doc)}")
        )
        return None

    if isinstance(node, yaml.MappingNode):
        mapping: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(
                    Problem(doc.path, key_line, name, "expected a field name, got a list or group used as a key")
                )
                continue
            key = _original(key_node.value, doc)
            if unsafe := unsafe_character(key):
                problems.append(
                    Problem(doc.path, key_line, dotted(loc + (key,)), f"expected a plain field name, got {unsafe}")
                )
                continue
            if key == "<<":
                problems.append(
                    Problem(
                        doc.path, key_line, name,
                        "expected plain fields, got a YAML merge key (<<); it is not supported"
                    )
                )
                continue
            if key in first_line:
                problems.append(
                    Problem(
                        doc.path,
                        key_line,
                        dotted(loc + (key,)),
                        f"expected each field once, got it again (first on line {first_line[key]})",
                    )
                )
                continue
            first_line[key] = key_line
            doc.lines[loc + (key,)] = key_line
            mapping[key] = _build(value_node, loc + (key,), doc, problems, seen)
        return mapping
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, loc + (index,), doc, problems, seen) for index, item in enumerate(node.value)]
    # Libyaml gives a plain scalar the style "", PyYAML None.
    if node.tag == _NULL_TAG and not node.style:
        return None
    value = _original(node.value, doc)
    if unsafe := unsafe_character(value):
        problems.append(Problem(doc.path, line, name, f"expected plain text, got {unsafe}"))
        return None
    return value


def _original(text: str, doc: YamlFile) -> str:
    """`text` with the characters that stand-ins replaced put back."""
    return text.translate(doc._replaced) if doc._replaced else text


def dotted(loc: FieldPath) -> str:
    """`("contact", "address", 1)` → `contact.address[1]`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
