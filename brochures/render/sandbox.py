"""Renders a planned document to HTML with Jinja2: autoescaped, strict, data never run as a template.

Templates may come from a clinic (data/clinics/<slug>/templates/), so every template is treated as
hostile. They are given plain data only (dicts, lists, text, numbers, true/false, nothing), built here
for them; and the sandbox resolves nothing but keys of mappings and indexes of lists. Python
attributes and methods of any value (`.items`, `.__class__`, `"text".upper`) are refused, as are
values, outputs and numbers too large to be cheap. A template file is read only from inside its
folder, and only if it is a small regular file.
"""

from __future__ import annotations

import functools
from pathlib import Path

from jinja2 import (
    BytecodeCache,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    pass_eval_context,
)
from jinja2.compiler import CodeGenerator
from jinja2.environment import Template, TemplateModule
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.filters import FILTERS, make_attrgetter
from jinja2.runtime import BlockReference, LoopContext, Macro, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range

from brochures.problems import printable
from brochures.render.data import _kind, display_url, ensure_plain_data, fill, long_date
from brochures.render.errors import ClinicTemplateError, RenderError
from brochures.render.loader import ContainedLoader

# Characters of HTML one render may produce (a booklet is about 300,000)
MAX_OUTPUT = 5_000_000


# Characters (or items) of one value a template makes: text, a list, a join.
MAX_VALUE = 1_000_000


# Characters (or items) all the values one render makes may add up to.
MAX_WORK = 20_000_000


# About 3,000 digits: the largest number a template may make.
MAX_INT_BITS = 10_000


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


class _Budget:
    """What one render has made so far."""

    def __init__(self):
        # Characters of HTML produced.
        self.output = 0
        # Characters (or items) of values made.
        self.work = 0
        # The piece of output last counted, so that outer templates passing it on do not count it again.
        self.last = None


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
                        # Where the template is, as it produced this piece.
                        frame = pieces.gi_frame
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


class _CompiledTemplates(BytecodeCache):
    """Each template compiled once in a process, whichever sandbox loads it: a build makes a sandbox per clinic
    edition (its own templates folder, its language's filters), and the project's templates compile the same in
    each. Kept by the template's name and file, and used only while its source is the same (Jinja checks its
    digest); every sandbox compiles alike (the same options and code generator)."""

    KEPT = 2048

    def __init__(self):
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if (code := self._code.get(bucket.key)) is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket) -> None:
        if len(self._code) >= self.KEPT:
            self._code.clear()
        self._code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


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
                         trim_blocks=True, lstrip_blocks=True, finalize=_print_value, bytecode_cache=_COMPILED)
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
            # An unhashable key.
            except TypeError:
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
            if (
                isinstance(left, int)
                and isinstance(right, int)
                and left.bit_length() + right.bit_length() > MAX_INT_BITS
            ):
                raise SecurityError(f"expected numbers of at most {MAX_INT_BITS:,} bits, got a larger product")
        elif operator == "+" and isinstance(left, sequences) and isinstance(right, sequences):
            self.charge(len(left) + len(right), what="a sum")
        elif operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
            if abs(left).bit_length() * right > MAX_INT_BITS:
                raise SecurityError(
                    f"expected numbers of at most {MAX_INT_BITS:,} bits, got a power of about "
                    f"{abs(left).bit_length() * right:,} bits"
                )
        elif operator == "%" and isinstance(left, str):
            raise SecurityError(
                "expected a template that puts values into text with the fill filter, got text % values"
            )
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
            # Keeps Jinja's pass_context / pass_eval_context marks.
            @functools.wraps(function)
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

        filters |= {
            "join": join,
            "replace": replace,
            "fill": fill_filter,
            "display_url": bounded(display_url, measure=True),
        }
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
                # The templates' own counting stops it first; this is the last resort.
                if size > MAX_OUTPUT:
                    raise SecurityError(
                        f"expected a document of at most {MAX_OUTPUT // 1_000_000} MB of HTML, got more"
                    )
                pieces.append(piece)
            return "".join(pieces)
        except (RenderError, MemoryError):
            raise
        except Exception as error:
            raise self.render_error(error) from error
        finally:
            self._budget = outer

    def is_clinic_template(self, filename: str | None) -> bool:
        return (
            bool(filename)
            and self.clinic_templates is not None
            and Path(filename).is_relative_to(self.clinic_templates)
        )

    def render_error(self, error: Exception) -> RenderError:
        """The error to report for `error`: the clinic's template that failed, or a bug in a project template."""
        # (template file, line), outermost first.
        frames = []
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
                message += (
                    f" (in {Path(innermost[0]).name}{f':{innermost[1]}' if innermost[1] else ''}, "
                    "which this template uses)"
                )
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
