"""A clinic's own templates are hostile: they see plain data only, in a sandbox that refuses everything else.

Each guard is proven by a template that tries to get past it: the render fails with a
ClinicTemplateError naming the clinic's template file, and nothing outside is read or written.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import threading
from datetime import date
from pathlib import Path

import pypdfium2
import pytest
from jinja2 import TemplateAssertionError
from jinja2.exceptions import SecurityError
from markupsafe import Markup
from PIL import Image
from pypdf import PdfReader

from brochures.brand.fonts import available_fonts, find_font
from brochures.building.tasks import RENDER, Task, do_task
from brochures.load.clinic import load_clinic
from brochures.load.content import load_content
from brochures.plan.documents import LAYOUTS, VARIANTS, plan_documents
from brochures.quality.report import write_report
from brochures.quality.scorecard import Scorecard
from brochures.render.data import ensure_plain_data, plain_data_problem
from brochures.render.errors import ClinicTemplateError, RenderError
from brochures.render.html import HtmlRenderer
from brochures.render.sandbox import PlainDataSandbox
from conftest import DATA, ROOT, ROSEWOOD, edit_config, pdf_text
from generate import main

CONTENT = load_content(DATA)
SECRET = "SECRET-SENTINEL-7f3a9c"


@pytest.fixture
def outside(tmp_path) -> Path:
    """A folder beside the clinic's, holding a secret a template must never read."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text(SECRET)
    return folder


def override(clinic: Path, name: str, text: str) -> Path:
    """The clinic's own template `name` (searched before the project's)."""
    path = clinic / "templates" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def documents(clinic: Path, only: set[str] | None = None, **kwargs):
    return plan_documents(
        [load_clinic(clinic / "clinic.yaml", CONTENT)], CONTENT, clinic.parent / "out", only, **kwargs
    )


def render(clinic: Path, name: str = "facial") -> str:
    return HtmlRenderer(CONTENT).render(documents(clinic, {name})[0])


