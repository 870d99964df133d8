"""Merging two Patient records of one person, and undoing it (docs/domain.md §3.5, §4).

Pure functions over Patient resource dicts (standard library and the identity registry
only), after Medplum's ``patientmergeutils.ts``: :func:`merge` turns a source and a target
into their new states, :func:`unmerge` turns them back. The service
(``app.services.merges``) loads, locks and stores; everything that decides lives here.

Rules:

* **Direction** — the survivor (target) must not rank below the source. A record's rank is
  the priority of its best own identifier (``identifier.use`` other than ``old``: an
  identifier taken over in a merge ranks the record it came from), lower = stronger:
  PNR 10 > SNR 20 > NRID 30 > LRID VGR 40 > other regional reserve 50 > GRID 60 > other
  systems 70 > LMA 90 > no identifier at all 100 (``app.identity.priority``). Between two
  records whose best identity is an LRID VGR the earliest created wins (seed 000/001:
  "among VGR reserve numbers the earliest created").
* **Contradictions** — "if there is doubt about the identification, no link may be made":
  the source holds a PNR (or SNR) the target does not and the target holds one of its own;
  both birth dates are known and cannot be the same day (``1998`` fits ``1998-01-01``);
  both sexes are known (not ``unknown``) and differ. A caller may override these only
  explicitly (``force`` and a ``reason``, recorded in the Provenance); direction, cycles and
  already-merged records are never overridable.
* **Effect** — source ``active=false`` + ``link`` ``replaced-by`` target; target ``link``
  ``replaces`` source and a copy of every source identifier it does not hold yet, with
  ``use=old``. The source's identifier rows become inactive with the source, so the
  one-active-holder rule for identifiers still holds (the survivor is now that holder).
* **Undo** — :func:`unmerge` removes exactly what :func:`merge` added (the two links and the
  copied identifiers), restores the source's ``active`` element as it was before and, where
  ``result-patient`` changed the target, the target's elements as they were before (unless
  edited since: a later edit stays); every other change, and every other merge, is left
  alone.
* **Links** are the server's: ``replaced-by``/``replaces`` only through merge and unmerge
  (:func:`check_merge_links_kept`, whether ``other`` names the record by reference or by
  identifier), ``seealso`` only between records that do not contradict each other
  (:func:`check_seealso`). IHE PIXm's Resolve Duplicate Patient — an update adding a
  ``replaced-by`` link — is read by :func:`resolve_duplicate` into the merge it asks for.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.domain.errors import BusinessRuleViolation
from app.domain.identifiers import IdentifierMatch
from app.domain.references import link_target_id
from app.identity import kind_for_system, lrid_vgr, personnummer, priority, samordningsnummer

#: Rank of a record without any own identifier: below everything.
NO_IDENTITY = 100
#: Systems where one person has exactly one value: two different values are two people.
SINGLE_VALUE_SYSTEMS = (personnummer.SYSTEM, samordningsnummer.SYSTEM)
REPLACED_BY = "replaced-by"
REPLACES = "replaces"
SEEALSO = "seealso"
OLD = "old"
#: Follow at most this many ``replaced-by`` hops (a longer chain is corrupt data).
MAX_CHAIN = 50
_ABSENT = object()
#: Elements :func:`unmerge` restores by rules of their own (or never: meta is the server's).
UNMERGE_OWN_RULES = ("resourceType", "id", "meta", "identifier", "link")


class MergeRefused(BusinessRuleViolation):
    """A merge or unmerge that the rules of docs/domain.md §3.5 do not allow (422)."""


class ContradictionRefused(MergeRefused):
    """The records contradict each other and the caller did not override explicitly."""


@dataclass(frozen=True)
class Record:
    """A Patient as the merge rules see it: its resource and when it was first created."""

    resource: dict[str, Any]
    created_at: datetime | None = None

    @property
    def id(self) -> str:
        return str(self.resource.get("id", ""))

    @property
    def reference(self) -> str:
        return f"Patient/{self.id}"


@dataclass(frozen=True)
class MergeResult:
    """The new states of both records and what the merge changed."""

    source: dict[str, Any]
    target: dict[str, Any]
    copied: list[dict[str, Any]] = field(default_factory=list)
    overridden: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class UnmergeResult:
    """The restored states of both records."""

    source: dict[str, Any]
    target: dict[str, Any]
    removed: list[dict[str, Any]] = field(default_factory=list)


# --- reading links ------------------------------------------------------------------------

def linked_ids(resource: dict[str, Any], link_type: str | None = None) -> list[str]:
    """Ids of the Patients ``resource`` links to (of one ``link.type``, or all)."""
    found = []
    for link in resource.get("link") or []:
        if link_type is not None and link.get("type") != link_type:
            continue
        target = link_target_id(link)
        if target is not None and target not in found:
            found.append(target)
    return found


def with_reverse_seealso(other: dict[str, Any], patient_id: str, *,
                         linked: bool) -> dict[str, Any] | None:
    """``other`` with its ``seealso`` link back to ``patient_id`` added (``linked``) or
    removed, or None when it already is so. The server keeps ``seealso`` links on both
    records (docs/domain.md §4): this is the other side of a link written or removed."""
    links = list(other.get("link") or [])
    has_reverse = patient_id in linked_ids(other, SEEALSO)
    if linked == has_reverse:
        return None
    if linked:
        links.append({"other": {"reference": f"Patient/{patient_id}"}, "type": SEEALSO})
    else:
        links = [link for link in links
                 if not (link.get("type") == SEEALSO and link_target_id(link) == patient_id)]
    changed = {**other, "link": links}
    if not links:
        del changed["link"]
    return changed


def replaced_by(resource: dict[str, Any]) -> str | None:
    """The record this one was merged into, if it was."""
    survivors = linked_ids(resource, REPLACED_BY)
    return survivors[0] if survivors else None


# --- ranking ------------------------------------------------------------------------------

def own_identifiers(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """Identifiers with a value that are the record's own (not taken over: ``use`` ≠ old)."""
    return [ident for ident in resource.get("identifier") or []
            if ident.get("value") is not None and ident.get("use") != OLD]


