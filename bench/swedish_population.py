"""A seeded synthetic Swedish population with labelled ``$match`` queries.

Made to evaluate the patient matcher on data that looks like a Swedish regional
population rather than like FEBRL: few surnames carried by very many people (the -son
names), common full names repeated in the same city and street, households whose
members share a surname, an address and sometimes a landline, twins, juniors named after
a parent, and persons who are *not* stored although a relative, a twin or a namesake is.

``generate(size, seed, queries=…)`` returns a :class:`Dataset`: ``size`` stored Patients
(FHIR R4 dicts with ids ``p000001`` …) and ``queries`` labelled :class:`Query` objects,
about half of them for stored persons (``truth`` = the stored id) with the mistakes a
clerk makes, half for persons who are not stored (``truth`` = None); ``kind`` names the
scenario (``MEMBER_KINDS``, ``NON_MEMBER_KINDS``). Pure standard library apart from the
project's own identity rules (``app.identity``, itself standard library only), fast
(100,000 persons in a few seconds) and deterministic: the same seed and size give the
same population whatever the number of queries, because tables, population and queries
draw from three separate ``random.Random`` streams.

What is modelled, and from where (approximate figures, for realism, not for statistics):

* Surnames: shares like Statistics Sweden's name statistics (Andersson and Johansson
  about 2.1 % each, the top ten -son names about 14 %, the top 100 nearly a third; SCB
  2012: "100 of these names are carried by nearly a third of the population"), then a
  long tail composed from Swedish name parts (Lind+berg, Sjö+ström …), soldier names,
  -én names and rarer -son names; about 12 % immigrant surnames (Arabic, Somali, Persian,
  Turkish/Kurdish, Balkan, East European, Finnish, East Asian, Latin American, Eritrean/
  Ethiopian, South Asian, West European) with given names of the same origin. Polish
  surnames that inflect by sex (Kowalski/Kowalska) are left out so that a family's
  surname is one string.
* Given names: per sex and birth period (1920s Karl, Karin … to 2010s Liam, Alice),
  about 40 % with two given names, hyphenated double names (Anna-Karin, Per-Olof) mostly
  for births 1935–1979, juniors named after a parent.
* Places: a national mix of about 130 postal towns weighted by population (Stockholm
  about 23 %), each with its own 3-digit postal-code prefixes, landline area code and a
  limited set of common street names, with house and flat numbers (``lgh 1102``).
* Households: singles, couples (about 70 % share a surname), families with children
  one to six years apart, twins (1.5 % of births), single parents, three generations,
  students sharing a flat; shared landlines mostly in older households.
* Identifiers: personnummer with birth numbers 980–999 only (the tax agency's test
  range, domain.md §3.9), odd for men and even for women, Luhn check digit; when a
  date's ten numbers of a sex are used up, or occasionally anyway, a nearby date's
  number (domain.md §2.1); a few % samordningsnummer (day + 60), NRID or LRID VGR
  reserve numbers (made by ``app.identity``), or no identifier.

Phone numbers are random numbers in Swedish formats and e-mail addresses use the
reserved ``example.*`` domains; nothing here is a real person's data.

Run ``python bench/swedish_population.py --size 20000 --seed 1 --queries 2000`` for a
summary: queries per kind, top surnames with their shares, town sizes, household facts.
"""

from __future__ import annotations

import argparse
import bisect
import gc
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from random import Random
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.identity import (  # noqa: E402
    lrid_vgr,
    luhn,
    nrid,
    personnummer,
    samordningsnummer,
)

__all__ = ["MEMBER_KINDS", "NON_MEMBER_KINDS", "Dataset", "Query", "fold", "generate"]

#: Ages are reckoned at this date; every birth date lies before it.
REFERENCE_DATE = date(2026, 1, 1)
FIRST_BIRTH = date(1920, 1, 1)
LAST_BIRTH = REFERENCE_DATE - timedelta(days=1)
#: The tax agency's test-person birth numbers (domain.md §3.9): ten per sex and date.
BIRTH_NUMBERS = range(980, 1000)


@dataclass(frozen=True)
class Query:
    """One ``$match`` request and the answer it should get."""

    patient: dict[str, Any]  # a FHIR R4 Patient dict (no id) as a clerk would enter it
    truth: str | None  # id of the stored Patient that is this person, None if not stored
    kind: str  # scenario name: one of MEMBER_KINDS or NON_MEMBER_KINDS


@dataclass(frozen=True)
class Dataset:
    """Stored Patients and labelled queries."""

    patients: list[dict[str, Any]]  # stored Patients, each with a unique "id"
    queries: list[Query]


#: Member scenarios (truth = the stored id) and their share of the member queries.
MEMBER_KINDS: dict[str, float] = {
    "exact": 10,
    "diacritics-dropped": 7,
    "given-order-swapped": 5,
    "given-one-missing": 7,
    "hyphen-space": 5,
    "typo-family": 8,
    "typo-given": 7,
    "nickname": 6,
    "family-given-swapped": 3,
    "day-month-transposed": 5,
    "birth-digit-typo": 6,
    "address-missing": 6,
    "moved": 7,
    "married-name": 7,
    "married-and-moved": 5,
    "only-name-and-birthdate": 6,
}
#: Non-member scenarios (truth = None) and their share of the non-member queries. The
#: last four are persons held out of the stored population; when a population has fewer
#: of them than asked for, the rest go to the first three, which are made on demand.
NON_MEMBER_KINDS: dict[str, float] = {
    "new-random": 18,
    "namesake-other-birthdate": 14,
    "namesake-same-city": 14,
    "relative-same-household": 16,
    "twin": 12,
    "sibling-close-age": 14,
    "parent-child-same-name": 12,
}
_MADE_ON_DEMAND = ("new-random", "namesake-other-birthdate", "namesake-same-city")

# ---------------------------------------------------------------------------------------
# Name tables
# ---------------------------------------------------------------------------------------

#: The commonest Swedish surnames with their approximate share of the whole population
#: in per cent (SCB name statistics, rounded; spelling variants such as Carlsson and
#: Gustavsson kept apart, as a clerk would type them).
TOP_SURNAMES: tuple[tuple[str, float], ...] = (
    ("Andersson", 2.2), ("Johansson", 2.2), ("Karlsson", 2.0), ("Nilsson", 1.7),
    ("Eriksson", 1.5), ("Larsson", 1.2), ("Olsson", 1.1), ("Persson", 1.0),
    ("Svensson", 0.95), ("Gustafsson", 0.9), ("Pettersson", 0.85), ("Jonsson", 0.7),
    ("Jansson", 0.48), ("Hansson", 0.42), ("Bengtsson", 0.36), ("Jönsson", 0.34),
    ("Lindberg", 0.32), ("Jakobsson", 0.31), ("Magnusson", 0.31), ("Lindström", 0.3),
    ("Olofsson", 0.29), ("Lindqvist", 0.28), ("Lindgren", 0.28), ("Berg", 0.27),
    ("Axelsson", 0.27), ("Bergström", 0.26), ("Lundberg", 0.26), ("Lundgren", 0.25),
    ("Lind", 0.25), ("Lundqvist", 0.24), ("Mattsson", 0.24), ("Berglund", 0.23),
    ("Carlsson", 0.23), ("Fredriksson", 0.22), ("Sandberg", 0.22), ("Henriksson", 0.21),
    ("Forsberg", 0.21), ("Sjöberg", 0.21), ("Wallin", 0.2), ("Engström", 0.2),
    ("Eklund", 0.19), ("Danielsson", 0.19), ("Lundin", 0.19), ("Håkansson", 0.18),
    ("Björk", 0.18), ("Bergman", 0.18), ("Gunnarsson", 0.18), ("Holm", 0.18),
    ("Wikström", 0.17), ("Samuelsson", 0.17), ("Isaksson", 0.17), ("Fransson", 0.17),
    ("Bergqvist", 0.16), ("Nyström", 0.16), ("Holmberg", 0.16), ("Arvidsson", 0.16),
    ("Löfgren", 0.16), ("Söderberg", 0.155), ("Nyberg", 0.155), ("Blomqvist", 0.15),
    ("Claesson", 0.15), ("Nordström", 0.15), ("Mårtensson", 0.15), ("Lundström", 0.145),
    ("Gustavsson", 0.145), ("Viklund", 0.14), ("Björklund", 0.14), ("Eliasson", 0.14),
    ("Pålsson", 0.14), ("Berggren", 0.135), ("Sandström", 0.135), ("Lund", 0.135),
    ("Nordin", 0.13), ("Ström", 0.13), ("Åberg", 0.13), ("Hermansson", 0.13),
    ("Ekström", 0.125), ("Holmgren", 0.125), ("Sundberg", 0.125), ("Hedlund", 0.12),
    ("Dahlberg", 0.12), ("Hellström", 0.12), ("Sjögren", 0.12), ("Abrahamsson", 0.115),
    ("Falk", 0.115), ("Martinsson", 0.115), ("Öberg", 0.11), ("Andreasson", 0.11),
    ("Strömberg", 0.11), ("Månsson", 0.11), ("Åkesson", 0.105), ("Dahl", 0.105),
    ("Lindholm", 0.105), ("Norberg", 0.1), ("Holmqvist", 0.1), ("Petersson", 0.1),
)
#: Rarer patronymic surnames, each well below the top list.
RARE_SON_NAMES = (
    "Ivarsson", "Ingvarsson", "Sigvardsson", "Torstensson", "Emanuelsson", "Kristiansson",
    "Christiansson", "Nicklasson", "Ottosson", "Thorsson", "Josefsson", "Börjesson",
    "Göransson", "Jeppsson", "Knutsson", "Matsson", "Jacobsson", "Adolfsson", "Alfredsson",
    "Augustsson", "Benjaminsson", "Birgersson", "Einarsson", "Engdahl", "Evertsson",
    "Folkesson", "Hjalmarsson", "Holgersson", "Jonasson",
    "Kjellsson", "Larsdotter", "Leonardsson", "Malmsten", "Nordlund", "Oskarsson",
    "Rasmusson", "Roos", "Rydberg", "Sigfridsson", "Stensson", "Sundqvist", "Svantesson",
    "Tomasson", "Tufvesson", "Valfridsson", "Wilhelmsson", "Zakrisson", "Åström",
    "Östlund", "Bryngelsson", "Gudmundsson", "Ingemarsson", "Mikaelsson", "Nordgren",
)
#: Old soldier names and other short one-word surnames.
SOLDIER_NAMES = (
    "Stark", "Rask", "Modig", "Frisk", "Kvick", "Lustig", "Rapp", "Dristig", "Hurtig",
    "Trygg", "Stolt", "Glad", "From", "Tapper", "Hjelm", "Sköld", "Svärd", "Spjut", "Lans",
    "Pil", "Blixt", "Dunder", "Flink", "Kvist", "Lilja", "Ros", "Lejon", "Örn", "Hök",
    "Trana", "Svan", "Bäck", "Ek", "Gran", "Asp", "Alm", "Lönn", "Hägg", "Rönn", "Strand",
    "Sten", "Ljung", "Hed", "Fager", "Krona", "Kron", "Lindh", "Dahlin", "Söder", "Wester",
)
#: Surnames with é and other learned endings.
LEARNED_NAMES = (
    "Hedén", "Lindén", "Forsén", "Sandén", "Edén", "Lidén", "Nordén", "Wallén", "Sjödén",
    "Bergén", "Hedin", "Nordell", "Lundell", "Wallenius", "Lundius", "Sundell",
    "Fahlén", "Stenius", "Norén", "Ahlén", "Carlén", "Melin", "Sellin", "Rosén", "Tegnér",
)
_FIRST_PARTS = (
    "Lind", "Berg", "Ek", "Sjö", "Ström", "Holm", "Sand", "Björk", "Dahl", "Lund", "Fors",
    "Nord", "Öst", "Väst", "Söder", "Al", "Ask", "Bäck", "Fager", "Gran", "Hag", "Hed",
    "Hög", "Kvarn", "Lilje", "Ljung", "Löf", "Malm", "Mo", "Norr", "Ros", "Sten", "Sund",
    "Tall", "Wall", "Wester", "Åker", "Ås", "Ny", "Rosen", "Lönn", "Blom", "Eng", "Fred",
    "Hall", "Hell", "Kron", "Kull", "Lid", "Sal", "Ståhl", "Tor", "Wik", "Ahl", "Bråd",
    "Dal", "Elf", "Falk", "Grön", "Hassel", "Häll", "Lager", "Lövs", "Palm", "Rud",
    "Stål", "Öd", "Älv", "Vik", "Thor", "Hammar", "Bränn",
)
_ENDINGS = (
    "berg", "ström", "gren", "qvist", "kvist", "lund", "dahl", "holm", "man", "sten", "blad",
    "by", "hed", "mark", "borg", "fors", "vall", "ling", "gård", "näs", "stedt", "quist",
    "strand", "bäck", "lin", "ell", "én", "sjö", "löf", "hag",
)

