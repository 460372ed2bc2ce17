"""docs/providers.md's providers × capabilities table agrees with the provider registry: one row per
registered adapter, one column per capability (`ProviderManifest` adapter field), ✓ exactly where the
manifest has that adapter. Adding a provider or a capability without updating the doc fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.providers import registry
from tests.provider_capabilities import capabilities, capability_names

DOC = Path(__file__).resolve().parents[1] / "docs" / "providers.md"
FIRST_HEADER = "adapter (registry name)"
FIXED_COLUMNS = [FIRST_HEADER, "provider id"]
MARKS = {"✓": True, "—": False}


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def capability_table() -> tuple[list[str], dict[str, list[str]]]:
    """(header, {registry name: row cells}) of the table whose first header cell is FIRST_HEADER."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("|") and cells(line)[0] == FIRST_HEADER]
    assert len(starts) == 1, f"docs/providers.md needs exactly one table headed '| {FIRST_HEADER} | …'"
    header = cells(lines[starts[0]])
    assert set("".join(cells(lines[starts[0] + 1]))) <= set("-: "), "the header must be followed by | --- | rows"
    rows: dict[str, list[str]] = {}
    for line in lines[starts[0] + 2:]:
        if not line.startswith("|"):
            break
        row = cells(line)
        assert len(row) == len(header), f"row has {len(row)} cells, the header {len(header)}: {line}"
        name = row[0].strip("`")
        assert name not in rows, f"{name!r} appears twice in the capabilities table"
        rows[name] = row
    return header, rows


def test_the_table_has_one_column_per_capability():
    header, _ = capability_table()
    assert header[:2] == FIXED_COLUMNS
    assert header[2:] == capability_names(), (
        "the capability columns of docs/providers.md must be the ProviderManifest adapter fields, in order")


def test_the_table_has_one_row_per_registered_provider():
    _, rows = capability_table()
    registered = [m.name for m in registry.all_manifests()]
    missing = sorted(set(registered) - set(rows))
    extra = sorted(set(rows) - set(registered))
    assert not missing, f"add rows to the capabilities table in docs/providers.md for {missing}"
    assert not extra, f"rows in docs/providers.md's capabilities table name no registered adapter: {extra}"


@pytest.mark.parametrize("name", [m.name for m in registry.all_manifests()])
def test_each_cell_agrees_with_the_manifest(name):
    header, rows = capability_table()
    if name not in rows:
        pytest.fail(f"{name!r} has no row in docs/providers.md's capabilities table")
    manifest = registry.get(name)
    has = set(capabilities(manifest))
    for column, cell in zip(header[2:], rows[name][2:]):
        assert cell in MARKS, f"{name}/{column}: write ✓ or —, not {cell!r}"
        assert MARKS[cell] == (column in has), (
            f"docs/providers.md says {name} {'has' if MARKS[cell] else 'lacks'} {column}; the manifest "
            f"{'has' if column in has else 'lacks'} it")
