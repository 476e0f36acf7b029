"""Benchmark of ``risk ingest`` on CSV extracts written the way agencies write them.

A synthetic population (``bench/out/pop_<n>_seed<s>``, made as ``bench/run.py`` makes them) is
written as agency extracts: cp1251, ``;``, dates as ``31.12.2024``, Russian headers, agency codes
for event types, decimal commas, ``да/нет``; families and members one file each, events one file
per source and three-year period (cached under ``--work``). Then, each in a fresh child process
so that its peak memory is its own:

- **ingest**: ``risk.ingest.ingest`` of the mapping (read, convert, reject, check references,
  validate, quality report, atomic Parquet write);
- **bare read**: ``pyarrow.csv.read_csv`` of the same files with the same options and every
  column as text: the floor of any CSV ingest, and the reference of the ratio.

Target: 1,000,000 families (about 20M event rows) in ≤ 2 minutes and ≤ 8 GiB on 2 cores.

Usage::

    python -m bench.bench_ingest [--families 1000000] [--work /tmp/ingest_bench] [--results FILE]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._util import append_section, machine, peak_rss_gib

ROOT = Path(__file__).resolve().parents[1]
CODES = "cp1251"
DELIMITER = ";"
DATE = "%d.%m.%Y"
PERIODS = ((2000, 2021), (2022, 2023), (2024, 2100))
ROLES = {"mother": "мать", "father": "отец", "guardian": "опекун", "child": "ребёнок"}
SEXES = {"F": "Ж", "M": "М"}
SETTLEMENTS = {"urban": "город", "rural": "село"}
TARGET_S = 120.0
TARGET_GIB = 8.0


def agency_code(event_type: str) -> str:
    from features import EVENT_TYPES

    return f"К{list(EVENT_TYPES).index(event_type):02d}"


def _recode(table, column: str, mapping: dict[str, str]):  # type: ignore[no-untyped-def]
    import pyarrow as pa
    import pyarrow.compute as pc

    idx = pc.index_in(table.column(column), value_set=pa.array(list(mapping)))
    return pa.array(list(mapping.values())).take(idx)


def _dates(column):  # type: ignore[no-untyped-def]
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.strftime(column.cast(pa.timestamp("s")), format=DATE)


def _write(table, path: Path) -> None:  # type: ignore[no-untyped-def]
    """Write UTF-8 CSV with pyarrow, then transcode to cp1251 in blocks."""
    import pyarrow.csv as pacsv

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".utf8")
    pacsv.write_csv(table, tmp, pacsv.WriteOptions(delimiter=DELIMITER, quoting_style="needed"))
    with (
        tmp.open(encoding="utf-8", newline="") as src,
        path.open("w", encoding=CODES, newline="") as dst,
    ):
        while block := src.read(1 << 24):
            dst.write(block)
    tmp.unlink()


def write_extracts(population: Path, folder: Path) -> Path:
    """Write the population as agency CSV extracts and a mapping; return the mapping."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from features import EVENT_TYPES, SOURCES

    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    fam = pq.read_table(population / "families.parquet")
    _write(
        pa.table(
            {
                "ИД семьи": fam.column("family_id"),
                "Район": fam.column("district"),
                "Тип поселения": _recode(fam, "settlement", SETTLEMENTS),
                "Дата постановки на учёт": _dates(fam.column("registered_on")),
            }
        ),
        tmp / "families.csv",
    )
    mem = pq.read_table(population / "members.parquet")
    _write(
        pa.table(
            {
                "ИД": mem.column("member_id"),
                "ИД семьи": mem.column("family_id"),
                "Роль": _recode(mem, "role", ROLES),
                "Дата рождения": _dates(mem.column("birth_date")),
                "Пол": _recode(mem, "sex", SEXES),
                "Инвалидность": pc.if_else(mem.column("disability"), "да", "нет"),
            }
        ),
        tmp / "members.csv",
    )
    out = pq.read_table(population / "outcomes.parquet")
    _write(
        pa.table(
            {
                "Семья": out.column("family_id"),
                "Дата": _dates(out.column("outcome_date")),
                "Исход": out.column("outcome_type"),
            }
        ),
        tmp / "outcomes.csv",
    )
    ev = pq.read_table(population / "events.parquet")
    codes = {name: agency_code(name) for name in EVENT_TYPES}
    raw = ev.column("value")
    raw = pc.if_else(pc.is_nan(raw), pa.scalar(None, pa.float64()), raw)
    value = pc.replace_substring(raw.cast(pa.string()), ".", ",")
    events = pa.table(
        {
            "Номер записи": ev.column("event_id"),
            "ИД семьи": ev.column("family_id"),
            "ИД члена семьи": ev.column("member_id"),
            "Дата": _dates(ev.column("event_date")),
            "Код события": _recode(ev, "event_type", codes),
            "Значение": value,
        }
    )
    del ev, value
    year = pc.year(pq.read_table(population / "events.parquet", columns=["event_date"])[0])
    source = pq.read_table(population / "events.parquet", columns=["source"])[0]
    mapping = [_registry_mapping()]
    for src in SOURCES:
        for first, last in PERIODS:
            mask = pc.and_(
                pc.equal(source, src),
                pc.and_(pc.greater_equal(year, first), pc.less_equal(year, last)),
            )
            _write(events.filter(mask), tmp / "events" / src / f"{first}-{last}.csv")
        mapping.append(
            _events_mapping(src, {c: t for t, c in codes.items() if EVENT_TYPES[t].source == src})
        )
    (tmp / "mapping.toml").write_text("\n".join(mapping), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    return folder / "mapping.toml"


def _csv_keys() -> str:
    return (
        f'format = "csv"\nencoding = "{CODES}"\ndelimiter = "{DELIMITER}"\ndate_format = "{DATE}"'
    )


def _values(table: str, column: str, mapping: dict[str, str]) -> str:
    body = "\n".join(f'"{v}" = "{k}"' for k, v in mapping.items())
    return f"[extracts.{table}.values.{column}]\n{body}\n"


def _registry_mapping() -> str:
    return f"""
[extracts.families]
table = "families"
path = "families.csv"
{_csv_keys()}
[extracts.families.columns]
family_id = "ИД семьи"
district = "Район"
settlement = "Тип поселения"
registered_on = "Дата постановки на учёт"
{_values("families", "settlement", SETTLEMENTS)}
[extracts.members]
table = "members"
path = "members.csv"
{_csv_keys()}
[extracts.members.columns]
member_id = "ИД"
family_id = "ИД семьи"
role = "Роль"
birth_date = "Дата рождения"
sex = "Пол"
disability = "Инвалидность"
{_values("members", "role", ROLES)}
{_values("members", "sex", SEXES)}
[extracts.outcomes]
table = "outcomes"
path = "outcomes.csv"
{_csv_keys()}
[extracts.outcomes.columns]
family_id = "Семья"
outcome_date = "Дата"
outcome_type = "Исход"
"""


def _events_mapping(source: str, codes: dict[str, str]) -> str:
    body = "\n".join(f'"{c}" = "{t}"' for c, t in codes.items())
    return f"""
[extracts.{source}]
table = "events"
source = "{source}"
path = "events/{source}/*.csv"
{_csv_keys()}
[extracts.{source}.columns]
event_id = "Номер записи"
family_id = "ИД семьи"
member_id = "ИД члена семьи"
event_date = "Дата"
event_type = "Код события"
value = "Значение"
[extracts.{source}.codes]
{body}
"""


def cpu_seconds() -> float:
    """CPU time (user + system, all threads) of this process so far: on a shared machine the
    wall time measures the neighbours too, this does not."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure_ingest(mapping: Path, extraction_date: str) -> dict[str, float]:
    """Run the ingest in this process into a temporary folder; return time, rows and peak RSS."""
    from risk.ingest import ingest

    with tempfile.TemporaryDirectory(dir=mapping.parent.parent) as tmp:
        start = time.perf_counter()
        result = ingest(mapping, Path(tmp) / "records", extraction_date=extraction_date)
        seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "rows": result.summary["rows"],
        "rejected": result.summary["rejected"],
        "gaps": len(result.gaps),
        "peak_gib": peak_rss_gib(),
        "cpu_s": cpu_seconds(),
    }


def measure_bare_read(mapping: Path) -> dict[str, float]:
    """Read every CSV of the extracts with pyarrow alone (all columns as text)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    files = sorted(mapping.parent.rglob("*.csv"))
    start = time.perf_counter()
    rows = 0
    for file in files:
        with file.open(encoding=CODES) as fh:
            header = fh.readline().rstrip("\r\n").split(DELIMITER)
        table = pacsv.read_csv(
            file,
            read_options=pacsv.ReadOptions(encoding=CODES, block_size=16 << 20),
            parse_options=pacsv.ParseOptions(delimiter=DELIMITER),
            convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in header}),
        )
        rows += table.num_rows
        del table
    return {
        "seconds": time.perf_counter() - start,
        "rows": rows,
        "peak_gib": peak_rss_gib(),
        "cpu_s": cpu_seconds(),
    }