Era = int  # first birth year of a naming period

#: Commonest first given names per sex and period, most common first (SCB tables of
#: names given and names carried, rounded to the usual top of each period).
GIVEN_BY_ERA: dict[str, dict[Era, tuple[str, ...]]] = {
    "female": {
        1920: ("Karin", "Margit", "Elsa", "Anna", "Gunhild", "Ingrid", "Astrid", "Greta",
               "Maj", "Märta", "Dagny", "Elin", "Ester", "Gerda", "Signe", "Svea", "Ebba",
               "Alice", "Britta", "Gunnel", "Sigrid", "Maria", "Ella", "Linnéa", "Aina",
               "Vera", "Inga", "Ruth", "Elvira", "Hildur", "Sonja", "Ellen", "Birgit",
               "Majken", "Stina", "Kerstin", "Valborg", "Ester"),
        1935: ("Birgitta", "Kerstin", "Margareta", "Ingrid", "Karin", "Marianne", "Gunilla",
               "Ulla", "Britt", "Elisabeth", "Barbro", "Inger", "Eva", "Gun", "Ingegerd",
               "Siv", "Solveig", "Christina", "Anita", "Monica", "Lena", "Gunnel", "Berit",
               "Rut", "Gunvor", "Ingela", "Elsie", "Agneta", "Sonja", "Maud", "Yvonne",
               "Irene", "Åsa"),
        1950: ("Eva", "Anna", "Lena", "Kerstin", "Marie", "Maria", "Ann", "Christina",
               "Annika", "Susanne", "Karin", "Agneta", "Monica", "Elisabeth", "Anneli",
               "Katarina", "Inger", "Pia", "Carina", "Gunilla", "Ewa", "Birgitta",
               "Yvonne", "Åsa", "Catharina", "Madeleine", "Lisbeth", "Helen", "Ulrika",
               "Marianne", "Annette", "Desirée", "Renée"),
        1965: ("Anna", "Maria", "Karin", "Sara", "Helena", "Åsa", "Annika", "Linda",
               "Malin", "Jenny", "Johanna", "Camilla", "Sofia", "Jessica", "Charlotta",
               "Emma", "Therese", "Susanne", "Ulrika", "Katarina", "Cecilia", "Petra",
               "Lotta", "Marie", "Eva", "Carina", "Kristina", "Anneli", "Veronica",
               "Sandra", "Frida", "Louise", "Elisabeth", "Josefin"),
        1980: ("Sara", "Emma", "Maria", "Hanna", "Anna", "Johanna", "Sofia", "Linda",
               "Elin", "Ida", "Frida", "Jenny", "Emelie", "Julia", "Amanda", "Lisa",
               "Malin", "Josefin", "Matilda", "Caroline", "Jessica", "Sandra", "Therese",
               "Louise", "Linnéa", "Madeleine", "Evelina", "Michaela", "Rebecka",
               "Felicia", "Moa", "Elisabeth", "Cecilia"),
        1995: ("Emma", "Julia", "Hanna", "Elin", "Ida", "Amanda", "Alva", "Moa", "Wilma",
               "Ebba", "Matilda", "Linnéa", "Elsa", "Maja", "Alice", "Klara", "Felicia",
               "Sara", "Alicia", "Nellie", "Tilda", "Ella", "Isabelle", "Emelie", "Olivia",
               "Agnes", "Tindra", "Lova", "Ellen", "Sofia", "My", "Thea", "Saga",
               "Stella", "Vera"),
        2010: ("Alice", "Maja", "Elsa", "Astrid", "Wilma", "Ebba", "Vera", "Alma", "Olivia",
               "Saga", "Ella", "Freja", "Selma", "Agnes", "Lilly", "Signe", "Clara",
               "Elvira", "Stella", "Ellen", "Lea", "Ines", "Iris", "Leah", "Nova", "Tyra",
               "Juni", "Nora", "Luna", "Isabelle", "Hedda", "Livia", "Majken", "Sigrid",
               "Edith", "Ingrid", "Molly", "Elise"),
    },
    "male": {
        1920: ("Karl", "Erik", "Nils", "Gustav", "Sven", "Gösta", "Olof", "Lars", "Johan",
               "Carl", "Axel", "Gunnar", "Arne", "Bertil", "Ture", "Ragnar", "Harry",
               "Folke", "Helge", "Einar", "Ivar", "Rune", "Stig", "Allan", "Sture", "Åke",
               "Tage", "Ingvar", "Birger", "Knut", "Evert", "Holger", "Valter", "Per",
               "Hugo", "Oskar", "Hilding", "Yngve", "Sixten", "Georg"),
        1935: ("Lars", "Jan", "Bo", "Bengt", "Kjell", "Rolf", "Leif", "Lennart", "Sven",
               "Göran", "Anders", "Hans", "Per", "Åke", "Ingemar", "Sten", "Ulf", "Christer",
               "Stig", "Rune", "Kurt", "Bertil", "Roland", "Gunnar", "Bernt", "Sune",
               "Tommy", "Owe", "Nils", "Karl", "Erik", "Sören"),
        1950: ("Lars", "Anders", "Jan", "Per", "Mats", "Hans", "Peter", "Thomas", "Ulf",
               "Mikael", "Stefan", "Göran", "Bengt", "Lennart", "Magnus", "Håkan",
               "Kenneth", "Claes", "Dan", "Björn", "Bo", "Leif", "Tommy", "Ola", "Örjan",
               "Torbjörn", "Kent", "Roger", "Conny", "Pär", "Johan", "Christer", "André"),
        1965: ("Mikael", "Johan", "Anders", "Peter", "Fredrik", "Daniel", "Magnus",
               "Stefan", "Andreas", "Patrik", "Martin", "Jonas", "Per", "Thomas", "Joakim",
               "Mattias", "Henrik", "Niklas", "Marcus", "Tobias", "Jens", "Christian",
               "Robert", "Jimmy", "Erik", "Ola", "Björn", "Niclas", "Tomas", "Roger",
               "Johnny", "Pär", "Kristoffer"),
        1980: ("Daniel", "Johan", "Andreas", "Erik", "Marcus", "Christoffer", "Martin",
               "Fredrik", "Mattias", "Niklas", "Jonas", "Alexander", "Simon", "Robin",
               "Viktor", "Oscar", "Emil", "Anton", "Jesper", "Sebastian", "Johannes",
               "Kristoffer", "Rasmus", "Tobias", "Joel", "Patrik", "David", "Linus",
               "Philip", "Dennis", "Jimmie", "Adam", "Mikael", "Henrik"),
        1995: ("William", "Lucas", "Oscar", "Elias", "Hugo", "Alexander", "Erik", "Filip",
               "Emil", "Isak", "Viktor", "Anton", "Axel", "Liam", "Oliver", "Ludvig",
               "Gustav", "Jonathan", "Simon", "Albin", "Adam", "Linus", "Leo", "Edvin",
               "Theo", "Rasmus", "Melvin", "Carl", "Noah", "Max", "Vincent", "Jacob",
               "Sebastian", "Marcus", "Felix"),
        2010: ("William", "Liam", "Noah", "Hugo", "Lucas", "Oliver", "Elias", "Adam",
               "Alexander", "Nils", "Leo", "Oscar", "Vincent", "Charlie", "Theo", "Ludvig",
               "Alfred", "Arvid", "Matteo", "Olle", "Frans", "Valter", "Sigge", "Theodor",
               "Filip", "Isak", "Axel", "Levi", "Harry", "Loke", "August", "Malte",
               "Gustav", "Melvin", "Colin", "Elton", "Ebbe", "Viggo"),
    },
}
#: Further first names of every period, for the long tail.
EXTRA_GIVEN: dict[str, tuple[str, ...]] = {
    "female": ("Agda", "Alfhild", "Anette", "Annelie", "Bodil", "Brita", "Cajsa", "Dagmar",
               "Doris", "Ellinor", "Embla", "Filippa", "Gudrun", "Hedvig", "Henrika",
               "Hilma", "Ingeborg", "Jill", "Judit", "Kajsa", "Liv", "Lovisa", "Märit",
               "Mikaela", "Minna", "Nathalie", "Ottilia", "Paulina", "Ronja", "Rakel",
               "Siri", "Solbritt", "Tuva", "Ylva", "Zelma", "Åse", "Öllegård", "Gunbritt",
               "Viveka", "Tove", "Sanna", "Maj-Lis", "Noomi", "Elna", "Ester", "Irma"),
    "male": ("Albert", "Alvar", "Arne", "Bror", "Börje", "Dag", "Egon", "Elis", "Elof",
             "Emanuel", "Fritiof", "Gideon", "Gottfrid", "Halvar", "Hampus", "Helmer",
             "Hjalmar", "Ingmar", "Joar", "Jöns", "Konrad", "Lage", "Linné", "Love",
             "Manne", "Matti", "Måns", "Nore", "Ossian", "Otto", "Rikard", "Sölve",
             "Tage", "Tor", "Torsten", "Ulrik", "Vidar", "Vilgot", "Wilmer", "Åke",
             "Östen", "Ebbe", "Helge", "Assar", "Bo", "Gert"),
}
#: Common second given names.
MIDDLE_NAMES: dict[str, tuple[str, ...]] = {
    "female": ("Maria", "Elisabeth", "Margareta", "Kristina", "Katarina", "Ingrid", "Linnéa",
               "Sofia", "Louise", "Charlotte", "Marie", "Johanna", "Viktoria", "Matilda",
               "Amanda", "Alexandra", "Elvira", "Ingegerd", "Birgitta", "Kerstin", "Helena",
               "Emilia", "Christina", "Cecilia", "Madeleine", "Josefine", "Elsa", "Ingeborg"),
    "male": ("Erik", "Karl", "Johan", "Gustav", "Olof", "Anders", "Magnus", "Axel",
             "Alexander", "Emil", "Fredrik", "Lennart", "Mikael", "Oskar", "Wilhelm",
             "Albin", "Valdemar", "August", "Henrik", "Daniel", "Peter", "Christer",
             "Gunnar", "Arvid", "Elias", "Ingemar", "Åke", "Göran"),
}
HYPHENATED_GIVEN: dict[str, tuple[str, ...]] = {
    "female": ("Anna-Karin", "Eva-Lena", "Ann-Christin", "Ann-Marie", "Anna-Lena",
               "Ann-Sofie", "Lise-Lotte", "Eva-Britt", "Maj-Britt", "Inga-Lill", "Anna-Lisa",
               "Marie-Louise", "Ulla-Britt", "Anna-Maria", "Ann-Louise", "Gun-Britt",
               "Eva-Marie", "Britt-Marie"),
    "male": ("Per-Olof", "Karl-Erik", "Lars-Erik", "Jan-Erik", "Sven-Erik", "Carl-Johan",
             "Per-Anders", "Lars-Göran", "Jan-Olof", "Bengt-Åke", "Nils-Erik", "Per-Erik",
             "Karl-Johan", "Lars-Olof", "Hans-Erik", "Jan-Åke", "Bo-Göran", "Per-Åke"),
}
#: Share of hyphenated first names per period (they peaked with births of 1935–1979).
HYPHEN_SHARE: dict[Era, float] = {1920: 0.02, 1935: 0.07, 1950: 0.07, 1965: 0.04,
                                  1980: 0.015, 1995: 0.008, 2010: 0.005}
TWO_GIVEN_SHARE = 0.43

#: Everyday short forms a clerk may type for the registered name.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "Karl": ("Kalle",), "Carl": ("Calle", "Kalle"), "Lars": ("Lasse",), "Per": ("Pelle",),
    "Nils": ("Nisse",), "Hans": ("Hasse",), "Magnus": ("Mange",), "Mikael": ("Micke",),
    "Thomas": ("Tompa",), "Tomas": ("Tompa",), "Fredrik": ("Fredde",), "Sven": ("Svenne",),
    "Olof": ("Olle",), "Ulf": ("Uffe",), "Robert": ("Robban",), "Jan": ("Janne",),
    "Joakim": ("Jocke",), "Jonas": ("Jonte",), "Kristoffer": ("Krille",),
    "Christoffer": ("Stoffe",), "Gustav": ("Gurra", "Gösta"), "Bengt": ("Bengan",),
    "Kenneth": ("Kenta",), "Lennart": ("Lelle",), "Alexander": ("Alex",),
    "Sebastian": ("Sebbe",), "Daniel": ("Danne",), "Patrik": ("Patte",),
    "Tobias": ("Tobbe",), "Mattias": ("Matte",), "Mats": ("Matte",), "Stefan": ("Steffe",),
    "Viktor": ("Vicke",), "William": ("Wille",), "Rasmus": ("Rasse",), "Oscar": ("Ogge",),
    "Henrik": ("Henke",), "Filip": ("Fille",), "Ludvig": ("Ludde",), "Bertil": ("Berra",),
    "Torbjörn": ("Totte",), "Johannes": ("Johan",), "Lars-Erik": ("Lasse",),
    "Karl-Erik": ("Kalle",), "Per-Olof": ("Pelle", "P-O"), "Elisabeth": ("Lisa", "Lisbeth"),
    "Maria": ("Maja", "Mia"), "Margareta": ("Greta", "Maggan"), "Katarina": ("Kajsa",),
    "Catharina": ("Kajsa",), "Kristina": ("Stina", "Kicki"), "Christina": ("Stina",),
    "Birgitta": ("Gittan", "Bittan", "Britta"), "Charlotta": ("Lotta",),
    "Susanne": ("Sanna", "Sussie"), "Johanna": ("Hanna",), "Helena": ("Lena",),
    "Ingrid": ("Inga",), "Annika": ("Anki",), "Matilda": ("Tilda",), "Louise": ("Lollo",),
    "Madeleine": ("Madde",), "Josefin": ("Jossan",), "Therese": ("Tessan",),
    "Jessica": ("Jessan",), "Camilla": ("Millan",), "Emelie": ("Emmy",),
    "Isabelle": ("Bella",), "Cecilia": ("Cissi",), "Amanda": ("Manda",),
    "Margit": ("Maggan",), "Eva": ("Evy",), "Ann-Christin": ("Anki",),
}


