"""Renders a planned document to HTML with Jinja2: autoescaped, strict, data never run as a template.

Templates may come from a clinic (data/clinics/<slug>/templates/), so every template is treated as
hostile. They are given plain data only (dicts, lists, text, numbers, true/false, nothing), built here
for them; and the sandbox resolves nothing but keys of mappings and indexes of lists. Python
attributes and methods of any value (`.items`, `.__class__`, `"text".upper`) are refused, as are
values, outputs and numbers too large to be cheap. A template file is read only from inside its
folder, and only if it is a small regular file.
"""

from __future__ import annotations

import base64
import functools
import os
import stat
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import quote, urlsplit

import segno
from jinja2 import BaseLoader, StrictUndefined, TemplateError, TemplateNotFound, TemplateSyntaxError, pass_eval_context
from jinja2.compiler import CodeGenerator
from jinja2.environment import Template, TemplateModule
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.filters import FILTERS, make_attrgetter
from jinja2.loaders import split_template_path
from jinja2.runtime import BlockReference, LoopContext, Macro, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range

from . import STYLES_DIR, TEMPLATES_DIR
from .branding import INK, Palette, palette
from .loading import Clinic, Content, approval_status, patient_content
from .planning import BOOKLET, Document
from .problems import display_path, printable

# Shared content printed in one kind of document only: a source that covers nothing else is cited only there.
PRINTED_ONLY_IN = {"booklet_title": BOOKLET, "booklet_summary": BOOKLET, "consultation_questions": "pack"}

MAX_TEMPLATE_BYTES = 256 * 1024  # a template file larger than this is refused
MAX_OUTPUT = 5_000_000  # characters of HTML one render may produce (a booklet is about 300,000)
MAX_VALUE = 1_000_000  # characters (or items) of one value a template makes: text, a list, a join
MAX_WORK = 20_000_000  # characters (or items) all the values one render makes may add up to
MAX_INT_BITS = 10_000  # about 3,000 digits: the largest number a template may make

PLAIN_SCALARS = (str, int, float, bool, type(None))
EXPECTED_PLAIN = "expected a template that uses only the data it is given"

# Jinja's own runtime objects that templates need, and the only attributes read on them.
RUNTIME_ATTRIBUTES = {
    LoopContext: frozenset({"index", "index0", "revindex", "revindex0", "first", "last", "length",
                            "depth", "depth0", "previtem", "nextitem", "cycle", "changed"}),
    BlockReference: frozenset({"super"}),
}
LOOP_METHODS = frozenset({"cycle", "changed"})

# Filters every template may use; those that make text are given values of a bounded size.
TEXT_FILTERS = ("capitalize", "e", "escape", "lower", "safe", "string", "striptags", "title", "trim",
                "truncate", "upper", "wordcount")
OTHER_FILTERS = ("abs", "count", "d", "default", "dictsort", "filesizeformat", "first", "float", "int", "items",
                 "last", "length", "list", "map", "max", "min", "reject", "rejectattr", "reverse", "round",
                 "select", "selectattr", "sort", "unique")
# Not offered: center, indent, wordwrap, format, batch, slice, tojson, pprint, urlize, xmlattr, attr, sum,
# random, groupby, forceescape, urlencode (widths and counts that allocate, or objects with attributes).


def fill(label: str, **values: object) -> str:
    """Put values into a label's {placeholders}. Plain replacement: a value is never read as a template."""
    for name, value in values.items():
        label = label.replace("{" + name + "}", str(value))
    return label


def display_url(url: str) -> str:
    """A web address as a person would type it: no scheme, no trailing slash."""
    parts = urlsplit(url)
    return (parts.netloc + parts.path).rstrip("/") + (f"?{parts.query}" if parts.query else "")


def data_uri(mime_type: str, payload: str) -> str:
    return f"data:{mime_type};base64," + base64.b64encode(payload.encode("utf-8")).decode("ascii")


