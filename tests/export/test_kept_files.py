"""A taken-over ``$export`` job keeps the files an earlier attempt completed only while each
is whole (app.services.bulk_export): there, with the lines recorded for it, the last one
ended. Otherwise it starts again from the first Patient."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from sqlalchemy import create_engine

from app.adapters.export_repository import StoredExport
from app.config import Settings
from app.services.bulk_export import Exporter, file_is_whole

LINE = b'{"resourceType":"Patient","id":"kept-%05d"}\n'


def write_lines(path: Path, count: int) -> bytes:
    content = b"".join(LINE % number for number in range(count))
    path.write_bytes(content)
    return content


def test_a_file_is_whole_with_its_recorded_lines_each_ended(tmp_path: Path):
    path = tmp_path / "Patient-1.ndjson"
    content = write_lines(path, 30_000)  # more than one block of 1 MiB
    assert len(content) > 1 << 20
    assert file_is_whole(path, 30_000)
    assert not file_is_whole(path, 29_999) and not file_is_whole(path, 30_001)
    path.write_bytes(content[:-1])  # cut inside its last line
    assert not file_is_whole(path, 30_000) and not file_is_whole(path, 29_999)
    path.write_bytes(content[: 1 << 20])  # cut at the block's end
    assert not file_is_whole(path, 30_000)
    assert not file_is_whole(tmp_path / "Patient-2.ndjson", 0)


def job(output: list[dict[str, object]], after: str | None) -> StoredExport:
    now = datetime.now(UTC)
    return StoredExport(
        id="kept-files", owner="exporter", owner_sees_protected=False,
        request="http://x/$export", base_url="http://x", types="Patient", since=None,
        transaction_time=now, state="in-progress", created_at=now, finished_at=None,
        expires_at=None, total=None, exported=0, output=orjson.dumps(output), error=None,
        attempts=2, checkpoint_after=after, checkpoint_attempt=1)


@pytest.mark.parametrize("damage", ["none", "truncated", "line lost", "removed"])
def test_a_taken_over_job_keeps_only_whole_files(tmp_path: Path, damage: str):
    target = tmp_path / "kept-files"
    target.mkdir()
    contents = {name: write_lines(target / name, 500)
                for name in ("Patient-1.ndjson", "Patient-2.ndjson")}
    (target / "Patient-3.ndjson.part").write_bytes(LINE % 1)  # the file being written
    second = target / "Patient-2.ndjson"
    if damage == "truncated":
        second.write_bytes(contents[second.name][:-20])
    elif damage == "line lost":
        second.write_bytes(contents[second.name][len(LINE % 0):])
    elif damage == "removed":
        second.unlink()
    output = [{"type": "Patient", "name": name, "count": 500} for name in contents]
    engine = create_engine("sqlite://")
    exporter = Exporter(engine, Settings.from_env({"EXPORT_DIRECTORY": str(tmp_path)}))
    try:
        files, after = exporter._resume(job(output, "kept-00499"), target)
    finally:
        engine.dispose()
    if damage == "none":
        assert [(f.name, f.count) for f in files] == [(o["name"], 500) for o in output]
        assert after == "kept-00499"
        assert {p.name: p.read_bytes() for p in target.iterdir()} == contents
    else:  # from the first Patient, nothing of the earlier attempt left
        assert (files, after) == ([], None)
        assert list(target.iterdir()) == []
