"""``dss solve`` end to end against the identical LP/MIP built straight from numpy in highspy.

Usage::

    python benchmarks/bench_perf.py [--sizes 1000 10000 100000] [--actions 8] [--seed 0]
                                    [--timeout SECONDS] [--repeat 1]

For each size a synthetic study is generated (``dss.synth.write_study``); then, in one run and
side by side, two fresh Python processes (one per side, so each peak RSS is its own):

- **dss**: ``dss.api.run_solve`` end to end, timed per phase:
  read (model file and tables, until the build starts), build (``compile_problem``),
  solve (``solve_built``: the matrices compiled, HiGHS, the solution read back; the
  fixed-MIP duals start in a background thread), write (result tables, report, files,
  while the duals finish: they are waited for before the summary is written);
- **reference**: the same model assembled from numpy arrays and passed to ``highspy`` with
  ``passModel``: data (dss's option table ``build_options``, local loads and the delivered
  reduction coefficients from ``Routing.transfer``), lp (columns, bounds, integrality and the
  CSC matrix, ``passModel``) and solve, with the same HiGHS options as dss
  (:func:`dss.optimize.solve.highs_options`). Reading the inputs is not part of the reference
  total. The reference knows the synthetic model's components (budget, land, zone_rules,
  delivered_reduction, habitat, carbon, load_limits, max_benefit) and refuses others.

With ``--repeat R`` each side runs R times per size, alternating, and the table shows each
side's median run (every run's total is printed above it): on a shared machine most of the
noise is in HiGHS's own time, which both sides spend alike.

Prints a Markdown table (N, read, build, solve, write, total, reference total, ratio, peak
RSS), checks that both objectives agree to 1e-6 relative, and fits the exponent ``b`` of
``total ~ a N^b`` (log-log least squares) for dss and for the reference.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TOLERANCE = 1e-6
"""Relative tolerance on the objective between dss and the reference."""


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (ru_maxrss is KB on Linux)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024.0 / (1024.0 if sys.platform == "darwin" else 1.0)


# --------------------------------------------------------------------------------- dss side

def run_dss(model_path: Path, out_dir: Path) -> dict:
    """``dss solve`` end to end (``run_solve``), with phase boundaries recorded."""
    import dss.optimize.solve as solve_mod
    from dss.api import run_solve

    marks: dict[str, float] = {}
    compile_problem, solve_built = solve_mod.compile_problem, solve_mod.solve_built

    def timed_compile(*args, **kwargs):
        marks.setdefault("build_start", time.perf_counter())
        built = compile_problem(*args, **kwargs)
        marks.setdefault("build_end", time.perf_counter())
        return built

    def timed_solve(*args, **kwargs):
        result = solve_built(*args, **kwargs)
        marks.setdefault("solve_end", time.perf_counter())
        return result

    solve_mod.compile_problem, solve_mod.solve_built = timed_compile, timed_solve
    t0 = time.perf_counter()
    run = run_solve(model_path, results_root=out_dir)
    t1 = time.perf_counter()
    result = run.result
    return {"read": marks["build_start"] - t0, "build": marks["build_end"] - marks["build_start"],
            "solve": marks["solve_end"] - marks["build_end"], "write": t1 - marks["solve_end"],
            "total": t1 - t0, "status": result.status, "objective": result.objective,
            "options": result.built.ctx.n_options, "mip": result.built.is_mip,
            "rss": peak_rss_mb()}


# --------------------------------------------------------------------------- reference side

def _params(problem, type_name: str) -> list:
    return [c.params for c in problem.components if c.type_name == type_name]


def reference_arrays(problem) -> dict:
    """Columns, rows and objective of the model, as numpy arrays (see module docstring)."""
    import pandas as pd
    from scipy import sparse

    from dss.data.schema import POLLUTANTS, ZONES
    from dss.indicators.loads import local_loads, retention
    from dss.optimize.options import build_options

    known = {"budget", "land", "zone_rules", "delivered_reduction", "habitat", "carbon",
             "max_benefit", "load_limits"}
    unknown = sorted({c.type_name for c in problem.components} - known)
    if unknown:
        raise SystemExit(f"the reference does not know the components {unknown}")
    study, cfg = problem.study, problem.config
    horizon = cfg.settings.horizon_years
    t0 = time.perf_counter()
    opts = build_options(study, horizon)
    local = local_loads(study)
    routing = study.routing
    n = len(opts)
    pos = routing.index(opts["subunit_id"].to_numpy())
    cap = opts["capacity"].to_numpy(float)
    integer = opts["integer"].to_numpy(bool)
    unit_cost = opts["unit_cost"].to_numpy(float)
    fixed_cost = opts["fixed_cost"].to_numpy(float)
    d = {p: opts[f"d_{p}"].to_numpy(float) for p in POLLUTANTS}
    cps = study.control_points.reset_index(drop=True)
    cp_pos = routing.index(cps["subunit_id"].to_numpy()) if len(cps) else np.zeros(0, int)
    ret = np.column_stack([retention(study, p) for p in POLLUTANTS])
    row_of = {t: i for i, t in enumerate(cps["point_id"])}

    # ---- objective (maximise): water + habitat + carbon - cost_weight * cost
    # water: V_sp = sum_t w_t T_st, one upstream pass per pollutant (Routing.delivery_value)
    obj = np.zeros(n)
    for prm in _params(problem, "delivered_reduction"):
        weights = prm.points or dict(zip(cps["point_id"], cps["weight"].astype(float),
                                         strict=True))
        for j, p in enumerate(POLLUTANTS):
            v = prm.values.get(p, 0.0)
            if not v:
                continue
            at_outlet, at_inflow = np.zeros(routing.n), np.zeros(routing.n)
            for t, w in weights.items():
                i = row_of[t]
                if bool(cps[f"cares_{p}"].iat[i]):
                    side = at_inflow if cps["measures"].iat[i] == "inflow" else at_outlet
                    side[cp_pos[i]] += w
            value = routing.delivery_value(ret[:, j], at_outlet, at_inflow)
            obj += horizon * v * value[pos] * d[p]
    species = opts["habitat_species"].to_numpy()
    gain = opts["habitat_gain"].to_numpy(float)
    for prm in _params(problem, "habitat"):
        for s, spec in prm.species.items():
            if spec.target_absolute is not None or spec.target_relative is not None:
                raise SystemExit("the reference does not model habitat targets")
            obj += spec.value * np.where(species == s, gain, 0.0)
    for prm in _params(problem, "carbon"):
        if prm.minimum is not None:
            raise SystemExit("the reference does not model a carbon floor")
        obj += prm.value * opts["d_carbon"].to_numpy(float)
    cost_weight = sum(prm.cost_weight for prm in _params(problem, "max_benefit"))
    t_data = time.perf_counter() - t0

    # ---- columns: amount (n), used (fixed-cost options), spend (townships)
    t1 = time.perf_counter()
    fixed = np.flatnonzero(fixed_cost > 0)
    towns, town_of = np.unique(opts["township"].to_numpy().astype(str), return_inverse=True)
    n_used, n_town = len(fixed), len(towns)
    used0, spend0 = n, n + n_used
    n_col = n + n_used + n_town
    col_cost = np.zeros(n_col)
    col_cost[:n] = obj - cost_weight * unit_cost
    col_cost[used0:spend0] = -cost_weight * fixed_cost[fixed]
    col_lower = np.zeros(n_col)
    col_upper = np.concatenate([cap, np.ones(n_used), np.full(n_town, np.inf)])
    col_int = np.concatenate([integer, np.ones(n_used, bool), np.zeros(n_town, bool)])
    rows_i: list[np.ndarray] = []
    rows_j: list[np.ndarray] = []
    rows_v: list[np.ndarray] = []
    lower: list[np.ndarray] = []
    upper: list[np.ndarray] = []
    n_row = 0

    def add(row: np.ndarray, col: np.ndarray, val: np.ndarray, lo: np.ndarray, up: np.ndarray):
        nonlocal n_row
        rows_i.append(row + n_row)
        rows_j.append(col)
        rows_v.append(val)
        lower.append(lo)
        upper.append(up)
        n_row += len(lo)

    # used_link: x_k - cap_k u_k <= 0
    r = np.arange(n_used)
    add(np.concatenate([r, r]), np.concatenate([fixed, used0 + r]),
        np.concatenate([np.ones(n_used), -cap[fixed]]), np.full(n_used, -np.inf),
        np.zeros(n_used))
    # spend_def: spend_g - sum c_k x_k - sum f_k u_k = 0
    add(np.concatenate([np.arange(n_town), town_of, town_of[fixed]]),
        np.concatenate([spend0 + np.arange(n_town), np.arange(n), used0 + r]),
        np.concatenate([np.ones(n_town), -unit_cost, -fixed_cost[fixed]]),
        np.zeros(n_town), np.zeros(n_town))
    # local_balance: sum_{k in i} d_kp x_k <= L_ip where the largest reduction exceeds L_ip
    for p in sorted(POLLUTANTS):
        most = np.bincount(pos, weights=np.clip(d[p], 0, None) * cap, minlength=routing.n)
        load = local[p].to_numpy(float)
        risky = most > load * (1 + 1e-9) + 1e-9
        k = np.flatnonzero(risky[pos] & (d[p] != 0))
        rank = np.cumsum(risky) - 1
        add(rank[pos[k]], k, d[p][k], np.full(int(risky.sum()), -np.inf), load[risky])
    # budget: sum_g spend_g <= B (and per agency / township)
    for prm in _params(problem, "budget"):
        if prm.per_agency or prm.per_township:
            raise SystemExit("the reference models only a total budget")
        if prm.total is not None:
            add(np.zeros(n_town, int), spend0 + np.arange(n_town), np.ones(n_town),
                np.array([-np.inf]), np.array([prm.total]))
    # land: sum_{k in (i, r)} x_k <= A_ir for groups of two or more options
    if _params(problem, "land"):
        key = pd.Series(opts["subunit_id"].astype(str) + "\x1f" + opts["resource"].astype(str))
        codes, uniq = key.factorize()
        counts = np.bincount(codes, minlength=len(uniq))
        shared = counts >= 2
        resource = np.zeros(len(uniq))
        resource[codes] = opts["resource_capacity"].to_numpy(float)
        rank = np.cumsum(shared) - 1
        k = np.flatnonzero(shared[codes])
        add(rank[codes[k]], k, np.ones(len(k)), np.full(int(shared.sum()), -np.inf),
            resource[shared])
    # zone_rules: x_k <= upper_k where the permitted share < 1; x_k >= lower_k where required
    sub = study.subunits.set_index("subunit_id").reindex(opts["subunit_id"])
    actions = opts["action_id"].to_numpy()
    for prm in _params(problem, "zone_rules"):
        permitted, required = np.zeros(n), np.zeros(n)
        for zone in ZONES:
            rule = getattr(prm, zone)
            share = sub[f"share_{zone}"].to_numpy(float)
            ok = ~np.isin(actions, rule.forbidden)
            if rule.allowed is not None:
                ok &= np.isin(actions, rule.allowed)
            permitted += share * ok
            for a, rho in rule.required.items():
                required += share * rho * (actions == a)
        res = opts["resource_capacity"].to_numpy(float)
        up = np.where(integer, np.floor(res * permitted + 1e-9), cap * permitted)
        lo = np.where(integer, np.ceil(cap * required - 1e-9), cap * required)
        k = np.flatnonzero(permitted < 1 - 1e-12)
        add(np.arange(len(k)), k, np.ones(len(k)), np.full(len(k), -np.inf), up[k])
        k = np.flatnonzero(required > 1e-12)
        add(np.arange(len(k)), k, np.ones(len(k)), lo[k], np.full(len(k), np.inf))
    # load_limits: baseline - reduction <= limit  <=>  reduction >= baseline - limit
    if _params(problem, "load_limits"):
        raise SystemExit("the reference does not model load limits yet")
    a = sparse.csc_matrix((np.concatenate(rows_v), (np.concatenate(rows_i),
                                                    np.concatenate(rows_j))),
                          shape=(n_row, n_col))
    a.sum_duplicates()
    a.sort_indices()
    return {"n_col": n_col, "n_row": n_row, "cost": col_cost, "col_lower": col_lower,
            "col_upper": col_upper, "integer": col_int, "row_lower": np.concatenate(lower),
            "row_upper": np.concatenate(upper), "matrix": a, "data": t_data,
            "assemble": time.perf_counter() - t1, "options": n}


def run_reference(model_path: Path) -> dict:
    """Build the identical model from numpy arrays and solve it with highspy directly."""
    import highspy
    import scipy.sparse  # noqa: F401 - imported before the clock starts, like dss's imports

    from dss.config.loader import load_model
    from dss.data.study import load_study
    from dss.optimize.problem import Problem
    from dss.optimize.solve import highs_options

    resolved = load_model(model_path)
    study = load_study(resolved.inputs_dir, resolved.config.name,
                       resolved.config.settings.area_tolerance)
    problem = Problem.from_config(study, resolved.config, resolved)
    t0 = time.perf_counter()
    arr = reference_arrays(problem)
    t1 = time.perf_counter()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = arr["n_col"], arr["n_row"]
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = arr["cost"], arr["col_lower"], arr["col_upper"]
    lp.row_lower_, lp.row_upper_ = arr["row_lower"], arr["row_upper"]
    lp.sense_ = highspy.ObjSense.kMaximize
    a = arr["matrix"]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
    if arr["integer"].any():
        lp.integrality_ = np.where(arr["integer"], highspy.HighsVarType.kInteger,
                                   highspy.HighsVarType.kContinuous).tolist()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    for key, value in highs_options(problem.config.solver).items():
        h.setOptionValue(key, value)
    h.passModel(lp)
    t2 = time.perf_counter()
    h.run()
    t3 = time.perf_counter()
    status = h.modelStatusToString(h.getModelStatus())
    return {"ref_data": arr["data"], "ref_lp": t2 - t1 + arr["assemble"], "ref_solve": t3 - t2,
            "ref_total": t3 - t0, "ref_status": status,
            "ref_objective": h.getInfo().objective_function_value, "ref_rss": peak_rss_mb(),
            "ref_rows": arr["n_row"], "ref_cols": arr["n_col"]}


# ---------------------------------------------------------------------------------- driver

def _child(args: list[str], timeout: float | None) -> dict:
    cmd = [sys.executable, __file__, *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"killed after {timeout:.0f} s"}
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": f"failed: {tail[:120]}"}
    return json.loads(lines[-1])


def _median_run(runs: list[dict], key: str) -> dict:
    """The run with the median ``key`` (the lower middle one of an even count); a failed
    run if every run failed."""
    done = sorted((r for r in runs if isinstance(r.get(key), float)), key=lambda r: r[key])
    return done[(len(done) - 1) // 2] if done else runs[-1]


def measure(size: int, actions: int, seed: int, timeout: float | None,
            repeat: int = 1) -> dict:
    """Generate a study of ``size`` subunits and time both sides in fresh subprocesses,
    ``repeat`` times each (alternating sides), keeping each side's median run."""
    from dss.synth import write_study

    with tempfile.TemporaryDirectory(prefix=f"dss_perf_{size}_") as tmp:
        model = write_study(Path(tmp) / "study", size, seed=seed, n_actions=actions)
        ours, theirs = [], []
        for _ in range(repeat):
            ours.append(_child(["--child-dss", str(model), str(Path(tmp) / "results")],
                               timeout))
            theirs.append({k if k.startswith("ref_") else f"ref_{k}": v for k, v in
                           _child(["--child-ref", str(model)], timeout).items()})
        row = {"N": size, "totals": [r.get("total") for r in ours],
               "ref_totals": [r.get("ref_total") for r in theirs]}
        row.update(_median_run(ours, "total"))
        row.update(_median_run(theirs, "ref_total"))
    return row


