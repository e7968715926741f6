"""``crossreg run``: the Nextflow pipeline's steps on one machine (see :mod:`crossreg.runner.core`)."""

from crossreg.runner.core import RunResult, run_pipeline
from crossreg.runner.params import RUN_PARAMS, load_run_params
from crossreg.runner.plan import RunPlan, Step, plan_run

__all__ = ["RUN_PARAMS", "RunPlan", "RunResult", "Step", "load_run_params", "plan_run", "run_pipeline"]
