"""Located checks of a ``planning:`` section against a study's zones and unit attributes
(shared by :mod:`dss.planning.study` and :mod:`dss.planning.study_extras`)."""

from __future__ import annotations

from dss.errors import Issue, did_you_mean


class _Issues:
    """Collects located issues for keys under ``planning``."""

    def __init__(self, file: str, lines: dict[tuple[str, ...], int] | None) -> None:
        self.file, self.lines, self.issues = file, lines or {}, []

    def add(self, message: str, *key: str) -> None:
        path = ("planning", *key)
        line = None
        for depth in range(len(path), 0, -1):
            line = self.lines.get(path[:depth])
            if line is not None:
                break
        self.issues.append(Issue(self.file, message, line, ".".join(path)))


def _check_zones(zones: list[str] | None, known: list[str], out: _Issues, *key: str) -> None:
    for zone in zones or []:
        if zone not in known:
            hint = did_you_mean(zone, known, quote=True)
            out.add(f"unknown zone {zone!r} ({hint + ' ' if hint else ''}zones: "
                    f"{', '.join(known)})", *key)


def _check_attribute(name: str, columns: list[str], out: _Issues, *key: str) -> None:
    if name not in columns:
        hint = did_you_mean(name, columns, quote=True)
        shown = [c for c in columns if c not in ("id", "name", "name_zh", "township")]
        out.add(f"unknown unit attribute {name!r} ({hint + ' ' if hint else ''}known: "
                f"{', '.join(shown)})", *key)
