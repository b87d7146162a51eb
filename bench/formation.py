"""Group-formation benchmark, and a CLI to run the engine on a planning file.

    python bench/formation.py                      # full benchmark (five shapes), prints a Markdown table
    python bench/formation.py --sizes 500 --shapes plenty --exact-scale 0.2
    python bench/formation.py --input plan.json    # print the engine's proposal for a document

Waitlists come from bench/formation_gen.py (seeded; see docs/bench-formation.md): problem areas
role_transition 35%, role_dispute 25%, grief 20%, interpersonal_deficits 20%; members in five zones
(New York 44%, Chicago 30%, Los Angeles 15%, Denver 8%, London 3%); availability from one or two
patterns (weekday evenings 45%, weekend mornings 20%, weekday mornings 15%, lunch 10%, weekend afternoons
10%) on 1-4 days with edges moved by up to 30 minutes; 0.5% give no availability. Facilitators (New York
or Chicago) speak one or two languages, lead two problem areas (a fifth lead any), take 1-3 groups and
are free in three patterns. Shapes: `plenty` (one facilitator per 22 members, en 80% / es 20%),
`scarce` (one per 70), `small_buckets` (en/es/fr/ar 55/25/12/8%, 25% adolescents, same-gender groups
via match_on gender, one facilitator per 25), `multilingual` (en/es/pt 50/40/10, facilitators speaking 1-3
languages, four in five free only from 19:00 on some weekday evenings, where one facilitator fits groups of
several buckets at one hour), `existing` (en/es 70/30, two in five facilitators already lead one or two
groups: every week, on dates overlapping the cycle, or ended before it). Cycles: 12 weeks from
2027-03-01, across both DST changes.

For each instance: members placed by the engine, by the naive greedy, and by the exact CP-SAT model
(bench/formation_exact.py: best solution and proven bound within its time limit); a simple bound (no
solution places more than the members who fit some group, nor more than every facilitator's capacity,
max_groups less the groups they lead already, times max_size); groups; unplaced by reason (and
REPAIRED if the engine's last check had to change a group); engine seconds; engine peak RSS, measured
in a fresh child process (VmHWM of that process: the interpreter, OR-Tools and the generated document).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.formation_exact import solve_exact  # noqa: E402
from bench.formation_gen import instance  # noqa: E402
from ipt_groups.formation.engine import greedy_groups, parse_input, propose_groups  # noqa: E402

EXACT_SECONDS = {500: 60, 2000: 90, 10000: 120}
TIME_LIMIT = {500: 5, 2000: 2, 10000: 18}


def _engine_child(shape: str, size: int, queue) -> None:
    doc = instance(shape, size)
    doc["policy"]["time_limit_s"] = TIME_LIMIT.get(size, 10)
    started = time.perf_counter()
    result = propose_groups(parse_input(doc))
    seconds = time.perf_counter() - started
    peak_mb = _peak_rss_mb()
    queue.put({"stats": result["stats"], "seconds": seconds, "peak_mb": peak_mb})


def _peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM): unlike ru_maxrss it is not inherited from the forking parent."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_engine(shape: str, size: int) -> dict:
    """Run parse + propose in a fresh process, for a clean peak-RSS figure."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_engine_child, args=(shape, size, queue))
    child.start()
    out = queue.get()
    child.join()
    return out


def bench_one(shape: str, size: int, exact_scale: float) -> dict:
    engine = run_engine(shape, size)
    doc = instance(shape, size)
    inp = parse_input(doc)
    naive = greedy_groups(inp)["stats"]["placed"]
    exact = solve_exact(inp, EXACT_SECONDS.get(size, 60) * exact_scale)
    capacity = sum(f.capacity for f in inp.facilitators) * inp.policy.max_size
    simple = min(engine["stats"]["reachable"], capacity)
    return {"shape": shape, "size": size, "engine": engine, "greedy": naive, "exact": exact, "simple": simple}


def row(r: dict) -> str:
    e, x = r["engine"], r["exact"]
    ratio = f"{100 * e['stats']['placed'] / x['best']:.1f}%" if x["best"] else "-"
    reasons = ", ".join(f"{k} {v}" for k, v in e["stats"]["unplaced_by_reason"].items())
    if e["stats"]["repaired"]:  # the engine's last check changed groups: a step broke a rule
        reasons += "; REPAIRED " + ", ".join(f"{k} {v}" for k, v in e["stats"]["repaired"].items())
    cells = [r["shape"], r["size"], e["stats"]["placed"], r["greedy"], x["best"], x["bound"], r["simple"]]
    cells += [
        x["status"],
        f"{x['seconds']:.0f}",
        ratio,
        e["stats"]["groups"],
        reasons,
        f"{e['seconds']:.2f}",
        f"{e['peak_mb']:.0f}",
    ]
    return "| " + " | ".join(str(c) for c in cells) + " |"


HEADER = (
    "| shape | members | engine placed | greedy placed | exact best | exact bound | simple bound"
    " | exact status | exact s | engine/exact | groups | unplaced by reason | engine s | peak RSS MB |\n"
    + "|---" * 14
    + "|"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", help="planning document (JSON); prints the engine's proposal")
    parser.add_argument("--sizes", default="500,2000,10000")
    parser.add_argument("--shapes", default="plenty,scarce,small_buckets,multilingual,existing")
    parser.add_argument("--exact-scale", type=float, default=1.0, help="multiply exact-model time limits")
    args = parser.parse_args()
    if args.input:
        print(json.dumps(propose_groups(parse_input(json.loads(Path(args.input).read_text()))), indent=2))
        return
    print(HEADER, flush=True)
    for size in map(int, args.sizes.split(",")):
        for shape in args.shapes.split(","):
            print(row(bench_one(shape, size, args.exact_scale)), flush=True)


if __name__ == "__main__":
    main()
