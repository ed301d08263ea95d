"""A random dendritic drainage tree and the vectorised walks over it (subtree sizes, pre-order,
branches) used by :mod:`dss.synth`."""

from __future__ import annotations

import numpy as np

from dss.synth.catalogue import _NUM_TRIBUTARY_NAMES, _TREE_OFFSET_SCALE


def _random_tree(rng: np.random.Generator, n: int) -> np.ndarray:
    """Parent index of each node (-1 at the outlet, node 0); parents have smaller indices.

    Node ``i`` drains into ``i - 1 - floor(E * c * sqrt(i))`` with ``E ~ Exp(1)``: short hops
    make long chains, the occasional long hop makes a tributary join further down. The depth of
    the tree grows about like ``sqrt(n)`` (Hack's law gives main-stem length ~ area**0.57).
    """
    idx = np.arange(n, dtype=np.int64)
    hop = np.floor(rng.exponential(1.0, n) * _TREE_OFFSET_SCALE * np.sqrt(idx)).astype(np.int64)
    parent = np.maximum(idx - 1 - hop, 0)
    parent[0] = -1
    return parent


def _path_reduce(parent: np.ndarray, values: np.ndarray, op: np.ufunc) -> np.ndarray:
    """Reduce ``values`` with ``op`` over each node and all its ancestors (pointer jumping)."""
    acc = values.copy()
    up = parent.copy()
    while True:
        live = up >= 0
        if not live.any():
            return acc
        safe = np.where(live, up, 0)
        acc = np.where(live, op(acc, acc[safe]), acc)
        up = np.where(live, up[safe], -1)


def _subtree_sizes(parent: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """Number of nodes in each node's subtree (itself included), accumulated level by level."""
    n = len(parent)
    size = np.ones(n, dtype=np.int64)
    order = np.argsort(depth, kind="stable")
    bounds = np.concatenate(([0], np.cumsum(np.bincount(depth))))
    for level in range(len(bounds) - 2, 0, -1):  # deepest level first; a loop over levels
        nodes = order[bounds[level]:bounds[level + 1]]
        np.add.at(size, parent[nodes], size[nodes])
    return size


def _preorder(parent: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Depth-first (pre-order) position of each node; children visited by increasing index."""
    n = len(parent)
    child = np.arange(1, n)
    by_parent = child[np.argsort(parent[child], kind="stable")]
    sizes = size[by_parent]
    before = np.cumsum(sizes) - sizes
    first = np.ones(len(by_parent), dtype=bool)
    first[1:] = parent[by_parent[1:]] != parent[by_parent[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(by_parent)), 0))
    step = np.zeros(n, dtype=np.int64)
    step[by_parent] = 1 + before - before[group_start]
    return _path_reduce(parent, step, np.add)


def _branches(parent: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Branch label of each node: the main stem, one of the largest tributaries, or minor.

    The main stem follows the child with the largest subtree upstream from the outlet.
    """
    n = len(parent)
    child = np.arange(1, n)
    # Children sorted by parent, then largest subtree first, then index: first of each group
    # is its parent's main child.
    order = np.lexsort((child, -size[child], parent[child]))
    ranked = child[order]
    first = np.ones(len(ranked), dtype=bool)
    first[1:] = parent[ranked[1:]] != parent[ranked[:-1]]
    on_main = np.zeros(n, dtype=np.int64)
    on_main[0] = 1
    on_main[ranked[first]] = 1
    main = _path_reduce(parent, on_main, np.minimum).astype(bool)
    # Mouth of each tributary: the first node (going downstream) whose parent is on the stem.
    safe_parent = np.maximum(parent, 0)
    is_mouth = ~main & main[safe_parent]
    jump = np.where(main | is_mouth, np.arange(n), safe_parent)
    while True:
        nxt = jump[jump]
        if np.array_equal(nxt, jump):
            break
        jump = nxt
    labels = np.full(n, "Minor tributaries", dtype=object)
    labels[main] = "Main stem"
    mouths = np.flatnonzero(is_mouth)
    big = mouths[np.lexsort((mouths, -size[mouths]))][:_NUM_TRIBUTARY_NAMES]
    names = np.full(n, "", dtype=object)
    names[big] = [f"Tributary {k + 1}" for k in range(len(big))]
    named = ~main & (names[jump] != "")
    labels[named] = names[jump[named]]
    return labels
