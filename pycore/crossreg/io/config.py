"""Configuration files (params, overrides): JSON or YAML, read into a mapping with clear errors."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

from crossreg.errors import InputError


def read_config_file(path: str | os.PathLike, what: str = "params file") -> dict[str, Any]:
    """Read a JSON (``.json``) or YAML (any other suffix) file whose top level is a mapping.

    Args:
        path: the file.
        what: how messages name the file's role.

    Returns:
        The decoded mapping (empty for an empty YAML file).

    Raises:
        InputError: unreadable file, invalid JSON/YAML (with the line), or a top level that is
            not a mapping.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"{path}: cannot read {what} ({exc.strerror or exc})") from None
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    else:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InputError(f"{path}: not valid YAML ({exc})") from None
        if data is None:
            data = {}
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping at the top level of the {what}, got {type(data).__name__}")
    return data
