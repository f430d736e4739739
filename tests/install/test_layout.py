#!/usr/bin/python3
"""install.layout: the install tree holds exactly the expected files, with their modes; units
and man pages are filled in for the prefix; every option the programs accept is in their man
page; the bash completion is the one `sandboxctl completion bash` prints; the installed daemon's
default policy directory is where the policies were installed."""
import glob
import gzip
import os
import re
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from installtest import check, install_tree, read, run

tree = install_tree()
source = os.environ["SANDBOXD_SOURCE_DIR"]
http = os.environ.get("SANDBOXD_HAS_HTTP") == "1"

# -- exactly these files, with these modes --------------------------------------------------
expected = {
    "usr/sbin/sandboxd": 0o755,
    "usr/bin/sandboxctl": 0o755,
    "usr/lib/systemd/system/sandboxd.service": 0o644,
    "usr/lib/sysusers.d/sandboxd.conf": 0o644,
    "usr/lib/tmpfiles.d/sandboxd.conf": 0o644,
    "usr/share/man/man8/sandboxd.8.gz": 0o644,
    "usr/share/man/man1/sandboxctl.1.gz": 0o644,
    "usr/share/bash-completion/completions/sandboxctl": 0o644,
    "usr/share/doc/sandboxd/README.md": 0o644,
}
if http:
    expected.update({
        "usr/sbin/sandbox-http": 0o755,
        "usr/lib/systemd/system/sandbox-http.service": 0o644,
        "usr/share/man/man8/sandbox-http.8.gz": 0o644,
    })
for doc in glob.glob(source + "/docs/*.md"):
    expected["usr/share/doc/sandboxd/" + os.path.basename(doc)] = 0o644
for kind in ("policies", "languages"):
    for f in glob.glob(f"{source}/policy/{kind}/*.toml"):
        expected[f"etc/sandboxd/{kind}/{os.path.basename(f)}"] = 0o644
for f in ("python_driver.py", "sandboxd_matplotlib.py", "matplotlibrc", "fonts.conf", "node_driver.js", "bash_driver.sh"):
    expected["usr/share/sandboxd/drivers/" + f] = 0o644
check("usr/share/doc/sandboxd/operations.md" in expected, "docs/operations.md is missing from the source tree")

found = {}
for dirpath, dirnames, files in os.walk(tree):
    for name in files:
        path = os.path.join(dirpath, name)
        found[os.path.relpath(path, tree)] = stat.S_IMODE(os.lstat(path).st_mode)
    for name in dirnames:
        mode = stat.S_IMODE(os.lstat(os.path.join(dirpath, name)).st_mode)
        check(mode == 0o755, f"directory {name} has mode {oct(mode)}, not 0755")
missing = sorted(set(expected) - set(found))
extra = sorted(set(found) - set(expected))
check(not missing, "not installed: " + ", ".join(missing))
check(not extra, "installed but not expected (add them to tests/install/test_layout.py if meant): " + ", ".join(extra))
for path, mode in expected.items():
    check(found[path] == mode, f"{path} has mode {oct(found[path])}, expected {oct(mode)}")

# Shipped configuration is installed unchanged.
for kind in ("policies", "languages"):
    for f in glob.glob(f"{source}/policy/{kind}/*.toml"):
        check(read(f) == read(f"{tree}/etc/sandboxd/{kind}/{os.path.basename(f)}"), f"{f} changed on install")

# -- units and man pages are filled in for /usr ----------------------------------------------
units = ["sandboxd.service"] + (["sandbox-http.service"] if http else [])
for unit in units:
    text = read(f"{tree}/usr/lib/systemd/system/{unit}")
    # (SystemCallFilter=@system-service names a syscall set: not a placeholder.)
    check(not re.search(r"@[A-Z_]+@", text), f"{unit} has an unreplaced @VARIABLE@")
    execs = re.findall(r"^ExecStart=(\S+)", text, re.M)
    check(len(execs) == 1, f"{unit}: expected one ExecStart line, found {execs}")
    check(os.access(tree + execs[0], os.X_OK), f"{unit}: ExecStart program {execs[0]} is not in the install tree")
    check("file:///usr/share/doc/sandboxd/operations.md" in text, f"{unit}: Documentation= does not point at the installed guide")

