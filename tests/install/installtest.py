"""Shared helpers of the install tests (tests/install/).

These machines have no systemd as PID 1 and must not be changed by a test, so:

- ScratchRoot is a copy-on-write copy of this machine: an overlay whose lower layer is the host's
  root file system and whose upper layer is a tmpfs, in a private mount namespace. Installing
  into it (an install tree, a .deb) and creating users in it touches nothing on the host, and
  everything it wrote is in its upper layer, where a test can see exactly what was left.
- Service is a stand-in for systemd that starts a service from its unit file: the ExecStart line
  as written, in a cgroup of its own with the delegated subtree, under the unit's user, groups,
  capability bounding set, no_new_privs, umask, rlimits, directories, mount protections and
  device policy, with a notify socket for Type=notify. Directives it cannot reproduce without
  systemd (its seccomp-based ones) are listed by Service.not_emulated, so a reader knows what
  the test did not cover.

Run every test under `unshare`: see reexec_in_namespaces().
"""

import atexit
import grp
import os
import pwd
import re
import resource
import shlex
import signal
import socket
import stat
import subprocess
import sys
import time

TEST_CGROUP_PREFIX = "sandboxd-install-test-"


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def run(argv, **kwargs):
    """Runs a command; fails the test with its output when it fails."""
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.STDOUT)
    kwargs.setdefault("text", True)
    result = subprocess.run(argv, **kwargs)
    if result.returncode != 0:
        fail(f"{' '.join(argv)} exited {result.returncode}:\n{result.stdout}")
    return result.stdout


def reexec_in_namespaces(network=False):
    """Re-executes this script in a private mount namespace (and network namespace), once."""
    if os.environ.get("SANDBOXD_INSTALL_TEST_NS") == "1":
        if network:
            run(["ip", "link", "set", "lo", "up"])
        return
    if os.geteuid() != 0:
        fail("the install tests run as root (they mount, chroot and start sandboxd)")
    argv = ["unshare", "--mount", "--propagation", "private"]
    if network:
        argv.append("--net")
    env = dict(os.environ, SANDBOXD_INSTALL_TEST_NS="1")
    os.execvpe("unshare", argv + [sys.executable] + sys.argv, env)


# ---------------------------------------------------------------------------------------------
# The scratch copy of the machine


def _mountinfo():
    """(mount point, fstype) of every mount, from /proc/self/mountinfo."""
    mounts = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.split(" - ", 1)
            point = left.split()[4].replace("\\040", " ")
            mounts.append((point, right.split()[0]))
    return mounts


class ScratchRoot:
    """An overlay of the host's root file system with a tmpfs upper layer, at /mnt/root (in this
    process's private mount namespace, where /mnt is covered by the scratch tmpfs)."""

    def __init__(self, base="/mnt"):
        self.base = base
        self.root = base + "/root"
        self.upper = base + "/upper"
        run(["mount", "-t", "tmpfs", "-o", "mode=0755,size=2g", "sandboxd-install-test", base])
        os.makedirs(self.upper)
        os.makedirs(base + "/work")
        os.makedirs(self.root)
        run(["mount", "-t", "overlay", "overlay", "-o",
             f"lowerdir=/,upperdir={self.upper},workdir={base}/work", self.root])
        # Other real file systems mounted below / (a separate /usr or /var) would be empty in
        # the overlay of / alone.
        for point, fstype in _mountinfo():
            if point in ("/usr", "/var", "/etc", "/opt", "/srv", "/home") and fstype not in ("tmpfs",):
                fail(f"{point} is a separate mount; the scratch root would not contain it")
        # The kernel's file systems are the host's; /run and /tmp are fresh, as after a boot.
        run(["mount", "-t", "proc", "proc", self.root + "/proc"])
        run(["mount", "--rbind", "/sys", self.root + "/sys"])
        run(["mount", "--rbind", "/dev", self.root + "/dev"])
        run(["mount", "-t", "tmpfs", "-o", "mode=0755,nosuid,nodev", "run", self.root + "/run"])
        run(["mount", "-t", "tmpfs", "-o", "mode=1777,nosuid,nodev", "tmp", self.root + "/tmp"])

    def copy_in(self, tree):
        """Copies an install tree (a DESTDIR) into the root, as `cmake --install` would."""
        run(["cp", "-a", "--no-preserve=ownership", tree + "/.", self.root + "/"])

    def chroot(self):
        """Makes this process live in the scratch root from now on."""
        os.chroot(self.root)
        os.chdir("/")


