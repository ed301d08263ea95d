"""A researcher's own component, defined outside ``dss``, used three ways.

:class:`MaxActionShare` lives in this test module, as it would in a researcher's own code.
It is registered with :func:`dss.optimize.components.register` (under a type name no built-in
uses, unregistered again after each test) and then used

1. from the Python API: ``Problem.from_model(...).add(MaxActionShare(...))``;
2. from a model file that names ``type: test_max_action_share``;
3. from the command line: ``dss solve <model> --plugin <module>``, where the module is a small
   file that registers the component when imported.

On the tiny study the base plan treats all 10 ha of landslide scar in subunit A
(scar_reveg is the best buy per CNY) and spends the rest on gfg_forest in D. Capping
scar_reveg at half its capacity makes the cap bind at exactly 5 ha and moves the freed
150,000 CNY (5 ha x 30,000) to gfg_forest in D (7.5 ha more at 20,000 CNY/ha).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest
import yaml
from pydantic import Field
from typer.testing import CliRunner

from dss.cli import app
from dss.errors import ComponentError, InputError, Issue
from dss.optimize.build import compile_problem
from dss.optimize.components import Component, Params, Role, register
from dss.optimize.components.base import unregister
from dss.optimize.context import BuildContext
from dss.optimize.problem import Problem

TINY = Path(__file__).parent / "data" / "tiny"
TYPE_NAME = "test_max_action_share"
RUNNER = CliRunner()


class MaxActionShareParams(Params):
    """Parameters of :class:`MaxActionShare`."""

    share: float = Field(ge=0, le=1)
    """Largest share (0-1) of an action's total capacity the plan may use."""
    actions: list[str] | None = None
    """Actions capped; default: every action."""


class MaxActionShare(Component):
    """Cap any single action's total amount at a share of its total capacity.

    Spreads a plan over several kinds of action (no single technique takes over the basin).
    With :math:`K_a` the options of action :math:`a`, capacities :math:`\\bar x_k` and share
    :math:`\\sigma`:

    .. math:: \\sum_{k \\in K_a} x_k \\le \\sigma \\sum_{k \\in K_a} \\bar x_k
              \\qquad \\forall a \\in A

    Pyomo: ``cap[a]``, one per capped action (its dual: the value of one more unit of the
    action).
    """

    type_name = TYPE_NAME
    role = Role.CONSTRAINT
    Params = MaxActionShareParams

    def selected(self, ctx: BuildContext) -> list[str]:
        """The actions capped (only those with options)."""
        present = sorted(set(ctx.options["action_id"]))
        chosen = self.params.actions
        return present if chosen is None else [a for a in present if a in chosen]

    def check(self, ctx: BuildContext) -> list[Issue]:
        known = set(ctx.study.actions["action_id"])
        return [Issue("model", f"unknown action {a!r}", None,
                      f"components.{self.name}.actions")
                for a in self.params.actions or [] if a not in known]

    def build(self, block: pyo.Block, ctx: BuildContext) -> None:
        actions = ctx.options["action_id"].to_numpy()
        cap = ctx.options["capacity"].to_numpy(float)

        def rule(_b, a):
            idx = np.flatnonzero(actions == a)
            return ctx.linear(idx, np.ones(len(idx))) <= self.params.share * cap[idx].sum()

        block.cap = pyo.Constraint(self.selected(ctx), rule=rule)

    def report(self, block: pyo.Block, ctx: BuildContext, amounts) -> dict[str, pd.DataFrame]:
        rows = [{"action_id": a, "limit": pyo.value(block.cap[a].upper),
                 "used": pyo.value(block.cap[a].body)} for a in block.cap]
        return {"action_share": pd.DataFrame(rows)}


@pytest.fixture()
def registered():
    """Register the component for one test, and always unregister it afterwards."""
    register(MaxActionShare)
    yield MaxActionShare
    unregister(TYPE_NAME)


def amount_of(result, action: str, subunit: str | None = None) -> float:
    opts = result.built.ctx.options
    mask = opts["action_id"] == action
    if subunit is not None:
        mask &= opts["subunit_id"] == subunit
    return float(result.amounts[mask.to_numpy()].sum())


def assert_capped_plan(result) -> None:
    """The cap binds at 5 ha of scar_reveg; the freed money buys 7.5 ha more gfg_forest."""
    assert result.status == "optimal"
    assert amount_of(result, "scar_reveg") == pytest.approx(5.0)
    assert amount_of(result, "gfg_forest", "D") == pytest.approx(17.5)
    assert amount_of(result, "gfg_forest") == pytest.approx(17.5)


def test_unregistered_type_is_unknown(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=f"unknown component type '{TYPE_NAME}'"):
        Problem.from_model(write_model(tmp_path))


