"""Swedish-aware normalisation of person names and contact data for matching.

Names are folded (case, diacritics: Å/Ä→a, Ö→o, so "Åsa" meets "Asa"), split on spaces and
hyphens (double names "Ström-Berg", "Anna-Karin"), and reduced to a spelling key that
absorbs the commonest Swedish orthographic variants (C/K, PH/F, TH/T, W/V, Z/S, double
letters, "oe"/"ae" transliterations of Ö/Ä). Given names additionally pass a small
nickname table (Kalle→Karl, Pelle→Per, Lasse→Lars …).
"""

from __future__ import annotations

import re

from app.domain.text import fold, remembered

#: Keys remembered per normaliser below (names, postal codes and places repeat; a few MiB
#: each, where the default size would hold ~15).
KEYS_REMEMBERED = 8192
_NON_LETTER = re.compile(r"[^a-z\s-]")
_SPLIT = re.compile(r"[\s-]+")
#: Spelling variants, applied in order to a folded token (both sides get the same rewrite).
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"ph", "f"), (r"th", "t"), (r"ck", "k"), (r"ch", "k"), (r"hj", "j"), (r"dj", "j"),
        (r"gj", "j"), (r"lj", "j"), (r"qu", "kv"), (r"q", "k"), (r"c", "k"), (r"w", "v"),
        (r"z", "s"), (r"x", "ks"), (r"(?<=[a-z])oe", "o"), (r"(?<=[a-z])ae", "a"),
        (r"(?<=[a-z])ue", "u"), (r"(.)\1+", r"\1"),
    )
)

#: Common Swedish short forms → the full name's spelling key (a bonus, never a requirement).
NICKNAMES: dict[str, str] = {
    "kale": "karl", "pele": "per", "pea": "per", "lase": "lars", "nise": "nils",
    "ole": "olof", "bose": "bo", "jane": "jan", "mike": "mikael", "mikis": "mikael",
    "mika": "mikael", "mikel": "mikael", "mikael": "mikael", "mats": "mats", "jona": "jonas",
    "kiki": "kristina", "stina": "kristina", "kristin": "kristina", "tina": "kristina",
    "lisa": "elisabet", "lisen": "elisabet", "betan": "elisabet", "elisabet": "elisabet",
    "elisabt": "elisabet", "lise": "elisabet", "maja": "maria", "mia": "maria", "mimi": "maria",
    "fia": "sofia", "sofi": "sofia", "susi": "susane", "sane": "susane", "gite": "birgita",
    "bita": "birgita", "bigan": "birgita", "maga": "margareta", "greta": "margareta",
    "grete": "margareta", "meta": "margareta", "kate": "katarina", "kajsa": "katarina",
    "karin": "katarina", "kata": "katarina", "ulis": "ulrika", "hase": "hans", "jone": "johan",
    "jonte": "jonatan", "fredi": "fredrik", "frede": "fredrik", "sune": "sune",
    "gustav": "gustaf", "guse": "gustaf", "gose": "gustaf", "tobe": "tobias", "nike": "niklas",
    "nikas": "niklas", "kristofer": "kristofer", "stofe": "kristofer", "krile": "kristofer",
    "ande": "anders", "daniel": "daniel", "dane": "daniel", "robe": "robert",
    "robin": "robin", "tome": "tomas", "tomi": "tomas", "leffe": "leif", "lefe": "leif",
    "stefe": "stefan", "jesper": "jesper", "pete": "peter", "lota": "sarlote",
    "lote": "sarlote", "karlote": "sarlote", "sarlote": "sarlote", "ase": "asa",
    "ingela": "inger", "inga": "ingrid", "ingrid": "ingrid", "ani": "ana",
    "hele": "helena", "lena": "helena", "malin": "magdalena", "magda": "magdalena",
    "emi": "emelie", "emili": "emelie", "emilia": "emelie", "emelie": "emelie",
    "vile": "vilhelm", "vilem": "vilhelm", "ake": "ake", "goran": "goran", "gora": "goran",
    "kenta": "kent", "kene": "keneth", "uffe": "ulf", "ufe": "ulf", "bengt": "bengt",
    "bende": "bengt", "benke": "bengt", "tore": "tore", "totte": "torsten", "tote": "torsten",
    "sigge": "sigurd", "sige": "sigurd", "alex": "aleksander",
    "aleks": "aleksander", "aleksander": "aleksander",
    "karlota": "sarlote", "sarlota": "sarlote", "lotta": "sarlote", "tesan": "terese",
    "tereza": "terese", "jocke": "joakim", "joakim": "joakim", "tompa": "tomas",
    "robban": "robert", "sebbe": "sebastian", "ludde": "ludvig", "gurra": "gustaf",
    "mange": "magnus", "berra": "bertil", "affe": "alfred", "sussie": "susane",
    "susanne": "susane", "bittan": "birgita", "gittan": "birgita", "maggan": "margareta",
    "kattis": "katarina", "jessan": "jesika", "rolle": "roland", "nettan": "anete",
    "annette": "anete", "putte": "per", "perra": "per", "janne": "jan", "danne": "daniel",
    "fredde": "fredrik", "hasse": "hans", "kicki": "kristina", "kristoffer": "kristofer",
    "krille": "kristofer", "steffe": "stefan", "ulle": "ulf",
    "klasse": "klas", "nicke": "niklas", "nisse": "nils", "olle": "olof", "ola": "olof",
    "kalle": "karl", "lasse": "lars", "pelle": "per", "micke": "mikael",
    "mikke": "mikael", "stickan": "stig", "tobbe": "tobias", "jonke": "jonas",
    "emmy": "emelie", "ellie": "elin", "lollo": "louise", "mimmi": "maria", "mirre": "miriam",
    "gunnel": "gunilla", "gunn": "gunilla", "bibbi": "birgita", "lillemor": "lillemor",
    "lisbeth": "elisabet", "lisbet": "elisabet", "britta": "birgita", "ogge": "oskar",
    "oscar": "oskar", "jossan": "josefin", "fille": "filip", "philip": "filip",
    "manda": "amanda", "lelle": "lenart", "lennart": "lenart", "patte": "patrik",
    "rasse": "rasmus", "vicke": "viktor", "victor": "viktor", "cissi": "sesilia",
    "cecilia": "sesilia", "tilda": "matilda", "anki": "anika", "annika": "anika",
    "matte": "matias", "mattias": "matias", "bengan": "bengt", "gosta": "gustaf",
    "bella": "isabel", "isabelle": "isabel", "isabella": "isabel",
}


