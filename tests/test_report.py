"""crossreg.report: one self-contained HTML page from fake evaluation, comparison and training folders."""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from crossreg.errors import InputError
from crossreg.report import render_report
from crossreg.report import html as h
from crossreg.report.core import MAX_TABLE_ROWS, best_epoch
from crossreg.report.inputs import read_history

CREATED = "2024-05-01T12:00:00Z"
SCRIPT = "<script>alert('x')</script>"


# ------------------------------------------------------------------ fixtures


def tiny_png(color: str) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(1, 1), dpi=16)
    FigureCanvasAgg(fig)
    fig.add_subplot().plot([0, 1], [1, 0], color=color)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def write_tsv(path: Path, header: list[str], rows: list[list]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def make_evaluation(root: Path) -> Path:
    d = root / "eval_joint"
    d.mkdir()
    write_tsv(d / "tracks.tsv", ["genome", "track", "description", "assay", "r"], [
        ["human", "trk_a", "DNase liver", "DNASE", 0.81234],
        ["human", "trk_script", SCRIPT, "CAGE", 0.5],
        ["mouse", "trk_nan", "flat track", "CAGE", "nan"],
    ])
    write_tsv(d / "big.tsv", ["row", "value"], [[f"row-{i}", i / 1000] for i in range(250)])
    (d / "track_r_by_assay.png").write_bytes(tiny_png("red"))
    (d / "scatter.png").write_bytes(tiny_png("blue"))
    summary = {
        "format": "crossreg-evaluation", "format_version": 1, "model_dir": "run/model_best",
        "params_sha256": "ab" * 32, "split": "test", "rc_average": True,
        "genomes": {
            "human": {"windows": 100, "bins": 896, "tracks": 3, "mean_r_by_assay": {"CAGE": 0.61234, "DNASE": 0.8},
                      "gene_r_mean": 0.4567, "gene_r_normalized_mean": 0.2},
            "mouse": {"windows": 80, "bins": 896, "tracks": 2, "mean_r_by_assay": {"CAGE": float("nan")},
                      "gene_r_mean": None, "gene_r_normalized_mean": None},
        },
        "transfer": [
            {"data_genome": "human", "head_genome": "human", "matched": True, "pairs": 3, "mean_r": 0.7,
             "mean_r_normalized": 1.0},
            {"data_genome": "human", "head_genome": "mouse", "matched": True, "pairs": 2, "mean_r": 0.5,
             "mean_r_normalized": 0.4},
            {"data_genome": "human", "head_genome": "mouse", "matched": False, "pairs": 4, "mean_r": 0.2,
             "mean_r_normalized": 0.1},
            {"data_genome": "mouse", "head_genome": "human", "matched": True, "pairs": 1, "mean_r": 0.6,
             "mean_r_normalized": None},
            {"data_genome": "mouse", "head_genome": "human", "matched": False, "pairs": 2, "mean_r": 0.1,
             "mean_r_normalized": 0.0},
        ],
        "tables": [{"file": "tracks.tsv", "title": "Per-track Pearson R"},
                   {"file": "big.tsv", "title": "A long table"}],
        "plots": [{"file": "track_r_by_assay.png", "title": "R by assay"},
                  {"file": "scatter.png", "title": "Predicted vs observed"}],
        "versions": {"crossreg": "0.0.9", "numpy": "1.0"}, "seconds": 12.5,
    }
    (d / "summary.json").write_text(json.dumps(summary))
    return d


def make_comparison(root: Path) -> Path:
    d = root / "cmp"
    d.mkdir()
    write_tsv(d / "per_track.tsv", ["genome", "assay", "difference", "binomial_p"],
              [["human", "CAGE", 0.0123, 3.2e-05], ["human", "DNASE", -0.2, 0.5]])
    (d / "difference.png").write_bytes(tiny_png("green"))
    summary = {
        "format": "crossreg-comparison", "format_version": 1, "label_a": "single", "label_b": "joint",
        "eval_a": "eval_single", "eval_b": "eval_joint",
        "rows": [{"genome": "human", "assay": "CAGE", "tracks": 10, "improved": 9, "fraction_improved": 0.9,
                  "mean_difference": 0.0421, "binomial_p": 3.2e-05, "worse": 1},
                 {"genome": "mouse", "assay": "CAGE", "tracks": 4, "improved": 2, "fraction_improved": 0.5,
                  "mean_difference": -0.001, "binomial_p": 0.6875}],
        "tables": [{"file": "per_track.tsv", "title": "Per-track differences"}],
        "plots": [{"file": "difference.png", "title": "Difference by assay"}],
        "versions": {"crossreg": "0.1.0"}, "seconds": 1.0,
    }
    (d / "summary.json").write_text(json.dumps(summary))
    return d


HISTORY_HEADER = ["epoch", "genome", "train_loss", "valid_loss", "valid_pearson_mean", "valid_pearson_CAGE",
                  "seconds", "phase", "note"]


def make_train(root: Path) -> Path:
    d = root / "run"
    d.mkdir()
    (d / "params.json").write_text(json.dumps({"model": {"channels": 16, "name": "<b>net</b>"},
                                               "train": {"epochs": 3, "lr": 0.001}}, indent=1))
    rows = []
    for epoch, (loss_all) in zip((1, 2, 3), (2.0, 1.5, 1.7)):
        rows.append([epoch, "human", 2.5, loss_all - 0.1, 0.1 * epoch, 0.1 * epoch, 3.0, "joint", "x"])
        rows.append([epoch, "mouse", 2.6, loss_all + 0.1, "", "", 3.0, "joint", "x"])
        rows.append([epoch, "all", 2.55, loss_all, 0.05 * epoch, 0.05 * epoch, 3.0, "joint", "x"])
    with open(d / "history.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HISTORY_HEADER)
        writer.writerows(rows)
    ft = d / "finetune" / "human"
    ft.mkdir(parents=True)
    with open(ft / "history.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HISTORY_HEADER[:7])
        writer.writerows([[1, "human", 1.0, 1.2, 0.5, 0.5, 2.0], [2, "human", 0.9, 1.1, 0.55, 0.55, 2.0]])
    return d


def make_inputs(root: Path) -> dict:
    src = root / "in"
    src.mkdir()
    return {"evaluations": [make_evaluation(src)], "comparisons": [make_comparison(src)],
            "train_dirs": {"joint run": make_train(src)}}


@pytest.fixture
def inputs(tmp_path):
    """Fresh input folders, for tests that alter them."""
    return make_inputs(tmp_path)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """``(tmp_path, inputs, out, summary, text)`` of one report rendered from intact inputs, shared (read only)."""
    root = tmp_path_factory.mktemp("rendered")
    inputs = make_inputs(root)
    out, summary, text = render(root, inputs, title="My <report>")
    return root, inputs, out, summary, text


class Page(HTMLParser):
    """Collects tags with attributes, text, and tables as lists of rows of cell text."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)

    def table_starting(self, header_prefix: list[str]) -> list[list[str]]:
        found = [t for t in self.tables if t and t[0][: len(header_prefix)] == header_prefix]
        assert len(found) == 1, (header_prefix, len(found))
        return found[0]

    def row(self, first_cell: str) -> list[str]:
        found = [r for t in self.tables for r in t if r and r[0] == first_cell]
        assert len(found) == 1, (first_cell, found)
        return found[0]


def render(tmp_path, inputs, name="report.html", **kw):
    out = tmp_path / "out" / name
    kw.setdefault("extra", {"created": CREATED, "command": "crossreg report ..."})
    summary = render_report(out, **inputs, **kw)
    return out, summary, out.read_text(encoding="utf-8")


# ------------------------------------------------------------------ the page


def test_page_is_self_contained_and_complete(rendered):
    tmp_path, _, out, summary, text = rendered
    page = Page(text)
    assert summary["out"] == str(out)
    assert summary["bytes"] == out.stat().st_size
    assert summary["sections"] == ["Summary", "Training runs", "Evaluations", "Comparisons", "Run details"]
    assert text.startswith("<!DOCTYPE html>")

    # nothing external: no script, no link, every src/href is a data: URI or an in-page anchor
    tags = [t for t, _ in page.tags]
    assert "script" not in tags and "link" not in tags and "iframe" not in tags
    anchors = {a["id"] for _, a in page.tags if "id" in a}
    refs = 0
    for tag, attrs in page.tags:
        for key in ("src", "href"):
            if key in attrs:
                refs += 1
                value = attrs[key]
                assert value.startswith("data:image/png;base64,") or value.startswith("#"), (tag, value[:40])
                if value.startswith("#"):
                    assert value[1:] in anchors, value
    assert refs > 10
    assert "url(" not in text and "@import" not in text

    # titles
    for title in ["Per-track Pearson R", "A long table", "R by assay", "Predicted vs observed",
                  "Per-track differences", "Difference by assay"]:
        assert title in page.text, title
    assert "My &lt;report&gt;" in text and "<title>My &lt;report&gt;</title>" in text

    # every image embedded: 3 plots + curves of history.csv and finetune/human/history.csv
    srcs = [a["src"] for t, a in page.tags if t == "img"]
    assert len(srcs) == text.count("data:image/png") == summary["images"] == 3 + 2
    payloads = [base64.b64decode(s.split(",", 1)[1]) for s in srcs]
    assert all(p.startswith(b"\x89PNG\r\n\x1a\n") for p in payloads)
    for plot in ["eval_joint/track_r_by_assay.png", "eval_joint/scatter.png", "cmp/difference.png"]:
        assert (tmp_path / "in" / plot).read_bytes() in payloads, plot

    # created timestamp, reproducible, and the remaining extra entries
    assert f"Created {CREATED} (UTC)" in text
    assert page.row("command")[1] == "crossreg report ..."


def test_summary_numbers_nan_and_pvalues(rendered):
    text = rendered[-1]
    page = Page(text)
    genomes = page.table_starting(["genome", "windows"])
    assert genomes[0] == ["genome", "windows", "bins", "tracks", "R CAGE", "R DNASE", "gene R", "gene R (normalized)"]
    assert genomes[1] == ["human", "100", "896", "3", "0.612", "0.800", "0.457", "0.200"]
    # JSON NaN, null, and an assay the genome lacks: all shown as an en dash
    assert genomes[2] == ["mouse", "80", "896", "2"] + [h.MISSING] * 4
    # a TSV "nan" cell
    nan_row = next(r for t in page.tables for r in t if len(r) > 1 and r[1] == "trk_nan")
    assert nan_row[4] == h.MISSING
    assert ">nan<" not in text
    # transfer: matched vs mismatched pairs, cross-species apart from the own-head reference; means weighted by pairs
    groups = page.table_starting(["group", "entries", "pairs"])
    assert groups[1:] == [["cross-species, matched", "2", "3", "0.533", "0.400"],
                          ["cross-species, mismatched", "2", "6", "0.167", "0.067"],
                          ["own head (reference), matched", "1", "3", "0.700", "1.000"]]
    # comparison rows: p-values formatted
    # (keys beyond the contract, here "worse", are shown too)
    cmp_rows = page.table_starting(["genome", "assay", "tracks", "improved"])
    assert cmp_rows == [["genome", "assay", "tracks", "improved", "fraction improved", "mean difference", "binomial p",
                         "worse"],
                        ["human", "CAGE", "10", "9", "0.900", "0.042", "3.2e-05", "1"],
                        ["mouse", "CAGE", "4", "2", "0.500", "-0.001", "0.688", h.MISSING]]
    # p-value column of a TSV table
    tsv_row = next(r for t in page.tables for r in t if r[:3] == ["human", "CAGE", "0.012"])
    assert tsv_row[3] == "3.2e-05"
    # training summary: best epoch by the "all" rows (epoch 2), R at best and at last epoch
    assert "lowest validation loss 1.5 at epoch 2" in text
    human = [r for t in page.tables for r in t if r[:2] == ["human", "3"]]
    assert human == [["human", "3", "0.200", "0.300"]]


def test_escaping(rendered):
    text = rendered[-1]
    assert "<script" not in text.lower()
    assert h.escape(SCRIPT) in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in text
    track_row = next(r for t in Page(text).tables for r in t if len(r) > 1 and r[1] == "trk_script")
    assert track_row[2] == SCRIPT  # parsed back to the original text: escaped exactly once
    # params JSON from a file is escaped too
    assert "&lt;b&gt;net&lt;/b&gt;" in text and "<b>net</b>" not in text


def test_long_table_truncated(rendered):
    text = rendered[-1]
    page = Page(text)
    big = next(t for t in page.tables if t and t[0] == ["row", "value"])
    assert len(big) == 1 + MAX_TABLE_ROWS
    assert big[-1] == [f"row-{MAX_TABLE_ROWS - 1}", f"{(MAX_TABLE_ROWS - 1) / 1000:.3f}"]
    assert "row-200" not in text
    note = next(s for s in page.text if "left out" in s)
    assert "first 200 of 250 rows; 50 rows left out" in note and "big.tsv" in note
    assert text.count("left out") == 1  # the short tables are not truncated


def test_history_table_and_training_sections(rendered):
    text = rendered[-1]
    page = Page(text)
    history = next(t for t in page.tables if t and t[0] == HISTORY_HEADER)
    assert len(history) == 1 + 9
    assert history[2] == ["1", "mouse", "2.600", "2.100", h.MISSING, h.MISSING, "3.000", "joint", "x"]
    assert "Fine-tuning: human" in page.text
    assert "finetune/human/history.csv" in text


def test_deterministic_with_fixed_created(tmp_path, inputs):
    out1, _, _ = render(tmp_path, inputs, name="a.html")
    out2, _, _ = render(tmp_path, inputs, name="b.html")
    assert out1.read_bytes() == out2.read_bytes()
    out3, _, text = render(tmp_path, {"comparisons": inputs["comparisons"]}, name="c.html", extra=None)
    assert re.search(r"Created \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(UTC\)", text)


# ------------------------------------------------------------------ formatting helpers


def test_formatting_helpers():
    assert h.format_r(0.12345) == "0.123"
    assert h.format_r(float("nan")) == h.format_r(None) == h.MISSING
    assert h.format_p(3.2e-05) == "3.2e-05"
    assert h.format_p(0.04567) == "0.046"
    assert h.format_p(math.nan) == h.MISSING
    assert h.format_cell("nan", "r") == (h.MISSING, True)
    assert h.format_cell("", "r") == (h.MISSING, True)
    assert h.format_cell("12", "r") == ("12", True)
    assert h.format_cell("1e-7", "binomial_p") == ("1.0e-07", True)
    assert h.format_cell("1e-7", "mean_r") == ("0.000", True)
    assert h.format_cell("chr1", "chrom") == ("chr1", False)
    assert h.escape('<a href="x">') == "&lt;a href=&quot;x&quot;&gt;"


def test_best_epoch_single_genome(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("epoch,genome,valid_loss,valid_pearson_mean\n1,h,3,0.1\n2,h,1,0.2\n3,h,1,0.3\n4,h,nan,0.3\n")
    assert best_epoch(read_history(path)) == (2, 1.0)


# ------------------------------------------------------------------ bad inputs


def _delete_summary(src: Path) -> str:
    (src / "eval_joint" / "summary.json").unlink()
    return "summary.json"


def _edit(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _wrong_format(src: Path) -> str:
    _edit(src / "eval_joint" / "summary.json", lambda d: d.update(format="crossreg-comparison"))
    return "summary.json"


def _unknown_version(src: Path) -> str:
    _edit(src / "cmp" / "summary.json", lambda d: d.update(format_version=2))
    return "summary.json"


def _missing_key(src: Path) -> str:
    _edit(src / "eval_joint" / "summary.json", lambda d: d["genomes"]["human"].pop("mean_r_by_assay"))
    return "summary.json"


def _missing_png(src: Path) -> str:
    (src / "eval_joint" / "scatter.png").unlink()
    return "scatter.png"


def _not_png(src: Path) -> str:
    (src / "cmp" / "difference.png").write_text("not an image")
    return "difference.png"


def _outside(src: Path) -> str:
    _edit(src / "cmp" / "summary.json", lambda d: d["plots"][0].update(file="../eval_joint/scatter.png"))
    return "summary.json"


def _ragged_tsv(src: Path) -> str:
    with open(src / "eval_joint" / "tracks.tsv", "a") as handle:
        handle.write("only\ttwo\n")
    return "tracks.tsv"


def _broken_json(src: Path) -> str:
    (src / "run" / "params.json").write_text("{not json")
    return "params.json"


def _no_epoch_column(src: Path) -> str:
    path = src / "run" / "history.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(",".join(line.split(",")[1:]) for line in lines) + "\n")
    return "history.csv"


def _bad_number(src: Path) -> str:
    path = src / "run" / "finetune" / "human" / "history.csv"
    path.write_text(path.read_text().replace("1.1", "lots"))
    return "finetune/human/history.csv"


@pytest.mark.parametrize("breaks", [_delete_summary, _wrong_format, _unknown_version, _missing_key, _missing_png,
                                    _not_png, _outside, _ragged_tsv, _broken_json, _no_epoch_column, _bad_number])
def test_bad_input_raises_and_writes_nothing(tmp_path, inputs, breaks):
    file = breaks(tmp_path / "in")
    out = tmp_path / "out" / "report.html"
    with pytest.raises(InputError) as err:
        render_report(out, **inputs, extra={"created": CREATED})
    assert file in str(err.value)
    assert not out.exists() and not out.parent.exists()


@pytest.mark.parametrize("breaks,expected", [(_wrong_format, "format is 'crossreg-comparison'"),
                                             (_unknown_version, "unknown format_version 2"),
                                             (_missing_key, "genomes.human.mean_r_by_assay"),
                                             (_no_epoch_column, "missing column epoch"),
                                             (_outside, "points outside"),
                                             (_bad_number, "'lots' is not a number")])
def test_bad_input_messages(tmp_path, inputs, breaks, expected):
    breaks(tmp_path / "in")
    with pytest.raises(InputError, match=re.escape(expected)):
        render_report(tmp_path / "report.html", **inputs)


def test_error_keeps_previous_report(tmp_path, inputs):
    inputs = {"comparisons": inputs["comparisons"]}
    out, _, _ = render(tmp_path, inputs)
    before = out.read_bytes()
    _not_png(tmp_path / "in")
    with pytest.raises(InputError):
        render_report(out, **inputs)
    assert out.read_bytes() == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.html"]


def test_no_inputs_or_folder_output(tmp_path, inputs):
    with pytest.raises(InputError, match="nothing to report"):
        render_report(tmp_path / "r.html")
    with pytest.raises(InputError, match="is a folder"):
        render_report(tmp_path, **inputs)
    assert not (tmp_path / "r.html").exists()


def test_training_only_phases_and_missing_finetune_history(tmp_path, inputs):
    from crossreg.report.curves import curve_series

    path = tmp_path / "history.csv"
    path.write_text("epoch,genome,valid_loss,valid_pearson_mean,phase\n"
                    "2,h,2,0.1,joint\n1,h,3,0.05,joint\n1,h,1,0.3,finetune\n")
    hist = read_history(path)
    assert curve_series(hist, "valid_loss") == [("h (joint)", [1, 2], [3.0, 2.0]), ("h (finetune)", [1], [1.0])]
    assert best_epoch(hist) is None  # several phases: no single best epoch

    run = inputs["train_dirs"]["joint run"]
    (run / "finetune" / "mouse").mkdir()
    out, summary, text = render(tmp_path, {"train_dirs": inputs["train_dirs"]})
    assert summary["sections"] == ["Summary", "Training runs", "Run details"]
    assert summary["images"] == 2 == text.count("data:image/png")  # joint and finetune/human; none for mouse
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.html"]  # no temporary file left
    assert "Fine-tuning: mouse" in text and "finetune/mouse/history.csv not found" in text


def test_created_from_datetime():
    import datetime as dt

    from crossreg.report.core import _created

    stamp = dt.datetime(2024, 5, 1, 14, 0, 0, 123, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert _created({"created": stamp}) == "2024-05-01T12:00:00Z"
    assert _created({"created": "yesterday"}) == "yesterday"


# ---------------------------------------------------------------- trait analyses (SLDP, de novo)
def make_sldp(root: Path) -> Path:
    """An sldp-gather folder from two phenotypes' tables (written in the sldp step's layout)."""
    from crossreg.sldp.core import RESULT_COLUMNS
    from crossreg.sldp.steps import gather_step

    tables = []
    for k, phen in enumerate(("Liver", "Brain <cortex>")):
        rows = []
        for j, track in enumerate(("CAGE_liver", "CAGE_brain", "DNASE_x")):
            values = {c: 0.1 * (j + 1) for c in RESULT_COLUMNS if c != "annotation"}
            values.update(z=3.0 - j - k, p=10.0 ** -(3 - j - k), M=100, n_typed=90, n_blocks=20, n_chunks=20, draws=1000)
            rows.append({"phenotype": phen, "annotation": track, **values})
        path = root / f"{k}.tsv"
        import pandas as pd

        pd.DataFrame(rows, columns=["phenotype", "annotation", *[c for c in RESULT_COLUMNS if c != "annotation"]]
                     ).to_csv(path, sep="\t", index=False)
        tables.append(path)
    gather_step(tables, root / "sldp")
    return root / "sldp"


def make_denovo(root: Path) -> Path:
    import numpy as np

    from crossreg.denovo.core import run_denovo
    from crossreg.denovo.groups import assign_groups
    from crossreg.denovo.output import write_outputs
    from crossreg.io.denovo import read_denovo_table

    rng = np.random.default_rng(3)
    lines = ["family_id\tindividual_id\trole\tchrom\tpos\tref\talt"]
    for f in range(12):
        for role, tag in (("case", "p1"), ("control", "s1")):
            for _ in range(15):
                lines.append(f"F{f}\tF{f}.{tag}\t{role}\tchr1\t{int(rng.integers(1, 10**6))}\tA\tG")
    (root / "t.tsv").write_text("\n".join(lines) + "\n")
    table, report = read_denovo_table(root / "t.tsv")
    scores = rng.standard_normal((len(table), 4))
    scores[table.is_case, 0] -= 1.5
    ids, labels = ["T0", "T1", "T2", "T3"], ["brain <b>", "brain 2", "heart", "liver"]
    res = run_denovo(table, scores, ids, labels, assign_groups(ids, labels), exclusions=report)
    write_outputs(res, root / "denovo")
    (root / "denovo" / "ism").mkdir()
    (root / "denovo" / "ism" / "ism_1.png").write_bytes(tiny_png("red"))
    (root / "denovo" / "ism" / "index.tsv").write_text("chrom\tpos\tism_region\tism_h5\tism_png\n"
                                                        "chr1\t5\tchr1:1-10\tism_1.h5\tism_1.png\n")
    return root / "denovo"


def test_trait_sections_sldp_and_denovo(tmp_path):
    sldp, denovo = make_sldp(tmp_path), make_denovo(tmp_path)
    out = tmp_path / "traits.html"
    summary = render_report(out, sldp=[sldp], denovo=[denovo], extra={"created": "2026-01-01T00:00:00Z"})
    assert summary["sections"] == ["Summary", "Trait analyses", "Run details"]
    text = out.read_text()
    assert 'id="sldp-1"' in text and 'id="denovo-1"' in text and 'href="#sldp-1"' in text
    assert "Brain &lt;cortex&gt;" in text and "<cortex>" not in text and "brain &lt;b&gt;" in text
    # every plot of both folders embedded: heat map + clusters, 5a + 5c, one ISM
    assert summary["images"] == 5 and text.count("data:image/png;base64,") == 5
    assert "CAGE_liver" in text and "case more negative" in text
    again = tmp_path / "again.html"
    render_report(again, sldp=[sldp], denovo=[denovo], extra={"created": "2026-01-01T00:00:00Z"})
    assert again.read_bytes() == out.read_bytes()


def test_trait_folders_are_checked_before_writing(tmp_path):
    sldp = make_sldp(tmp_path)
    out = tmp_path / "r.html"
    with pytest.raises(InputError, match="format is 'crossreg-sldp', expected 'crossreg-denovo'"):
        render_report(out, denovo=[sldp])
    (sldp / "z_heatmap.png").unlink()
    with pytest.raises(InputError, match="z_heatmap.png is missing"):
        render_report(out, sldp=[sldp])
    with pytest.raises(InputError, match="no summary.json"):
        render_report(out, sldp=[tmp_path / "nowhere"])
    assert not out.exists()