def test_python_api(registered) -> None:
    base = Problem.from_model(TINY / "model.yaml")
    plain = base.solve()
    assert amount_of(plain, "scar_reveg") == pytest.approx(10.0)
    assert amount_of(plain, "gfg_forest", "D") == pytest.approx(10.0)

    problem = base.add(MaxActionShare("spread", share=0.5, actions=["scar_reveg"]))
    built = compile_problem(problem)
    block = built.blocks["spread"]
    assert list(block.cap.keys()) == ["scar_reveg"]
    assert pyo.value(block.cap["scar_reveg"].upper) == pytest.approx(5.0)
    result = problem.solve()
    assert_capped_plan(result)
    table = problem.component("spread").report(result.built.blocks["spread"],
                                               result.built.ctx, result.amounts)
    assert table["action_share"].to_dict("records") == [
        {"action_id": "scar_reveg", "limit": pytest.approx(5.0), "used": pytest.approx(5.0)}]
    # the cap is a budget-like constraint with a positive marginal value
    dual = result.duals.set_index(["component", "constraint", "index"])["dual"]
    assert dual[("spread", "cap", "scar_reveg")] != 0
    # without it the plan is back to the base plan
    again = problem.without("spread").solve()
    assert again.amounts == pytest.approx(plain.amounts)


def test_every_action_by_default(registered) -> None:
    problem = Problem.from_model(TINY / "model.yaml").add(MaxActionShare("spread", share=0.3))
    built = compile_problem(problem)
    caps = built.blocks["spread"].cap
    assert sorted(caps.keys()) == ["check_dam", "gfg_forest", "scar_reveg", "sewage"]
    assert pyo.value(caps["gfg_forest"].upper) == pytest.approx(0.3 * (20 + 40 + 25))
    result = problem.solve()
    opts = built.ctx.options
    for action in caps.keys():
        total = opts.loc[opts["action_id"] == action, "capacity"].sum()
        assert amount_of(result, action) <= 0.3 * total + 1e-6


def test_bad_parameters_are_located(registered) -> None:
    with pytest.raises(InputError) as err:
        MaxActionShare("spread", share=1.5)
    assert [i.column for i in err.value.issues] == ["components.spread.share"]
    problem = Problem.from_model(TINY / "model.yaml").add(
        MaxActionShare("spread", share=0.5, actions=["teleport"]))
    with pytest.raises(InputError, match="unknown action 'teleport'"):
        compile_problem(problem)


def write_model(tmp_path: Path) -> Path:
    """The tiny model plus the custom component, named by its registered type."""
    text = (TINY / "model.yaml").read_text(encoding="utf-8")
    text = text.replace("inputs: .", f"inputs: {TINY.as_posix()}")
    text += f"  spread: {{type: {TYPE_NAME}, share: 0.5, actions: [scar_reveg]}}\n"
    path = tmp_path / "model.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_model(registered, tmp_path: Path) -> None:
    problem = Problem.from_model(write_model(tmp_path))
    comp = problem.component("spread")
    assert isinstance(comp, MaxActionShare)
    assert comp.params.share == 0.5 and comp.params.actions == ["scar_reveg"]
    assert problem.spec()["spread"] == {"type": TYPE_NAME, "share": 0.5,
                                        "actions": ["scar_reveg"]}
    assert_capped_plan(problem.solve())


PLUGIN = textwrap.dedent("""\
    \"\"\"A researcher's plugin module: importing it registers MaxActionShare.\"\"\"
    from dss.optimize.components import register
    from test_custom_component import MaxActionShare

    register(MaxActionShare)
""")


