"""YAML read with bounded work: every model file, override and manifest goes through here.

A YAML document can ask for far more work than its size suggests: nine levels of aliases
that each repeat the level below nine times ("billion laughs") expand a 1 kB file into
387 million values, and a few thousand nested brackets exhaust Python's recursion. Before any
value is built, :func:`load_yaml` therefore checks, without expanding anything:

- the size of the text (:data:`MAX_YAML_BYTES`);
- the nesting depth, on the parser's event stream (:data:`MAX_DEPTH`), so the recursive
  composer never sees a deeper document;
- the number of values the document expands to, counting each alias as the nodes it
  repeats (:data:`MAX_EXPANDED_NODES`), and recursive aliases (an anchor used inside itself).

A document over a bound is refused with an :class:`~dss.errors.InputError` naming the file
and the line, never a hang or an exception. The loader is PyYAML's safe loader (no Python
objects), extended to read YAML 1.2 floats such as ``2.0e7`` as numbers.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import yaml

from dss.errors import InputError, Issue

MAX_YAML_BYTES = 1024 * 1024
"""Largest YAML text read (a model file is a few kB; a manifest a few hundred kB)."""
MAX_DEPTH = 64
"""Deepest nesting of mappings and lists (a model file needs fewer than 10 levels)."""
MAX_EXPANDED_NODES = 100_000
"""Most values a document may expand to once its aliases are followed."""


class Loader(yaml.SafeLoader):
    """Safe YAML loader that also reads YAML 1.2 floats such as ``2.0e7`` (no exponent
    sign) as numbers, as users expect. Pure Python: its syntax errors read best."""


class FastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """:class:`Loader` on libyaml's parser where PyYAML has it (tens of times faster; the
    same node graph and the same resolvers)."""


for _loader in (Loader, FastLoader):
    _loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                     |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
                     |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
                     |[-+]?\.(?:inf|Inf|INF)
                     |\.(?:nan|NaN|NAN))$""", re.X),
        list("-+0123456789."),
    )


class YamlLimitError(InputError):
    """A YAML document over one of the bounds (exit code 2)."""


def _refuse(file: str, message: str, line: int | None = None) -> YamlLimitError:
    return YamlLimitError([Issue(file, message, line)], "refused YAML document")


def _flow_depth_exceeded(text: str) -> int | None:
    """The line where ``[`` and ``{`` brackets nest deeper than :data:`MAX_DEPTH`, or None.

    PyYAML's scanner reads a whole line of opening brackets before it yields the first
    event, with work growing as the square of the nesting, so deep flow nesting is refused
    on the raw text first, in linear time: brackets are counted with NumPy, and only a text
    that looks too deep is walked exactly (skipping quoted text and comments).
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None

    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    step = (np.isin(codes, (ord("["), ord("{"))).astype(np.int32)
            - np.isin(codes, (ord("]"), ord("}"))).astype(np.int32))
    if int(np.cumsum(step).max(initial=0)) <= MAX_DEPTH:
        return None
    depth, quote, comment, line = 0, "", False, 1
    for index, char in enumerate(text):
        if char == "\n":
            line, comment = line + 1, False
            if quote == "'":
                continue
        if comment:
            continue
        if quote:
            if char == quote and not (quote == '"' and text[index - 1] == "\\"):
                quote = ""
        elif char in "'\"" and (index == 0 or text[index - 1] in " \t[{,:\n"):
            quote = char
        elif char == "#" and (index == 0 or text[index - 1] in " \t\n"):
            comment = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line
        elif char in "]}":
            depth -= 1
    return None


def _check_depth(text: str, file: str) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH`: flow brackets on the raw text, then
    every kind of nesting on the parser's events (flat, no recursion)."""
    line = _flow_depth_exceeded(text)
    if line is not None:
        raise _refuse(file, f"nested more than {MAX_DEPTH} levels deep (a model file needs a "
                            "few; flatten the structure)", line)
    depth = 0
    for event in yaml.parse(text, Loader=FastLoader):
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _refuse(file, f"nested more than {MAX_DEPTH} levels deep (a model file "
                                    "needs a few; flatten the structure)",
                              event.start_mark.line + 1)
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            depth -= 1


def _check_expansion(root: yaml.Node, file: str) -> None:
    """Refuse a node graph that expands to more than :data:`MAX_EXPANDED_NODES` values or
    that contains itself (a recursive alias). Each distinct node is visited once."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    open_nodes: set[int] = set()
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_nodes.discard(key)
            if isinstance(node, yaml.MappingNode):
                children = [n for pair in node.value for n in pair]
            else:
                children = list(node.value)
            size = 1 + sum(sizes[id(c)] for c in children)
            if size > MAX_EXPANDED_NODES:
                if len(sizes) >= MAX_EXPANDED_NODES:
                    raise _refuse(file, f"holds more than {MAX_EXPANDED_NODES:,} values (a "
                                        "model file holds a few hundred; put data in tables)")
                raise _refuse(file, f"expands to more than {MAX_EXPANDED_NODES:,} values "
                                    "through its aliases (*name); write the values out or "
                                    "use fewer aliases", node.start_mark.line + 1)
            sizes[key] = size
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise _refuse(file, "an alias refers to the anchor it is inside (a recursive "
                                "structure); remove the alias", node.start_mark.line + 1)
        if isinstance(node, yaml.ScalarNode):
            sizes[key] = 1
            continue
        open_nodes.add(key)
        stack.append((node, True))
        children = ([n for pair in node.value for n in pair]
                    if isinstance(node, yaml.MappingNode) else list(node.value))
        for child in children:
            if id(child) in open_nodes:
                raise _refuse(file, "an alias refers to the anchor it is inside (a recursive "
                                    "structure); remove the alias",
                              child.start_mark.line + 1)
            if id(child) not in sizes:
                stack.append((child, False))


def compose_yaml(text: str, file: str) -> yaml.Node | None:
    """The checked node graph of a YAML text (None for an empty document).

    Raises:
        YamlLimitError: over a bound.
        yaml.YAMLError: on a syntax error (the caller locates it).
    """
    if len(text) > MAX_YAML_BYTES:
        raise _refuse(file, f"is {len(text):,} characters long (at most {MAX_YAML_BYTES:,}); "
                            "is this the right file?")
    try:
        _check_depth(text, file)
        node = _compose(FastLoader, text)
    except yaml.YAMLError:
        try:  # the same error, in the pure parser's clearer words
            node = _compose(Loader, text)
        except RecursionError:
            raise _refuse(file, f"nested too deeply to read (at most {MAX_DEPTH} levels); "
                                "flatten the structure") from None
    if node is not None:
        _check_expansion(node, file)
    return node


def _compose(loader_class: type, text: str) -> yaml.Node | None:
    loader = loader_class(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def construct(node: yaml.Node | None) -> Any:
    """The Python value of a checked node graph (see :func:`compose_yaml`)."""
    if node is None:
        return None
    loader = Loader("")
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


def load_yaml(text: str, file: str) -> Any:
    """Parse YAML text within the bounds.

    Args:
        text: The document.
        file: Its file name (or option), for messages.

    Raises:
        YamlLimitError: over a bound.
        yaml.YAMLError: on a syntax error.
    """
    return construct(compose_yaml(text, file))