def finishes(function, seconds: float = 20) -> list:
    """Run `function` in a thread; fail (instead of hanging the suite) if it blocks, as opening a FIFO would."""
    result: list = []
    thread = threading.Thread(target=lambda: result.append(function()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s: it blocked"
    return result


# --- Hostile templates: every one fails with an error naming the clinic's own file ---

HOSTILE = [
    # Paths and other objects are simply not there.
    ("{{ clinic.folder }}", "has no attribute 'folder'"),
    ("{{ clinic.logo }}", "has no attribute 'logo'"),
    ("{{ clinic.config_file }}", "has no attribute 'config_file'"),
    ("{{ clinic.doc }}", "has no attribute 'doc'"),
    ("{{ clinic.folder.joinpath('{secret}').read_text() }}", "has no attribute 'folder'"),
    ("{{ clinic.folder.joinpath('{written}').write_text('x') }}", "has no attribute 'folder'"),
    ("{{ doc.output.parent.joinpath('{secret}').read_text() }}", "has no attribute 'output'"),
    ("{{ clinic.config.model_dump() }}", "has no attribute 'model_dump'"),
    # Python's attributes and methods are refused on every value, not just names with underscores.
    ("{{ __class__.__mro__ }}", "'__class__' is undefined"),
    ('{{ "".__class__.__mro__[1].__subclasses__() }}', 'got access to "__class__" on text'),
    ("{{ t.__init__ }}", 'got access to "__init__" on a mapping'),
    ("{{ t.__init__.__globals__ }}", 'got access to "__init__" on a mapping'),
    ("{{ treatment.items() }}", 'got access to "items" on a mapping'),
    ("{% for k, v in treatment.items() %}{{ k }}{% endfor %}", 'got access to "items" on a mapping'),
    ("{{ treatment.takeaway.upper() }}", 'got access to "upper" on text'),
    ('{{ "{0.__class__}".format(t) }}', 'got access to "format" on text'),
    ("{{ treatment.home_care.append(1) }}", 'got access to "append" on a list'),
    ("{{ treatment.home_care['pop'] }}", 'got access to "pop" on a list'),
    ("{% for x in treatment.home_care %}{{ loop.__class__ }}{% endfor %}", 'got access to "__class__" on the loop'),
    (
        "{% from 'partials/macros.html.j2' import item_list %}{{ item_list._func.__globals__ }}",
        'got access to "_func" on a macro',
    ),
    ("{{ self.__init__.__globals__ }}", 'got access to "__init__"'),
    ("{{ range.__self__ }}", 'got access to "__self__" on a function'),
    # Jinja's globals with state or a way out are gone.
    ("{{ cycler.__init__.__globals__.os.popen('touch {written}') }}", "'cycler' is undefined"),
    ("{{ lipsum.__globals__['os'].popen('touch {written}').read() }}", "'lipsum' is undefined"),
    ("{{ joiner.__init__.__globals__ }}", "'joiner' is undefined"),
    (
        "{% set ns = namespace(n=0) %}{% for x in [1, 2] %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}",
        "'namespace' is undefined",
    ),
    ("{{ dict(a=1) }}", "'dict' is undefined"),
    ("{{ treatment|attr('items') }}", "No filter named 'attr'"),
    # Values, outputs and numbers too large to be cheap.
    ("{{ 'x' * 10**9 }}", "got a repeat of 1,000,000,000"),
    ("{{ [0] * 10**7 }}", "got a repeat of 10,000,000"),
    ("{{ 10 ** (10 ** 6) }}", "expected numbers of at most"),
    ("{{ (2 ** 6000) * (2 ** 6000) }}", "expected numbers of at most"),
    ("{{ '%09999999d' % 1 }}", "got text % values"),
    ("{{ 'x'|center(10000000) }}", "No filter named 'center'"),
    ("{{ 'x'|indent(10000000) }}", "No filter named 'indent'"),
    ("{{ (['x' * 1000000] * 100)|join }}", "got a join of"),
    ("{% set s = 'x' * 1000000 %}{{ s ~ s }}", "got a join of"),
    # Measured before it is made.
    ("{% set s = 'x' * 1000000 %}{{ ([s] * 100)|string }}", "got one of over"),
    ("{% set s = 'x' * 1000000 %}{{ [s] * 100 }}", "got a larger list to print"),
    ("{% set s = 'x' * 2000 %}{{ s|replace('x', s) }}", "got a replacement of"),
    ("{{ ('{x}' * 300000)|fill(x='yyyyyyyyyy') }}", "got a filled-in label of"),
    ("{% set s = 'x' * 1000000 %}{% for i in range(10) %}{{ s }}{% endfor %}", "at most 5 MB of HTML"),
    (
        "{% macro m() %}{% for i in range(100) %}{{ 'x' * 100000 }}{% endfor %}{% endmacro %}{{ m()|length }}",
        "got a block of output",
    ),
    # A template that is broken, not hostile, is the clinic's mistake all the same.
    ("{{ no_such_value }}", "'no_such_value' is undefined"),
    ("{% if %}", "syntax error"),
    ("{% include 'no-such-partial.html.j2' %}", '"no-such-partial.html.j2"'),
    ("{% macro again() %}{{ again() }}{% endmacro %}{{ again() }}", "calls itself without end"),
]


@pytest.mark.parametrize("text,reason", HOSTILE, ids=[text[:50] for text, _ in HOSTILE])
def test_a_hostile_clinic_template_is_an_error_naming_it(clinic_copy, outside, text, reason):
    written = outside / "written.txt"
    template = override(
        clinic_copy,
        "partials/takeaway.html.j2",
        text.replace("{secret}", str(outside / "secret.txt")).replace("{written}", str(written)),
    )
    with pytest.raises(ClinicTemplateError) as caught:
        render(clinic_copy)
    error = caught.value
    assert error.template == template and error.line == 1
    assert reason in error.message
    assert str(template.relative_to(clinic_copy)) in str(error) and str(error).startswith("template error")
    assert SECRET not in str(error) and not written.exists()


def test_every_document_that_uses_a_hostile_template_names_it(clinic_copy):
    """The takeaway partial is included by every brochure, and so by the booklet that binds them; the comparison
    sheet and the booklet's own cover and contents do not use it."""
    template = override(clinic_copy, "partials/takeaway.html.j2", "<p>\n{{ treatment.items() }}</p>")
    renderer = HtmlRenderer(CONTENT)
    for document in documents(clinic_copy, variants=VARIANTS, layouts=LAYOUTS):
        if document.kind in ("comparison", "booklet") or document.layout == "trifold":
            assert renderer.render(document)
        else:
            with pytest.raises(ClinicTemplateError) as caught:
                renderer.render(document)
            assert (caught.value.template, caught.value.line) == (template, 2), document.output.name
        # Rendered with the leaflets it binds, as a build renders it.
        if document.kind == "booklet":
            outcome = do_task(renderer, None, Task(RENDER, document))
            assert (outcome.problem.file, outcome.problem.line) == (template, 2), document.output.name


def test_a_page_template_override_is_named_with_its_line(clinic_copy):
    template = override(
        clinic_copy,
        "brochure.html.j2",
        '{% extends "base.html.j2" %}\n{% block content %}\n{{ clinic.config.__class__ }}\n{% endblock %}',
    )
    with pytest.raises(ClinicTemplateError) as caught:
        render(clinic_copy)
    assert (caught.value.template, caught.value.line) == (template, 3)
    assert 'got access to "__class__" on a mapping' in caught.value.message


def test_a_clinic_template_misusing_a_project_macro_is_the_clinics_error(clinic_copy):
    template = override(
        clinic_copy,
        "partials/takeaway.html.j2",
        "{% from 'partials/macros.html.j2' import item_list %}\n{{ item_list(5) }}",
    )
    with pytest.raises(ClinicTemplateError) as caught:
        render(clinic_copy)
    assert (caught.value.template, caught.value.line) == (template, 2)
    # Where it went wrong, inside the project's macro.
    assert "macros.html.j2" in caught.value.message


def test_an_error_in_a_project_template_stays_a_render_error(tmp_path):
    """A project template that fails is a bug in the project, not the clinic's mistake."""
    sandbox = PlainDataSandbox(tmp_path / "templates")
    with pytest.raises(RenderError) as caught:
        sandbox.render_plain("partials/title.html.j2", {})
    assert not isinstance(caught.value, ClinicTemplateError)
    assert "title.html.j2" in str(caught.value) and "'treatment' is undefined" in str(caught.value)


def test_the_error_keeps_its_fields_between_processes(tmp_path):
    error = ClinicTemplateError(tmp_path / "templates" / "x.html.j2", 3, "expected …, got …")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.template, copy.line, copy.message, str(copy)) == (error.template, 3, error.message, str(error))
    assert isinstance(copy, RenderError)


# --- A legitimate override still works ---

LEGITIMATE_TAKEAWAY = """\
{% import "partials/macros.html.j2" as macros %}
<section class="takeaway">
  <h2>{{ t.key_takeaway }}</h2>
  <p class="callout">{{ treatment.takeaway }}</p>
</section>
<section class="home-care">
  <h2>{{ t.home_care }}</h2>
  <ol>
  {% for x in treatment.home_care %}
    <li>Tip {{ loop.index }} of {{ loop.length }}: {{ x }}{% if loop.last %} (the last tip){% endif %}</li>
  {% endfor %}
  </ol>
  {{ macros.paragraphs([treatment.home_care_summary]) }}
  <p>{{ "Sessions: " ~ treatment.course["sessions"] }} \
{{ treatment.ingredients | map(attribute="name") | join(", ") }}.</p>
  <p>{{ t.footer_reviewed | fill(date=review.reviewed_on | long_date) }} \
({{ treatment.side_effects.common | length * 1 }} common side effects).</p>
</section>
<section class="results">
  <h2>{{ t.results_heading }}</h2>
  <p>{{ treatment.results }}</p>
</section>
"""


def test_a_legitimate_override_still_builds(clinic_copy, tmp_path):
    override(clinic_copy, "partials/takeaway.html.j2", LEGITIMATE_TAKEAWAY)
    override(
        clinic_copy,
        "brochure.html.j2",
        '{% extends "base.html.j2" %}\n'
        '{% block content %}{% include "partials/brochure_body.html.j2" %}{% endblock %}\n'
        '{% block closing %}{{ super() }}<p>Ask us about our evening clinics.</p>{% endblock %}',
    )
    assert main(["--clinic", str(clinic_copy), "--treatment", "facial", "--out", str(tmp_path / "out")]) == 0
    text = pdf_text(tmp_path / "out" / "mine" / "facial.pdf")
    facial = CONTENT.treatments["facial"]
    assert " ".join(facial.takeaway.split()) in text
    count = len(facial.home_care)
    assert f"Tip 1 of {count}:" in text and f"Tip {count} of {count}:" in text and "(the last tip)" in text
    assert facial.ingredients[0].name in text and "Information checked 24 November 2026" in text
    assert "Ask us about our evening clinics." in text


# --- Plain data only ---


def test_plain_data_check_refuses_anything_else():
    ensure_plain_data({"a": [1, 2.5, True, None, "x", {"b": []}]})
    for value, found in [
        ({"folder": Path("/etc")}, "context.folder: pathlib.PosixPath"),
        ({"day": date(2026, 1, 1)}, "context.day: datetime.date"),
        ({"items": (1, 2)}, "context.items: builtins.tuple"),
        ({"list": [1, {"set": {1}}]}, "context.list[1].set: builtins.set"),
        ({"model": CONTENT.shared}, "context.model: brochures.schema.content.SharedContent"),
        ({"html": Markup("<b>")}, "context.html: markupsafe.Markup"),
        ({"method": "".upper}, "context.method: builtins.builtin_function_or_method"),
        ({1: "x"}, "a key of type int"),
    ]:
        assert found in plain_data_problem(value)
        with pytest.raises(TypeError):
            ensure_plain_data(value)


def test_render_refuses_a_context_that_is_not_plain_data(tmp_path):
    with pytest.raises(TypeError, match="context.treatment: pathlib"):
        PlainDataSandbox(tmp_path / "templates").render_plain("partials/title.html.j2", {"treatment": tmp_path})


def test_every_value_handed_to_templates_is_plain_data(monkeypatch, tmp_path):
    """Every context of every kind of document (and the skin diagram and the report) is plain data,
    and none holds the clinic folder's path."""
    seen: list[tuple[str, dict]] = []
    real = PlainDataSandbox.render_plain

    def spy(self, name, context):
        seen.append((name, context))
        return real(self, name, context)

    monkeypatch.setattr(PlainDataSandbox, "render_plain", spy)
    clinics = [
        load_clinic(DATA / "clinics" / "example" / "clinic.yaml", CONTENT),
        load_clinic(ROSEWOOD / "clinic.yaml", CONTENT),
    ]
    renderer = HtmlRenderer(CONTENT)
    for document in plan_documents(clinics, CONTENT, tmp_path, variants=VARIANTS, layouts=LAYOUTS):
        assert renderer.render(document)
    cards = [
        Scorecard("facial.pdf", 4, 45, 5.0, {"summary": 4.0}, ["mesotherapy"], accessibility={"tagged": True}),
        Scorecard("hair.pdf", error="it failed"),
    ]
    for clinic in clinics:
        (tmp_path / clinic.slug).mkdir()
        write_report(tmp_path / clinic.slug, clinic, cards, renderer.environment(clinic), "body {}")
        assert "it failed" in (tmp_path / clinic.slug / "report.html").read_text()
    assert {name for name, _ in seen} == {
        "brochure.html.j2",
        "trifold.html.j2",
        "comparison.html.j2",
        "booklet.html.j2",
        "skin_diagram.svg.j2",
        "report.html.j2",
    }
    for name, context in seen:
        assert plain_data_problem(context) is None, name
        text = json.dumps(context)
        assert all(str(clinic.folder) not in text for clinic in clinics), name


# --- The sandbox itself ---

ALLOWED = [
    ("{{ x.a }} {{ x['a'] }} {{ y[1] }} {{ y[-1] }} {{ s[1:3] }}", "1 1 b c bc"),
    (
        "{% for i in y %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }} "
        "{% endfor %}",
        "10TrueFalse3 21FalseFalse3 32FalseTrue3 ",
    ),
    ("{% for i in y %}{{ loop.cycle('-', '+') }}{% if loop.changed(i) %}{{ i }}{% endif %}{% endfor %}", "-a+b-c"),
    (
        "{% for k, v in x|dictsort %}{{ k }}={{ v }};{% endfor %}{% for k, v in x|items %}{{ k }}{% endfor %}",
        "a=1;b=2;ab",
    ),
    (
        "{{ y|join(',') }} {{ y|length }} {{ s|upper }} {{ s|replace('b', 'B') }} {{ (x|items|list)[0][1] }}",
        "a,b,c 3 ABCD aBcd 1",
    ),
    (
        "{% macro m(v) %}<b>{{ v }}</b>{% endmacro %}{{ m(s ~ '<') }} {{ range(3)|list|length }} "
        "{{ 2 ** 10 }} {{ 7 % 3 }}",
        "<b>abcd&lt;</b> 3 1024 1",
    ),
    ("{% set z = x.missing is defined %}{{ z }} {{ x.c is defined }}", "False False"),
]

REFUSED = [
    "x.items", "x.keys()", "x.__class__", "s.upper", "s.format", "s.__len__", "y.count", "y.__class__", "(1).real",
    "y['index']", "range.__call__", "loop.__init__", "loop.reset", "'x' * 10**9", "10 ** (10 ** 6)", "'a %s' % s"
]


@pytest.mark.parametrize("text,output", ALLOWED)
def test_the_sandbox_reads_plain_data_and_the_loop(tmp_path, text, output):
    sandbox = PlainDataSandbox(tmp_path / "templates")
    assert sandbox.from_string(text).render(x={"a": 1, "b": 2}, y=["a", "b", "c"], s="abcd") == output


@pytest.mark.parametrize("expression", REFUSED)
def test_the_sandbox_refuses_everything_else_with_a_security_error(tmp_path, expression):
    template = PlainDataSandbox(tmp_path / "templates").from_string(
        "{% for i in y %}{% set v = " + expression + " %}{% endfor %}"
    )
    # Refused when it is read, not only when it would be printed.
    with pytest.raises(SecurityError):
        template.render(x={"a": 1}, y=["a"], s="abcd")


@pytest.mark.parametrize(
    "name",
    [
        "center", "indent", "wordwrap", "format", "batch", "slice", "tojson", "pprint", "urlize", "attr", "xmlattr",
        "sum", "random", "groupby", "forceescape", "urlencode"
    ],
)
def test_filters_that_allocate_or_reach_attributes_are_not_offered(tmp_path, name):
    with pytest.raises(TemplateAssertionError, match=f"No filter named '{name}'"):
        PlainDataSandbox(tmp_path / "templates").from_string(f"{{{{ x|{name} }}}}")


def test_only_range_is_global(tmp_path):
    assert set(PlainDataSandbox(tmp_path / "templates").globals) == {"range"}


# --- Template files: only from inside the clinic's templates folder ---


def test_a_template_linked_to_a_file_outside_is_refused(clinic_copy, outside):
    (outside / "takeaway.html.j2").write_text(SECRET)
    link = clinic_copy / "templates" / "partials" / "takeaway.html.j2"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside / "takeaway.html.j2")
    with pytest.raises(ClinicTemplateError) as caught:
        render(clinic_copy)
    assert caught.value.template == link and caught.value.line is None
    assert "it is a link to a file outside the clinic's templates folder" in caught.value.message
    assert SECRET not in str(caught.value)


