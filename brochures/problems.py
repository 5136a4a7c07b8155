"""Problems found in a user's input, reported as `file:line field: expected …, got …`."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from brochures import PROJECT_ROOT

# Characters that are invisible or that steer the terminal or the text direction: Unicode categories
# Cc (controls), Cf (format), Zl and Zp (line and paragraph separators), as of Unicode 14, except tab,
# newline and the soft hyphen U+00AD; the other default-ignorable code points (combining grapheme joiner,
# Hangul fillers, Khmer inherent vowels, Mongolian and other variation selectors, U+E0000–U+E0FFF); and
# characters that print as nothing at all (U+2800 BRAILLE PATTERN BLANK). A found value is shown with
# these escaped (\x1b, \u202e), and the YAML reader refuses them in any value or field name.
UNSAFE_CHARACTERS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160"
    "\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0"
    "\ufff0-\ufffb\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e0fff]")


# More than two combining marks on one letter: no language needs them, and they pile up over other lines.
STACKED_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]{3,}")


# Unicode gives control characters no name, only aliases.
_CONTROL_NAMES = (
    "NULL", "START OF HEADING", "START OF TEXT", "END OF TEXT", "END OF TRANSMISSION", "ENQUIRY", "ACKNOWLEDGE",
    "BELL", "BACKSPACE", "CHARACTER TABULATION", "LINE FEED", "LINE TABULATION", "FORM FEED", "CARRIAGE RETURN",
    "SHIFT OUT", "SHIFT IN", "DATA LINK ESCAPE", "DEVICE CONTROL ONE", "DEVICE CONTROL TWO", "DEVICE CONTROL THREE",
    "DEVICE CONTROL FOUR", "NEGATIVE ACKNOWLEDGE", "SYNCHRONOUS IDLE", "END OF TRANSMISSION BLOCK", "CANCEL",
    "END OF MEDIUM", "SUBSTITUTE", "ESCAPE", "INFORMATION SEPARATOR FOUR", "INFORMATION SEPARATOR THREE",
    "INFORMATION SEPARATOR TWO", "INFORMATION SEPARATOR ONE",
)


_C1_NAMES = (
    "PADDING CHARACTER", "HIGH OCTET PRESET", "BREAK PERMITTED HERE", "NO BREAK HERE", "INDEX", "NEXT LINE",
    "START OF SELECTED AREA", "END OF SELECTED AREA", "CHARACTER TABULATION SET",
    "CHARACTER TABULATION WITH JUSTIFICATION", "LINE TABULATION SET", "PARTIAL LINE FORWARD", "PARTIAL LINE BACKWARD",
    "REVERSE LINE FEED", "SINGLE SHIFT TWO", "SINGLE SHIFT THREE", "DEVICE CONTROL STRING", "PRIVATE USE ONE",
    "PRIVATE USE TWO", "SET TRANSMIT STATE", "CANCEL CHARACTER", "MESSAGE WAITING", "START OF GUARDED AREA",
    "END OF GUARDED AREA", "START OF STRING", "SINGLE GRAPHIC CHARACTER INTRODUCER", "SINGLE CHARACTER INTRODUCER",
    "CONTROL SEQUENCE INTRODUCER", "STRING TERMINATOR", "OPERATING SYSTEM COMMAND", "PRIVACY MESSAGE",
    "APPLICATION PROGRAM COMMAND"
)


ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one field of one input file: the same record from the check that finds it to every
    place that shows it (the terminal, report.json and report.html, --strict, the preview, the shard files)."""

    file: Path
    line: int | None
    # The setting, as written in the file (`colors.primary`), or "" for the file as a whole.
    field: str
    message: str
    # An error stops what it concerns from being built; a warning makes a document "Needs a look".
    severity: str = ERROR
    # Why a document needs a look, for the report (quality.scorecard.REASONS): "approval", "claims", "colours"…
    reason: str = ""
    # What to do about it, in words for a practice manager, with the command where there is one.
    hint: str = ""
    # Which check found it, for scripts that count or pick problems (`translation-stale`): never its words.
    code: str = ""

    def said(self) -> str:
        """The one line the terminal, --strict and the shard files give it."""
        text = str(self)
        if self.reason == "claims":
            return f"claim {text}"
        # The approval's next step is part of its line on the terminal: whoever builds is who approves.
        return f"{text}; {self.hint}" if self.reason == "approval" and self.hint else text

    def as_dict(self) -> dict:
        """As report.json and the shard files keep it."""
        return {
            "severity": self.severity,
            "reason": self.reason,
            "file": display_path(self.file),
            "line": self.line,
            "setting": self.field,
            "message": printable(self.message),
            "hint": self.hint,
            "code": self.code,
        }

    def __str__(self) -> str:
        where = display_path(self.file)
        if self.line:
            where += f":{self.line}"
        # One line, and nothing in it that a terminal would act on (a file name or a field can be hostile too).
        return printable(f"{where} {self.field}: {self.message}" if self.field else f"{where}: {self.message}")


