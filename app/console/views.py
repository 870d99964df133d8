"""The console's pages. Each view declares its permission like an API route
(:func:`app.http.auth.requires`), reads and writes through the API's services, and hands every
Patient through :func:`app.masking.present_dict` — so a page shows what the API would, and an
unmasked protected person is audited by the same after-request hook."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
from flask import (
    Blueprint,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError, CSRFProtect

from app.adapters.unit_of_work import UnitOfWork
from app.console.people import PersonView, person
from app.domain.access import Access
from app.domain.errors import DomainError
from app.domain.limits import CONSOLE_MAX_HISTORY, CONSOLE_MAX_PACK, CONSOLE_MAX_RESULTS
from app.domain.search import SearchQuery
from app.http.auth import CONSOLE_SESSION_KEY, LoginRequired, requires
from app.http.errors import status_of
from app.http.query import parse_query
from app.identity import lrid_vgr, nrid
from app.masking import must_mask, present_dict, redact
from app.services import matching, merges, patients, reserve_ids
from app.services.transactions import run_read, run_routed_read, run_write

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static")
RESERVE_KINDS = {"nrid": nrid.SYSTEM, "lrid": lrid_vgr.SYSTEM}
#: The error page's Swedish headline per status; the server's own (English) message follows.
HEADLINES = {400: "Felaktig uppgift", 401: "Du är inte inloggad", 403: "Du saknar behörighet",
             404: "Posten finns inte", 409: "Servern vägrar", 410: "Posten är borttagen",
             422: "Servern vägrar"}
GENDER_CHOICES = (("female", "Kvinna"), ("male", "Man"), ("unknown", "Okänt"))


@dataclass
class Hit:
    """One search result: the record and the records linked to it (every identity of the
    person)."""

    record: PersonView
    linked: list[PersonView]


# --- plumbing -------------------------------------------------------------------------------

@bp.before_request
def _check_csrf() -> None:
    """Every form POST carries the session's CSRF token (Flask-WTF)."""
    if request.method == "POST":
        csrf: CSRFProtect = current_app.extensions["csrf"]
        csrf.protect()


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError) -> Any:
    if isinstance(error, LoginRequired) and current_app.config.get("CONSOLE_OIDC"):
        return redirect(url_for("console_login.login", next=request.full_path))
    status = status_of(error)
    return render_template("error.html", message=redact(str(error)), status=status,
                           headline=HEADLINES.get(status, "Det gick inte")), status


@bp.errorhandler(CSRFError)
def _csrf_error(error: CSRFError) -> Any:
    return render_template("error.html", headline="Felaktigt formulär",
                           message="Formuläret har gått ut eller saknar CSRF-skydd. Ladda om "
                           "sidan och försök igen.", status=400), 400


@bp.app_context_processor
def _context() -> dict[str, Any]:
    access: Access | None = g.get("access")
    user = session.get(CONSOLE_SESSION_KEY)
    return {"user": access.subject if access else None,
            "user_name": user.get("name") if isinstance(user, dict) else None,
            "sees_protected": bool(access and access.see_protected),
            "oidc": bool(current_app.config.get("CONSOLE_OIDC"))}


def _engine() -> Any:
    return current_app.extensions["sweid"].engine


def _reads() -> Any:
    return current_app.extensions["sweid"].reads


def _view(stored: Any, access: Access) -> PersonView:
    resource = present_dict(stored.load(), stored.protected, access)
    return person(resource, protected=stored.protected,
                  masked=must_mask(stored.protected, access))


def _text(name: str, limit: int = 200) -> str:
    return (request.values.get(name) or "").strip()[:limit]


# --- search ---------------------------------------------------------------------------------

@bp.route("/", methods=["GET"])
@requires("Patient", "s", interaction="search-type")
def search() -> str:
    """Sök: by any identity, or by birth date and name."""
    identity, birth, name = _text("identitet", 40), _text("fodelsedatum", 10), _text("namn")
    pairs: list[tuple[str, str]] = []
    if identity:
        pairs = [("identifier", identity)]
    elif birth or name:
        pairs = [(k, v) for k, v in (("birthdate", birth), ("name", name)) if v]
    hits: list[Hit] | None = None
    if pairs:
        query = parse_query([*pairs, ("_count", str(CONSOLE_MAX_RESULTS))])
        hits = run_routed_read(_reads(), lambda uow: _hits(uow, query, g.access))
    return render_template("search.html", hits=hits, identity=identity, birth=birth, name=name)


def _hits(uow: UnitOfWork, query: SearchQuery, access: Access) -> list[Hit]:
    page = patients.search(uow, query, access, date.today())
    hits = []
    for stored in page.matches:
        record = _view(stored, access)
        linked_ids = [link.patient_id for link in record.links]
        linked = [_view(s, access) for s in uow.patients.get_many(linked_ids)
                  if not s.deleted]
        hits.append(Hit(record, linked))
    # The person's main record before records merged into another (domain.md §3.5).
    hits.sort(key=lambda hit: hit.record.survivor is not None)
    return hits