def test_a_template_in_a_folder_linked_outside_is_refused(clinic_copy, outside):
    (outside / "partials").mkdir()
    (outside / "partials" / "takeaway.html.j2").write_text(SECRET)
    (clinic_copy / "templates").mkdir()
    (clinic_copy / "templates" / "partials").symlink_to(outside / "partials")
    with pytest.raises(ClinicTemplateError) as caught:
        render(clinic_copy)
    assert caught.value.template == clinic_copy / "templates" / "partials" / "takeaway.html.j2"
    assert "outside the clinic's templates folder" in caught.value.message


def test_a_templates_folder_linked_outside_is_refused(clinic_copy, outside):
    (outside / "partials").mkdir()
    (outside / "partials" / "takeaway.html.j2").write_text(SECRET)
    (clinic_copy / "templates").symlink_to(outside)
    with pytest.raises(ClinicTemplateError, match="outside the clinic's templates folder"):
        render(clinic_copy)


def test_a_link_to_another_template_inside_the_folder_is_served(clinic_copy):
    (clinic_copy / "templates" / "partials").mkdir(parents=True)
    (clinic_copy / "templates" / "mine.html.j2").write_text("<p>{{ treatment.takeaway }} Our own words.</p>")
    (clinic_copy / "templates" / "partials" / "takeaway.html.j2").symlink_to(clinic_copy / "templates" / "mine.html.j2")
    assert "Our own words." in render(clinic_copy)


