"""Run every benchmark in bench/ and print its numbers (`make bench`)."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

for script in sorted(HERE.glob("bench_*.py")):
    print(f"== {script.name}", flush=True)
    sys.argv = [str(script)]  # each benchmark runs with its own defaults
    runpy.run_path(str(script), run_name="__main__")
