"""Runs every ``bench_*.py`` beside this file and passes on their JSON lines.

Each benchmark prints one JSON object per figure on stdout:
``{"name", "value", "unit", "baseline": {"name", "value"}, "ratio"}`` where the baseline
(or peer) is measured in the same run on the same machine. ``--only NAME`` runs one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", help="run only bench_<ONLY>.py")
    args, rest = parser.parse_known_args()
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if s.stem == f"bench_{args.only}"]
    failed = 0
    for script in scripts:
        proc = subprocess.run(
            [sys.executable, str(script), *rest], cwd=HERE.parent, capture_output=True, text=True, env=os.environ.copy()
        )
        for line in proc.stdout.splitlines():
            line = line.strip()
            if not line.startswith("{"):
                continue
            figure = json.loads(line)
            figure.setdefault("benchmark", script.stem)
            print(json.dumps(figure, ensure_ascii=False), flush=True)
        if proc.returncode != 0:
            failed += 1
            sys.stderr.write(f"{script.name} failed ({proc.returncode}):\n{proc.stderr[-2000:]}\n")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
