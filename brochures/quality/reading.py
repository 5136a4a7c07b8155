"""Reading level: each language's measure (Flesch–Kincaid, INFLESZ, Osman), of each document and section."""

from __future__ import annotations

import re
from dataclasses import dataclass

import textstat

from brochures.quality.grade_memo import GradeMemo
from brochures.schema.content import SharedContent, Treatment

# Health-literacy guidance: grade 8 or lower, 6 is better.
GRADE_TARGET = 8.0


@dataclass(frozen=True)
class Measure:
    """A reading-level formula for one language, and the level the content must reach (None: information only)."""

    name: str
    target: float | None
    higher_is_easier: bool
    # A one-syllable word put in place of names a patient must learn anyway.
    stand_in: str
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
    # Treatment and ingredient names left out of the measure.
    excluded: list[str]
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


FORMULAS = {
    "en": lambda text: textstat.flesch_kincaid_grade(text),
    "es": inflesz,
    "ar": lambda text: textstat.osman(text),
}


def save_grades() -> None:
    """Keep this build's new grades for the next one."""
    if _GRADES is not None:
        _GRADES.save()


def excluded_terms(treatments: list[Treatment], language: str = "en") -> list[str]:
    terms = set(measure_for(language).always_excluded) | {
        ingredient.name for t in treatments for ingredient in t.ingredients
    }
    return sorted(terms)


def treatment_reading(treatment: Treatment, language: str = "en") -> Reading:
    excluded = excluded_terms([treatment], language)
    data = treatment.model_dump()
    sections = {name: grade(prose(data[key] for key in keys), excluded, language) for name, keys in SECTIONS.items()}
    whole = prose(data[key] for keys in SECTIONS.values() for key in keys)
    return Reading(grade(whole, excluded, language), sections, excluded, language)


def comparison_reading(
    shared: SharedContent, treatments: list[Treatment], offered: dict, language: str = "en"
) -> Reading:
    """The comparison sheet's prose as this clinic's patients read it: the shared text, the sentences built from
    the list of treatments it offers (`offered`, from the strings file), and each offered treatment's own lines."""
    excluded = excluded_terms(treatments, language)
    sections = {
        "about mesotherapy": [offered["comparison_summary"], shared.intro, offered["types_offered"]],
        "side by side": [[t.goal, t.suits, t.benefits, t.method_summary, t.home_care_summary] for t in treatments],
        "medical or cosmetic": list(shared.medical_vs_cosmetic.model_dump().values()),
        "home products and summary": [
            shared.safety_note,
            shared.home_products,
            shared.in_summary,
            [t.in_summary for t in treatments],
            shared.in_summary_closing,
        ],
    }
    return Reading(
        grade(prose(sections.values()), excluded, language),
        {name: grade(prose(text), excluded, language) for name, text in sections.items()},
        excluded,
        language,
    )


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


# Read from the user's cache folder on first use.
_GRADES: GradeMemo | None = None
