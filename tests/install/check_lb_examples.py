#!/usr/bin/python3
"""Checks the HAProxy and nginx examples of docs/operations.md, taken from the document itself:
every request of one user_uuid (POST /execute, POST /release) reaches the same host, the users
spread over all hosts, and stateless requests are balanced. Three stand-in hosts answer on
127.0.0.11-13:8000 in a network namespace of its own.

Not part of the ctest suite, since it downloads Debian's haproxy and nginx (`apt-get download`,
unpacked into a temporary directory, not installed). Run as root when the examples change:
    tests/install/check_lb_examples.py
"""
import collections
import glob
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DOC = os.path.join(HERE, "../../docs/operations.md")
PACKAGES = ["haproxy", "liblua5.3-0", "libopentracing-c-wrapper0", "libopentracing1", "nginx"]

if os.environ.get("LB_CHECK_NS") != "1":
    work = tempfile.mkdtemp(prefix="sandboxd-lb-check-")
    subprocess.run(["apt-get", "download"] + PACKAGES, cwd=work, check=True, stdout=subprocess.DEVNULL)
    for deb in glob.glob(work + "/*.deb"):
        subprocess.run(["dpkg-deb", "-x", deb, work + "/root"], check=True)
    env = dict(os.environ, LB_CHECK_NS="1", LB_CHECK_DIR=work,
               LD_LIBRARY_PATH=work + "/root/usr/lib/x86_64-linux-gnu")
    rc = subprocess.run(["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
                         sys.executable, __file__], env=env).returncode
    subprocess.run(["rm", "-rf", work])
    sys.exit(rc)

W = os.environ["LB_CHECK_DIR"]
doc = open(DOC).read()
hap = re.search(r"```haproxy\n(.*?)```", doc, re.S).group(1)
ngx = re.search(r"```nginx\n(.*?)```", doc, re.S).group(1)
# Plain HTTP on loopback instead of TLS; the stand-in hosts instead of 10.0.0.x.
hap = hap.replace("bind :443 ssl crt /etc/haproxy/sandbox.pem", "bind 127.0.0.1:8080").replace("10.0.0.", "127.0.0.")
ngx = ngx.replace("listen 443 ssl;", "listen 127.0.0.1:8081;").replace("10.0.0.", "127.0.0.")
ngx = re.sub(r"\n\s*ssl_certificate.*", "", ngx)
with open(W + "/haproxy.cfg", "w") as f:
    f.write("global\n    log stderr format raw local0\n" + hap)
with open(W + "/nginx.conf", "w") as f:
    f.write(f"daemon off;\nmaster_process off;\nerror_log stderr;\npid {W}/nginx.pid;\nevents {{}}\n"
            f"http {{\n access_log off;\n client_body_temp_path {W}/cb;\n proxy_temp_path {W}/pt;\n"
            f" fastcgi_temp_path {W}/ft;\n uwsgi_temp_path {W}/ut;\n scgi_temp_path {W}/st;\n{ngx}\n}}\n")
with open(W + "/host.py", "w") as f:
    f.write('''
import http.server, json, sys
class Host(http.server.BaseHTTPRequestHandler):
    def reply(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"host": sys.argv[1]}).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = reply
    def log_message(self, *args): pass
http.server.ThreadingHTTPServer(("127.0.0." + sys.argv[1], 8000), Host).serve_forever()
''')

procs = [subprocess.Popen([sys.executable, W + "/host.py", str(i)], stderr=subprocess.DEVNULL) for i in (11, 12, 13)]
time.sleep(0.5)
procs.append(subprocess.Popen([W + "/root/usr/sbin/haproxy", "-f", W + "/haproxy.cfg"], stderr=subprocess.DEVNULL))
procs.append(subprocess.Popen([W + "/root/usr/sbin/nginx", "-p", W, "-c", W + "/nginx.conf"]))
time.sleep(1.5)


def post(port, path, body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
    return json.loads(c.getresponse().read())["host"]


try:
    for name, port in (("haproxy", 8080), ("nginx", 8081)):
        owner = {}
        for i in range(30):
            user = f"user-{i:03d}"
            hosts = {post(port, "/execute", {"user_uuid": user, "code": "a = 1"}) for _ in range(3)}
            hosts.add(post(port, "/release", {"user_uuid": user}))
            assert len(hosts) == 1, f"{name}: {user} reached {hosts}"
            owner[user] = hosts.pop()
        sessions = collections.Counter(owner.values())
        stateless = collections.Counter(post(port, "/v1/run", {"source": "print(1)"}) for _ in range(12))
        assert len(sessions) == 3 and len(stateless) == 3, f"{name}: {sessions} {stateless}"
        print(f"{name}: 30 users each on one host, {dict(sessions)}; stateless {dict(stateless)}")
finally:
    for p in procs:
        p.terminate()
