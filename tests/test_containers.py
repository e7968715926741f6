"""Static checks of containers/: pinned bases, lock files that match pyproject.toml and the tested
environment, Dockerfiles that copy and install what the build needs, image names that agree with
nextflow.config. Nothing is built here (scripts/build_container.sh does that, `make container`)."""
from __future__ import annotations

import re
import subprocess
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
CONTAINERS = ROOT / "containers"
KINDS = ("cpu", "gpu")
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
REGENERATE = "regenerate with: .venv/bin/python containers/gen_locks.py"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)==(?P<version>[0-9][A-Za-z0-9.+!_-]*)$")
IMAGE = re.compile(r"ghcr\.io/crossreg/crossreg(?:-gpu)?:[A-Za-z0-9._-]+")


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in dockerfile.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        word, _, args = line.partition(" ")
        out.append((word.upper(), " ".join(args.split())))
    assert not pending, f"{dockerfile}: dangling line continuation"
    return out


def resolved_froms(dockerfile: Path) -> list[str]:
    """The image of each FROM (stage names dropped), ${ARG}s replaced by their defaults."""
    args: dict[str, str] = {}
    stages: set[str] = set()
    images = []
    for word, rest in instructions(dockerfile):
        if word == "ARG" and "=" in rest:
            name, _, value = rest.partition("=")
            args.setdefault(name.strip(), value.strip().strip('"'))
        elif word == "FROM":
            parts = [p for p in rest.split() if not p.startswith("--")]
            image = re.sub(r"\$\{?(\w+)\}?", lambda m: args[m.group(1)], parts[0])
            if len(parts) >= 3 and parts[1].upper() == "AS":
                stages.add(parts[2])
            if image not in stages:
                images.append(image)
    return images


