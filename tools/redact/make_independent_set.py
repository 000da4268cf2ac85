#!/usr/bin/env python3
"""Build the independent redaction test set (crates/redact/tests/data/independent.jsonl).

Written BEFORE reading the matcher in crates/redact (its source, its tests and its
existing test data), so that the labels say what a careful reader of a transcript
would redact, not what the matcher happens to do.

Deterministic: one seeded RNG, so a rerun writes the same file byte for byte.

    python3 tools/redact/make_independent_set.py            # write the set
    python3 tools/redact/make_independent_set.py --check    # verify the file is current

# Format (one JSON object per line)

    {"id": "card-written-003", "lang": "en", "group": "card",
     "text": "yeah my card is 4539 1488 0343 6467, thanks",
     "entities": [{"kind": "card", "parts": ["4539 1488 0343 6467"]}],
     "note": "..."}

- `entities` lists, in text order, everything that must be redacted. Each has a
  `kind` (card, iban, phone, email, fi_hetu, us_ssn) and one or more `parts`: the
  exact substrings of `text` to redact. An entity has more than one part when the
  speaker splits it across a sentence break or an unrelated remark.
- Parts are located in `text` in order: each part is searched for from the end of
  the previous part (so a repeated substring is unambiguous).
- A line with `"entities": []` is a near-miss: nothing in it may be redacted
  (order numbers, prices, dates, times, quantities, product codes, years, zip
  codes, card-like numbers failing Luhn, identity codes with a wrong check
  character, IBANs with a wrong checksum, short digit runs).
- Parts do not include surrounding punctuation; inside a part, everything between
  the first and the last character of the entity is included (separators, fillers
  such as "uh", "dash").

Check characters are computed here, never typed: Luhn for cards, mod 97 for IBANs,
mod 31 for Finnish identity codes.
"""

import argparse
import json
import random
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "crates/redact/tests/data/independent.jsonl"

rng = random.Random(20261203)

WORD = {
    "0": "zero",
    "1": "one",
    "2": "two",
    "3": "three",
    "4": "four",
    "5": "five",
    "6": "six",
    "7": "seven",
    "8": "eight",
    "9": "nine",
}
FI_WORD = {
    "0": "nolla",
    "1": "yksi",
    "2": "kaksi",
    "3": "kolme",
    "4": "neljä",
    "5": "viisi",
    "6": "kuusi",
    "7": "seitsemän",
    "8": "kahdeksan",
    "9": "yhdeksän",
}

# ---------------------------------------------------------------- checksums


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_complete(prefix: str, length: int) -> str:
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    for c in "0123456789":
        if luhn_ok(body + c):
            return body + c
    raise AssertionError("unreachable")


def luhn_break(number: str) -> str:
    """Same number with the last digit changed so that Luhn fails."""
    last = int(number[-1])
    bad = str((last + 1 + rng.randrange(8)) % 10)
    out = number[:-1] + bad
    assert not luhn_ok(out)
    return out


def iban_check(country: str, bban: str) -> str:
    rearranged = bban + country + "00"
    num = "".join(str(int(ch, 36)) for ch in rearranged)
    return f"{98 - int(num) % 97:02d}"