# ---------------------------------------------------------------------------------------------
# Unit files


class UnitFile:
    """A systemd unit file: sections of keys, each with the list of its assignments in order (an
    empty assignment resets a list-valued key, as systemd does)."""

    def __init__(self, path):
        self.path = path
        self.sections = {}
        section = None
        pending = ""
        with open(path) as f:
            for number, raw in enumerate(f, 1):
                line = pending + raw.rstrip("\n")
                pending = ""
                stripped = line.strip()
                if not stripped or stripped[0] in "#;":
                    continue
                if stripped.endswith("\\"):
                    pending = stripped[:-1] + " "
                    continue
                if stripped.startswith("["):
                    section = stripped.strip("[]")
                    self.sections.setdefault(section, {})
                    continue
                check(section is not None and "=" in stripped, f"{path}:{number}: not a key=value line")
                key, value = (part.strip() for part in stripped.split("=", 1))
                values = self.sections[section].setdefault(key, [])
                if value == "" and key not in ("ExecStart", "ExecReload"):
                    values.clear()
                    values.append("")
                else:
                    values.append(value)

    def get(self, section, key, default=None):
        values = self.sections.get(section, {}).get(key)
        return values[-1] if values else default

    def get_all(self, section, key):
        values = self.sections.get(section, {}).get(key, [])
        out = []
        for v in values:
            if v == "":
                out = []
            else:
                out.append(v)
        return out

    def boolean(self, section, key, default=False):
        value = self.get(section, key)
        if value is None:
            return default
        return value.lower() in ("1", "yes", "true", "on")


SPECIFIERS = {"%S": "/var/lib", "%C": "/var/cache", "%t": "/run", "%L": "/var/log", "%%": "%"}


def expand_specifiers(text):
    def one(match):
        spec = match.group(0)
        check(spec in SPECIFIERS, f"specifier {spec} is not known to the test's service emulation")
        return SPECIFIERS[spec]
    return re.sub(r"%.", one, text)


def command_line(value, env):
    """argv of an Exec*= line: the executable must be absolute and without prefixes this
    emulation does not apply; $VAR and ${VAR} are replaced from env."""
    check(value and value[0] not in "@-:+!|", f"Exec line '{value}': prefixes are not emulated")
    words = []
    for word in shlex.split(value):
        word = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: env[m.group(1) or m.group(2)], word)
        words.append(expand_specifiers(word))
    check(words[0].startswith("/"), f"Exec line '{value}': the program must be an absolute path")
    check(os.access(words[0], os.X_OK), f"Exec line '{value}': {words[0]} is not an executable")
    return words


# ---------------------------------------------------------------------------------------------
# Cgroups: the unit's own cgroup, as systemd makes one per service


def _cgroup_hierarchies():
    """{mount point: own cgroup path} for each cgroup hierarchy this process is in."""
    membership = {}  # controllers of a v1 hierarchy ("" for v2) -> own path
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            membership[controllers] = path
    out = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.split(" - ", 1)
            fields = left.split()
            fstype, _, options = right.split()
            if fstype == "cgroup2":
                key = ""
            elif fstype == "cgroup":
                opts = set(options.split(","))
                keys = [k for k in membership if k and set(k.split(",")) <= opts]
                if not keys:
                    continue
                key = keys[0]
            else:
                continue
            if key not in membership:
                continue
            root, point = fields[3], fields[4]
            own = membership[key]
            if root != "/" and own.startswith(root):
                own = own[len(root):] or "/"
            out[point] = own
    return out


