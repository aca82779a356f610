"""Access-log map-reduce over our format and nginx's, plain/.gz/.bz2."""

from __future__ import annotations

import bz2
import gzip
from pathlib import Path

import pytest
from click.testing import CliRunner

from pastefile.cli import main as cli_main
from pastefile.stats.logstats import analyse, plan, read_range, table

NGINX_LINES = [
    b'10.0.0.1 - - [20/Nov/2026:10:00:00 +0000] "GET /i/abcDEF123456.png HTTP/1.1" 200 5 "-" "u1"',
    b'10.0.0.2 - - [20/Nov/2026:10:00:01 +0000] "GET /i/abcDEF123456 HTTP/1.1" 304 0 "-" "u2"',
    b'10.0.0.1 - - [21/Nov/2026:10:00:02 +0000] "GET /d/abcDEF123456 HTTP/1.1" 200 5 "-" "u1"',
    b'10.0.0.3 - - [21/Nov/2026:10:00:03 +0000] "GET /p/zzzZZZ999999 HTTP/2.0" 200 9 "r" "u3"',
    b'10.0.0.3 - - [21/Nov/2026:10:00:04 +0000] "GET /i/missing00000 HTTP/1.1" 404 9 "-" "u3"',
    b'10.0.0.4 - - [22/Nov/2026:10:00:05 +0000] "GET /api/v1/files?page=2 HTTP/1.1" 200 2 "-" "c"',
    b"this is not a log line",
    b'10.0.0.5 - - [99/Foo/2026:10:00:05 +0000] "GET / HTTP/1.1" 200 2 "-" "c"',
]


def write(path: Path, lines: list[bytes]) -> str:
    data = b"\n".join(lines) + b"\n"
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(data))
    elif path.suffix == ".bz2":
        path.write_bytes(bz2.compress(data))
    else:
        path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("name", ["access.log", "access.log.gz", "access.log.bz2"])
def test_nginx_combined_plain_and_compressed(tmp_path, name):
    result = analyse([write(tmp_path / name, NGINX_LINES)], processes=1)
    assert (result.lines, result.malformed) == (8, 2)
    routes = {r[0]: r[1:] for r in table(result, "route", 10)}
    assert routes == {"/i/": (2, 2), "/d/": (1, 1), "/p/": (1, 1), "/api/v1/files": (1, 1)}
    files = {r[0]: r[1:] for r in table(result, "file", 10)}
    assert files == {"abcDEF123456": (3, 2), "zzzZZZ999999": (1, 1)}


def test_a_date_range_keeps_only_its_days(tmp_path):
    result = analyse([write(tmp_path / "a.log", NGINX_LINES)], "2026-11-21", "2026-11-21", 1)
    assert result.outside == 3
    assert {r[0] for r in table(result, "route", 10)} == {"/d/", "/p/"}


def test_byte_ranges_cover_every_line_exactly_once(tmp_path):
    lines = [f"line {i} ".encode() + b"x" * (i % 37) for i in range(5000)]
    path = write(tmp_path / "lines.log", lines)
    for chunk in (1, 7, 64, 1000, 10**6):
        got: list[bytes] = []
        with open(path, "rb") as handle:
            for task in plan([path], chunk):
                got += read_range(handle, task.start, task.end).splitlines()
        assert got == lines, chunk


def test_many_processes_agree_with_one(tmp_path):
    big = NGINX_LINES * 400
    paths = [write(tmp_path / "p.log", big), write(tmp_path / "q.log.gz", big)]
    one = analyse(paths, processes=1, chunk=4096)
    many = analyse(paths, processes=3, chunk=4096)
    assert (many.lines, many.malformed) == (one.lines, one.malformed) == (6400, 1600)
    assert many.pv == one.pv and many.uv == one.uv


def test_the_cli_prints_tables_and_lines_per_second(tmp_path):
    path = write(tmp_path / "x.log.bz2", NGINX_LINES)
    out = CliRunner().invoke(cli_main, ["logstats", path, "-j", "2", "--top", "3"])
    assert out.exit_code == 0, out.output
    assert "abcDEF123456" in out.output and "2 malformed" in out.output
    assert "lines/s" in out.output