def lock(kind: str) -> dict[str, str]:
    """{canonical name: version} of containers/requirements-<kind>.txt."""
    pins = {}
    for line in (CONTAINERS / f"requirements-{kind}.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            match = PIN.match(line.strip())
            assert match, line
            pins[canonicalize_name(match["name"])] = match["version"]
    return pins


def runtime_requirements() -> list[Requirement]:
    return [Requirement(r) for r in PROJECT["dependencies"] + PROJECT["optional-dependencies"]["tf"]]


@pytest.mark.parametrize("kind", KINDS)
def test_base_image_is_pinned_to_an_exact_patch_release(kind):
    froms = resolved_froms(CONTAINERS / kind / "Dockerfile")
    assert froms, "no FROM"
    for image in froms:
        name, _, tag = image.split("@")[0].rpartition(":")
        assert name and "/" not in tag, f"{image}: no tag"
        assert tag != "latest" and re.match(r"^\d+\.\d+\.\d+(-[a-z0-9.-]+)?$", tag), (
            f"{image}: the tag must name an exact x.y.z release, e.g. python:3.11.13-slim-bookworm")
    assert len(set(froms)) == 1, f"builder and final stage should share one base: {froms}"


@pytest.mark.parametrize("kind", KINDS)
def test_base_is_overridable_and_there_is_no_entrypoint(kind):
    steps = instructions(CONTAINERS / kind / "Dockerfile")
    assert steps[0][0] == "ARG" and steps[0][1].startswith("BASE="), "the first instruction must be ARG BASE=..."
    assert all(rest.split()[0] == "${BASE}" for word, rest in steps if word == "FROM")
    assert "ENTRYPOINT" not in {word for word, _ in steps}, "Nextflow runs `bash .command.sh`: no ENTRYPOINT"


@pytest.mark.parametrize("name", ["build", "cpu", "gpu"])
def test_every_requirement_line_is_an_exact_pin(name):
    seen = set()
    lines = (CONTAINERS / f"requirements-{name}.txt").read_text().splitlines()
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        match = PIN.match(line)
        assert match, f"requirements-{name}.txt: {line!r} is not name==version"
        key = canonicalize_name(match["name"])
        assert key not in seen, f"requirements-{name}.txt: {match['name']} pinned twice"
        seen.add(key)
    assert seen, f"requirements-{name}.txt pins nothing"


def test_cpu_lock_pins_every_runtime_dependency_within_its_range():
    pins = lock("cpu")
    for req in runtime_requirements():
        key = canonicalize_name(req.name)
        assert key in pins, f"requirements-cpu.txt lacks {req.name} ({req}); {REGENERATE}"
        assert Version(pins[key]) in req.specifier, f"{req.name}=={pins[key]} is outside {req}; {REGENERATE}"
    assert not {"pytest", "hypothesis", "jpype1", "jax", "jaxlib"} & set(pins), "test tools or JAX in the CPU lock"


def test_build_lock_pins_the_build_system_requirements():
    pins = lock("build")
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    for req in map(Requirement, requires):
        key = canonicalize_name(req.name)
        assert key in pins and Version(pins[key]) in req.specifier, f"{req}; {REGENERATE}"
    # the kernels are compiled against the NumPy they run with
    assert pins["numpy"] == lock("cpu")["numpy"] == lock("gpu")["numpy"]


@pytest.mark.parametrize("name", ["numpy", "h5py", "keras", "tensorflow-cpu"])
def test_cpu_lock_matches_the_tested_environment(name):
    try:
        installed = metadata.version(name)
    except metadata.PackageNotFoundError:
        if name == "tensorflow-cpu":
            pytest.skip("tensorflow-cpu (the `tf` extra) is not installed in this environment")
        raise
    assert lock("cpu")[canonicalize_name(name)] == installed, (
        f"the CPU image would run {name}=={lock('cpu')[canonicalize_name(name)]}, the tests ran {installed}; "
        f"{REGENERATE}")


def test_gpu_lock_agrees_with_the_cpu_lock():
    cpu, gpu = lock("cpu"), lock("gpu")
    for name in ("keras", "numpy", "h5py"):
        assert gpu[name] == cpu[name], f"{name}: GPU {gpu[name]} != CPU {cpu[name]}"
    for req in runtime_requirements():
        key = canonicalize_name(req.name)
        if key == "tensorflow-cpu":
            assert gpu.get("tensorflow") == cpu[key], "the GPU image's tensorflow must match the CPU image's"
        else:
            assert gpu.get(key) == cpu[key], f"{req.name}: GPU {gpu.get(key)} != CPU {cpu[key]}"
    assert "tensorflow-cpu" not in gpu
    assert {"jax", "jaxlib", "jax-cuda12-plugin", "nvidia-cudnn-cu12"} <= set(gpu), "the GPU lock lacks the CUDA stack"
    assert gpu["jaxlib"] == gpu["jax"] == gpu["jax-cuda12-plugin"]


@pytest.mark.parametrize("kind", KINDS)
def test_dockerfile_copies_the_sources_and_installs_the_locks(kind):
    steps = instructions(CONTAINERS / kind / "Dockerfile")
    copied: dict[str, str] = {}
    for word, rest in steps:
        if word == "COPY" and "--from=" not in rest:
            *sources, dest = rest.split()
            for src in sources:
                copied[src.rstrip("/")] = dest
    for needed in ("pyproject.toml", "setup.py", "README.md", "csrc", "pycore",
                   "containers/requirements-build.txt", f"containers/requirements-{kind}.txt"):
        assert needed in copied, f"{kind}/Dockerfile does not COPY {needed}"
        assert (ROOT / needed).exists(), needed
    runs = [rest for word, rest in steps if word == "RUN"]

    def installs(lock_name: str) -> bool:
        dest = copied[f"containers/{lock_name}"]
        return any(re.search(rf"pip install --no-deps -r {re.escape(dest)}(\s|$)", run) for run in runs)

    assert installs("requirements-build.txt"), "the builder does not install the build lock"
    assert installs(f"requirements-{kind}.txt"), f"the image does not install requirements-{kind}.txt"
    assert any("pip wheel --no-build-isolation" in run for run in runs), "no wheel built with the pinned build tools"
    assert any("pip install --no-deps /tmp/wheels/crossreg-" in run and "pip check" in run for run in runs)
    assert any("crossreg --version" in run for run in runs)
    ignore = (CONTAINERS / kind / "Dockerfile.dockerignore").read_text().splitlines()
    for src in copied:
        assert any(line.startswith("!") and Path(src).match(line[1:].rstrip("/")) for line in ignore), (
            f"{kind}/Dockerfile.dockerignore keeps {src} out of the build context")


@pytest.mark.parametrize("kind", KINDS)
def test_dockerfile_labels(kind):
    labels = " ".join(rest for word, rest in instructions(CONTAINERS / kind / "Dockerfile") if word == "LABEL")
    args = dict(rest.split("=", 1) for word, rest in instructions(CONTAINERS / kind / "Dockerfile")
                if word == "ARG" and "=" in rest)
    assert 'org.opencontainers.image.version="${VERSION}"' in labels and args["VERSION"] == PROJECT["version"]
    assert f'org.opencontainers.image.licenses="{PROJECT["license"]}"' in labels
    assert 'org.opencontainers.image.source="https://' in labels


def test_image_names_agree_with_nextflow_config():
    config = set(IMAGE.findall((ROOT / "nextflow.config").read_text()))
    readme = set(IMAGE.findall((CONTAINERS / "README.md").read_text()))
    assert config == {f"ghcr.io/crossreg/crossreg:{PROJECT['version']}", f"ghcr.io/crossreg/crossreg-gpu:{PROJECT['version']}"}
    assert readme == config, f"containers/README.md names {sorted(readme)}, nextflow.config {sorted(config)}"
    for kind, image in (("cpu", "ghcr.io/crossreg/crossreg:"), ("gpu", "ghcr.io/crossreg/crossreg-gpu:")):
        named = set(IMAGE.findall((CONTAINERS / kind / "Dockerfile").read_text()))
        assert named == {image + PROJECT["version"]}, f"{kind}/Dockerfile says it builds {named}"


def test_build_script_is_valid_bash():
    script = ROOT / "scripts" / "build_container.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text()
    assert "containers/cpu/Dockerfile" in text and "--build-arg \"BASE=" in text
    assert "PASS" in text and "FAIL" in text
