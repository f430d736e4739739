#!/usr/bin/python3
"""install.services: the installed programs, started the way their units say (each unit's own
ExecStart line, user, groups, capability bounding set, no_new_privs, delegated cgroup, device
policy, directories, mount protections, Type=notify), serve requests end to end:

- boot steps: systemd-sysusers and systemd-tmpfiles with the installed files create the
  accounts and directories with the owners and modes the units expect;
- sandboxd.service reports READY=1, listens on /run/sandboxd/sandboxd.sock (0660 root:sandbox),
  logs with journal priorities, keeps its job cgroups below its own (delegated) cgroup;
- an unprivileged member of group `sandbox` (sandbox-http's user) runs jobs through it with the
  installed sandboxctl; a user outside the group is refused at the socket;
- ExecReload reloads; stopping by KillMode=mixed leaves no process, cgroup or socket behind;
- sandbox-http.service, as its unprivileged user with no capabilities, answers HTTP requests
  with jobs run by sandboxd, reaching the socket through the group.

Everything runs in a scratch copy of the machine (installtest.ScratchRoot) in its own network
namespace.
"""
import json
import os
import re
import stat
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from installtest import (ScratchRoot, Service, check, cleanup_on_exit, fail, install_tree, mode_of,
                         read, reexec_in_namespaces, run, run_as)
import grp
import pwd

reexec_in_namespaces(network=True)
tree = install_tree()
http = os.environ.get("SANDBOXD_HAS_HTTP") == "1"

scratch = ScratchRoot()
scratch.copy_in(tree)
scratch.chroot()

# -- what a boot (or the package's postinst) does with the installed files -----------------------
run(["systemd-sysusers", "sandboxd.conf"])
run(["systemd-tmpfiles", "--create", "sandboxd.conf"])
user = pwd.getpwnam("sandbox-http")
check(user.pw_shell == "/usr/sbin/nologin" and user.pw_dir == "/nonexistent",
      f"sandbox-http has shell {user.pw_shell} and home {user.pw_dir}")
check(grp.getgrgid(user.pw_gid).gr_name == "sandbox-http", "sandbox-http's primary group is not sandbox-http")
check("sandbox-http" in grp.getgrnam("sandbox").gr_mem, "sandbox-http is not a member of group sandbox")
for path, expected in {"/run/sandboxd": (0o755, "root", "root"),
                       "/var/cache/sandboxd": (0o700, "root", "root"),
                       "/var/lib/sandboxd": (0o755, "root", "root"),
                       "/var/lib/sandbox-http": (0o750, "sandbox-http", "sandbox-http")}.items():
    got = mode_of(path)
    check(got == expected, f"{path}: {oct(got[0])} {got[1]}:{got[2]}, expected {oct(expected[0])} {expected[1]}:{expected[2]}")
print("sysusers.d and tmpfiles.d: accounts and directories as expected")

services = []
cleanup_on_exit(services)


