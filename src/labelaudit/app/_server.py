"""The review page: a local Flask app over a :class:`~labelaudit.app._review.Review`.

The page fetches the queue in pages and posts each decision as JSON. A decision is taken
only as JSON from a page of the same origin, so another site open in the browser cannot
post one (a cross-site JSON post needs a CORS preflight, which this app never grants).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from labelaudit.app._review import Review
from labelaudit.exceptions import InvalidInputError

#: Queue items per request of the page.
PAGE = 50
#: Names of this machine.
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _require_flask() -> None:
    import importlib.util

    if importlib.util.find_spec("flask") is None:
        raise ImportError("The review page needs Flask: pip install 'labelaudit[app]'.")


def _same_origin(request: Any) -> bool:
    origin = request.headers.get("Origin")
    return origin is None or origin.split("://", 1)[-1] == request.host


def build_app(review: Review) -> Any:  # its routes are closures over review: long
    """The Flask app serving ``review``."""
    _require_flask()
    import flask

    app = flask.Flask(__name__)
    app.config["review"] = review

    @app.get("/")
    def page() -> Any:
        return flask.render_template(
            "review.html",
            audit_dir=str(review.audit_dir),
            setup={
                "class_names": review.class_names,
                "page": PAGE,
                "n_spot": len(review.spot),
                "has_report": (review.audit_dir / "report.html").is_file(),
                "multilabel": review.multilabel,
            },
        )

    @app.get("/api/progress")
    def progress() -> Any:
        return review.progress()

    @app.get("/api/items")
    def items() -> Any:
        args = flask.request.args
        start = args.get("start", 0, type=int)
        count = min(args.get("count", PAGE, type=int), 10 * PAGE)
        given, suggested = args.get("given"), args.get("suggested")
        pair = None if given is None or suggested is None else (given, suggested)
        spot = args.get("view") == "spot"
        found = review.items(max(start, 0), max(count, 0), pair, spot, args.get("change"))
        return {"items": found}

    @app.get("/api/pairs")
    def pairs() -> Any:
        return {"pairs": review.pairs()}

    @app.post("/api/decisions")
    def decide() -> Any:
        if not _same_origin(flask.request):
            return {"error": "Decisions are taken from the review page only."}, 403
        body = flask.request.get_json(silent=True)
        if not isinstance(body, dict):
            return {"error": 'Send a JSON object {"example", "decision", "label"}.'}, 400

        try:
            review.decide(body.get("example"), body.get("decision"), body.get("label"))
        except InvalidInputError as exc:
            return {"error": str(exc)}, 400
        except OSError as exc:  # a full disk, a folder made read-only
            return {"error": f"The decision was not saved: {exc}"}, 500
        return review.progress()

    @app.get("/labels.csv")
    def labels() -> Any:
        text = io.StringIO()
        review.labels().rename_axis("example").to_csv(text)
        return flask.Response(
            text.getvalue(),
            mimetype="text/csv",
            headers={"Content-Disposition": "attachment; filename=reviewed_labels.csv"},
        )

    @app.get("/image/<int:example>")
    def image(example: int) -> Any:
        png = review.image_png(example)
        if png is not None:
            return flask.Response(png, mimetype="image/png")
        path = review.image_path(example)
        if path is None:
            flask.abort(404)
        response = flask.send_file(path.resolve())
        # an SVG of the dataset, opened on its own, runs no script on the review's origin
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @app.get("/report")
    def report() -> Any:
        path = review.audit_dir / "report.html"
        if not path.is_file():
            flask.abort(404)
        return flask.send_file(path.resolve())

    return app


def serve(app: Any, host: str, port: int) -> Any:
    """A threaded WSGI server for ``app`` (port 0: any free port); call its
    ``serve_forever()``. An address in use raises OSError (werkzeug would exit). Served on
    this machine only, the app answers requests for this machine's names only."""
    import socket

    from werkzeug.serving import make_server, select_address_family

    if host in LOOPBACK[:2]:  # a page of another site rebound to 127.0.0.1 is refused
        # (not for ::1: werkzeug 3.1 cannot match a bracketed IPv6 name to a trusted one)
        app.config["TRUSTED_HOSTS"] = list(LOOPBACK[:2])
    family = select_address_family(host, port)
    with socket.create_server((host, port), family=family) as listening:
        return make_server(host, port, app, threaded=True, fd=listening.fileno())  # a dup


def read_images(path: Path) -> Any:
    """An ``--images`` array: a .npy file, memory-mapped (only the images shown are read)."""
    from labelaudit._cli_io import read_npy

    if path.suffix.lower() != ".npy":
        raise InvalidInputError(
            f"--images {path}: expected a .npy array of shape (N, H, W) or (N, H, W, 3)."
        )
    if not path.is_file():
        raise InvalidInputError(f"--images {path} does not exist.")
    return read_npy(path, mmap_mode="r")


def read_data(path: Path) -> tuple[Any, Path]:
    """A data table for the page, and the folder its relative image paths start from."""
    from labelaudit._cli_io import read_data_table

    return read_data_table(path), path.resolve().parent
