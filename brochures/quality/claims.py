"""Claims: promises of results, risk played down, pressure, checked in every string that reaches a brochure."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from brochures.files.yaml_reader import FieldPath, YamlFile, dotted
from brochures.problems import Problem
from brochures.schema.reference import ClaimRules

NEGATIONS = {"not", "no", "never", "cannot", "can't", "isn't", "aren't", "won't", "don't", "doesn't", "nor", "neither"}


# Words before a phrase in which a negation makes it honest: "no treatment is risk-free".
NEGATION_REACH = 4


# A negation reaches only the clause it is in: "no needles, guaranteed results" still promises results. A clause
# ends at punctuation and at these words.
CLAUSE_WORDS = ["and", "but", "yet", "so", "plus", "while", "whereas", "although", "though", "because", "since", "with",
                "then", "however", "also"]


# "not only painless but permanent" denies nothing.
NOT_A_NEGATION_BEFORE = {"only", "just", "merely", "simply"}


# A rule phrase ending in " *" matches only before another word that is not one of these: "best *" finds
# "Best Med Spa" and "the best clinic", not "it works best as a course".
NOT_A_NOUN = {"as", "when", "if", "for", "with", "after", "before", "at", "on", "to", "and", "or", "but", "than",
              "while", "in", "of", "by", "from", "during", "because", "so", "then", "is", "are", "was", "be"}


@dataclass(frozen=True)
class Claim:
    """A phrase that advertising rules do not allow, where it was written, and why."""

    problem: Problem
    phrase: str
    rule: str
    reason: str

    def __str__(self) -> str:
        return (
            f'{self.problem.file}:{self.problem.line} {self.problem.field}: '
            f'"{self.phrase}" ({self.rule}): {self.reason}'
        )


ENGLISH_NEGATIONS = {
    "words": sorted(NEGATIONS),
    "not_before": sorted(NOT_A_NEGATION_BEFORE),
    "not_a_noun": sorted(NOT_A_NOUN),
    "clause_ends": CLAUSE_WORDS,
}


# Short vowels, shadda, sukun, dagger alef, tatweel.
_ARABIC_MARKS = re.compile("[\u064b-\u0652\u0670\u0640]")


def normalize_arabic(text: str) -> str:
    """Arabic as the claims rules compare it: no short vowels or tatweel; one form of alef, ya and ta marbuta."""
    text = _ARABIC_MARKS.sub("", text)
    return text.translate(str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي", "ة": "ه"}))


def _comparable(char: str) -> str:
    """A character as claims are compared: its compatibility form (Arabic letters pasted from a PDF in their
    presentation forms, full-width digits), any script's digits as 0–9, the Arabic percent sign as %, a typeset
    apostrophe as ', and an invisible formatting character (a soft hyphen, a zero-width space) as nothing."""
    if char in "\u2019\u066a":
        return "'" if char == "\u2019" else "%"
    if unicodedata.category(char) == "Cf":
        # Invisible: a soft hyphen, a zero-width space or joiner, a direction mark. "guar\u00adanteed" prints as
        # "guaranteed", and is read so.
        return ""
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
        self.clause_end = re.compile(
            r"[,;.:!?()\[\]\u2013\u2014\u060C\u061B\u061F]|(?<!\w)(?:"
            + "|".join(re.escape(w) for w in sorted(negations["clause_ends"], key=len, reverse=True))
            + r")(?!\w)",
            re.IGNORECASE,
        )
        self.normal = normalize_arabic if rules.normalize == "arabic" else (lambda text: text)
        self.prefixes = sorted((self.normal(p) for p in rules.prefixes), key=len, reverse=True)
        self._checked: dict[tuple[str, str], list[Claim]] = {}
        self.patterns = []
        for rule in rules.rules:
            for phrase in rule.phrases:
                self.patterns.append((self._compile(phrase), rule.id, rule.reason, self._word(phrase)))
        for term in extra_terms:
            self.patterns.append((self._compile(term), "clinic", extra_reason, self._word(term)))

    def _word(self, phrase: str) -> str:
        """The longest word of a phrase, compared and in lower case, as the text it matches must hold it ("" for
        none): a quick test before its pattern is tried."""
        compared = self.normal("".join(_comparable(c) for c in unicodedata.normalize("NFC", phrase.strip())))
        words = re.split(r"[\s-]+", compared.removesuffix(" *").strip().replace("%", " "))
        longest = max(words, key=len, default="")
        # A word whose lower case is not the same length may match text written otherwise: tried everywhere.
        return longest.lower() if len(longest.lower()) == len(longest) else ""

    def _compile(self, phrase: str) -> re.Pattern:
        phrase = self.normal("".join(_comparable(c) for c in unicodedata.normalize("NFC", phrase.strip())))
        before_a_word = phrase.endswith(" *")
        phrase = phrase.removesuffix(" *").strip()
        words = [re.escape(word) for word in re.split(r"[\s-]+", phrase)]
        # "100 %", as Spanish and French typeset it.
        body = r"[\s-]+".join(words).replace("%", r"\s?%")
        before = r"(?<![\w#])" if phrase[0].isalnum() or phrase[0] == "#" else ""
        # A phrase written joined to "and", "with", "the"… is the same phrase.
        if before and self.prefixes:
            before = r"(?<![\w#])(?:" + "|".join(map(re.escape, self.prefixes)) + r")*"
        after = r"(?![\w%])" if phrase[-1].isalnum() or phrase[-1] == "%" else ""
        if before_a_word and self.not_a_noun:
            after = r"[\s-]+(?!(?:" + "|".join(map(re.escape, self.not_a_noun)) + r")\b)[^\W\d_]+"
        elif before_a_word:
            after = r"[\s-]+[^\W\d_]+"
        return re.compile(before + body + after, re.IGNORECASE)

    def find(self, text: str, negated_too: bool = False) -> list[tuple[str, str, str]]:
        """(phrase as written, rule id, reason) for each claim in `text` (`negated_too`: and each phrase a negation
        makes honest).

        A claim is excused only by a negation in its own clause, a few words before it, that is not
        itself part of another claim: in "no downtime, guaranteed results" both are claims, and in
        "no downtime means permanent results" the "no" belongs to "no downtime", not to "permanent".
        """
        # Compared as "doesn't hurt" however the apostrophe is typeset, and (Arabic) without short vowels; each
        # compared character remembers where it was written, so that a claim is quoted as it is in the file.
        # "í" typed as i + an accent is "í".
        written = unicodedata.normalize("NFC", text)
        # Each different character compared once (a page has a few dozen): most are compared as they are.
        changed = {c: n for c in set(written) if (n := self.normal(_comparable(c))) != c}
        if all(len(n) == 1 for n in changed.values()):
            text, where = written.translate(str.maketrans(changed)) if changed else written, range(len(written))
        else:
            where, compared = [], []
            for i, c in enumerate(written):
                for n in changed.get(c, c):
                    where.append(i)
                    compared.append(n)
            text = "".join(compared)
        # A pattern is tried only where a word it must match is in the text.
        lowered = text.lower()
        matches = [(match, rule, reason) for pattern, rule, reason, word in self.patterns if word in lowered
                   for match in pattern.finditer(text)]
        spans = [match.span() for match, _, _ in matches]
        found, taken = [], set()
        for match, rule, reason in sorted(matches, key=lambda m: (m[0].start(), -m[0].end())):
            if any(rule == other and a < match.end() and match.start() < b for other, a, b in taken):
                # "the best clinic" is one superlative, not two.
                continue
            taken.add((rule, *match.span()))
            if negated_too or not self._negated(text, match.start(), spans):
                found.append((written[where[match.start()] : where[match.end() - 1] + 1], rule, reason))
        return found

    def _negated(self, text: str, start: int, claims: list[tuple[int, int]] = ()) -> bool:
        """True if a negation in the same clause, shortly before `start`, denies the claim that starts there."""
        clause_start = max((end.end() for end in self.clause_end.finditer(text, 0, start)), default=0)
        words = [
            (word.group(0).lower(), word.start())
            for word in re.finditer(r"[\w']+", text[:start])
            if word.start() >= clause_start
        ]
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
        return any(word.startswith(prefix) and word[len(prefix) :] in self.negations for prefix in self.prefixes)

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
                claims.append(
                    Claim(
                        Problem(doc.path, doc.line_of(loc), dotted(loc), f'"{phrase}": {reason}'), phrase, rule, reason
                    )
                )
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


