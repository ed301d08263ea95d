"""Build hook: ship the bundled Baoxing study (models/ and inputs/baoxing/) inside the wheel.

Everything else is declared in pyproject.toml. The study stays at the repository root, where
README's commands and the tests use it; a built wheel gets a copy in ``dss/bundled/`` so that
``dss solve`` works from any folder after ``pip install`` (see ``dss.examples``).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLED = {"models": ["baoxing.yaml", "baoxing_park.yaml"], "inputs": ["baoxing"]}


class BuildWithStudy(build_py):
    """build_py that also copies the bundled study into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the study from the checkout
        target = Path(self.build_lib) / "dss" / "bundled"
        for folder, names in BUNDLED.items():
            for name in names:
                source = ROOT / folder / name
                dest = target / folder / name
                dest.parent.mkdir(parents=True, exist_ok=True)
                if source.is_dir():
                    shutil.copytree(source, dest, dirs_exist_ok=True)
                elif source.is_file():
                    shutil.copy2(source, dest)


setup(cmdclass={"build_py": BuildWithStudy})