@dataclass(frozen=True)
class _Origin:
    """A naming tradition: its share of the population and its names."""

    code: str
    share: float  # per cent of all persons
    surnames: tuple[str, ...]
    male: tuple[str, ...]
    female: tuple[str, ...]
    born: tuple[int, int, int]  # (earliest, most common, latest) birth year of an adult
    two_given: float = 0.15
    swedish_children: float = 0.35  # share of children given Swedish names
    double_surname: float = 0.0  # Spanish-style "Rodríguez Silva"
    big_families: bool = False


ORIGINS: tuple[_Origin, ...] = (
    _Origin("arabic", 3.0,
            ("Mohammed", "Ali", "Ahmed", "Hassan", "Hussein", "Mohamed", "Ibrahim", "Khalil",
             "Yousef", "Omar", "Abdullah", "Saleh", "Mahmoud", "Abbas", "Salem", "Nasser",
             "Hamid", "Karim", "Aziz", "Rashid", "Mansour", "Saad", "Jaber", "Kadhim",
             "Jassim", "Hamad", "Haddad", "Khoury", "Haidar", "Issa", "Younes", "Saeed",
             "Suleiman", "Awad", "Hamdan", "Al-Ali", "Al-Hassan", "Al-Khatib", "Al-Saadi",
             "Al-Jabouri", "Al-Obaidi", "Al-Tamimi", "Abdulrahman", "Kassem", "Darwish",
             "Sabbagh", "Nassar", "Khalaf", "Barakat", "Toma", "Yacoub", "Gabriel",
             "Lahdo", "Aho", "Barsom", "Shamoun"),
            ("Mohammed", "Ahmad", "Ali", "Omar", "Hassan", "Ibrahim", "Yousef", "Mustafa",
             "Khaled", "Karim", "Ahmed", "Abdullah", "Hussein", "Amir", "Samir", "Rami",
             "Adam", "Elias", "Zain", "Fadi", "Tarek", "Bassam", "Jamal", "Nabil", "Hamza",
             "Yasin", "Anas", "Firas", "Majid", "Walid", "Ziad", "Georgis", "Sargon"),
            ("Fatima", "Aisha", "Mariam", "Sara", "Noor", "Amina", "Layla", "Yasmin",
             "Zainab", "Hiba", "Rania", "Lina", "Huda", "Dina", "Maryam", "Nour", "Rasha",
             "Reem", "Salma", "Hala", "Samira", "Nadia", "Rana", "Jana", "Lamar", "Shahad",
             "Aya", "Hanan", "Suad", "Mona"),
            (1950, 1983, 2004), big_families=True),
    _Origin("somali", 0.7,
            ("Abdi", "Farah", "Osman", "Jama", "Warsame", "Mohamud", "Hassan", "Ali", "Yusuf",
             "Omar", "Aden", "Ahmed", "Ismail", "Abdullahi", "Hussein", "Nur", "Said",
             "Egal", "Dahir", "Elmi", "Abdirahman", "Hersi", "Guled", "Mohamed"),
            ("Abdirahman", "Abdullahi", "Mohamed", "Ahmed", "Hassan", "Yusuf", "Abdi",
             "Ismail", "Mustafe", "Abdikarim", "Liban", "Hamza", "Khalid", "Omar", "Ayub"),
            ("Fadumo", "Hodan", "Amina", "Sahra", "Hawa", "Asha", "Ifrah", "Khadija", "Ayan",
             "Hibo", "Sagal", "Ubah", "Nasra", "Deqa", "Muna", "Idil"),
            (1955, 1985, 2004), big_families=True),
    _Origin("persian", 0.9,
            ("Rahimi", "Hosseini", "Karimi", "Ahmadi", "Mohammadi", "Rezaei", "Moradi",
             "Jafari", "Amini", "Azizi", "Sadeghi", "Rostami", "Hashemi", "Kazemi",
             "Ghorbani", "Najafi", "Safari", "Sharifi", "Habibi", "Nazari", "Akbari", "Noori",
             "Haidari", "Rahmani", "Sultani", "Jalali", "Mousavi"),
            ("Reza", "Ali", "Mehdi", "Amir", "Hamid", "Dariush", "Babak", "Kaveh", "Arash",
             "Omid", "Navid", "Hossein", "Mohammad", "Ahmad", "Farhad", "Saeed", "Behnam",
             "Mostafa", "Sina", "Arman", "Mojtaba"),
            ("Maryam", "Fatemeh", "Zahra", "Shirin", "Leila", "Nasrin", "Parisa", "Roya",
             "Sara", "Elham", "Niloufar", "Mahsa", "Azadeh", "Samira", "Shabnam", "Farzaneh",
             "Marjan", "Setareh", "Yalda", "Neda"),
            (1950, 1978, 2004)),
    _Origin("turkish", 0.9,
            ("Kaya", "Yilmaz", "Demir", "Sahin", "Celik", "Aydin", "Özdemir", "Arslan",
             "Dogan", "Aslan", "Polat", "Tekin", "Yildiz", "Öztürk", "Kilic", "Korkmaz",
             "Kurt", "Güler", "Bulut", "Coskun", "Karaman", "Aksoy", "Ekinci", "Baran",
             "Zengin", "Tas", "Yavuz"),
            ("Mehmet", "Mustafa", "Ahmet", "Ali", "Hasan", "Hüseyin", "Emre", "Murat",
             "Kemal", "Yusuf", "Deniz", "Can", "Serkan", "Burak", "Cem", "Erkan", "Volkan",
             "Özkan", "Baran", "Rojhat", "Azad"),
            ("Ayse", "Fatma", "Emine", "Elif", "Zeynep", "Hatice", "Meryem", "Özlem", "Derya",
             "Leyla", "Sibel", "Gül", "Dilan", "Berfin", "Rojda", "Ebru", "Nurcan", "Esra",
             "Songül"),
            (1950, 1975, 2003)),
    _Origin("balkan", 1.2,
            ("Hodžić", "Begić", "Hadžić", "Petrović", "Jovanović", "Nikolić", "Kovačević",
             "Horvat", "Marković", "Ilić", "Delić", "Mehmedović", "Hasanović", "Alić",
             "Husić", "Šarić", "Babić", "Popović", "Stojanović", "Krasniqi", "Berisha",
             "Gashi", "Hoxha", "Morina", "Selimi"),
            ("Amir", "Emir", "Adnan", "Senad", "Nikola", "Dragan", "Milan", "Goran", "Zoran",
             "Marko", "Ivan", "Edin", "Haris", "Armin", "Mirza", "Dino", "Kenan", "Luka",
             "Stefan", "Arben", "Besnik", "Fatmir", "Driton", "Ardit"),
            ("Amra", "Emina", "Lejla", "Selma", "Ana", "Jelena", "Milica", "Ivana", "Dragana",
             "Mirela", "Azra", "Sanja", "Merima", "Alma", "Aida", "Jasmina", "Besa", "Arta",
             "Drita", "Vlora", "Teuta"),
            (1945, 1970, 2002)),
    _Origin("east-european", 1.2,
            ("Nowak", "Novak", "Wójcik", "Kowalczyk", "Mazur", "Krawczyk", "Kaczmarek",
             "Dudek", "Pawlak", "Michalak", "Sikora", "Wróbel", "Popescu", "Popa", "Ionescu",
             "Stan", "Dumitru", "Horváth", "Nagy", "Kovács", "Tóth", "Szabó", "Ivanov",
             "Petrov", "Kuznetsov", "Volkov", "Jankauskas", "Kazlauskas", "Ozols", "Tamm",
             "Saar"),
            ("Piotr", "Krzysztof", "Tomasz", "Paweł", "Marek", "Andrzej", "Adam", "Jakub",
             "Michał", "Andrei", "Ion", "Mihai", "Alexandru", "Florin", "László", "Zoltán",
             "Gábor", "Dmitri", "Sergei", "Aleksandr", "Jonas", "Tomas", "Andris", "Jaan"),
            ("Anna", "Katarzyna", "Agnieszka", "Małgorzata", "Monika", "Magdalena", "Joanna",
             "Ewa", "Maria", "Elena", "Ioana", "Andreea", "Cristina", "Katalin", "Zsuzsanna",
             "Olga", "Natalia", "Irina", "Svetlana", "Tatiana", "Rasa", "Inga", "Liis"),
            (1950, 1982, 2003)),
    _Origin("finnish", 1.5,
            ("Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine",
             "Heikkinen", "Koskinen", "Järvinen", "Lehtonen", "Salo", "Lehtinen", "Saarinen",
             "Niemi", "Heinonen", "Kinnunen", "Salminen", "Turunen", "Hiltunen", "Rantanen",
             "Lindroos", "Karjalainen", "Jokinen", "Räsänen", "Laitinen", "Ahonen",
             "Savolainen", "Kero", "Niemelä", "Pulkkinen", "Toivonen", "Kallio", "Leinonen",
             "Hakala", "Aalto", "Manninen", "Peltonen", "Lahtinen", "Tuominen"),
            ("Juha", "Mikko", "Pekka", "Jari", "Timo", "Kari", "Matti", "Heikki", "Antti",
             "Markku", "Esa", "Seppo", "Veikko", "Pentti", "Raimo", "Tapio", "Jukka",
             "Hannu", "Erkki", "Olavi", "Ilkka", "Risto", "Arto", "Tero", "Jouko"),
            ("Tuula", "Pirjo", "Sirpa", "Marja", "Anneli", "Leena", "Päivi", "Riitta", "Satu",
             "Aino", "Helena", "Kaarina", "Liisa", "Eija", "Merja", "Tarja", "Raija", "Seija",
             "Arja", "Hannele", "Terttu", "Marjatta", "Ritva", "Aila", "Sinikka"),
            (1930, 1950, 1980), two_given=0.3, swedish_children=0.75),
    _Origin("east-asian", 0.8,
            ("Nguyen", "Tran", "Le", "Pham", "Hoang", "Vu", "Dang", "Bui", "Do", "Ngo",
             "Wang", "Li", "Zhang", "Chen", "Liu", "Yang", "Huang", "Zhao", "Wu", "Zhou",
             "Kim", "Lee", "Park", "Choi", "Tanaka", "Suzuki", "Santos", "Reyes", "Cruz"),
            ("Minh", "Thanh", "Duc", "Hung", "Tuan", "Long", "Quang", "Wei", "Jun", "Hao",
             "Lei", "Jian", "Min-jun", "Ji-ho", "Hiroshi", "Kenji", "Jose", "Mark"),
            ("Linh", "Mai", "Lan", "Hoa", "Huong", "Thuy", "Ngoc", "Xin", "Mei", "Li", "Yan",
             "Jing", "Ying", "Ji-woo", "Seo-yeon", "Yuki", "Aiko", "Maricel", "Siriporn",
             "Nok", "Pim"),
            (1950, 1978, 2003)),
    _Origin("latin", 0.6,
            ("Rodríguez", "Silva", "González", "Hernández", "Fernández", "Santos", "Pérez",
             "López", "García", "Martínez", "Rojas", "Muñoz", "Sánchez", "Ramírez", "Torres",
             "Flores", "Díaz", "Vargas", "Castro", "Morales", "Gómez", "Herrera", "Contreras",
             "Araya", "Oliveira", "Souza", "Pereira", "Costa", "Ferreira"),
            ("Carlos", "José", "Juan", "Luis", "Diego", "Miguel", "Jorge", "Pablo", "Andrés",
             "Felipe", "Sebastián", "Cristián", "Ricardo", "Manuel", "Francisco", "Matías",
             "Rodrigo", "João", "Pedro"),
            ("María", "Carmen", "Ana", "Sofía", "Valentina", "Camila", "Gabriela", "Isabel",
             "Paula", "Daniela", "Francisca", "Javiera", "Claudia", "Patricia", "Verónica",
             "Lucía", "Fernanda", "Juliana"),
            (1945, 1972, 2003), two_given=0.45, double_surname=0.5),
    _Origin("horn", 0.5,
            ("Tesfaye", "Gebremedhin", "Haile", "Tekle", "Berhane", "Kidane", "Woldemichael",
             "Abraha", "Tesfamariam", "Gebreyesus", "Mehari", "Ghebremichael", "Negash",
             "Yohannes", "Asfaw", "Girma", "Bekele", "Alemu", "Tadesse", "Desta"),
            ("Yonas", "Daniel", "Samuel", "Dawit", "Mehari", "Filmon", "Robel", "Yohannes",
             "Biniam", "Henok", "Amanuel", "Semere", "Tesfay", "Natnael", "Abel"),
            ("Selam", "Helen", "Saba", "Mahlet", "Ruth", "Hanna", "Senait", "Winta", "Feven",
             "Lidya", "Meron", "Tsega", "Eden", "Rahel", "Bethlehem"),
            (1955, 1988, 2004), big_families=True),
    _Origin("south-asian", 0.4,
            ("Singh", "Kumar", "Patel", "Sharma", "Khan", "Hussain", "Shah", "Gupta", "Reddy",
             "Rao", "Iqbal", "Butt", "Malik", "Chaudhry", "Das", "Perera", "Fernando",
             "Jayasinghe"),
            ("Rahul", "Amit", "Arjun", "Vikram", "Raj", "Imran", "Ravi", "Sanjay", "Harpreet",
             "Gurpreet", "Mohammad", "Asif", "Bilal", "Karthik", "Suresh", "Rohit"),
            ("Priya", "Anjali", "Neha", "Pooja", "Aisha", "Sunita", "Kavita", "Fatima", "Sana",
             "Ayesha", "Divya", "Deepa", "Simran", "Lakshmi"),
            (1955, 1984, 2003)),
    _Origin("west-european", 0.6,
            ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
             "Hansen", "Jensen", "Nielsen", "Pedersen", "Olsen", "Larsen", "Johansen",
             "Andersen", "Kristiansen", "Smith", "Brown", "Jones", "Williams", "Taylor",
             "Wilson", "de Jong", "Jansen", "Bakker", "Visser", "Dubois", "Martin", "Bernard",
             "Rossi", "Russo", "Bianchi", "Romano"),
            ("Thomas", "Michael", "Stefan", "Andreas", "Jens", "Lars", "Søren", "Mads", "Ole",
             "John", "David", "James", "Mark", "Peter", "Jan", "Pieter", "Pierre", "Luca",
             "Marco", "Giuseppe", "Matthias", "Jürgen", "Klaus"),
            ("Anne", "Susanne", "Mette", "Lene", "Kirsten", "Sarah", "Emma", "Claire", "Julia",
             "Katharina", "Sabine", "Anja", "Ingrid", "Marie", "Giulia", "Francesca",
             "Chiara", "Eline", "Sanne", "Hanne"),
            (1940, 1970, 2000), two_given=0.35, swedish_children=0.6),
)
_ORIGIN_BY_CODE = {origin.code: origin for origin in ORIGINS}
SWEDISH = "swedish"

