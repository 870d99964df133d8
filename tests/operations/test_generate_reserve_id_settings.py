"""``$generate-reserve-id`` on a second server started with small NRID series and the
minus-120-years unknown-birth-date policy (domain.md §2.2 rollover, §3.4)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import requests

from app.identity import lrid_vgr, nrid
from tests.operations.reserve_helpers import (
    LRID_SYSTEM,
    fresh_date,
    generate,
    identifiers,
    patient_ids,
)
from tests.support import Database, Server

SERIES_CAPACITY = 3


@pytest.fixture(scope="module")
def small_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = Database.fresh(Path(tmp_path_factory.mktemp("small-series")))
    server = Server(database, env={"RESERVE_SERIES_CAPACITY": str(SERIES_CAPACITY),
                                   "UNKNOWN_BIRTH_DATE_POLICY": "minus-120-years"}).start()
    yield server.base
    server.stop()
    database.dispose()


def test_a_used_up_series_rolls_over_to_the_next_with_three_more_on_xx(small_base):
    born = fresh_date()
    values = [i["value"] for i in identifiers(
        generate(small_base, birth_date=born.isoformat(), gender="female", count=7))]
    century = born.year // 100
    assert [v[:2] for v in values] == [str(century + 3)] * 3 + [str(century + 6)] * 3 + [
        str(century + 9)]
    series = [nrid.describe(v, today=date.today()).series for v in values]
    assert series == [1, 1, 1, 2, 2, 2, 3]
    assert {nrid.describe(v).birth_date for v in values} == {born}
    assert len(set(values)) == 7
    # The next request continues in series 3, where the last one stopped.
    [next_value] = identifiers(generate(small_base, birth_date=born.isoformat(),
                                        gender="female"))
    assert nrid.describe(next_value["value"]).series == 3
    assert next_value["value"] not in values


def test_after_the_twenty_sixth_series_a_date_and_sex_is_exhausted_with_a_409(small_base):
    born = fresh_date().isoformat()
    total = nrid.SERIES * SERIES_CAPACITY
    values = [i["value"] for i in identifiers(generate(small_base, birth_date=born,
                                                       gender="unknown", count=50))]
    values += [i["value"] for i in identifiers(generate(small_base, birth_date=born,
                                                        gender="unknown",
                                                        count=total - 50))]
    assert len(set(values)) == total
    assert values[-1][:2] == str(int(born[:2]) + 3 * nrid.SERIES)
    response = generate(small_base, birth_date=born, gender="unknown")
    assert response.status_code == 409, response.text
    assert response.json()["issue"][0]["code"] == "conflict"


def test_the_minus_120_years_policy_encodes_that_date_when_none_is_known(small_base):
    today = date.today()
    try:
        expected = today.replace(year=today.year - 120)
    except ValueError:  # 29 February
        expected = today.replace(year=today.year - 120, day=28)
    [ident] = identifiers(generate(small_base, gender="male"))
    assert nrid.describe(ident["value"]).birth_date == expected
    response = generate(small_base, system=LRID_SYSTEM,
                        patient={"resourceType": "Patient", "gender": "female"})
    [lrid] = identifiers(response)
    assert lrid_vgr.describe(lrid["value"]).birth_date == expected
    [created] = patient_ids(response)
    stored = requests.get(f"{small_base}/Patient/{created}", timeout=30).json()
    assert stored["birthDate"] == expected.isoformat()
