#!/bin/sh
# Installs everything the generator needs on a fresh machine:
#   1. the system libraries WeasyPrint uses (Pango >= 1.44, HarfBuzz with its subsetter),
#   2. a virtual environment in .venv with the project and its test tools.
# Safe to run again: it only installs what is missing.
set -eu
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig poppler-utils"
# The browser the preview gallery is tested in (tests/test_preview.py drives it with Playwright; no browser is
# downloaded). Only the tests need it, so a system without Debian's package (Ubuntu ships Chromium as a snap)
# still gets the generator, and those tests say they were skipped.
BROWSER_PACKAGE="chromium"

missing=""
browser_missing=""
if command -v dpkg >/dev/null 2>&1; then
    for pkg in $DEBIAN_PACKAGES; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
    done
    dpkg -s "$BROWSER_PACKAGE" >/dev/null 2>&1 || browser_missing="$BROWSER_PACKAGE"
fi
if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
if [ -n "$missing$browser_missing" ]; then
    $sudo apt-get update -qq
fi
if [ -n "$missing" ]; then
    echo "Installing system packages:$missing"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
elif ! command -v dpkg >/dev/null 2>&1; then
    echo "Not a Debian/Ubuntu system: install Pango >= 1.44 and HarfBuzz yourself"
    echo "(macOS: 'brew install pango'; see https://doc.courtbouillon.org/weasyprint/stable/first_steps.html)."
fi
if [ -n "$browser_missing" ]; then
    echo "Installing the browser the preview's tests use: $browser_missing"
    if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$browser_missing" >/dev/null; then
        echo "Note: Debian's $browser_missing package could not be installed here. The generator works without it;"
        echo "only the preview's browser tests need it, and they will be reported as skipped."
    fi
fi

PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
echo "Ready: .venv/bin/python generate.py"