# ---------------------------------------------------------------------------------------
# Places
# ---------------------------------------------------------------------------------------

#: Postal towns: (name, relative size, landline area code, 3-digit postal prefixes).
#: Sizes follow the municipalities' populations; "Stockholm" stands for the capital and
#: the suburbs that share its postal town, so it holds about a quarter of the mix.
TOWNS: tuple[tuple[str, float, str, tuple[str, ...]], ...] = (
    ("Stockholm", 235, "08", ("111", "112", "113", "114", "115", "116", "117", "118", "120",
                              "121", "122", "123", "124", "125", "126", "127", "128", "129")),
    ("Göteborg", 62, "031", ("411", "412", "413", "414", "415", "416", "417", "418", "424",
                             "426")),
    ("Malmö", 36, "040", ("211", "212", "213", "214", "215", "216", "217")),
    ("Uppsala", 24, "018", ("752", "753", "754", "755", "756", "757")),
    ("Linköping", 16, "013", ("582", "583", "584", "585", "586", "587", "589")),
    ("Västerås", 15.5, "021", ("721", "722", "723", "724", "725")),
    ("Örebro", 15.5, "019", ("702", "703")),
    ("Helsingborg", 14.5, "042", ("252", "253", "254", "256")),
    ("Jönköping", 14, "036", ("553", "554", "555", "556")),
    ("Norrköping", 14, "011", ("602", "603")),
    ("Umeå", 13, "090", ("903", "904", "905", "906", "907")),
    ("Lund", 12.5, "046", ("222", "223", "224", "225", "226", "227")),
    ("Borås", 11, "033", ("503", "504", "506", "507")),
    ("Huddinge", 10, "08", ("141",)),
    ("Eskilstuna", 10.5, "016", ("632", "633", "635")),
    ("Gävle", 10, "026", ("802", "803", "804", "805", "806")),
    ("Halmstad", 10, "035", ("302", "303")),
    ("Södertälje", 9.8, "08", ("151", "152")),
    ("Sundsvall", 9.6, "060", ("852", "853", "854", "856")),
    ("Karlstad", 9.5, "054", ("652", "653", "654", "655", "656")),
    ("Växjö", 9.5, "0470", ("352", "353", "355")),
    ("Nacka", 8.5, "08", ("131",)),
    ("Kristianstad", 8.5, "044", ("291",)),
    ("Solna", 8.3, "08", ("169", "170", "171")),
    ("Kungsbacka", 8.2, "0300", ("434",)),
    ("Luleå", 7.9, "0920", ("972", "973", "974", "975")),
    ("Sollentuna", 7.4, "08", ("191", "192")),
    ("Täby", 7.2, "08", ("183", "187")),
    ("Järfälla", 7.0, "08", ("175", "176", "177")),
    ("Skellefteå", 7.5, "0910", ("931",)),
    ("Mölndal", 7.0, "031", ("431",)),
    ("Kalmar", 7.0, "0480", ("392", "393")),
    ("Varberg", 6.7, "0340", ("432",)),
    ("Karlskrona", 6.6, "0455", ("371",)),
    ("Östersund", 6.5, "063", ("831",)),
    ("Visby", 6.1, "0498", ("621",)),
    ("Trollhättan", 5.9, "0520", ("461",)),
    ("Falun", 5.9, "023", ("791",)),
    ("Nyköping", 5.8, "0155", ("611",)),
    ("Skövde", 5.7, "0500", ("541",)),
    ("Uddevalla", 5.7, "0522", ("451",)),
    ("Örnsköldsvik", 5.6, "0660", ("891",)),
    ("Tumba", 5.0, "08", ("147",)),
    ("Borlänge", 5.3, "0243", ("781",)),
    ("Norrtälje", 4.2, "0176", ("761",)),
    ("Märsta", 4.0, "08", ("195",)),
    ("Upplands Väsby", 4.0, "08", ("194",)),
    ("Handen", 4.0, "08", ("136",)),
    ("Tyresö", 3.9, "08", ("135",)),
    ("Åkersberga", 3.7, "08", ("184",)),
    ("Lidingö", 4.6, "08", ("181",)),
    ("Kungälv", 4.8, "0303", ("442",)),
    ("Falkenberg", 4.7, "0346", ("311",)),
    ("Enköping", 4.7, "0171", ("745",)),
    ("Trelleborg", 4.6, "0410", ("231",)),
    ("Landskrona", 4.6, "0418", ("261",)),
    ("Hässleholm", 5.3, "0451", ("281",)),
    ("Motala", 4.4, "0141", ("591",)),
    ("Ängelholm", 4.3, "0431", ("262",)),
    ("Lerum", 4.3, "0302", ("443",)),
    ("Alingsås", 4.2, "0322", ("441",)),
    ("Piteå", 4.2, "0911", ("941",)),
    ("Partille", 4.0, "031", ("433",)),
    ("Vänersborg", 4.0, "0521", ("462",)),
    ("Lidköping", 4.0, "0510", ("531",)),
    ("Sandviken", 3.9, "026", ("811",)),
    ("Strängnäs", 3.7, "0152", ("645",)),
    ("Hudiksvall", 3.7, "0650", ("824",)),
    ("Västervik", 3.6, "0490", ("593",)),
    ("Katrineholm", 3.5, "0150", ("641",)),
    ("Eslöv", 3.4, "0413", ("241",)),
    ("Värnamo", 3.4, "0370", ("331",)),
    ("Nässjö", 3.1, "0380", ("571",)),
    ("Falköping", 3.3, "0515", ("521",)),
    ("Ystad", 3.1, "0411", ("271",)),
    ("Karlskoga", 3.0, "0586", ("691",)),
    ("Boden", 2.8, "0921", ("961",)),
    ("Mjölby", 2.8, "0142", ("595",)),
    ("Ljungby", 2.8, "0372", ("341",)),
    ("Oskarshamn", 2.7, "0491", ("572",)),
    ("Gislaved", 2.9, "0371", ("332",)),
    ("Bollnäs", 2.6, "0278", ("821",)),
    ("Arvika", 2.6, "0570", ("671",)),
    ("Köping", 2.6, "0221", ("731",)),
    ("Ludvika", 2.6, "0240", ("771",)),
    ("Söderhamn", 2.5, "0270", ("826",)),
    ("Vetlanda", 2.7, "0383", ("574",)),
    ("Härnösand", 2.5, "0611", ("871",)),
    ("Mariestad", 2.4, "0501", ("542",)),
    ("Kristinehamn", 2.4, "0550", ("681",)),
    ("Avesta", 2.3, "0226", ("774",)),
    ("Sala", 2.3, "0224", ("733",)),
    ("Lindesberg", 2.3, "0581", ("711",)),
    ("Höganäs", 2.6, "042", ("263",)),
    ("Ulricehamn", 2.4, "0321", ("523",)),
    ("Stenungsund", 2.7, "0303", ("444",)),
    ("Kiruna", 2.2, "0980", ("981",)),
    ("Kumla", 2.2, "019", ("692",)),
    ("Laholm", 2.6, "0430", ("312",)),
    ("Mora", 2.0, "0250", ("792",)),
    ("Tranås", 1.9, "0140", ("573",)),
    ("Simrishamn", 1.9, "0414", ("272",)),
    ("Skara", 1.9, "0511", ("532",)),
    ("Sollefteå", 1.9, "0620", ("881",)),
    ("Kramfors", 1.8, "0612", ("872",)),
    ("Älmhult", 1.8, "0476", ("343",)),
    ("Sölvesborg", 1.7, "0456", ("294",)),
    ("Gällivare", 1.7, "0970", ("982",)),
    ("Eksjö", 1.7, "0381", ("575",)),
    ("Höör", 1.7, "0413", ("243",)),
    ("Vimmerby", 1.6, "0492", ("598",)),
    ("Båstad", 1.5, "0431", ("269",)),
    ("Säffle", 1.5, "0533", ("661",)),
    ("Fagersta", 1.3, "0223", ("737",)),
    ("Tidaholm", 1.3, "0502", ("522",)),
    ("Sunne", 1.3, "0565", ("686",)),
    ("Lycksele", 1.2, "0950", ("921",)),
    ("Åmål", 1.2, "0532", ("662",)),
    ("Haparanda", 1.0, "0922", ("953",)),
    ("Hjo", 0.9, "0503", ("544",)),
    ("Töreboda", 0.9, "0506", ("545",)),
    ("Åre", 0.7, "0647", ("837",)),
    ("Vaxholm", 1.2, "08", ("185",)),
    ("Jokkmokk", 0.5, "0971", ("962",)),
    ("Arjeplog", 0.3, "0961", ("930",)),
)
#: Street names found in most Swedish towns.
COMMON_STREETS = (
    "Storgatan", "Kyrkogatan", "Drottninggatan", "Kungsgatan", "Skolgatan", "Parkvägen",
    "Björkvägen", "Industrigatan", "Järnvägsgatan", "Stationsgatan", "Nygatan", "Ringvägen",
    "Strandvägen", "Tallvägen", "Granvägen", "Lärkvägen", "Ekvägen", "Villavägen",
    "Torggatan", "Hantverkargatan", "Sjögatan", "Trädgårdsgatan", "Södra vägen",
    "Norra vägen", "Bäckvägen", "Ängsvägen", "Backvägen", "Solvägen", "Allégatan",
    "Fabriksgatan", "Skogsvägen", "Lindvägen", "Rönnvägen", "Kvarngatan", "Prästgårdsvägen",
    "Idrottsvägen", "Hamngatan", "Klostergatan", "Åsvägen", "Björkgatan", "Vasagatan",
    "Nyponvägen", "Östra Storgatan", "Västra Storgatan", "Smedjegatan", "Södergatan",
    "Norrgatan", "Västergatan", "Östergatan", "Kopparvägen", "Mejerivägen", "Bergsgatan",
    "Furuvägen", "Syrenvägen", "Körsbärsvägen", "Vallgatan", "Långgatan", "Apelvägen",
    "Gamla vägen", "Mossvägen", "Lingonvägen", "Blåbärsvägen", "Hagagatan", "Sandgatan",
    "Tullgatan", "Slottsgatan", "Rådhusgatan", "Esplanaden", "Tegelbruksvägen", "Ekgatan",
    "Postgatan", "Bangårdsgatan", "Lasarettsvägen", "Källgatan", "Västra vägen",
)
TOWN_STREETS: dict[str, tuple[str, ...]] = {
    "Stockholm": ("Sveavägen", "Götgatan", "Hornsgatan", "Odengatan", "Birger Jarlsgatan",
                  "Fleminggatan", "Sankt Eriksgatan", "Folkungagatan", "Karlavägen",
                  "Valhallavägen", "Hälsingegatan", "Tegnérgatan", "Ringvägen"),
    "Göteborg": ("Linnégatan", "Övre Husargatan", "Första Långgatan", "Kungsportsavenyen",
                 "Karl Johansgatan", "Mölndalsvägen", "Vasagatan", "Prinsgatan"),
    "Malmö": ("Södra Förstadsgatan", "Amiralsgatan", "Regementsgatan", "Lundavägen",
              "Kapellgatan", "Bergsgatan"),
    "Uppsala": ("Svartbäcksgatan", "Sysslomansgatan", "Luthagsesplanaden", "Kungsgatan"),
}
MOBILE_PREFIXES = ("070", "072", "073", "076", "079")
MAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com")

