"""The patient-communication quality gate: reading level, claims, review dates, and the clinic's scorecard."""

from __future__ import annotations

import base64
import json
import functools
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import textstat

from .branding import palette
from .grade_memo import GradeMemo
from .inspection import page_pictures
from .models import ClaimRules, SharedContent, Treatment, colour_as_given
from .loading import approval_status
from .output_folder import write_atomically
from .problems import Problem
from .rendering import clinic_data, fill, long_date, offered_data
from .starter import placeholder_problems
from .yaml_reader import FieldPath, YamlFile, dotted

GRADE_TARGET = 8.0  # health-literacy guidance: grade 8 or lower, 6 is better
NEGATIONS = {"not", "no", "never", "cannot", "can't", "isn't", "aren't", "won't", "don't", "doesn't", "nor", "neither"}
NEGATION_REACH = 4  # words before a phrase in which a negation makes it honest: "no treatment is risk-free"
# A negation reaches only the clause it is in: "no needles, guaranteed results" still promises results. A clause
# ends at punctuation and at these words.
CLAUSE_WORDS = ["and", "but", "yet", "so", "plus", "while", "whereas", "although", "though", "because", "since", "with",
                "then", "however", "also"]
NOT_A_NEGATION_BEFORE = {"only", "just", "merely", "simply"}  # "not only painless but permanent" denies nothing
# A rule phrase ending in " *" matches only before another word that is not one of these: "best *" finds
# "Best Med Spa" and "the best clinic", not "it works best as a course".
NOT_A_NOUN = {"as", "when", "if", "for", "with", "after", "before", "at", "on", "to", "and", "or", "but", "than",
              "while", "in", "of", "by", "from", "during", "because", "so", "then", "is", "are", "was", "be"}

# Sections of a brochure, as the reader meets them, and the fields each one prints.
SECTIONS = {
    "summary": ("summary", "goal", "intro"),
    "what it can help with": ("helps_with", "benefits", "limits"),
    "what goes into it": ("ingredients", "ingredients_note"),
    "how it is done": ("method",),
    "your course": ("course",),
    "is it right for you": ("suits", "not_suitable", "discuss_first"),
    "side effects": ("side_effects",),
    "aftercare": ("aftercare",),
    "when to get help": ("contact_clinic", "emergency"),
    "takeaway and results": ("takeaway", "home_care", "results"),
}


# --- Reading level ---

@dataclass(frozen=True)
class Measure:
    """A reading-level formula for one language, and the level the content must reach (None: information only)."""

    name: str
    target: float | None
    higher_is_easier: bool
    stand_in: str  # a one-syllable word put in place of names a patient must learn anyway
    always_excluded: tuple[str, ...]

    def too_hard(self, value: float | None) -> bool:
        if value is None or self.target is None:
            return False
        return value < self.target if self.higher_is_easier else value > self.target

    def target_text(self) -> str:
        return f"{self.target:g} or {'more' if self.higher_is_easier else 'lower'}"

    def score(self, value: float) -> str:
        return f"reading grade {value}" if self.name == MEASURES_EN else f"{self.name} {value}"

    def reads_at(self, value: float) -> str:
        return f"reads at grade {value}" if self.name == MEASURES_EN else f"measures {self.name} {value}"

    def missed(self) -> str:
        """How a score misses the target: "above the target of 8", "below the target of 65"."""
        return f"{'below' if self.higher_is_easier else 'above'} the target of {self.target:g}"


MEASURES_EN = "Flesch–Kincaid grade"
# Flesch–Kincaid grade for English (health-literacy guidance: grade 8 or lower, 6 is better). INFLESZ, the
# Szigriszt-Pazos perspicuity on Barrio-Cantalejo's scale, for Spanish: 65 or more is "bastante fácil" (fairly easy).
# OSMAN for Arabic, reported as information only: no reading formula for Arabic is well established.
MEASURES = {
    "en": Measure(MEASURES_EN, GRADE_TARGET, False, "this", ("mesotherapy",)),
    "es": Measure("INFLESZ", 65.0, True, "luz", ("mesoterapia",)),
    "ar": Measure("OSMAN", None, True, "هذا", ()),
}


