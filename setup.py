"""Ships the top-level templates/, runtime_c/ and boards/ inside the wheel.

They sit at the top of the repository (where firmware engineers look for
them) but an installed mcugen must find them too: build_py copies them to
mcugen/_data/, and mcugen.resources looks there when not in a checkout.
"""
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

DATA_DIRS = ("templates", "runtime_c", "boards")


class BuildPyWithData(build_py):
    def run(self):
        super().run()
        here = os.path.dirname(os.path.abspath(__file__))
        for name in DATA_DIRS:
            src = os.path.join(here, name)
            if os.path.isdir(src):
                dst = os.path.join(self.build_lib, "mcugen", "_data", name)
                shutil.copytree(src, dst, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildPyWithData})