def wait_for(predicate, what, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    fail(f"timed out waiting for {what}")


def proc_status(pid):
    return dict(line.split(":\t", 1) for line in read(f"/proc/{pid}/status").splitlines() if ":\t" in line)


def fresh_log(path):
    """The scratch root's copy of a log file a run on the host may have written (scripts/run.sh
    logs to the same paths): each service here starts with an empty one."""
    if os.path.exists(path):
        os.unlink(path)
    return path


def start_sandboxd():
    daemon = Service("/usr/lib/systemd/system/sandboxd.service", fresh_log("/var/log/sandboxd.log"))
    services.append(daemon)
    daemon.start(journal=True)
    return daemon


def check_sandboxd_jobs(daemon):
    # A member of `sandbox`, with no privileges, runs a program through the installed client.
    r = run_as("sandbox-http", ["/usr/bin/sandboxctl", "exec", "--", "/usr/bin/python3", "-c",
                                "import os; print(6 * 7, os.getuid())"])
    check(r.returncode == 0, f"sandboxctl exec as sandbox-http exited {r.returncode}: {r.stderr}\n{daemon.log()}")
    answer, uid = r.stdout.split()
    check(answer == "42" and 60000 <= int(uid) <= 60999, f"unexpected output {r.stdout!r}")

    with open("/tmp/rev.py", "w") as f:
        f.write("print(input()[::-1])\n")
    with open("/tmp/in.txt", "w") as f:
        f.write("stressed\n")
    r = run_as("sandbox-http", ["/usr/bin/sandboxctl", "run", "--stdin", "/tmp/in.txt", "/tmp/rev.py"])
    check(r.returncode == 0 and r.stdout == "desserts\n", f"sandboxctl run: {r.returncode} {r.stdout!r} {r.stderr}")

    # A stateful session keeps its state between calls: the installed daemon finds its drivers.
    r = run_as("sandbox-http", ["/usr/bin/sandboxctl", "session", "open", "--lang", "python"])
    check(r.returncode == 0 and r.stdout.strip(), f"session open: exit {r.returncode} {r.stdout!r} {r.stderr}\n{daemon.log()}")
    session = r.stdout.strip()
    r = run_as("sandbox-http", ["/usr/bin/sandboxctl", "session", "exec", session, "-c", "a = 41"])
    check(r.returncode == 0, f"session exec: exit {r.returncode} {r.stderr}")
    r = run_as("sandbox-http", ["/usr/bin/sandboxctl", "session", "exec", session, "-c", "print(a + 1)"])
    check(r.returncode == 0 and r.stdout == "42\n", f"session state: exit {r.returncode} {r.stdout!r} {r.stderr}")
    r = run_as("sandbox-http", ["/usr/bin/sandboxctl", "session", "close", session])
    check(r.returncode == 0, f"session close: exit {r.returncode} {r.stderr}")

    # Limits still hold under the unit's settings: a memory hog ends memory_limit (exit 125),
    # and the service goes on serving.
    r = run_as("sandbox-http", ["/usr/bin/sandboxctl", "exec", "--memory-limit", "48MiB", "--",
                                "/usr/bin/python3", "-c", "x = bytearray(400 << 20)"])
    check(r.returncode == 125 and "memory_limit" in r.stderr, f"memory hog: exit {r.returncode} {r.stderr}")
    check(daemon.process.poll() is None, "sandboxd died after a job's OOM kill")

    # The socket is the boundary: a user outside `sandbox` cannot even connect.
    r = run_as("nobody", ["/usr/bin/sandboxctl", "languages"])
    check(r.returncode == 120 and "ermission denied" in r.stderr,
          f"nobody was not refused at the socket: exit {r.returncode} {r.stdout} {r.stderr}")
    print("sandboxd.service: jobs and sessions run for a member of group sandbox, refused for others")


# -- sandboxd.service -----------------------------------------------------------------------------
# What the emulation cannot show by behaviour, the unit must still say: its cgroup subtree is
# delegated (sandboxd creates cgroups below its own), a job's OOM kill does not stop the service,
# SIGTERM goes to the daemon alone (it stops its jobs itself), and no unit-wide pids limit.
unit = Service("/usr/lib/systemd/system/sandboxd.service", "/dev/null").unit
for key, value in {"Delegate": "yes", "OOMPolicy": "continue", "KillMode": "mixed", "TasksMax": "infinity",
                   "Type": "notify", "RuntimeDirectory": "sandboxd"}.items():
    check(unit.get("Service", key) == value, f"sandboxd.service: {key}={unit.get('Service', key)}, expected {value}")
daemon = start_sandboxd()
print(f"sandboxd.service started (READY=1); device policy applied: {daemon.devices_restricted}; "
      f"not emulated: {', '.join(daemon.not_emulated) or 'nothing'}")
try:
    check(mode_of("/run/sandboxd/sandboxd.sock") == (0o660, "root", "sandbox"),
          f"socket is {mode_of('/run/sandboxd/sandboxd.sock')}, not 0660 root:sandbox")
    check(stat.S_ISSOCK(os.stat("/run/sandboxd/sandboxd.sock").st_mode), "not a socket")

    # The unit's credentials are what the daemon runs with.
    st = proc_status(daemon.main_pid)
    check(st["NoNewPrivs"].strip() == "1", "NoNewPrivileges=yes was not applied")
    bounding = int(st["CapBnd"], 16)
    check(not bounding & (1 << 16) and bounding & (1 << 21), f"CapBnd {st['CapBnd']}: SYS_MODULE kept or SYS_ADMIN dropped")

    # Its job cgroups live below the unit's own cgroup (Delegate=yes).
    check(daemon.main_pid in daemon.cgroup.processes(), "the daemon is not in its unit's cgroup")
    delegated = [d for d in daemon.cgroup.subdirs() if d.endswith("/sandboxd/jobs")]
    check(delegated, f"no <unit>/sandboxd/jobs cgroup; below the unit: {daemon.cgroup.subdirs()}")

    # Journal stream: priorities, no time stamps (journald adds its own).
    lines = [l for l in daemon.log().splitlines() if l]
    check(lines and all(re.match(r"<[0-7]>", l) for l in lines), f"log lines without a priority:\n{daemon.log()}")
    check(not any(re.match(r"<\d>\d{4}-\d\d-\d\d", l) for l in lines), "log lines carry a time stamp under the journal")

    check_sandboxd_jobs(daemon)

    # ExecReload: SIGHUP, RELOADING=1 then READY=1, and the log says so.
    daemon.reload()
    daemon.wait_notify("RELOADING=1")
    daemon.wait_notify("READY=1")
    wait_for(lambda: "reloaded" in daemon.log(), "the reload in the log")

    # Stop as systemd would (KillMode=mixed): SIGTERM to the daemon; it must leave nothing for the
    # final SIGKILL to the unit's cgroup, and remove its socket and job cgroups itself.
    status, survivors = daemon.stop()
    check(status == 0, f"sandboxd exited {status} on SIGTERM:\n{daemon.log()}")
    check(not survivors, f"processes left in the unit's cgroup after sandboxd exited: {survivors}")
    check(not os.path.exists("/run/sandboxd/sandboxd.sock"), "the socket is left after stop")
    check(not daemon.cgroup.subdirs(), f"cgroups left below the unit: {daemon.cgroup.subdirs()}")
    print("sandboxd.service: reload and stop clean")
finally:
    daemon.cleanup()

# -- sandbox-http.service -------------------------------------------------------------------------
if not http:
    print("sandbox-http is not part of this build; its service was not started")
    sys.exit(0)

daemon = start_sandboxd()
proxy = Service("/usr/lib/systemd/system/sandbox-http.service", fresh_log("/var/log/sandbox-http.log"))
services.append(proxy)
try:
    token = "0123456789abcdef0123456789abcdef"
    with open("/etc/sandboxd/tokens", "w") as f:
        f.write(f"# token  name\n{token}  install-test\n")
    os.chown("/etc/sandboxd/tokens", 0, grp.getgrnam("sandbox-http").gr_gid)
    os.chmod("/etc/sandboxd/tokens", 0o640)
    proxy.start()
    print(f"sandbox-http.service started; not emulated: {', '.join(proxy.not_emulated) or 'nothing'}")
    st = proc_status(proxy.main_pid)
    check(st["Uid"].split()[0] == str(pwd.getpwnam("sandbox-http").pw_uid), f"sandbox-http runs as uid {st['Uid']}")
    check(int(st["CapBnd"], 16) == 0 and int(st["CapEff"], 16) == 0, f"sandbox-http has capabilities: {st['CapBnd']}")
    check(str(grp.getgrnam("sandbox").gr_gid) in st["Groups"].split(), f"sandbox-http is not in group sandbox: {st['Groups']}")

    def request(path, body=None, headers=None):
        req = urllib.request.Request("http://127.0.0.1:8000" + path, data=body, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()
        except OSError:
            return None, b""

    # 200 once it listens and its connections to sandboxd are up (503 before).
    wait_for(lambda: request("/healthz")[0] == 200, f"/healthz to answer 200:\n{proxy.log()}", timeout=20)
    auth = {"X-Auth-Token": token, "Content-Type": "application/json"}
    status, body = request("/v1/run", json.dumps({"language": "python", "source": "print(6 * 7)"}).encode(), auth)
    check(status == 200, f"/v1/run: {status} {body!r}\n{proxy.log()}\n{daemon.log()}")
    result = json.loads(body)
    check("42" in json.dumps(result), f"/v1/run did not print 42: {result}")
    status, _ = request("/v1/run", json.dumps({"language": "python", "source": "print(1)"}).encode(),
                        {"Content-Type": "application/json"})
    check(status == 401, f"/v1/run without a token: {status}, expected 401")
    print("sandbox-http.service: HTTP requests run jobs through sandboxd's socket")

    status, survivors = proxy.stop()
    check(status == 0, f"sandbox-http exited {status} on SIGTERM:\n{proxy.log()}")
    check(not survivors, f"processes left in sandbox-http's cgroup: {survivors}")
    status, survivors = daemon.stop()
    check(status == 0 and not survivors, f"sandboxd stop: {status}, left {survivors}")
finally:
    proxy.cleanup()
    daemon.cleanup()