# A language with no measure of its own: Flesch reading ease, shown as information only (its weights are English).
OTHER_LANGUAGE = Measure("Flesch reading ease", None, True, "luz", ())


def measure_for(language: str) -> Measure:
    return MEASURES.get(language.split("-")[0], OTHER_LANGUAGE)


@dataclass
class Reading:
    """The reading level of a document and of each of its sections, by its language's measure."""

    grade: float
    sections: dict[str, float]
    excluded: list[str]  # treatment and ingredient names left out of the measure
    language: str = "en"

    @property
    def over_target(self) -> bool:
        return measure_for(self.language).too_hard(self.grade)


def prose(values) -> str:
    """Text as a reader meets it: each bullet item is a sentence of its own, not part of one run-on sentence."""
    parts = []
    for value in values:
        if isinstance(value, str):
            text = " ".join(value.split())
            parts.append(text if text.endswith((".", "!", "?", ":")) else text + ".")
        elif isinstance(value, (list, tuple)):
            parts.append(prose(value))
        elif isinstance(value, dict):
            parts.append(prose(value.values()))
    return " ".join(part for part in parts if part)


_GRADES: GradeMemo | None = None  # read from the user's cache folder on first use


def grade(text: str, excluded: list[str], language: str = "en") -> float:
    """The text's reading level by its language's measure, with names a patient must learn anyway swapped for a
    one-syllable word."""
    global _GRADES
    measure = measure_for(language)
    for name in sorted(excluded, key=len, reverse=True):
        text = re.sub(re.escape(name), measure.stand_in, text, flags=re.IGNORECASE)
    if not text.strip():
        return 0.0
    if _GRADES is None:
        _GRADES = GradeMemo()
    formula = FORMULAS.get(language.split("-")[0], lambda text: textstat.flesch_reading_ease(text))
    return _GRADES.get(f"{measure.name}\n{text}", lambda keyed: round(formula(keyed.split("\n", 1)[1]), 1))


# Spanish syllables: vowels in a row are one syllable (a diphthong) unless two of them are strong (a, e, o, or an
# accented í or ú): "ciu-dad", "dí-a", "le-er". The u of que, qui, gue, gui is silent; a final y is a vowel ("hoy").
_STRONG = set("aeoáéóíú")
_VOWELS = set("aeiouáéíóúü")


def spanish_syllables(word: str) -> int:
    word = re.sub(r"(?<=[qg])u(?=[eiéí])", "", word.lower())
    if word.endswith("y") and len(word) > 1 and word[-2] in _VOWELS:
        word = word[:-1] + "i"
    if word == "y":
        return 1
    count, previous = 0, ""
    for char in word:
        if char in _VOWELS:
            if not previous or (previous in _STRONG and char in _STRONG):
                count += 1
            previous = char
        else:
            previous = ""
    return max(count, 1) if re.search(r"\w", word) else 0


def inflesz(text: str) -> float:
    """Szigriszt-Pazos perspicuity: 206.835 − 62.3 × syllables per word − words per sentence."""
    words = re.findall(r"[^\W_]+", text)
    sentences = max(1, len([part for part in re.split(r"[.!?:]+", text) if re.search(r"[^\W_]", part)]))
    if not words:
        return 100.0
    syllables = sum(spanish_syllables(word) for word in words)
    return 206.835 - 62.3 * syllables / len(words) - len(words) / sentences


FORMULAS = {"en": lambda text: textstat.flesch_kincaid_grade(text), "es": inflesz, "ar": lambda text: textstat.osman(text)}


def save_grades() -> None:
    """Keep this build's new grades for the next one."""
    if _GRADES is not None:
        _GRADES.save()


def excluded_terms(treatments: list[Treatment], language: str = "en") -> list[str]:
    terms = set(measure_for(language).always_excluded) | {ingredient.name for t in treatments for ingredient in t.ingredients}
    return sorted(terms)


