"""OptiPass interoperability: its barrier input table, its output table, and a budget sweep.

OptiPass (O'Hanley) reads one CSV row per barrier and project::

    BARID, REGION, FOCUS, DSID, USHAB, PREPASS, NPROJ, ACTION, COST, POSTPASS

``DSID`` is the barrier downstream (empty or ``NA`` at the river mouth), ``USHAB`` the
habitat just upstream, ``PREPASS``/``POSTPASS`` the passability before and after project
``ACTION`` (1..``NPROJ``; a barrier without projects has one row with ``NPROJ`` 0, ``ACTION``
0), ``FOCUS`` 1 (or Y) if the barrier may be acted on, 0 (or N) if not. Tab- or
comma-separated; ``ID`` and ``REG`` are read as ``BARID`` and ``REGION``. One habitat target
(OptiPass's ``HAB_t``/``PRE_t``/``POST_t`` triples for several targets are not read). The
output has one row per budget::

    BUDGET, STATUS, %OPTGAP, PTNL_HABITAT, NETGAIN, ACT_<BARID>...

(``STATUS`` OPT or NO_SOLN, ``PTNL_HABITAT`` the accessible habitat, ``NETGAIN`` its gain
over doing nothing, one column per barrier with the action chosen, 0 for none).

:func:`to_study` turns a project into a dss study (one subunit per barrier plus the mouth,
``barriers.csv``, ``barrier_options.csv``, ``fish_habitat.csv``) with a model whose
``fish_passage`` component values one habitat unit at 1, so that ``dss solve``, ``dss sweep``
and :func:`sweep` run it through the one solver path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from dss.errors import InputError, Issue
from dss.network.barriers import section_tree
from dss.optimize.fish_network import fish_network
from dss.optimize.fish_options import barrier_options
from dss.optimize.problem import Problem

COLUMNS = ["BARID", "REGION", "FOCUS", "DSID", "USHAB", "PREPASS", "NPROJ", "ACTION", "COST",
           "POSTPASS"]
ALIASES = {"ID": "BARID", "REG": "REGION"}
"""Other names of the columns (OptiPass's server wrapper writes ID and REG)."""
FOCUS = {"1": True, "Y": True, "0": False, "N": False}
"""FOCUS values: 1 (or Y) = the barrier may be acted on."""
MOUTH = "MOUTH"
"""Subunit id of the river mouth (below every barrier) in a converted study."""


@dataclass(frozen=True)
class OptiPassProject:
    """An OptiPass input table (one row per barrier and project), typed and checked."""

    table: pd.DataFrame

    @property
    def barriers(self) -> pd.DataFrame:
        """One row per barrier: BARID, REGION, FOCUS, DSID, USHAB, PREPASS."""
        return self.table.drop_duplicates("BARID")[
            ["BARID", "REGION", "FOCUS", "DSID", "USHAB", "PREPASS"]].reset_index(drop=True)

    @property
    def projects(self) -> pd.DataFrame:
        """One row per project (ACTION >= 1): BARID, ACTION, COST, POSTPASS."""
        return self.table[self.table["ACTION"] > 0][
            ["BARID", "ACTION", "COST", "POSTPASS"]].reset_index(drop=True)

    def accessible_habitat(self) -> float:
        """Habitat reachable from the mouth today: :math:`\\sum_j h_j \\prod p_k` over the
        barriers on the path from barrier :math:`j` down to the mouth, :math:`j` included."""
        bars = self.barriers
        down = dict(zip(bars["BARID"], bars["DSID"], strict=True))
        p = dict(zip(bars["BARID"], bars["PREPASS"], strict=True))
        total = 0.0
        for b, h in zip(bars["BARID"], bars["USHAB"], strict=True):
            prod, k = 1.0, b
            while k:
                prod *= p[k]
                k = down[k]
            total += h * prod
        return total


def read_optipass(path: Path | str) -> OptiPassProject:
    """Read and check an OptiPass input table.

    Raises:
        InputError: every problem, located by row and column.
    """
    path = Path(path)
    name = path.name
    try:
        with open(path, encoding="utf-8-sig") as fh:
            header = fh.readline()
        sep = "\t" if "\t" in header else ","  # OptiPass writes tabs; spreadsheets commas
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                          sep=sep)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise InputError([Issue(name, f"cannot read the OptiPass table ({err})")]) from None
    raw.columns = [ALIASES.get(c.strip().upper(), c.strip().upper()) for c in raw.columns]
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise InputError([Issue(name, f"missing column(s) {', '.join(missing)} (an OptiPass "
                                      f"table has {', '.join(COLUMNS)})")])
    issues: list[Issue] = []
    table = pd.DataFrame({"BARID": raw["BARID"].str.strip(), "REGION": raw["REGION"].str.strip(),
                          "FOCUS": raw["FOCUS"].str.strip().str.upper(),
                          "DSID": raw["DSID"].str.strip().replace({"NA": "", "NAN": ""})})
    for col, lo, hi, integer in (("USHAB", 0, None, False), ("PREPASS", 0, 1, False),
                                 ("NPROJ", 0, None, True), ("ACTION", 0, None, True),
                                 ("COST", 0, None, False), ("POSTPASS", 0, 1, False)):
        values = pd.to_numeric(raw[col].str.strip().replace({"NA": "", "": "0"}),
                               errors="coerce")
        bad = values.isna() | (values < lo) | (values > hi if hi is not None else False) | (
            (values != values.round()) if integer else False)
        rule = (f"{'an integer' if integer else 'a number'} >= {lo}"
                + (f" and <= {hi}" if hi is not None else ""))
        for pos in np.flatnonzero(bad.to_numpy())[:20]:
            issues.append(Issue(name, f"{raw[col].iloc[pos]!r} is not {rule}", int(pos) + 2,
                                col))
        table[col] = values.fillna(0).astype(int if integer else float)
    for pos in np.flatnonzero((table["BARID"] == "").to_numpy())[:20]:
        issues.append(Issue(name, "empty barrier id", int(pos) + 2, "BARID"))
    for pos in np.flatnonzero(~table["FOCUS"].isin(list(FOCUS)).to_numpy())[:20]:
        issues.append(Issue(name, f"FOCUS {raw['FOCUS'].iloc[pos]!r} is not 1 or 0 (Y or N)",
                            int(pos) + 2, "FOCUS"))
    known = set(table["BARID"])
    for pos in np.flatnonzero((~table["DSID"].isin(known | {""})).to_numpy())[:20]:
        issues.append(Issue(name, f"DSID {table['DSID'].iloc[pos]!r} is not a BARID of this "
                                  "table (empty or NA at the river mouth)", int(pos) + 2,
                            "DSID"))
    dup = table.duplicated(["BARID", "ACTION"], keep="first").to_numpy()
    for pos in np.flatnonzero(dup)[:20]:
        issues.append(Issue(name, f"barrier {table['BARID'].iloc[pos]!r} lists action "
                                  f"{table['ACTION'].iloc[pos]} twice", int(pos) + 2, "ACTION"))
    if not issues:
        per = table.groupby("BARID", sort=False)
        for b, group in per:
            nproj = set(group["NPROJ"])
            actions = sorted(a for a in group["ACTION"] if a > 0)
            if len(nproj) > 1 or actions != list(range(1, max(nproj) + 1)) or len(
                    set(group[["DSID", "USHAB", "PREPASS"]].itertuples(index=False))) > 1:
                issues.append(Issue(name, f"barrier {b!r}: its rows must share DSID, USHAB, "
                                          "PREPASS and NPROJ, and list ACTION 1..NPROJ",
                                    int(group.index[0]) + 2, "NPROJ"))
    if issues:
        raise InputError(issues, f"invalid OptiPass table {name}")
    return OptiPassProject(table.reset_index(drop=True))


