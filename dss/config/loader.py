"""Load a model YAML file, apply scenario overrides and ``--set`` values, and validate it.

Overrides use dotted keys into the nested mapping (``components.budget.total``). Lists are
never indexed: anything a scenario may touch is a mapping.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from dss.config.model import ModelConfig
from dss.errors import InputError, Issue

LOGGER = logging.getLogger(__name__)

BASE_SCENARIO = "base"


@dataclass(frozen=True)
class ResolvedModel:
    """A validated model definition after scenario overrides.

    Attributes:
        config: The validated configuration.
        path: The model file.
        scenario: Name of the applied scenario(s), joined with '+' (``base`` if none).
        raw: The resolved configuration as a plain mapping (written to manifests).
    """

    config: ModelConfig
    path: Path
    scenario: str
    raw: dict[str, Any]

    @property
    def inputs_dir(self) -> Path:
        """Absolute inputs folder."""
        return (self.path.parent / self.config.inputs).resolve()


def read_yaml(path: Path) -> dict[str, Any]:
    """Parse a YAML mapping, turning syntax errors into a located :class:`InputError`."""
    name = path.name
    if not path.is_file():
        raise InputError([Issue(str(path), "model file not found")], "cannot load model")
    raw_bytes = path.read_bytes()
    try:
        text = raw_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError([Issue(name, f"not valid UTF-8 at byte {err.start}; save the file "
                                      "as UTF-8")], "cannot load model") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise InputError([Issue(name, f"{where}malformed YAML ({problem}); check indentation "
                                      "and colons")], "cannot load model") from None
    if not isinstance(data, dict):
        raise InputError([Issue(name, "the model file must be a YAML mapping (key: value) "
                                      f"at the top level, not {type(data).__name__}")],
                         "cannot load model")
    return data


def set_dotted(data: dict[str, Any], key: str, value: Any, where: str) -> None:
    """Set ``data[a][b][c] = value`` for ``key == 'a.b.c'``; a None value deletes the key.

    Raises:
        InputError: if an intermediate key is missing or not a mapping.
    """
    parts = key.split(".")
    node: Any = data
    for depth, part in enumerate(parts[:-1]):
        if not isinstance(node, dict) or part not in node or not isinstance(node[part], dict):
            if isinstance(node, dict) and part not in node and value is not None:
                node[part] = {}
            else:
                known = ", ".join(sorted(node)) if isinstance(node, dict) else "none"
                path = ".".join(parts[: depth + 1])
                raise InputError([Issue(where, f"cannot set {key}: {path} is not a mapping in "
                                               f"the model (known keys there: {known})")],
                                 "invalid override")
        node = node[part]
    if value is None:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = value


def parse_set(assignment: str) -> tuple[str, Any]:
    """Parse a ``KEY=VALUE`` command-line override; VALUE is read as YAML (1e7, true, [a])."""
    if "=" not in assignment:
        raise InputError([Issue("--set", f"{assignment!r} is not KEY=VALUE (for example "
                                         "components.budget.total=4e7)")], "invalid override")
    key, text = assignment.split("=", 1)
    try:
        value = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError:
        value = text
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    return key.strip(), value


def _validation_issues(err: ValidationError, file: str) -> list[Issue]:
    issues = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown key (check its spelling against the documentation)"
        issues.append(Issue(file, msg, None, loc or None))
    return issues


def load_model(path: Path | str, scenarios: list[str] | None = None,
               sets: list[str] | None = None) -> ResolvedModel:
    """Load, override and validate a model file.

    Args:
        path: The model YAML file.
        scenarios: Scenario names applied in order (``base`` means none).
        sets: ``KEY=VALUE`` overrides applied last.

    Raises:
        InputError: on malformed YAML, unknown keys, bad values or unknown scenarios.
    """
    path = Path(path)
    data = read_yaml(path)
    try:
        declared = ModelConfig.model_validate(data)
    except ValidationError as err:
        raise InputError(_validation_issues(err, path.name), "invalid model file") from None
    resolved = copy.deepcopy(data)
    applied = [s for s in (scenarios or []) if s != BASE_SCENARIO]
    issues = []
    for name in applied:
        scenario = declared.scenarios.get(name)
        if scenario is None:
            known = ", ".join([BASE_SCENARIO, *declared.scenarios]) or BASE_SCENARIO
            issues.append(Issue(path.name, f"unknown scenario {name!r} (known: {known})",
                                None, "scenarios"))
            continue
        for key, value in scenario.overrides.items():
            try:
                set_dotted(resolved, key, copy.deepcopy(value),
                           f"{path.name}, scenarios.{name}.overrides")
            except InputError as err:
                issues.extend(err.issues)
    for assignment in sets or []:
        try:
            key, value = parse_set(assignment)
            set_dotted(resolved, key, value, "--set")
        except InputError as err:
            issues.extend(err.issues)
    if issues:
        raise InputError(issues, "invalid scenario or override")
    try:
        config = ModelConfig.model_validate(resolved)
    except ValidationError as err:
        raise InputError(_validation_issues(err, path.name), "invalid model after overrides"
                         ) from None
    label = "+".join(applied) if applied else BASE_SCENARIO
    if sets and label == BASE_SCENARIO:
        label = BASE_SCENARIO
    return ResolvedModel(config=config, path=path.resolve(), scenario=label, raw=resolved)
