"""The river as a tree of sections between barriers, and its fish connectivity.

A barrier :math:`k` closes the **section** upstream of it: the river between :math:`k` and
the next barriers upstream. Every barrier has one barrier downstream, :math:`d(k)`, or
drains to an outlet; each outlet of the subunit tree has its own **outlet section**, below
every barrier, which fish reach freely. Sections are numbered barriers first (section
:math:`k` lies above barrier :math:`k`), then one per outlet; ``parent[s]`` is the section
below ``s`` (-1 at an outlet section).

Where a table does not name the next barrier downstream, it is derived from the subunit
tree: the barriers of one subunit are chained in file order (the first is the most
downstream), and the first one drains to :math:`\\sigma(\\text{downstream subunit})`, where
:math:`\\sigma(i)` is the section at the upstream end of subunit :math:`i`: above its last
barrier if it has any, else :math:`\\sigma` of its downstream subunit, else its outlet
section. Habitat given for a subunit without a barrier id lies in :math:`\\sigma(i)`.

Connectivity of a plan with passabilities :math:`p_k` (1 at outlet sections):

- cumulative passability :math:`P_s = \\prod_{k \\in \\text{path}(s \\to \\text{outlet})} p_k`;
- accessible habitat (diadromous species, OptiPass): :math:`A = \\sum_s h_s P_s`;
- dendritic connectivity index for diadromous species (Cote et al. 2009):
  :math:`DCI_d = 100 \\sum_s (l_s / L) \\prod_{k} p^u_k p^d_k` over the path to the outlet;
- and for potamodromous species:
  :math:`DCI_p = 100 \\sum_s \\sum_t c_{st}\\, l_s l_t / L^2`, with :math:`c_{st}` the product
  of :math:`p^u_k p^d_k` over the barriers between sections :math:`s` and :math:`t` (0 when
  they drain to different outlets) and :math:`L = \\sum_s l_s`.

Everything here is array arithmetic over tree levels; the functions are the reference the
optimizer's results are checked against (``dss verify``, the property tests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dss.errors import Issue


@dataclass(frozen=True)
class SectionTree:
    """Sections between barriers (barriers first, then one per outlet).

    Attributes:
        barrier_ids: Barrier id of sections ``0 .. n_barriers-1``.
        outlet_ids: Outlet subunit id of the outlet sections, in order.
        parent: Section just downstream of each section (-1 at outlet sections).
        subunit_section: Section :math:`\\sigma(i)` at the upstream end of each subunit
            (subunits row order).
    """

    barrier_ids: np.ndarray
    outlet_ids: np.ndarray
    parent: np.ndarray
    subunit_section: np.ndarray

    @property
    def n_barriers(self) -> int:
        """Number of barriers."""
        return len(self.barrier_ids)

    @property
    def n_sections(self) -> int:
        """Number of sections (barriers plus outlets)."""
        return len(self.parent)

    def depth(self) -> np.ndarray:
        """Number of barriers between each section and its outlet."""
        return _depths(self.parent)

    def root(self) -> np.ndarray:
        """Outlet section of each section."""
        root = np.arange(self.n_sections)
        for _ in range(self.n_sections + 1):
            up = self.parent[root]
            step = up >= 0
            if not step.any():
                break
            root = np.where(step, up, root)
        return root


def _depths(parent: np.ndarray) -> np.ndarray:
    depth = np.zeros(len(parent), dtype=np.int64)
    cur = parent.copy()
    for _ in range(len(parent) + 1):
        alive = cur >= 0
        if not alive.any():
            return depth
        depth += alive
        cur = np.where(alive, parent[np.maximum(cur, 0)], -1)
    raise ValueError("the barrier links form a cycle")


def section_tree(subunit_ids: np.ndarray, subunit_down: np.ndarray, barriers: pd.DataFrame
                 ) -> SectionTree:
    """Sections of a study (subunit tree given as ids and downstream positions, -1 at an
    outlet; ``barriers`` as in ``barriers.csv``, valid references)."""
    n_sub = len(subunit_ids)
    b_ids = barriers["barrier_id"].to_numpy(dtype=object)
    n = len(b_ids)
    sub_pos = pd.Index(subunit_ids).get_indexer(barriers["subunit_id"].to_numpy(dtype=object))
    first = np.full(n_sub, -1)
    last = np.full(n_sub, -1)
    prev_in_sub = np.full(n, -1)
    for k, s in enumerate(sub_pos.tolist()):
        if first[s] < 0:
            first[s] = k
        else:
            prev_in_sub[k] = last[s]
        last[s] = k
    outlets = np.flatnonzero(subunit_down < 0)
    outlet_section = np.full(n_sub, -1)
    outlet_section[outlets] = n + np.arange(len(outlets))
    # sigma(i): above the subunit's last barrier, else sigma(downstream), else its outlet
    sigma = np.where(last >= 0, last, outlet_section)
    order = _upstream_order(subunit_down)
    for i in order:  # downstream first
        if sigma[i] < 0:
            sigma[i] = sigma[subunit_down[i]]
    parent = np.full(n + len(outlets), -1)
    down_sub = subunit_down[sub_pos]
    derived = np.where(prev_in_sub >= 0, prev_in_sub,
                       np.where(down_sub >= 0, sigma[np.maximum(down_sub, 0)],
                                outlet_section[sub_pos]))
    given = barriers["downstream_barrier_id"] if "downstream_barrier_id" in barriers else None
    if given is not None:
        named = given.notna().to_numpy() & (given.astype(str) != "").to_numpy()
        at = pd.Index(b_ids).get_indexer(given.to_numpy(dtype=object))
        derived = np.where(named, at, derived)
    parent[:n] = derived
    return SectionTree(b_ids, np.asarray(subunit_ids, dtype=object)[outlets], parent, sigma)


def _upstream_order(down: np.ndarray) -> np.ndarray:
    """Subunit positions ordered so that each comes after its downstream subunit."""
    return np.argsort(_depths(down), kind="stable")


def check_barrier_network(frames: dict[str, pd.DataFrame | None],
                          rows_of: Callable[[str], np.ndarray]) -> list[Issue]:
    """Problems with the barrier links (a barrier naming itself, a cycle), an option id
    that is also an action id, and fish habitat given in two units for one species."""
    issues: list[Issue] = []
    barriers = frames.get("barriers")
    if barriers is not None and len(barriers) and "downstream_barrier_id" in barriers:
        ids = barriers["barrier_id"].to_numpy(dtype=object)
        given = barriers["downstream_barrier_id"]
        named = given.notna().to_numpy() & (given.astype(str) != "").to_numpy()
        at = pd.Index(ids).get_indexer(given.to_numpy(dtype=object)) if pd.Index(
            ids).is_unique else np.full(len(ids), -1)
        rows = rows_of("barriers")
        parent = np.where(named, at, -1)
        for k in np.flatnonzero(parent == np.arange(len(ids))):
            issues.append(Issue("barriers.csv", f"barrier {ids[k]!r} names itself as the "
                                                "barrier downstream", int(rows[k]),
                                "downstream_barrier_id"))
        parent[parent == np.arange(len(ids))] = -1
        try:
            _depths(parent)
        except ValueError:
            on_cycle = _cycle_members(parent)
            issues.append(Issue("barriers.csv", "the downstream_barrier_id links form a cycle "
                                                f"({' -> '.join(str(ids[k]) for k in on_cycle)}"
                                                "); each barrier must drain towards an outlet",
                                int(rows[on_cycle[0]]), "downstream_barrier_id"))
    options, actions = frames.get("barrier_options"), frames.get("actions")
    if options is not None and actions is not None and len(options):
        clash = options["option_id"].isin(set(actions["action_id"])).to_numpy()
        rows = rows_of("barrier_options")
        for pos in np.flatnonzero(clash)[:20]:
            issues.append(Issue("barrier_options.csv", f"option_id "
                                                       f"{options['option_id'].iloc[pos]!r} is "
                                                       "also an action id in actions.csv; "
                                                       "give the option its own id",
                                int(rows[pos]), "option_id"))
    habitat = frames.get("fish_habitat")
    if habitat is not None and len(habitat):
        units = habitat.groupby("species")["unit"].nunique()
        for sp in units.index[units > 1]:
            issues.append(Issue("fish_habitat.csv", f"species {sp!r} has habitat in both km "
                                                    "and ha; use one unit per species", None,
                                "unit"))
    return issues


def _cycle_members(parent: np.ndarray) -> list[int]:
    for start in range(len(parent)):
        seen: dict[int, int] = {}
        k, step = start, 0
        while k >= 0 and k not in seen:
            seen[k] = step
            k, step = int(parent[k]), step + 1
        if k >= 0:
            cycle = [k]
            j = int(parent[k])
            while j != k:
                cycle.append(j)
                j = int(parent[j])
            return cycle
    return []


def cumulative_passability(parent: np.ndarray, passability: np.ndarray) -> np.ndarray:
    """:math:`P_s = p_s P_{parent(s)}`, with :math:`P = p` at outlet sections, by tree
    levels (``passability`` is 1 at outlet sections)."""
    depth = _depths(parent)
    cum = np.asarray(passability, dtype=float).copy()
    for level in range(1, int(depth.max(initial=0)) + 1):
        at = np.flatnonzero(depth == level)
        cum[at] *= cum[parent[at]]
    return cum


def accessible_habitat(parent: np.ndarray, passability: np.ndarray, habitat: np.ndarray
                       ) -> float:
    """:math:`\\sum_s h_s P_s` (habitat per section, outlet sections included)."""
    return float(np.dot(habitat, cumulative_passability(parent, passability)))


def pair_passability(parent: np.ndarray, passability: np.ndarray) -> np.ndarray:
    """Matrix :math:`c_{st}`: product of passabilities between sections (0 across
    outlets), by :math:`c_{st} = P_s P_t / P_a^2` for the lowest common section :math:`a`,
    computed as products along the paths (no division)."""
    n = len(parent)
    c = np.zeros((n, n))
    depth = _depths(parent)
    order = np.argsort(depth, kind="stable")
    # walk each section up to its outlet, multiplying: up[s][a] = product from s to a
    for s in order:
        prod = 1.0
        a = s
        chain = {}
        while a >= 0:
            chain[a] = prod
            prod *= passability[a]
            a = parent[a]
        for t in order:
            b, prod_t = t, 1.0
            while b >= 0 and b not in chain:
                prod_t *= passability[b]
                b = parent[b]
            c[s, t] = 0.0 if b < 0 else chain[b] * prod_t
    return c


def dci_potamodromous(parent: np.ndarray, passability_pair: np.ndarray, length: np.ndarray
                      ) -> float:
    """:math:`DCI_p` in percent (``passability_pair`` = up times down; ``length`` per
    section)."""
    total = float(length.sum())
    if total <= 0:
        return 0.0
    c = pair_passability(parent, passability_pair)
    share = length / total  # shares first: total**2 can underflow
    return float(100.0 * share @ c @ share)


def dci_diadromous(parent: np.ndarray, passability_pair: np.ndarray, length: np.ndarray
                   ) -> float:
    """:math:`DCI_d` in percent (``passability_pair`` = up times down; ``length`` per
    section)."""
    total = float(length.sum())
    if total <= 0:
        return 0.0
    return 100.0 * accessible_habitat(parent, passability_pair, length) / total
