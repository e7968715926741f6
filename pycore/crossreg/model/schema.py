"""Key specifications and value checks shared by the params sections and the block registry.

A section of a params file (``model``, ``train``, one trunk block, one head) is described by
a mapping ``key -> Key``. :func:`check_section` rejects unknown keys (naming the key, where it
is and the known keys), checks every value's type and range, and fills defaults, so the
result is *resolved*: every key present, every value normalised (floats as ``float``).

Nothing here imports Keras: params can be read and checked without a deep-learning backend.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from crossreg.errors import InputError


class _Required:
    """Sentinel: the key has no default and must be given."""

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return "REQUIRED"


REQUIRED: Any = _Required()

#: Activation names accepted anywhere an activation is configured (see ``blocks.activation``).
ACTIVATIONS = ("linear", "relu", "gelu", "softplus", "sigmoid", "tanh", "exp")
#: Normalisations accepted by conv blocks (``None`` = no normalisation, convs then carry a bias).
NORM_TYPES = (None, "batch", "layer")
#: Kernel initialisers accepted (Keras names).
INITIALIZERS = ("he_normal", "he_uniform", "glorot_normal", "glorot_uniform", "lecun_normal")


def fail(source: str, where: str, message: str) -> InputError:
    """Build the :class:`InputError` for a bad params value.

    Args:
        source: the params file (or a description of where the params came from).
        where: dotted path of the offending key, e.g. ``model.trunk[2].rate_mult``.
        message: what is wrong and what was expected.

    Returns:
        The error (the caller raises it).
    """
    return InputError(f"{source}: {where}: {message}")


@dataclass(frozen=True)
class Key:
    """Specification of one params key.

    Attributes:
        kind: ``"int"``, ``"number"`` (int or float, stored as float), ``"bool"``, ``"str"``,
            ``"cropping"`` (int >= 0 or a pair of them) or ``"any"``.
        doc: one line saying what the key does (shown by the documentation helpers).
        default: default value, or :data:`REQUIRED`.
        choices: allowed values (for ``"str"`` keys, may include ``None`` when nullable).
        minimum: smallest allowed value (numbers).
        maximum: largest allowed value (numbers).
        exclusive_min: ``minimum`` itself is not allowed.
        exclusive_max: ``maximum`` itself is not allowed.
        nullable: ``null`` is a valid value.
        inherit: name of the ``model``-section key whose resolved value is the default
            (e.g. a block's ``activation`` defaults to ``model.activation``).
    """

    kind: str
    doc: str
    default: Any = REQUIRED
    choices: tuple | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_min: bool = False
    exclusive_max: bool = False
    nullable: bool = False
    inherit: str | None = None

    def check(self, value: Any, source: str, where: str) -> Any:
        """Validate and normalise one value.

        Args:
            value: the value read from JSON.
            source: params file, for the error message.
            where: dotted key path, for the error message.

        Returns:
            The normalised value.

        Raises:
            InputError: wrong type, out of range or not one of the choices.
        """
        if value is None:
            if self.nullable:
                return None
            raise fail(source, where, f"null is not allowed; expected {self._expected()}")
        kind = self.kind
        if kind == "any":
            return value
        if kind == "bool":
            if not isinstance(value, bool):
                raise fail(source, where, f"expected true or false, got {value!r}")
            return value
        if kind == "str":
            if not isinstance(value, str):
                raise fail(source, where, f"expected {self._expected()}, got {value!r}")
            if self.choices is not None and value not in self.choices:
                raise fail(source, where, f"unknown value {value!r}; expected {self._expected()}")
            return value
        if kind == "cropping":
            return self._check_cropping(value, source, where)
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                else:
                    raise fail(source, where, f"expected an integer, got {value!r}")
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise fail(source, where, f"expected a number, got {value!r}")
            value = float(value)
            if not math.isfinite(value):
                raise fail(source, where, f"expected a finite number, got {value!r}")
        else:  # pragma: no cover - programming error in a spec
            raise ValueError(f"unknown key kind {kind!r}")
        self._check_range(value, source, where)
        return value

    def _check_range(self, value: float, source: str, where: str) -> None:
        lo, hi = self.minimum, self.maximum
        bad_lo = lo is not None and (value < lo or (self.exclusive_min and value == lo))
        bad_hi = hi is not None and (value > hi or (self.exclusive_max and value == hi))
        if bad_lo or bad_hi:
            raise fail(source, where, f"{value!r} is out of range; expected {self._range_text()}")

    def _check_cropping(self, value: Any, source: str, where: str) -> int | list[int]:
        ok_int = lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0  # noqa: E731
        if ok_int(value):
            return value
        if isinstance(value, list) and len(value) == 2 and all(ok_int(v) for v in value):
            return list(value)
        raise fail(source, where, f"expected an integer >= 0 or a pair [left, right] of them, got {value!r}")

    def _range_text(self) -> str:
        parts = []
        if self.minimum is not None:
            parts.append(f"{'>' if self.exclusive_min else '>='} {self.minimum:g}")
        if self.maximum is not None:
            parts.append(f"{'<' if self.exclusive_max else '<='} {self.maximum:g}")
        noun = "an integer" if self.kind == "int" else "a number"
        return f"{noun} {' and '.join(parts)}" if parts else noun

    def _expected(self) -> str:
        if self.choices is not None:
            shown = ", ".join("null" if c is None else repr(c) for c in self.choices)
            return f"one of {shown}"
        if self.kind in ("int", "number"):
            return self._range_text()
        return {"bool": "true or false", "str": "a string", "cropping": "an integer or a pair"}.get(self.kind, self.kind)


def unknown_key_error(
    source: str, where: str, key: str, known: list[str], what: str = "unknown key", known_label: str = "known keys"
) -> InputError:
    """Error for a key (or block name) not in ``known``, with a close-match suggestion.

    Args:
        source: params file.
        where: dotted path of the offending key.
        key: the unknown name.
        known: the accepted names.
        what: the noun phrase, e.g. ``"unknown key"`` or ``"unknown trunk block 'conv_towr'"``.
        known_label: how the list of accepted names is introduced.

    Returns:
        The error (the caller raises it).
    """
    hint = difflib.get_close_matches(key, known, n=1)
    suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
    return fail(source, where, f"{what}{suggestion}; {known_label}: {', '.join(sorted(known))}")


def check_section(
    raw: Any,
    keys: Mapping[str, Key],
    source: str,
    where: str,
    inherited: Mapping[str, Any] | None = None,
    extra_check: Callable[[dict, str, str], None] | None = None,
) -> dict:
    """Validate one JSON object against its key specification and fill every default.

    Args:
        raw: the object read from JSON.
        keys: the specification, ``key -> Key``; the output keeps this order.
        source: params file, for error messages.
        where: dotted path of the object, e.g. ``model.trunk[2]``.
        inherited: resolved ``model``-section values for keys with ``Key.inherit``.
        extra_check: called as ``extra_check(resolved, source, where)`` for cross-key rules.

    Returns:
        The resolved object: every key of ``keys``, values normalised.

    Raises:
        InputError: not an object, an unknown key, a missing required key or a bad value.
    """
    if not isinstance(raw, Mapping):
        raise fail(source, where, f"expected a JSON object, got {type(raw).__name__}")
    for key in raw:
        if key not in keys:
            raise unknown_key_error(source, f"{where}.{key}", key, list(keys))
    out: dict = {}
    for key, spec in keys.items():
        path = f"{where}.{key}"
        if key in raw:
            out[key] = spec.check(raw[key], source, path)
        elif spec.inherit is not None and inherited is not None and spec.inherit in inherited:
            out[key] = inherited[spec.inherit]
        elif spec.default is REQUIRED:
            raise fail(source, path, f"missing required key ({spec.doc})")
        else:
            out[key] = spec.default
    if extra_check is not None:
        extra_check(out, source, where)
    return out


def keys_doc(keys: Mapping[str, Key]) -> str:
    """A plain-text table of a key specification (key, type, default, meaning).

    Args:
        keys: the specification.

    Returns:
        One line per key.
    """
    lines = []
    for key, spec in keys.items():
        if spec.default is REQUIRED:
            default = "required"
        elif spec.inherit is not None:
            default = f"model.{spec.inherit}"
        else:
            default = "null" if spec.default is None else repr(spec.default)
        lines.append(f"{key:<18} {spec.kind:<8} {default:<16} {spec.doc}")
    return "\n".join(lines)