def iban_ok(iban: str) -> bool:
    s = iban.replace(" ", "")
    rearranged = s[4:] + s[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def make_iban(country: str, bban: str) -> str:
    iban = country + iban_check(country, bban) + bban
    assert iban_ok(iban)
    return iban


HETU_CHARS = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def hetu(day: int, month: int, year: int, individual: int, sign: str | None = None) -> str:
    if sign is None:
        if year < 1900:
            sign = "+"
        elif year < 2000:
            sign = rng.choice("-" * 6 + "YXWVU")
        else:
            sign = rng.choice("A" * 4 + "BCDEF")
    yy = year % 100
    n = int(f"{day:02d}{month:02d}{yy:02d}{individual:03d}")
    return f"{day:02d}{month:02d}{yy:02d}{sign}{individual:03d}{HETU_CHARS[n % 31]}"


def hetu_ok(code: str) -> bool:
    n = int(code[:6] + code[7:10])
    return HETU_CHARS[n % 31] == code[10].upper()


def random_hetu(year_lo=1940, year_hi=2012) -> str:
    year = rng.randint(year_lo, year_hi)
    month = rng.randint(1, 12)
    day = rng.randint(1, 28)
    return hetu(day, month, year, rng.randint(2, 899))


def hetu_wrong_check(code: str) -> str:
    good = code[10]
    bad = rng.choice([c for c in HETU_CHARS if c != good])
    out = code[:10] + bad
    assert not hetu_ok(out)
    return out


def ssn() -> str:
    while True:
        area = rng.randint(1, 899)
        if area != 666:
            break
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


# ---------------------------------------------------------------- spoken forms


def spoken_digits(
    digits: str,
    oh: bool = False,
    doubles: bool = False,
    words: dict = WORD,
) -> str:
    """Digits as words, one word per digit; 'oh' for zero; 'double x' for pairs."""
    out = []
    i = 0
    while i < len(digits):
        d = digits[i]
        w = "oh" if (oh and d == "0") else words[d]
        if doubles and i + 1 < len(digits) and digits[i + 1] == d:
            out.append(f"double {w}")
            i += 2
            continue
        out.append(w)
        i += 1
    return " ".join(out)


def spoken_groups(groups, sep=", ", **kw) -> str:
    return sep.join(spoken_digits(g, **kw) for g in groups)


def group(number: str, sizes) -> list[str]:
    out, i = [], 0
    for s in sizes:
        out.append(number[i : i + s])
        i += s
    assert i == len(number), (number, sizes)
    return out


# ---------------------------------------------------------------- the lines

lines: list[dict] = []
counters: dict[str, int] = {}


def add(group_name: str, text: str, entities=(), lang="en", note=""):
    counters[group_name] = counters.get(group_name, 0) + 1
    ents = []
    pos = 0
    for kind, parts in entities:
        if isinstance(parts, str):
            parts = [parts]
        for p in parts:
            at = text.find(p, pos)
            assert at >= 0, (text, p)
            pos = at + len(p)
        ents.append({"kind": kind, "parts": list(parts)})
    lines.append(
        {
            "id": f"{group_name}-{counters[group_name]:03d}",
            "lang": lang,
            "group": group_name,
            "text": text,
            "entities": ents,
            "note": note,
        }
    )


# Card numbers of several brands and lengths, with their usual groupings.
BRANDS = [
    ("visa", "4", 16, (4, 4, 4, 4)),
    ("visa", "4", 16, (4, 4, 4, 4)),
    ("visa", "4", 16, (4, 4, 4, 4)),
    ("mastercard", "5", 16, (4, 4, 4, 4)),
    ("mastercard", "2", 16, (4, 4, 4, 4)),
    ("amex", "37", 15, (4, 6, 5)),
    ("amex", "34", 15, (4, 6, 5)),
    ("discover", "6011", 16, (4, 4, 4, 4)),
    ("jcb", "35", 16, (4, 4, 4, 4)),
    ("diners", "36", 14, (4, 6, 4)),
    ("unionpay", "62", 19, (4, 4, 4, 4, 3)),
    ("maestro", "6759", 18, (4, 4, 4, 4, 2)),
    ("visa13", "4", 13, (4, 4, 5)),
]


def card(brand_idx=None):
    name, prefix, length, sizes = BRANDS[rng.randrange(len(BRANDS))] if brand_idx is None else BRANDS[brand_idx]
    if name == "mastercard" and prefix == "5":
        prefix = rng.choice(["51", "52", "53", "54", "55"])
    if name == "mastercard" and prefix == "2":
        prefix = str(rng.randint(2221, 2720))
    if name == "jcb":
        prefix = str(rng.randint(3528, 3589))
    return name, luhn_complete(prefix, length), sizes


# -- cards, written forms (digits as whisper writes them)
card_written_templates = [
    "Yeah, so my card number is {c}.",
    "It's a Visa, {c}, and it's under my name.",
    "Okay, the number on the card is {c}",
    "So that would be {c}, did you get that?",
    "My credit card is {c} if you want to put it through now.",
    "Sure. {c}. That's the company card.",
    "You can charge it to {c}, that's fine.",
    "I have it here, {c}, yeah.",
    "Card number {c}.",
    "um it's {c} and the name is on the front",
    "Let me read it out, {c}. Got it?",
    "Could you use the other card, {c}?",
]
for i, t in enumerate(card_written_templates):
    name, num, sizes = card(i % len(BRANDS))
    style = i % 4
    if style == 0:
        s = " ".join(group(num, sizes))
    elif style == 1:
        s = "-".join(group(num, sizes))
    elif style == 2:
        s = num
    else:
        s = " ".join(group(num, sizes))
    add("card-written", t.format(c=s), [("card", s)], note=f"{name}, {len(num)} digits")

# Finnish card lines
for t in [
    "Kortin numero on {c}.",
    "Joo, se on {c}, voimassa ensi vuoteen.",
    "Laitetaan se kortille {c} niin ei tarvitse laskua.",
]:
    name, num, sizes = card()
    s = " ".join(group(num, sizes))
    add("card-written", t.format(c=s), [("card", s)], lang="fi", note=f"{name}, {len(num)} digits")

# -- cards, spoken forms
spoken_card_templates = [
    ("My card is {c}.", dict()),
    ("Okay so it's {c}.", dict(oh=True)),
    ("The number is {c}, yeah.", dict(doubles=True)),
    ("It's {c}", dict(oh=True, doubles=True)),
    ("Right, card number {c}, expiring next year.", dict()),
    ("Let me read it, {c}.", dict(doubles=True)),
    ("yeah {c} that's the one", dict()),
    ("So, {c}. Did that go through?", dict(oh=True)),
]
for i, (t, kw) in enumerate(spoken_card_templates):
    name, num, sizes = card([0, 3, 5, 7, 8, 1, 9, 4][i])
    s = spoken_groups(group(num, sizes), **kw)
    add("card-spoken", t.format(c=s), [("card", s)], note=f"{name}, spoken, {kw}")

# fillers and "dash" between groups
for i in range(4):
    name, num, sizes = card([0, 3, 1, 7][i])
    gs = group(num, sizes)
    if i == 0:
        s = ", uh, ".join(spoken_digits(g) for g in gs)
    elif i == 1:
        s = " dash ".join(spoken_digits(g) for g in gs)
    elif i == 2:
        s = spoken_digits(gs[0]) + ", " + spoken_digits(gs[1]) + ", um, " + ", ".join(spoken_digits(g) for g in gs[2:])
    else:
        s = " - ".join(spoken_digits(g, oh=True) for g in gs)
    add("card-spoken", f"It's {s}.", [("card", s)], note=f"{name}, spoken with fillers/dashes")

# mixed digits and words, as whisper writes a speaker who slows down
for i in range(3):
    name, num, sizes = card([0, 3, 2][i])
    gs = group(num, sizes)
    if i == 0:
        s = f"{gs[0]} {gs[1]}, uh, {gs[2]} {gs[3]}"
    elif i == 1:
        s = f"{gs[0]} {gs[1]} {spoken_digits(gs[2])} {spoken_digits(gs[3])}"
    else:
        s = f"{gs[0]}, {gs[1]}, {gs[2]}, {gs[3]}"
    add("card-spoken", f"The card is {s}.", [("card", s)], note=f"{name}, mixed digits/words")

# whisper's hyphenated single digits
for brand in (0, 3):
    name, num, sizes = card(brand)
    s = "-".join(num)
    add("card-spoken", f"Yeah it's {s}.", [("card", s)], note=f"{name}, digit-by-digit with hyphens")

# split across sentences (two parts, one entity)
for brand in (0, 4, 7):
    name, num, sizes = card(brand)
    gs = group(num, sizes)
    a = " ".join(gs[:2])
    b = " ".join(gs[2:])
    add(
        "card-split",
        f"The first half is {a}. And then {b}.",
        [("card", [a, b])],
        note=f"{name}, split over two sentences",
    )
name, num, sizes = card(0)
gs = group(num, sizes)
a = spoken_digits(gs[0]) + " " + spoken_digits(gs[1])
b = spoken_digits(gs[2]) + " " + spoken_digits(gs[3])
add(
    "card-split",
    f"Okay, {a}. Sorry, hold on. {b}.",
    [("card", [a, b])],
    note=f"{name}, spoken, split by a remark",
)

# Finnish spoken card (whisper writes Finnish digits as words sometimes)
name, num, sizes = card(0)
s = ", ".join(spoken_digits(g, words=FI_WORD) for g in group(num, sizes))
add("card-spoken", f"Kortin numero on {s}.", [("card", s)], lang="fi", note=f"{name}, Finnish digit words")

# -- Finnish identity codes (henkilötunnus)
hetu_templates_fi = [
    "Henkilötunnukseni on {h}.",
    "Joo, hetu on {h}, ja osoite pysyy samana.",
    "Se on {h}",
    "Tunnus {h} kuuluu vaimolleni.",
    "Siis {h}, tarkistatko sen?",
    "Minun henkilötunnus on {h} ja nimi on Virtanen.",
    "Laitan sen viestiin: {h}.",
    "Hetu: {h}",
]
for t in hetu_templates_fi:
    h = random_hetu()
    add("fi_hetu-written", t.format(h=h), [("fi_hetu", h)], lang="fi", note="valid check char")

hetu_templates_en = [
    "My Finnish ID code is {h}.",
    "The personal identity code is {h}, yes.",
    "It's {h}",
    "For the contract, {h}.",
]
for t in hetu_templates_en:
    h = random_hetu()
    add("fi_hetu-written", t.format(h=h), [("fi_hetu", h)], note="valid check char")

# all century signs, including the 2023 additions
for sign, year in [("+", 1888), ("-", 1975), ("Y", 1968), ("X", 1992), ("W", 1955), ("V", 1983), ("U", 1999),
                   ("A", 2004), ("B", 2011), ("C", 2007), ("D", 2019), ("E", 2001), ("F", 2015)]:
    h = hetu(rng.randint(1, 28), rng.randint(1, 12), year, rng.randint(2, 899), sign)
    add("fi_hetu-sign", f"Henkilötunnus on {h}.", [("fi_hetu", h)], lang="fi", note=f"century sign {sign}")

# lower-case check letter and spaced forms, as whisper sometimes writes them
for variant in range(4):
    h = random_hetu()
    while not h[10].isalpha():
        h = random_hetu()
    if variant == 0:
        s = h[:10] + h[10].lower()
    elif variant == 1:
        s = h[:6] + " " + h[6:]
    elif variant == 2:
        s = h[:7] + " " + h[7:]
    else:
        s = h[:10] + " " + h[10]
    add("fi_hetu-variant", f"Joo se on {s}.", [("fi_hetu", s)], lang="fi", note="written variant")

# spoken identity codes
h = random_hetu(1940, 1999)
while h[6] != "-":
    h = random_hetu(1940, 1999)
check = WORD[h[10]] if h[10].isdigit() else h[10]
s = spoken_digits(h[:6]) + " dash " + spoken_digits(h[7:10]) + " " + check
add("fi_hetu-spoken", f"My identity code is {s}.", [("fi_hetu", s)], note="spoken in English")
h = random_hetu(1940, 1999)
while h[6] != "-":
    h = random_hetu(1940, 1999)
check = FI_WORD[h[10]] if h[10].isdigit() else h[10]
s = spoken_digits(h[:6], words=FI_WORD) + " viiva " + spoken_digits(h[7:10], words=FI_WORD) + " " + check
add("fi_hetu-spoken", f"Henkilötunnus on {s}.", [("fi_hetu", s)], lang="fi", note="spoken in Finnish")
h = random_hetu(1940, 1999)
while h[6] != "-":
    h = random_hetu(1940, 1999)
s = h[:6] + " viiva " + h[7:10] + " " + h[10]
add("fi_hetu-spoken", f"Se on {s}.", [("fi_hetu", s)], lang="fi", note="digits with the word viiva")

# -- IBANs
def rnd_digits(n):
    return "".join(str(rng.randrange(10)) for _ in range(n))


def rnd_letters(n):
    return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(n))