def treatment_reading(treatment: Treatment, language: str = "en") -> Reading:
    excluded = excluded_terms([treatment], language)
    data = treatment.model_dump()
    sections = {name: grade(prose(data[key] for key in keys), excluded, language) for name, keys in SECTIONS.items()}
    whole = prose(data[key] for keys in SECTIONS.values() for key in keys)
    return Reading(grade(whole, excluded, language), sections, excluded, language)


def comparison_reading(shared: SharedContent, treatments: list[Treatment], offered: dict, language: str = "en") -> Reading:
    """The comparison sheet's prose as this clinic's patients read it: the shared text, the sentences built from
    the list of treatments it offers (`offered`, from the strings file), and each offered treatment's own lines."""
    excluded = excluded_terms(treatments, language)
    sections = {
        "about mesotherapy": [offered["comparison_summary"], shared.intro, offered["types_offered"]],
        "side by side": [[t.goal, t.suits, t.benefits, t.method_summary, t.home_care_summary] for t in treatments],
        "medical or cosmetic": list(shared.medical_vs_cosmetic.model_dump().values()),
        "home products and summary": [shared.safety_note, shared.home_products, shared.in_summary,
                                      [t.in_summary for t in treatments], shared.in_summary_closing],
    }
    return Reading(grade(prose(sections.values()), excluded, language),
                   {name: grade(prose(text), excluded, language) for name, text in sections.items()}, excluded, language)


# --- Claims ---

@dataclass(frozen=True)
class Claim:
    """A phrase that advertising rules do not allow, where it was written, and why."""

    problem: Problem
    phrase: str
    rule: str
    reason: str

    def __str__(self) -> str:
        return f'{self.problem.file}:{self.problem.line} {self.problem.field}: "{self.phrase}" ({self.rule}): {self.reason}'


ENGLISH_NEGATIONS = {"words": sorted(NEGATIONS), "not_before": sorted(NOT_A_NEGATION_BEFORE),
                     "not_a_noun": sorted(NOT_A_NOUN),
                     "clause_ends": CLAUSE_WORDS}
_ARABIC_MARKS = re.compile("[\u064B-\u0652\u0670\u0640]")  # short vowels, shadda, sukun, dagger alef, tatweel


