#!/usr/bin/python3
"""install.stage: `cmake --install` of the build into a fresh DESTDIR, with the prefix the
Debian package uses (/usr). The other install tests look at and run what it installed."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
from installtest import check, run

tree = os.environ["SANDBOXD_INSTALL_TREE"]
shutil.rmtree(tree, ignore_errors=True)
output = run(["cmake", "--install", os.environ["SANDBOXD_BUILD_DIR"], "--prefix", "/usr"],
             env=dict(os.environ, DESTDIR=tree))
check(os.path.isfile(tree + "/usr/sbin/sandboxd"), "cmake --install did not install sandboxd:\n" + output)
print(output)
