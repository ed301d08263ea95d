"""The docstrings written under class attributes, read from the source when they are asked for.

The schemas of model files and component parameters document each field with a string
literal under it (an attribute docstring)::

    horizon_years: float = Field(10.0, gt=0)
    \"\"\"Planning horizon: recurring (annual) costs are counted for this many years.\"\"\"

pydantic can copy them into the fields' descriptions when each class is made
(``use_attribute_docstrings``), but it finds a class's source by walking the frames of the
import and asking :func:`inspect.getmodule` about each, which scans every loaded module the
first time (about 0.07 s of every ``dss`` command that reads a model). They are read here
instead, only by what shows them: the located errors of a model file and
``dss components NAME``.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from functools import cache
from typing import Any


def field_doc(model: type, name: str, info: Any = None) -> str:
    """The documentation of field ``name`` of a pydantic ``model``: its explicit
    ``description``, else its attribute docstring (nearest class of the MRO first), else
    ``""``. ``info`` is the field's ``FieldInfo`` when the caller has it."""
    if info is None:
        info = getattr(model, "model_fields", {}).get(name)
        if info is None:
            return ""  # not a field
    if info.description:
        return info.description
    return attribute_docs(model).get(name, "")


@cache
def attribute_docs(cls: type) -> dict[str, str]:
    """Attribute docstrings of ``cls`` and its bases (a subclass's own win), cleaned as
    :func:`inspect.cleandoc` does; classes without readable source give none."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass.__module__ == "builtins":
            continue
        docs.update(_own_docs(klass))
    return docs


def _own_docs(klass: type) -> dict[str, str]:
    """The attribute docstrings written in the body of ``klass`` itself."""
    try:
        source = textwrap.dedent(inspect.getsource(klass))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):  # built in, made at run time, or no source
        return {}
    if not tree.body or not isinstance(tree.body[0], ast.ClassDef):
        return {}
    body = tree.body[0].body
    docs: dict[str, str] = {}
    for stmt, after in zip(body, body[1:], strict=False):
        if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)):
            docs[stmt.target.id] = inspect.cleandoc(after.value.value)
    return docs