# ---------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------

_FOLD = str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ł": "l", "Ł": "L",
                       "ß": "ss", "đ": "d", "Đ": "D", "ı": "i"})


def fold(text: str) -> str:
    """``text`` without diacritics, as a keyboard without å, ä, ö gives it (Åström → Astrom)."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _has_diacritics(*texts: str) -> bool:
    return any(not text.isascii() for text in texts)


class _Weighted:
    """Items drawn with fixed relative weights: one bisect per draw."""

    __slots__ = ("items", "cumulative", "total")

    def __init__(self, pairs: Sequence[tuple[Any, float]]) -> None:
        self.items = [item for item, _ in pairs]
        self.cumulative: list[float] = []
        running = 0.0
        for _, weight in pairs:
            running += weight
            self.cumulative.append(running)
        self.total = running

    def pick(self, rng: Random) -> Any:
        index = bisect.bisect_right(self.cumulative, rng.random() * self.total)
        return self.items[min(index, len(self.items) - 1)]


def _zipf(items: Sequence[Any], exponent: float, offset: float = 1.0) -> _Weighted:
    return _Weighted([(item, 1 / (rank + offset) ** exponent) for rank, item in enumerate(items)])


def _years(birth: date, at: date = REFERENCE_DATE) -> float:
    return (at - birth).days / 365.2425


def _birth_for_age(rng: Random, age: float) -> date:
    born = LAST_BIRTH - timedelta(days=int(age * 365.2425) + rng.randrange(0, 365))
    return max(born, FIRST_BIRTH)


def _era(year: int) -> Era:
    eras = sorted(HYPHEN_SHARE)
    return eras[max(0, bisect.bisect_right(eras, year) - 1)]


def _apportion(total: int, weights: dict[str, float]) -> dict[str, int]:
    """``total`` split in proportion to ``weights`` (largest remainders, stable order)."""
    whole = sum(weights.values())
    exact = {kind: total * weight / whole for kind, weight in weights.items()}
    counts = {kind: int(value) for kind, value in exact.items()}
    order = sorted(weights, key=lambda kind: (-(exact[kind] - counts[kind]),
                                              list(weights).index(kind)))
    for kind in order[: total - sum(counts.values())]:
        counts[kind] += 1
    return counts


_KEYBOARD = ("qwertyuiopå", "asdfghjklöä", "zxcvbnm")


def _neighbours() -> dict[str, str]:
    """Keys next to each letter on a Swedish keyboard (same row and the rows around)."""
    found: dict[str, str] = {}
    for row_index, row in enumerate(_KEYBOARD):
        for col, char in enumerate(row):
            near = [row[i] for i in (col - 1, col + 1) if 0 <= i < len(row)]
            for other in (row_index - 1, row_index + 1):
                if 0 <= other < len(_KEYBOARD):
                    near += [_KEYBOARD[other][i] for i in (col - 1, col, col + 1)
                             if 0 <= i < len(_KEYBOARD[other])]
            found[char] = "".join(near)
    return found


_NEAR_KEYS = _neighbours()


def _typo(rng: Random, word: str) -> str:
    """One keying mistake: a neighbouring key, a lost, doubled or swapped letter."""
    if len(word) < 3:
        return word + rng.choice("aeiln")
    for _ in range(20):
        # Clerks rarely miss the first letter: it is seen while typing the rest.
        position = rng.randrange(1, len(word)) if rng.random() < 0.9 else 0
        char = word[position]
        operation = rng.choice(("substitute", "delete", "insert", "transpose"))
        if operation == "substitute":
            near = _NEAR_KEYS.get(char.lower())
            if not near:
                continue
            new = rng.choice(near)
            result = word[:position] + (new.upper() if char.isupper() else new) + \
                word[position + 1:]
        elif operation == "delete":
            result = word[:position] + word[position + 1:]
        elif operation == "insert":
            extra = rng.choice((char.lower(), rng.choice(_NEAR_KEYS.get(char.lower(), "e"))))
            result = word[: position + 1] + extra + word[position + 1:]
        else:
            if position + 1 >= len(word) or word[position] == word[position + 1]:
                continue
            result = word[:position] + word[position + 1] + word[position] + \
                word[position + 2:]
        if result != word and len(result) >= 2 and result[0] not in " -":
            return result[0].upper() + result[1:] if word[0].isupper() else result
    return word[:-1] if len(word) > 3 else word + "e"


# ---------------------------------------------------------------------------------------
# The model: towns, homes, persons, households
# ---------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Street:
    name: str
    postal_code: str
    houses: int


@dataclass(eq=False)
class _Town:
    name: str
    size: float
    area_code: str
    streets: _Weighted
    flat_share: float


@dataclass(eq=False)
class _Home:
    town: _Town
    street: _Street
    number: str
    flat: int | None
    landline: str | None = None

    @property
    def line(self) -> str:
        flat = f" lgh {self.flat}" if self.flat else ""
        return f"{self.street.name} {self.number}{flat}"


@dataclass(eq=False)
class _Person:
    given: list[str]
    family: str
    sex: str
    birth: date
    origin: str
    home: _Home
    mobile: str | None = None
    email: str | None = None
    identifier: tuple[str, str] | None = None
    pid: str | None = None  # the stored id; None for a person who is not stored
    partner: _Person | None = None

    @property
    def age(self) -> float:
        return _years(self.birth)


@dataclass(eq=False)
class _Household:
    members: list[_Person]
    twins: list[tuple[_Person, _Person]] = field(default_factory=list)
    juniors: list[tuple[_Person, _Person]] = field(default_factory=list)  # (junior, senior)
    children: list[_Person] = field(default_factory=list)  # in birth order


@dataclass(eq=False)
class _HeldOut:
    kind: str
    person: _Person
    relative: _Person


class _Tables:
    """Name and place tables of one seed (their own random stream)."""

    def __init__(self, rng: Random) -> None:
        se_share = 100 - sum(origin.share for origin in ORIGINS)
        top_total = sum(share for _, share in TOP_SURNAMES)
        tail_total = se_share - top_total
        composed = self._composed_surnames(rng)
        tail: list[tuple[str, float]] = []
        for names, part in ((composed, 0.86), (RARE_SON_NAMES, 0.05),
                            (SOLDIER_NAMES, 0.05), (LEARNED_NAMES, 0.04)):
            weights = [rng.uniform(0.5, 1.5) for _ in names]
            scale = tail_total * part / sum(weights)
            tail += [(name, weight * scale) for name, weight in zip(names, weights, strict=True)]
        self.swedish_surnames = _Weighted([*TOP_SURNAMES, *tail])
        self.foreign_surnames = {origin.code: _zipf(origin.surnames, 0.5, 1.5)
                                 for origin in ORIGINS}
        self.origins = _Weighted([(SWEDISH, se_share),
                                  *((origin.code, origin.share) for origin in ORIGINS)])
        self.first_given = {
            sex: {era: _zipf(names, 0.55, 1.5) for era, names in by_era.items()}
            for sex, by_era in GIVEN_BY_ERA.items()
        }
        self.any_given: dict[str, _Weighted] = {}
        for sex, by_era in GIVEN_BY_ERA.items():
            pool: list[str] = []
            for group in (*by_era.values(), EXTRA_GIVEN[sex]):
                pool += [name for name in group if name not in pool]
            self.any_given[sex] = _Weighted([(name, 1.0) for name in pool])
        self.middle = {sex: _zipf(names, 0.6) for sex, names in MIDDLE_NAMES.items()}
        self.hyphenated = {sex: _zipf(names, 0.6) for sex, names in HYPHENATED_GIVEN.items()}
        self.foreign_given = {
            (origin.code, sex): _zipf(names, 0.5, 1.5)
            for origin in ORIGINS for sex, names in (("male", origin.male),
                                                     ("female", origin.female))
        }
        self.towns = [self._town(rng, *row) for row in TOWNS]
        self.town_by_name = {town.name: town for town in self.towns}
        self.swedish_towns = _Weighted([(town, town.size) for town in self.towns])
        # Immigrants live more often in the big towns and their suburbs.
        self.immigrant_towns = _Weighted([
            (town, town.size * (1.8 if town.size >= 7 or town.area_code == "08" else 0.8))
            for town in self.towns])

    @staticmethod
    def _composed_surnames(rng: Random) -> list[str]:
        taken = {name for name, _ in TOP_SURNAMES} | set(SOLDIER_NAMES) | \
            set(LEARNED_NAMES) | set(RARE_SON_NAMES)
        names: list[str] = []
        for first in _FIRST_PARTS:
            for ending in _ENDINGS:
                if first.lower().startswith(ending) or ending.startswith(first.lower()):
                    continue
                name = first + ending
                while any(name[i] == name[i + 1] == name[i + 2] for i in range(len(name) - 2)):
                    name = next(name[:i] + name[i + 1:] for i in range(len(name) - 2)
                                if name[i] == name[i + 1] == name[i + 2])
                if name not in taken:
                    taken.add(name)
                    names.append(name)
        rng.shuffle(names)
        return names

    @staticmethod
    def _town(rng: Random, name: str, size: float, area_code: str,
              prefixes: tuple[str, ...]) -> _Town:
        share = size / sum(row[1] for row in TOWNS)
        count = 6 + round(share ** 0.5 * 120)
        own = TOWN_STREETS.get(name, ())
        common = [street for street in COMMON_STREETS if street not in own]
        chosen = [*own, *rng.sample(common, min(len(common), max(0, count - len(own))))]
        streets = [
            _Street(street, f"{rng.choice(prefixes)}{rng.randrange(30, 100):02d}",
                    rng.randrange(8, 140))
            for street in chosen
        ]
        flat_share = 0.75 if share > 0.05 else 0.55 if share > 0.02 else 0.35
        return _Town(name, size, area_code, _zipf(streets, 0.5, 2), flat_share)


class _Numbers:
    """Identity numbers handed out once each: birth numbers 980–999 per date and sex, and
    the running numbers of the reserve kinds."""

    _BY_SEX = {"male": tuple(n for n in BIRTH_NUMBERS if n % 2 == 1),
               "female": tuple(n for n in BIRTH_NUMBERS if n % 2 == 0)}
    _STEPS = (0, *(step for distance in range(1, 8) for step in (distance, -distance)))

    def __init__(self) -> None:
        self.free: dict[tuple[int, date, str], list[int]] = {}
        self.running: dict[tuple[str, date, str], int] = {}
        self.mobiles: set[str] = set()
        self.landlines: set[str] = set()
        self.emails: set[str] = set()

    def civic(self, rng: Random, birth: date, sex: str, day_offset: int) -> str | None:
        """A personnummer (day_offset 0) or samordningsnummer (60) for a person born on
        ``birth``: that date's number, or a nearby date's when the date's ten numbers of
        the sex are used up or, now and then, anyway (domain.md §2.1)."""
        steps: tuple[int, ...] = self._STEPS
        if rng.random() < 0.003:
            steps = (rng.choice((1, -1, 2, -2, 3)), *steps)
        for step in steps:
            day = birth + timedelta(days=step) if step else birth
            if day > LAST_BIRTH:
                continue
            key = (day_offset, day, sex)
            pool = self.free.get(key)
            if pool is None:
                pool = self.free[key] = list(self._BY_SEX[sex])
            if pool:
                number = pool.pop(rng.randrange(len(pool)))
                # Luhn over YYMMDDNNN, the century left out (domain.md §2.1).
                body = f"{day.month:02d}{day.day + day_offset:02d}{number:03d}"
                check = luhn.check_digit([int(c) for c in f"{day.year % 100:02d}{body}"])
                return f"{day.year:04d}{body}{check}"
        return None

    def reserve(self, kind: str, birth: date, sex: str) -> str | None:
        key = (kind, birth, sex)
        running = self.running.get(key, 0)
        self.running[key] = running + 1
        sex_literal: Any = sex
        if kind == "nrid":
            if running >= nrid.capacity(True, True):
                return None
            return nrid.generate(birth, sex_literal, running)
        if running >= lrid_vgr.capacity(True):
            return None
        return lrid_vgr.generate(birth, sex_literal, running)

    def mobile(self, rng: Random) -> str:
        while True:
            digits = f"{rng.randrange(10 ** 7):07d}"
            number = f"{rng.choice(MOBILE_PREFIXES)}-{digits[:3]} {digits[3:5]} {digits[5:]}"
            if number not in self.mobiles:
                self.mobiles.add(number)
                return number

    def landline(self, rng: Random, area_code: str) -> str:
        length = {2: 8, 3: 7, 4: 6}[len(area_code)]
        while True:
            digits = str(rng.randrange(2, 10)) + \
                f"{rng.randrange(10 ** (length - 1)):0{length - 1}d}"
            if length == 8:
                grouped = f"{digits[:3]} {digits[3:6]} {digits[6:]}"
            elif length == 7:
                grouped = f"{digits[:3]} {digits[3:5]} {digits[5:]}"
            else:
                grouped = f"{digits[:2]} {digits[2:4]} {digits[4:]}"
            number = f"{area_code}-{grouped}"
            if number not in self.landlines:
                self.landlines.add(number)
                return number

    def email(self, rng: Random, given: str, family: str, birth: date) -> str:
        first = fold(given).lower().replace(" ", "").replace("-", "")
        last = fold(family).lower().replace(" ", "").replace("-", "")
        style = rng.random()
        if style < 0.45:
            local = f"{first}.{last}"
        elif style < 0.7:
            local = f"{first}{last}{birth:%y}"
        elif style < 0.85:
            local = f"{first[0]}.{last}"
        else:
            local = f"{first}{rng.randrange(1, 100)}"
        domain = rng.choice(MAIL_DOMAINS)
        address, n = f"{local}@{domain}", 1
        while address in self.emails:
            n += 1
            address = f"{local}{n}@{domain}"
        self.emails.add(address)
        return address


#: Household kinds by the reference person's age: (single, couple, family, single parent,
#: three generations, students sharing); weights roughly as SCB's household statistics.
_HOUSEHOLD_KINDS = ("single", "couple", "family", "single-parent", "three-generations",
                    "shared")
_KINDS_BY_AGE: tuple[tuple[int, tuple[float, ...]], ...] = (
    (25, (55, 24, 10, 3, 0, 8)),
    (35, (30, 22, 40, 7, 1, 0)),
    (50, (20, 9, 54, 14, 3, 0)),
    (58, (28, 30, 32, 7, 3, 0)),
    (65, (34, 53, 8, 2, 3, 0)),
    (80, (38, 60, 1, 0, 1, 0)),
    (200, (66, 34, 0, 0, 0, 0)),
)
#: Age of a household's reference person: (youngest, oldest, weight).
_HEAD_AGES = ((18, 24, 9), (25, 29, 8.5), (30, 34, 8), (35, 39, 8), (40, 44, 8),
              (45, 49, 8), (50, 54, 7.5), (55, 59, 7), (60, 64, 6.5), (65, 69, 6.5),
              (70, 74, 6.5), (75, 79, 6), (80, 84, 4.5), (85, 89, 2.8), (90, 94, 1.2),
              (95, 99, 0.35), (100, 105, 0.04))
#: Years between siblings (born about one to ten years apart, two or three most often).
_GAP_YEARS = _Weighted([(1, 8), (2, 30), (3, 27), (4, 15), (5, 9), (6, 5), (7, 3), (8, 2),
                        (10, 1)])
_CHILD_COUNT = _Weighted([(1, 38), (2, 42), (3, 15), (4, 4), (5, 1)])
_CHILD_COUNT_BIG = _Weighted([(1, 22), (2, 30), (3, 25), (4, 15), (5, 8)])
#: Held-out rates, per household that has such a pair (population stream).
_HOLD_TWIN, _HOLD_JUNIOR, _HOLD_SIBLING, _HOLD_RELATIVE = 0.6, 0.7, 0.15, 0.05
#: Siblings born 300–1220 days apart count as close in age (about one to three years).
CLOSE_SIBLING_DAYS = (300, 1220)
JUNIOR_YEARS = (20, 40)


class _Population:
    """Makes persons and households. ``household`` and ``hold_out`` draw from the
    stream the instance was made with (the population stream); the other methods draw
    from the stream they are given, so the clerk can make new persons from its own."""

    def __init__(self, tables: _Tables, rng: Random, numbers: _Numbers) -> None:
        self.tables = tables
        self.rng = rng
        self.numbers = numbers
        self.head_ages = _Weighted([((low, high), weight) for low, high, weight in _HEAD_AGES])
        self.kind_tables = [(limit, _Weighted(list(zip(_HOUSEHOLD_KINDS, weights,
                                                       strict=True))))
                            for limit, weights in _KINDS_BY_AGE]

    # -- names ------------------------------------------------------------------------

    def surname(self, rng: Random, origin: str) -> str:
        if origin == SWEDISH:
            name: str = self.tables.swedish_surnames.pick(rng)
            if rng.random() < 0.008:  # a double surname taken at some point in life
                other = self.tables.swedish_surnames.pick(rng)
                if other != name:
                    name = f"{name} {other}" if rng.random() < 0.6 else f"{name}-{other}"
            return name
        name = self.tables.foreign_surnames[origin].pick(rng)
        spec = _ORIGIN_BY_CODE[origin]
        if spec.double_surname and rng.random() < spec.double_surname:
            other = self.tables.foreign_surnames[origin].pick(rng)
            if other != name:
                name = f"{name} {other}"
        return name

    def given_names(self, rng: Random, sex: str, birth: date, origin: str,
                    swedish_style: bool, avoid: Sequence[str] = ()) -> list[str]:
        for _ in range(30):
            names = (self._swedish_given(rng, sex, birth.year) if swedish_style
                     else self._foreign_given(rng, sex, origin))
            if names[0] not in avoid:
                return names
        return names

    def _swedish_given(self, rng: Random, sex: str, year: int) -> list[str]:
        era = _era(year)
        hyphenated = rng.random() < HYPHEN_SHARE[era]
        if hyphenated:
            first: str = self.tables.hyphenated[sex].pick(rng)
        elif rng.random() < (0.62 if era < 1965 else 0.5):
            first = self.tables.first_given[sex][era].pick(rng)
        else:
            first = self.tables.any_given[sex].pick(rng)
        names = [first]
        if rng.random() < (TWO_GIVEN_SHARE * 0.6 if hyphenated else TWO_GIVEN_SHARE):
            for _ in range(5):
                second: str = (self.tables.middle[sex].pick(rng) if rng.random() < 0.55
                               else self.tables.first_given[sex][era].pick(rng))
                if second not in first.split("-"):
                    names.append(second)
                    break
        return names

    def _foreign_given(self, rng: Random, sex: str, origin: str) -> list[str]:
        pool = self.tables.foreign_given[(origin, sex)]
        first: str = pool.pick(rng)
        names = [first]
        spec = _ORIGIN_BY_CODE[origin]
        if rng.random() < spec.two_given:
            second: str = pool.pick(rng)
            if second != first:
                names.append(second)
        return names

    # -- places -----------------------------------------------------------------------

    def home(self, rng: Random, origin: str, town: _Town | None = None,
             avoid_street: _Street | None = None) -> _Home:
        if town is None:
            town = (self.tables.swedish_towns if origin == SWEDISH
                    else self.tables.immigrant_towns).pick(rng)
        street: _Street = town.streets.pick(rng)
        while street is avoid_street and len(town.streets.items) > 1:
            street = town.streets.pick(rng)
        number = str(rng.randint(1, street.houses))
        if rng.random() < 0.08:
            number += rng.choice("ABC")
        flat = None
        if rng.random() < town.flat_share:
            flat = (10 + rng.randrange(0, 8 if town.size > 20 else 4)) * 100 + \
                rng.randint(1, 6)
        return _Home(town, street, number, flat)

    # -- persons ----------------------------------------------------------------------

    def person(self, rng: Random, sex: str, birth: date, origin: str, home: _Home,
               *, family: str | None = None, swedish_style: bool | None = None,
               avoid: Sequence[str] = ()) -> _Person:
        if swedish_style is None:
            swedish_style = origin == SWEDISH
        given = self.given_names(rng, sex, birth, origin, swedish_style, avoid)
        return _Person(given, family or self.surname(rng, origin), sex, birth, origin, home)

    def adult(self, rng: Random, origin: str, home: _Home, age: float,
              sex: str | None = None) -> _Person:
        if sex is None:
            sex = "female" if rng.random() < 0.5 else "male"
        return self.person(rng, sex, _birth_for_age(rng, age), origin, home)

    def head_age(self, rng: Random, origin: str) -> float:
        if origin == SWEDISH:
            low, high = self.head_ages.pick(rng)
            return rng.uniform(low, high + 1)
        earliest, mode, latest = _ORIGIN_BY_CODE[origin].born
        year = rng.triangular(earliest, latest, mode)
        return max(18.0, min(105.0, REFERENCE_DATE.year - year - rng.random()))

    # -- households -------------------------------------------------------------------

    def household(self) -> _Household:
        rng = self.rng
        origin: str = self.tables.origins.pick(rng)
        age = self.head_age(rng, origin)
        kinds = next(table for limit, table in self.kind_tables if age < limit)
        kind: str = kinds.pick(rng)
        if origin != SWEDISH and kind in ("single", "couple") and rng.random() < 0.25:
            kind = "family" if age < 60 else kind
        home = self.home(rng, origin)
        if kind == "single":
            sex = "female" if rng.random() < (0.65 if age >= 75 else 0.47) else "male"
            household = _Household([self.adult(rng, origin, home, age, sex)])
        elif kind == "shared":
            household = _Household([
                self.adult(rng, origin if i == 0 else self.tables.origins.pick(rng), home,
                           rng.uniform(19, 31))
                for i in range(rng.choice((2, 2, 3)))])
        elif kind == "single-parent":
            sex = "female" if rng.random() < 0.78 else "male"
            parent = self.adult(rng, origin, home, max(age, 20), sex)
            household = _Household([parent])
            self.add_children(rng, household, parent, None, origin)
        else:
            household = _Household(self.couple(rng, origin, home, age))
            if kind in ("family", "three-generations") and \
                    (kind == "family" or rng.random() < 0.5):
                man = next((p for p in household.members if p.sex == "male"), None)
                woman = next((p for p in household.members if p.sex == "female"), None)
                self.add_children(rng, household, woman or household.members[0], man,
                                  origin)
            if kind == "three-generations":
                self.add_elder(rng, household, origin)
        self.add_contacts(rng, household)
        self.add_identifiers(rng, household)
        return household

    def couple(self, rng: Random, origin: str, home: _Home, age: float) -> list[_Person]:
        head_sex = "female" if rng.random() < 0.5 else "male"
        same_sex = rng.random() < 0.02
        partner_sex = head_sex if same_sex else ("male" if head_sex == "female" else "female")
        difference = max(-10.0, min(15.0, rng.gauss(2.5, 3.5)))  # the man is older
        partner_age = age + (difference if partner_sex == "male" else -difference)
        if same_sex:
            partner_age = age + rng.uniform(-6, 6)
        partner_age = max(18.0, min(104.0, partner_age))
        partner_origin = origin
        if rng.random() < (0.2 if origin != SWEDISH else 0.04):
            partner_origin = SWEDISH if origin != SWEDISH else self.tables.origins.pick(rng)
        head = self.adult(rng, origin, home, age, head_sex)
        partner = self.adult(rng, partner_origin, home, partner_age, partner_sex)
        head.partner, partner.partner = partner, head
        choice = rng.random()
        if choice < 0.70:  # one shared surname, most often the man's
            keeper = head if same_sex else next(p for p in (head, partner)
                                                if p.sex == "male")
            if not same_sex and rng.random() < 0.15:
                keeper = partner if keeper is head else head
            head.family = partner.family = keeper.family
        elif choice < 0.73:  # a double surname: own name and the partner's
            taker = partner if partner.sex == "female" or same_sex else head
            other = head if taker is partner else partner
            if other.family not in taker.family:
                joiner = " " if rng.random() < 0.55 else "-"
                taker.family = f"{taker.family}{joiner}{other.family}" \
                    if rng.random() < 0.6 else f"{other.family}{joiner}{taker.family}"
        return [head, partner]

    def add_children(self, rng: Random, household: _Household, mother: _Person,
                     father: _Person | None, origin: str) -> None:
        spec = _ORIGIN_BY_CODE.get(origin)
        count: int = (_CHILD_COUNT_BIG if spec and spec.big_families else _CHILD_COUNT).pick(rng)
        first_at = max(18.5, min(43.0, rng.gauss(29.5, 4.5)))
        leaves_home_at = 18 + rng.choice((0, 0, 1, 1, 2, 2, 3, 4, 5, 7))
        births: list[date] = []
        born = mother.birth + timedelta(days=int(first_at * 365.2425) + rng.randrange(365))
        for _ in range(count):
            if born > LAST_BIRTH or _years(mother.birth, born) > 46:
                break
            births.append(born)
            gap: int = _GAP_YEARS.pick(rng)
            born = born + timedelta(days=max(300, gap * 365 + rng.randint(-120, 120)))
        births = [b for b in births if _years(b) < leaves_home_at]
        surname = self.child_surname(rng, mother, father)
        swedish_style = origin == SWEDISH or rng.random() < (
            spec.swedish_children if spec else 0.35)
        if any(p.origin != origin for p in household.members):
            swedish_style = swedish_style or rng.random() < 0.5
        taken = [name for p in household.members for name in p.given[:1]]
        for born in births:
            twins = rng.random() < 0.015
            sexes = ["female" if rng.random() < 0.487 else "male"]
            if twins:  # about a third of twin pairs are boy and girl
                sexes.append(sexes[0] if rng.random() < 2 / 3 else
                             ("male" if sexes[0] == "female" else "female"))
            event = []
            for sex in sexes:
                child = self.person(rng, sex, born, origin, mother.home, family=surname,
                                    swedish_style=swedish_style, avoid=taken)
                taken.append(child.given[0])
                event.append(child)
            if not twins:
                self.maybe_junior(rng, household, event[0], mother, father)
            household.members += event
            household.children += event
            if twins:
                household.twins.append((event[0], event[1]))

    def maybe_junior(self, rng: Random, household: _Household, child: _Person,
                     mother: _Person, father: _Person | None) -> None:
        """A son now and then gets his father's names (junior), a daughter more rarely."""
        parent = father if child.sex == "male" else mother
        if parent is None or parent.sex != child.sex or parent.family != child.family:
            return
        if rng.random() >= (0.04 if child.sex == "male" else 0.015):
            return
        if not JUNIOR_YEARS[0] <= _years(parent.birth, child.birth) <= JUNIOR_YEARS[1]:
            return
        if any(c.given[0] == parent.given[0] for c in household.children):
            return
        child.given = list(parent.given)
        household.juniors.append((child, parent))

    def child_surname(self, rng: Random, mother: _Person, father: _Person | None) -> str:
        if father is None or father.family == mother.family:
            return mother.family
        for one, other in ((mother, father), (father, mother)):
            if other.family in one.family and one.family != other.family:
                return other.family  # one parent took a double name: the plain one
        choice = rng.random()
        if choice < 0.55:
            return father.family
        if choice < 0.95:
            return mother.family
        return f"{mother.family}-{father.family}" if rng.random() < 0.5 \
            else f"{mother.family} {father.family}"

    def add_elder(self, rng: Random, household: _Household, origin: str) -> None:
        """An old parent of one partner moves in, most often sharing that partner's name."""
        adults = [p for p in household.members if p not in household.children]
        child = rng.choice(adults)
        elder_age = min(104.0, child.age + rng.uniform(22, 40))
        sex = "female" if rng.random() < 0.65 else "male"
        birth = _birth_for_age(rng, elder_age)
        family = child.family if rng.random() < 0.75 else None
        elder = self.person(rng, sex, birth, child.origin, child.home, family=family)
        if (family and sex == child.sex and rng.random() < 0.12
                and JUNIOR_YEARS[0] <= _years(birth, child.birth) <= JUNIOR_YEARS[1]
                and not any(p.given[0] == elder.given[0] for p in household.members)):
            child.given = list(elder.given)
            household.juniors.append((child, elder))
        household.members.append(elder)

    def add_contacts(self, rng: Random, household: _Household) -> None:
        oldest = max(p.age for p in household.members)
        landline_share = 0.6 if oldest >= 70 else 0.3 if oldest >= 50 else \
            0.12 if oldest >= 30 else 0.03
        home = household.members[0].home
        if rng.random() < landline_share:
            home.landline = self.numbers.landline(rng, home.town.area_code)
        for person in household.members:
            age = person.age
            mobile_share = 0.0 if age < 11 else 0.55 if age >= 85 else 0.8 if age >= 75 \
                else 0.93
            if rng.random() < mobile_share:
                person.mobile = self.numbers.mobile(rng)
            if 16 <= age <= 85 and rng.random() < (0.25 if age >= 75 else 0.5):
                person.email = self.numbers.email(rng, person.given[0], person.family,
                                                  person.birth)

    def add_identifiers(self, rng: Random, household: _Household) -> None:
        for person in household.members:
            person.identifier = self.identifier(rng, person)

    def identifier(self, rng: Random, person: _Person) -> tuple[str, str] | None:
        age = person.age
        if person.origin == SWEDISH:
            weights = (98.2, 0.4, 0.3, 0.3, 0.8)
        elif age >= 18:
            weights = (72.0, 18.0, 3.5, 3.5, 3.0)
        else:
            weights = (88.0, 7.0, 1.5, 1.5, 2.0)
        if age < 0.05:  # a newborn's personnummer takes a few days
            weights = (60.0, 0.0, 15.0, 15.0, 10.0)
        kind = rng.choices(("pnr", "snr", "nrid", "lrid", "none"), weights)[0]
        if kind in ("pnr", "snr"):
            value = self.numbers.civic(rng, person.birth, person.sex,
                                       0 if kind == "pnr" else 60)
            system = personnummer.SYSTEM if kind == "pnr" else samordningsnummer.SYSTEM
        elif kind in ("nrid", "lrid"):
            value = self.numbers.reserve(kind, person.birth, person.sex)
            system = nrid.SYSTEM if kind == "nrid" else lrid_vgr.SYSTEM
        else:
            return None
        return (system, value) if value else None

    # -- held-out persons -------------------------------------------------------------

    def hold_out(self, household: _Household) -> _HeldOut | None:
        """At most one member of the household who is not stored, with the stored
        relative that makes them hard to tell apart."""
        rng = self.rng
        if household.twins and rng.random() < _HOLD_TWIN:
            pair = rng.choice(household.twins)
            person, relative = pair if rng.random() < 0.5 else pair[::-1]
            return _HeldOut("twin", person, relative)
        if household.juniors and rng.random() < _HOLD_JUNIOR:
            pair = rng.choice(household.juniors)
            person, relative = pair if rng.random() < 0.5 else pair[::-1]
            return _HeldOut("parent-child-same-name", person, relative)
        twins = {id(p) for pair in household.twins for p in pair}
        juniors = {id(p) for pair in household.juniors for p in pair}
        children = [c for c in household.children if id(c) not in twins]
        close = [(a, b) for a, b in zip(children, children[1:], strict=False)
                 if CLOSE_SIBLING_DAYS[0] <= (b.birth - a.birth).days <= CLOSE_SIBLING_DAYS[1]
                 and a.family == b.family]
        if close and rng.random() < _HOLD_SIBLING:
            pair = rng.choice(close)
            person, relative = pair if rng.random() < 0.5 else pair[::-1]
            return _HeldOut("sibling-close-age", person, relative)
        related = [p for p in household.members
                   if id(p) not in twins and id(p) not in juniors
                   and any(o is not p and o.family == p.family for o in household.members)]
        if related and rng.random() < _HOLD_RELATIVE:
            person = rng.choice(related)
            relative = next(o for o in household.members
                            if o is not person and o.family == person.family)
            return _HeldOut("relative-same-household", person, relative)
        return None