def holds_own(resource: dict[str, Any], matches: list[IdentifierMatch]) -> bool:
    """Whether ``resource`` holds every one of ``matches`` as an own identifier (a
    merged-away record's identifiers are also on its survivor, with ``use=old``: the record
    holding them as its own is the one they name)."""
    own = own_identifiers(resource)
    return all(any((m.system is None or i.get("system", "") == m.system)
                   and (m.codes is None or i.get("value") in m.codes) for i in own)
               for m in matches)


def rank(resource: dict[str, Any]) -> int:
    """Main-record rank of a record: its best own identifier's priority (lower = stronger).

    >>> rank({"identifier": [{"system": "urn:oid:1.2.752.74.9.1", "value": "22950606FH20"},
    ...                      {"system": "urn:oid:1.2.752.129.2.1.3.1", "value": "x",
    ...                       "use": "old"}]})
    30
    >>> rank({})
    100
    """
    ranks = [priority(ident.get("system")) for ident in own_identifiers(resource)]
    return min(ranks, default=NO_IDENTITY)


def rank_name(resource: dict[str, Any]) -> str:
    """The kind that gives a record its rank, for messages (``NRID``, ``no identifier``)."""
    best = sorted(own_identifiers(resource), key=lambda i: priority(i.get("system")))
    if not best:
        return "no identifier"
    kind = kind_for_system(best[0].get("system"))
    return kind.NAME if kind is not None else "an identifier of an unranked system"


def outranks(a: Record, b: Record) -> bool:
    """True when ``a`` must be the survivor over ``b`` (strictly better by docs/domain.md §3.5)."""
    rank_a, rank_b = rank(a.resource), rank(b.resource)
    if rank_a != rank_b:
        return rank_a < rank_b
    if rank_a == lrid_vgr.PRIORITY and a.created_at is not None and b.created_at is not None:
        return a.created_at < b.created_at
    return False


# --- checks -------------------------------------------------------------------------------

def check_direction(source: Record, target: Record) -> None:
    """Refuse when the source should survive instead of the target."""
    if not outranks(source, target):
        return
    if rank(source.resource) == rank(target.resource):
        why = (f"both are identified by {rank_name(source.resource)} and among those the "
               "earliest created record is the main record")
    else:
        why = (f"{source.reference} is identified by {rank_name(source.resource)}, "
               f"{target.reference} only by {rank_name(target.resource)}")
    raise MergeRefused(
        f"{target.reference} ranks below {source.reference} by the main-record rule "
        f"(PNR > SNR > NRID > LRID VGR, earliest created first > other regional reserve > "
        f"GRID): {why}. The allowed direction is source-patient {target.reference} into "
        f"target-patient {source.reference}.")