class InputError(Exception):
    """The input is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        super().__init__(problems)
        self.problems = problems

    # On demand: a file can have tens of thousands of problems.
    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


def describe(value: object) -> str:
    """How a found value is quoted back to the user: short, unambiguous about type, and safe to print."""
    if value is None:
        return "nothing"
    text = printable(repr(value) if not isinstance(value, str) else f'"{value}"')
    return text if len(text) <= 60 else text[:57] + '…"'


def printable(text: str) -> str:
    """`text` with control, invisible and direction characters (and newlines) written as escapes:
    \\x1b, \\u202e, \\n."""
    text = text.replace("\n", "\\n")
    return UNSAFE_CHARACTERS.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


def character_name(char: str) -> str:
    """`U+202E RIGHT-TO-LEFT OVERRIDE`, `U+001B ESCAPE`: a character as a person can look it up."""
    code = ord(char)
    if code < 0x20:
        name = _CONTROL_NAMES[code]
    elif code == 0x7F:
        name = "DELETE"
    elif 0x80 <= code <= 0x9F:
        name = _C1_NAMES[code - 0x80]
    else:
        name = unicodedata.name(char, "")
    return f"U+{code:04X} {name}".rstrip()


def unsafe_character(text: str) -> str | None:
    """What is wrong with `text` if it holds a control, invisible or direction character, else None.

    For example "the invisible character U+202E RIGHT-TO-LEFT OVERRIDE at character 5".
    """
    match = UNSAFE_CHARACTERS.search(text)
    if match:
        return f"{character_kind(match.group())} at character {match.start() + 1}"
    # "Zalgo" text: accents piled up until they cover the line above.
    if stacked := STACKED_MARKS.search(text):
        return f"{len(stacked.group())} accents stacked on one letter at character {stacked.start() + 1}"
    return None


def character_kind(char: str) -> str:
    """`the control character U+001B ESCAPE`, `the invisible character U+202E RIGHT-TO-LEFT OVERRIDE`."""
    kind = "control character" if unicodedata.category(char) == "Cc" else "invisible character"
    return f"the {kind} {character_name(char)}"


def report_lines(problems: list[Problem], per_file: int = 20) -> list[str]:
    """The lines to print for `problems`: at most `per_file` per file, then how many more that file has.

    Repeated problems are printed once. The order is kept; a file's "… and N more" line follows its
    last printed problem:

        clinic.yaml:30 k7: unknown field; …
        clinic.yaml: … and 27,129 more problems in this file
    """
    unique = list(dict.fromkeys(problems))
    totals = Counter(problem.file for problem in unique)
    shown: Counter = Counter()
    lines = []
    for problem in unique:
        shown[problem.file] += 1
        if shown[problem.file] > per_file:
            continue
        lines.append(str(problem))
        if shown[problem.file] == per_file and totals[problem.file] > per_file:
            more = totals[problem.file] - per_file
            lines.append(
                printable(
                    f"{display_path(problem.file)}: … and {more:,} more problem{'s' if more != 1 else ''} in this file"
                )
            )
    return lines


def display_path(path: Path) -> str:
    """A path as the user would write it: relative to the working directory when it is below it, else
    relative to the project for the project's own files (data/, templates/), else as given.

    So no report, message or PDF names the folders above the project, such as a user's home folder.
    """
    path = Path(path)
    if not path.is_absolute():
        return str(path)
    for base in (Path.cwd(), PROJECT_ROOT):
        if path.is_relative_to(base):
            return str(path.relative_to(base)) or "."
    return str(path)
