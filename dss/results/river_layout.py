"""A schematic layout of a drainage tree for figures: the outlet at the bottom, the main stem
(the child draining the most subunits) straight, tributaries branching to either side, so
edges never cross."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def tree_layout(ids: Sequence[str], downstream: Sequence[str | None],
                weight: Mapping[str, float] | None = None) -> dict[str, tuple[float, float]]:
    """Positions of a drainage forest, outlets at the bottom (a tidy-tree layout).

    ``y`` is the number of links from a subunit down to its outlet, so every subunit lies
    strictly above (upstream of) the one it drains into. ``x`` keeps each main stem straight:
    a subunit sits in the column of its main upstream branch (the one with the most weight,
    by default the most subunits draining through it), and the other branches are packed
    beside it, alternately right and left, smallest nearest, as close as their outlines
    allow (a Reingold-Tilford style contour packing: at every level, nodes of neighbouring
    branches are at least one column apart). Links therefore never cross. Several outlets
    are laid out side by side, one column apart.

    Runs in about O(n log n) with the default weights (branches merge small into large).

    Args:
        ids: Subunit ids.
        downstream: Downstream id of each subunit (None, "" or an unknown id at an outlet).
        weight: Optional weight per subunit (e.g. area) to choose main branches by
            accumulated weight instead of subunit count.

    Returns:
        Subunit id -> (x, y), with the smallest x at 0.

    Raises:
        ValueError: if the links contain a cycle (validated studies never do).
    """
    ids = [str(i) for i in ids]
    known = set(ids)
    down = {i: (str(d) if isinstance(d, str) and d in known and d != i else None)
            for i, d in zip(ids, downstream, strict=True)}
    children: dict[str, list[str]] = {i: [] for i in ids}
    for node, d in down.items():
        if d is not None:
            children[d].append(node)
    outlets = sorted(i for i in ids if down[i] is None)
    depth: dict[str, int] = {}
    order: list[str] = []  # every node after the one it drains into
    for outlet in outlets:
        depth[outlet] = 0
        stack = [outlet]
        while stack:
            node = stack.pop()
            order.append(node)
            for child in children[node]:
                depth[child] = depth[node] + 1
                stack.append(child)
    if len(order) != len(ids):
        raise ValueError("the drainage links contain a cycle")
    size = {i: float(weight[i]) if weight is not None and i in weight else 1.0 for i in ids}
    for node in reversed(order):
        if down[node] is not None:
            size[down[node]] += size[node]
    # Contour of a subtree: absolute depth -> [leftmost, rightmost] x, relative to its root.
    contour: dict[str, dict[int, list[float]]] = {}
    offset: dict[str, float] = {}  # x of a node relative to the node it drains into
    for node in reversed(order):
        kids = sorted(children[node], key=lambda c: (-size[c], c))
        if not kids:
            contour[node] = {depth[node]: [0.0, 0.0]}
            continue
        main, others = kids[0], sorted(kids[1:], key=lambda c: (size[c], c))
        acc = contour.pop(main)  # the main branch keeps its column: reuse its contour
        offset[main] = 0.0
        for k, child in enumerate(others):  # smallest first: right, left, right, ...
            theirs = contour.pop(child)
            right = k % 2 == 0
            shared = [d for d in theirs if d in acc]
            if right:
                shift = max(acc[d][1] - theirs[d][0] + 1.0 for d in shared)
            else:
                shift = min(acc[d][0] - theirs[d][1] - 1.0 for d in shared)
            offset[child] = shift
            for d, (lo, hi) in theirs.items():
                if d in acc:
                    acc[d][0] = min(acc[d][0], lo + shift)
                    acc[d][1] = max(acc[d][1], hi + shift)
                else:
                    acc[d] = [lo + shift, hi + shift]
        acc[depth[node]] = [0.0, 0.0]
        contour[node] = acc
    x: dict[str, float] = {}
    start = 0.0
    for outlet in outlets:
        outline = contour[outlet]
        x[outlet] = start - min(lo for lo, _ in outline.values())
        start = x[outlet] + max(hi for _, hi in outline.values()) + 2.0
    for node in order:
        if down[node] is not None:
            x[node] = x[down[node]] + offset[node]
    return {i: (x[i], float(depth[i])) for i in ids}