def test_cli_plugin(tmp_path: Path) -> None:
    """``dss solve model.yaml --plugin my_dss_components`` run from the plugin's folder."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "my_dss_components.py").write_text(PLUGIN, encoding="utf-8")
    model = write_model(tmp_path)
    out = tmp_path / "results"
    # the plugin module imports the component class from this test module
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    script = Path(sys.executable).with_name("dss")
    if script.is_file():  # the console script: the current folder is not on sys.path
        cmd = [str(script)]
    else:  # pragma: no cover - not installed as a script: put the folder on the path
        cmd = [sys.executable, "-m", "dss"]
        env["PYTHONPATH"] += os.pathsep + str(work)
    run = subprocess.run([*cmd, "solve", str(model), "--out", str(out), "--plugin",
                          "my_dss_components"], capture_output=True, text=True, env=env,
                         cwd=work, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "tiny [base]: optimal" in run.stdout
    alloc = pd.read_csv(out / "tiny" / "base" / "allocation.csv")
    by_action = alloc.groupby("action_id")["amount"].sum()
    assert by_action.to_dict() == {"gfg_forest": pytest.approx(17.5),
                                   "scar_reveg": pytest.approx(5.0)}
    assert (alloc.set_index(["subunit_id", "action_id"]).loc[("D", "gfg_forest"), "amount"]
            == pytest.approx(17.5))
    manifest = yaml.safe_load((out / "tiny" / "base" / "manifest.yaml").read_text("utf-8"))
    assert manifest["config"]["components"]["spread"]["type"] == TYPE_NAME


def test_cli_without_plugin_is_a_located_error(tmp_path: Path) -> None:
    model = write_model(tmp_path)
    out = tmp_path / "results"
    result = RUNNER.invoke(app, ["solve", str(model), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert f"unknown component type '{TYPE_NAME}'" in result.stderr
    assert "components.spread.type" in result.stderr
    assert not out.exists()
    missing = RUNNER.invoke(app, ["solve", str(model), "--out", str(out), "--plugin",
                                  "no_such_plugin_module"])
    assert missing.exit_code == 2
    assert "cannot import 'no_such_plugin_module'" in missing.stderr
    assert not out.exists()


def test_cli_components_lists_plugin(registered) -> None:
    listing = RUNNER.invoke(app, ["components"])
    assert listing.exit_code == 0
    assert TYPE_NAME in listing.stdout
    detail = RUNNER.invoke(app, ["components", TYPE_NAME])
    assert detail.exit_code == 0
    assert "Cap any single action's total amount" in detail.stdout
    assert "share:" in detail.stdout and "Largest share" in detail.stdout


class OneOfTwoActions(Component):
    """At most one of the first two options is used, as an SOS1 set (for the test below).

    .. math:: \\text{SOS1}(x_0, x_1)

    Pyomo: ``sos`` (an ``SOSConstraint``), which the matrix compiler cannot pass to HiGHS.
    """

    type_name = "test_sos_pair"
    role = Role.CONSTRAINT

    def build(self, block: pyo.Block, ctx: BuildContext) -> None:
        block.sos = pyo.SOSConstraint(var=ctx.model.amount, index=[0, 1], sos=1)


def test_a_component_the_compiler_cannot_pass_on_is_refused(tmp_path: Path) -> None:
    """An SOS constraint used to be dropped silently and the plan reported optimal (issue
    15): now the solve is refused, naming the component (exit 2, nothing written)."""
    register(OneOfTwoActions)
    try:
        problem = Problem.from_model(TINY / "model.yaml").add(OneOfTwoActions("pair"))
        with pytest.raises(ComponentError, match=r"pair\.sos \(SOSConstraint\)"):
            problem.solve()
        model = tmp_path / "model.yaml"
        text = (TINY / "model.yaml").read_text(encoding="utf-8")
        model.write_text(text.replace("inputs: .", f"inputs: {TINY}")
                         + "  pair: {type: test_sos_pair}\n", encoding="utf-8")
        result = RUNNER.invoke(app, ["solve", str(model), "--out", str(tmp_path / "out")])
        assert result.exit_code == 2, result.output
        assert "cannot pass to HiGHS: pair.sos (SOSConstraint)" in result.output
        assert not (tmp_path / "out").exists()
    finally:
        unregister("test_sos_pair")


class LogicalPair(Component):
    """At least one of two flags holds, as a Pyomo ``LogicalConstraint`` over ``BooleanVar``.

    .. math:: f_0 \\lor f_1

    Pyomo: ``flag`` (``BooleanVar``) and ``logic`` (``LogicalConstraint``), which the matrix
    compiler cannot pass to HiGHS.
    """

    type_name = "test_logical_pair"
    role = Role.CONSTRAINT

    def build(self, block: pyo.Block, ctx: BuildContext) -> None:
        block.flag = pyo.BooleanVar([0, 1])
        block.logic = pyo.LogicalConstraint(expr=pyo.lor(block.flag[0], block.flag[1]))


class EitherOrPair(Component):
    """Either the first or the second option is unused, as a disjunction (Pyomo GDP).

    .. math:: [x_0 = 0] \\veebar [x_1 = 0]

    Pyomo: ``off`` (two ``Disjunct`` blocks) and ``choice`` (a ``Disjunction``).
    """

    type_name = "test_either_or_pair"
    role = Role.CONSTRAINT

    def build(self, block: pyo.Block, ctx: BuildContext) -> None:
        from pyomo.gdp import Disjunct, Disjunction

        amount = ctx.model.amount
        block.off = Disjunct([0, 1])
        for k in (0, 1):
            block.off[k].zero = pyo.Constraint(expr=amount[k] == 0)
        block.choice = Disjunction(expr=[block.off[0], block.off[1]])


class ProductCap(Component):
    """A product of two amounts capped: :math:`x_0 x_1 \\le 1` (not linear).

    Pyomo: ``product`` (a quadratic ``Constraint``).
    """

    type_name = "test_product_cap"
    role = Role.CONSTRAINT

    def build(self, block: pyo.Block, ctx: BuildContext) -> None:
        amount = ctx.model.amount
        block.product = pyo.Constraint(expr=amount[0] * amount[1] <= 1)


class OddSteps(Component):
    """An own variable that may take only the values 0, 2 or 5 (a discrete value set).

    .. math:: s \\in \\{0, 2, 5\\}, \\qquad s \\le x_0

    Pyomo: ``step`` (a ``Var`` over a ``Set``), ``below`` (a ``Constraint``).
    """

    type_name = "test_odd_steps"
    role = Role.CONSTRAINT

    def build(self, block: pyo.Block, ctx: BuildContext) -> None:
        block.allowed = pyo.Set(initialize=[0, 2, 5])
        block.step = pyo.Var(domain=block.allowed)
        block.below = pyo.Constraint(expr=block.step <= ctx.model.amount[0])


REFUSED = [(OneOfTwoActions, "pair.sos (SOSConstraint)"),
           (LogicalPair, "pair.logic (LogicalConstraint)"),
           (EitherOrPair, "pair.choice (Disjunction)"),
           (ProductCap, "constraint pair.product"),
           (OddSteps, "variable pair.step")]


@pytest.mark.parametrize(("kind", "named"), REFUSED, ids=[k.type_name for k, _ in REFUSED])
def test_components_the_compiler_cannot_translate_are_refused_by_dss_solve(
        tmp_path: Path, kind: type[Component], named: str) -> None:
    """SOS, logical, disjunctive, non-linear and discrete-domain parts of a researcher's
    component are each refused through ``dss solve``, naming the Pyomo component: exit 2,
    never "optimal", nothing written (issue 15: they used to be dropped silently)."""
    register(kind)
    try:
        with pytest.raises(ComponentError, match=re.escape(named)):
            Problem.from_model(TINY / "model.yaml").add(kind("pair")).solve()
        model = tmp_path / "model.yaml"
        text = (TINY / "model.yaml").read_text(encoding="utf-8")
        model.write_text(text.replace("inputs: .", f"inputs: {TINY}")
                         + f"  pair: {{type: {kind.type_name}}}\n", encoding="utf-8")
        result = RUNNER.invoke(app, ["solve", str(model), "--out", str(tmp_path / "out")])
        assert result.exit_code == 2, result.output
        assert named in result.output
        assert "optimal" not in result.output
        assert not (tmp_path / "out").exists()
    finally:
        unregister(kind.type_name)


class ScarRevegLicence(Component):
    """A licence for scar revegetation, written in plain Pyomo with its own variables.

    With :math:`K` the scar_reveg options, a total :math:`t \\ge 0`, a binary licence
    :math:`\\ell` and a licensed size :math:`L`:

    .. math:: t = \\sum_{k \\in K} x_k, \\qquad t \\le L \\ell

    Pyomo: ``total`` and ``licence`` (own ``Var``), ``total_def`` and ``licensed`` (own
    ``Constraint``, ordinary Pyomo sums over ``ctx.model.amount``, not ``ctx.linear``).
    """

    type_name = "test_scar_licence"
    role = Role.CONSTRAINT

    def build(self, block: pyo.Block, ctx: BuildContext) -> None:
        amount = ctx.model.amount
        scar = np.flatnonzero(ctx.options["action_id"].to_numpy() == "scar_reveg")
        block.total = pyo.Var(domain=pyo.NonNegativeReals)
        block.licence = pyo.Var(domain=pyo.Binary)
        block.total_def = pyo.Constraint(
            expr=block.total == sum(amount[int(k)] for k in scar))
        block.licensed = pyo.Constraint(expr=block.total <= 5.0 * block.licence)


def test_a_plain_pyomo_component_with_its_own_variables_solves_correctly() -> None:
    """Hand-solved: the licence caps scar_reveg at 5 ha (t = 5, the licence taken), and the
    freed 150,000 CNY buy 7.5 ha more gfg_forest in D (17.5 ha), as the share cap above;
    the component's own variables carry the plan's values."""
    register(ScarRevegLicence)
    try:
        problem = Problem.from_model(TINY / "model.yaml").add(ScarRevegLicence("licence"))
        result = problem.solve()
        assert_capped_plan(result)
        block = result.built.blocks["licence"]
        assert pyo.value(block.total) == pytest.approx(5.0)
        assert pyo.value(block.licence) == pytest.approx(1.0)
        base = Problem.from_model(TINY / "model.yaml").solve()
        assert result.objective < base.objective  # the licence binds
    finally:
        unregister(ScarRevegLicence.type_name)
