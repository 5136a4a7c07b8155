"""A clinic's font: found by name among the packaged fonts or in the clinic's fonts/ folder, with its faces."""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import fontpkg

# The largest font families ship files of a few MB.
MAX_FONT_BYTES = 20 * 1024 * 1024


FONT_SUFFIXES = (".ttf", ".otf", ".woff", ".woff2")


# The weights the stylesheets use: body text, and bold headings and labels.
DESIGN_WEIGHTS = (400, 700)


@dataclass(frozen=True)
class FontFace:
    path: Path
    weight: int
    style: str


@dataclass(frozen=True)
class FontFamily:
    """A font a clinic asked for, with the files that draw it."""

    name: str
    faces: tuple[FontFace, ...]

    @property
    def css_name(self) -> str:
        # A name unique to these files, so two clinics' fonts that share a family
        # name never replace each other in the one font configuration of a batch.
        digest = hashlib.sha256("\n".join(str(f.path) for f in self.faces).encode()).hexdigest()[:10]
        return f"brand-{digest}"

    @property
    def files(self) -> frozenset[Path]:
        return frozenset(face.path.resolve() for face in self.faces)


def find_font(name: str, clinic_folder: Path) -> FontFamily | None:
    """The clinic's own font files named `name` (in its fonts/ folder), else an installed font package."""
    own = [face for face in _clinic_font_faces(clinic_folder) if face[0].casefold() == name.casefold()]
    if own:
        return FontFamily(name, tuple(face for _, face in own))
    try:
        family = fontpkg.family(name)
    except fontpkg.FontpkgError:
        return None
    faces = [FontFace(Path(f.path), f.weight or 400, f.style) for f in family.files if not f.variable]
    for f in family.files:
        # One file for every weight: registered once for each weight the design uses.
        if f.variable:
            covered = {(face.weight, face.style) for face in faces}
            faces += [face for face in _variable_faces(Path(f.path), f.style, f.wght_min, f.wght_max)
                      if (face.weight, face.style) not in covered]
    return FontFamily(family.name, tuple(faces)) if faces else None


def _variable_faces(path: Path, style: str, lightest: float | None, boldest: float | None) -> list[FontFace]:
    """A variable font, as one face per weight the stylesheets use that its weight axis reaches.

    WeasyPrint 70 takes a single weight in @font-face (no "100 900" range), and makes a static instance
    of a variable font at the weight each run of text asks for, so registering the one file at 400 and
    at 700 gives real regular and bold text.
    """
    return [FontFace(path, weight, style) for weight in DESIGN_WEIGHTS
            if (lightest is None or lightest <= weight) and (boldest is None or weight <= boldest)]


def available_fonts(clinic_folder: Path) -> list[str]:
    """Font family names a clinic can choose: its own files, then installed font packages."""
    names = {family for family, _ in _clinic_font_faces(clinic_folder)}
    names.update(family.name for family in fontpkg.families().values())
    return sorted(names)


def _clinic_font_faces(clinic_folder: Path) -> list[tuple[str, FontFace]]:
    """The clinic's own font files (fonts/*): regular files that are,
    with every link followed, inside the clinic folder.

    A file or folder that links out of the clinic folder, and anything that is not a regular file
    (a FIFO would block the build), is skipped; find_font then reports the family as missing.
    """
    # WeasyPrint depends on fontTools.
    from fontTools.ttLib import TTFont

    root = Path(clinic_folder).resolve()
    folder = Path(clinic_folder) / "fonts"
    if not folder.is_dir() or not folder.resolve().is_relative_to(root):
        return []
    faces = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in FONT_SUFFIXES:
            continue
        resolved = path.resolve()
        try:
            status = os.stat(resolved)
            if not resolved.is_relative_to(root) or not stat.S_ISREG(status.st_mode) or status.st_size > MAX_FONT_BYTES:
                continue
            with TTFont(resolved, lazy=True) as font:
                family = font["name"].getBestFamilyName()
                weight = font["OS/2"].usWeightClass if "OS/2" in font else 400
                italic = bool(font["head"].macStyle & 0b10)
                axis = next((a for a in font["fvar"].axes if a.axisTag == "wght"), None) if "fvar" in font else None
        except Exception:  # noqa: BLE001 - fontTools, zlib and brotli raise many kinds for a damaged file
            # Not a font we can read; find_font will report the family as missing.
            continue
        if family:
            # The resolved file: the one checked is the one WeasyPrint is allowed to read.
            style = "italic" if italic else "normal"
            if axis is not None:
                faces += [(family, face) for face in _variable_faces(resolved, style, axis.minValue, axis.maxValue)]
            else:
                faces.append((family, FontFace(resolved, weight, style)))
    return faces


def undrawable(family: FontFamily, text: str) -> str:
    """The characters of `text` that none of the family's files can draw (spaces and line breaks aside),
    each once, in order: what would print as empty boxes, or in some other font the machine happens to have."""
    from fontTools.ttLib import TTFont

    key = tuple(sorted({face.path for face in family.faces}))
    if key not in _CHARACTERS:
        covered: set[int] = set()
        for path in key:
            with TTFont(path, lazy=True, fontNumber=0) as font:
                covered |= set(font.getBestCmap() or {})
        _CHARACTERS[key] = frozenset(covered)
    return "".join(dict.fromkeys(c for c in text if not c.isspace() and ord(c) not in _CHARACTERS[key]))


def font_face_css(family: FontFamily) -> str:
    """@font-face rules for every file of a family."""
    rules = [
        f'@font-face {{ font-family: "{family.css_name}"; src: url("{face.path.resolve().as_uri()}"); '
        f"font-weight: {face.weight}; font-style: {face.style}; }}"
        for face in family.faces
    ]
    return "\n".join(rules) + "\n"


_CHARACTERS: dict[tuple[Path, ...], frozenset[int]] = {}
