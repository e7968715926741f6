"""``crossreg run``: the pipeline's steps in order on one machine, skipping what is up to date.

Every step runs as its own ``python -m crossreg <step> ...`` process, exactly the command line
a Nextflow task runs, so memory is returned between steps and a crash in one step cannot leave
the runner in a half state. Its standard error (and output, unless the step's output is a
file) goes to ``<outdir>/pipeline_info/logs/<step>.log``. Steps of one parallel group (the
chunks of a genome's shards, the windows and baselines of the genomes) run ``jobs`` at a time.
A finished step leaves a record (:mod:`crossreg.runner.state`); the next run skips it while
its command, inputs and outputs are unchanged. One line of progress per step goes to stderr.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, TextIO

from crossreg.errors import CrossregError
from crossreg.runner.params import load_run_params
from crossreg.runner.plan import RunPlan, Step, plan_run
from crossreg.runner.state import is_up_to_date, record_path, write_record

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """What a run did.

    Attributes:
        plan: the steps and where the products are.
        ran: names of the steps that ran.
        skipped: names of the steps that were up to date.
        seconds: wall time of the run.
    """

    plan: RunPlan
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _log_path(outdir: Path, step: Step) -> Path:
    return record_path(outdir / "pipeline_info" / "logs", step.name).with_suffix(".log")


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").rstrip().splitlines()
    except OSError:
        return ""
    return "\n".join("    " + line for line in text[-lines:])


def _execute(step: Step, outdir: Path, env: Mapping[str, str], extra: list[str]) -> float:
    """Run one step's command (plus ``extra`` flags); raise CrossregError (with the end of its log) when it fails."""
    logfile = _log_path(outdir, step)
    logfile.parent.mkdir(parents=True, exist_ok=True)
    for out in step.outputs:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "crossreg", *step.argv, *extra]
    with open(logfile, "w") as err:
        err.write("$ crossreg " + " ".join([*step.argv, *extra]) + "\n")
        err.flush()
        if step.stdout is not None:
            step.stdout.parent.mkdir(parents=True, exist_ok=True)
            tmp = step.stdout.with_name(step.stdout.name + ".part")
            with open(tmp, "w") as out:
                rc = subprocess.run(cmd, stdout=out, stderr=err, env=dict(env)).returncode
            if rc == 0:
                os.replace(tmp, step.stdout)
            else:
                tmp.unlink(missing_ok=True)
        else:
            rc = subprocess.run(cmd, stdout=err, stderr=subprocess.STDOUT, env=dict(env)).returncode
    if rc != 0:
        raise CrossregError(f"step {step.name} failed (exit {rc}); log {logfile}:\n{_tail(logfile)}")
    return time.perf_counter() - start


def _groups(steps: list[Step]) -> list[list[Step]]:
    """Consecutive steps of the same parallel group, together; every other step alone."""
    groups: list[list[Step]] = []
    for step in steps:
        if groups and step.parallel_group is not None and groups[-1][0].parallel_group == step.parallel_group:
            groups[-1].append(step)
        else:
            groups.append([step])
    return groups


def run_pipeline(
    params_file: str | os.PathLike | None,
    outdir: str | os.PathLike | None = None,
    overrides: Mapping[str, Any] | None = None,
    jobs: int | None = None,
    force: bool = False,
    echo: TextIO | None = None,
    on_step: Callable[[Step, str, float], None] | None = None,
) -> RunResult:
    """Run every step of the pipeline locally.

    Args:
        params_file: the pipeline's params file (YAML or JSON), or None (defaults + overrides).
        outdir: output folder (overrides the params' ``outdir``).
        overrides: further parameter values (the command line's ``--param key=value``).
        jobs: steps of a parallel group run at once (default: the CPU count, at most 4).
        force: run every step even when up to date.
        echo: stream for the progress lines (default stderr; None keeps stderr).
        on_step: called as ``on_step(step, "ran"|"skipped", seconds)`` after each step.

    Returns:
        The :class:`RunResult`.

    Raises:
        InputError: bad parameters or inputs (before any step runs).
        CrossregError: a step failed (with the end of its log); earlier steps stay recorded.
    """
    start = time.perf_counter()
    overrides = dict(overrides or {})
    if outdir is not None:
        overrides["outdir"] = str(outdir)
    values = load_run_params(params_file, overrides)
    out = Path(values["outdir"])
    plan = plan_run(values, out)
    state_dir = out / "pipeline_info" / "steps"
    jobs = jobs or min(4, os.cpu_count() or 1)
    echo = echo or sys.stderr
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")}
    result = RunResult(plan)
    total = len(plan.steps)
    done = 0

    def report(step: Step, what: str, seconds: float) -> None:
        nonlocal done
        done += 1
        text = "up to date, skipped" if what == "skipped" else f"done in {seconds:.1f} s"
        print(f"[{done:>{len(str(total))}}/{total}] {step.name:<24} {text}", file=echo, flush=True)
        (result.skipped if what == "skipped" else result.ran).append(step.name)
        if on_step is not None:
            on_step(step, what, seconds)

    for group in _groups(plan.steps):
        todo = []
        for step in group:
            if not force and is_up_to_date(state_dir, step.name, step.argv, step.inputs, step.outputs):
                report(step, "skipped", 0.0)
                continue
            extra: list[str] = []
            if record_path(state_dir, step.name).exists() or force:
                # a finished run with other inputs or options: start afresh
                if step.prepare is not None:
                    step.prepare()
                record_path(state_dir, step.name).unlink(missing_ok=True)
            elif step.resume_flag and step.resume_marker is not None and step.resume_marker.exists():
                extra = [step.resume_flag]  # interrupted: continue from its last checkpoint
            todo.append((step, extra))
        if not todo:
            continue
        for step, extra in todo:
            note = " (resuming)" if extra else ""
            print(f"    running {step.name}: crossreg {step.argv[0]}{note} ...", file=echo, flush=True)
        with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(todo)))) as pool:
            futures = [(step, pool.submit(_execute, step, out, env, extra)) for step, extra in todo]
            errors = []
            for step, future in futures:
                try:
                    seconds = future.result()
                except CrossregError as exc:
                    errors.append(exc)
                    continue
                write_record(state_dir, step.name, step.argv, step.inputs, step.outputs, seconds)
                report(step, "ran", seconds)
            if errors:
                raise errors[0]
    result.seconds = time.perf_counter() - start
    return result