def grouped4(s):
    return " ".join(s[i : i + 4] for i in range(0, len(s), 4))


iban_specs = [
    ("FI", lambda: rnd_digits(14)),
    ("FI", lambda: rnd_digits(14)),
    ("FI", lambda: rnd_digits(14)),
    ("DE", lambda: rnd_digits(18)),
    ("DE", lambda: rnd_digits(18)),
    ("GB", lambda: rnd_letters(4) + rnd_digits(14)),
    ("GB", lambda: rnd_letters(4) + rnd_digits(14)),
    ("SE", lambda: rnd_digits(20)),
    ("NL", lambda: rnd_letters(4) + rnd_digits(10)),
    ("EE", lambda: rnd_digits(16)),
    ("FR", lambda: rnd_digits(23)),
    ("ES", lambda: rnd_digits(20)),
    ("NO", lambda: rnd_digits(11)),
]
iban_templates = [
    ("Tilinumero on {i}.", "fi"),
    ("Maksakaa tilille {i}, kiitos.", "fi"),
    ("Se on {i}", "fi"),
    ("Our account is {i}.", "en"),
    ("The IBAN is {i}, with the reference on the invoice.", "en"),
    ("Please wire it to {i}", "en"),
    ("IBAN {i}.", "en"),
    ("Yes, {i}, in Stockholm.", "en"),
    ("Sure, it's {i}.", "en"),
    ("Send it to {i} please.", "en"),
    ("We bank in Paris, {i}.", "en"),
    ("The account number is {i}.", "en"),
    ("It's {i}, the Oslo account.", "en"),
]
for i, ((country, bban), (t, lang)) in enumerate(zip(iban_specs, iban_templates)):
    iban = make_iban(country, bban())
    s = grouped4(iban) if i % 3 != 2 else iban
    add("iban", t.format(i=s), [("iban", s)], lang=lang, note=f"{country}, mod 97 valid")
