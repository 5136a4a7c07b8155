#!/bin/sh
# Installs everything the generator needs on a fresh machine:
#   1. the system libraries WeasyPrint uses (Pango >= 1.44, HarfBuzz with its subsetter),
#   2. a virtual environment in .venv with the project and its test tools.
# Safe to run again: it only installs what is missing.
#
# `sh scripts/setup.sh --runtime` installs only what `generate.py` needs to run, for the container image
# (deploy/Containerfile): the same system libraries and Python dependencies, without poppler-utils, the browser or
# the test tools. Both modes share the lists below, so the image cannot drift from a person's setup.
set -eu
cd "$(dirname "$0")/.."

case "${1:-}" in
    "") runtime="" ;;
    --runtime) runtime=1 ;;
    *) echo "usage: sh scripts/setup.sh [--runtime]" >&2; exit 2 ;;
esac

# What WeasyPrint prints with. poppler-utils (pdftoppm) is only for people previewing pages as images: the
# generator itself draws pages with pypdfium2.
RUNTIME_PACKAGES="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig"
DEBIAN_PACKAGES="$RUNTIME_PACKAGES poppler-utils"
# The browser the preview gallery is tested in (tests/test_preview.py drives it with Playwright; no browser is
# downloaded). Only the tests need it, so a system without Debian's package (Ubuntu ships Chromium as a snap)
# still gets the generator, and those tests say they were skipped.
BROWSER_PACKAGE="chromium"
if [ -n "$runtime" ]; then
    DEBIAN_PACKAGES="$RUNTIME_PACKAGES"
    BROWSER_PACKAGE=""
fi

missing=""
browser_missing=""
if command -v dpkg >/dev/null 2>&1; then
    for pkg in $DEBIAN_PACKAGES; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
    done
    if [ -n "$BROWSER_PACKAGE" ]; then
        dpkg -s "$BROWSER_PACKAGE" >/dev/null 2>&1 || browser_missing="$BROWSER_PACKAGE"
    fi
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
if [ -z "$runtime" ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
    # Compiled once now, as pip compiles what it installs into site-packages: an editable install leaves this folder's
    # modules to be compiled on every start where Python may not write them (PYTHONDONTWRITEBYTECODE), about a tenth
    # of a second. A module edited later is compiled again from its source (Python compares their times).
    .venv/bin/python -m compileall -q brochures
    echo "Ready: .venv/bin/python generate.py"
    exit 0
fi

# Runtime: generate.py runs from this folder, whose brochures/ finds templates/, styles/ and data/ next to it
# (brochures.PROJECT_ROOT). A package installed into site-packages would look for them there, so the venv gets only
# the dependencies: a normal (not editable) install of the project, with no extras, pulls in exactly the ones
# pyproject.toml lists, then the installed copy of the package is removed, leaving this folder's the only one.
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-cache-dir .
.venv/bin/python -m pip uninstall --quiet --disable-pip-version-check --yes mesotherapy-brochures
# What that install built here (setuptools builds in the source folder).
rm -rf build mesotherapy_brochures.egg-info
# Compiled once now, so a user who may not write here (the image's) does not compile it on every start.
.venv/bin/python -m compileall -q brochures
echo "Ready (runtime only): .venv/bin/python generate.py"