def write_optipass(project: OptiPassProject, path: Path | str) -> None:
    """Write an OptiPass input table (``NA`` for the mouth's DSID, as OptiPass writes it)."""
    out = project.table[COLUMNS].copy()
    out["DSID"] = out["DSID"].replace({"": "NA"})
    out.to_csv(path, index=False, lineterminator="\n", float_format="%.10g")


def from_study(study) -> OptiPassProject:
    """An OptiPass table from a dss study: REGION is the barrier's township, USHAB the
    habitat of the first species in ``fish_habitat.csv``, FOCUS Y where a barrier has
    options, COST the capital cost (OptiPass has no annual or lost-generation cost)."""

    tree = section_tree(study.routing.ids, study.routing.down, study.barriers)
    net = fish_network(study, pd.DataFrame(columns=["unit", "resource", "action_id"]))
    species = sorted(net.habitat)[0] if net.habitat else None
    habitat = net.habitat.get(species, np.zeros(tree.n_sections)) if species else np.zeros(
        tree.n_sections)
    opts = barrier_options(study)
    township = dict(zip(study.subunits["subunit_id"], study.subunits["township"], strict=True))
    rows = []
    for k, b in enumerate(tree.barrier_ids):
        parent = int(tree.parent[k])
        ds = str(tree.barrier_ids[parent]) if 0 <= parent < tree.n_barriers else ""
        mine = opts[opts["barrier_id"] == b]
        region = township.get(study.barriers["subunit_id"].iloc[k], "")
        base = {"BARID": b, "REGION": str(region),
                "FOCUS": "1" if len(mine) else "0", "DSID": ds, "USHAB": float(habitat[k]),
                "PREPASS": float(net.pass_up[k]), "NPROJ": len(mine)}
        if not len(mine):
            rows.append(base | {"ACTION": 0, "COST": 0.0, "POSTPASS": float(net.pass_up[k])})
        for a, rec in enumerate(mine.itertuples(index=False), start=1):
            rows.append(base | {"ACTION": a, "COST": float(rec.capital_cost),
                                "POSTPASS": float(rec.passability)})
    return OptiPassProject(pd.DataFrame(rows, columns=COLUMNS))


