"""``GET /``: a small HTML page saying what this server is and where to go (api.md "Start
and test"). Open without a token, like ``/docs``."""

from __future__ import annotations

from html import escape

from flask import Flask, Response, request

from app.http.auth import public

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>sweid-fhir</title>
<style>body{{font-family:system-ui,sans-serif;max-width:46em;margin:2em auto;padding:0 1em;
line-height:1.5}}code{{background:#f3f3f3;padding:0 .2em}}</style></head>
<body>
<h1>sweid-fhir</h1>
<p>A FHIR R4 (4.0.1) server for Swedish patient identities: <code>Patient</code> resources
carrying personnummer, samordningsnummer and national and regional reserve numbers, with
<code>$match</code>, <code>$merge</code>/<code>$unmerge</code>,
<code>$generate-reserve-id</code> and <code>$ihe-pix</code>.</p>
<ul>
<li><a href="{root}/console/">{root}/console/</a> &mdash; the staff console (in Swedish): find a
person by any identity, register a reserve identity, link and merge records, downtime packs</li>
<li><a href="{root}/fhir/metadata">{root}/fhir/metadata</a> &mdash; the CapabilityStatement:
every interaction, search parameter and operation this server supports</li>
<li><a href="{root}/docs">{root}/docs</a> &mdash; the API in Swagger UI
(<a href="{root}/openapi.json">openapi.json</a>)</li>
<li><a href="{root}/healthz">{root}/healthz</a> and <a href="{root}/readyz">{root}/readyz</a>
&mdash; liveness, and readiness (database reachable, schema current)</li>
</ul>
<p>The FHIR base URL is <code>{base}</code>. Try
<code>curl {base}/Patient?family=Andersson</code>; the README walks through a whole session
and <code>docs/</code> holds the identity rules.</p>
</body>
</html>
"""


@public
def landing() -> Response:
    """The landing page."""
    root = escape(request.script_root)
    base = escape(f"{request.host_url.rstrip('/')}{request.script_root}/fhir")
    return Response(PAGE.format(root=root, base=base), content_type="text/html; charset=utf-8")


def register(app: Flask) -> None:
    """Serve the landing page at ``/``."""
    app.add_url_rule("/", "landing", landing)