@functools.lru_cache(maxsize=64)
def _checker(rules_json: str, terms: tuple[str, ...]) -> ClaimChecker:
    return ClaimChecker(
        ClaimRules.model_validate_json(rules_json),
        list(terms),
        "Listed by the clinic in claims_terms as a word its brochures must not use.",
    )


def claim_checker(rules: ClaimRules, terms: tuple[str, ...]) -> ClaimChecker:
    """One checker for each set of rules and clinic's own terms in a batch: its patterns compiled, and the claims in
    the files every clinic shares found, once."""
    return _checker(rules.model_dump_json(), terms)


def claims_on_pages(clinic, texts: list[str]) -> list[dict]:
    """The claims in a finished document's text (Printer's `claims_on_pages`), by the clinic's rules and its own
    terms: {"page", "phrase", "rule", "reason"} for each, page by page. A word broken at a line's end is read whole,
    and a line's end is a space, so a claim wrapped over two lines is found."""
    checker = claim_checker(clinic.claim_rules, tuple(clinic.config.claims_terms))
    found = []
    for number, text in enumerate(texts, start=1):
        # pdfium's hyphen at a broken word's end, then the line break.
        joined = re.sub(r"\ufffe\s*", "", text.replace("\u00ad", ""))
        for phrase, rule, reason in checker.find(" ".join(joined.split())):
            found.append({"page": number, "phrase": phrase, "rule": rule, "reason": reason})
    return found