# lower case, and spoken country letters
iban = make_iban("FI", rnd_digits(14))
s = grouped4(iban).lower()
add("iban", f"joo se on {s}", [("iban", s)], lang="fi", note="lower case")
iban = make_iban("FI", rnd_digits(14))
g = grouped4(iban).split(" ")
s = "F I " + spoken_digits(g[0][2:]) + ", " + ", ".join(spoken_digits(x) for x in g[1:])
add("iban", f"The IBAN is {s}.", [("iban", s)], note="spoken, country letters spelled")

# -- phones
def fi_mobile():
    return rng.choice(["040", "041", "044", "045", "046", "050"]), rnd_digits(7)


phone_lines = []
for i in range(8):
    pre, rest = fi_mobile()
    forms = [
        f"{pre} {rest[:3]} {rest[3:]}",
        f"{pre}-{rest}",
        f"{pre} {rest}",
        f"+358 {pre[1:]} {rest[:3]} {rest[3:]}",
        f"+358{pre[1:]}{rest}",
        f"{pre}{rest}",
        f"+358 {pre[1:]} {rest}",
        f"{pre} {rest[:3]} {rest[3:5]} {rest[5:]}",
    ]
    phone_lines.append(forms[i])
fi_phone_templates = [
    ("Numeroni on {p}.", "fi"),
    ("Soita vaikka numeroon {p} huomenna.", "fi"),
    ("My mobile is {p}.", "en"),
    ("You can reach me on {p}, any time after nine.", "en"),
    ("Se on {p}", "fi"),
    ("Call me at {p}", "en"),
    ("Mun numero on {p}, laita tekstiviesti.", "fi"),
    ("Yeah, {p}.", "en"),
]
for p, (t, lang) in zip(phone_lines, fi_phone_templates):
    add("phone-fi", t.format(p=p), [("phone", p)], lang=lang, note="Finnish mobile")
