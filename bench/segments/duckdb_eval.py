"""The DuckDB side of the `segments` benchmark (`rapport bench-segments` runs it).

Reads the events as CSV on stdin (header `profile_id,name,ts,series`), loads them into a table
of a DuckDB database file (not timed), writes the same table to a Parquet file (not timed), then
times the example segment's SQL on the table and straight on the Parquet file, best of `--runs`.
Prints one JSON object on stdout; progress goes to stderr. With `--members-out` it also writes
the members' profile ids, sorted, one per line (after the timings, not timed).
"""

import argparse
import json
import os
import sys
import time

import duckdb

# The example segment: viewed a series-A product, did not order, and at least five WeCom
# messages, all in the last 30 days (an event counts while ts > now - 30 days).
SEGMENT_SQL = """
SELECT profile_id
FROM {source}
WHERE ts > {cutoff}
  AND name IN ('Product Viewed', 'Order Completed', 'WeCom Message')
GROUP BY profile_id
HAVING count(*) FILTER (WHERE name = 'Product Viewed' AND series = 'A') >= 1
   AND count(*) FILTER (WHERE name = 'Order Completed') = 0
   AND count(*) FILTER (WHERE name = 'WeCom Message') >= 5
"""


def log(message):
    print(f"  duckdb: {message}", file=sys.stderr, flush=True)


def timed(con, sql, runs):
    """Runs `SELECT count(*) FROM (sql)` `runs` times: (milliseconds of each run, the count)."""
    counted = f"SELECT count(*) FROM ({sql})"
    times, members = [], None
    for _ in range(runs):
        started = time.perf_counter()
        members = con.execute(counted).fetchone()[0]
        times.append((time.perf_counter() - started) * 1000.0)
    return times, members


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True, help="DuckDB database file to create")
    parser.add_argument("--parquet", required=True, help="Parquet file to write")
    parser.add_argument("--cutoff", required=True, type=int, help="window start, epoch ms")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="0: DuckDB's default")
    parser.add_argument("--members-out", help="write the members' profile ids here")
    args = parser.parse_args()

    for path in (args.db, args.db + ".wal", args.parquet):
        if os.path.exists(path):
            os.remove(path)
    con = duckdb.connect(args.db)
    if args.threads > 0:
        con.execute(f"SET threads = {args.threads}")
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]

    started = time.perf_counter()
    con.execute(
        "CREATE TABLE events AS SELECT * FROM read_csv('/dev/stdin', header = true, "
        "columns = {'profile_id': 'VARCHAR', 'name': 'VARCHAR', 'ts': 'BIGINT', 'series': 'VARCHAR'})"
    )
    con.execute("CHECKPOINT")
    load_s = time.perf_counter() - started
    rows = con.execute("SELECT count(*) FROM events").fetchone()[0]
    log(f"loaded {rows} events in {load_s:.1f} s")

    started = time.perf_counter()
    con.execute(f"COPY events TO '{args.parquet}' (FORMAT parquet)")
    parquet_s = time.perf_counter() - started
    log(f"wrote {args.parquet} in {parquet_s:.1f} s")

    table_sql = SEGMENT_SQL.format(source="events", cutoff=args.cutoff)
    table_ms, table_members = timed(con, table_sql, args.runs)
    log(f"table: {', '.join(f'{t:.0f}' for t in table_ms)} ms, {table_members} members")
    parquet_sql = SEGMENT_SQL.format(source=f"read_parquet('{args.parquet}')", cutoff=args.cutoff)
    parquet_ms, parquet_members = timed(con, parquet_sql, args.runs)
    log(f"parquet: {', '.join(f'{t:.0f}' for t in parquet_ms)} ms, {parquet_members} members")

    if args.members_out:
        ids = con.execute(f"SELECT profile_id FROM ({table_sql}) ORDER BY profile_id").fetchall()
        with open(args.members_out, "w", encoding="utf-8") as f:
            for (profile_id,) in ids:
                f.write(profile_id + "\n")

    print(
        json.dumps(
            {
                "version": duckdb.__version__,
                "threads": int(threads),
                "rows": rows,
                "load_s": load_s,
                "db_bytes": os.path.getsize(args.db),
                "parquet_bytes": os.path.getsize(args.parquet),
                "sql": SEGMENT_SQL.format(source="events", cutoff=args.cutoff).strip(),
                "table": {"runs_ms": table_ms, "members": table_members},
                "parquet": {"runs_ms": parquet_ms, "members": parquet_members},
            }
        )
    )
    con.close()


if __name__ == "__main__":
    main()
