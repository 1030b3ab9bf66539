"""The review page's HTTP side, through Flask's test client."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from labelaudit.app import create_app
from labelaudit.exceptions import InvalidInputError

from .conftest import write_audit

pd = pytest.importorskip("pandas")
pytest.importorskip("flask")


@pytest.fixture
def client(audit_dir):
    return create_app(audit_dir).test_client()


def test_the_page_carries_the_classes_as_escaped_json(audit_dir):
    summary = json.loads((audit_dir / "summary.json").read_text())
    summary["class_names"][2] = "</script><script>alert(1)</script>"
    (audit_dir / "summary.json").write_text(json.dumps(summary))
    page = create_app(audit_dir).test_client().get("/").get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)" in page
    assert 'href="report"' in page


def test_items_come_in_pages(client):
    first = client.get("/api/items?start=0&count=15").json["items"]
    rest = client.get("/api/items?start=15&count=15").json["items"]
    assert [i["position"] for i in first + rest] == list(range(20))
    assert sorted(i["example"] for i in first + rest) == list(range(20))
    assert client.get("/api/items?start=-5&count=2").json["items"][0]["position"] == 0


def test_a_decision_is_saved_and_the_progress_returned(client, audit_dir):
    body = {"example": 3, "decision": "relabel", "label": "cat"}
    response = client.post("/api/decisions", json=body)
    assert response.status_code == 200
    assert response.json["n_reviewed"] == 1 and response.json["n_relabel"] == 1
    assert client.get("/api/progress").json["n_reviewed"] == 1
    labels = pd.read_csv(io.StringIO(client.get("/labels.csv").get_data(as_text=True)))
    assert labels.loc[3, "label"] == "cat" and labels.loc[3, "decision"] == "relabel"
    assert "decisions.csv" in {p.name for p in audit_dir.iterdir()}


def test_bad_decisions_get_a_clear_400(client):
    response = client.post("/api/decisions", json={"example": 3, "decision": "relabel"})
    assert response.status_code == 400
    assert "relabel needs the right class" in response.json["error"]
    form = client.post("/api/decisions", data={"example": "3", "decision": "keep"})
    assert form.status_code == 400 and "JSON object" in form.json["error"]


def test_decisions_from_another_site_are_refused(client, audit_dir):
    body = {"example": 3, "decision": "keep"}
    evil = client.post("/api/decisions", json=body, headers={"Origin": "http://evil.example"})
    assert evil.status_code == 403
    assert not (audit_dir / "decisions.csv").exists()
    same = client.post("/api/decisions", json=body, headers={"Origin": "http://localhost"})
    assert same.status_code == 200


def test_images_and_the_report_are_served_from_the_audit_only(audit_dir, tmp_path):
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "0.png").write_bytes(b"\x89PNG\r\n")
    table = tmp_path / "data.csv"
    pd.DataFrame({"image": [f"pics/{i}.png" for i in range(300)]}).to_csv(table, index=False)
    client = create_app(audit_dir, data=table).test_client()
    served = client.get("/image/0")
    assert served.data == b"\x89PNG\r\n"
    assert served.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert client.get("/image/1").status_code == 404  # listed, but no such file
    assert client.get("/image/300").status_code == 404
    assert client.get("/report").get_data(as_text=True) == "<html>report</html>"
    (audit_dir / "report.html").unlink()
    assert create_app(audit_dir).test_client().get("/report").status_code == 404


def test_the_queue_by_label_pair(tmp_path):
    write_audit(tmp_path, dogs_as_emu=5)
    client = create_app(tmp_path).test_client()
    assert client.get("/api/pairs").json["pairs"] == [
        {"given_label": "dog", "suggested_label": "cat", "n": 20},
        {"given_label": "emu", "suggested_label": "dog", "n": 5},
    ]
    items = client.get("/api/items?given=emu&suggested=dog&start=3").json["items"]
    assert [i["position"] for i in items] == [3, 4]
    assert {i["example"] for i in items} <= set(range(100, 105))
    assert client.get("/api/items?given=emu&suggested=cat").json["items"] == []
    spot = client.get("/api/items?view=spot&count=500").json["items"]
    assert len(spot) == 200 and {i["kind"] for i in spot} == {"none"}  # of 275 unflagged


def test_images_from_an_array_or_a_npy_file(audit_dir, tmp_path):
    images = np.random.default_rng(0).random((300, 8, 8))
    np.save(tmp_path / "images.npy", images)
    for given in (images, tmp_path / "images.npy"):
        client = create_app(audit_dir, images=given).test_client()
        item = client.get("/api/items?count=1").json["items"][0]
        assert item["image"] == f"image/{item['example']}"
        response = client.get("/" + item["image"])
        assert response.mimetype == "image/png" and response.data.startswith(b"\x89PNG")
    with pytest.raises(InvalidInputError, match=r"images must have shape \(300, H, W\)"):
        create_app(audit_dir, images=images[:10])
    with pytest.raises(InvalidInputError, match=r"expected a .npy array of shape"):
        create_app(audit_dir, images=tmp_path / "images.png")
    (tmp_path / "cut.npy").write_bytes((tmp_path / "images.npy").read_bytes()[:500])
    with pytest.raises(InvalidInputError, match=r"cut.npy is not a readable .npy array"):
        create_app(audit_dir, images=tmp_path / "cut.npy")


def test_a_decision_that_cannot_be_saved_says_so(client, audit_dir):
    (audit_dir / "decisions.csv").mkdir()  # in the way of the file
    response = client.post("/api/decisions", json={"example": 3, "decision": "keep"})
    assert response.status_code == 500
    assert response.json["error"].startswith("The decision was not saved: ")
    assert client.get("/api/progress").json["n_reviewed"] == 0


def test_served_locally_it_answers_for_local_names_only(audit_dir):
    from labelaudit.app._server import serve

    app = create_app(audit_dir)
    serve(app, "127.0.0.1", 0).server_close()
    client = app.test_client()
    assert client.get("/api/progress", headers={"Host": "localhost:8765"}).status_code == 200
    assert client.get("/api/progress", headers={"Host": "127.0.0.1:8765"}).status_code == 200
    rebound = client.get("/api/progress", headers={"Host": "evil.example:8765"})
    assert rebound.status_code == 400


def test_each_decision_names_its_reviewer(audit_dir):
    from labelaudit.app import _user

    for reviewer in ("ana", None):
        client = create_app(audit_dir, reviewer=reviewer).test_client()
        client.post("/api/decisions", json={"example": 3, "decision": "keep"})
    log = pd.read_csv(audit_dir / "decisions.csv", keep_default_na=False)
    assert list(log["reviewer"]) == ["ana", _user()]