# Finnish landline
add("phone-fi", "Toimiston numero on 09 4257 3310.", [("phone", "09 4257 3310")], lang="fi", note="Helsinki landline")

us_templates = [
    "My cell is ({a}) 555-{x}.",
    "You can call me at {a}-555-{x}.",
    "It's {a} 555 {x}.",
    "Call {a}.555.{x} after lunch.",
    "The direct line is +1 {a} 555 {x}.",
    "Reach me at 1-{a}-555-{x}, that's my office.",
]
for t in us_templates:
    a = str(rng.randint(201, 989))
    x = f"01{rng.randint(0, 99):02d}"
    text = t.format(a=a, x=x)
    # the entity is the phone number as written: from the area code (or +1 / 1-) to the last digit
    if "(" + a in text:
        p = text[text.index("(" + a) : text.index(x) + len(x)]
    elif "+1 " in text:
        p = text[text.index("+1 ") : text.index(x) + len(x)]
    elif "1-" + a in text:
        p = text[text.index("1-" + a) : text.index(x) + len(x)]
    else:
        p = text[text.index(a) : text.index(x) + len(x)]
    add("phone-us", text, [("phone", p)], note="US number")

add("phone-uk", "My number in London is +44 20 7946 0958.", [("phone", "+44 20 7946 0958")], note="UK landline")
add("phone-uk", "Text me on 07700 900123.", [("phone", "07700 900123")], note="UK mobile")
add("phone-uk", "Ring me on +44 7700 900456 tomorrow.", [("phone", "+44 7700 900456")], note="UK mobile intl")

# spoken phones
pre, rest = fi_mobile()
s = spoken_digits(pre, oh=True) + ", " + spoken_digits(rest[:3]) + ", " + spoken_digits(rest[3:])
add("phone-spoken", f"My number is {s}.", [("phone", s)], note="Finnish mobile, spoken, oh for zero")
pre, rest = fi_mobile()
s = "plus three five eight, " + spoken_digits(pre[1:]) + ", " + spoken_digits(rest, doubles=True)
add("phone-spoken", f"It's {s}.", [("phone", s)], note="intl Finnish, spoken")
a = str(rng.randint(201, 989))
s = spoken_digits(a) + ", five five five, " + spoken_digits(f"01{rng.randint(10, 99)}", oh=True)
add("phone-spoken", f"Call me on {s}, okay?", [("phone", s)], note="US, spoken")
pre, rest = fi_mobile()
s = spoken_digits(pre + rest, words=FI_WORD)
add("phone-spoken", f"Numero on {s}.", [("phone", s)], lang="fi", note="Finnish digit words")
pre, rest = fi_mobile()
s = f"{pre}, uh, {rest[:3]}, {rest[3:]}"
add("phone-spoken", f"It's {s}.", [("phone", s)], note="digits with a filler")

# -- e-mails
people = [("john", "smith"), ("maria", "lopez"), ("anna", "korhonen"), ("mikko", "virtanen"),
          ("sarah", "oconnor"), ("li", "wei"), ("peter", "nyman"), ("aino", "laine")]