class UnitCgroup:
    """<own cgroup>/<name> in every hierarchy (but cpuset, which needs CPUs assigned first)."""

    DEVICE_POLICY_CLOSED = ["c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
                            "c 5:0 rwm", "c 5:2 rwm", "c 136:* rw"]

    def __init__(self, name):
        self.dirs = []
        for point, own in _cgroup_hierarchies().items():
            if point.endswith("/cpuset"):
                continue
            parent = os.path.normpath(point + "/" + own)
            remove_stale_test_cgroups(parent)
            path = parent + "/" + name
            os.mkdir(path)
            self.dirs.append(path)

    def restrict_devices(self, extra):
        for d in self.dirs:
            if os.path.exists(d + "/devices.deny"):
                with open(d + "/devices.deny", "w") as f:
                    f.write("a")
                for rule in self.DEVICE_POLICY_CLOSED + extra:
                    with open(d + "/devices.allow", "w") as f:
                        f.write(rule)
                return True
        return False

    def attach_self(self):
        """For the child between fork and exec: move it into the unit's cgroup."""
        for d in self.dirs:
            with open(d + "/cgroup.procs", "w") as f:
                f.write("0")

    def processes(self):
        pids = set()
        for d in self.dirs:
            for dirpath, _, files in os.walk(d):
                if "cgroup.procs" in files:
                    with open(dirpath + "/cgroup.procs") as f:
                        pids.update(int(p) for p in f.read().split())
        return pids

    def subdirs(self):
        out = []
        for d in self.dirs:
            for dirpath, dirnames, _ in os.walk(d):
                out += [os.path.join(dirpath, n) for n in dirnames]
        return out

    def kill_all(self):
        for _ in range(50):
            pids = self.processes()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)

    def remove(self):
        self.kill_all()
        for d in self.dirs:
            for dirpath, dirnames, _ in sorted(os.walk(d), key=lambda w: -w[0].count("/")):
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass


