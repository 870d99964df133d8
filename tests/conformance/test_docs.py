"""The rules users need ship in docs/ (issue 15): what error texts, the conformance resources
and the README cite is a section of docs/domain.md, never a file outside the repository."""

from __future__ import annotations

import re

from tests.support import ROOT

DOMAIN = ROOT / "docs" / "domain.md"
CITATION = re.compile(r"(\S*)domain\.md §(\d+(?:\.\d+)?)")
PUBLISHED = [ROOT / "README.md", *sorted((ROOT / "fhir_profiles").glob("*.json")),
             *sorted((ROOT / "app" / "identity").glob("*.py")),
             ROOT / "app" / "domain" / "merge.py", ROOT / "app" / "domain" / "extensions.py",
             ROOT / "app" / "conformance.py"]


def sections() -> set[str]:
    return set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", DOMAIN.read_text("utf-8"), re.M))


def test_every_citation_names_docs_domain_md_and_a_section_it_has() -> None:
    known = sections()
    assert {"2.1", "2.2", "3.5", "3.6"} <= known
    for path in PUBLISHED:
        for prefix, section in CITATION.findall(path.read_text("utf-8")):
            where = f"{path.relative_to(ROOT)}: {prefix}domain.md §{section}"
            assert prefix.endswith("docs/"), where
            assert section in known or section.split(".")[0] in known, where


def test_no_published_text_points_outside_the_repository() -> None:
    for path in PUBLISHED:
        assert "../shared" not in path.read_text("utf-8").replace("../shared/api.md", ""), path