def normalize_arabic(text: str) -> str:
    """Arabic as the claims rules compare it: no short vowels or tatweel; one form of alef, ya and ta marbuta."""
    text = _ARABIC_MARKS.sub("", text)
    return text.translate(str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي", "ة": "ه"}))


def _comparable(char: str) -> str:
    """A character as claims are compared: its compatibility form (Arabic letters pasted from a PDF in their
    presentation forms, full-width digits), any script's digits as 0–9, the Arabic percent sign as %, and a typeset
    apostrophe as '."""
    if char in "\u2019\u066A":
        return "'" if char == "\u2019" else "%"
    if char.isdigit() and unicodedata.decimal(char, None) is not None:
        return str(unicodedata.decimal(char))
    return unicodedata.normalize("NFKC", char)


class ClaimChecker:
    """Finds disallowed claims in text, skipping honest negations, by the rules of one language."""

    def __init__(self, rules: ClaimRules, extra_terms: list[str] = (), extra_reason: str = ""):
        negations = rules.negations.model_dump() if rules.negations else ENGLISH_NEGATIONS
        self.negations = {word.lower() for word in negations["words"]}
        self.not_before = {word.lower() for word in negations["not_before"]}
        self.not_a_noun = sorted({word.lower() for word in negations["not_a_noun"]})
        self.clause_end = re.compile(r"[,;.:!?()\[\]\u2013\u2014\u060C\u061B\u061F]|(?<!\w)(?:"
                                     + "|".join(re.escape(w) for w in sorted(negations["clause_ends"], key=len, reverse=True))
                                     + r")(?!\w)", re.IGNORECASE)
        self.normal = normalize_arabic if rules.normalize == "arabic" else (lambda text: text)
        self.prefixes = sorted((self.normal(p) for p in rules.prefixes), key=len, reverse=True)
        self._checked: dict[tuple[str, str], list[Claim]] = {}
        self.patterns = []
        for rule in rules.rules:
            for phrase in rule.phrases:
                self.patterns.append((self._compile(phrase), rule.id, rule.reason))
        for term in extra_terms:
            self.patterns.append((self._compile(term), "clinic", extra_reason))

    def _compile(self, phrase: str) -> re.Pattern:
        phrase = self.normal("".join(_comparable(c) for c in unicodedata.normalize("NFC", phrase.strip())))
        before_a_word = phrase.endswith(" *")
        phrase = phrase.removesuffix(" *").strip()
        words = [re.escape(word) for word in re.split(r"[\s-]+", phrase)]
        body = r"[\s-]+".join(words).replace("%", r"\s?%")  # "100 %", as Spanish and French typeset it
        before = r"(?<![\w#])" if phrase[0].isalnum() or phrase[0] == "#" else ""
        if before and self.prefixes:  # a phrase written joined to "and", "with", "the"… is the same phrase
            before = r"(?<![\w#])(?:" + "|".join(map(re.escape, self.prefixes)) + r")*"
        after = r"(?![\w%])" if phrase[-1].isalnum() or phrase[-1] == "%" else ""
        if before_a_word and self.not_a_noun:
            after = r"[\s-]+(?!(?:" + "|".join(map(re.escape, self.not_a_noun)) + r")\b)[^\W\d_]+"
        elif before_a_word:
            after = r"[\s-]+[^\W\d_]+"
        return re.compile(before + body + after, re.IGNORECASE)

    def find(self, text: str) -> list[tuple[str, str, str]]:
        """(phrase as written, rule id, reason) for each claim in `text`.

        A claim is excused only by a negation in its own clause, a few words before it, that is not
        itself part of another claim: in "no downtime, guaranteed results" both are claims, and in
        "no downtime means permanent results" the "no" belongs to "no downtime", not to "permanent".
        """
        # Compared as "doesn't hurt" however the apostrophe is typeset, and (Arabic) without short vowels; each
        # compared character remembers where it was written, so that a claim is quoted as it is in the file.
        written = unicodedata.normalize("NFC", text)  # "í" typed as i + an accent is "í"
        where, compared = [], []
        for i, c in enumerate(written):
            for n in self.normal(_comparable(c)):
                where.append(i)
                compared.append(n)
        text = "".join(compared)
        matches = [(match, rule, reason) for pattern, rule, reason in self.patterns for match in pattern.finditer(text)]
        spans = [match.span() for match, _, _ in matches]
        found, taken = [], set()
        for match, rule, reason in sorted(matches, key=lambda m: (m[0].start(), -m[0].end())):
            if any(rule == other and a < match.end() and match.start() < b for other, a, b in taken):
                continue  # "the best clinic" is one superlative, not two
            taken.add((rule, *match.span()))
            if not self._negated(text, match.start(), spans):
                found.append((written[where[match.start()]:where[match.end() - 1] + 1], rule, reason))
        return found

    def _negated(self, text: str, start: int, claims: list[tuple[int, int]] = ()) -> bool:
        """True if a negation in the same clause, shortly before `start`, denies the claim that starts there."""
        clause_start = max((end.end() for end in self.clause_end.finditer(text, 0, start)), default=0)
        words = [(word.group(0).lower(), word.start()) for word in re.finditer(r"[\w']+", text[:start])
                 if word.start() >= clause_start]
        words = [(word, at) for word, at in words if not any(a <= at < b for a, b in claims)]
        nearby = words[-NEGATION_REACH:]
        for index, (word, _) in enumerate(nearby):
            following = nearby[index + 1][0] if index + 1 < len(nearby) else ""
            if self._denies(word) and following not in self.not_before:
                return True
        return False

    def _denies(self, word: str) -> bool:
        """A negation, also when written joined to a prefix (Arabic وليس, "and is not")."""
        if word in self.negations:
            return True
        return any(word.startswith(prefix) and word[len(prefix):] in self.negations for prefix in self.prefixes)

    def checked(self, doc: YamlFile) -> list[Claim]:
        """`check` of a file every clinic shares (content, strings), remembered by the file and its text."""
        key = (str(doc.path), doc.text)
        if key not in self._checked:
            self._checked[key] = self.check(doc)
        return self._checked[key]

    def check(self, doc: YamlFile, skip: frozenset[str] = frozenset()) -> list[Claim]:
        """Every claim in every string of a YAML file, with its file, line and field."""
        claims = []
        for loc, text in strings_in(doc.data):
            if loc and loc[0] in skip:
                continue
            for phrase, rule, reason in self.find(text):
                claims.append(Claim(Problem(doc.path, doc.line_of(loc), dotted(loc), f'"{phrase}": {reason}'), phrase, rule, reason))
        return claims


def strings_in(data, loc: FieldPath = ()):
    if isinstance(data, str):
        yield loc, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from strings_in(value, loc + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from strings_in(value, loc + (index,))


# --- Review dates ---

def overdue(reviewed: dict[str, tuple[Path, YamlFile, object]], today: date) -> dict[str, Problem]:
    """A warning for each piece of content (by name) whose next review date has passed."""
    problems = {}
    for name, (path, doc, review) in reviewed.items():
        if review.next_review < today:
            problems[name] = Problem(path, doc.line_of(("review", "next_review")), "review.next_review",
                                     f"{name} was due for review on {review.next_review.isoformat()}: "
                                     "ask the clinic's medical lead to check it, then update the review block")
    return problems


# --- Scorecard ---

# One verdict per document, for the clinic's staff: each has a word, an icon and a colour in the report.
READY, NEEDS_A_LOOK, NOT_BUILT = "ready", "needs_a_look", "not_built"
# Why a document needs a look, in the order the report lists them; each is a sentence in the strings file (report.reasons).
REASONS = ("approval", "contact", "claims", "colours", "review", "translation", "reading", "printing")

@dataclass
class Scorecard:
    """What a clinic sees about one document: is it readable, honest, legible and accessible?"""

    document: str
    pages: int = 0
    size_kb: int = 0
    reading_grade: float | None = None  # the score by the language's measure (reading_measure)
    reading_sections: dict[str, float] = field(default_factory=dict)
    excluded_from_reading: list[str] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)
    contrast_adjustments: list[str] = field(default_factory=list)
    lowest_text_contrast: float | None = None
    text_contrast_failures: int = 0
    smallest_text_pt: float | None = None
    body_text_pt: float | None = None
    accessibility: dict[str, bool] = field(default_factory=dict)
    review_warnings: list[str] = field(default_factory=list)
    # Its translation: older than the English it translates, or not yet reviewed by a clinician who reads it.
    translation_warnings: list[str] = field(default_factory=list)
    # What printing and the page inspection found: a low-resolution image in a press file, a WeasyPrint
    # warning, a leaflet over its page budget, a near-empty page. Replayed from the build cache when unchanged.
    print_warnings: list[str] = field(default_factory=list)
    approval: str = ""  # "approved", "unapproved" or "outdated": whether the clinic's medical lead approved this content
    # Contact details that reach no one: init's placeholders, or a domain kept for examples (starter.placeholder_problems).
    contact_warnings: list[str] = field(default_factory=list)
    approval_warning: str | None = None
    error: str | None = None
    reading_measure: str = "Flesch–Kincaid grade"
    language: str = "en"  # the document's language, as tagged ("en-GB", "es", "ar")
    pdf: Path | None = field(default=None, compare=False)  # the file just built, for the report's pictures; never in report.json

    def noted(self) -> list[tuple[str, str]]:
        """Every warning about this document, with the reason it counts under (one of REASONS)."""
        found = [("claims", f"claim {claim}") for claim in self.claims]
        found += [("colours", warning) for warning in self.contrast_adjustments]
        found += [("review", warning) for warning in self.review_warnings]
        found += [("translation", warning) for warning in self.translation_warnings]
        found += [("approval", self.approval_warning)] if self.approval_warning else []
        found += [("contact", warning) for warning in self.contact_warnings]
        found += [("printing", f"{self.document}: {warning}") for warning in self.print_warnings]
        measure = measure_for(self.language)
        if measure.too_hard(self.reading_grade):
            found.append(("reading", f"{self.document}: {measure.score(self.reading_grade)} is {measure.missed()}"))
        found += [("reading", f"{self.document}: the {section} section {measure.reads_at(value)}, {measure.missed()}: "
                              "use shorter sentences and everyday words")
                  for section, value in self.reading_sections.items() if measure.too_hard(value)]
        return found

    def warnings(self) -> list[str]:
        """Every warning about this document, from every check: what --strict turns into failures."""
        return [warning for _, warning in self.noted()]

    def verdict(self) -> str:
        """Not built (it failed), Needs a look (it has warnings), or Ready."""
        return NOT_BUILT if self.error else NEEDS_A_LOOK if self.noted() else READY

    def as_dict(self) -> dict:
        data = asdict(self)
        del data["pdf"]
        return data | {"warnings": self.warnings(), "verdict": self.verdict(),
                       "verdict_reasons": [] if self.error else [r for r in REASONS if r in {reason for reason, _ in self.noted()}]}


# --- Putting it together for one clinic ---

# Clinic settings that are not words a patient reads.
CLINIC_SETTINGS = frozenset({"logo", "colors", "font", "page_size", "language", "treatments", "claims_profile", "claims_terms"})


@functools.lru_cache(maxsize=64)
def _checker(rules_json: str, terms: tuple[str, ...]) -> ClaimChecker:
    return ClaimChecker(ClaimRules.model_validate_json(rules_json), list(terms),
                        "Listed by the clinic in claims_terms as a word its brochures must not use.")


def claim_checker(rules: ClaimRules, terms: tuple[str, ...]) -> ClaimChecker:
    """One checker for each set of rules and clinic's own terms in a batch: its patterns compiled, and the claims in
    the files every clinic shares found, once."""
    return _checker(rules.model_dump_json(), terms)


class ClinicFindings:
    """Everything the content checks found for one clinic, ready to be attached to each of its documents."""

    def __init__(self, clinic, content, today: date):
        content = content.of(clinic)
        self.clinic, self.content = clinic, content
        checker = claim_checker(clinic.claim_rules, tuple(clinic.config.claims_terms))
        # The shared files' claims are the same for every clinic with the same rules: found once per batch.
        self.claims = {"clinic": checker.check(clinic.doc, skip=CLINIC_SETTINGS),
                       "strings": checker.checked(clinic.strings_doc) + (checker.checked(clinic.strings_overlay) if clinic.strings_overlay else []),
                       "shared": checker.checked(content.docs["shared"])}
        self.claims |= {slug: checker.checked(content.docs[slug]) for slug in clinic.treatments}
        colours = palette(clinic.config.colors.primary, clinic.config.colors.accent)
        given = (clinic.doc.data or {}).get("colors") or {}
        self.contrast = [Problem(clinic.config_file, clinic.doc.line_of(tuple(name.split("."))), name,
                                 _as_given(message, name.split(".")[1], clinic.config.colors, given))
                         for name, message in colours.adjustments]
        reviewed = {"the shared content": (content.docs["shared"].path, content.docs["shared"], content.shared.review)}
        reviewed |= {content.treatments[slug].title: (content.docs[slug].path, content.docs[slug], content.treatments[slug].review)
                     for slug in clinic.treatments}
        self.overdue = overdue(reviewed, today)
        treatments = [content.treatments[slug] for slug in clinic.treatments]
        self.readings = {slug: treatment_reading(content.treatments[slug], clinic.language) for slug in clinic.treatments}
        offered = offered_data(clinic, [{"type_name": t.type_name} for t in treatments])
        self.readings["comparison"] = comparison_reading(content.shared, treatments, offered, clinic.language)
        # A treatment's translation concerns the documents that print that treatment; the shared content's and the
        # strings' concern every document.
        self.translation = [(problem.file.stem if problem.file.parent.name == "treatments" else None, str(problem))
                            for problem in clinic.translation_warnings]
        self.approval = approval_status(clinic, content)
        self.placeholders = [str(problem) for problem in placeholder_problems(clinic)]

    def sources(self, document) -> list[str]:
        """Which files' words reach this document."""
        if document.treatment:
            return ["clinic", "strings", document.name]
        return ["clinic", "strings", "shared", *self.clinic.treatments]

    def reading(self, document) -> Reading:
        if document.kind != "booklet":
            return self.readings[document.name if document.treatment else "comparison"]
        parts = {self.content.treatments[slug].title: self.readings[slug].grade for slug in self.clinic.treatments}
        parts[self.content.shared.title] = self.readings["comparison"].grade
        # The booklet is as hard as its hardest part.
        whole = (min if measure_for(self.clinic.language).higher_is_easier else max)(parts.values())
        return Reading(whole, parts, self.readings["comparison"].excluded, self.clinic.language)

    def scorecard(self, outcome) -> Scorecard:
        document = outcome.document
        reading = self.reading(document)
        titles = [self.content.treatments[slug].title for slug in self.sources(document) if slug in self.content.treatments]
        card = Scorecard(
            document=document.output.name,
            reading_grade=reading.grade, reading_sections=reading.sections, excluded_from_reading=reading.excluded,
            claims=[str(claim.problem) for source in self.sources(document) for claim in self.claims.get(source, [])],
            contrast_adjustments=[str(problem) for problem in self.contrast],
            review_warnings=[str(problem) for name, problem in self.overdue.items()
                             if name in titles or name == "the shared content" and not document.treatment],
            translation_warnings=[text for slug, text in self.translation if slug is None or slug in self.sources(document)],
            reading_measure=measure_for(self.clinic.language).name, language=self.clinic.locale,
            approval=self.approval["state"], approval_warning=self.approval["warning"], contact_warnings=self.placeholders,
            error=outcome.error,
        )
        if outcome.printed:
            inspection = outcome.printed.inspection
            card.pages, card.size_kb = outcome.printed.pages, round(outcome.printed.size / 1024)
            card.smallest_text_pt, card.body_text_pt = inspection.smallest_text_pt, inspection.body_text_pt
            card.lowest_text_contrast, card.text_contrast_failures = inspection.lowest_text_contrast, inspection.text_contrast_failures
            card.accessibility = inspection.accessibility
            card.print_warnings = print_warnings(outcome.printed)
            card.pdf = document.output
        return card


def _as_given(message: str, key: str, colours, given: dict) -> str:
    """A colour adjustment that names the colour as the clinic wrote it: `"gold" (#FFD700) as text gives …`."""
    colour = getattr(colours, key)
    return message.replace(colour, colour_as_given(given[key], colour), 1) if isinstance(given.get(key), str) else message


def print_warnings(printed) -> list[str]:
    """The warnings of a printed document: from printing (WeasyPrint, image resolution) and from its inspection
    (page budget, near-empty pages). Both are in the build cache, so an unchanged document gives the same ones."""
    return list(dict.fromkeys([*printed.warnings, *printed.inspection.warnings]))


def write_report(folder: Path, clinic, cards: list[Scorecard], environment, stylesheet: str) -> list[Path]:
    """report.json for machines and report.html for the clinic, both written atomically.

    The report template is given the same plain data as report.json (each card's warnings and verdict
    precomputed), with a picture of each document's first page and a link to it, through the sandbox
    that renders the brochures.
    """
    data = {"clinic": clinic.config.name, "grade_target": GRADE_TARGET, "documents": [card.as_dict() for card in cards]}
    text = json.dumps(data, indent=2, ensure_ascii=False)
    paths = [folder / "report.json", folder / "report.html"]
    write_atomically(paths[0], text.encode("utf-8"))
    pictures = {}
    for card in cards:
        if card.pdf and not card.error and card.pdf.is_file():
            first_page = page_pictures(card.pdf.read_bytes(), REPORT_PICTURE_PX, pages=1)
            # In this folder or a language's folder inside it (es/facial.pdf), not one of --check's temporary files:
            # link to it, and say when it was made.
            beside = folder.resolve() in (card.pdf.resolve().parent, card.pdf.resolve().parent.parent)
            pictures[card.document] = {
                "pages": [f"data:image/png;base64,{base64.b64encode(png).decode('ascii')}" for png in first_page],
                "href": card.document if beside else None, "built": card.pdf.stat().st_mtime if beside else None}
    html = environment.render_plain("report.html.j2", {
        "clinic": clinic_data(clinic), "t": clinic.strings.model_dump(mode="json"),
        "report": report_data(json.loads(text)["documents"], clinic.strings, pictures),  # plain data, as in report.json
        "stylesheet": stylesheet})
    write_atomically(paths[1], html.encode("utf-8"))
    return paths


# The clause of a warning that tells whoever runs the build which command to type: the staff's report says what
# to do in words instead (its reasons), so it shows the warning without it.
COMMAND = re.compile(r";[^;`]*`[^`]*`")
# Where a warning's cause is (`file:line setting: what`, as the command line prints it, after `claim ` for a claim):
# the report says it in words ("In clinic.yaml, line 8, the setting approval:").
WHERE = re.compile(r"(?:claim )?(?P<file>\S(?:.*?\S)?):(?P<line>\d+) (?P<setting>[^\s:]+): (?P<text>.+)", re.DOTALL)
# Each accessibility check (inspection.accessibility, as report.json keeps it) → its label in the strings.
ACCESSIBILITY_LABELS = {"tagged": "tagged", "structure tree": "structure_tree", "document language": "document_language",
                        "title shown in title bar": "title_shown", "every figure has alternative text": "alternative_text",
                        "identified as PDF/UA": "pdf_ua", "every table header says what it heads": "table_headers"}
REPORT_PICTURE_PX = 240  # the first page's picture in report.html: twice its width on screen, for sharp screens


def report_data(cards: list[dict], strings, pictures: dict[str, dict]) -> dict:
    """What the report and the preview gallery show of one clinic's documents, as plain data.

    `cards` are report.json's documents; `pictures` gives, by document name, the pictures of its pages
    (`pages`, image addresses), a link to it (`href`) and when its file was written (`built`, a Unix time).
    Each warning is listed once, with the documents it concerns.
    """
    documents, warnings = [], {}
    for card in cards:
        picture = pictures.get(card["document"], {})
        built = None
        if picture.get("built") is not None:
            when = datetime.fromtimestamp(picture["built"], tz=timezone.utc)
            built = fill(strings.report.built, date=long_date(strings)(when.date()), time=when.strftime("%H:%M"))
        measure = measure_for(card.get("language", "en"))
        value = card.get("reading_grade")
        shown = value if measure.name == MEASURES_EN or value is None else (
            f"{measure.name} {value}" + (" (information only)" if measure.target is None else ""))
        labels = strings.report.accessibility_checks
        checks = [{"name": getattr(labels, ACCESSIBILITY_LABELS[name]) if name in ACCESSIBILITY_LABELS else name, "ok": ok}
                  for name, ok in card.get("accessibility", {}).items()]
        documents.append(card | {"pages_shown": picture.get("pages", []), "href": picture.get("href"), "built": built,
                                 "reading_shown": shown, "accessibility_shown": checks,
                                 "sections_over": [name for name, v in card.get("reading_sections", {}).items() if measure.too_hard(v)]})
        for warning in card["warnings"]:
            warnings.setdefault(COMMAND.sub("", warning), []).append(card["document"])
    counts = {verdict: sum(card["verdict"] == verdict for card in cards) for verdict in (READY, NEEDS_A_LOOK, NOT_BUILT)}
    return {"documents": documents, "counts": counts, "grade_target": GRADE_TARGET,
            "warnings": [_where(text, strings) | {"documents": names} for text, names in warnings.items()]}


def _where(warning: str, strings) -> dict:
    """A warning as staff read it: where its cause is, in words, then what it says."""
    if found := WHERE.fullmatch(warning):
        return {"where": fill(strings.report.where, file=found["file"], line=found["line"], setting=found["setting"]),
                "text": found["text"]}
    return {"where": None, "text": warning}