@pytest.mark.parametrize(
    "make,reason",
    [
        (lambda path: os.mkfifo(path), "it is not a regular file"),
        (lambda path: path.mkdir(), "it is not a regular file"),
        (lambda path: path.write_text("x" * (256 * 1024 + 1)), "it is larger than 256 KB"),
        (lambda path: path.write_bytes(b"caf\xe9"), "it is not UTF-8 text"),
        (lambda path: path.symlink_to(path.parent / "nothing"), "it is a link to a file that does not exist"),
    ],
)
def test_a_template_file_that_is_not_a_small_text_file_is_refused(clinic_copy, make, reason):
    path = clinic_copy / "templates" / "partials" / "takeaway.html.j2"
    path.parent.mkdir(parents=True)
    make(path)

    def attempt():
        with pytest.raises(ClinicTemplateError) as caught:
            render(clinic_copy)
        return caught.value

    # A FIFO must not block the build.
    error = finishes(attempt)[0]
    assert error.template == path and reason in error.message


# --- Clinic font files: only from inside the clinic folder ---


def atkinson_file() -> Path:
    return next(face.path for face in find_font("Atkinson Hyperlegible", DATA).faces)


def test_a_clinic_font_inside_its_folder_is_used(clinic_copy):
    (clinic_copy / "fonts").mkdir()
    shutil.copy(atkinson_file(), clinic_copy / "fonts" / "Brand.ttf")
    font = find_font("Atkinson Hyperlegible", clinic_copy)
    assert font.files == {(clinic_copy / "fonts" / "Brand.ttf").resolve()}


