"""make bench — run every benchmark in bench/ and print one table: target, measured, command.

Benchmarks run against a database of their own (``census_bench`` on the same server as the app: the
machine's PostgreSQL when DATABASE_URL is set, the embedded one otherwise), filled with a 1,000,000-person
synthetic district by the first benchmark. Each ``bench/bench_*.py`` module defines ``BENCHMARKS``, a list
of :class:`Benchmark`; they run in file-name order, so ``bench_00_seed.py`` comes first.

    python bench/run.py                    # everything
    python bench/run.py --only seed        # benchmarks whose name contains "seed"
    python bench/run.py --reuse            # keep the already seeded bench database
    python bench/run.py --persons 6000000  # a district of another size

Above 1,000,000 persons a row is judged by the targets of issue 26 for a 6,000,000-person district where that issue
sets its own (``Benchmark.large_target``; the row's function reads ``BenchContext.large``). Every run also keeps
its rows in ``bench/results/<persons>.json`` (the latest figure of each row at that size), where the load row at
6,000,000 finds the 1,000,000-person figure it is compared with.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
# Above this size a row is held to its ``large_target`` (issue 26's figures for 6,000,000 persons).
LARGE_PERSONS = 1_000_000


@dataclass
class Measured:
    value: str
    ok: bool
    detail: str = ""
    # The row's figure as a number, where another row compares with it (the load row's submissions/s).
    figure: float | None = None


@dataclass
class Benchmark:
    name: str
    target: str
    run: Callable[[BenchContext], Measured]
    needs_seed: bool = True
    # The target above LARGE_PERSONS, when issue 26 sets one of its own (else ``target`` holds at every size).
    large_target: str | None = None

    def target_for(self, context: BenchContext) -> str:
        return self.large_target if context.large and self.large_target else self.target


@dataclass
class BenchContext:
    persons: int
    reuse: bool
    env: dict[str, str] = field(default_factory=dict)
    seeded: bool = False

    @property
    def large(self) -> bool:
        return self.persons > LARGE_PERSONS

    def recorded(self, name: str, persons: int) -> dict[str, object] | None:
        """The latest row ``name`` measured on a district of ``persons`` (``bench/results/<persons>.json``)."""
        path = RESULTS / f"{persons}.json"
        if not path.exists():
            return None
        return json.loads(path.read_text()).get(name)

    def manage(self, *args: str, timeout: int = 3600) -> tuple[float, subprocess.CompletedProcess[str]]:
        """Run ``manage.py`` against the bench database; returns (wall seconds, the finished process)."""
        started = time.perf_counter()
        process = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        elapsed = time.perf_counter() - started
        if process.returncode != 0:
            raise RuntimeError(
                f"manage.py {' '.join(args)} failed:\n{process.stdout[-2000:]}\n{process.stderr[-4000:]}"
            )
        return elapsed, process

    def python(self, code: str, timeout: int = 3600) -> subprocess.CompletedProcess[str]:
        """Run Python code with Django set up against the bench database; its stdout is returned."""
        prelude = (
            "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'census.settings'); django.setup()\n"
        )
        process = subprocess.run(
            [sys.executable, "-c", prelude + code],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if process.returncode != 0:
            raise RuntimeError(f"bench code failed:\n{process.stdout[-2000:]}\n{process.stderr[-4000:]}")
        return process


def load_benchmarks() -> list[Benchmark]:
    benchmarks: list[Benchmark] = []
    for path in sorted((ROOT / "bench").glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)
        benchmarks.extend(module.BENCHMARKS)
    return benchmarks


def bench_env() -> dict[str, str]:
    env = dict(os.environ)
    env["CENSUS_DATABASE_NAME"] = env.get("CENSUS_BENCH_DATABASE_NAME", "census_bench")
    env.setdefault("DEBUG", "False")
    env.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
    env.setdefault("SIGNATURE_LEDGER_KEY", "bench-only-signature-ledger-key-0123456789")
    env.setdefault("CENSUS_PSEUDONYM_KEY", "bench-only-pseudonym-key-0123456789abcdef")
    env.setdefault("ALLOWED_HOSTS", "*")
    env.setdefault("SECURE_COOKIES", "False")
    env["PYTHONPATH"] = str(ROOT)
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="run only benchmarks whose name contains this text")
    parser.add_argument("--persons", type=int, default=int(os.environ.get("BENCH_PERSONS", "1000000")))
    parser.add_argument("--reuse", action="store_true", help="reuse the seeded bench database")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    context = BenchContext(persons=args.persons, reuse=args.reuse, env=bench_env())
    # Make sure the bench database exists and is migrated before anything is timed.
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; from census.embedded import ensure_database; "
            "ensure_database(settings.DATABASES['default'])",
        ],
        cwd=ROOT,
        env={**context.env, "DJANGO_SETTINGS_MODULE": "census.settings"},
        check=True,
    )
    context.manage("migrate", "--verbosity", "0")
    context.manage("collectstatic", "--noinput", "--verbosity", "0")  # pages render with the production storage
    # The timed commands and workers start as in a deployment, where the image compiles the project's bytecode
    # (Dockerfile): not compiling some 160 modules at every start, as under PYTHONDONTWRITEBYTECODE.
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "census", "enumeration", "supervision", "manage.py"],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    benchmarks = [b for b in load_benchmarks() if not args.only or args.only in b.name]
    rows: list[tuple[Benchmark, Measured]] = []
    for benchmark in benchmarks:
        print(f"… {benchmark.name}", flush=True)
        try:
            measured = benchmark.run(context)
        except Exception as exc:
            measured = Measured("error", False, str(exc)[-500:])
        rows.append((benchmark, measured))
        print(f"  {measured.value} {'ok' if measured.ok else 'MISSED'} {measured.detail}", flush=True)
    print_table(rows, context)
    size = "" if context.persons == 1_000_000 else f" --persons {context.persons}"
    records = [
        {
            "name": b.name,
            "persons": context.persons,
            "target": b.target_for(context),
            "measured": m.value,
            "figure": m.figure,
            "ok": m.ok,
            "detail": m.detail,
            "at": time.strftime("%Y-%m-%d %H:%M:%S"),
            "command": f"python bench/run.py{size} --reuse --only {b.name}",
        }
        for b, m in rows
    ]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(records, ensure_ascii=False, indent=1))
    by_size = RESULTS / f"{context.persons}.json"
    kept = json.loads(by_size.read_text()) if by_size.exists() else {}
    kept.update({record["name"]: record for record in records})
    by_size.write_text(json.dumps(kept, ensure_ascii=False, indent=1))
    return 0 if all(m.ok for _, m in rows) else 1


def print_table(rows: list[tuple[Benchmark, Measured]], context: BenchContext) -> None:
    header = ("benchmark", "target", "measured", "ok", "command")
    size = "" if context.persons == 1_000_000 else f" --persons {context.persons}"
    lines = [
        (
            b.name,
            b.target_for(context),
            m.value,
            "yes" if m.ok else "NO",
            f"python bench/run.py{size} --reuse --only {b.name}",
        )
        for b, m in rows
    ]
    widths = [max(len(str(row[i])) for row in [header, *lines]) for i in range(len(header))]
    print()
    print(" | ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for line in lines:
        print(" | ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)))


if __name__ == "__main__":
    sys.exit(main())