domains = ["example.com", "acme.io", "firma.fi", "northwind.co.uk", "mail.example.org", "yritys.fi"]
email_written = [
    ("Send it to {e}.", "en"),
    ("My email is {e}, all lower case.", "en"),
    ("You can reach me at {e}", "en"),
    ("Sähköpostini on {e}.", "fi"),
    ("Laita se osoitteeseen {e} niin katson.", "fi"),
    ("It's {e}.", "en"),
]
for i, (t, lang) in enumerate(email_written):
    f, l = people[i]
    d = domains[i]
    e = [f"{f}.{l}@{d}", f"{f[0]}{l}@{d}", f"{f}_{l}@{d}", f"{f}.{l}@{d}", f"{f}@{d}", f"{f}.{l}+quotes@{d}"][i]
    if i == 5:
        e = e.capitalize()
    add("email-written", t.format(e=e), [("email", e)], lang=lang, note="written")

email_spoken = [
    ("It's {f} dot {l} at {d1} dot {d2}.", "en"),
    ("My email is {f} {l} at {d1} dot {d2}", "en"),
    ("Just {f} at {d1} dot {d2}, nothing fancy.", "en"),
    ("Send it to {f} underscore {l} at {d1} dot {d2}.", "en"),
    ("Se on {f} piste {l} ät {d1} piste {d2}.", "fi"),
    ("Sähköposti on {f} piste {l} at {d1} piste {d2}.", "fi"),
]
for i, (t, lang) in enumerate(email_spoken):
    f, l = people[(i + 2) % len(people)]
    d1, d2 = [("example", "com"), ("gmail", "com"), ("acme", "io"), ("northwind", "net"), ("yritys", "fi"), ("firma", "fi")][i]
    text = t.format(f=f, l=l, d1=d1, d2=d2)
    start = text.index(f)
    after_d1 = text.index(f" {d1} ", start) + len(d1) + 2
    end = text.index(d2, after_d1) + len(d2)
    add("email-spoken", text, [("email", text[start:end])], lang=lang, note="spoken")
add("email-spoken", "Write to mikko dot virtanen at firma dot fi, or call.",
    [("email", "mikko dot virtanen at firma dot fi")], note="spoken")

# -- US social security numbers
for t in [
    "My social is {s}.",
    "The SSN is {s}, yes.",
    "Social security number {s}",
    "Sure, it's {s}.",
]:
    s = ssn()
    add("us_ssn-written", t.format(s=s), [("us_ssn", s)], note="written")
s = ssn().replace("-", " ")
add("us_ssn-written", f"My social is {s}.", [("us_ssn", s)], note="spaces")
s = ssn()
sp = ", ".join(spoken_digits(g) for g in s.split("-"))
add("us_ssn-spoken", f"My social is {sp}.", [("us_ssn", sp)], note="spoken")
s = ssn()
sp = " dash ".join(spoken_digits(g, oh=True) for g in s.split("-"))
add("us_ssn-spoken", f"Social security number, {sp}.", [("us_ssn", sp)], note="spoken with dash")

# -- mixed lines: an entity next to near-misses
name, num, sizes = card(0)
c = " ".join(group(num, sizes))
add("mixed", f"Order 58213347 comes to €1,299.00, so charge {c} please.", [("card", c)],
    note="card next to an order number and a price")
pre, rest = fi_mobile()
p = f"{pre} {rest}"
add("mixed", f"The delivery is on 03.12.2026 at 14:30, call {p} when you arrive.", [("phone", p)],
    lang="en", note="phone next to a date and time")
h = random_hetu()
add("mixed", f"Sopimus 2026-0457 alkaa 1.1.2027, henkilötunnus {h}, hinta 2 450 euroa.", [("fi_hetu", h)],
    lang="fi", note="identity code next to a contract number, date, price")
iban = grouped4(make_iban("FI", rnd_digits(14)))
add("mixed", f"Lasku 100482 eräpäivä 15.1.2027, summa 349,90 €, tilille {iban}.", [("iban", iban)],
    lang="fi", note="IBAN next to invoice number, date, amount")
add("mixed", "Email anna.korhonen@firma.fi, order 44-1932, 250 seats at 12 euros.",
    [("email", "anna.korhonen@firma.fi")], note="email next to order, quantity, price")
s1 = ssn()
add("mixed", f"My social is {s1} and my zip code is 10001.", [("us_ssn", s1)], note="ssn next to zip")
pre, rest = fi_mobile()
p = f"{pre} {rest[:3]} {rest[3:]}"
e = "peter.nyman@northwind.co.uk"
add("mixed", f"Phone {p}, email {e}, we have 120 users since 2019.", [("phone", p), ("email", e)],
    note="two entities, one line")