def test_a_clinic_font_file_linked_outside_is_not_used(clinic_copy, outside):
    shutil.copy(atkinson_file(), outside / "Brand.ttf")
    (clinic_copy / "fonts").mkdir()
    (clinic_copy / "fonts" / "Brand.ttf").symlink_to(outside / "Brand.ttf")
    font = find_font("Atkinson Hyperlegible", clinic_copy)
    assert (outside / "Brand.ttf").resolve() not in font.files
    # The installed package instead.
    assert not any(path.is_relative_to(clinic_copy.resolve()) for path in font.files)


def test_a_clinic_fonts_folder_linked_outside_is_not_used(clinic_copy, outside):
    shutil.copy(atkinson_file(), outside / "Brand.ttf")
    (clinic_copy / "fonts").symlink_to(outside)
    font = find_font("Atkinson Hyperlegible", clinic_copy)
    assert (outside / "Brand.ttf").resolve() not in font.files


def test_a_fifo_among_the_clinic_fonts_is_skipped(clinic_copy):
    (clinic_copy / "fonts").mkdir()
    os.mkfifo(clinic_copy / "fonts" / "Brand.ttf")
    assert "Atkinson Hyperlegible" in finishes(lambda: available_fonts(clinic_copy))[0]


# --- Logo file names that are not plain URL paths ---