def contradictions(source: dict[str, Any], target: dict[str, Any]) -> list[str]:
    """Why the two records may be two different people (empty: no contradiction found)."""
    found = []
    for system in SINGLE_VALUE_SYSTEMS:
        theirs = _values(source, system)
        ours = _values(target, system)
        if ours and theirs - ours:
            kind = kind_for_system(system)
            found.append(f"the records hold different {kind.NAME if kind else system} values")
    born_s, born_t = source.get("birthDate"), target.get("birthDate")
    if isinstance(born_s, str) and isinstance(born_t, str) and not (
            born_s.startswith(born_t) or born_t.startswith(born_s)):
        found.append("the records have different birth dates")
    sex_s, sex_t = _known_sex(source), _known_sex(target)
    if sex_s and sex_t and sex_s != sex_t:
        found.append("the records have different sexes")
    return found


def check_contradictions(source: dict[str, Any], *targets: dict[str, Any], force: bool,
                         reason: str | None) -> list[str]:
    """Refuse when the source contradicts any of ``targets`` (the stored target and, with
    ``result-patient``, the record it is to become) unless overridden with ``force`` and a
    reason; return what was overridden."""
    found = list(dict.fromkeys(why for target in targets
                               for why in contradictions(source, target)))
    if found and not (force and reason):
        raise ContradictionRefused(
            "These records may belong to two different people: " + "; ".join(found)
            + ". If there is doubt about the identification no merge may be made "
            "(docs/domain.md §3.5); to merge anyway after checking, repeat the request with "
            "force=true and a reason, which is recorded.")
    return found


def check_seealso(resource: dict[str, Any], other: dict[str, Any], position: int) -> None:
    """A ``seealso`` link says both records are the same person (FHIR R4 Patient.link), so
    it obeys the merge's contradiction rule, without an override: "if there is doubt about
    the identification, no link may be made" (docs/domain.md §3.5)."""
    found = contradictions(resource, other)
    if found:
        raise ContradictionRefused(
            f"Patient.link[{position}] (seealso) says Patient/{other.get('id')} is the same "
            f"person, but {'; '.join(found)}. If there is doubt about the identification no "
            "link may be made (docs/domain.md §3.5).",
            expression=[f"Patient.link[{position}].other"])


def check_merge_links_kept(before: dict[str, Any] | None, after: dict[str, Any]) -> None:
    """Refuse a write that adds or removes ``replaced-by``/``replaces`` links: they record a
    merge, so only ``$merge`` (with its main-record and contradiction rules and a Provenance)
    writes them and only ``$unmerge`` removes them."""
    if _merge_links(before or {}) != _merge_links(after):
        raise MergeRefused(
            "Patient.link of type replaced-by and replaces records a merge: it is written by "
            "$merge and removed by $unmerge (which check the main-record rule and record a "
            "Provenance); an update must keep these links as they are",
            expression=["Patient.link"])


def check_cycle(source: Record, target_chain: list[str]) -> None:
    """Refuse when the target's survivor chain (target first) leads back to the source."""
    if source.id in target_chain:
        raise MergeRefused(
            f"Merging {source.reference} into Patient/{target_chain[0]} would create a cycle: "
            f"Patient/{target_chain[0]} was merged into {source.reference} (directly or "
            "through a chain). Use $unmerge to undo that merge instead.")


def check_not_merged(record: Record, role: str, survivor: str | None) -> None:
    """Refuse a record that was already merged away, naming its final survivor."""
    if replaced_by(record.resource) is None:
        return
    raise MergeRefused(
        f"The {role} {record.reference} was already merged into another record; its "
        f"surviving record is Patient/{survivor}. Merge Patient/{survivor} instead, or "
        "$unmerge the earlier merge first.")


def check_merged_pair(source: dict[str, Any], target: dict[str, Any]) -> None:
    """Refuse to undo a merge that was not made: the source must be ``replaced-by`` the
    target and the target must ``replace`` the source."""
    source_id, target_id = str(source["id"]), str(target["id"])
    if replaced_by(source) == target_id and source_id in linked_ids(target, REPLACES):
        return
    survivor = replaced_by(source)
    raise MergeRefused(
        f"Patient/{source_id} is not merged into Patient/{target_id}: there is no such merge "
        "to undo" + (f" (it was merged into Patient/{survivor})" if survivor else ""))