# ---------------------------------------------------------------- near-misses (nothing redacted)
near = [
    # order / invoice / ticket / contract numbers
    ("order", "The order number is 58213347.", "en"),
    ("order", "Order #A-55821 shipped yesterday.", "en"),
    ("order", "Your purchase order is PO-2026-00451.", "en"),
    ("order", "Invoice 2026-004512 is still open.", "en"),
    ("order", "The ticket number is 734 221, I'll update it.", "en"),
    ("order", "Tilausnumero on 100234567.", "fi"),
    ("order", "Laskun numero 20261203-17, eräpäivä ensi viikolla.", "fi"),
    ("order", "Case number 00482913, opened by support.", "en"),
    ("order", "The quote reference is Q-88213-B.", "en"),
    ("order", "Order number five five eight two one three.", "en"),
    ("order", "It's order one two three four five, placed on Monday.", "en"),
    ("order", "The reference number is 1234 5678 90.", "en"),
    ("order", "Viitenumero on 12345 67890 12.", "fi"),
    # prices
    ("price", "That would be twelve thousand four hundred dollars.", "en"),
    ("price", "The list price is €1,299.00 per seat.", "en"),
    ("price", "It's $49.99 a month.", "en"),
    ("price", "Hinta on 1 299,00 € kuukaudessa.", "fi"),
    ("price", "Yhteensä 2 450 euroa.", "fi"),
    ("price", "We could do forty-nine ninety-nine.", "en"),
    ("price", "The total is 12,400 USD including VAT.", "en"),
    ("price", "The budget is around 1.2 million euros.", "en"),
    ("price", "Annual contract value 148 500 €.", "en"),
    ("price", "Two hundred and fifty thousand for the whole year.", "en"),
    ("price", "Se maksaa kolmesataa neljäkymmentäviisi euroa.", "fi"),
    # dates and times
    ("date", "Let's meet on March 3rd 2026.", "en"),
    ("date", "The contract starts 03.12.2026.", "en"),
    ("date", "Deadline is 2026-03-12.", "en"),
    ("date", "It was signed on 12/03/2026.", "en"),
    ("date", "Sopimus päättyy 31.12.2027.", "fi"),
    ("date", "We talked on the fifteenth of January.", "en"),
    ("date", "Let's say the third of March twenty twenty-six.", "en"),
    ("date", "Tavataan 3.12. kello 14.30.", "fi"),
    ("date", "From 1.1.2026 to 31.12.2026 the price is fixed.", "en"),
    ("date", "Renewal is due 2027-01-31 at 23:59.", "en"),
    ("time", "Can we do 2:45 pm on Thursday?", "en"),
    ("time", "The call is at 14:30 CET.", "en"),
    ("time", "Klo 9.15 sopii hyvin.", "fi"),
    ("time", "We have a meeting at 10:00 and another at 15:30.", "en"),
    # quantities, percentages, measurements
    ("quantity", "We need 250 licenses for the sales team.", "en"),
    ("quantity", "About 1,500 seats across three regions.", "en"),
    ("quantity", "Meillä on 3 500 käyttäjää.", "fi"),
    ("quantity", "We sold 1 234 567 units last year.", "en"),
    ("quantity", "Revenue grew 12.5% to 4 500 000 euros.", "en"),
    ("quantity", "The warehouse is 12 000 square meters.", "en"),
    ("quantity", "That's 24/7 support with a 99.95% SLA.", "en"),
    ("quantity", "We processed 18 446 744 calls in total.", "en"),
    # product codes, versions, model numbers
    ("code", "The SKU is 4411-220.", "en"),
    ("code", "You have the model XR-2200 installed.", "en"),
    ("code", "Part number 88-1932-07 is out of stock.", "en"),
    ("code", "We're on version 10.0.19045.", "en"),
    ("code", "Tuotekoodi on AB-4471-FI.", "fi"),
    ("code", "The licence key starts with KX9-44T.", "en"),
    ("code", "The serial is SN 2026 0041 77.", "en"),
    # years
    ("year", "We've been customers since 2019.", "en"),
    ("year", "In 2026 and 2027 we plan to grow.", "en"),
    ("year", "Back in nineteen ninety-eight we started.", "en"),
    ("year", "Vuodesta 2015 lähtien.", "fi"),
    # zip codes and addresses
    ("zip", "The office is at Mannerheimintie 12, 00100 Helsinki.", "fi"),
    ("zip", "Ship it to 90210.", "en"),
    ("zip", "The ZIP is 10001-2345.", "en"),
    ("zip", "Postinumero 33100 Tampere.", "fi"),
    ("zip", "London EC1A 1BB is the address.", "en"),
    # short digit runs, menus, extensions
    ("short", "Press 1 for sales.", "en"),
    ("short", "My extension is 204.", "en"),
    ("short", "We're in room 4B on floor 3.", "en"),
    ("short", "One two three, testing, can you hear me?", "en"),
    ("short", "We have two or three people on it.", "en"),
    ("short", "Give me five minutes.", "en"),
    ("short", "It's the 3 by 4 option.", "en"),
    ("short", "Step one, two, three and you're done.", "en"),
    # domain names and "at" that are not e-mails
    ("not-email", "Visit callscope dot io for the docs.", "en"),
    ("not-email", "Let's meet at the office at noon.", "en"),
    ("not-email", "Our site is example.com, check the pricing page.", "en"),
    ("not-email", "I'm at home, dot dot dot, you know.", "en"),
    ("not-email", "Ping me at standup.", "en"),
    # business ID (Y-tunnus) and VAT numbers: not personal data
    ("business-id", "Y-tunnus on 0112038-9.", "fi"),
    ("business-id", "Our VAT number is FI01120389.", "en"),
    # tracking numbers
    ("tracking", "The tracking number is 1Z999AA10123456784.", "en"),
]
for grp, text, lang in near:
    add(f"near-{grp}", text, [], lang=lang)

