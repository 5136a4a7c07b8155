"""Contact details that reach no one: `init`'s placeholders, and domains kept for examples."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from brochures.problems import Problem, describe

# The contact details clinic.yaml starts with, where only the clinic can give the real ones. A clinic that still prints
# any of them is told so, and its documents need a look (quality.py): patients could not reach it.
# A number Ofcom keeps for fiction: it reaches no one.
PLACEHOLDER_CONTACT = {"phone": "01632 960000",
                       "email": "hello@your-clinic.example",
                       "address": ["1 High Street", "Your Town AB1 2CD"]}


# Domain names kept for examples, tests and documentation (RFC 2606, RFC 6761): an address there reaches no one
# either.
EXAMPLE_DOMAIN = re.compile(r"(^|\.)(example|invalid|test|localhost)$|(^|\.)example\.(com|net|org)$", re.IGNORECASE)


# Numbers kept for fiction, which reach no one: Ofcom's drama numbers (UK, as dialled at home: 020 7946 0xxx,
# 0113 496 0xxx, 07700 900xxx…), and North America's 555-0100 to 555-0199.
FICTIONAL_UK = re.compile(r"0(?:11[3-8]4960|1[2-6]14960|2079460|2896496|2920180|1632960|7700900|8081570|9098790"
                          r"|3069990)\d{3}")
FICTIONAL_NANP = re.compile(r"1?\d{3}55501\d{2}")


def fictional(phone: str) -> bool:
    """Whether a phone number is one kept for fiction (or init's placeholder): it rings nowhere."""
    return bool(FICTIONAL_UK.fullmatch(_national_digits(phone)) or FICTIONAL_NANP.fullmatch(re.sub(r"\D", "", phone)))


def placeholder_problems(clinic) -> list[Problem]:
    """The clinic's contact details that are still init's placeholders, or at a domain kept for examples: each one
    named, since a brochure that prints it gives patients a way to reach the clinic that reaches no one."""
    config, contact = clinic.config, clinic.config.contact

    def example_host(address: str | None, email: bool = False) -> bool:
        host = address.rpartition("@")[2] if email else urlsplit(address).hostname if address else ""
        return bool(EXAMPLE_DOMAIN.search((host or "").rstrip(".")))

    # The setting → what it should be, as written, and whether it reaches no one.
    checks = {
        ("contact", "phone"): (
            "phone number",
            contact.phone,
            fictional(contact.phone),
        ),
        ("contact", "email"): (
            "email address",
            contact.email,
            contact.email == PLACEHOLDER_CONTACT["email"] or example_host(contact.email, email=True),
        ),
        ("contact", "website"): ("web address", contact.website, example_host(contact.website)),
        ("contact", "address"): (
            "address",
            ", ".join(contact.address or ()),
            list(contact.address or ()) == PLACEHOLDER_CONTACT["address"],
        ),
        ("booking_url",): ("booking page", config.booking_url, example_host(config.booking_url)),
    }
    return [
        Problem(
            clinic.config_file, clinic.doc.line_of(setting), ".".join(setting),
            f"expected the clinic's own {what}, got {describe(written)}, {REACHES_NO_ONE}"
        )
        for setting, (what, written, reaches_no_one) in checks.items()
        if reaches_no_one
    ]


def _national_digits(phone: str) -> str:
    """A UK number's digits as dialled at home: "+44 (0)1632 960000" and "01632-960000" are one number."""
    digits = re.sub(r"\D", "", phone)
    return "0" + digits[2:].removeprefix("0") if digits.startswith("44") else digits


REACHES_NO_ONE = "a placeholder that reaches no one: put in the clinic's own before patients see it"
