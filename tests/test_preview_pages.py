"""The preview shows pages at reading size, and times in the clinic's own time zone."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from PIL import Image

from brochures.load.clinic import load_clinic
from brochures.load.content import load_content
from brochures.preview.gallery import PICTURE_PX, ClinicShown, write_gallery
from brochures.problems import InputError
from brochures.quality.report import report_data
from conftest import DATA, edit_config

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def gallery(example_build, tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("gallery") / "out"
    shutil.copytree(example_build.parent, out)
    content = load_content(DATA)
    clinic = load_clinic(DATA / "clinics" / "example" / "clinic.yaml", content)
    shown = ClinicShown(clinic.slug, clinic.config.name, clinic.locale, clinic.strings, clinic.timezone)
    page = write_gallery(out, [shown], [], 1, clinic.strings)
    return out, page.read_text()


def test_every_page_opens_at_reading_size_with_the_pages_around_it_and_the_pdf(gallery):
    out, html = gallery
    # The facial leaflet has 4 pages: each picture opens its page, which links to the ones before and after it.
    for number in range(1, 5):
        page = f"example-facial.pdf-page-{number}"
        assert f'href="#{page}"' in html and f'class="viewer" id="{page}"' in html
    viewer = html.split('id="example-facial.pdf-page-2"', 1)[1].split("</div>", 1)[0]
    assert 'href="#example-facial.pdf-page-1">Previous page' in viewer
    assert 'href="#example-facial.pdf-page-3">Next page' in viewer
    assert 'href="/example/facial.pdf"' in viewer and 'href="#example-facial.pdf">Back to all pages' in viewer
    last = html.split('id="example-facial.pdf-page-4"', 1)[1].split("</div>", 1)[0]
    assert "Next page" not in last
    # Drawn wide enough to read at the width of a window.
    picture = out / viewer.split('<img src="/', 1)[1].split('"', 1)[0]
    assert Image.open(picture).width == PICTURE_PX >= 1200


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium (scripts/setup.sh installs it)")
def test_a_page_opened_fills_the_width_of_the_window(gallery):
    playwright = pytest.importorskip("playwright.sync_api")
    out, _ = gallery
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 700})
            page.goto((out / ".preview" / "index.html").as_uri())
            viewer = page.locator("#example-facial\\.pdf-page-2")
            assert not viewer.is_visible()
            page.locator('a[href="#example-facial.pdf-page-2"]').first.click()
            assert viewer.is_visible()
            box = viewer.locator("img").bounding_box()
            assert box["x"] == 0 and box["width"] >= 980
            viewer.get_by_text("Next page").click()
            assert page.locator("#example-facial\\.pdf-page-3").is_visible() and not viewer.is_visible()
        finally:
            browser.close()


@pytest.mark.parametrize(("when", "shown"), [(datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc), "13:00 (BST)"),
                                             (datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc), "12:00 (GMT)")])
def test_times_are_in_the_clinics_own_time_zone(when, shown):
    content = load_content(DATA)
    clinic = load_clinic(DATA / "clinics" / "example" / "clinic.yaml", content)
    assert clinic.timezone == "Europe/London"
    card = {"document": "facial.pdf", "verdict": "ready", "language": "en-GB", "problems": []}
    data = report_data([card], clinic.strings, {"facial.pdf": {"built": when.timestamp()}}, clinic.timezone)
    assert data["documents"][0]["built"].endswith(f"at {shown}")


def test_a_clinic_sets_its_time_zone_and_a_wrong_one_is_named(clinic_copy):
    content = load_content(DATA)
    edit_config(clinic_copy, "country: GB", "country: US")
    edit_config(clinic_copy, "page_size: A4", "page_size: A4\ntimezone: America/Chicago")
    assert load_clinic(clinic_copy / "clinic.yaml", content).timezone == "America/Chicago"
    # A name linked to one of the country's zones, one kept by part of it all year (Arizona's), and one whose clocks
    # are New York's (its rules written out) are its own.
    for zone in ("US/Eastern", "MST", "EST5EDT"):
        edit_config(clinic_copy, "timezone: America/Chicago", f"timezone: {zone}")
        assert load_clinic(clinic_copy / "clinic.yaml", content).timezone == zone
        edit_config(clinic_copy, f"timezone: {zone}", "timezone: America/Chicago")
    # A fixed offset, or another country's zone: a patient's calendar would be an hour or more out for part of the
    # year. EST is Panama's time, with no summer time.
    for zone in ("EST", "UTC", "Etc/GMT+5", "Europe/London"):
        edit_config(clinic_copy, "timezone: America/Chicago", f"timezone: {zone}")
        with pytest.raises(InputError) as refused:
            load_clinic(clinic_copy / "clinic.yaml", content)
        problem, = refused.value.problems
        assert problem.field == "timezone" and problem.line == 18, problem
        assert problem.message == (
            'expected a time zone of the clinic\'s country (US), such as "America/New_York" or "America/Detroit", got '
            f'"{zone}", which keeps no clocks there: a fixed offset or another country\'s zone puts patients\' '
            "appointments at the wrong time in their calendars for part of the year"
        )
        edit_config(clinic_copy, f"timezone: {zone}", "timezone: America/Chicago")
    edit_config(clinic_copy, "timezone: America/Chicago", "timezone: Europe/Londn")
    with pytest.raises(InputError) as refused:
        load_clinic(clinic_copy / "clinic.yaml", content)
    problem, = refused.value.problems
    assert problem.field == "timezone" and 'expected a time zone name like "Europe/London"' in problem.message


def test_each_countrys_own_time_zone_keeps_its_clocks():
    """The zone data/countries.yaml gives a country is one of that country's, as a clinic's own must be."""
    from brochures.files.yaml_reader import read_yaml
    from brochures.schema.fields import keeps_time_of

    countries = read_yaml(DATA / "countries.yaml").data["countries"]
    zoned = {code: country["timezone"] for code, country in countries.items() if country.get("timezone")}
    assert len(zoned) >= 8
    assert all(keeps_time_of(zone, code) for code, zone in zoned.items()), zoned