pages = {"sandboxd.8": "usr/sbin/sandboxd", "sandboxctl.1": "usr/bin/sandboxctl"}
if http:
    pages["sandbox-http.8"] = "usr/sbin/sandbox-http"


def help_options(argv):
    out = subprocess.run(argv + ["--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", out)), out


for page, program in pages.items():
    section = page[-1]
    path = f"{tree}/usr/share/man/man{section}/{page}.gz"
    roff = gzip.decompress(open(path, "rb").read()).decode()
    check(not re.search(r"@[A-Z_]+@", roff), f"{page} has an unreplaced @VARIABLE@")
    check(f"sandboxd {os.environ['SANDBOXD_VERSION']}" in roff, f"{page} does not name version {os.environ['SANDBOXD_VERSION']}")
    # groff's own warnings (-ww): bad macros, unknown escapes, lines it cannot lay out.
    lint = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z"], input=roff, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout
    check(lint.strip() == "", f"groff warns about {page}:\n{lint}")
    rendered = subprocess.run(["man", "-l", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env=dict(os.environ, MANWIDTH="100", MAN_KEEP_FORMATTING="0", PAGER="cat",
                                       LANG="C.UTF-8")).stdout
    rendered = re.sub(r".\x08", "", rendered)
    for heading in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS" if section == "8" else "COMMANDS", "SEE ALSO"):
        check(re.search(rf"^{heading}$", rendered, re.M), f"man -l {page}: no {heading} section:\n{rendered[:2000]}")
    # Every option the program accepts is documented.
    options, _ = help_options([tree + "/" + program])
    commands = []
    if page == "sandboxctl.1":
        _, top = help_options([tree + "/" + program])
        commands = re.findall(r"^  ([a-z][a-z-]*)\s{2,}", top.split("Subcommands:")[1], re.M)
        check(len(commands) >= 9, f"could not read sandboxctl's commands from --help:\n{top}")
        for command in commands:
            sub, _ = help_options([tree + "/" + program, command])
            options |= sub
            check(re.search(rf"^   {command}\b", rendered, re.M), f"sandboxctl.1 does not document the command '{command}'")
    undocumented = sorted(o for o in options if o not in rendered)
    check(not undocumented, f"{page} does not document {', '.join(undocumented)}")
    print(f"{page}: {len(options)} options{' and %d commands' % len(commands) if commands else ''} documented")

# -- bash completion ----------------------------------------------------------------------------
completion = read(f"{tree}/usr/share/bash-completion/completions/sandboxctl")
printed = run([f"{tree}/usr/bin/sandboxctl", "completion", "bash"], stderr=subprocess.PIPE)
check(completion == printed, "the installed completion differs from `sandboxctl completion bash`")
run(["bash", "-n", f"{tree}/usr/share/bash-completion/completions/sandboxctl"])
check(re.search(r"complete .*_sandboxctl sandboxctl", completion), "the completion script registers no completion for sandboxctl")

# -- the installed daemon looks for policies where they were installed ---------------------------
out = subprocess.run([f"{tree}/usr/sbin/sandboxd", "--help"], stdout=subprocess.PIPE, text=True).stdout
for kind in ("policies", "languages"):
    default = re.search(rf"--{kind} TEXT=(\S+)", out)
    check(default and default.group(1) == f"/etc/sandboxd/{kind}",
          f"installed sandboxd's default --{kind} is {default.group(1) if default else '?'}, not /etc/sandboxd/{kind}")

default = re.search(r"--drivers TEXT=(\S+)", out)
# Found beside the executable, so the staged tree's own drivers (/usr/share/... once installed).
check(default and default.group(1) == f"{tree}/usr/share/sandboxd/drivers",
      f"installed sandboxd's default --drivers is {default.group(1) if default else '?'}, not {tree}/usr/share/sandboxd/drivers")

print(f"install tree: {len(found)} files as expected")
