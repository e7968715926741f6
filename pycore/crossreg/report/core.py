"""``render_report``: one self-contained HTML page from evaluations, comparisons and training runs.

The page has no external reference at all (no script, stylesheet, font or image file):
CSS is inline, every image is a ``data:image/png`` URI, and the only links are in-page
``#`` anchors, so it can be mailed or opened offline. All inputs are loaded and validated
before anything is written; the page is then written atomically (temporary file in the
same folder, then ``os.replace``), so a failure leaves no file behind and never a partial one.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from crossreg.errors import InputError
from crossreg.io.atomic import atomic_path
from crossreg.report import html as h
from crossreg.report.curves import ALL_GENOMES, learning_curves_png
from crossreg.report.inputs import History, Summary, TableFile, TrainRun, load_comparison, load_evaluation, load_train_run
from crossreg.report.traits import denovo_section, denovo_summary, load_denovo, load_sldp, sldp_section, sldp_summary

log = logging.getLogger(__name__)

#: Tables longer than this are truncated on the page (with a note naming the file).
MAX_TABLE_ROWS = 200


# ------------------------------------------------------------------ small pieces


def _created(extra: Mapping[str, Any]) -> str:
    value = extra.get("created")
    if value is None:
        value = dt.datetime.now(dt.timezone.utc)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc)
        return value.replace(microsecond=0, tzinfo=None).isoformat() + "Z"
    return str(value)


def _labels(paths: Sequence[Path]) -> list[str]:
    """Folder names; ``parent/name`` where names repeat, then ``#k`` where those still do."""
    names = [p.name or str(p) for p in paths]
    labels = [f"{p.parent.name}/{n}" if names.count(n) > 1 and p.parent.name else n for p, n in zip(paths, names)]
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if labels.count(label) == 1 else f"{label} #{seen[label]}")
    return out


def _text_table(header: Sequence[str], rows: Sequence[Sequence[str]], file: str, folder: Path,
                caption: str | None = None) -> list[str]:
    """A table of cell text (formatted with :func:`html.format_cell`), truncated past MAX_TABLE_ROWS."""
    shown = rows[:MAX_TABLE_ROWS]
    body = []
    for row in shown:
        cells = []
        for column, text in zip(header, row):
            value, numeric = h.format_cell(text, column)
            cells.append(h.cell(value, numeric))
        body.append(cells)
    out = [h.table(header, body, caption=caption)]
    left_out = len(rows) - len(shown)
    if left_out > 0:
        out.append(h.note(f"Showing the first {len(shown)} of {len(rows)} rows; {left_out} "
                          f"row{'s' if left_out > 1 else ''} left out (full table: {file} in {folder})."))
    elif not rows:
        out.append(h.paragraph(f"{file} has no rows."))
    return out


def _file_table(table: TableFile, folder: Path) -> list[str]:
    return [f"<h4>{h.escape(table.title)}</h4>",
            f'<p class="meta">file <code>{h.escape(table.file)}</code></p>',
            *_text_table(table.header, table.rows, table.file, folder)]


def _files_block(summary: Summary) -> list[str]:
    out: list[str] = []
    for table in summary.tables:
        out.extend(_file_table(table, summary.path))
    for plot in summary.plots:
        out.append(f"<h4>{h.escape(plot.title)}</h4>")
        out.append(h.figure(plot.png, f"{plot.title} ({plot.file})", alt=plot.title))
    if not summary.tables and not summary.plots:
        out.append(h.paragraph("This summary names no tables or plots."))
    return out


# ------------------------------------------------------------------ evaluations


