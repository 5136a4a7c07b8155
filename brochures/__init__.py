"""Patient brochures for clinics: load → validate → plan → render HTML → print PDF → check and finish."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PROJECT_ROOT / "templates"
STYLES_DIR = PROJECT_ROOT / "styles"
DATA_DIR = PROJECT_ROOT / "data"
