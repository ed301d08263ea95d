"""The ``fish_passage`` component: barrier options chosen exactly for connected rivers."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pydantic import Field, NonNegativeFloat

from dss.errors import Issue
from dss.network.barriers import cumulative_passability, pair_passability
from dss.optimize.components.base import Component, Params, Role, register
from dss.optimize.context import BuildContext
from dss.optimize.fish_network import FishNetwork, fish_network
from dss.optimize.fish_options import option_cost
from dss.optimize.fish_report import barrier_table, fish_table

DCI_EVALUATION_SECTIONS = 500
"""Largest network (sections) on which DCI_p is reported for a migratory species."""


class FishSpecies(Params):
    """One fish species of :class:`FishPassage`."""

    movement: Literal["migratory", "resident"] = "migratory"
    """migratory (diadromous: accessible habitat from the outlet) or resident
    (potamodromous: dendritic connectivity index DCI_p)."""
    value: NonNegativeFloat = 0.0
    """Currency per unit gained: per habitat unit (km or ha, quality-weighted) made
    accessible, or per DCI point for a resident species."""
    target: NonNegativeFloat | None = None
    """Least accessible habitat (species' unit) or DCI_p (percent) after the plan."""
    restored_weight: NonNegativeFloat = 1.0
    """Habitat units (quality-weighted) per km of dewatered reach restored (migratory)."""


class FishPassageParams(Params):
    """Parameters of :class:`FishPassage`."""

    species: dict[str, FishSpecies] = Field(default_factory=dict)
    """Species id (fish_habitat.csv) -> its movement, value and target."""
    max_dci_sections: int = Field(80, ge=1)
    """Largest number of sections for which DCI_p is optimised (pair variables grow as its
    square); above it a resident species needs value 0 and no target (evaluated only)."""


@register
class FishPassage(Component):
    """Barrier options (remove, fishway, e-flow) chosen exactly for fish connectivity.

    Sections :math:`s` lie between barriers (:mod:`dss.network.barriers`); section
    :math:`k` lies above barrier :math:`k` and drains to section :math:`d(k)` (an outlet
    section has :math:`z = 1`). Barrier :math:`k` has options :math:`o \\in O_k` with
    binary amounts :math:`y_{ko}` (option rows of the model, their cost in the one budget;
    ``one_option[k]``: :math:`\\sum_o y_{ko} \\le 1`), passabilities :math:`p_{ko}`
    and, for "no option", :math:`p_{k0}` with :math:`y_{k0} = 1 - \\sum_o y_{ko}`.

    Migratory species, accessible habitat :math:`A = \\sum_s h_s z_s + \\sum_{k,o} \\rho
    r_{ko} v_{ko}` where :math:`z_s` is the cumulative passability :math:`\\prod p` along
    the path to the outlet, linearised exactly (O'Hanley's OptiPass model):

    .. math::
        v_{ko} \\le y_{ko}, \\qquad \\sum_{o \\in O_k \\cup 0} v_{ko} \\le z_{d(k)},
        \\qquad z_k \\le \\sum_{o \\in O_k \\cup 0} p_{ko} v_{ko}

    so :math:`v_{ko} \\le y_{ko} z_{d(k)}` and :math:`z_k \\le p_k z_{d(k)}`; as habitat,
    values and targets only reward larger :math:`z`, the optimum is the true product (a
    barrier without options has :math:`z_k \\le p_{k0} z_{d(k)}`). :math:`r_{ko}` is the
    dewatered km the option restores below the barrier, weighted by ``restored_weight``
    :math:`\\rho`.

    Resident species, :math:`DCI_p = 100 (\\sum_s l_s^2 + 2 \\sum_{s<t} l_s l_t c_{st}) /
    L^2` with :math:`c_{st}` the product of :math:`p^u p^d` between sections. For each pair
    the deeper section :math:`a` steps towards the other, :math:`b`:
    :math:`c_{ab} \\le \\sum_o P_{ao} u_{abo}`, :math:`u_{abo} \\le y_{ao}`,
    :math:`\\sum_o u_{abo} \\le c_{d(a) b}` (:math:`c_{bb} = 1`): exact in the same way.

    Benefit per species: value times (after minus before); targets: after :math:`\\ge`
    target. Pyomo: ``one_option``; ``z``, ``v``, ``v_choice``, ``v_parent``, ``z_link``
    (migratory); ``c``, ``u``, ``u_choice``, ``u_parent``, ``c_link`` (resident); ``target[sp]``.
    """

    type_name = "fish_passage"
    role = Role.BENEFIT
    Params = FishPassageParams

    def network(self, ctx: BuildContext) -> FishNetwork:
        """The study's fish network (computed once per context)."""
        return ctx.memo("fish_network", lambda: fish_network(ctx.study, ctx.options))

    def check(self, ctx: BuildContext) -> list[Issue]:
        net = self.network(ctx)
        issues = []
        for sp, spec in self.params.species.items():
            loc = f"components.{self.name}.species.{sp}"
            if sp not in net.habitat:
                known = ", ".join(sorted(net.habitat)) or "none: add fish_habitat.csv"
                issues.append(Issue("model", f"species {sp!r} has no rows in fish_habitat.csv "
                                             f"(species with habitat: {known})", None, loc))
            elif spec.movement == "resident" and (spec.value or spec.target is not None) \
                    and net.tree.n_sections > self.params.max_dci_sections:
                issues.append(Issue("model", f"DCI_p of {sp!r} is optimised only for up to "
                                             f"{self.params.max_dci_sections} sections (this "
                                             f"network has {net.tree.n_sections}); raise "
                                             "max_dci_sections, or set value 0 and no target "
                                             "to evaluate it only", None, loc))
            elif spec.movement == "resident" and net.tree.n_sections > DCI_EVALUATION_SECTIONS:
                issues.append(Issue("model", f"DCI_p of {sp!r} is evaluated only for up to "
                                             f"{DCI_EVALUATION_SECTIONS} sections (this "
                                             f"network has {net.tree.n_sections}); value the "
                                             "species as migratory (accessible habitat) "
                                             "instead", None, loc))
        return issues

    # --- build -------------------------------------------------------------------------
    def build(self, block: pyo.Block, ctx: BuildContext) -> None:
        net = self.network(ctx)
        self._expr: dict[str, Any] = {}
        species = self.params.species
        if any(s.movement == "migratory" for s in species.values()):
            self._build_migratory(block, ctx, net)
        if any(s.movement == "resident" and (s.value or s.target is not None)
               for s in species.values()):
            self._build_resident(block, ctx, net)
        per: dict[int, list[int]] = {}
        for o, k in enumerate(net.option_section.tolist()):
            per.setdefault(k, []).append(int(net.option_rows[o]))
        several = sorted(k for k, rows in per.items() if len(rows) > 1)
        block.one_option = pyo.Constraint(several, rule=lambda _b, k: ctx.linear(
            np.asarray(per[k]), np.ones(len(per[k]))) <= 1.0)
        targets = {sp: s.target for sp, s in species.items() if s.target is not None
                   and sp in self._expr}
        block.target = pyo.Constraint(sorted(targets),
                                      rule=lambda _b, sp: self._expr[sp] >= targets[sp])

    def _choices(self, ctx: BuildContext, net: FishNetwork, passability: np.ndarray
                 ) -> list[list[tuple[Any, float]]]:
        """Per barrier: (choice expression, passability) for "no option" and each option."""
        amount = ctx.amount_vars
        per: list[list[int]] = [[] for _ in range(net.tree.n_barriers)]
        for o, k in enumerate(net.option_section.tolist()):
            per[k].append(o)
        after = (net.options["passability"].to_numpy(float) if passability is net.pass_up
                 else net.options["passability"].to_numpy(float)
                 * net.options["passability_down"].to_numpy(float))
        out = []
        for k, opts in enumerate(per):
            if not opts:
                out.append([])
                continue
            ys = [amount[int(net.option_rows[o])] for o in opts]
            none = 1.0 - sum(ys)
            out.append([(none, float(passability[k]))]
                       + [(y, float(after[o])) for y, o in zip(ys, opts, strict=True)])
        return out

    def _build_migratory(self, block: pyo.Block, ctx: BuildContext, net: FishNetwork) -> None:
        tree = net.tree
        n_b = tree.n_barriers
        parent = tree.parent
        choices = self._choices(ctx, net, net.pass_up)
        v_of: list[tuple[int, int]] = [(k, j) for k in range(n_b) for j in range(len(choices[k]))]
        first = np.zeros(n_b + 1, dtype=np.int64)
        np.cumsum([len(c) for c in choices], out=first[1:])
        block.z = pyo.Var(range(n_b), bounds=(0.0, 1.0))
        block.v = pyo.Var(range(len(v_of)), bounds=(0.0, 1.0))
        z, v = block.z, block.v

        def z_of(s: int) -> Any:
            return z[s] if s < n_b else 1.0

        block.v_choice = pyo.Constraint(range(len(v_of)),
                                        rule=lambda _b, i: v[i] <= choices[v_of[i][0]][
                                            v_of[i][1]][0])
        with_opts = [k for k in range(n_b) if choices[k]]
        block.v_parent = pyo.Constraint(with_opts, rule=lambda _b, k: sum(
            v[i] for i in range(first[k], first[k + 1])) <= z_of(int(parent[k])))
        block.z_link = pyo.Constraint(range(n_b), rule=lambda _b, k: z[k] <= (
            sum(choices[k][j][1] * v[first[k] + j] for j in range(len(choices[k])))
            if choices[k] else float(net.pass_up[k]) * z_of(int(parent[k]))))
        restored = net.options["restored_km"].to_numpy(float)
        option_v = {int(o): int(first[k] + 1 + j) for k in range(n_b)
                    for j, o in enumerate(np.flatnonzero(net.option_section == k))}
        none = np.full(net.tree.n_barriers, -1)
        for sp, spec in self.params.species.items():
            if spec.movement != "migratory" or sp not in net.habitat:
                continue
            h = net.habitat[sp]
            coefs = [(z[s], float(h[s])) for s in range(n_b) if h[s]]
            coefs += [(v[option_v[o]], spec.restored_weight * float(restored[o]))
                      for o in option_v if restored[o] and spec.restored_weight]
            constant = float(h[n_b:].sum())
            self._expr[sp] = pyo.quicksum((c * var for var, c in coefs)) + constant
            self._before = getattr(self, "_before", {})
            self._before[sp] = net.accessible(sp, none, spec.restored_weight)

    def _build_resident(self, block: pyo.Block, ctx: BuildContext, net: FishNetwork) -> None:
        tree = net.tree
        n_b, n_s = tree.n_barriers, tree.n_sections
        parent = tree.parent
        depth, root = tree.depth(), tree.root()
        choices = self._choices(ctx, net, net.pass_pair)
        pairs = [(s, t) for s in range(n_s) for t in range(s + 1, n_s) if root[s] == root[t]]
        pair_id = {p: i for i, p in enumerate(pairs)}
        block.c = pyo.Var(range(len(pairs)), bounds=(0.0, 1.0))
        c = block.c

        def c_of(a: int, b: int) -> Any:
            return 1.0 if a == b else c[pair_id[(min(a, b), max(a, b))]]

        step = []  # (pair, a = stepping section, b = other)
        for i, (s, t) in enumerate(pairs):
            a, b = (t, s) if depth[t] > depth[s] or s >= n_b else (s, t)
            step.append((i, a, b))
        u_of = [(i, j) for i, a, _b in step for j in range(len(choices[a]))]
        first = np.zeros(len(step) + 1, dtype=np.int64)
        np.cumsum([len(choices[a]) for _i, a, _b in step], out=first[1:])
        block.u = pyo.Var(range(len(u_of)), bounds=(0.0, 1.0))
        u = block.u
        block.u_choice = pyo.Constraint(range(len(u_of)), rule=lambda _b, m: u[m] <= choices[
            step[u_of[m][0]][1]][u_of[m][1]][0])
        stepping = [i for i, a, _b in step if choices[a]]
        block.u_parent = pyo.Constraint(stepping, rule=lambda _b, i: sum(
            u[m] for m in range(first[i], first[i + 1])) <= c_of(int(parent[step[i][1]]),
                                                                 step[i][2]))

        def link(_b, i):
            _, a, b = step[i]
            if choices[a]:
                return c[i] <= sum(choices[a][j][1] * u[first[i] + j]
                                   for j in range(len(choices[a])))
            return c[i] <= float(net.pass_pair[a]) * c_of(int(parent[a]), b)

        block.c_link = pyo.Constraint(range(len(pairs)), rule=link)
        none = np.full(n_b, -1)
        for sp, spec in self.params.species.items():
            if spec.movement != "resident" or sp not in net.habitat:
                continue
            length = net.habitat[sp]
            total = float(length.sum())
            if total <= 0:
                continue
            scale = 100.0 / total**2
            terms = [(c[i], 2.0 * scale * float(length[s] * length[t]))
                     for i, (s, t) in enumerate(pairs) if length[s] * length[t] > 0]
            constant = scale * float((length**2).sum())
            self._expr[sp] = pyo.quicksum((w * var for var, w in terms)) + constant
            self._before = getattr(self, "_before", {})
            self._before[sp] = net.dci(sp, none)

    # --- benefits and results -----------------------------------------------------------
    def benefit_terms(self, block: pyo.Block, ctx: BuildContext) -> dict[str, Any]:
        return {f"fish {sp}": spec.value * (self._expr[sp] - self._before[sp])
                for sp, spec in self.params.species.items()
                if spec.value and sp in getattr(self, "_expr", {})}

    def metric_after(self, ctx: BuildContext, amounts: np.ndarray | None
                     ) -> dict[str, tuple[float, float]]:
        """Species -> (before, after): accessible habitat or DCI_p, by path products."""
        net = self.network(ctx)
        none = np.full(net.tree.n_barriers, -1)
        chosen = net.chosen(amounts)
        out = {}
        for sp, spec in self.params.species.items():
            if sp not in net.habitat:
                continue
            if spec.movement == "migratory":
                out[sp] = (net.accessible(sp, none, spec.restored_weight),
                           net.accessible(sp, chosen, spec.restored_weight))
            else:
                out[sp] = (net.dci(sp, none), net.dci(sp, chosen))
        return out

    def indices(self, ctx: BuildContext, amounts: np.ndarray | None
                ) -> dict[tuple[str, str], tuple[float, float]]:
        """(species, index) -> (before, after) for the connectivity indices evaluated besides
        the optimised metric: ``dci_d`` always, ``dci_p`` for a migratory species on networks
        of up to :data:`DCI_EVALUATION_SECTIONS` sections (the pairs grow as its square)."""
        net = self.network(ctx)
        none = np.full(net.tree.n_barriers, -1)
        chosen = net.chosen(amounts)
        out = {}
        for sp, spec in self.params.species.items():
            if sp not in net.habitat:
                continue
            out[(sp, "dci_d")] = (net.dci(sp, none, "d"), net.dci(sp, chosen, "d"))
            if spec.movement == "migratory" and net.tree.n_sections <= DCI_EVALUATION_SECTIONS:
                out[(sp, "dci_p")] = (net.dci(sp, none), net.dci(sp, chosen))
        return out

    def benefit_values(self, block: pyo.Block, ctx: BuildContext, amounts: np.ndarray
                       ) -> dict[str, float]:
        metrics = self.metric_after(ctx, amounts)
        return {f"fish {sp}": spec.value * (metrics[sp][1] - metrics[sp][0])
                for sp, spec in self.params.species.items()
                if spec.value and sp in getattr(self, "_expr", {})}

    def assign_auxiliary(self, block: pyo.Block, ctx: BuildContext, amounts: np.ndarray) -> None:
        """Set the auxiliary variables to their exact values at a plan (``dss verify``)."""
        net = self.network(ctx)
        chosen = net.chosen(amounts)

        if hasattr(block, "z"):
            up, _ = net.passabilities(chosen)
            cum = cumulative_passability(net.tree.parent, up)
            self._assign_steps(block.z, block.v, cum, net, chosen,
                               [(k, int(net.tree.parent[k])) for k in range(net.tree.n_barriers)],
                               lambda s, _b: 1.0 if s >= net.tree.n_barriers else cum[s])
        if hasattr(block, "c"):
            _, pair = net.passabilities(chosen)
            cmat = pair_passability(net.tree.parent, pair)
            pairs = [(s, t) for s in range(net.tree.n_sections)
                     for t in range(s + 1, net.tree.n_sections)
                     if cmat[s, t] > 0 or net.tree.root()[s] == net.tree.root()[t]]
            depth = net.tree.depth()
            n_b = net.tree.n_barriers
            steps = []
            for s, t in pairs:
                a, b = (t, s) if depth[t] > depth[s] or s >= n_b else (s, t)
                steps.append((a, b))
            for i, (s, t) in enumerate(pairs):
                block.c[i].set_value(float(cmat[s, t]), skip_validation=True)
            self._assign_steps(None, block.u, None, net, chosen,
                               [(a, int(net.tree.parent[a])) for a, _b in steps],
                               lambda _s, i: float(cmat[int(net.tree.parent[steps[i][0]]),
                                                        steps[i][1]]))

    @staticmethod
    def _assign_steps(zvar, vvar, cum, net: FishNetwork, chosen: np.ndarray,
                      steps: list[tuple[int, int]], parent_value) -> None:
        position = 0
        per_barrier = np.bincount(net.option_section, minlength=net.tree.n_barriers)
        order = {}
        for o, k in enumerate(net.option_section.tolist()):
            order.setdefault(k, []).append(o)
        for i, (a, up_section) in enumerate(steps):
            if zvar is not None:
                zvar[a].set_value(float(cum[a]), skip_validation=True)
            n_choice = per_barrier[a] + 1 if per_barrier[a] else 0
            if not n_choice:
                continue
            pv = parent_value(up_section, i)
            picked = 0 if chosen[a] < 0 else 1 + order[a].index(int(chosen[a]))
            for j in range(n_choice):
                vvar[position + j].set_value(pv if j == picked else 0.0, skip_validation=True)
            position += n_choice

    def plan_tables(self, built: Any, result: Any) -> dict[str, pd.DataFrame]:
        """``barriers.csv`` (one row per barrier and species) and ``fish.csv``."""
        ctx, amounts = built.ctx, np.asarray(result.amounts, dtype=float)
        net = self.network(ctx)
        cost = option_cost(net.options, ctx.config.settings.horizon_years)
        return {"barriers": barrier_table(ctx.study, net, net.chosen(amounts), cost,
                                          self.params.species),
                "fish": fish_table(self.params.species, self.metric_after(ctx, amounts),
                                   net.units, self.indices(ctx, amounts))}

    def verify_plan(self, block: pyo.Block, ctx: BuildContext, amounts: np.ndarray,
                    folder: Any) -> tuple[list[str], str]:
        """``dss verify``: the options in ``barriers.csv`` are the plan's, and accessible
        habitat and DCI_p recomputed by path products from the plan are ``fish.csv``'s."""

        net = self.network(ctx)
        chosen = net.chosen(amounts)
        problems: list[str] = []
        metrics = self.metric_after(ctx, amounts)
        path = Path(folder) / "fish.csv"
        if not path.is_file():
            return ["fish.csv is missing"], ""
        table = pd.read_csv(path, dtype={"species": str}, keep_default_na=False,
                            na_values=[""])
        listed = dict(zip(zip(table["species"], table["metric"], strict=True),
                          table["after"], strict=True))
        expected = {(sp, "accessible_habitat" if self.params.species[sp].movement
                     == "migratory" else "dci_p"): v for sp, v in metrics.items()}
        expected |= self.indices(ctx, amounts)
        for (sp, metric), (_before, after) in sorted(expected.items()):
            value = listed.get((sp, metric))
            if value is None or abs(float(value) - after) > 1e-6 * max(1.0, abs(after)):
                problems.append(f"fish.csv {sp} {metric}: after is {value} but the plan's path "
                                f"products give {after:.10g}")
        path = Path(folder) / "barriers.csv"
        if path.is_file():
            bars = pd.read_csv(path, dtype=str, keep_default_na=False).drop_duplicates(
                "barrier_id")
            option_of = dict(zip(bars["barrier_id"], bars["option_id"], strict=True))
            ids = net.options["option_id"].to_numpy(dtype=object)
            for k, b in enumerate(net.tree.barrier_ids):
                expected = ids[chosen[k]] if chosen[k] >= 0 else ""
                if option_of.get(b, "") != expected:
                    problems.append(f"barriers.csv {b}: option {option_of.get(b)!r} but the "
                                    f"plan chose {expected!r}")
        return problems, (f"accessible habitat and DCI of {len(metrics)} fish species, "
                          "recomputed by path products from the plan, match fish.csv and "
                          "barriers.csv")