def _assays(genomes: Mapping[str, Mapping[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for entry in genomes.values():
        for assay in entry["mean_r_by_assay"]:
            seen.setdefault(assay, None)
    return list(seen)


def _evaluation_summary(label: str, anchor: str, ev: Summary) -> str:
    data = ev.data
    parts = [f'<p class="meta">split <b>{h.escape(data["split"])}</b>, reverse-complement averaging '
             f'{"on" if data["rc_average"] else "off"}, model <code>{h.escape(data["model_dir"])}</code> '
             f'(<a href="#{anchor}">tables and plots</a>)</p>']
    genomes = data["genomes"]
    assays = _assays(genomes)
    header = ["genome", "windows", "bins", "tracks", *(f"R {a}" for a in assays), "gene R", "gene R (normalized)"]
    rows = []
    for genome, entry in genomes.items():
        by_assay = entry["mean_r_by_assay"]
        rows.append([
            h.cell(genome), h.cell(entry["windows"], True), h.cell(entry["bins"], True), h.cell(entry["tracks"], True),
            *(h.cell(h.format_r(by_assay.get(a)), True) for a in assays),
            h.cell(h.format_r(entry["gene_r_mean"]), True), h.cell(h.format_r(entry["gene_r_normalized_mean"]), True),
        ])
    if rows:
        parts.append(h.table(header, rows, caption="Mean Pearson R per genome, by assay, and gene-level R"))
    else:
        parts.append(h.paragraph("The summary lists no genomes."))
    transfer = data["transfer"]
    if transfer:
        parts.append(_transfer(transfer))
    return h.section(None, f"Evaluation: {label}", parts, level=3)


def _weighted_mean(entries: list[dict], key: str) -> float:
    """Mean of ``key`` over entries weighted by their ``pairs`` (entries with a missing value left out)."""
    pairs = [(t["pairs"], t[key]) for t in entries if not h.is_missing(t[key]) and t["pairs"] > 0]
    total = sum(n for n, _ in pairs)
    return sum(n * float(v) for n, v in pairs) / total if total else math.nan


def transfer_groups(transfer: list[dict]) -> list[dict]:
    """Matched vs mismatched summary of an evaluation's ``transfer`` entries.

    Cross-species entries (head genome != data genome) and the own-head reference entries
    are kept apart; within each, matched and mismatched track pairs. Means are weighted by
    ``pairs``. Groups without entries are left out.

    Returns:
        ``[{"group", "entries", "pairs", "mean_r", "mean_r_normalized"}]``.
    """
    out = []
    for scope, own in (("cross-species", False), ("own head (reference)", True)):
        for name, flag in (("matched", True), ("mismatched", False)):
            members = [t for t in transfer
                       if (t["data_genome"] == t["head_genome"]) == own and bool(t["matched"]) == flag]
            if members:
                out.append({"group": f"{scope}, {name}", "entries": len(members),
                            "pairs": sum(t["pairs"] for t in members),
                            "mean_r": _weighted_mean(members, "mean_r"),
                            "mean_r_normalized": _weighted_mean(members, "mean_r_normalized")})
    return out


def _transfer(transfer: list[dict]) -> str:
    groups = [[h.cell(g["group"]), h.cell(g["entries"], True), h.cell(g["pairs"], True),
               h.cell(h.format_r(g["mean_r"]), True), h.cell(h.format_r(g["mean_r_normalized"]), True)]
              for g in transfer_groups(transfer)]
    rows = [[h.cell(t["data_genome"]), h.cell(t["head_genome"]), h.cell(h.format_r(t["matched"]), True),
             h.cell(t["pairs"], True), h.cell(h.format_r(t["mean_r"]), True),
             h.cell(h.format_r(t["mean_r_normalized"]), True)] for t in transfer]
    return "\n".join([
        "<h4>Cross-genome transfer</h4>",
        h.table(["group", "entries", "pairs", "mean R", "mean R (normalized)"], groups,
                caption="Matched vs mismatched track pairs (means weighted by pairs)"),
        h.table(["data genome", "head genome", "matched", "pairs", "mean R", "mean R (normalized)"], rows,
                caption="All transfer entries"),
    ])


# ------------------------------------------------------------------ comparisons


def _json_cell(value: Any, key: str) -> str:
    """A ``<td>`` for a JSON value: p-value style in p-value columns, 3 decimals for other floats."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) or value is None:
        text = h.format_p(value) if h.is_p_column(key) else h.format_r(value)
        return h.cell(text, True)
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    return h.cell(h.format_r(value), isinstance(value, bool))


def _comparison_title(cmp: Summary) -> str:
    return f"{cmp.data['label_a']} vs {cmp.data['label_b']}"


def _comparison_summary(label: str, anchor: str, cmp: Summary) -> str:
    data = cmp.data
    parts = [h.definitions([("A", f"{data['label_a']} ({data['eval_a']})"), ("B", f"{data['label_b']} ({data['eval_b']})")]),
             f'<p class="meta">folder {h.escape(label)} (<a href="#{anchor}">tables and plots</a>)</p>']
    keys = list(dict.fromkeys(key for row in data["rows"] for key in row))
    rows = [[_json_cell(row.get(key), key) for key in keys] for row in data["rows"]]
    if rows:
        parts.append(h.table([k.replace("_", " ") for k in keys], rows,
                             caption="Per genome and assay (as written by the comparison)"))
    else:
        parts.append(h.paragraph("The comparison has no rows."))
    return h.section(None, f"Comparison: {_comparison_title(cmp)}", parts, level=3)


# ------------------------------------------------------------------ training runs


def best_epoch(history: History) -> tuple[int, float] | None:
    """``(epoch, valid_loss)`` of the lowest validation loss, as the trainer chooses it.

    The reference rows are those of genome ``all`` when present (several genomes), else
    those of the only genome; None when that is ambiguous (several genomes without ``all``,
    several phases) or no finite loss was recorded. Ties go to the earliest epoch.
    """
    genomes = history.column("genome")
    if "phase" in history.columns and len(set(history.column("phase"))) > 1:
        return None
    names = set(genomes)
    reference = ALL_GENOMES if ALL_GENOMES in names else (next(iter(names)) if len(names) == 1 else None)
    if reference is None:
        return None
    best = None
    for genome, epoch, loss in sorted(zip(genomes, history.epochs, history.values["valid_loss"]), key=lambda x: x[1]):
        if genome == reference and math.isfinite(loss) and (best is None or loss < best[1]):
            best = (epoch, loss)
    return best


def _training_summary(run: TrainRun, anchor: str) -> str:
    parts = []
    for name, hist in [("joint" if run.finetune else "training", run.history),
                       *((f"fine-tuning {g}", hist) for g, hist in run.finetune.items())]:
        if hist is None or not hist.rows:
            continue
        best = best_epoch(hist)
        rows = []
        genomes = list(dict.fromkeys(hist.column("genome")))
        for genome in genomes:
            idx = [i for i, g in enumerate(hist.column("genome")) if g == genome]
            last = max(idx, key=lambda i: hist.epochs[i])
            at_best = [i for i in idx if best and hist.epochs[i] == best[0]]
            rows.append([
                h.cell(genome), h.cell(len(set(hist.epochs[i] for i in idx)), True),
                h.cell(h.format_r(hist.values["valid_pearson_mean"][at_best[-1]]) if at_best else h.MISSING, True),
                h.cell(h.format_r(hist.values["valid_pearson_mean"][last]), True),
            ])
        caption = f"{name}: " + (f"lowest validation loss {best[1]:.4g} at epoch {best[0]}" if best
                                 else "no single best epoch")
        parts.append(h.table(["genome", "epochs", "valid mean R at best epoch", "valid mean R at last epoch"], rows,
                             caption=caption))
    if not parts:
        parts.append(h.paragraph("No epoch recorded yet."))
    parts.append(f'<p class="meta"><a href="#{anchor}">learning curves and history</a></p>')
    return h.section(None, f"Training: {run.label}", parts, level=3)


def _history_block(hist: History | None, name: str, title: str, folder: Path) -> tuple[list[str], int]:
    if hist is None:
        return [h.note(f"{name} not found: the phase has not finished an epoch yet.")], 0
    if not hist.rows:
        return [h.paragraph(f"{name} has no epochs yet.")], 0
    best = best_epoch(hist)
    png = learning_curves_png(hist, title, best_epoch=best[0] if best else None)
    caption = (f"Learning curves from {name}: validation loss (training loss dashed, when recorded) and "
               f"validation mean Pearson R per genome"
               + (f"; dotted line: epoch {best[0]}, the lowest validation loss" if best else ""))
    out = [h.figure(png, caption, alt=f"learning curves {title}")]
    out.append(f"<h4>History ({h.escape(name)})</h4>")
    out.extend(_text_table(hist.columns, [[row[c] for c in hist.columns] for row in hist.rows], name, folder))
    return out, 1


def _training_section(run: TrainRun, anchor: str) -> tuple[str, int]:
    parts = [f'<p class="meta">folder <code>{h.escape(run.path)}</code></p>']
    block, images = _history_block(run.history, "history.csv", run.label, run.path)
    parts.extend(block)
    for genome, hist in run.finetune.items():
        name = f"finetune/{genome}/history.csv"
        block, n = _history_block(hist, name, f"{run.label}: fine-tuning {genome}", run.path)
        parts.append(h.section(None, f"Fine-tuning: {genome}", block, level=4))
        images += n
    return h.section(anchor, f"Training run: {run.label}", parts, level=3), images


# ------------------------------------------------------------------ run details


def _environment_versions() -> dict[str, str]:
    import matplotlib

    from crossreg.data.manifest import versions

    current = dict(versions())
    current.setdefault("matplotlib", matplotlib.__version__)
    return current


def _versions_table(sources: list[tuple[str, Mapping[str, Any]]]) -> str:
    current = sources[0][1]
    names = list(dict.fromkeys(name for _, mapping in sources for name in mapping))
    rows = []
    for name in names:
        row = [h.cell(name)]
        for i, (_, mapping) in enumerate(sources):
            value = mapping.get(name)
            text = h.MISSING if value is None else str(value)
            differs = i > 0 and value is not None and name in current and str(value) != str(current[name])
            row.append(h.cell(text, css_class="diff" if differs else ""))
        rows.append(row)
    return "\n".join([
        h.table(["package", *(label for label, _ in sources)], rows, caption="Versions"),
        h.paragraph("Highlighted: differs from the environment that rendered this report."),
    ])


def _details_section(runs: list[TrainRun], evals: list[tuple[str, Summary]], cmps: list[tuple[str, Summary]],
                     extra: Mapping[str, Any]) -> str:
    parts = []
    for label, ev in evals:
        d = ev.data
        parts.append(h.section(None, f"Evaluation: {label}", [h.definitions([
            ("folder", ev.path), ("model_dir", d["model_dir"]), ("params_sha256", d["params_sha256"]),
            ("split", d["split"]), ("rc_average", "yes" if d["rc_average"] else "no"),
            ("seconds", h.format_r(d["seconds"], 1)),
        ])], level=3))
    for label, cmp in cmps:
        d = cmp.data
        parts.append(h.section(None, f"Comparison: {label}", [h.definitions([
            ("folder", cmp.path), ("A", f"{d['label_a']}: {d['eval_a']}"), ("B", f"{d['label_b']}: {d['eval_b']}"),
            ("seconds", h.format_r(d["seconds"], 1)),
        ])], level=3))
    for run in runs:
        matches = [label for label, ev in evals if ev.data["params_sha256"] == run.params_digest]
        items = [("folder", run.path), ("params.json sha256 (canonical JSON)", run.params_digest)]
        if matches:
            items.append(("same params as", ", ".join(matches)))
        parts.append(h.section(None, f"Training run: {run.label}", [
            h.definitions(items),
            h.pre(json.dumps(run.params, indent=2, ensure_ascii=False)),
        ], level=3))
    sources: list[tuple[str, Mapping[str, Any]]] = [("this report", _environment_versions())]
    sources += [(f"evaluation {label}", ev.data["versions"]) for label, ev in evals]
    sources += [(f"comparison {label}", cmp.data["versions"]) for label, cmp in cmps]
    parts.append(_versions_table(sources))
    other = {k: v for k, v in extra.items() if k != "created"}
    if other:
        parts.append(h.table(["key", "value"], [
            [h.cell(k), h.cell(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str))]
            for k, v in other.items()
        ], caption="Extra"))
    return h.section("details", "Run details", parts)


# ------------------------------------------------------------------ the page


def render_report(
    out_path: str | os.PathLike,
    evaluations: Sequence[str | os.PathLike] = (),
    comparisons: Sequence[str | os.PathLike] = (),
    train_dirs: Mapping[str, str | os.PathLike] | None = None,
    title: str = "crossreg report",
    extra: Mapping[str, Any] | None = None,
    sldp: Sequence[str | os.PathLike] = (),
    denovo: Sequence[str | os.PathLike] = (),
) -> dict:
    """Write one self-contained HTML report.

    Sections, in order: a header (title, creation time, contents), **Summary** (per
    evaluation the mean Pearson R by assay and gene-level R per genome plus the transfer
    summary, matched vs mismatched; per comparison its rows with p-values; per training run
    the best epoch and validation R), **Training runs** (learning curves drawn now with
    matplotlib, and the history table, also for ``finetune/<genome>/``), **Evaluations** and
    **Comparisons** (every table and plot their summaries name), and **Run details**
    (resolved params, params digests, versions of the inputs and of this environment,
    the other ``extra`` entries). Empty sections are left out. Tables longer than
    :data:`MAX_TABLE_ROWS` rows are truncated with a note.

    Args:
        out_path: the HTML file to write (its folder is created if needed).
        evaluations: evaluation folders (or their ``summary.json``).
        comparisons: comparison folders (or their ``summary.json``).
        train_dirs: ``{label: training-run folder}``.
        title: page title.
        extra: free metadata shown under Run details; ``extra["created"]`` (a string, or a
            datetime converted to UTC) replaces the current UTC time, for reproducible pages.
        sldp: ``crossreg sldp-gather`` folders (section **Trait analyses**).
        denovo: ``crossreg denovo`` folders (same section; their ``ism/`` plots too).

    Returns:
        ``{"out": path, "sections": [top-level section titles], "bytes": size, "images": count}``.

    Raises:
        InputError: a missing or malformed input (named in the message), no input at all, or
            ``out_path`` is a folder. Nothing is written then.
    """
    out = Path(out_path)
    evaluations = [evaluations] if isinstance(evaluations, (str, os.PathLike)) else list(evaluations)
    comparisons = [comparisons] if isinstance(comparisons, (str, os.PathLike)) else list(comparisons)
    extra = dict(extra or {})
    train_dirs = dict(train_dirs or {})
    if out.is_dir():
        raise InputError(f"report output {out}: is a folder; give a file name such as {out / 'report.html'}")
    sldp = [sldp] if isinstance(sldp, (str, os.PathLike)) else list(sldp)
    denovo = [denovo] if isinstance(denovo, (str, os.PathLike)) else list(denovo)
    if not evaluations and not comparisons and not train_dirs and not sldp and not denovo:
        raise InputError("report: nothing to report (give evaluation, comparison, SLDP or de novo folders, "
                         "or training runs)")
    created = _created(extra)

    evals = [load_evaluation(p) for p in evaluations]
    cmps = [load_comparison(p) for p in comparisons]
    runs = [load_train_run(str(label), path) for label, path in train_dirs.items()]
    traits_sldp = [load_sldp(p) for p in sldp]
    traits_denovo = [load_denovo(p) for p in denovo]
    eval_items = list(zip(_labels([e.path for e in evals]), evals))
    cmp_items = list(zip(_labels([c.path for c in cmps]), cmps))

    images = 0
    sections: list[tuple[str, str, str]] = []  # (anchor, title, html)
    summary_parts = []
    summary_parts += [_evaluation_summary(label, f"eval-{i + 1}", ev) for i, (label, ev) in enumerate(eval_items)]
    summary_parts += [_comparison_summary(label, f"cmp-{i + 1}", cmp) for i, (label, cmp) in enumerate(cmp_items)]
    summary_parts += [_training_summary(run, f"train-{i + 1}") for i, run in enumerate(runs)]
    sldp_items = list(zip(_labels([f.path for f in traits_sldp]), traits_sldp))
    denovo_items = list(zip(_labels([f.path for f in traits_denovo]), traits_denovo))
    summary_parts += [sldp_summary(label, f"sldp-{i + 1}", f) for i, (label, f) in enumerate(sldp_items)]
    summary_parts += [denovo_summary(label, f"denovo-{i + 1}", f) for i, (label, f) in enumerate(denovo_items)]
    sections.append(("summary", "Summary", h.section("summary", "Summary", summary_parts)))

    subsections: dict[str, list[tuple[str, str]]] = {}
    if runs:
        parts = []
        for i, run in enumerate(runs):
            block, n = _training_section(run, f"train-{i + 1}")
            parts.append(block)
            images += n
        subsections["training"] = [(f"train-{i + 1}", run.label) for i, run in enumerate(runs)]
        sections.append(("training", "Training runs", h.section("training", "Training runs", parts)))
    if evals:
        parts = []
        for i, (label, ev) in enumerate(eval_items):
            parts.append(h.section(f"eval-{i + 1}", f"Evaluation: {label}", [
                f'<p class="meta">folder <code>{h.escape(ev.path)}</code></p>', *_files_block(ev)], level=3))
            images += len(ev.plots)
        subsections["evaluations"] = [(f"eval-{i + 1}", label) for i, (label, _) in enumerate(eval_items)]
        sections.append(("evaluations", "Evaluations", h.section("evaluations", "Evaluations", parts)))
    if cmps:
        parts = []
        for i, (label, cmp) in enumerate(cmp_items):
            parts.append(h.section(f"cmp-{i + 1}", f"Comparison: {_comparison_title(cmp)}", [
                f'<p class="meta">folder <code>{h.escape(cmp.path)}</code></p>', *_files_block(cmp)], level=3))
            images += len(cmp.plots)
        subsections["comparisons"] = [(f"cmp-{i + 1}", _comparison_title(cmp)) for _, cmp in cmp_items]
        sections.append(("comparisons", "Comparisons", h.section("comparisons", "Comparisons", parts)))
    if sldp_items or denovo_items:
        parts = [sldp_section(label, f"sldp-{i + 1}", f) for i, (label, f) in enumerate(sldp_items)]
        parts += [denovo_section(label, f"denovo-{i + 1}", f) for i, (label, f) in enumerate(denovo_items)]
        images += sum(len(f.plots) for f in (*traits_sldp, *traits_denovo))
        subsections["traits"] = ([(f"sldp-{i + 1}", f"SLDP: {label}") for i, (label, _) in enumerate(sldp_items)]
                                 + [(f"denovo-{i + 1}", f"De novo: {label}") for i, (label, _) in enumerate(denovo_items)])
        sections.append(("traits", "Trait analyses", h.section("traits", "Trait analyses", parts)))
    sections.append(("details", "Run details", _details_section(runs, eval_items, cmp_items, extra)))

    from crossreg import __version__

    toc = []
    for anchor, name, _ in sections:
        subs = "".join(f'<li><a href="#{a}">{h.escape(t)}</a></li>' for a, t in subsections.get(anchor, []))
        toc.append(f'<li><a href="#{anchor}">{h.escape(name)}</a>' + (f"<ul>{subs}</ul>" if subs else "") + "</li>")
    header = (f"<header>\n<h1>{h.escape(title)}</h1>\n"
              f'<p class="meta">Created {h.escape(created)} (UTC) with crossreg {h.escape(__version__)}</p>\n'
              f"<nav><ul>{''.join(toc)}</ul></nav>\n</header>")
    document = h.page(title, [header, *(body for _, _, body in sections)])
    data = document.encode("utf-8")
    with atomic_path(out) as tmp:
        tmp.write_bytes(data)
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; a report is meant to be shared
    log.info("report %s: %d bytes, %d images, sections %s", out, len(data), images,
             ", ".join(name for _, name, _ in sections))
    return {"out": str(out), "sections": [name for _, name, _ in sections], "bytes": len(data), "images": images}