def _child(stage: str, *args: str) -> dict:
    cmd = [sys.executable, "-m", "bench.bench_ingest", "--stage", stage, *args]
    done = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "ingest_bench")
    parser.add_argument("--results", type=Path, default=None, help="Markdown file to update.")
    parser.add_argument("--stage", choices=["population", "ingest", "bare"])
    parser.add_argument("--mapping", type=Path)
    args = parser.parse_args(argv)
    if args.stage == "population":
        from bench.bench_train import population

        print(json.dumps({"path": str(population(args.families, args.seed))}))
        return
    if args.stage == "ingest":
        print(json.dumps(measure_ingest(args.mapping, "2025-12-31")))
        return
    if args.stage == "bare":
        print(json.dumps(measure_bare_read(args.mapping)))
        return
    pop = Path(
        _child("population", "--families", str(args.families), "--seed", str(args.seed))["path"]
    )
    folder = args.work / f"extracts_{args.families}_seed{args.seed}"
    mapping = folder / "mapping.toml"
    if not mapping.exists():
        start = time.perf_counter()
        write_extracts(pop, folder)
        print(f"wrote extracts in {time.perf_counter() - start:.0f} s -> {folder}", file=sys.stderr)
    size = sum(f.stat().st_size for f in folder.rglob("*.csv")) / 1024**3
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    ing = _child("ingest", "--mapping", str(mapping))
    bare = _child("bare", "--mapping", str(mapping))
    after = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    ratio = ing["seconds"] / bare["seconds"]
    ok = ing["seconds"] <= TARGET_S and ing["peak_gib"] <= TARGET_GIB
    lines = [
        f"families {args.families:,}; extract rows {ing['rows']:,} in {size:.2f} GiB of cp1251 CSV",
        f"ingest {ing['seconds']:.1f} s (CPU {ing['cpu_s']:.1f} s), peak {ing['peak_gib']:.2f} GiB "
        f"({ing['rejected']:,} rejected, {ing['gaps']} gaps)",
        f"pyarrow bare read {bare['seconds']:.1f} s (CPU {bare['cpu_s']:.1f} s), "
        f"peak {bare['peak_gib']:.2f} GiB; "
        f"ratio {ratio:.1f}x",
        f"target ≤ {TARGET_S:.0f} s and ≤ {TARGET_GIB:.0f} GiB: {'met' if ok else 'NOT met'}",
        f"uptime at start: {uptime}",
        f"uptime at end: {after}",
    ]
    print("\n".join(lines))
    if args.results is not None:
        body = (
            f"`python -m bench.bench_ingest --families {args.families} --results {args.results}`"
            f" ({machine()}).\n\n"
            "| families | extract rows | CSV size | ingest (CPU) | peak RSS |"
            " pyarrow bare read (CPU) | ratio | target |\n|---|---|---|---|---|---|---|---|\n"
            f"| {args.families:,} | {ing['rows']:,} | {size:.2f} GiB | {ing['seconds']:.1f} s "
            f"({ing['cpu_s']:.1f} s) | {ing['peak_gib']:.2f} GiB | {bare['seconds']:.1f} s "
            f"({bare['cpu_s']:.1f} s) | {ratio:.1f}× | ≤ {TARGET_S:.0f} s, ≤ {TARGET_GIB:.0f} GiB: "
            f"{'✓' if ok else '✗'} |\n\n"
            f"Load (other processes share the 2 cores): `{uptime}` at the start, `{after}` at "
            "the end. CPU is user + system time of the measuring process, all threads.\n"
        )
        append_section(args.results, "Ingest", body)


if __name__ == "__main__":
    main()
