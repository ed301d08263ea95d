"""The river network: a networkx DiGraph of subunits, edges in the direction of flow.

An edge ``u -> v`` means subunit ``u`` drains into subunit ``v``. A valid network is a forest of
in-trees (dendritic): acyclic, at most one downstream subunit each, at least one outlet.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import repeat

import networkx as nx
import numpy as np
import pandas as pd

from dss.errors import GraphError, Issue, did_you_mean

SUBUNITS_FILE = "subunits.csv"


def check_network(ids: pd.Series, downstream: pd.Series, file: str = SUBUNITS_FILE,
                  rows: np.ndarray | None = None) -> list[Issue]:
    """Check the drainage links without building a graph; return every problem found.

    Checks: every downstream id exists, no subunit drains into itself, no cycle (each cycle is
    named), and at least one outlet exists. "One downstream per subunit" holds by construction
    (one ``downstream_id`` cell per row); duplicate ids are reported by the table reader.

    Args:
        ids: Subunit ids, in table order.
        downstream: Downstream id of each subunit (None or "" at an outlet).
        file: File name used in the issues.
        rows: Spreadsheet row number of each subunit (default: position + 2, i.e. no blank
            rows in the file).
    """
    issues: list[Issue] = []
    if rows is None:
        rows = np.arange(len(ids), dtype=np.int64) + 2
    down = downstream.astype(object)
    has_down = (down.notna() & (down.astype(str) != "")).to_numpy()
    index = pd.Index(ids.to_numpy(dtype=object), dtype=object)
    succ = index.get_indexer(down.to_numpy()) if index.is_unique else None
    known = succ >= 0 if succ is not None else down.isin(set(ids)).to_numpy()
    dangling = has_down & ~known
    into_self = has_down & (down.to_numpy() == ids.to_numpy())
    names: set[str] | None = None  # for did_you_mean, only when needed
    for pos in np.flatnonzero(dangling | into_self):
        target = down.iloc[pos]
        if dangling[pos]:
            names = set(ids) if names is None else names
            hint = did_you_mean(target, names, quote=True)
            issues.append(Issue(file, f"downstream subunit {target!r} does not exist "
                                      f"({hint + ' ' if hint else ''}use a subunit_id from "
                                      "this file, or leave empty at an outlet)",
                                int(rows[pos]), "downstream_id"))
        else:
            issues.append(Issue(file, f"subunit {target!r} drains into itself (leave "
                                      "downstream_id empty at an outlet)", int(rows[pos]),
                                "downstream_id"))
    if len(ids) and has_down.all():
        issues.append(Issue(file, "no outlet: every subunit has a downstream_id (leave it "
                                  "empty for the subunit where the river leaves the study)",
                            None, "downstream_id"))
    if succ is not None and not _may_cycle(succ, ids.to_numpy(), down.to_numpy()):
        return issues
    cycles = _cycles(ids.to_numpy(), downstream.to_numpy())
    row_of = {sid: int(r) for sid, r in zip(ids, rows, strict=True)} if cycles else {}
    for cycle in cycles:
        path = " -> ".join([*cycle, cycle[0]])
        issues.append(Issue(file, f"the drainage links form a cycle: {path} (rivers flow "
                                  "one way; fix the downstream_id of one of them)",
                            row_of[cycle[0]], "downstream_id"))
    return issues


def _may_cycle(succ: np.ndarray, ids: np.ndarray, downstream: np.ndarray) -> bool:
    """Whether the links (``succ``: position of each downstream id, -1 if unknown) may hold a
    cycle of two or more subunits, by pointer doubling: O(n log n) in numpy.

    After ``k`` rounds ``jump[i]`` is the subunit ``2**k`` links below ``i`` (-1 past an
    outlet); a walk still going after ``n`` links is caught in a cycle. Links
    :func:`_cycles` ignores (self-loops, ids that are not text) end a walk here too.
    """
    is_text = np.fromiter(map(isinstance, ids, repeat(str)), dtype=bool, count=len(ids))
    is_text &= np.fromiter(map(isinstance, downstream, repeat(str)), dtype=bool,
                           count=len(ids))
    jump = np.where(is_text & (succ != np.arange(len(succ))), succ, -1)
    steps = 1
    while steps < len(jump) and (jump >= 0).any():
        jump = np.where(jump >= 0, jump[jump], -1)
        steps *= 2
    return bool((jump >= 0).any())


def _cycles(ids: np.ndarray, downstream: np.ndarray) -> list[list[str]]:
    """Every cycle of two or more subunits in a functional graph, in O(n).

    Each node has at most one successor; self-loops and links to unknown ids are reported
    separately by :func:`check_network` and ignored here.
    """
    succ = {u: d for u, d in zip(ids, downstream, strict=True)
            if isinstance(u, str) and isinstance(d, str) and d and d != u}
    state: dict[str, int] = {}  # 1 = on current walk, 2 = done
    cycles = []
    for start in ids:
        if not isinstance(start, str) or start in state:
            continue
        walk = []
        node = start
        while node is not None and node not in state:
            state[node] = 1
            walk.append(node)
            node = succ.get(node)
        if node is not None and state.get(node) == 1:
            cycles.append(walk[walk.index(node):])
        for n in walk:
            state[n] = 2
    return cycles


def build_graph(subunits: pd.DataFrame) -> nx.DiGraph:
    """Build the validated river graph from the subunits table.

    Raises:
        GraphError: with every problem found by :func:`check_network`.
    """
    issues = check_network(subunits["subunit_id"], subunits["downstream_id"])
    if issues:
        raise GraphError(issues, "invalid river network")
    graph = nx.DiGraph()
    graph.add_nodes_from(subunits["subunit_id"])
    links = subunits.loc[subunits["downstream_id"].notna() & (subunits["downstream_id"] != ""),
                         ["subunit_id", "downstream_id"]]
    graph.add_edges_from(links.itertuples(index=False, name=None))
    return graph


def outlets(graph: nx.DiGraph) -> list[str]:
    """Subunits with no downstream neighbour, sorted."""
    return sorted(n for n, d in graph.out_degree() if d == 0)


def upstream(graph: nx.DiGraph, subunit: str, include_self: bool = False) -> set[str]:
    """All subunits draining (directly or not) into ``subunit``."""
    found = nx.ancestors(graph, subunit)
    return found | {subunit} if include_self else found


def downstream_path(graph: nx.DiGraph, subunit: str, include_self: bool = True) -> list[str]:
    """The subunits from ``subunit`` down to its outlet, in flow order."""
    path = [subunit] if include_self else []
    node = subunit
    while True:
        succ = next(iter(graph.successors(node)), None)
        if succ is None:
            return path
        path.append(succ)
        node = succ


def topological_order(graph: nx.DiGraph) -> list[str]:
    """Subunits ordered so that every subunit comes before the one it drains into.

    Ties are broken by id, so the order is deterministic.
    """
    return list(nx.lexicographical_topological_sort(graph))


def describe(graph: nx.DiGraph, nodes: Iterable[str] | None = None) -> str:
    """One-line description of the network (for logs and reports)."""
    n = graph.number_of_nodes() if nodes is None else len(list(nodes))
    return f"{n} subunits, {len(outlets(graph))} outlet(s)"