def _test_run_alive(name):
    """Whether the test process that named this cgroup (<prefix><pid>-<unit>) still runs: this
    very run's other services are not stale, and their empty job directories are in use."""
    pid = name[len(TEST_CGROUP_PREFIX):].split("-", 1)[0]
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def remove_stale_test_cgroups(parent):
    """Empty cgroups a crashed earlier run of these tests left below `parent`."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        if name.startswith(TEST_CGROUP_PREFIX) and not _test_run_alive(name):
            for dirpath, _, _ in sorted(os.walk(parent + "/" + name), key=lambda w: -w[0].count("/")):
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass


# ---------------------------------------------------------------------------------------------
# Services


CAPABILITIES = ["chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid",
                "setuid", "setpcap", "linux_immutable", "net_bind_service", "net_broadcast",
                "net_admin", "net_raw", "ipc_lock", "ipc_owner", "sys_module", "sys_rawio",
                "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
                "sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write",
                "audit_control", "setfcap", "mac_override", "mac_admin", "syslog", "wake_alarm",
                "block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore"]

EMULATED = {
    "Type", "ExecStart", "ExecReload", "Restart", "RestartSec", "KillMode", "KillSignal",
    "TimeoutStopSec", "TimeoutStartSec", "User", "Group", "SupplementaryGroups", "UMask",
    "WorkingDirectory", "LimitNOFILE", "RuntimeDirectory", "RuntimeDirectoryMode",
    "StateDirectory", "StateDirectoryMode", "CacheDirectory", "CacheDirectoryMode",
    "DevicePolicy", "DeviceAllow", "NoNewPrivileges", "CapabilityBoundingSet",
    "AmbientCapabilities", "ProtectSystem", "ProtectHome", "PrivateTmp",
    "ProtectControlGroups", "ProtectKernelTunables",
}


class Service:
    """A service started the way systemd would start it, as far as these tests need."""

    def __init__(self, unit_path, log_path):
        self.unit = UnitFile(unit_path)
        self.name = os.path.basename(unit_path)
        self.log_path = log_path
        self.process = None
        self.cgroup = None
        self.notify = None
        self.devices_restricted = False
        s = "Service"
        self.type = self.unit.get(s, "Type", "simple")
        check(self.type in ("simple", "exec", "notify"), f"{self.name}: Type={self.type} is not emulated")
        self.user = self.unit.get(s, "User", "root")
        self.not_emulated = sorted(k for k in self.unit.sections.get(s, {}) if k not in EMULATED)
        atexit.register(self.cleanup)  # also when a check fails and exits

    # What systemd does before exec, in the order it does it.
    def _credentials(self):
        s = "Service"
        pw = pwd.getpwnam(self.user)
        group = self.unit.get(s, "Group")
        gid = grp.getgrnam(group).gr_gid if group else pw.pw_gid
        groups = set(os.getgrouplist(self.user, gid)) if self.user != "root" else {0}
        for name in " ".join(self.unit.get_all(s, "SupplementaryGroups")).split():
            groups.add(grp.getgrnam(name).gr_gid)
        return pw, gid, sorted(groups)

    def _bounding_set(self):
        values = self.unit.sections.get("Service", {}).get("CapabilityBoundingSet")
        if values is None:
            return None
        value = values[-1]
        if value == "":
            return "-all"
        if value.startswith("~"):
            names = [c.lower().removeprefix("cap_") for c in value[1:].split()]
            for n in names:
                check(n in CAPABILITIES, f"{self.name}: unknown capability {n}")
            return ",".join("-" + n for n in names)
        names = [c.lower().removeprefix("cap_") for c in value.split()]
        return "-all," + ",".join("+" + n for n in names)

    def _directories(self, pw, gid):
        s = "Service"
        env = {}
        for key, base, env_name in (("RuntimeDirectory", "/run", "RUNTIME_DIRECTORY"),
                                    ("StateDirectory", "/var/lib", "STATE_DIRECTORY"),
                                    ("CacheDirectory", "/var/cache", "CACHE_DIRECTORY")):
            mode = int(self.unit.get(s, key + "Mode", "0755"), 8)
            paths = []
            for name in " ".join(self.unit.get_all(s, key)).split():
                path = base + "/" + name
                os.makedirs(path, exist_ok=True)
                os.chown(path, pw.pw_uid, gid)
                os.chmod(path, mode)
                paths.append(path)
            if paths:
                env[env_name] = ":".join(paths)
        return env

    def _namespace_script(self, writable):
        """Shell commands making the mounts ProtectSystem/ProtectHome/PrivateTmp ask for, run in
        the service's own mount namespace before its credentials are dropped."""
        s = "Service"
        cmds = []
        if self.unit.boolean(s, "PrivateTmp"):
            cmds += ["mount -t tmpfs -o mode=1777 tmpfs /tmp", "mount -t tmpfs -o mode=1777 tmpfs /var/tmp"]
        home = self.unit.get(s, "ProtectHome", "no")
        for d in ("/home", "/root", "/run/user"):
            if not os.path.isdir(d):
                continue
            if home == "read-only":
                cmds += [f"mount --bind {d} {d}", f"mount -o remount,bind,ro {d}"]
            elif home in ("yes", "true", "tmpfs"):
                cmds += [f"mount -t tmpfs -o mode=0755,ro tmpfs {d}"]
        protect = self.unit.get(s, "ProtectSystem", "no")
        if protect in ("yes", "true", "full"):
            dirs = ["/usr", "/boot", "/efi"] + (["/etc"] if protect == "full" else [])
            for d in dirs:
                if os.path.isdir(d):
                    cmds += [f"mount --bind {d} {d}", f"mount -o remount,bind,ro {d}"]
        elif protect == "strict":
            keep = ("/proc", "/sys", "/dev")
            for path in writable:
                cmds += [f"mount --bind {path} {path}"]
            for point, _ in _mountinfo():
                if point.startswith(keep):
                    continue
                cmds += [f"mount -o remount,bind,ro {shlex.quote(point)} 2>/dev/null || "
                         f"mount -o remount,ro {shlex.quote(point)}"]
            for path in writable:
                cmds += [f"mount -o remount,bind,rw {path}"]
        if self.unit.boolean(s, "ProtectControlGroups"):
            cmds += ["for m in $(awk '$9 ~ /^cgroup/ {print $5}' /proc/self/mountinfo); do "
                     "mount -o remount,bind,ro $m; done"]
        if self.unit.boolean(s, "ProtectKernelTunables"):
            cmds += ["mount --bind /proc/sys /proc/sys", "mount -o remount,bind,ro /proc/sys"]
        return cmds

    def start(self, extra_env=None, journal=False, timeout=30):
        s = "Service"
        pw, gid, groups = self._credentials()
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
               "LANG": "C.UTF-8", "INVOCATION_ID": os.urandom(16).hex()}
        if self.user != "root":
            env.update(USER=pw.pw_name, LOGNAME=pw.pw_name, HOME=pw.pw_dir, SHELL=pw.pw_shell)
        env.update(self._directories(pw, gid))
        env.update(extra_env or {})
        argv = command_line(self.unit.get(s, "ExecStart"), env)

        notify_path = None
        if self.type == "notify":
            notify_path = f"/run/{self.name}.notify"
            # systemd makes a fresh socket per start; so do we (a restart reuses the path).
            if os.path.exists(notify_path):
                os.unlink(notify_path)
            self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.notify.bind(notify_path)
            self.notify_path = notify_path
            env["NOTIFY_SOCKET"] = notify_path

        # The credentials, last before the program, as systemd applies them.
        cred = ["setpriv"]
        if self.user != "root" or self.unit.get(s, "Group") or self.unit.get_all(s, "SupplementaryGroups"):
            cred += ["--reuid", str(pw.pw_uid), "--regid", str(gid), "--groups", ",".join(map(str, groups))]
        bounding = self._bounding_set()
        if bounding:
            cred += ["--bounding-set", bounding]
        if self.unit.boolean(s, "NoNewPrivileges"):
            cred += ["--no-new-privs"]
        writable = [path for name in ("RUNTIME_DIRECTORY", "STATE_DIRECTORY", "CACHE_DIRECTORY")
                    for path in env.get(name, "").split(":") if path]
        mounts = self._namespace_script(writable)
        if mounts:
            wrapper = ["unshare", "--mount", "--propagation", "slave", "sh", "-ec",
                       "; ".join(mounts) + '; exec "$@"', "sh"]
        else:
            wrapper = []

        self.cgroup = UnitCgroup(f"{TEST_CGROUP_PREFIX}{os.getpid()}-{self.name}")
        if self.unit.get(s, "DevicePolicy") in ("closed", "strict"):
            extra = ["c 254:* r"] if self.unit.boolean(s, "ProtectClock") else []  # char-rtc
            self.devices_restricted = self.cgroup.restrict_devices(extra)

        umask = int(self.unit.get(s, "UMask", "0022"), 8)
        nofile = self.unit.get(s, "LimitNOFILE")
        cgroup = self.cgroup
        workdir = expand_specifiers(self.unit.get(s, "WorkingDirectory", "/"))

        def in_child():
            try:
                cgroup.attach_self()
                os.umask(umask)
                if nofile:
                    # systemd (with every capability) sets it; a test process without
                    # CAP_SYS_RESOURCE can go only up to its own hard limit.
                    n = int(nofile)
                    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
                    if n > hard and not _has_capability(24):
                        n = hard
                    resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
                os.setsid()
            except Exception as e:  # subprocess reports only "Exception occurred in preexec_fn"
                os.write(2, f"{self.name}: before exec: {e!r}\n".encode())
                raise

        log = open(self.log_path, "ab")
        if journal:
            st = os.fstat(log.fileno())
            env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
        try:
            self.process = subprocess.Popen(wrapper + cred + argv, env=env, cwd=workdir, stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=log, preexec_fn=in_child)
        except (OSError, subprocess.SubprocessError) as e:
            fail(f"{self.name}: cannot start {argv}: {e}\n{self.log()}")
        finally:
            log.close()
        self.main_pid = self.process.pid
        if self.type == "notify":
            self.wait_notify("READY=1", timeout)
        else:
            time.sleep(0.2)
            check(self.process.poll() is None, f"{self.name} exited at start:\n{self.log()}")

    def wait_notify(self, wanted, timeout=30):
        self.notify.settimeout(0.2)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                message = self.notify.recv(4096).decode()
            except socket.timeout:
                check(self.process.poll() is None,
                      f"{self.name} exited with {self.process.returncode} before {wanted}:\n{self.log()}")
                continue
            if wanted in message.split("\n"):
                return message
        fail(f"{self.name} did not send {wanted} within {timeout} s:\n{self.log()}")

    def reload(self):
        argv = command_line(self.unit.get("Service", "ExecReload"), {"MAINPID": str(self.main_pid)})
        run(argv)

    def stop(self):
        """KillMode= and TimeoutStopSec= as systemd applies them. Returns the main process's exit
        status and the processes that were still alive after it (killed then)."""
        s = "Service"
        mode = self.unit.get(s, "KillMode", "control-group")
        sig = getattr(signal, self.unit.get(s, "KillSignal", "SIGTERM"))
        timeout = float(self.unit.get(s, "TimeoutStopSec", "90s").rstrip("s"))
        targets = {self.main_pid} if mode in ("mixed", "process") else self.cgroup.processes()
        for pid in targets:
            os.kill(pid, sig)
        try:
            status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.main_pid, signal.SIGKILL)
            status = self.process.wait()
            fail(f"{self.name} did not stop within TimeoutStopSec={timeout}:\n{self.log()}")
        survivors = self.cgroup.processes()
        if mode in ("mixed", "control-group"):
            self.cgroup.kill_all()
        return status, survivors

    def cleanup(self):
        if self.process and self.process.poll() is None:
            os.kill(self.main_pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                pass
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.cgroup:
            self.cgroup.remove()
            self.cgroup = None
        if self.notify:
            self.notify.close()
            self.notify = None
            if os.path.exists(self.notify_path):
                os.unlink(self.notify_path)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""


def _has_capability(number):
    for line in read("/proc/self/status").splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) & (1 << number))
    return False