def to_study(project: OptiPassProject, folder: Path | str, budget: float = 0.0) -> Path:
    """Write ``project`` as a dss study with its ``model.yaml``; returns the model file.

    Habitat below every barrier (at the mouth) is 0; the component values each accessible
    habitat unit at 1, so the objective is the net gain (OptiPass's NETGAIN). Projects of
    barriers with FOCUS N are left out: they cannot be chosen.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    bars = project.barriers
    ids = bars["BARID"].tolist()
    sub = pd.DataFrame({"subunit_id": [MOUTH, *ids], "name": [MOUTH, *ids],
                        "downstream_id": ["", *[d or MOUTH for d in bars["DSID"]]],
                        "area_ha": 1.0, "township": ["", *bars["REGION"]],
                        "usle_r": 0.0, "usle_k": 0.0, "usle_ls": 0.0, "sdr": 0.0})
    sub.loc[0, "township"] = "mouth"
    sub.to_csv(folder / "subunits.csv", index=False, lineterminator="\n")
    pd.DataFrame({"land_class": ["river"], "name": ["river"], "usle_c": [0.0], "usle_p": [1.0],
                  "tn_export": [0.0], "tp_export": [0.0]}).to_csv(
        folder / "land_classes.csv", index=False, lineterminator="\n")
    pd.DataFrame({"subunit_id": sub["subunit_id"], "land_class": "river", "area_ha": 1.0}
                 ).to_csv(folder / "land_cover.csv", index=False, lineterminator="\n")
    pd.DataFrame({"action_id": ["no_land_action"], "name": ["(no land action)"],
                  "applies_to": ["river"], "unit": ["ha"], "agency": ["optipass"]}
                 ).to_csv(folder / "actions.csv", index=False, lineterminator="\n")
    pd.DataFrame({"species": ["habitat"], "name": ["OptiPass habitat"]}).to_csv(
        folder / "species.csv", index=False, lineterminator="\n")
    pd.DataFrame({"barrier_id": ids, "name": ids, "subunit_id": ids,
                  "passability": bars["PREPASS"], "status": "active"}).to_csv(
        folder / "barriers.csv", index=False, lineterminator="\n", float_format="%.17g")
    projects = project.projects.merge(bars[["BARID", "FOCUS"]], on="BARID")
    projects = projects[projects["FOCUS"].map(FOCUS).fillna(False).astype(bool)]
    pd.DataFrame({"option_id": [f"{b}#{a}" for b, a in zip(projects["BARID"],
                                                           projects["ACTION"], strict=True)],
                  "barrier_id": projects["BARID"], "kind": "other",
                  "passability": projects["POSTPASS"], "restored_km": 0.0,
                  "capital_cost": projects["COST"], "agency": "optipass"}).to_csv(
        folder / "barrier_options.csv", index=False, lineterminator="\n", float_format="%.17g")
    pd.DataFrame({"species": "habitat", "subunit_id": ids, "barrier_id": ids,
                  "habitat": bars["USHAB"], "quality": 1.0}).to_csv(
        folder / "fish_habitat.csv", index=False, lineterminator="\n", float_format="%.17g")
    model = {"name": "optipass", "inputs": ".", "settings": {"horizon_years": 1},
             "solver": {"mip_gap": 0.0, "threads": 1},
             "components": {"objective": {"type": "max_benefit"},
                            "budget": {"type": "budget", "total": float(budget)},
                            "land": {"type": "land"},
                            "fish": {"type": "fish_passage",
                                     "species": {"habitat": {"value": 1.0}}}}}
    path = folder / "model.yaml"
    path.write_text(yaml.safe_dump(model, sort_keys=False), encoding="utf-8")
    return path


STATUS = {"optimal": "OPT", "infeasible": "NO_SOLN"}
"""OptiPass's STATUS for dss's (others are written in capitals as dss names them)."""


def sweep(project: OptiPassProject, budgets: list[float], folder: Path | str
          ) -> pd.DataFrame:
    """Solve the project at each budget (through :func:`to_study` and the one solver path)
    and return OptiPass's output table. ``folder`` receives the converted study."""

    model = to_study(project, folder)
    ids = project.barriers["BARID"].tolist()
    rows = []
    for budget in budgets:
        result = Problem.from_model(model, sets=[f"components.budget.total={float(budget)!r}"]
                                    ).solve()
        row = {"BUDGET": budget, "STATUS": STATUS.get(result.status, result.status.upper()),
               "%OPTGAP": 100.0 * result.gap if result.has_plan else np.nan}
        acts = dict.fromkeys(ids, 0)
        if result.has_plan:
            comp = result.built.problem.component("fish")
            before, after = comp.metric_after(result.built.ctx, result.amounts)["habitat"]
            net = comp.network(result.built.ctx)
            chosen = net.chosen(result.amounts)
            for k, o in enumerate(chosen.tolist()):
                if o >= 0:
                    acts[ids[k]] = int(str(net.options["option_id"].iloc[o]).rsplit("#", 1)[1])
            row |= {"PTNL_HABITAT": after, "NETGAIN": after - before}
        else:
            row |= {"PTNL_HABITAT": np.nan, "NETGAIN": np.nan}
        rows.append(row | {f"ACT_{b}": a for b, a in acts.items()})
    return pd.DataFrame(rows)
