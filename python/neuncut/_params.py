"""Keyword arguments generated from the C++ parameter tables (never written by hand).

Each estimator's ``__init__`` is built at import time from ``_core.param_table(method)``, the
same table the CLI turns into ``--flags``, so names, defaults and docs cannot drift apart.
Only two things are Python's own: ``seed`` is called ``random_state`` (scikit-learn's name)
and a few Python-only arguments (``callback``, ``verbose``) are appended.
"""
from __future__ import annotations

import numbers
import warnings

import numpy as np

from . import _core

#: Table type -> the type a numpydoc "Parameters" entry names.
_NUMPYDOC_TYPES = {"widths": "tuple of int"}

#: C++ name -> Python keyword, where scikit-learn has a conventional name.
RENAMES = {"seed": "random_state"}
_MAX_SEED = 2**63 - 1


def table(method):
    """The parameter table of ``method`` with Python names and typed defaults."""
    rows = []
    for row in _core.param_table(method):
        row = dict(row)
        row["cpp_name"] = row["name"]
        row["name"] = RENAMES.get(row["name"], row["name"])
        row["default"] = from_text(row["type"], row["default"])
        rows.append(row)
    return rows


def from_text(kind, text):
    """Python value of a table entry's text (as the C++ side formats it)."""
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    if kind == "bool":
        return text == "true"
    if kind == "widths":
        return () if text in ("", "none") else tuple(int(w) for w in text.split(","))
    return text


def to_text(kind, name, value):
    """Text the C++ table parses for a Python value (the C++ parser reports bad values)."""
    if name == "random_state":
        return str(seed_of(value))
    if kind == "bool" and isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if kind == "widths":
        if value is None or (not isinstance(value, str) and len(value) == 0):
            return "none"
        if isinstance(value, str):
            return value
        if isinstance(value, numbers.Integral):
            return str(int(value))
        return ",".join(str(int(w)) if isinstance(w, numbers.Integral) else str(w) for w in value)
    if name == "image_shape" and isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"image_shape must be (height, width) or 'HxW', got {value!r}")
        return f"{int(value[0])}x{int(value[1])}"
    if kind == "int" and isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if kind == "float" and isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return repr(float(value))
    return str(value)


def seed_of(random_state):
    """The C++ seed for a scikit-learn ``random_state``: an int is used as it is (so
    ``random_state=3`` is the CLI's ``--seed 3``); None or a RandomState draws one."""
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, (bool, np.bool_)):
        return int(random_state)
    if random_state is None or random_state is np.random:
        return int(np.random.mtrand._rand.randint(0, 2**31 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, _MAX_SEED))
    raise ValueError(f"random_state must be an int, None or a numpy RandomState/Generator, got {random_state!r}")


def core_params(estimator, method):
    """{C++ name: text} of an estimator's current parameters, for the _core constructors. A
    thread count above the hardware threads runs on the hardware threads (the core bounds it);
    this says so with a warning, as the CLI does."""
    threads = getattr(estimator, "threads", None)
    if isinstance(threads, (int, np.integer)) and not isinstance(threads, bool):
        message = _core.thread_bound_warning(min(int(threads), 2**31 - 1))
        if message:
            warnings.warn(f"{type(estimator).__name__}: {message}", UserWarning, stacklevel=4)
    out = {}
    for row in table(method):
        out[row["cpp_name"]] = to_text(row["type"], row["name"], getattr(estimator, row["name"]))
    return out


def python_params(method, texts):
    """Python keyword arguments from a {C++ name: text} dict (a loaded model's parameters)."""
    kinds = {row["cpp_name"]: row for row in table(method)}
    return {kinds[k]["name"]: from_text(kinds[k]["type"], v) for k, v in texts.items() if k in kinds}


def make_init(method, extra=()):
    """An ``__init__`` with one keyword per table entry (plus ``extra``: (name, default, doc[, hint])),
    storing each argument unchanged, as scikit-learn requires. Returns (function, doc lines)."""
    rows = table(method)
    names = [r["name"] for r in rows] + [e[0] for e in extra]
    defaults = {r["name"]: r["default"] for r in rows}
    defaults.update({e[0]: e[1] for e in extra})
    first, rest = names[0], names[1:]
    args = [f"{first}=_defaults[{first!r}]", "*"] + [f"{n}=_defaults[{n!r}]" for n in rest]
    body = "\n".join(f"    self.{n} = {n}" for n in names)
    source = f"def __init__(self, {', '.join(args)}):\n{body}\n"
    namespace = {"_defaults": defaults}
    exec(source, namespace)  # noqa: S102 - the source is built from the table's identifiers only
    init = namespace["__init__"]
    # Type hints from the same table (help() and IDEs show them with the defaults).
    hints = {"int": "int", "float": "float", "bool": "bool", "str": "str", "widths": "Tuple[int, ...]"}
    init.__annotations__ = {r["name"]: hints.get(r["type"], "Any") for r in rows}
    init.__annotations__.update({e[0]: (e[3] if len(e) > 3 else "Any") for e in extra})
    if "random_state" in init.__annotations__:
        init.__annotations__["random_state"] = "Union[int, numpy.random.RandomState, None]"
    init.__annotations__["return"] = "None"
    docs = []
    for r in rows:
        flag = f" (CLI --{r['flag']})"
        kind = "int, RandomState or None" if r["name"] == "random_state" else _NUMPYDOC_TYPES.get(r["type"], r["type"])
        docs.append(f"{r['name']} : {kind}, default={r['default']!r}\n"
                    f"    {r['doc']}{flag}")
    for name, default, doc, *_ in extra:
        docs.append(f"{name} : default={default!r}\n    {doc}")
    return init, docs
