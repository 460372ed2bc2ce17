"""The model catalog file (catalog/models.json) and price refreshes, from the command line (docs/catalog.md).

    python scripts/catalog.py export [--db PATH] [--out catalog/models.json]   a database's catalog -> the file
    python scripts/catalog.py check  [--file catalog/models.json]              freshly migrated catalog == the file?
    python scripts/catalog.py refresh --format litellm|models.dev --file X --db PATH [--apply]

Without --db, export and check migrate a fresh in-memory SQLite database with migrations/ (the catalog's
source: a price change is a migration, and the file must be re-exported with it; `check` fails otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from gateway import catalog_refresh  # noqa: E402
from gateway.ports.local import SQLiteDatabase  # noqa: E402
from gateway.storage import model_catalog  # noqa: E402

CATALOG_FILE = ROOT / "catalog" / "models.json"


def open_database(path: str | None) -> SQLiteDatabase:
    if path is not None:
        if not Path(path).exists():
            raise SystemExit(f"no database at {path}")
        return SQLiteDatabase(path)
    database = SQLiteDatabase(":memory:")
    database.migrate(ROOT / "migrations")
    return database


def file_entry(row: dict[str, Any]) -> dict[str, Any]:
    """A models row as the file holds it: flags as booleans, image prices as an object."""
    entry = dict(row)
    for name in model_catalog.FLAG_COLUMNS:
        entry[name] = bool(entry[name])
    for name in model_catalog.JSON_COLUMNS:
        if entry.get(name) is not None:
            entry[name] = json.loads(entry[name])
    return entry


async def catalog_document(database: SQLiteDatabase) -> dict[str, Any]:
    rows = await model_catalog.all_models(database)
    return {"columns": list(model_catalog.COLUMNS), "models": [file_entry(row) for row in rows]}


def render(document: dict[str, Any]) -> str:
    lines = ['{', f'  "columns": {json.dumps(document["columns"])},', '  "models": [']
    models = document["models"]
    for index, entry in enumerate(models):
        lines.append("    " + json.dumps(entry, sort_keys=False) + ("," if index < len(models) - 1 else ""))
    lines += ["  ]", "}", ""]
    return "\n".join(lines)


async def export(args: argparse.Namespace) -> int:
    database = open_database(args.db)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(render(await catalog_document(database)), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


def differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """Human-readable differences between two catalog documents (model id, column, file value, database value)."""
    found = []
    if expected["columns"] != actual["columns"]:
        found.append(f"columns: file {expected['columns']} != database {actual['columns']}")
    in_file = {entry["id"]: entry for entry in expected["models"]}
    in_db = {entry["id"]: entry for entry in actual["models"]}
    for model_id in sorted(in_file.keys() | in_db.keys()):
        if model_id not in in_db:
            found.append(f"{model_id}: in the file, not in the migrated catalog")
        elif model_id not in in_file:
            found.append(f"{model_id}: in the migrated catalog, not in the file")
        else:
            for column in in_db[model_id]:
                if in_file[model_id].get(column) != in_db[model_id][column]:
                    found.append(f"{model_id}.{column}: file {in_file[model_id].get(column)!r} "
                                 f"!= database {in_db[model_id][column]!r}")
    return found


async def check(args: argparse.Namespace) -> int:
    expected = json.loads(Path(args.file).read_text(encoding="utf-8"))
    found = differences(expected, await catalog_document(open_database(args.db)))
    for line in found:
        print(line)
    if found:
        print("catalog file and migrations disagree: run `python scripts/catalog.py export`", file=sys.stderr)
        return 1
    print("catalog file matches the migrated catalog")
    return 0


async def refresh(args: argparse.Namespace) -> int:
    if args.db is None:
        raise SystemExit("refresh needs --db (the database whose catalog to refresh)")
    database = open_database(args.db)
    data = json.loads(Path(args.file).read_text(encoding="utf-8"))
    parsed = catalog_refresh.parse(args.format, data)
    diffs = catalog_refresh.diff(await model_catalog.all_models(database), parsed)
    for entry in diffs:
        for column, change in entry["changes"].items():
            print(f"{entry['model_id']}  {column}: {change['old']!r} -> {change['new']!r}")
    if not diffs:
        print("no changes")
    elif args.apply:
        await model_catalog.apply_refresh(database, diffs, source=args.format)
        print(f"applied changes to {len(diffs)} model(s)")
    else:
        print(f"{len(diffs)} model(s) would change; run again with --apply to apply")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    export_cmd = commands.add_parser("export", help="write the catalog file from a database's catalog")
    export_cmd.add_argument("--db", help="a gateway SQLite file (default: freshly migrated)")
    export_cmd.add_argument("--out", default=str(CATALOG_FILE))
    check_cmd = commands.add_parser("check", help="fail when the catalog file and the migrated catalog differ")
    check_cmd.add_argument("--db", help="a gateway SQLite file (default: freshly migrated)")
    check_cmd.add_argument("--file", default=str(CATALOG_FILE))
    refresh_cmd = commands.add_parser("refresh", help="diff (and with --apply, apply) a public catalog's prices")
    refresh_cmd.add_argument("--format", required=True, choices=catalog_refresh.SOURCES)
    refresh_cmd.add_argument("--file", required=True)
    refresh_cmd.add_argument("--db", required=True)
    refresh_cmd.add_argument("--apply", action="store_true")
    args = parser.parse_args(argv)
    command = {"export": export, "check": check, "refresh": refresh}[args.command]
    return asyncio.run(command(args))


if __name__ == "__main__":
    raise SystemExit(main())
