"""A matplotlib backend for sandboxd's Python sessions (MPLBACKEND=module://sandboxd_matplotlib).

Drawing is Agg's; show() renders every open figure to PNG for the session's reply and closes
it, so a loop that shows one figure per step returns every step, like Jupyter's inline backend.
"""

import io

from matplotlib import _pylab_helpers
from matplotlib.backend_bases import FigureManagerBase as FigureManager  # noqa: F401 (backend API)
from matplotlib.backends.backend_agg import FigureCanvasAgg as FigureCanvas  # noqa: F401 (backend API)

backend_version = "sandboxd"
captured = []  # PNG bytes, in the order the figures were shown


def render_open_figures():
    for manager in _pylab_helpers.Gcf.get_all_fig_managers():
        buffer = io.BytesIO()
        manager.canvas.figure.savefig(buffer, format="png", bbox_inches="tight")
        captured.append(buffer.getvalue())
    _pylab_helpers.Gcf.destroy_all()


def show(*args, **kwargs):
    render_open_figures()