def fit_exponent(sizes: list[float], times: list[float]) -> float | None:
    """Slope of log(time) on log(size), by least squares (None with fewer than 2 points)."""
    pts = [(s, t) for s, t in zip(sizes, times, strict=True) if t and t > 0]
    if len(pts) < 2:
        return None
    x, y = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
    return float(np.polyfit(x, y, 1)[0])


COLUMNS = ["N", "read", "build", "solve", "write", "total", "reference total", "ratio",
           "peak RSS"]


def table(rows: list[dict]) -> str:
    """The Markdown table of the results."""
    def sec(row: dict, key: str) -> str:
        return f"{row[key]:.2f}" if isinstance(row.get(key), float) else "-"

    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---:|" * len(COLUMNS)]
    for r in rows:
        ratio = (f"{r['total'] / r['ref_total']:.2f}"
                 if "total" in r and "ref_total" in r else "-")
        rss = f"{r['rss']:.0f} MB" if "rss" in r else "-"
        lines.append("| " + " | ".join([f"{r['N']:,}", sec(r, "read"), sec(r, "build"),
                                        sec(r, "solve"), sec(r, "write"), sec(r, "total"),
                                        sec(r, "ref_total"), ratio, rss]) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--actions", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=None,
                        help="Kill one side of one size after this many seconds.")
    parser.add_argument("--repeat", type=int, default=1,
                        help="Runs per side and size; the table shows each side's median "
                             "run (a shared machine's noise is mostly in HiGHS's time).")
    parser.add_argument("--child-dss", nargs=2, metavar=("MODEL", "OUT"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--child-ref", metavar="MODEL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_dss:
        print(json.dumps(run_dss(Path(args.child_dss[0]), Path(args.child_dss[1]))))
        return 0
    if args.child_ref:
        print(json.dumps(run_reference(Path(args.child_ref))))
        return 0
    print(f"dss solve vs direct highspy: {args.actions} actions, seed {args.seed}, "
          f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}\n", flush=True)
    rows, ok = [], True
    for size in args.sizes:
        row = measure(size, args.actions, args.seed, args.timeout, max(1, args.repeat))
        rows.append(row)
        detail = ", ".join(f"{k} {row[k]:.2f}" for k in ("ref_data", "ref_lp", "ref_solve")
                           if isinstance(row.get(k), float))
        ref_status = row.get("ref_status", row.get("ref_error"))
        print(f"  {size:,}: dss {row.get('status', row.get('error'))} "
              f"objective {row.get('objective')}, reference {ref_status} "
              f"objective {row.get('ref_objective')} ({detail}; reference peak RSS "
              f"{row.get('ref_rss', 0):.0f} MB, {row.get('options', '?')} options, "
              f"{row.get('ref_cols', '?')} columns, {row.get('ref_rows', '?')} rows)",
              flush=True)
        if len(row["totals"]) > 1:
            print(f"      totals of the {len(row['totals'])} runs: dss "
                  f"{', '.join(f'{t:.2f}' for t in row['totals'] if t is not None)}; reference "
                  f"{', '.join(f'{t:.2f}' for t in row['ref_totals'] if t is not None)}",
                  flush=True)
    print()
    print(table(rows))
    print()
    for r in rows:
        a, b = r.get("objective"), r.get("ref_objective")
        if a is None or b is None:
            print(f"N={r['N']:,}: objective comparison unavailable")
            ok = False
            continue
        rel = abs(a - b) / max(abs(b), 1.0)
        same = rel <= TOLERANCE
        ok &= same
        print(f"N={r['N']:,}: objective dss {a:.10g}, reference {b:.10g}, relative difference "
              f"{rel:.2e} ({'OK' if same else 'MISMATCH'} at {TOLERANCE:g})")
    sizes = [r["N"] for r in rows]
    for label, key in (("dss total", "total"), ("reference total", "ref_total")):
        b = fit_exponent(sizes, [r.get(key) for r in rows])
        if b is not None:
            print(f"scaling exponent of {label} (log-log least squares over "
                  f"{', '.join(f'{s:,}' for s in sizes)}): {b:.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