@pytest.mark.parametrize("name", ["logo #1?.svg", "50%25 off.png"])
def test_a_logo_named_with_url_characters_is_printed(clinic_copy, tmp_path, name):
    # Found nowhere else in a brochure.
    colour = (200, 30, 90)
    if name.endswith(".png"):
        Image.new("RGB", (480, 128), colour).save(clinic_copy / name)
    else:
        (clinic_copy / name).write_text(
            '<svg xmlns="http://www.w3.org/2000/svg" width="240" height="64">'
            '<rect width="240" height="64" fill="#C81E5A"/></svg>'
        )
    edit_config(clinic_copy, "logo: logo.svg", f'logo: "{name}"')
    assert main(["--clinic", str(clinic_copy), "--treatment", "facial", "--out", str(tmp_path / "out")]) == 0
    image = pypdfium2.PdfDocument(tmp_path / "out" / "mine" / "facial.pdf")[0].render(scale=1).to_pil().convert("RGB")
    logo_pixels = sum(
        count for count, pixel in image.getcolors(1 << 24) if all(abs(a - b) < 8 for a, b in zip(pixel, colour))
    )
    assert logo_pixels > 1000, "the logo is not on the first page"


# --- The whole example still builds ---


def test_the_example_clinic_builds(example_build):
    assert sorted(path.name for path in example_build.glob("*.pdf")) == [
        "body.pdf", "booklet.pdf", "comparison.pdf", "facial.pdf", "hair.pdf"
    ]
    assert (example_build / "report.html").is_file()