# --- the person page ------------------------------------------------------------------------

@bp.route("/patient/<patient_id>", methods=["GET"])
@requires("Patient", "r", interaction="read")
def patient(patient_id: str) -> str:
    """Personsida: identities, links, contact data, group/type, history, audit trail."""
    access: Access = g.access
    show_audit = access.may("AuditEvent", "s")

    def load(uow: UnitOfWork) -> tuple[PersonView, list[Any], list[dict[str, Any]]]:
        stored = patients.read(uow, patient_id)
        versions, _ = patients.history(uow, patient_id, since=None, count=CONSOLE_MAX_HISTORY,
                                       offset=0)
        events: list[dict[str, Any]] = []
        if show_audit:
            rows, _ = uow.audit.search("AuditEvent", [("entity", [f"Patient/{patient_id}"])],
                                       count=CONSOLE_MAX_HISTORY, offset=0)
            events = [orjson.loads(row) for row in rows]
        return _view(stored, access), versions, events

    view, versions, events = run_read(_engine(), load)
    return render_template("patient.html", p=view, versions=versions, events=events,
                           show_audit=show_audit,
                           may_write=access.may("Patient", "u"))


@bp.route("/patient/<patient_id>/kort", methods=["GET"])
@requires("Patient", "r", interaction="read")
def card(patient_id: str) -> str:
    """Utskrivbart patientkort with the person's numbers."""
    view = run_read(_engine(), lambda uow: _view(patients.read(uow, patient_id), g.access))
    return render_template("card.html", p=view)


# --- register a reserve identity (find before create) ---------------------------------------

@bp.route("/registrera", methods=["GET", "POST"])
@requires("Patient", "c|u", interaction="generate-reserve-id")
def register() -> Any:
    """Registrera reservidentitet: $match first, then a new NRID (or LRID) and its Patient."""
    form = {k: _text(k) for k in ("fornamn", "efternamn", "fodelsedatum", "kon", "typ")}
    form["typ"] = form["typ"] if form["typ"] in RESERVE_KINDS else "nrid"
    if request.method == "GET" or not (form["efternamn"] or form["fodelsedatum"]):
        error = "Ange minst efternamn eller födelsedatum." if request.method == "POST" else None
        return render_template("register.html", form=form, candidates=None, error=error)
    resource = _template(form)
    if request.form.get("steg") != "skapa":
        model = current_app.extensions["sweid"].match_model
        order = matching.MatchRequest(resource=resource, count=10)
        results = run_routed_read(_reads(), lambda uow: matching.match(
            uow, order, g.access, date.today(), model))
        candidates = [(_view_bytes(r.resource, r.protected), r) for r in results]
        return render_template("register.html", form=form, candidates=candidates, error=None)
    settings = current_app.config["SETTINGS"]
    result = reserve_ids.generate(
        _engine(), reserve_ids.ReserveOrder(system=RESERVE_KINDS[form["typ"]], patient=resource),
        today=date.today(), access=g.access, trace_id=g.get("request_id"),
        policy=reserve_ids.ReservePolicy(settings.unknown_birth_date_policy,
                                         settings.reserve_series_capacity))
    return redirect(url_for("console.card", patient_id=result.patient_ids[0], ny="1"), 303)


def _template(form: dict[str, str]) -> dict[str, Any]:
    name: dict[str, Any] = {}
    if form["efternamn"]:
        name["family"] = form["efternamn"]
    if form["fornamn"]:
        name["given"] = form["fornamn"].split()
    resource: dict[str, Any] = {"resourceType": "Patient",
                                "gender": form["kon"] if form["kon"] in dict(GENDER_CHOICES)
                                else "unknown"}
    if name:
        resource["name"] = [name]
    if form["fodelsedatum"]:
        resource["birthDate"] = form["fodelsedatum"]
    return resource


def _view_bytes(resource: bytes, protected: bool) -> PersonView:
    access: Access = g.access
    shown = present_dict(orjson.loads(resource), protected, access)
    return person(shown, protected=protected, masked=must_mask(protected, access))


# --- link / merge ---------------------------------------------------------------------------

@bp.route("/sammanfor", methods=["GET", "POST"])
@requires("Patient", "u", interaction="merge")
def merge() -> Any:
    """Sammanför två poster: preview with the priority rule, then confirm with a reason. Each
    record is named by its post-id or by one of its identities (any spelling)."""
    source, target, reason = _text("kalla", 64), _text("mal", 64), _text("orsak", 500)
    if not source or not target:
        return render_template("merge.html", source_id=source, target_id=target,
                               preview=None, refusal=None, reason=reason)
    if request.method == "GET":
        return _merge_preview(source, target, reason, None)
    if not reason:
        return _merge_preview(source, target, reason, "Ange en orsak för sammanföringen.")
    order = merges.MergeRequest(source=_ref(source), target=_ref(target), reason=reason)
    try:
        outcome = run_write(_engine(), lambda uow: merges.merge(uow, order, g.access,
                                                                date.today()))
    except DomainError as error:
        return _merge_preview(source, target, reason, None, refusal=error)
    source_id = run_read(_engine(), lambda uow: merges.resolve(uow, _ref(source), "kalla",
                                                               date.today()))
    return redirect(url_for("console.patient", patient_id=outcome.target["id"],
                            sammanford=source_id), 303)