def build_date(content_date: date) -> str:
    """The date stamped into PDF metadata: SOURCE_DATE_EPOCH when set, else the date the content was checked.
    Never the clock, so the same input always gives the same file."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{content_date.isoformat()}T00:00:00Z"


class RenderError(Exception):
    """A template could not be rendered: a bug in one of the project's own templates (see ClinicTemplateError)."""


class ClinicTemplateError(RenderError):
    """A template in the clinic's own templates/ folder failed or was refused: the clinic's input is invalid.

    `template` is that file (a Path inside the clinic folder), `line` its line (or None when the whole
    file was refused), and `message` what is wrong, in plain words.
    """

    def __init__(self, template: Path, line: int | None, message: str):
        self.template, self.line, self.message = Path(template), line, message
        where = display_path(self.template) + (f":{line}" if line else "")
        super().__init__(printable(f"template error in the clinic's own template {where}: {message}"))

    def __reduce__(self):  # keeps its fields when sent between processes
        return type(self), (self.template, self.line, self.message)


# --- Plain data ---

def plain_data_problem(value: object, where: str = "context") -> str | None:
    """Where `value` holds something other than plain data (dict with text keys, list, str, int, float,
    bool, None), and what it is; None when it is all plain data."""
    stack = [(value, where, 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > 50:
            return f"{path}: nested more than 50 levels deep"
        kind = type(item)
        if kind in PLAIN_SCALARS:
            continue
        if kind is list:
            stack.extend((child, f"{path}[{i}]", depth + 1) for i, child in enumerate(item))
        elif kind is dict:
            for key, child in item.items():
                if type(key) is not str:
                    return f"{path}: a key of type {type(key).__name__} ({key!r})"
                stack.append((child, f"{path}.{key}", depth + 1))
        else:
            return f"{path}: {kind.__module__}.{kind.__qualname__}"
    return None


def ensure_plain_data(value: object, where: str = "context") -> None:
    """Raise TypeError unless `value` is plain data all the way down: templates must never see anything else."""
    if problem := plain_data_problem(value, where):
        raise TypeError(f"templates are given plain data only, got {problem}")


def dump(model) -> dict:
    """A pydantic model as plain data (dates as ISO text)."""
    return model.model_dump(mode="json")


def document_data(document: Document) -> dict:
    """What templates may know about the document they print."""
    return {"title": document.title, "subject": document.subject, "kind": document.kind, "name": document.name,
            "variant": document.variant, "layout": document.layout, "sheet": document.sheet, "file": document.output.name}


def clinic_data(clinic: Clinic) -> dict:
    """What templates may know about a clinic: its config as written, its slug and what follows from its country.
    No paths. `phone_href` and `emergency_href` are tap-to-call addresses (tel: with digits and + only)."""
    return {"slug": clinic.slug, "config": dump(clinic.config), "treatments": list(clinic.treatments),
            "emergency_number": clinic.emergency_number, "locale": clinic.locale,
            "country": clinic.country.name if clinic.country else None,
            "phone_href": tel_href(clinic.config.contact.phone), "emergency_href": tel_href(clinic.emergency_number)}


def tel_href(phone: str) -> str:
    """A tap-to-call address: "+1 (843) 555-0142" → "tel:+18435550142"."""
    return "tel:" + ("+" if phone.lstrip().startswith("+") else "") + "".join(c for c in phone if c.isdigit())


def joined_list(items: list[str], joiner) -> str:
    """Items joined as the strings' language joins a list: "facial and hair", "facial, hair and body"."""
    if len(items) < 2:
        return "".join(items)
    if len(items) == 2:
        return fill(joiner.pair, first=items[0], last=items[1])
    return fill(joiner.last, rest=joiner.separator.join(items[:-1]), last=items[-1])


def offered_data(clinic: Clinic, treatments: list[dict]) -> dict:
    """The sentences about the treatments a clinic offers, from the strings file's patterns (never written here)."""
    strings = clinic.strings
    count = len(treatments)
    values = {"count": strings.numbers[count - 1] if count <= len(strings.numbers) else str(count),
              "list": joined_list([treatment["type_name"] for treatment in treatments], strings.list_joiner)}

    def counted(pattern) -> str:
        return fill(pattern.one if count == 1 else pattern.other, **values)
    return {"count": count, "list": values["list"], "comparison_heading": counted(strings.comparison_heading),
            "comparison_summary": counted(strings.comparison_summary),
            "types_offered": counted(strings.types_offered)}


def palette_data(colours: Palette) -> dict:
    return {"primary": colours.primary, "on_primary": colours.on_primary, "accent": colours.accent,
            "text": colours.text, "ink": colours.ink}


def long_date(strings):
    """The `long_date` filter: an ISO date ("2026-11-24") in the clinic's language ("24 November 2026")."""
    def format_date(day) -> str:
        if isinstance(day, str):
            day = date.fromisoformat(day)
        if not isinstance(day, date):
            raise TypeError(f"expected a date like 2026-01-31, got {_kind(day)}")
        return fill(strings.date, day=day.day, month=strings.months[day.month - 1], year=day.year)
    return format_date


# --- Loading templates: only from inside their folder ---

class ContainedLoader(BaseLoader):
    """Templates from the clinic's templates/ folder first, then the project's templates/.

    A file is served only if, with every link followed, it is inside its folder, is a regular file
    (never a FIFO, which would block, or a device), is at most MAX_TEMPLATE_BYTES and is UTF-8.
    Anything else found under the name is refused, not skipped.
    """

    def __init__(self, clinic_templates: Path | None):
        self.roots = ([(Path(clinic_templates), True)] if clinic_templates else []) + [(TEMPLATES_DIR, False)]

    def get_source(self, environment, template: str):
        pieces = split_template_path(template)  # refuses ".." in a name
        for root, is_clinic in self.roots:
            path = root.joinpath(*pieces)
            if os.path.lexists(path):
                return self._read(path, root, is_clinic)
        raise TemplateNotFound(template)

    def _read(self, path: Path, root: Path, is_clinic: bool):
        def refuse(reason: str):
            if is_clinic:
                return ClinicTemplateError(path, None, f"refused to read this template: {reason}")
            return RenderError(f"refused to read the template {display_path(path)}: {reason}")

        folder = "the clinic's templates folder" if is_clinic else "the project's templates folder"
        resolved = path.resolve()
        if not resolved.is_relative_to(root.parent.resolve() / root.name):
            raise refuse(f"it is a link to a file outside {folder}")
        try:
            if not stat.S_ISREG(os.stat(resolved).st_mode):
                raise refuse("it is not a regular file")
            descriptor = os.open(resolved, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            raise refuse("it is a link to a file that does not exist") from None
        except OSError as error:
            raise refuse(f"it cannot be read ({error.strerror})") from None
        with os.fdopen(descriptor, "rb") as file:
            status = os.fstat(file.fileno())
            if not stat.S_ISREG(status.st_mode):  # swapped since it was checked
                raise refuse("it is not a regular file")
            data = file.read(MAX_TEMPLATE_BYTES + 1)
        if len(data) > MAX_TEMPLATE_BYTES:
            raise refuse(f"it is larger than {MAX_TEMPLATE_BYTES // 1024} KB")
        try:
            source = data.decode("utf-8")
        except UnicodeDecodeError:
            raise refuse("it is not UTF-8 text") from None
        mtime = status.st_mtime_ns

        def uptodate() -> bool:
            try:
                return os.stat(path).st_mtime_ns == mtime
            except OSError:
                return False
        return source, str(path), uptodate


# --- The sandbox ---

class _Budget:
    """What one render has made so far."""

    def __init__(self):
        self.output = 0  # characters of HTML produced
        self.work = 0  # characters (or items) of values made
        self.last = None  # the piece of output last counted, so that outer templates passing it on do not count it again


class OutputTooLarge(SecurityError):
    def __init__(self, template_file: str, line: int | None):
        self.template_file, self.template_line = template_file, line
        super().__init__(f"expected a document of at most {MAX_OUTPUT // 1_000_000} MB of HTML, got more")


class _Counted:
    """A template's render function (its body, or a block) that counts the output it produces itself.

    Equal to the function it wraps: super() finds the current block in the context's list by it.
    """

    __slots__ = ("render", "template")

    def __init__(self, render, template: Template):
        self.render, self.template = render, template

    def __eq__(self, other) -> bool:
        return other is self or other is self.render

    def __hash__(self) -> int:
        return hash(self.render)

    def __call__(self, context):
        budget = context.environment._budget
        pieces = self.render(context)
        try:
            for piece in pieces:
                if budget is not None and piece is not budget.last:
                    budget.output += len(piece)
                    budget.last = piece
                    if budget.output > MAX_OUTPUT:
                        frame = pieces.gi_frame  # where the template is, as it produced this piece
                        line = frame and self.template.get_corresponding_lineno(frame.f_lineno)
                        raise OutputTooLarge(self.template.filename, line)
                yield piece
                if budget is not None:
                    budget.last = None
        finally:
            pieces.close()


class _CountedTemplate(Template):
    @classmethod
    def _from_namespace(cls, environment, namespace, globals):
        template = super()._from_namespace(environment, namespace, globals)
        template.root_render_func = _Counted(template.root_render_func, template)
        template.blocks = {name: _Counted(block, template) for name, block in template.blocks.items()}
        return template


class _BoundedCodeGenerator(CodeGenerator):
    """Compiles `a ~ b` to a join whose size is checked first."""

    def visit_Concat(self, node, frame) -> None:
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"environment.joined({join}, (")
        for argument in node.nodes:
            self.visit(argument, frame)
            self.write(", ")
        self.write("))")


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (list, tuple, range)):
        return "a list"
    if isinstance(value, bool):
        return "true or false"
    if value is None:
        return "nothing"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, LoopContext):
        return "the loop"
    if isinstance(value, Macro):
        return "a macro"
    if isinstance(value, Undefined):
        return "an undefined value"
    if callable(value):
        return "a function"
    return f"a {type(value).__name__} object"