def _populate(tables: _Tables, rng: Random, numbers: _Numbers,
              size: int) -> tuple[list[_Person], list[_HeldOut], list[_Household]]:
    """Households until ``size`` persons are stored; the held-out persons beside them."""
    population = _Population(tables, rng, numbers)
    stored: list[_Person] = []
    held_out: list[_HeldOut] = []
    households: list[_Household] = []
    width = max(6, len(str(size)))
    while len(stored) < size:
        household = population.household()
        out = population.hold_out(household)
        members = [p for p in household.members if out is None or p is not out.person]
        members = members[: size - len(stored)]
        for person in members:
            person.pid = f"p{len(stored) + 1:0{width}d}"
            stored.append(person)
        if out is not None and out.relative.pid is not None:
            held_out.append(out)
        households.append(household)
    return stored, held_out, households


# ---------------------------------------------------------------------------------------
# FHIR resources
# ---------------------------------------------------------------------------------------


@dataclass
class _Shown:
    """Which elements a resource carries (a clerk rarely types everything)."""

    gender: bool = True
    address: bool = True
    telecom: bool = True
    identifier: bool = True
    landline: bool = True


def _resource(person: _Person, pid: str | None = None,
              shown: _Shown | None = None) -> dict[str, Any]:
    """The FHIR Patient of ``person``: with ``pid`` as stored, else as a query."""
    shown = shown or _Shown()
    resource: dict[str, Any] = {"resourceType": "Patient"}
    if pid is not None:
        resource["id"] = pid
    if shown.identifier and person.identifier is not None:
        system, value = person.identifier
        resource["identifier"] = [{"system": system, "value": value}]
    resource["name"] = [{"family": person.family, "given": list(person.given)}]
    if shown.telecom:
        contacts = []
        if person.mobile:
            contacts.append({"system": "phone", "value": person.mobile, "use": "mobile"})
        if shown.landline and person.home.landline:
            contacts.append({"system": "phone", "value": person.home.landline, "use": "home"})
        if person.email:
            contacts.append({"system": "email", "value": person.email, "use": "home"})
        if contacts:
            resource["telecom"] = contacts
    if shown.gender:
        resource["gender"] = person.sex
    resource["birthDate"] = person.birth.isoformat()
    if shown.address:
        home = person.home
        resource["address"] = [{"line": [home.line], "postalCode": home.street.postal_code,
                                "city": home.town.name}]
    return resource


