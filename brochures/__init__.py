"""Patient brochures for clinics: load → validate → plan → render HTML → print PDF → check and finish."""

from pathlib import Path

# Pyproject.toml reads it from here: `python generate.py --version`.
__version__ = "0.1.0"

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PROJECT_ROOT / "templates"
STYLES_DIR = PROJECT_ROOT / "styles"
DATA_DIR = PROJECT_ROOT / "data"
