#!/usr/bin/env python3
"""The DuckDB baseline of the indicators bench (server/benches/indicators.rs).

Loads the bench's CSV export of the city-year into an in-memory DuckDB (server/benches/sql/load_duckdb.sql),
then answers each flow-report query of the bench's query list with server/benches/sql/flow_duckdb.sql
(every statement, parameters substituted as literals, every row fetched), timed in-process, and writes
the timings and the answers as JSON for the bench to compare with the engine's reports:

    {"duckdb": "<version>", "threads": N, "load_s": s, "warmup": n,
     "timings_ms": [per query], "results": [[[part, key, v…], …] per query]}

    duckdb_flow.py --csv DIR --load load_duckdb.sql --sql flow_duckdb.sql --queries queries.json --out out.json

queries.json: {"warmup": n, "queries": [{"i": index, "params": {"f": "…", …}}, …]} (the values are SQL
literals). DuckDB comes from PyPI (`pip install duckdb`, scripts/bench.sh puts it in target/bench-venv).
"""
import argparse
import json
import sys
import time

import duckdb


def statements(text):
    """The statements of a file: comment lines dropped, split at a `;` that ends a line."""
    body = "\n".join(line for line in text.splitlines() if not line.strip().startswith("--"))
    return [s.strip() for s in (body + "\n").split(";\n") if s.strip()]


def substitute(sql, params):
    for k, v in params.items():
        sql = sql.replace("{" + k + "}", v)
    return sql


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--csv", required=True)
    p.add_argument("--load", required=True)
    p.add_argument("--sql", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()

    con = duckdb.connect(":memory:")
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    t0 = time.perf_counter()
    for s in statements(open(a.load, encoding="utf-8").read()):
        con.execute(substitute(s, {"csv": a.csv}))
    load_s = time.perf_counter() - t0
    n = con.execute("SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM case_events)").fetchone()
    print(f"duckdb {duckdb.__version__}: loaded {n[0]} cases, {n[1]} events in {load_s:.1f} s ({threads} threads)", file=sys.stderr)

    flow = statements(open(a.sql, encoding="utf-8").read())
    spec = json.load(open(a.queries, encoding="utf-8"))
    queries = spec["queries"]

    def answer(params):
        rows = []
        for s in flow:
            for r in con.execute(substitute(s, params)).fetchall():
                rows.append([r[0], r[1] if r[1] is not None else ""] + [int(v) if v is not None else None for v in r[2:]])
        return rows

    warmup = min(spec.get("warmup", 0), len(queries))
    for q in queries[:warmup]:
        answer(q["params"])
    timings, results = [], []
    for k, q in enumerate(queries):
        t = time.perf_counter()
        rows = answer(q["params"])
        timings.append((time.perf_counter() - t) * 1000.0)
        results.append(rows)
        if (k + 1) % 10 == 0:
            print(f"duckdb: {k + 1}/{len(queries)} queries", file=sys.stderr)
    json.dump({"duckdb": duckdb.__version__, "threads": threads, "load_s": load_s, "warmup": warmup, "timings_ms": timings, "results": results},
              open(a.out, "w", encoding="utf-8"))


if __name__ == "__main__":
    main()
