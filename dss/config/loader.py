"""Load a model YAML file, apply scenario overrides and ``--set`` values, and validate it.

Overrides use dotted keys into the nested mapping (``components.budget.total``). Lists are
never indexed: anything a scenario may touch is a mapping.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from dss.attribute_docs import field_doc
from dss.config.marxan import is_marxan_input, marxan_model
from dss.config.model import ModelConfig
from dss.errors import InputError, Issue, did_you_mean
from dss.safe_yaml import YamlLimitError, compose_yaml, construct, load_yaml

LOGGER = logging.getLogger(__name__)

BASE_SCENARIO = "base"
MAX_KEY_PARTS = 16
"""Most parts of a dotted override key (``components.budget.total`` has 3)."""


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


KeyLines = dict[tuple[str, ...], int]
"""Line number (1-based) of every mapping key in a YAML file, by its path of keys."""

_KINDS = {"list": "a list", "str": "a single text value", "int": "a number",
          "float": "a number", "bool": "true or false"}


def read_yaml(path: Path) -> dict[str, Any]:
    """Parse a YAML mapping, turning syntax errors into a located :class:`InputError`."""
    return read_yaml_located(path)[0]


def read_yaml_located(path: Path) -> tuple[dict[str, Any], KeyLines]:
    """Parse a YAML mapping and record the line of every key, for located messages.

    Raises:
        InputError: if the file is missing, not UTF-8, malformed, has duplicate keys, or is
            not a mapping at the top level.
    """
    name = path.name
    if not path.is_file():
        raise InputError([Issue(str(path), "model file not found")], "cannot load model")
    try:
        raw_bytes = path.read_bytes()
    except OSError as err:
        raise InputError([Issue(name, f"cannot read the model file ({err.strerror or err})")],
                         "cannot load model") from None
    try:
        text = raw_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw_bytes[: err.start].count(b"\n") + 1
        raise InputError([Issue(name, f"not valid UTF-8 at byte {err.start}; save the file "
                                      "as UTF-8", line)], "cannot load model") from None
    try:
        node = compose_yaml(text, name)
    except yaml.YAMLError as err:
        raise InputError([_syntax_issue(err, name)], "cannot load model") from None
    data = construct(node)
    lines: KeyLines = {}
    duplicates: list[Issue] = []
    _collect_keys(node, (), lines, duplicates, name)
    if duplicates:
        raise InputError(duplicates, "cannot load model")
    if data is None:
        raise InputError([Issue(name, "the model file is empty (it needs at least the keys "
                                      "name and inputs)")], "cannot load model")
    if not isinstance(data, dict):
        kind = _KINDS.get(type(data).__name__, type(data).__name__)
        raise InputError([Issue(name, "the model file must be a YAML mapping (key: value) "
                                      f"at the top level, not {kind}")],
                         "cannot load model")
    return data, lines


def _syntax_issue(err: yaml.YAMLError, file: str) -> Issue:
    """A located issue for a YAML syntax error, naming where an unclosed bracket opened."""
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    context, context_mark = getattr(err, "context", None), getattr(err, "context_mark", None)
    if context and context_mark is not None:
        problem += (f"; {context} started at line {context_mark.line + 1}, column "
                    f"{context_mark.column + 1}")
    fix = ("indent with spaces, not tabs" if "\\t" in problem
           else "check indentation, colons, quotes and brackets")
    if mark is None:
        return Issue(file, f"malformed YAML ({problem}); {fix}")
    return Issue(file, f"malformed YAML at column {mark.column + 1} ({problem}); {fix}",
                 mark.line + 1)


def _collect_keys(node: yaml.Node | None, path: tuple[str, ...], lines: KeyLines,
                  duplicates: list[Issue], file: str) -> None:
    """Record the line of every mapping key under ``node``; report keys given twice."""
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key, line = str(key_node.value), key_node.start_mark.line + 1
            if key in first:
                duplicates.append(Issue(file, f"duplicate key (first on line {first[key]}; "
                                              "keep one)", line, ".".join((*path, key))))
            else:
                first[key] = line
                lines[(*path, key)] = line
            _collect_keys(value_node, (*path, key), lines, duplicates, file)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _collect_keys(item, (*path, str(index)), lines, duplicates, file)


def set_dotted(data: dict[str, Any], key: str, value: Any, where: str,
               column: str | None = None, line: int | None = None) -> None:
    """Set ``data[a][b][c] = value`` for ``key == 'a.b.c'``; a None value deletes the key.

    Args:
        data: The nested mapping, changed in place.
        key: Dotted key.
        value: New value (None deletes).
        where: File (or logical source such as ``--set``) the override comes from.
        column: Key in that file the override is written under, for the error location.
        line: Line of that key, for the error location.

    Raises:
        InputError: if an intermediate key is missing or not a mapping.
    """
    parts = key.split(".")
    if len(parts) > MAX_KEY_PARTS:
        raise InputError([Issue(where, f"key {key[:60]}... has {len(parts)} parts (at most "
                                       f"{MAX_KEY_PARTS}; model keys are a few levels deep)",
                                line, column)], "invalid override")
    node: Any = data
    for depth, part in enumerate(parts[:-1]):
        if not isinstance(node, dict) or part not in node or not isinstance(node[part], dict):
            if isinstance(node, dict) and part not in node and value is not None:
                node[part] = {}
            else:
                known = ", ".join(sorted(node)) if isinstance(node, dict) else "none"
                path = ".".join(parts[: depth + 1])
                raise InputError([Issue(where, f"cannot set {key}: {path} is not a mapping in "
                                               f"the model (known keys there: {known})", line,
                                        column)],
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
    key = key.strip()
    if key.count(".") >= MAX_KEY_PARTS:
        raise InputError([Issue("--set", f"key {key[:60]}... has {key.count('.') + 1} parts "
                                         f"(at most {MAX_KEY_PARTS}; model keys are a few "
                                         "levels deep)")], "invalid override")
    try:
        value = load_yaml(text, "--set") if text.strip() else None
    except YamlLimitError as err:  # one line of text: no line number to give
        raise InputError([Issue("--set", f"value of {key}: {i.message}") for i in err.issues],
                         "invalid override") from None
    except yaml.YAMLError:
        value = text
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    return key, value


def _validation_issues(err: ValidationError, file: str, lines: KeyLines | None = None
                       ) -> list[Issue]:
    """Located issues for a pydantic error; ``lines`` (if given) adds the line of each key."""
    issues = []
    for e in err.errors():
        loc = tuple(str(p) for p in e["loc"])
        line = (lines or {}).get(loc)
        if e["type"] == "extra_forbidden":
            known = _known_keys(loc[:-1])
            hint = did_you_mean(loc[-1], known) if known else ""
            listed = f"known keys: {', '.join(known)}" if known else "check its spelling"
            msg = f"unknown key ({hint + ' ' if hint else ''}{listed})"
        elif e["type"] == "missing":
            doc = _field_doc(loc)
            msg = "required key is missing" + (f" ({doc.rstrip('.')})" if doc else "")
            line = (lines or {}).get(loc[:-1])
        else:
            value = e.get("input")
            shown = isinstance(value, str | int | float | bool) or value is None
            msg = e["msg"].removeprefix("Value error, ") + (f" (got {value!r})" if shown
                                                            and e["type"] != "value_error"
                                                            else "")
        issues.append(Issue(file, msg, line, ".".join(loc) or None))
    return issues


def _schema_at(loc: tuple[str, ...]) -> Any:
    """The schema class or type annotation at a key path of :class:`ModelConfig`, or None."""
    node: Any = ModelConfig
    for part in loc:
        if isinstance(node, type) and issubclass(node, BaseModel):
            field = node.model_fields.get(part)
            if field is None:
                return None
            node = field.annotation
        elif get_origin(node) is dict:
            node = get_args(node)[1]  # ``part`` is a free-form name (scenario, component)
        else:
            return None
    return node


def _known_keys(loc: tuple[str, ...]) -> list[str]:
    """Allowed keys of the mapping at ``loc``, in declaration order (empty if free-form)."""
    node = _schema_at(loc)
    if isinstance(node, type) and issubclass(node, BaseModel):
        return list(node.model_fields)
    return []


def _field_doc(loc: tuple[str, ...]) -> str:
    """The documentation of the field at ``loc`` (its attribute docstring), or ``""``."""
    parent = _schema_at(loc[:-1])
    if loc and isinstance(parent, type) and issubclass(parent, BaseModel):
        return " ".join(field_doc(parent, loc[-1]).split())
    return ""


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

    if is_marxan_input(path):  # dss solve path/to/input.dat
        if not path.is_file():
            raise InputError([Issue(str(path), "no such Marxan input file")],
                             "cannot load model")
        data, lines = marxan_model(path), {}
    else:
        data, lines = read_yaml_located(path)
    try:
        declared = ModelConfig.model_validate(data)
    except ValidationError as err:
        raise InputError(_validation_issues(err, path.name, lines), "invalid model file"
                         ) from None
    resolved = copy.deepcopy(data)
    applied = [s for s in (scenarios or []) if s != BASE_SCENARIO]
    issues = []
    origins: dict[str, _Origin] = {}  # overridden dotted key -> where the override is written
    for name in applied:
        scenario = declared.scenarios.get(name)
        if scenario is None:
            known = ", ".join([BASE_SCENARIO, *declared.scenarios]) or BASE_SCENARIO
            hint = did_you_mean(name, declared.scenarios, quote=True)
            issues.append(Issue(path.name, f"unknown scenario {name!r} ("
                                           f"{hint + ' ' if hint else ''}known: {known})",
                                lines.get(("scenarios",)), "scenarios"))
            continue
        for key, value in scenario.overrides.items():
            where = ("scenarios", name, "overrides", key)
            origins[key] = _Origin(path.name, lines.get(where), ".".join(where),
                                   f"scenario {name!r}")
            try:
                set_dotted(resolved, key, copy.deepcopy(value), path.name, ".".join(where),
                           lines.get(where))
            except InputError as err:
                issues.extend(err.issues)
    for assignment in sets or []:
        try:
            key, value = parse_set(assignment)
            origins[key] = _Origin("--set", None, None, f"--set {assignment}")
            set_dotted(resolved, key, value, "--set")
        except InputError as err:
            issues.extend(err.issues)
    if issues:
        raise InputError(issues, "invalid scenario or override")
    try:
        config = ModelConfig.model_validate(resolved)
    except ValidationError as err:
        raise InputError([_blame_override(issue, origins)
                          for issue in _validation_issues(err, path.name)],
                         "invalid model after overrides") from None
    label = "+".join(applied) if applied else BASE_SCENARIO
    model = ResolvedModel(config=config, path=path.resolve(), scenario=label, raw=resolved)
    _check_inputs_dir(model, lines if resolved.get("inputs") == data.get("inputs") else {})
    return model


@dataclass(frozen=True)
class _Origin:
    """Where an override is written: file, line, key, and a label for messages."""

    file: str
    line: int | None
    column: str | None
    label: str


def _blame_override(issue: Issue, origins: dict[str, _Origin]) -> Issue:
    """Locate a problem of the overridden model at the override that caused it, if any."""
    key = issue.column or ""
    for target, origin in origins.items():
        if key == target or key.startswith(target + ".") or target.startswith(key + "."):
            if origin.column is None:  # a command-line --set: name the key, not a file
                return Issue(origin.file, f"{key}: {issue.message}")
            prefix = "" if key == target else f"{key}: "
            return Issue(origin.file, f"{prefix}{issue.message} (set by {origin.label})",
                         origin.line, origin.column)
    return issue


def _check_inputs_dir(model: ResolvedModel, lines: KeyLines) -> None:
    """The ``inputs`` folder must exist (checked here so the error names the model file).

    Raises:
        InputError: located at the ``inputs`` key of the model file.
    """
    folder = model.inputs_dir
    if folder.is_dir():
        return
    what = "is not a folder" if folder.exists() else "not found"
    raise InputError([Issue(model.path.name, f"inputs folder {model.config.inputs!r} {what} "
                                             f"(looked for {folder}; the path is relative to "
                                             "the model file)", lines.get(("inputs",)),
                            "inputs")], "invalid model file")