def test_a_clinic_cannot_override_the_staff_report(clinic_copy, tmp_path, capsys):
    # The report is the project's own: a clinic's report.html.j2, hostile or not, is never used.
    override(clinic_copy, "report.html.j2", "{{ clinic.folder.joinpath('x') }}")
    assert main(["--clinic", str(clinic_copy), "--treatment", "comparison", "--out", str(tmp_path)]) == 0
    report = (tmp_path / "mine" / "report.html").read_text()
    assert "comparison.pdf" in report and "Traceback" not in capsys.readouterr().err


def test_a_booklet_keeps_each_leaflets_links_inside_that_leaflet(clinic_copy, tmp_path):
    """Every leaflet a clinic's templates give an `id="book"` (its contact box) and a link to it: bound in the
    booklet, each leaflet's link still leads to its own contact box, not to the first leaflet's. And the contents
    reach each part, although these templates give its main part no id at all."""
    override(
        clinic_copy,
        "partials/contact.html.j2",
        (ROOT / "templates/partials/contact.html.j2")
        .read_text()
        .replace('<section class="contact">', '<section class="contact" id="book">'),
    )
    title = (ROOT / "templates/partials/title.html.j2").read_text()
    override(
        clinic_copy,
        "partials/title.html.j2",
        title.replace("{{ treatment.summary }}</p>", '{{ treatment.summary }} <a href="#book">Book</a></p>'),
    )
    assert main(["--clinic", str(clinic_copy), "--out", str(tmp_path / "out"), "--treatment", "booklet"]) == 0
    reader = PdfReader(tmp_path / "out" / clinic_copy.name / "booklet.pdf")
    names = {name: reader.get_destination_page_number(dest) + 1 for name, dest in reader.named_destinations.items()}

    def link_targets(page):
        return [names[a.get_object()["/Dest"]] for a in page.get("/Annots", []) if a.get_object().get("/Dest") in names]

    contents = link_targets(reader.pages[1])
    # Each leaflet's first page (4 pages each, after the cover and contents)
    assert contents[:3] == [3, 7, 11]
    for first_page in contents[:3]:
        [book] = link_targets(reader.pages[first_page - 1])
        assert first_page <= book < first_page + 4, (
            f"the link on page {first_page} leads to page {book}, outside its leaflet"
        )
        assert "Book a consultation" in reader.pages[book - 1].extract_text()


