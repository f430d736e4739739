#!/usr/bin/python3
"""install.package: the Debian package that CPack builds from this build (no rebuild):

- its control fields, its Depends covering every shared library the programs link (from their
  ELF NEEDED entries, resolved to the Debian packages that ship them), its conffiles (every file
  in /etc), its maintainer scripts, its debug-symbol package;
- its file list is exactly the install tree's;
- installed with dpkg in a scratch copy of this machine: the files, the accounts, the directories
  and the enabled unit are there; a reinstall keeps a locally changed conffile; purged, it leaves
  the machine as it was - every file the scratch root's upper layer holds is either unchanged or
  dpkg's own bookkeeping, and the account databases are byte for byte what they were.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from installtest import ScratchRoot, check, fail, install_tree, read, reexec_in_namespaces, run

reexec_in_namespaces()
tree = install_tree()
build = os.environ["SANDBOXD_BUILD_DIR"]
version = os.environ["SANDBOXD_VERSION"]
arch = run(["dpkg", "--print-architecture"]).strip()

# -- build it -------------------------------------------------------------------------------------
out_dir = build + "/tests/install/package"
shutil.rmtree(out_dir, ignore_errors=True)
started = time.monotonic()
run(["cpack", "--config", build + "/CPackConfig.cmake", "-B", out_dir])
deb = f"{out_dir}/sandboxd_{version}_{arch}.deb"
ddeb = f"{out_dir}/sandboxd-dbgsym_{version}_{arch}.ddeb"
check(os.path.isfile(deb), f"cpack made no {deb}: {os.listdir(out_dir)}")
print(f"built {os.path.basename(deb)} in {time.monotonic() - started:.1f} s")


def field(name, path=deb):
    return run(["dpkg-deb", "-f", path, name]).strip()


check(field("Package") == "sandboxd", "Package is not sandboxd")
check(field("Version") == version, f"Version {field('Version')} is not {version}")
check(field("Architecture") == arch, f"Architecture {field('Architecture')} is not {arch}")
for name in ("Maintainer", "Description", "Section", "Priority"):
    check(field(name), f"no {name} field")

# Depends: every library a program links comes from a package the .deb depends on.
depends = {re.split(r"[ (]", d.strip())[0] for d in field("Depends").split(",")}
for needed_by_scripts in ("init-system-helpers", "passwd", "procps"):
    check(needed_by_scripts in depends, f"Depends lacks {needed_by_scripts}: {sorted(depends)}")
ld_cache = {}
for line in run(["ldconfig", "-p"]).splitlines()[1:]:
    m = re.match(r"\s*(\S+) \(([^)]*)\) => (\S+)", line)
    if m and (arch != "amd64" or "x86-64" in m.group(2)):
        ld_cache.setdefault(m.group(1), m.group(3))


def package_of(path):
    """The package shipping a library, under any of the names merged /usr gives it."""
    real = os.path.realpath(path)
    candidates = [path, os.path.join(os.path.dirname(path), os.path.basename(real)), real]
    candidates += [c.removeprefix("/usr") for c in candidates if c.startswith("/usr/")]
    candidates += ["/usr" + c for c in candidates if not c.startswith("/usr/")]
    for c in candidates:
        r = subprocess.run(["dpkg", "-S", c], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if r.returncode == 0:
            return r.stdout.split(":")[0]
    fail(f"no package ships {path} (tried {candidates})")


programs = [p for p in glob.glob(tree + "/usr/sbin/*") + glob.glob(tree + "/usr/bin/*")]
libraries = {}
for program in programs:
    for soname in re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", run(["readelf", "-d", program])):
        check(soname in ld_cache, f"{soname} (needed by {program}) is not in the loader cache")
        owner = package_of(ld_cache[soname])
        libraries.setdefault(owner, set()).add(soname)
def names_of(package):
    """A package's name and the virtual names it provides (libspdlog1.10 provides
    libspdlog1.10-fmt9, which its shlibs file names)."""
    provides = run(["dpkg-query", "-W", "-f", "${Provides}", package])
    return {package} | {re.split(r"[ (]", p.strip())[0] for p in provides.split(",") if p.strip()}


missing = sorted(pkg for pkg in libraries if not names_of(pkg) & depends)
check(not missing, f"Depends lacks the packages of linked libraries: {missing} (Depends: {sorted(depends)})")
print(f"Depends covers {len(libraries)} library packages: {', '.join(sorted(libraries))}")

# Files: the same as `cmake --install` put in the tree.
packaged = set()
for line in run(["dpkg-deb", "-c", deb]).splitlines():
    perms, path = line.split()[0], line.split()[5]
    if not perms.startswith("d"):
        packaged.add(path.removeprefix("./"))
installed = set()
for dirpath, _, files in os.walk(tree):
    installed |= {os.path.relpath(os.path.join(dirpath, f), tree) for f in files}
check(packaged == installed, f"package and install tree differ: only in the package {sorted(packaged - installed)}, "
                             f"only in the tree {sorted(installed - packaged)}")

control = out_dir + "/control"
run(["dpkg-deb", "-e", deb, control])
conffiles = set(read(control + "/conffiles").split())
etc = {"/" + p for p in installed if p.startswith("etc/")}
check(conffiles == etc, f"conffiles {sorted(conffiles)} are not the files in /etc {sorted(etc)}")
for script in ("postinst", "prerm", "postrm"):
    check(os.access(f"{control}/{script}", os.X_OK), f"{script} is not executable")
    run(["sh", "-n", f"{control}/{script}"])
md5 = {line.split()[1] for line in read(control + "/md5sums").splitlines()}
check(md5 == installed - {p[1:] for p in conffiles} or md5 == installed, "md5sums does not list the package's files")

# Debug symbols of the (stripped) programs, by build id.
check(os.path.isfile(ddeb), f"no debug symbol package {ddeb}")
symbols = run(["dpkg-deb", "-c", ddeb])
for program in programs:
    build_id = re.search(r"Build ID: (\w+)", run(["readelf", "-n", program])).group(1)
    check(f"/usr/lib/debug/.build-id/{build_id[:2]}/{build_id[2:]}.debug" in symbols,
          f"{os.path.basename(program)}'s symbols (build id {build_id}) are not in the dbgsym package")
print(f"package: {len(packaged)} files, {len(conffiles)} conffiles, symbols of {len(programs)} programs")


# -- install, reinstall, purge, in a scratch copy of the machine ------------------------------------
def dpkg_locked():
    """Whether a dpkg or apt run on the host holds dpkg's lock now (read from /proc/locks, without
    taking it): the scratch copy must not catch the database half written."""
    inodes = set()
    for name in ("lock", "lock-frontend"):
        try:
            inodes.add(os.stat("/var/lib/dpkg/" + name).st_ino)
        except FileNotFoundError:
            pass
    for line in read("/proc/locks").splitlines():
        fields = line.split()
        if len(fields) > 5 and fields[5].count(":") == 2 and int(fields[5].split(":")[2]) in inodes:
            return True
    return False


deadline = time.monotonic() + 200
while dpkg_locked() or os.listdir("/var/lib/dpkg/updates"):
    check(time.monotonic() < deadline, "dpkg has been busy on this host for 200 s; try again later")
    time.sleep(2)

scratch = ScratchRoot()
root = scratch.root
shutil.copy(deb, root + "/tmp/sandboxd.deb")


def in_root(*argv):
    return run(["chroot", root] + list(argv))


def accounts_now():
    return {name: read(f"{root}/etc/{name}") for name in ("passwd", "group", "shadow", "gshadow")}


# Start from a machine without the package's accounts (this host may have them from
# scripts/install-deps.sh): first one that has neither, then one where the group exists already,
# which purge must leave alone.
if re.search(r"^sandbox-http:", accounts_now()["passwd"], re.M):
    in_root("userdel", "sandbox-http")
if re.search(r"^sandbox-http:", accounts_now()["group"], re.M):
    in_root("groupdel", "sandbox-http")
if re.search(r"^sandbox:", accounts_now()["group"], re.M):
    in_root("groupdel", "sandbox")

for had_group in (False, True):
    if had_group:
        in_root("groupadd", "--system", "sandbox")
    accounts = accounts_now()
    in_root("dpkg", "--install", "--no-triggers", "/tmp/sandboxd.deb")
    check("install ok installed" in in_root("dpkg-query", "-W", "-f", "${Status}", "sandboxd"), "sandboxd is not installed")
    owned = set(in_root("dpkg", "-L", "sandboxd").split())
    check({"/" + p for p in installed} <= owned, f"dpkg -L lacks {sorted({'/' + p for p in installed} - owned)}")
    for path in installed:
        check(os.path.lexists(f"{root}/{path}"), f"/{path} was not installed")
    check(re.search(r"^sandbox-http:x:\d+:\d+:", read(f"{root}/etc/passwd"), re.M), "postinst did not create sandbox-http")
    check(re.search(r"^sandbox:x:\d+:.*\bsandbox-http\b", read(f"{root}/etc/group"), re.M),
          "sandbox-http is not a member of group sandbox")
    ledger = read(f"{root}/var/lib/sandboxd/package-accounts").split()
    check(ledger == (["user:sandbox-http"] if had_group else ["group:sandbox", "user:sandbox-http"]),
          f"package-accounts ledger: {ledger}")
    for d, owner in {"/var/lib/sandboxd": 0, "/var/cache/sandboxd": 0, "/run/sandboxd": 0,
                     "/var/lib/sandbox-http": None}.items():
        check(os.path.isdir(root + d), f"{d} was not created")
        if owner is not None:
            check(os.stat(root + d).st_uid == owner, f"{d} is not owned by root")
    wants = f"{root}/etc/systemd/system/multi-user.target.wants"
    check(os.path.islink(wants + "/sandboxd.service"), "sandboxd.service is not enabled")
    check(not os.path.lexists(wants + "/sandbox-http.service"), "sandbox-http.service is enabled without a token file")

    # A reinstall (what an upgrade runs) keeps a locally changed conffile and creates nothing twice.
    with open(f"{root}/etc/sandboxd/policies/default.toml", "a") as f:
        f.write("# changed by the operator\n")
    in_root("dpkg", "--install", "--no-triggers", "/tmp/sandboxd.deb")
    check(read(f"{root}/etc/sandboxd/policies/default.toml").endswith("# changed by the operator\n"),
          "the reinstall replaced a changed conffile")
    check(read(f"{root}/var/lib/sandboxd/package-accounts").split() == ledger, "the reinstall changed the ledger")

    # Purge: nothing of it is left, and the accounts are as they were.
    in_root("dpkg", "--purge", "--no-triggers", "sandboxd")
    status = subprocess.run(["chroot", root, "dpkg-query", "-W", "-f", "${Status}", "sandboxd"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    check("installed" not in status.replace("not-installed", ""), f"sandboxd still known to dpkg: {status}")
    for name, before in accounts.items():
        check(read(f"{root}/etc/{name}") == before, f"/etc/{name} differs after purge")
    check(not os.path.exists(root + "/run/sandboxd"), "/run/sandboxd is left")
    print(f"{'with' if had_group else 'without'} a group sandbox before: installed (files, accounts, directories, "
          f"enabled unit), reinstalled keeping a changed conffile, purged back to the accounts before")

# Everything the scratch root's upper layer holds is dpkg's bookkeeping, an account database
# (compared with its state before each installation above; this test itself removed the host's
# sandbox accounts from the copy) or its backup, or unchanged from the host.
bookkeeping = re.compile(r"^(var/lib/dpkg/|var/log/dpkg\.log$|var/log/alternatives\.log$|"
                         r"etc/(passwd|group|shadow|gshadow|subuid|subgid)-?$|etc/\.pwd\.lock$)")
own_state = re.compile(r"^(var/cache/sandboxd|var/lib/sandboxd|var/lib/sandbox-http|run/sandboxd)(/|$)")
left = []
for dirpath, dirnames, files in os.walk(scratch.upper):
    for name in dirnames + files:
        path = os.path.join(dirpath, name)
        rel = os.path.relpath(path, scratch.upper)
        host = "/" + rel
        st = os.lstat(path)
        if bookkeeping.match(rel) or bookkeeping.match(rel + "/"):
            continue
        if os.path.isdir(path) and not os.path.islink(path):
            if not os.path.isdir(host):
                left.append(rel + "/")
        elif st.st_rdev == 0 and not os.path.isfile(path) and not os.path.islink(path):
            # A sandboxd run on the host (scripts/run.sh, a benchmark) may have left the package's
            # own state directories; purge removes them from the copy, as it should.
            if not own_state.match(rel):
                left.append(rel + " (deleted from the host's files)")
        elif os.path.islink(path):
            if not os.path.islink(host) or os.readlink(host) != os.readlink(path):
                left.append(rel)
        elif not os.path.isfile(host) or subprocess.run(["cmp", "-s", path, host]).returncode != 0:
            left.append(rel)
check(not left, "left after purge: " + ", ".join(sorted(left)))
print("purged: the machine is as it was")
