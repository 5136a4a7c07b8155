#!/bin/sh
# Installs everything the generator needs on a fresh machine:
#   1. the system libraries WeasyPrint uses (Pango >= 1.44, HarfBuzz with its subsetter),
#   2. a virtual environment in .venv with the project and its test tools.
# Safe to run again: it only installs what is missing.
set -eu
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig poppler-utils"
# The browser the preview gallery is tested in (tests/test_preview.py drives it with Playwright; no browser is downloaded).
DEBIAN_PACKAGES="$DEBIAN_PACKAGES chromium"

missing=""
if command -v dpkg >/dev/null 2>&1; then
    for pkg in $DEBIAN_PACKAGES; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
    done
fi
if [ -n "$missing" ]; then
    echo "Installing system packages:$missing"
    if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
elif ! command -v dpkg >/dev/null 2>&1; then
    echo "Not a Debian/Ubuntu system: install Pango >= 1.44 and HarfBuzz yourself"
    echo "(macOS: 'brew install pango'; see https://doc.courtbouillon.org/weasyprint/stable/first_steps.html)."
fi

PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
echo "Ready: .venv/bin/python generate.py"