def test_a_clinic_booklet_template_that_prints_the_parts_itself_is_an_error_naming_it(clinic_copy, tmp_path, capsys):
    """A booklet.html.j2 written when the booklet was one document (it printed each part, with an id part-…):
    now the leaflets are bound after the cover and contents, so it would print every part twice. However the id is
    written; and a template that only mentions such an id, in its text or another attribute, is fine."""
    project = (ROOT / "templates/booklet.html.j2").read_text()
    for parts in (
        '{% for part in parts %}<article id="{{ part.id }}"><h2>{{ part.title }}</h2></article>{% endfor %}',
        "{% for part in parts %}<article id='{{ part.id }}'><h2>{{ part.title }}</h2></article>{% endfor %}",
        '{% for part in parts %}<article id = "{{ part.id }}"></article>{% endfor %}',
    ):
        template = override(clinic_copy, "booklet.html.j2", project.replace("</ol>", "</ol>" + parts))
        # Invalid input.
        assert (
            main(
                ["--clinic", str(clinic_copy), "--out", str(tmp_path / "out"), "--treatment", "booklet", "--jobs", "1"]
            )
            == 2
        )
        err = capsys.readouterr().err
        assert str(template.relative_to(clinic_copy.parent)) in err and "they would be in it twice" in err, err
    fine = '<p data-id="part-facial">Old templates used id="part-facial".</p>'
    override(clinic_copy, "booklet.html.j2", project.replace("</ol>", "</ol>" + fine))
    assert (
        main(["--clinic", str(clinic_copy), "--out", str(tmp_path / "out"), "--treatment", "booklet", "--jobs", "1"])
        == 0
    )
    capsys.readouterr()


def test_a_template_is_compiled_once_per_process_yet_each_clinic_gets_its_own_and_the_latest(tmp_path, monkeypatch):
    """Sandboxes share what they compiled (one per clinic edition, each compiling the project's templates alike), by
    the template's file and its source: a clinic's own template of the same name is not another's, and a template
    edited since (the preview) is compiled again."""
    from brochures.render import sandbox as sandboxes

    compiled = []
    compile_source = sandboxes.PlainDataSandbox.compile
    monkeypatch.setattr(sandboxes.PlainDataSandbox, "compile",
                        lambda self, source, name=None, *rest, **kw: compiled.append(name) or compile_source(
                            self, source, name, *rest, **kw))
    for clinic in ("one", "two"):
        (tmp_path / clinic / "templates").mkdir(parents=True)
        (tmp_path / clinic / "templates" / "note.html.j2").write_text(f"{clinic}: {{{{ word }}}}")
    one, two = (PlainDataSandbox(tmp_path / clinic / "templates") for clinic in ("one", "two"))
    assert one.render_plain("note.html.j2", {"word": "a"}) == "one: a"
    assert two.render_plain("note.html.j2", {"word": "b"}) == "two: b"
    # A third sandbox of the first clinic compiles nothing again.
    assert PlainDataSandbox(tmp_path / "one" / "templates").render_plain("note.html.j2", {"word": "c"}) == "one: c"
    assert compiled == ["note.html.j2", "note.html.j2"]
    (tmp_path / "one" / "templates" / "note.html.j2").write_text("edited: {{ word }}")
    assert PlainDataSandbox(tmp_path / "one" / "templates").render_plain("note.html.j2", {"word": "d"}) == "edited: d"
    assert compiled == ["note.html.j2"] * 3