# ---------------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------------


class _Clerk:
    """Builds ``$match`` queries the way a registering clerk types them (query stream)."""

    def __init__(self, population: _Population, rng: Random, stored: list[_Person],
                 held_out: list[_HeldOut]) -> None:
        self.population = population
        self.rng = rng
        self.stored = stored
        self.held_out = held_out
        self.stored_keys = {self._key(p.family, p.given, p.birth) for p in stored}

    @staticmethod
    def _key(family: str, given: Sequence[str], birth: date) -> tuple[str, str, date]:
        return (fold(family).lower(), fold(" ".join(given)).lower(), birth)

    def is_stored_like(self, person: _Person) -> bool:
        """Whether a stored person has this person's names and birth date."""
        return self._key(person.family, person.given, person.birth) in self.stored_keys

    # -- member queries ---------------------------------------------------------------

    def eligible(self, kind: str) -> list[_Person]:
        stored = self.stored
        if kind == "diacritics-dropped":
            return [p for p in stored if _has_diacritics(p.family, *p.given)]
        if kind in ("given-order-swapped", "given-one-missing"):
            return [p for p in stored if len(p.given) == 2]
        if kind == "hyphen-space":
            return [p for p in stored
                    if any("-" in g for g in p.given) or "-" in p.family or " " in p.family]
        if kind == "nickname":
            return [p for p in stored if p.given[0] in NICKNAMES]
        if kind == "day-month-transposed":
            return [p for p in stored if p.birth.day <= 12 and p.birth.day != p.birth.month]
        if kind in ("married-name", "married-and-moved"):
            return [p for p in stored if 18 <= p.age <= 75]
        return stored

    def member(self, kind: str, person: _Person) -> Query:
        rng = self.rng
        view = replace(person, given=list(person.given))
        show = _Shown(address=rng.random() < 0.65, telecom=rng.random() < 0.35,
                      identifier=rng.random() < 0.10)
        if kind == "exact":
            show.address, show.telecom = True, rng.random() < 0.5
        elif kind == "diacritics-dropped":
            view.family, view.given = fold(view.family), [fold(g) for g in view.given]
        elif kind == "given-order-swapped":
            view.given = view.given[::-1]
        elif kind == "given-one-missing":
            view.given = [view.given[0] if rng.random() < 0.65 else view.given[1]]
        elif kind == "hyphen-space":
            self._hyphen_space(view)
        elif kind == "typo-family":
            view.family = _typo(rng, view.family)
        elif kind == "typo-given":
            index = rng.randrange(len(view.given))
            view.given[index] = _typo(rng, view.given[index])
        elif kind == "nickname":
            nickname = rng.choice(NICKNAMES[view.given[0]])
            view.given = [nickname, *view.given[1:2]] if rng.random() < 0.4 else [nickname]
        elif kind == "family-given-swapped":
            view.family, view.given = " ".join(view.given), [view.family]
        elif kind == "day-month-transposed":
            view.birth = date(view.birth.year, view.birth.day, view.birth.month)
        elif kind == "birth-digit-typo":
            view.birth = self._birth_typo(view.birth)
        elif kind == "address-missing":
            show.address = show.telecom = False
        elif kind in ("moved", "married-and-moved"):
            view.home = self._new_home(person)
            view.mobile = self.population.numbers.mobile(rng)
            show.address, show.telecom, show.landline = True, rng.random() < 0.6, False
        if kind in ("married-name", "married-and-moved"):
            view.family = self._married_name(person)
            if kind == "married-name":
                show.address = rng.random() < 0.5
        if kind == "only-name-and-birthdate":
            show = _Shown(False, False, False, False, False)
        resource = _resource(view, shown=show)
        return Query(resource, person.pid, kind)

    def _hyphen_space(self, view: _Person) -> None:
        rng = self.rng
        hyphenated = [i for i, g in enumerate(view.given) if "-" in g]
        options = []
        if hyphenated:
            options.append("given")
        if "-" in view.family or " " in view.family:
            options.append("family")
        if rng.choice(options) == "given":
            index = hyphenated[0]
            parts = view.given[index].split("-")
            # Typed with a space into one field, or split into two given names.
            view.given[index:index + 1] = [" ".join(parts)] if rng.random() < 0.5 else parts
        elif "-" in view.family:
            view.family = view.family.replace("-", " ")
        else:
            view.family = view.family.replace(" ", "-")

    def _birth_typo(self, birth: date) -> date:
        rng = self.rng
        text = birth.strftime("%Y%m%d")
        for _ in range(100):
            position = rng.randrange(2, 8)  # a century digit is never mistyped
            digit = rng.choice([d for d in "0123456789" if d != text[position]])
            typed = text[:position] + digit + text[position + 1:]
            try:
                candidate = date(int(typed[:4]), int(typed[4:6]), int(typed[6:]))
            except ValueError:
                continue
            if FIRST_BIRTH.replace(year=1900) <= candidate <= LAST_BIRTH:
                return candidate
        return birth + timedelta(days=1 if birth < LAST_BIRTH else -1)

    def _new_home(self, person: _Person) -> _Home:
        for _ in range(20):
            home = self.population.home(self.rng, person.origin)
            if home.town is not person.home.town:
                return home
        return self.population.home(self.rng, person.origin,
                                    town=self.population.tables.town_by_name["Malmö"
                                    if person.home.town.name == "Stockholm" else "Stockholm"])

    def _married_name(self, person: _Person) -> str:
        rng = self.rng
        partner = person.partner
        if partner is not None and partner.family != person.family and rng.random() < 0.6:
            return partner.family
        while True:
            new = self.population.surname(rng, person.origin if rng.random() < 0.7
                                          else SWEDISH)
            if new != person.family:
                break
        if rng.random() < 0.25:  # a double name: the old and the new
            joiner = " " if rng.random() < 0.6 else "-"
            return f"{person.family}{joiner}{new}" if rng.random() < 0.5 \
                else f"{new}{joiner}{person.family}"
        return new

    # -- non-member queries -----------------------------------------------------------

    def made_on_demand(self, kind: str) -> Query:
        rng = self.rng
        population = self.population
        for _ in range(100):
            template = rng.choice(self.stored)
            if kind == "new-random":
                birth = template.birth + timedelta(days=rng.randint(-730, 730))
                birth = min(LAST_BIRTH, max(FIRST_BIRTH, birth))
                home = population.home(rng, template.origin)
                swedish_style = template.origin == SWEDISH or rng.random() < 0.3
                person = population.person(rng, template.sex, birth, template.origin, home,
                                           swedish_style=swedish_style)
            else:
                birth = rng.choice(self.stored).birth + timedelta(days=rng.randint(-200, 200))
                birth = min(LAST_BIRTH, max(FIRST_BIRTH, birth))
                if kind == "namesake-same-city":
                    home = population.home(rng, template.origin, town=template.home.town,
                                           avoid_street=template.home.street)
                    if home.street is template.home.street:
                        continue
                else:
                    home = population.home(rng, template.origin)
                person = _Person(list(template.given), template.family, template.sex, birth,
                                 template.origin, home)
            if self.is_stored_like(person) or birth == template.birth:
                continue
            person.mobile = population.numbers.mobile(rng) if rng.random() < 0.9 else None
            person.identifier = population.identifier(rng, person)
            return self.non_member(kind, person)
        raise RuntimeError(f"no {kind} query found in 100 tries")

    def non_member(self, kind: str, person: _Person) -> Query:
        rng = self.rng
        household_kind = kind in ("relative-same-household", "twin", "sibling-close-age",
                                  "parent-child-same-name", "namesake-same-city")
        show = _Shown(address=household_kind or rng.random() < 0.65,
                      telecom=rng.random() < 0.35, identifier=rng.random() < 0.05)
        if kind == "relative-same-household" and person.home.landline:
            show.telecom = rng.random() < 0.7
        view = replace(person, given=list(person.given))
        if rng.random() < 0.10:  # a clerk's mistake now and then here too
            if _has_diacritics(view.family, *view.given):
                view.family, view.given = fold(view.family), [fold(g) for g in view.given]
            elif kind == "new-random" and rng.random() < 0.5:
                view.given[0] = _typo(rng, view.given[0])
            else:
                show.telecom = False
        return Query(_resource(view, shown=show), None, kind)

    # -- the mixture ------------------------------------------------------------------

    def queries(self, total: int) -> list[Query]:
        rng = self.rng
        members = round(total / 2)
        built: list[Query] = []
        wanted = _apportion(members, MEMBER_KINDS)
        for kind, count in wanted.items():
            pool = self.eligible(kind)
            if not pool:
                pool, kind = self.stored, "exact"
            for person in _draw(rng, pool, count):
                built.append(self.member(kind, person))
        wanted = _apportion(total - members, NON_MEMBER_KINDS)
        pools: dict[str, list[_Person]] = {}
        for out in self.held_out:
            if not self.is_stored_like(out.person):
                pools.setdefault(out.kind, []).append(out.person)
        shortfall = 0
        for kind in NON_MEMBER_KINDS:
            if kind not in _MADE_ON_DEMAND:
                pool = pools.get(kind, [])
                shortfall += max(0, wanted[kind] - len(pool))
                wanted[kind] = min(wanted[kind], len(pool))
        for i in range(shortfall):
            wanted[_MADE_ON_DEMAND[i % len(_MADE_ON_DEMAND)]] += 1
        for kind, count in wanted.items():
            if kind in _MADE_ON_DEMAND:
                built += [self.made_on_demand(kind) for _ in range(count)]
            else:
                built += [self.non_member(kind, p) for p in rng.sample(pools[kind], count)
                          ] if count else []
        rng.shuffle(built)
        return built


