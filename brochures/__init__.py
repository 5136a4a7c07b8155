"""Patient brochures for clinics: load → validate → plan → render HTML → print PDF → check and finish."""

from pathlib import Path

# Pyproject.toml reads it from here: `python generate.py --version`.
__version__ = "0.1.0"

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PROJECT_ROOT / "templates"
STYLES_DIR = PROJECT_ROOT / "styles"
DATA_DIR = PROJECT_ROOT / "data"


def given_path(text: str) -> Path:
    """A file or folder named on the command line (argparse's `type=`). An empty name is refused: Path("") is the
    current folder, where `--out ''` would have written a build."""
    if not text.strip():
        # argparse says "argument --out: expected a file or folder, got an empty name".
        from argparse import ArgumentTypeError

        raise ArgumentTypeError("expected a file or folder, got an empty name")
    return Path(text)