def name_tokens(value: str | None) -> tuple[str, ...]:
    """Folded tokens of a name: ``"Ström-Berg"`` → ``("strom", "berg")``."""
    return _name_tokens(value) if value else ()


@remembered(KEYS_REMEMBERED)
def _name_tokens(value: str) -> tuple[str, ...]:
    cleaned = _NON_LETTER.sub("", fold(value))
    return tuple(token for token in _SPLIT.split(cleaned) if token)


@remembered()
def spelling_key(token: str) -> str:
    """A folded token with the common spelling variants rewritten (``"Carl"`` → ``"karl"``).
    Remembered: names repeat, and the 18 rewrites cost more than every other step of
    indexing a name (a population of a million holds a few thousand distinct ones).

    >>> spelling_key("carl"), spelling_key("stroem"), spelling_key("philippa")
    ('karl', 'strom', 'filipa')
    """
    for pattern, replacement in _REWRITES:
        token = pattern.sub(replacement, token)
    return token


#: The table with both sides in spelling-key form (written by hand, so normalised here).
_NICKNAME_KEYS: dict[str, str] = {}


@remembered(KEYS_REMEMBERED)
def given_key(token: str) -> str:
    """Spelling key of a given name, nicknames mapped to the full name.

    >>> given_key("kalle") == given_key("Karl"), given_key("pelle"), given_key("Åsa")
    (True, 'per', 'asa')
    """
    if not _NICKNAME_KEYS:
        _NICKNAME_KEYS.update({spelling_key(k): spelling_key(v) for k, v in NICKNAMES.items()})
    key = spelling_key(fold(token))
    return _NICKNAME_KEYS.get(key, key)


def phone_key(value: str | None) -> str | None:
    """The subscriber digits of a phone number: ``+46 70-123 45 67`` and ``070-1234567``
    both give ``701234567`` (country code 46 and trunk prefix 0 dropped)."""
    if not value:
        return None
    digits = re.sub(r"\D", "", value)
    if value.strip().startswith("+") and digits.startswith("46"):
        digits = digits[2:]
    elif digits.startswith("0046"):
        digits = digits[4:]
    digits = digits.lstrip("0")
    return digits or None


def email_key(value: str | None) -> str | None:
    """E-mail compared case-insensitively."""
    value = (value or "").strip().casefold()
    return value or None


def postal_key(value: str | None) -> str | None:
    """Postal code without spacing (``"412 55"`` → ``"41255"``)."""
    return _postal_key(value) if value else None


@remembered(KEYS_REMEMBERED)
def _postal_key(value: str) -> str | None:
    return re.sub(r"\s", "", fold(value)) or None


def text_key(value: str | None) -> str:
    """Folded free text with punctuation as space (addresses, cities)."""
    return _text_key(value) if value else ""


@remembered(KEYS_REMEMBERED)
def _text_key(value: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", fold(value)).split())