# card-like numbers that fail Luhn
for i in range(8):
    name, num, sizes = card([0, 3, 5, 7, 0, 3, 8, 1][i])
    bad = luhn_break(num)
    s = " ".join(group(bad, sizes)) if i % 2 == 0 else bad
    t = [
        "The reference is {c}.",
        "Shipment {c} left the warehouse.",
        "Order number {c}, placed online.",
        "The batch id is {c}.",
        "Contract {c} renews in March.",
        "Item code {c}.",
        "Gift voucher {c}, expired.",
        "Ticket {c}.",
    ][i]
    add("near-luhn", t.format(c=s), [], note=f"{name}-shaped, fails Luhn")
# a card number read out with one digit wrong fails Luhn too; spoken
name, num, sizes = card(0)
bad = luhn_break(num)
add("near-luhn", f"The order reference is {spoken_groups(group(bad, sizes))}.", [], note="spoken, fails Luhn")
# 16-digit numbers that are dates and counters
for text in ["The ID is 2026 0312 0000 4471.", "Shipment 2026031200004473 is delayed."]:
    digits = "".join(ch for ch in text if ch.isdigit())
    if luhn_ok(digits):
        raise AssertionError(f"pick another number: {text}")
    add("near-luhn", text, [], note="16 digits, fails Luhn")

# identity-code-like strings with a wrong check character
for i in range(6):
    h = hetu_wrong_check(random_hetu())
    t = [
        "Koodi on {h}.",
        "The code on the form was {h}.",
        "Asiakasnumero {h}.",
        "Reference {h}, please check.",
        "Tunnus {h} ei kelpaa.",
        "Membership number {h}.",
    ][i]
    add("near-hetu", t.format(h=h), [], lang="fi" if i in (0, 2, 4) else "en", note="wrong check char")
# impossible date
add("near-hetu", "Koodi 320190-123X on virheellinen.", [], lang="fi", note="day 32, not an identity code")

# IBAN-shaped strings with a wrong checksum
for country, bban in [("FI", rnd_digits(14)), ("DE", rnd_digits(18)), ("GB", rnd_letters(4) + rnd_digits(14))]:
    good = make_iban(country, bban)
    bad_check = f"{(int(good[2:4]) + 1 + rng.randrange(50)) % 97 + 2:02d}"
    bad = good[:2] + bad_check + good[4:]
    if iban_ok(bad):
        raise AssertionError("pick another")
    add("near-iban", f"The code was {grouped4(bad)}.", [], note=f"{country}, wrong mod 97")

# phone-shaped near misses: short numbers, emergency, service numbers with 3-4 digits
for text, lang in [
    ("Call 112 if it's an emergency.", "en"),
    ("Dial 911.", "en"),
    ("Extension 4471, ask for Anna.", "en"),
    ("The PIN pad says 0000 by default.", "en"),
]:
    add("near-phone", text, [], lang=lang)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    # sanity: every part occurs, ids unique
    ids = [l["id"] for l in lines]
    assert len(ids) == len(set(ids))
    body = "".join(json.dumps(l, ensure_ascii=False) + "\n" for l in lines)
    if args.check:
        if OUT.read_text(encoding="utf-8") != body:
            print(f"{OUT} is out of date; rerun without --check", file=sys.stderr)
            sys.exit(1)
        print(f"{OUT}: current ({len(lines)} lines)")
        return
    OUT.write_text(body, encoding="utf-8")
    pos = sum(1 for l in lines if l["entities"])
    kinds: dict[str, int] = {}
    for l in lines:
        for e in l["entities"]:
            kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
    print(f"wrote {OUT}: {len(lines)} lines, {pos} with entities, {len(lines) - pos} near-misses; entities {kinds}")


if __name__ == "__main__":
    main()
