"""sandboxd's Python session driver (docs/sessions.md).

Runs inside a session's jail as the jail's only long-lived program and keeps one namespace
between calls. It talks to sandboxd over the socket it gets as stdin, in frames of an ASCII
decimal length, a newline and a JSON object:

    driver -> sandboxd   {"ready": true, "version": "3.11.2"}            once, at start
    sandboxd -> driver   {"code": "..."}                                 one chunk to run
    driver -> sandboxd   {"status": "ok"|"error", "exit_code": 0|1,
                          "value": repr of a final expression or null,
                          "error": {"name", "value", "traceback"} or null,
                          "images": [{"mime": "image/png", "data": base64}]}

The code's stdout and stderr are the jail's own, which sandboxd captures: they are flushed
before each reply so that nothing printed by a call arrives after its answer. Like a Jupyter
cell, the value of a final expression is shown (its repr), an exception ends the cell with its
traceback, and matplotlib figures that were shown or are left open come back as PNG.
"""

import ast
import base64
import io
import json
import linecache
import os
import sys
import traceback

DRIVER_DIR = os.path.dirname(os.path.abspath(__file__))


def take_control_socket():
    """Moves the socket off fd 0 (the code gets /dev/null as stdin) to a close-on-exec fd."""
    fd = os.dup(0)  # non-inheritable (PEP 446): subprocesses never see it
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    return fd


class Channel:
    def __init__(self, fd):
        self.fd = fd
        self.buffer = b""

    def _fill(self):
        chunk = os.read(self.fd, 1 << 16)
        if not chunk:
            raise EOFError
        self.buffer += chunk

    def read(self):
        while b"\n" not in self.buffer:
            self._fill()
        header, _, rest = self.buffer.partition(b"\n")
        length = int(header)
        self.buffer = rest
        while len(self.buffer) < length:
            self._fill()
        payload, self.buffer = self.buffer[:length], self.buffer[length:]
        return json.loads(payload)

    def write(self, message):
        payload = json.dumps(message, ensure_ascii=False).encode("utf-8", "replace")
        data = str(len(payload)).encode() + b"\n" + payload
        while data:
            data = data[os.write(self.fd, data):]


def collect_figures():
    """PNGs of the figures shown during the call and of those left open, in order."""
    backend = sys.modules.get("sandboxd_matplotlib")
    if backend is None:
        return []
    backend.render_open_figures()
    images = list(backend.captured)
    backend.captured.clear()
    return images


def figure_of(value):
    """The matplotlib Figure a final expression evaluates to, if it is one."""
    if "matplotlib.figure" not in sys.modules:
        return None
    from matplotlib.figure import Figure
    return value if isinstance(value, Figure) else None


def trimmed_traceback(error):
    """The traceback without the driver's own frames, as the interpreter would print it."""
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(error), error, tb))


class Session:
    def __init__(self):
        self.namespace = {"__name__": "__main__", "__builtins__": __builtins__}
        self.count = 0

    def run(self, code):
        self.count += 1
        filename = f"<cell {self.count}>"
        # Tracebacks show the cell's lines, as they do in Jupyter.
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        reply = {"status": "ok", "exit_code": 0, "value": None, "error": None, "images": []}
        images = []
        try:
            tree = ast.parse(code, filename, "exec")
            last = None
            if tree.body and isinstance(tree.body[-1], ast.Expr):
                last = ast.Expression(tree.body.pop().value)
            exec(compile(tree, filename, "exec"), self.namespace)
            if last is not None:
                value = eval(compile(last, filename, "eval"), self.namespace)
                if value is not None:
                    self.namespace["_"] = value
                    figure = figure_of(value)
                    if figure is not None:
                        images.append(png_of(figure))
                    else:
                        reply["value"] = repr(value)
        except BaseException as error:  # SystemExit and KeyboardInterrupt end the cell, not the session
            reply["status"] = "error"
            reply["exit_code"] = 1
            reply["error"] = {
                "name": type(error).__name__,
                "value": str(error),
                "traceback": trimmed_traceback(error),
            }
        finally:
            flush_streams()
        try:
            images = collect_figures() + images
        except Exception as error:  # a figure that cannot be drawn is the code's error
            print(f"sandboxd: a figure could not be rendered: {error!r}", file=sys.stderr)
            flush_streams()
        reply["images"] = [{"mime": "image/png", "data": base64.b64encode(png).decode("ascii")} for png in images]
        return reply


def png_of(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def flush_streams():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def main():
    channel = Channel(take_control_socket())
    # Figures go to the backend next to this file, which renders them instead of opening windows.
    sys.path.append(DRIVER_DIR)
    os.environ["MPLBACKEND"] = "module://sandboxd_matplotlib"
    os.environ.setdefault("MATPLOTLIBRC", DRIVER_DIR)
    os.environ.setdefault("FONTCONFIG_FILE", os.path.join(DRIVER_DIR, "fonts.conf"))
    os.environ.setdefault("MPLCONFIGDIR", os.path.join(os.environ.get("HOME", "/tmp"), ".config", "matplotlib"))
    session = Session()
    channel.write({"ready": True, "version": sys.version.split()[0]})
    while True:
        try:
            request = channel.read()
        except EOFError:
            return
        channel.write(session.run(request.get("code", "")))


if __name__ == "__main__":
    main()
