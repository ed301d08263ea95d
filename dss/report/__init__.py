"""The meeting-room report: one self-contained ``report.html`` for a run or a comparison.

:func:`write_report` reads a run folder (``dss solve``) or a comparison folder
(``dss compare``), gathers what the report shows (:mod:`dss.report.run`,
:mod:`dss.report.compare`), draws the charts as inline SVG (:mod:`dss.report.figures`) and
renders the Jinja2 templates shipped in ``dss/report/templates``. Styles, figures and data are
all inside the page: it opens without network access and prints on A4. Jinja2 and
matplotlib are optional dependencies (the ``report`` extra).
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

from dss import __version__
from dss.errors import InputError, Issue
from dss.report.compare import build_compare_report, is_comparison
from dss.report.i18n import check_lang
from dss.report.park import build_park_report, is_park_design
from dss.report.run import build_run_report
from dss.results.runs import read_run, require
from dss.results.writer import OutputError

LOGGER = logging.getLogger(__name__)

REPORT = "report.html"


def render_report(folder: Path | str, lang: str = "zh") -> str:
    """The HTML of the report of a run or comparison folder, in ``lang`` (``zh`` or ``en``).

    Raises:
        InputError: if the folder is not a solve run or a comparison, or ``lang`` is unknown.
        MissingDependencyError: if Jinja2 or matplotlib is missing.
    """
    try:
        lang = check_lang(lang)
    except ValueError as err:
        raise InputError([Issue("--lang", str(err))], "cannot write the report") from None
    require("jinja2", "dss report")
    require("matplotlib", "dss report (figures)")
    import jinja2

    folder = Path(folder)
    if is_comparison(folder):
        report = build_compare_report(folder, lang)
        template = "compare.html.j2"
    else:
        run = read_run(folder)
        report = build_park_report(run, lang) if is_park_design(run) else \
            build_run_report(run, lang)
        template = "run.html.j2"
    env = jinja2.Environment(loader=jinja2.PackageLoader("dss.report", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]),
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    return env.get_template(template).render(r=report, w=report.w, version=__version__)


def write_report(folder: Path | str, lang: str = "zh", out: Path | str | None = None) -> Path:
    """Write ``report.html`` into the folder (or to ``out``), atomically.

    Returns:
        The file written.
    """
    html = render_report(folder, lang)
    target = Path(out) if out is not None else Path(folder) / REPORT
    if target.is_dir():
        target = target / REPORT
    temp = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temp.write_text(html, encoding="utf-8")
        os.replace(temp, target)
    except OSError as err:
        raise OutputError(f"cannot write {target}: {err.strerror or err} (choose another "
                          "--out)") from None
    finally:
        if temp.exists():
            temp.unlink()
    LOGGER.info("wrote %s (%d kB)", target, len(html) // 1024)
    return target