def run_as(user, argv, groups=None, **kwargs):
    """Runs argv as `user` with its groups (from the group database), like a login would."""
    pw = pwd.getpwnam(user)
    gids = groups if groups is not None else os.getgrouplist(user, pw.pw_gid)
    prefix = ["setpriv", "--reuid", str(pw.pw_uid), "--regid", str(pw.pw_gid),
              "--groups" if gids else "--clear-groups"] + ([",".join(map(str, gids))] if gids else [])
    prefix += ["--bounding-set", "-all", "--no-new-privs"]
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    kwargs.setdefault("text", True)
    env = {"PATH": "/usr/bin:/bin", "HOME": "/", "LANG": "C.UTF-8"}
    return subprocess.run(prefix + argv, env=env, cwd="/tmp", **kwargs)


def mode_of(path):
    st = os.stat(path)
    return stat.S_IMODE(st.st_mode), pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name


def read(path):
    with open(path) as f:
        return f.read()


def install_tree():
    """The DESTDIR the install.stage test fills (path from the environment ctest sets)."""
    tree = os.environ.get("SANDBOXD_INSTALL_TREE", "")
    check(os.path.isdir(tree + "/usr"), f"no install tree at '{tree}': run the install.stage test first")
    return tree


def has_http():
    return os.path.exists(install_tree() + "/usr/sbin/sandbox-http")


def cleanup_on_exit(objects):
    def handler(signum, frame):
        for o in objects:
            o.cleanup()
        sys.exit(1)
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