@dataclass(frozen=True)
class ResolveDuplicate:
    """IHE PIXm ITI-104 "Resolve Duplicate Patient": a Source's update of the subsumed
    record that adds a ``replaced-by`` link. ``survivor`` is the link's ``other`` (a
    Reference by ``reference`` and/or ``identifier``); ``resource`` is the update without
    that link and with ``active`` as it was, which the merge then sets."""

    survivor: dict[str, Any]
    resource: dict[str, Any]


def resolve_duplicate(before: dict[str, Any] | None,
                      resource: dict[str, Any]) -> ResolveDuplicate | None:
    """The resolve-duplicate a write asks for, or None when it adds no ``replaced-by`` link.

    Refused (422): more than one new ``replaced-by`` link, a record already merged away,
    ``active`` other than false, a link whose ``other`` names no record, or any other
    change to ``replaced-by``/``replaces`` links (those stay :func:`merge`'s)."""
    old = _merge_links(before or {})
    added = [(position, link) for position, link in enumerate(resource.get("link") or [])
             if isinstance(link, dict) and link.get("type") == REPLACED_BY
             and not _merge_links({"link": [link]}) <= old]
    if not added:
        return None
    position, link = added[0]
    _check_resolve_message(before, resource, link, position, several=len(added) > 1)
    return ResolveDuplicate(copy.deepcopy(link["other"]),
                            _without_resolve_link(before, resource, position))


def _check_resolve_message(before: dict[str, Any] | None, resource: dict[str, Any],
                           link: dict[str, Any], position: int, *, several: bool) -> None:
    """422 unless the write is one resolve-duplicate: one new ``replaced-by`` link on a
    record not merged away, ``active=false``, the link naming its survivor."""
    where = [f"Patient.link[{position}]"]
    if several or replaced_by(before or {}) is not None:
        raise MergeRefused("A Resolve Duplicate Patient message adds exactly one replaced-by "
                           "link to a record not merged away yet", expression=where)
    if resource.get("active") is not False:
        raise MergeRefused("A Resolve Duplicate Patient message (a new replaced-by link) "
                           "must set active=false on the subsumed record",
                           expression=["Patient.active"])
    other = link.get("other")
    if not isinstance(other, dict) or not (isinstance(other.get("identifier"), dict)
                                           or other.get("reference") is not None):
        raise MergeRefused("The replaced-by link must name the surviving record by reference "
                           "or by identifier", expression=[f"{where[0]}.other"])


def _without_resolve_link(before: dict[str, Any] | None, resource: dict[str, Any],
                          position: int) -> dict[str, Any]:
    """The update without its new ``replaced-by`` link and with ``active`` as it was (the
    merge sets both); any other change to merge links is refused."""
    stripped = copy.deepcopy(resource)
    links = [item for index, item in enumerate(resource.get("link") or [])
             if index != position]
    if links:
        stripped["link"] = links
    else:
        stripped.pop("link", None)
    if before is not None and "active" in before:
        stripped["active"] = before["active"]
    else:
        stripped.pop("active", None)
    check_merge_links_kept(before, stripped)
    return stripped


# --- the transformations ------------------------------------------------------------------

def merge(source: dict[str, Any], target: dict[str, Any],
          result: dict[str, Any] | None = None) -> MergeResult:
    """The new states of source and target (inputs are not changed).

    ``result`` (the R5 ``result-patient``) replaces the target's content; the links and
    copied identifiers are added to it the same way. Merging a pair that is already merged
    (source replaced-by target and target replaces source) changes nothing.
    """
    source_id, target_id = str(source["id"]), str(target["id"])
    new_source = copy.deepcopy(source)
    new_target = copy.deepcopy(result if result is not None else target)
    new_target["id"] = target_id
    new_source["active"] = False
    _add_link(new_source, target_id, REPLACED_BY)
    _add_link(new_target, source_id, REPLACES)
    held = {_key(ident) for ident in new_target.get("identifier") or []}
    copied = []
    for ident in source.get("identifier") or []:
        if ident.get("value") is None or _key(ident) in held:
            continue
        taken = {**copy.deepcopy(ident), "use": OLD}
        copied.append(taken)
        held.add(_key(ident))
    if copied:
        new_target["identifier"] = [*(new_target.get("identifier") or []), *copied]
    return MergeResult(new_source, new_target, copied)