def _text_size(value: object, limit: int) -> int:
    """About how many characters `value` is as text, counted only until past `limit`."""
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, (list, tuple)):
            total += 2 + 2 * len(item)
            stack.extend(item)
        elif isinstance(item, dict):
            total += 2 + 4 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, int):
            total += 2 + item.bit_length() // 3
        else:
            total += 24
    return total


def _print_value(value: object) -> object:
    """Jinja's finalize: what `{{ … }}` may print is text, a number, or plain data of a bounded size."""
    if value is None or isinstance(value, (str, int, float, Undefined)):
        return value
    if isinstance(value, (list, tuple, dict)):
        if _text_size(value, MAX_VALUE) > MAX_VALUE:
            raise SecurityError(f"expected values of at most {MAX_VALUE:,} characters, got a larger list to print")
        return value
    raise SecurityError(f"expected a template that prints text and numbers, got {_kind(value)}")


class PlainDataSandbox(ImmutableSandboxedEnvironment):
    """A Jinja sandbox in which templates see plain data and nothing else.

    `x.name` and `x[key]` resolve mapping keys and list indexes only (plus the loop's own
    attributes, such as `loop.index`); any other attribute is refused with a SecurityError.
    Operators, filters and joins refuse to make values, outputs or numbers past the caps above.
    Globals are only `range` (capped by Jinja's sandbox): no namespace, cycler, joiner or lipsum.
    """

    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})
    code_generator_class = _BoundedCodeGenerator
    template_class = _CountedTemplate

    def __init__(self, clinic_templates: Path | None, strings=None):
        super().__init__(loader=ContainedLoader(clinic_templates), autoescape=True, undefined=StrictUndefined,
                         trim_blocks=True, lstrip_blocks=True, finalize=_print_value)
        self.clinic_templates = Path(clinic_templates) if clinic_templates else None
        self.globals.clear()
        self.globals["range"] = safe_range
        self.filters = self._filters(strings)
        self._budget: _Budget | None = None

    # -- What a template may read --

    def getattr(self, obj, attribute):
        if isinstance(obj, Undefined):
            obj._fail_with_undefined_error()
        if isinstance(obj, dict):
            if attribute in obj:
                return obj[attribute]
            if not hasattr(type(obj), attribute):
                return self.undefined(obj=obj, name=attribute)
        elif self._runtime_allows(obj, attribute):
            return getattr(obj, attribute)
        raise SecurityError(f'{EXPECTED_PLAIN}, got access to "{printable(str(attribute))[:60]}" on {_kind(obj)}')

    def getitem(self, obj, argument):
        if isinstance(obj, Undefined):
            obj._fail_with_undefined_error()
        if isinstance(obj, dict):
            try:
                if argument in obj:
                    return obj[argument]
            except TypeError:  # an unhashable key
                pass
            return self.undefined(obj=obj, name=argument)
        if isinstance(obj, (list, tuple, str, range)) and isinstance(argument, (int, slice)):
            try:
                return obj[argument]
            except (IndexError, TypeError, ValueError):
                return self.undefined(obj=obj, name=argument)
        if isinstance(argument, str) and self._runtime_allows(obj, argument):
            return getattr(obj, argument)
        raise SecurityError(f'{EXPECTED_PLAIN}, got access to "{printable(str(argument))[:60]}" on {_kind(obj)}')

    @staticmethod
    def _runtime_allows(obj, name: str) -> bool:
        """Jinja's own runtime objects the templates need: the loop's attributes, an imported template's macros."""
        if isinstance(obj, TemplateModule):
            return not name.startswith("_") and name in vars(obj)
        return any(isinstance(obj, kind) and name in names for kind, names in RUNTIME_ATTRIBUTES.items())

    def is_safe_attribute(self, obj, attr, value) -> bool:
        return self._runtime_allows(obj, attr)

    def is_safe_callable(self, obj) -> bool:
        if isinstance(obj, (Macro, BlockReference, LoopContext)) or obj is safe_range:
            return True
        owner = getattr(obj, "__self__", None)
        return isinstance(owner, LoopContext) and getattr(obj, "__name__", "") in LOOP_METHODS

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (Jinja's own signature)
        if isinstance(__obj, Undefined):
            __obj._fail_with_undefined_error()
        if not __self.is_safe_callable(__obj):
            raise SecurityError(f"{EXPECTED_PLAIN}, got a call to {_kind(__obj)}")
        return __context.call(__obj, *args, **kwargs)

    # -- What a template may make --

    def charge(self, size: int, cap: int = MAX_VALUE, what: str = "a value") -> None:
        """Count `size` characters (or items) about to be made; refuse past the caps."""
        if size > cap:
            raise SecurityError(f"expected values of at most {cap:,} characters or items, got {what} of {size:,}")
        if self._budget is not None:
            self._budget.work += size
            if self._budget.work > MAX_WORK:
                raise SecurityError(f"expected a template that makes at most {MAX_WORK:,} characters in all, got more")

    def charge_value(self, value: object) -> None:
        if isinstance(value, (str, list, tuple)):
            self.charge(len(value))

    def check_size(self, value: object) -> None:
        if isinstance(value, (str, list, tuple, dict)):
            size = _text_size(value, MAX_VALUE)
            if size > MAX_VALUE:
                raise SecurityError(f"expected values of at most {MAX_VALUE:,} characters, got one of over {size:,}")

    def call_binop(self, context, operator: str, left, right):
        sequences = (str, list, tuple)
        if operator == "*":
            for one, other in ((left, right), (right, left)):
                if isinstance(one, sequences) and isinstance(other, int):
                    self.charge(len(one) * max(other, 0), what="a repeat")
            if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise SecurityError(f"expected numbers of at most {MAX_INT_BITS:,} bits, got a larger product")
        elif operator == "+" and isinstance(left, sequences) and isinstance(right, sequences):
            self.charge(len(left) + len(right), what="a sum")
        elif operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
            if abs(left).bit_length() * right > MAX_INT_BITS:
                raise SecurityError(f"expected numbers of at most {MAX_INT_BITS:,} bits, got a power of about "
                                    f"{abs(left).bit_length() * right:,} bits")
        elif operator == "%" and isinstance(left, str):
            raise SecurityError("expected a template that puts values into text with the fill filter, got text % values")
        return super().call_binop(context, operator, left, right)

    def joined(self, join, values: tuple):
        """`a ~ b ~ c`, with its size checked before it is made."""
        self.charge(sum(_text_size(value, MAX_VALUE) for value in values), what="a join")
        return join(values)

    def concat(self, pieces) -> str:
        """Every buffer a template joins (macros, {% set %} and {% filter %} blocks, super()), bounded."""
        pieces = list(pieces)
        self.charge(sum(len(piece) for piece in pieces), cap=MAX_OUTPUT, what="a block of output")
        return "".join(pieces)

    def _filters(self, strings) -> dict:
        def bounded(function, measure: bool):
            @functools.wraps(function)  # keeps Jinja's pass_context / pass_eval_context marks
            def filter_(*args, **kwargs):
                if measure:
                    for value in (*args, *kwargs.values()):
                        self.check_size(value)
                result = function(*args, **kwargs)
                self.charge_value(result)
                return result
            return filter_

        filters = {name: bounded(FILTERS[name], measure=True) for name in TEXT_FILTERS}
        filters |= {name: bounded(FILTERS[name], measure=False) for name in OTHER_FILTERS}

        @pass_eval_context
        def join(eval_ctx, value, d: str = "", attribute=None):
            items = list(value)
            if attribute is not None:
                get = make_attrgetter(self, attribute)
                items = [get(item) for item in items]
            self.check_size(d)
            self.charge(sum(_text_size(item, MAX_VALUE) for item in items) + len(d) * len(items), what="a join")
            return FILTERS["join"](eval_ctx, items, d)

        @pass_eval_context
        def replace(eval_ctx, s, old, new, count=None):
            for value in (s, old, new):
                self.check_size(value)
            s, old, new = str(s), str(old), str(new)
            found = s.count(old) if old else len(s) + 1
            if count is not None:
                found = min(found, max(int(count), 0))
            self.charge(len(s) + found * max(len(new) - len(old), 0), what="a replacement")
            return FILTERS["replace"](eval_ctx, s, old, new, count)

        def fill_filter(label, **values):
            self.check_size(label)
            label = str(label)
            size = len(label)
            for name, value in values.items():
                self.check_size(value)
                size += label.count("{" + name + "}") * _text_size(value, MAX_VALUE)
            self.charge(size, what="a filled-in label")
            return fill(label, **values)

        filters |= {"join": join, "replace": replace, "fill": fill_filter,
                    "display_url": bounded(display_url, measure=True)}
        if strings is not None:
            filters["long_date"] = bounded(long_date(strings), measure=True)
        return filters

    # -- Rendering --

    def render_plain(self, name: str, context: dict) -> str:
        """Render template `name` with plain data, within the caps.

        Raises ClinicTemplateError when the failing (or refused) template is the clinic's own,
        RenderError when it is one of the project's templates, TypeError when `context` is not plain data.
        """
        ensure_plain_data(context)
        outer, self._budget = self._budget, _Budget()
        try:
            template = self.get_template(name)
            pieces, size = [], 0
            for piece in template.generate(context):
                size += len(piece)
                if size > MAX_OUTPUT:  # the templates' own counting stops it first; this is the last resort
                    raise SecurityError(f"expected a document of at most {MAX_OUTPUT // 1_000_000} MB of HTML, got more")
                pieces.append(piece)
            return "".join(pieces)
        except (RenderError, MemoryError):
            raise
        except Exception as error:
            raise self.render_error(error) from error
        finally:
            self._budget = outer

    def is_clinic_template(self, filename: str | None) -> bool:
        return bool(filename) and self.clinic_templates is not None and Path(filename).is_relative_to(self.clinic_templates)

    def render_error(self, error: Exception) -> RenderError:
        """The error to report for `error`: the clinic's template that failed, or a bug in a project template."""
        frames = []  # (template file, line), outermost first
        tb = error.__traceback__
        while tb is not None:
            scope = tb.tb_frame.f_globals
            if "__jinja_template__" in scope or "__jinja_exception__" in scope:
                frames.append((tb.tb_frame.f_code.co_filename, tb.tb_lineno))
            tb = tb.tb_next
        if isinstance(error, TemplateSyntaxError) and error.filename:
            frames.append((error.filename, error.lineno))
        if isinstance(error, OutputTooLarge):
            frames.append((error.template_file, error.template_line))
        message = _message(error)
        innermost = frames[-1] if frames else None
        clinic_frames = [frame for frame in frames if self.is_clinic_template(frame[0])]
        if clinic_frames:
            filename, line = clinic_frames[-1]
            if innermost[0] != filename:
                message += f" (in {Path(innermost[0]).name}{f':{innermost[1]}' if innermost[1] else ''}, which this template uses)"
            return ClinicTemplateError(Path(filename), line, message)
        where = f" ({innermost[0]}:{innermost[1]})" if innermost else ""
        return RenderError(f"template error{where}: {message}")


def _message(error: Exception) -> str:
    """What went wrong in a template, in plain words."""
    if isinstance(error, TemplateSyntaxError):
        return f"the template has a syntax error: {error.message}"
    if isinstance(error, TemplateNotFound):
        return f'expected a template that exists, got "{error.name}", which is in neither templates folder'
    if isinstance(error, UndefinedError):
        return f"{EXPECTED_PLAIN}, got something it is not given: {error}"
    if isinstance(error, TemplateError):
        return str(error)
    if isinstance(error, RecursionError):
        return "expected a template that ends, got one that calls itself without end"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


class HtmlRenderer:
    """Renders documents to HTML. Keeps one Jinja environment and one set of images per clinic."""

    def __init__(self, content: Content):
        self.content = content
        self._environments: dict[str, PlainDataSandbox] = {}
        self._images: dict[tuple[str, str], str] = {}
        self._data: dict[str, object] = {}  # plain data made once: treatments, shared content, each clinic's strings

    def palette(self, clinic: Clinic) -> Palette:
        return palette(clinic.config.colors.primary, clinic.config.colors.accent)

    def environment(self, clinic: Clinic) -> PlainDataSandbox:
        """Templates from the clinic's own templates/ folder first, then the project's."""
        key = clinic.key
        if key not in self._environments:
            self._environments[key] = PlainDataSandbox(Path(clinic.folder).resolve() / "templates", clinic.strings)
        return self._environments[key]

    def _plain(self, key: str, make):
        if key not in self._data:
            self._data[key] = make()
        return self._data[key]

    def _patient_content(self, clinic: Clinic) -> dict:
        """The treatments and shared content as the clinic's patients read them (spelled for its locale)."""
        return self._plain(f"content:{clinic.key}", lambda: patient_content(clinic, self.content.of(clinic)))

    def _treatment(self, clinic: Clinic, slug: str) -> dict:
        return self._patient_content(clinic)["treatments"][slug]

    def _shared(self, clinic: Clinic) -> dict:
        return self._patient_content(clinic)["shared"]

    def _strings(self, clinic: Clinic) -> dict:
        return self._plain(f"strings:{clinic.key}", lambda: dump(clinic.strings))

    def _clinic(self, clinic: Clinic) -> dict:
        return self._plain(f"clinic:{clinic.key}", lambda: clinic_data(clinic))

    def render(self, document: Document, extra: dict | None = None) -> str:
        """The document's HTML. `extra` is more plain data for the template (the pack's cover letter, say)."""
        clinic = document.clinic
        env = self.environment(clinic)
        if document.kind == BOOKLET:
            slugs = [*clinic.treatments, None]
        else:
            slugs = [document.name if document.treatment else None]
        parts = [self._part(clinic, slug) for slug in slugs]
        read = self.content.of(clinic)
        reviews = [read.treatments[slug].review if slug else read.shared.review for slug in slugs]
        latest = max(reviews, key=lambda review: review.reviewed_on)
        # A single document is its one part. The booklet's own pages (its cover and contents; the leaflets it binds
        # are printed from their own HTML) carry the latest review of its parts and cite the sources of its cover.
        frame = parts[0] if document.kind != BOOKLET else {
            "treatment": None, "icon_src": None, "diagram_src": None, "review": dump(latest),
            "sources": [source for source in self._shared(clinic)["sources"]
                        if {name for name, only_in in PRINTED_ONLY_IN.items() if only_in == BOOKLET} & set(source["covers"])]}
        context = {
            "doc": document_data(document),
            "clinic": self._clinic(clinic),
            "t": self._strings(clinic),
            "shared": self._shared(clinic),
            "treatments": [self._treatment(clinic, slug) for slug in clinic.treatments],
            "offered": self._plain(f"offered:{clinic.key}", lambda: offered_data(
                clinic, [self._treatment(clinic, slug) for slug in clinic.treatments])),
            "approval": self._plain(f"approval:{clinic.key}", lambda: approval_status(clinic, self.content.of(clinic))),
            "parts": parts,
            "in_booklet": document.kind == BOOKLET,
            "keywords": list(clinic.strings.keywords) + [document.title],
            "emergency_number": clinic.emergency_number,
            "created": build_date(latest.reviewed_on),
            "logo_src": self._logo_src(clinic),
            "qr_src": self._qr(clinic),
            **{key: frame[key] for key in ("treatment", "icon_src", "diagram_src", "review", "sources")},
        }
        return env.render_plain(document.template, context | (extra or {}))

    @staticmethod
    def _logo_src(clinic: Clinic) -> str:
        """The logo's address relative to the clinic folder, percent-encoded: `logo #1?.svg` is a file, not a fragment."""
        logo = Path(clinic.logo)
        try:
            relative = logo.relative_to(Path(clinic.folder)).as_posix()
        except ValueError:
            relative = logo.name
        return quote(relative)

    def _part(self, clinic: Clinic, slug: str | None) -> dict:
        """What the templates need to print one treatment (or, for None, the comparison). A source is cited only
        where what it covers is printed: not the booklet's cover text on a comparison sheet, nor the pack's questions."""
        if slug is None:
            shared = self._shared(clinic)
            elsewhere = set(PRINTED_ONLY_IN)
            sources = [source for source in shared["sources"] if set(source["covers"]) - elsewhere]
            return {"id": "part-comparison", "title": shared["title"], "treatment": None, "icon_src": None,
                    "diagram_src": None, "review": shared["review"], "sources": sources}
        treatment = self._treatment(clinic, slug)
        return {"id": f"part-{slug}", "title": treatment["title"], "treatment": treatment,
                "icon_src": self._icon(clinic, self.content.treatments[slug].icon), "diagram_src": self._diagram(clinic, slug),
                "review": treatment["review"], "sources": treatment["sources"]}

    def _cached(self, clinic: Clinic, key: str, make) -> str:
        cache_key = (clinic.key, key)
        if cache_key not in self._images:
            self._images[cache_key] = make()
        return self._images[cache_key]

    def _qr(self, clinic: Clinic) -> str | None:
        url = clinic.config.booking_url
        if not url:
            return None
        # Dark on white whatever the brand colours: scanners need the contrast.
        return self._cached(clinic, "qr", lambda: segno.make(url, error="m").svg_data_uri(scale=4, border=4, dark=INK, light="#FFFFFF"))

    def _icon(self, clinic: Clinic, name: str) -> str:
        def make() -> str:
            svg = (STYLES_DIR / "icons" / name).read_text(encoding="utf-8")
            return data_uri("image/svg+xml", svg.replace("currentColor", self.palette(clinic).text))
        return self._cached(clinic, f"icon:{name}", make)

    def _diagram(self, clinic: Clinic, slug: str) -> str:
        def make() -> str:
            svg = self.environment(clinic).render_plain("skin_diagram.svg.j2", {
                "treatment": self._treatment(clinic, slug), "t": self._strings(clinic),
                "palette": palette_data(self.palette(clinic))})
            return data_uri("image/svg+xml", svg)
        return self._cached(clinic, f"diagram:{slug}", make)
