"""The fuzz worker: one long-lived subprocess that runs cases, and the client that drives it.

A case is ``(callable name, argument name, mutation name, seed)``: plain strings and an int, never a function,
so that it pickles (``python -m tests.fuzz._worker NAME ARG MUTATION [SEED]`` runs one in the foreground, the
reproducer of a failure). The worker (``python -m tests.fuzz._worker``) reads batches of cases from stdin and writes
one outcome record per case to its original stdout (the library's own prints go to stderr). The client
(:class:`Worker`) restarts it when it dies (a crash) or when a case runs past the timeout (a hang), and goes
on with the rest of the batch.

An outcome record is a dict: ``status`` (``"pass"`` or ``"fail"``), ``category`` (``crash``, ``hang``,
``accepted-invalid``, ``wrong-error``, ``error-unnamed``, ``refused-valid``, ``silent-wrong``,
``not-same-bits``, ``dtype``, ``non-finite``, ``input-modified``, ``harness``) and ``detail``.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import select
import struct
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
_HEADER = struct.Struct("<Q")
# what the worker writes once its imports are done: start-up is not counted against a case's timeout
_READY = b"ready\n"
# seconds a worker may take to start (import the library and its registry) on a loaded machine
_START_TIMEOUT = 300.0
# mutations whose outcome is free (accept or refuse cleanly) for an argument marked lenient
LENIENT = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32",
           "complex64", "complex128")


# --------------------------------------------------------------------------- evaluation (in the worker)

def _as_array(v):
    if hasattr(v, "toarray"):
        v = v.toarray()
    return np.asarray(v)


def _fingerprint(value):
    if hasattr(value, "tocoo") and hasattr(value, "nnz"):  # sparse: the stored numbers, not scipy's cached flags
        parts = [getattr(value, a, None) for a in ("data", "indices", "indptr", "row", "col", "offsets")]
        return hashlib.sha1(b"".join(np.ascontiguousarray(p).tobytes() for p in parts if p is not None)
                            + repr((value.format, value.shape)).encode()).hexdigest() if value.format != "dok" \
            else hashlib.sha1(pickle.dumps(sorted(value.items()))).hexdigest()
    try:
        return hashlib.sha1(pickle.dumps(value, protocol=4)).hexdigest()
    except Exception:
        return None


def _summarize(spec, result):
    return {key: _as_array(v) for key, v in spec.summary(result).items()}


def _names_arg(exc, arg):
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(arg)}(?![A-Za-z0-9_])", str(exc)) is not None


def _short(exc):
    return f"{type(exc).__name__}: {str(exc)[:160]}"


def _rel_err(a, b):
    if a.shape != b.shape:
        return np.inf
    if a.size == 0:
        return 0.0
    a = a.astype(np.complex128 if np.iscomplexobj(a) or np.iscomplexobj(b) else np.float64)
    b = b.astype(a.dtype)
    den = np.linalg.norm(b)
    num = np.linalg.norm(a - b)
    return float(num / den) if den > 0 else float(num)


def _unscale(y, c, degree):
    y = y.astype(np.complex128 if np.iscomplexobj(y) else np.float64)
    whole = int(degree)
    for _ in range(abs(whole)):
        y = y / c if whole > 0 else y * c
    frac = degree - whole
    return y / c ** frac if frac else y


def _finite(summary):
    for key, v in summary.items():
        if v.dtype.kind in "fc" and not np.all(np.isfinite(v)):
            return key
    return None


def _compare(spec, got, ref, rtol, exact):
    """None when `got` agrees with `ref` on every output, else a description of the worst mismatch."""
    bad = []
    for key, r in ref.items():
        g = got.get(key)
        if g is None or g.shape != r.shape:
            bad.append(f"{key}: shape {None if g is None else g.shape} != {r.shape}")
        elif exact and (g.dtype != r.dtype or g.tobytes() != r.tobytes()):
            bad.append(f"{key}: not the same bits (rel. diff {_rel_err(g, r):.1e})")
        elif not exact and _rel_err(g, r) > rtol:
            bad.append(f"{key}: rel. diff {_rel_err(g, r):.1e} > {rtol:.0e}")
    return "; ".join(bad) or None


class _Answers:
    """Cache of reference answers, keyed by (callable, seed, argument, mutation of the reference input)."""

    def __init__(self):
        self._cache = {}

    def get(self, spec, inputs, key):
        if key not in self._cache:
            try:
                self._cache[key] = (_summarize(spec, spec.call(inputs)), None)
            except Exception as exc:  # the reference itself refused: the mutated call must refuse alike
                self._cache[key] = (None, exc)
        return self._cache[key]


ANSWERS = _Answers()


def evaluate(name, arg, mutation, seed):
    """Run one case in this process and judge its outcome (see the module docstring)."""
    from ._mutations import MALFORMED, mutate
    from ._registry import REGISTRY

    spec = REGISTRY[name]
    a = spec.arg(arg)
    base = spec.base(seed)
    out = mutate(mutation, np.asarray(base[arg]), allow_complex=a.complex, empty_cols_ok=a.empty_cols_ok)
    inputs = dict(base)
    inputs[arg] = out.value
    if out.expect == "scale":  # the joint partners are scaled with the mutated argument
        inputs.update({k: np.asarray(base[k]) * out.scale for k in spec.joint if k != arg})
    before = {k: _fingerprint(v) for k, v in inputs.items()}
    exc = result = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = _summarize(spec, spec.call(inputs))
        except Exception as e:  # judged below
            exc = e
        changed = [k for k, v in inputs.items() if before[k] is not None and _fingerprint(v) != before[k]]
        record = _judge(spec, a, out, base, mutation, seed, result, exc) if not changed else _fail(
            "input-modified", f"{', '.join(changed)} changed by the call")
    if record["category"] == "accepted-invalid" and mutation in MALFORMED:
        record["tainted"] = True  # the call may have read or written out of bounds
    return record


def _fail(category, detail):
    return {"status": "fail", "category": category, "detail": detail}


_PASS = {"status": "pass", "category": "", "detail": ""}


def _refusal(exc, arg, error):
    """Judge an exception raised for an invalid input."""
    if not isinstance(exc, (ValueError, TypeError)):
        return _fail("wrong-error", f"{_short(exc)} (want ValueError/TypeError naming {arg!r})")
    if error is not None and not isinstance(exc, {"ValueError": ValueError, "TypeError": TypeError}[error]):
        return _fail("wrong-error", f"{_short(exc)} (want {error} naming {arg!r})")
    if not _names_arg(exc, arg):
        return _fail("error-unnamed", f"{_short(exc)} (message does not name {arg!r})")
    return _PASS


def _judge(spec, a, out, base, mutation, seed, result, exc):  # noqa: C901 (one branch per expectation)
    expect = out.expect
    if a.lenient and (mutation in LENIENT or mutation.startswith("scale")):
        return _PASS if exc is None else _refusal(exc, a.name, None)
    if expect == "sparse" and not a.sparse:
        expect, out.error = "refuse", "TypeError"
    if expect == "complex":
        if out.error is not None:
            expect = "refuse"
        else:
            if exc is not None:
                return _fail("refused-valid", f"complex input refused: {_short(exc)}")
            bad = _finite(result)
            return _fail("non-finite", f"output {bad} not finite") if bad else _PASS
    if expect == "refuse":
        if exc is None:
            return _fail("accepted-invalid", "returned a result")
        return _refusal(exc, a.name, None if a.lenient else out.error)
    if expect == "empty":  # columns pass through: each output is the base one with no columns
        if exc is not None:
            return _fail("refused-valid" if isinstance(exc, (ValueError, TypeError)) else "exception", _short(exc))
        ref, ref_exc = ANSWERS.get(spec, base, (spec.name, seed))
        if ref is None:
            return _fail("harness", f"base call failed: {_short(ref_exc)}")
        diff = _compare(spec, result, {k: np.zeros(v.shape[:-1] + (0,)) for k, v in ref.items()}, 0.0, False)
        return _fail("silent-wrong", diff) if diff else _PASS
    if expect == "scale":
        if exc is not None:
            if isinstance(exc, ValueError):
                return _PASS
            return _fail("wrong-error" if not isinstance(exc, TypeError) else "refused-valid", _short(exc))
        ref, ref_exc = ANSWERS.get(spec, base, (spec.name, seed))
        if ref is None:
            return _fail("harness", f"base call failed: {_short(ref_exc)}")
        bad = []
        for key, degree in a.scale.items():
            r, g = ref[key], result.get(key)
            mag = np.log10(max(np.linalg.norm(r.astype(np.complex128)), 1e-300)) + degree * np.log10(out.scale)
            if not -320 < mag < 307:  # the scaled answer itself is not representable
                continue
            if g is None or g.shape != r.shape:
                bad.append(f"{key}: shape {None if g is None else g.shape} != {r.shape}")
                continue
            if g.dtype.kind in "fc" and not np.all(np.isfinite(g)):
                bad.append(f"{key}: not finite")
                continue
            err = _rel_err(_unscale(g, out.scale, degree), r)
            if not err <= spec.scale_rtol:
                bad.append(f"{key}: f(cA) != c^{degree} f(A), rel. diff {err:.1e}")
        return _fail("silent-wrong", "; ".join(bad)) if bad else _PASS
    # expect in ("same", "close", "sparse"): a valid input, to be accepted and agree with the reference answer
    if out.reference is None:
        ref, ref_exc = ANSWERS.get(spec, base, (spec.name, seed))
    else:
        ref_inputs = dict(base)
        ref_inputs[a.name] = out.reference
        ref, ref_exc = ANSWERS.get(spec, ref_inputs, (spec.name, seed, a.name, mutation))
    if ref is None and exc is not None and type(exc) is type(ref_exc):
        return _PASS  # these numbers are refused whatever their spelling (a bool matrix that is not SPD, ...)
    if exc is not None:
        return _fail("refused-valid" if isinstance(exc, (ValueError, TypeError)) else "exception", _short(exc))
    if ref is None:
        return _fail("accepted-invalid", f"the ndarray reference raised {_short(ref_exc)}, this input did not")
    bad = _finite(result)
    if bad and _finite(ref) != bad:
        return _fail("non-finite", f"output {bad} not finite")
    if out.dtype is not None and spec.keep_dtype and len(spec.args) == 1:  # other float64 inputs may promote
        wrong = [f"{k}: {v.dtype}" for k, v in result.items()
                 if v.ndim and v.dtype.kind == "f" and v.dtype != out.dtype]
        if wrong:
            return _fail("dtype", f"want {out.dtype}, got {', '.join(wrong)}")
    exact = expect == "same"
    if mutation in ("float16", "float32"):  # a change of precision may change discrete choices (indices, ranks)
        ref = {k: v for k, v in ref.items() if v.dtype.kind == "f" and k not in spec.discrete}
    rtol = max(out.rtol, spec.rtol32 if mutation in ("float16", "float32") else spec.rtol)
    diff = _compare(spec, result, ref, 0.0 if exact else rtol, exact)
    if diff:
        return _fail("not-same-bits" if exact else "silent-wrong", diff)
    return _PASS


def _serve():
    """The worker loop: batches of cases in on stdin, one outcome record per case out."""
    import faulthandler

    faulthandler.enable()
    proto = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything the library prints goes to stderr, not into the protocol
    from . import _mutations, _registry  # noqa: F401  (the imports, the library's included, before "ready")

    proto.write(_READY)
    proto.flush()
    stdin = sys.stdin.buffer
    while True:
        head = stdin.read(_HEADER.size)
        if len(head) < _HEADER.size:
            return
        cases = pickle.loads(stdin.read(_HEADER.unpack(head)[0]))
        for case in cases:
            start = time.perf_counter()
            try:
                record = evaluate(*case)
            except Exception as exc:  # a bug of the harness or of a registry entry: report, do not die
                record = _fail("harness", _short(exc))
            record["seconds"] = time.perf_counter() - start
            payload = pickle.dumps(record)
            proto.write(_HEADER.pack(len(payload)) + payload)
            proto.flush()
            if record.get("tainted"):
                return  # a malformed input was accepted: memory may be corrupt, start afresh


# --------------------------------------------------------------------------- the client (in pytest)

class Worker:
    """A long-lived worker subprocess, restarted after a crash or a hang.

    Parameters
    ----------
    timeout : float
        Seconds one case may run before it is recorded as a hang and the worker is restarted.
    """

    def __init__(self, timeout: float = 20.0):
        self.timeout = timeout
        self.restarts = 0
        self._proc = None
        self._log = None

    def _start(self):
        env = dict(os.environ, NUMBA_NUM_THREADS="2", PYTHONFAULTHANDLER="1")
        self._log = tempfile.TemporaryFile()
        self._proc = subprocess.Popen([sys.executable, "-m", "tests.fuzz._worker"], cwd=ROOT, env=env,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log)
        ready, problem = self._read(len(_READY), timeout=max(_START_TIMEOUT, self.timeout))
        if ready != _READY:
            detail = "no answer" if problem == "hang" else f"exit {self._proc.wait()}: {self._tail()}"
            self.close()
            raise RuntimeError(f"the fuzz worker did not start ({detail})")

    def close(self):
        """Stop the worker process."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None
            self._log.close()

    def _tail(self):
        """The fatal error and the innermost frames faulthandler wrote for the case that killed the worker."""
        self._log.seek(0)
        text = self._log.read().decode(errors="replace")
        text = text[text.rfind("Fatal Python error"):] if "Fatal Python error" in text else text[-2000:]
        lines = [ln.strip() for ln in text.splitlines()]
        frames = [ln for ln in lines if ln.startswith("File ")][:4]
        return " | ".join(lines[:1] + frames)

    def _read(self, n, timeout=None):
        data = b""
        fd = self._proc.stdout.fileno()
        while len(data) < n:
            ready, _, _ = select.select([fd], [], [], self.timeout if timeout is None else timeout)
            if not ready:
                return None, "hang"
            chunk = os.read(fd, n - len(data))
            if not chunk:
                return None, "crash"
            data += chunk
        return data, None

    def run(self, cases):
        """Outcome records for `cases` (tuples ``(name, arg, mutation, seed)``), in order."""
        records = []
        pending = list(cases)
        while pending:
            if self._proc is None or self._proc.poll() is not None:
                self.close()
                self._start()
            payload = pickle.dumps(pending)
            self._proc.stdin.write(_HEADER.pack(len(payload)) + payload)
            self._proc.stdin.flush()
            done = 0
            for _ in pending:
                head, problem = self._read(_HEADER.size)
                if problem is None:
                    body, problem = self._read(_HEADER.unpack(head)[0])
                if problem is not None:
                    if problem == "hang":
                        detail = f"no answer within {self.timeout:.0f} s"
                    else:
                        detail = f"worker died (exit {self._proc.wait()}): {self._tail()}"
                    records.append(_fail(problem, detail))
                    done += 1
                    self.close()
                    self.restarts += 1
                    break
                records.append(pickle.loads(body))
                done += 1
                if records[-1].get("tainted"):
                    self.close()
                    break
            pending = pending[done:]
        return records


if __name__ == "__main__":
    if len(sys.argv) > 1:  # a reproducer: python -m tests.fuzz._worker NAME ARG MUTATION [SEED]
        name, arg, mutation, *seed = sys.argv[1:]
        print(evaluate(name, arg, mutation, int(seed[0]) if seed else 0))
    else:
        _serve()