def unmerge(source: dict[str, Any], target: dict[str, Any], *,
            source_before: dict[str, Any], target_before: dict[str, Any],
            target_merged: dict[str, Any]) -> UnmergeResult:
    """Undo the merge of ``source`` into ``target`` (inputs are not changed).

    ``source_before`` is the source as it was just before the merge, ``target_before`` and
    ``target_merged`` the target just before and just after it: their difference is what
    the merge copied. Removed from the target: its ``replaces`` link to the source and the
    identifiers the merge copied (matched by system and value); elements ``result-patient``
    changed are restored (:func:`_restore_content`). Removed from the source: its
    ``replaced-by`` link to the target; its ``active`` element is restored as it was.
    """
    source_id, target_id = str(source["id"]), str(target["id"])
    check_merged_pair(source, target)
    new_source = copy.deepcopy(source)
    new_target = copy.deepcopy(target)
    _remove_link(new_source, target_id, REPLACED_BY)
    _remove_link(new_target, source_id, REPLACES)
    before = source_before.get("active", _ABSENT)
    if before is _ABSENT:
        new_source.pop("active", None)
    else:
        new_source["active"] = before
    _restore_content(new_target, target_before, target_merged)
    had = {_key(i): i for i in target_before.get("identifier") or []}
    merged = {_key(i): i for i in target_merged.get("identifier") or []}
    kept: list[dict[str, Any]] = []
    removed: list[dict[str, Any]] = []
    for ident in new_target.get("identifier") or []:
        key = _key(ident)
        if key not in had and key in merged:
            removed.append(ident)
        elif key in had and ident == merged.get(key):  # result-patient's edit, untouched since
            kept.append(copy.deepcopy(had[key]))
        else:
            kept.append(ident)
    if kept:
        new_target["identifier"] = kept
    else:
        new_target.pop("identifier", None)
    return UnmergeResult(new_source, new_target, removed)


def _restore_content(target: dict[str, Any], before: dict[str, Any],
                     merged: dict[str, Any]) -> None:
    """Undo what ``result-patient`` changed in the target's other elements: an element that
    still holds the value the merge wrote gets its value from before the merge back; one
    edited since the merge keeps the later edit."""
    for key in (before.keys() | merged.keys()) - set(UNMERGE_OWN_RULES):
        written = merged.get(key, _ABSENT)
        if target.get(key, _ABSENT) != written or before.get(key, _ABSENT) == written:
            continue
        if key in before:
            target[key] = copy.deepcopy(before[key])
        else:
            target.pop(key, None)


# --- helpers ------------------------------------------------------------------------------

def _merge_links(resource: dict[str, Any]) -> set[tuple[str, str]]:
    """The merge links of a record, by reference (``Patient/<id>``) or, for a link whose
    ``other`` names the record only by identifier (IHE PIXm's form), by ``system|value``
    (and any other ``other`` by itself): every form counts, so none slips past
    :func:`check_merge_links_kept`."""
    found = {(link_type, other) for link_type in (REPLACED_BY, REPLACES)
             for other in linked_ids(resource, link_type)}
    for link in resource.get("link") or []:
        if not isinstance(link, dict) or link.get("type") not in (REPLACED_BY, REPLACES):
            continue
        if link_target_id(link) is not None:
            continue
        other = link.get("other")
        ident = other.get("identifier") if isinstance(other, dict) else None
        if isinstance(ident, dict):
            found.add((str(link["type"]), f"{ident.get('system', '')}|{ident.get('value')}"))
        else:  # names no Patient at all: still a merge link nobody but a merge may write
            found.add((str(link["type"]), repr(other)))
    return found


def _key(ident: dict[str, Any]) -> tuple[str, str]:
    return str(ident.get("system") or ""), str(ident.get("value"))


def _values(resource: dict[str, Any], system: str) -> set[str]:
    return {str(i["value"]) for i in resource.get("identifier") or []
            if i.get("system") == system and i.get("value") is not None}


def _known_sex(resource: dict[str, Any]) -> str | None:
    gender = resource.get("gender")
    return gender if gender in ("male", "female", "other") else None


def _add_link(resource: dict[str, Any], other_id: str, link_type: str) -> None:
    if other_id in linked_ids(resource, link_type):
        return
    links = list(resource.get("link") or [])
    links.append({"other": {"reference": f"Patient/{other_id}"}, "type": link_type})
    resource["link"] = links


def _remove_link(resource: dict[str, Any], other_id: str, link_type: str) -> None:
    links = [link for link in resource.get("link") or []
             if not (link.get("type") == link_type
                     and link_target_id(link) == other_id)]
    if links:
        resource["link"] = links
    else:
        resource.pop("link", None)
