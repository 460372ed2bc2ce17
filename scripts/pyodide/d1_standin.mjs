// A D1 binding stand-in: D1's Worker binding API over node:sqlite, for the Pyodide test run.
//
// The shapes follow the D1 binding workerd itself ships (`cloudflare-internal:d1-api` in the pinned
// workerd 1.20261117; D1 Worker API docs): the classes are named `D1Database` and `D1PreparedStatement`
// because the runtime SDK recognises bindings by constructor name (`_EnvWrapper` wraps a `D1Database`
// in its `_BindingWrapper`); every method that touches the database is async; `bind()` validates its
// values and returns a new statement; errors are `Error`s whose message starts with `D1_ERROR: `
// (`D1_TYPE_ERROR: ` from bind, `D1_COLUMN_NOTFOUND: ` from first(col), `D1_EXEC_ERROR: ` from exec);
// results are `{success: true, meta: {...}, results: [...]}` with rows as plain objects.
//
// D1's own rules that are enforced here too: foreign keys on; no BEGIN/COMMIT/ROLLBACK/SAVEPOINT in SQL
// (a batch is the transaction); at most 100 bound parameters per statement.
// Not modelled: network latency, replicas and sessions (withSession), row/size limits, D1's SQLite build.

import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

const MAX_BOUND_PARAMETERS = 100; // D1's documented limit per query
const TRANSACTION_SQL = /^\s*(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b/i;

// SQLite primary result codes, for D1-style messages ("...: SQLITE_CONSTRAINT").
const SQLITE_CODES = {
  1: "SQLITE_ERROR", 2: "SQLITE_INTERNAL", 3: "SQLITE_PERM", 4: "SQLITE_ABORT", 5: "SQLITE_BUSY",
  6: "SQLITE_LOCKED", 7: "SQLITE_NOMEM", 8: "SQLITE_READONLY", 9: "SQLITE_INTERRUPT", 10: "SQLITE_IOERR",
  11: "SQLITE_CORRUPT", 13: "SQLITE_FULL", 17: "SQLITE_SCHEMA", 18: "SQLITE_TOOBIG",
  19: "SQLITE_CONSTRAINT", 20: "SQLITE_MISMATCH", 21: "SQLITE_MISUSE", 25: "SQLITE_RANGE",
};

function d1Error(prefix, message, cause) {
  return new Error(`${prefix}: ${message}`, { cause: cause ?? new Error(message) });
}

function sqliteMessage(error) {
  if (typeof error?.errcode === "number") {
    const code = SQLITE_CODES[error.errcode & 0xff] ?? `SQLITE_${error.errcode & 0xff}`;
    return `${error.message}: ${code}`;
  }
  return error?.message ?? String(error);
}

// What bind() accepts, as D1 does: numbers and strings as they are, booleans as 1/0, null, and bytes
// (arrays of 0..255, ArrayBuffer, views) as arrays of numbers. Anything else (undefined, bigint,
// plain objects) is a D1_TYPE_ERROR, thrown by bind() itself.
function checkedValue(value) {
  const type = typeof value;
  if (type === "number" || type === "string") return value;
  if (type === "boolean") return value ? 1 : 0;
  if (type === "object") {
    if (value == null) return value;
    if (Array.isArray(value) && value.every((b) => typeof b === "number" && b >= 0 && b < 256)) return value;
    if (value instanceof ArrayBuffer) return Array.from(new Uint8Array(value));
    if (ArrayBuffer.isView(value)) return Array.from(value);
  }
  throw d1Error("D1_TYPE_ERROR", `Type '${type}' not supported for value '${value}'`);
}

// D1 transports values as JSON: blobs come back as arrays of byte values.
function cell(value) {
  return value instanceof Uint8Array ? Array.from(value) : value;
}

function sqliteParam(value) {
  return Array.isArray(value) ? Uint8Array.from(value) : value;
}

export class D1PreparedStatement {
  #session;
  statement;
  params;

  constructor(session, statement, params) {
    this.#session = session;
    this.statement = statement;
    this.params = params || [];
  }

  bind(...values) {
    return new D1PreparedStatement(this.#session, this.statement, values.map(checkedValue));
  }

  async first(columnName) {
    const { results } = this.#session.execute(this);
    if (results.rows.length === 0) return null;
    const row = toObjects(results)[0];
    if (columnName === undefined) return row;
    if (row[columnName] === undefined) {
      throw d1Error("D1_COLUMN_NOTFOUND", `Column not found (${columnName})`);
    }
    return row[columnName];
  }

  async all() {
    return asD1Result(this.#session.execute(this));
  }

  async run() {
    return asD1Result(this.#session.execute(this)); // D1 answers run() with the same shape as all()
  }

  async raw(options) {
    const { results } = this.#session.execute(this);
    return [...(options?.columnNames ? [results.columns] : []), ...results.rows];
  }
}

function toObjects(results) {
  return results.rows.map((row) => Object.fromEntries(row.map((value, i) => [results.columns[i], value])));
}

function asD1Result(executed) {
  return { success: true, meta: executed.meta, results: toObjects(executed.results) };
}

class Session {
  constructor(sqlite) {
    this.sqlite = sqlite;
    this.totalChanges = sqlite.prepare("SELECT total_changes() AS n");
    this.lastChange = sqlite.prepare("SELECT changes() AS changes, last_insert_rowid() AS last_row_id");
    this.size = sqlite.prepare(
      "SELECT page_count * page_size AS size FROM pragma_page_count(), pragma_page_size()",
    );
  }

  // One statement: rows and columns plus D1's meta. Throws `D1_ERROR: ...` as the binding does.
  execute(statement) {
    const started = performance.now();
    if (TRANSACTION_SQL.test(statement.statement)) {
      throw d1Error(
        "D1_ERROR",
        "SQL transactions are not supported by D1: use batch() for statements that must commit together: SQLITE_AUTH",
      );
    }
    if (statement.params.length > MAX_BOUND_PARAMETERS) {
      throw d1Error("D1_ERROR", `too many SQL variables (${statement.params.length} > ${MAX_BOUND_PARAMETERS}): SQLITE_ERROR`);
    }
    let columns, rows, changes, lastRowId, changedDb;
    try {
      const before = this.totalChanges.get().n;
      const prepared = this.sqlite.prepare(statement.statement);
      prepared.setReturnArrays(true);
      columns = prepared.columns().map((column) => column.name);
      rows = prepared.all(...statement.params.map(sqliteParam)).map((row) => row.map(cell));
      const last = this.lastChange.get();
      changedDb = this.totalChanges.get().n !== before;
      changes = changedDb ? last.changes : 0; // changes() keeps its old value after a SELECT
      lastRowId = last.last_row_id;
    } catch (error) {
      if (error?.message?.startsWith("D1_")) throw error;
      throw d1Error("D1_ERROR", sqliteMessage(error), error);
    }
    const duration = performance.now() - started;
    return {
      results: { columns, rows },
      meta: {
        served_by: "d1-standin (node:sqlite)",
        served_by_region: "LOCAL",
        served_by_primary: true,
        timings: { sql_duration_ms: duration },
        duration,
        changes,
        last_row_id: lastRowId,
        changed_db: changedDb,
        size_after: this.size.get().size,
        rows_read: rows.length,
        rows_written: changes,
      },
    };
  }
}

export class D1Database {
  #session;

  constructor(sqlite) {
    this.#session = new Session(sqlite);
  }

  prepare(query) {
    return new D1PreparedStatement(this.#session, query);
  }

  // All statements in one transaction: every result, or an error and nothing written.
  async batch(statements) {
    const sqlite = this.#session.sqlite;
    sqlite.exec("SAVEPOINT d1_batch");
    try {
      const results = statements.map((statement) => asD1Result(this.#session.execute(statement)));
      sqlite.exec("RELEASE d1_batch");
      return results;
    } catch (error) {
      sqlite.exec("ROLLBACK TO d1_batch");
      sqlite.exec("RELEASE d1_batch");
      throw error;
    }
  }

  // As D1 does it: one statement per line (D1 splits the text on newlines), no results.
  async exec(query) {
    const lines = query.trim().split("\n");
    let duration = 0;
    for (const [index, line] of lines.entries()) {
      const started = performance.now();
      try {
        if (TRANSACTION_SQL.test(line)) throw new Error("SQL transactions are not supported by D1");
        this.#session.sqlite.exec(line);
      } catch (error) {
        throw d1Error("D1_EXEC_ERROR", `Error in line ${index + 1}: ${line}: ${sqliteMessage(error)}`, error);
      }
      duration += performance.now() - started;
    }
    return { count: lines.length, duration };
  }
}

// A fresh in-memory D1 database with the real schema: migrations/*.sql in name order (as wrangler applies
// them), then d1_views.sql.
export function createD1(root) {
  const sqlite = new DatabaseSync(":memory:");
  sqlite.exec("PRAGMA foreign_keys = ON"); // D1 enforces foreign keys
  const migrations = join(root, "migrations");
  for (const name of readdirSync(migrations).filter((n) => n.endsWith(".sql")).sort()) {
    sqlite.exec(readFileSync(join(migrations, name), "utf8"));
  }
  sqlite.exec(readFileSync(join(root, "d1_views.sql"), "utf8"));
  return new D1Database(sqlite);
}