def _draw(rng: Random, pool: list[_Person], count: int) -> list[_Person]:
    """``count`` persons of ``pool``, each once while the pool lasts."""
    drawn: list[_Person] = []
    while len(drawn) < count:
        drawn += rng.sample(pool, min(len(pool), count - len(drawn)))
    return drawn


# ---------------------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------------------


def _streams(seed: int) -> tuple[Random, Random, Random]:
    """Separate streams for tables, population and queries: the population does not
    depend on how many queries are drawn after it."""
    return (Random(f"swedish-population:{seed}:tables"),
            Random(f"swedish-population:{seed}:population"),
            Random(f"swedish-population:{seed}:queries"))


def _build(size: int, seed: int, queries: int) -> tuple[Dataset, list[_Household],
                                                           list[_HeldOut]]:
    if size < 1:
        raise ValueError("size must be at least 1")
    if queries < 0:
        raise ValueError("queries must not be negative")
    # The cyclic garbage collector is paused while building: it would walk the growing
    # heap of persons again and again (100,000 persons took 14 s instead of 4 s), and
    # nothing built here is garbage before the caller drops it.
    collecting = gc.isenabled()
    gc.disable()
    try:
        tables_rng, population_rng, query_rng = _streams(seed)
        tables = _Tables(tables_rng)
        numbers = _Numbers()
        stored, held_out, households = _populate(tables, population_rng, numbers, size)
        clerk = _Clerk(_Population(tables, query_rng, numbers), query_rng, stored, held_out)
        patients = [_resource(person, pid=person.pid) for person in stored]
        return Dataset(patients, clerk.queries(queries)), households, held_out
    finally:
        if collecting:
            gc.enable()


def generate(size: int, seed: int, *, queries: int = 2000) -> Dataset:
    """``size`` stored Patients of a synthetic Swedish population and ``queries`` labelled
    ``$match`` queries; the same ``seed`` and ``size`` always give the same population,
    and with the same ``queries`` the same queries."""
    return _build(size, seed, queries)[0]


# ---------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------


def _share(count: int, total: int) -> str:
    return f"{100 * count / total:5.2f} %"


def summary(dataset: Dataset, households: Sequence[_Household] = (),
            held_out: Sequence[_HeldOut] = ()) -> str:
    """A readable account of a dataset: queries per kind, names, towns, households."""
    patients = dataset.patients
    total = len(patients)
    lines = [f"stored patients: {total}", ""]
    by_kind = Counter(q.kind for q in dataset.queries)
    members = sum(1 for q in dataset.queries if q.truth is not None)
    lines.append(f"queries: {len(dataset.queries)} ({members} members, "
                 f"{len(dataset.queries) - members} non-members)")
    for kind in (*MEMBER_KINDS, *NON_MEMBER_KINDS):
        marker = "member" if kind in MEMBER_KINDS else "non-member"
        with_id = sum(1 for q in dataset.queries if q.kind == kind and
                      "identifier" in q.patient)
        lines.append(f"  {kind:26} {by_kind[kind]:6}  {marker:10}  with identifier {with_id}")
    surnames = Counter(p["name"][0]["family"] for p in patients)
    ranked = surnames.most_common()
    top10 = sum(c for _, c in ranked[:10])
    top100 = sum(c for _, c in ranked[:100])
    lines += ["", f"surnames: {len(surnames)} distinct; top 10 {_share(top10, total)}, "
                  f"top 100 {_share(top100, total)}; carried by one person only: "
                  f"{sum(1 for _, c in ranked if c == 1)}"]
    lines += [f"  {name:22} {count:6}  {_share(count, total)}" for name, count in ranked[:20]]
    first = Counter(p["name"][0]["given"][0] for p in patients)
    lines += ["", "first given names: " + ", ".join(f"{n} {c}" for n, c in
                                                    first.most_common(12))]
    two = sum(1 for p in patients if len(p["name"][0]["given"]) == 2)
    hyphen = sum(1 for p in patients if any("-" in g for g in p["name"][0]["given"]))
    double = sum(1 for p in patients if " " in p["name"][0]["family"] or
                 "-" in p["name"][0]["family"])
    accents = sum(1 for p in patients if _has_diacritics(p["name"][0]["family"],
                                                         *p["name"][0]["given"]))
    lines.append(f"two given names {_share(two, total)}, hyphenated given "
                 f"{_share(hyphen, total)}, double surname {_share(double, total)}, "
                 f"letters beyond ASCII in the name {_share(accents, total)}")
    full = Counter((p["name"][0]["given"][0], p["name"][0]["family"], p["address"][0]["city"])
                   for p in patients)
    lines.append("same first name, surname and town: " + ", ".join(
        f"{g} {f} ({c}) {n}" for (g, f, c), n in full.most_common(6)))
    towns = Counter(p["address"][0]["city"] for p in patients)
    lines += ["", f"towns: {len(towns)}"]
    lines += [f"  {name:16} {count:6}  {_share(count, total)}"
              for name, count in towns.most_common(20)]
    decades = Counter(min(int(p["birthDate"][:4]) // 10 * 10, 2020) for p in patients)
    lines += ["", "born per decade: " + ", ".join(f"{d}s {_share(decades[d], total).strip()}"
                                                  for d in sorted(decades))]
    systems = Counter(p["identifier"][0]["system"] if "identifier" in p else "none"
                      for p in patients)
    lines.append("identifiers: " + ", ".join(f"{s} {c}" for s, c in systems.most_common()))
    if households:
        sizes = Counter(len(h.members) for h in households)
        twins = sum(len(h.twins) for h in households)
        juniors = sum(len(h.juniors) for h in households)
        landline = sum(1 for h in households if h.members[0].home.landline)
        lines.append(f"households: {len(households)}, persons per household "
                     + ", ".join(f"{k}: {v}" for k, v in sorted(sizes.items()))
                     + f"; twin pairs {twins}, juniors {juniors}, landlines {landline}")
    if held_out:
        kinds = Counter(h.kind for h in held_out)
        lines.append("held out (not stored): " + ", ".join(f"{k} {v}"
                                                           for k, v in kinds.items()))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None,
         clock: Callable[[], float] = time.perf_counter) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args(argv)
    began = clock()
    dataset, households, held_out = _build(args.size, args.seed, args.queries)
    elapsed = clock() - began
    print(summary(dataset, households, held_out))
    print(f"\ngenerated in {elapsed:.2f} s")


if __name__ == "__main__":
    main()