def _ref(text: str) -> merges.PatientRef:
    """A record named by its post-id when one has it, else by one of its identities (any
    spelling; the merge service resolves it as ``source-patient-identifier``)."""
    if patients.ID_PATTERN.match(text) and run_read(
            _engine(), lambda uow: uow.patients.get(text) is not None):
        return merges.PatientRef(reference={"reference": f"Patient/{text}"})
    return merges.PatientRef(identifiers=[{"value": text}])


def _merge_preview(source: str, target: str, reason: str, error: str | None, *,
                   refusal: DomainError | None = None) -> tuple[str, int]:
    access: Access = g.access
    today = date.today()
    order = merges.MergeRequest(source=_ref(source), target=_ref(target), preview=True)
    preview = None
    records: list[PersonView] = []
    try:
        records = run_read(_engine(), lambda uow: [
            _view(patients.read(uow, merges.resolve(uow, ref, role, today)), access)
            for ref, role in ((order.source, "kalla"), (order.target, "mal"))])
        outcome = run_write(_engine(), lambda uow: merges.merge(uow, order, access, today))
        result = present_dict(outcome.target, outcome.protected, access)
        preview = (person(result, protected=outcome.protected,
                          masked=must_mask(outcome.protected, access)), outcome.messages)
    except DomainError as found:
        refusal = refusal or found
    status = 200 if refusal is None and error is None else 422
    return render_template(
        "merge.html", source_id=source, target_id=target, records=records,
        preview=preview, refusal=redact(str(refusal)) if refusal else None, reason=reason,
        error=error), status


@bp.route("/patient/<patient_id>/ta-isar", methods=["POST"])
@requires("Patient", "u", interaction="unmerge")
def unmerge(patient_id: str) -> Any:
    """Ta isär: undo the merge of this (merged-away) record into its survivor."""
    survivor = _text("mal", 64)
    order = merges.MergeRequest(source=_ref(patient_id), target=_ref(survivor),
                                reason=_text("orsak", 500) or None)
    run_write(_engine(), lambda uow: merges.unmerge(uow, order, g.access, date.today()))
    return redirect(url_for("console.patient", patient_id=patient_id), 303)


# --- LRID → NRID, downtime packs ------------------------------------------------------------

def _generate(order: reserve_ids.ReserveOrder) -> reserve_ids.ReserveResult:
    settings = current_app.config["SETTINGS"]
    return reserve_ids.generate(
        _engine(), order, today=date.today(), access=g.access, trace_id=g.get("request_id"),
        policy=reserve_ids.ReservePolicy(settings.unknown_birth_date_policy,
                                         settings.reserve_series_capacity))


@bp.route("/patient/<patient_id>/nrid", methods=["GET", "POST"])
@requires("Patient", "c|u", interaction="generate-reserve-id")
def transition(patient_id: str) -> Any:
    """Övergång LRID → NRID: a new NRID on the LRID person (domain.md §3.5)."""
    if request.method == "POST":
        _generate(reserve_ids.ReserveOrder(system=nrid.SYSTEM, target_id=patient_id))
        return redirect(url_for("console.card", patient_id=patient_id), 303)
    view = run_read(_engine(), lambda uow: _view(patients.read(uow, patient_id), g.access))
    return render_template("transition.html", p=view)


@bp.route("/driftstopp", methods=["GET", "POST"])
@requires("Patient", "c|u", interaction="generate-reserve-id")
def downtime() -> Any:
    """Akutens driftstopp: a pack of N reserve-number records to print before downtime."""
    if request.method == "GET":
        return render_template("downtime.html", pack=None, count="10", error=None)
    count = _text("antal", 4)
    if not count.isdigit() or not 1 <= int(count) <= CONSOLE_MAX_PACK:
        return render_template("downtime.html", pack=None, count=count,
                               error=f"Ange ett antal mellan 1 och {CONSOLE_MAX_PACK}."), 422
    template = {"resourceType": "Patient", "gender": "unknown",
                "name": [{"family": "DRIFTSTOPP", "given": ["AKUTEN"]}]}
    result = _generate(reserve_ids.ReserveOrder(system=nrid.SYSTEM, count=int(count),
                                                patient=template))
    pack = [(number, patient_id, people_display(result.system, value))
            for number, (patient_id, value)
            in enumerate(zip(result.patient_ids, result.values, strict=True), start=1)]
    return render_template("downtime.html", pack=pack, count=count, error=None)


def people_display(system: str, value: str) -> str:
    """A generated number in its display form."""
    from app.console.people import display_value

    return display_value(system, value)
