"""What loading gives every later stage: the content, and each clinic edition with everything resolved from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from brochures.brand.colours import Palette
from brochures.brand.fonts import FontFamily
from brochures.files.yaml_reader import YamlFile
from brochures.problems import Problem
from brochures.schema.clinic import ClinicConfig
from brochures.schema.content import SharedContent, Treatment
from brochures.schema.reference import ClaimRules, Countries, Country
from brochures.schema.strings import Strings


@dataclass(frozen=True)
class Content:
    """Everything the brochures say, shared by every clinic."""

    data_dir: Path
    # Slug → treatment, in brochure order.
    treatments: dict[str, Treatment]
    shared: SharedContent
    # Slug (or "shared") → its file, with line numbers.
    docs: dict[str, YamlFile] = field(default_factory=dict)
    # Data/countries.yaml: local facts by country.
    countries: Countries | None = None
    # The language of the text: English, or one of `editions`.
    language: str = "en"
    # The content in each other language with translations in data/translations/ (text over the English facts),
    # and the problems of a language whose translations are incomplete (reported when a clinic asks for it).
    editions: dict[str, Content] = field(default_factory=dict)
    edition_problems: dict[str, list[Problem]] = field(default_factory=dict)
    edition_warnings: dict[str, list[Problem]] = field(default_factory=dict)

    def of(self, clinic: Clinic) -> Content:
        """The content as this clinic edition's patients read it: in its language."""
        return self.editions.get(clinic.language, self) if clinic.language != self.language else self


# Names the generator gives its own outputs in a clinic's folder (comparison.pdf, booklet.pdf, report.json,
# report.html), and index for a gallery page: a treatment file may not take them.
RESERVED_NAMES = ("booklet", "comparison", "index", "report")


@dataclass(frozen=True)
class Clinic:
    """A validated clinic: its config plus everything resolved from it."""

    slug: str
    folder: Path
    config_file: Path
    config: ClinicConfig
    logo: Path
    font: FontFamily
    strings: Strings
    treatments: tuple[str, ...]
    # The config as read, with line numbers.
    doc: YamlFile
    strings_doc: YamlFile
    # The variant's file laid over strings_doc (en-US.yaml), when there is one.
    strings_overlay: YamlFile | None
    claim_rules: ClaimRules
    # The clinic's own, else its country's: never a default it did not choose.
    emergency_number: str = ""
    country: Country | None = None
    # The language as printed and tagged: "en-GB", "en-US".
    locale: str = "en"
    # Content words respelled for the locale ("ageing" → "aging")
    spelling: dict[str, str] = field(default_factory=dict)
    # The language of this edition's documents ("en", "es", "ar"): the config's languages, one by one.
    language: str = "en"
    # The clinic's main language: its documents go to out/<clinic>/, the others' to out/<clinic>/<language>/.
    main: bool = True
    # The fonts that draw the language's script, after the clinic's font.
    script_fonts: tuple[FontFamily, ...] = ()
    # Its translations: older than the English, or not yet reviewed.
    translation_warnings: tuple[Problem, ...] = ()
    # Resolved once, when the clinic is loaded, and read by every stage: its brand colours made readable (each
    # adjustment a warning of its own), and whether its medical lead approved the content it prints.
    palette: Palette | None = None
    colour_warnings: tuple[Problem, ...] = ()
    approval: dict = field(default_factory=dict)
    # Where the clinic is, for the times its staff read (an IANA name; UTC when neither it nor its country says).
    timezone: str = "UTC"

    @property
    def home(self) -> str:
        """The clinic's output folder name, which its languages share (example for example/es)."""
        return self.slug.split("/")[0]

    @property
    def key(self) -> str:
        """What tells this clinic edition from every other: its folder and its language."""
        return f"{self.folder}|{self.locale}"

    @property
    def fonts(self) -> tuple[FontFamily, ...]:
        return (self.font, *self.script_fonts)
