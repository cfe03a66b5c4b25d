"""With scikit-learn's ``array_api_dispatch=True``, array-api-strict input runs through the estimators and comes back
as array-api-strict arrays. scikit-learn needs ``SCIPY_ARRAY_API=1`` before scipy is first imported, so the checks
run in a fresh interpreter."""

import os
import subprocess
import sys
import textwrap

CODE = textwrap.dedent("""
    import array_api_strict as xp
    import numpy as np
    import sklearn
    from sklearn.utils.estimator_checks import check_array_api_input
    from lowrank_la.sklearn import (CountSketchProjection, FJLTProjection, RandomizedTruncatedSVD,
                                    SparseSignProjection, SRHTProjection)

    X = np.random.default_rng(0).standard_normal((60, 32))
    X[:, :4] *= 10
    Xs = xp.asarray(X)
    estimators = [RandomizedTruncatedSVD(4, random_state=0), RandomizedTruncatedSVD(4, center=True, random_state=0),
                  RandomizedTruncatedSVD(0.5, random_state=0), FJLTProjection(8, random_state=0),
                  SRHTProjection(8, random_state=0), SparseSignProjection(8, random_state=0),
                  CountSketchProjection(8, random_state=0)]
    for est in estimators:
        with sklearn.config_context(array_api_dispatch=True):
            strict = sklearn.clone(est).fit(Xs)
            Y = strict.transform(Xs)
            back = strict.inverse_transform(Y)
            Z = sklearn.clone(est).fit_transform(Xs)
        for out in (Y, back, Z):
            assert type(out).__module__.startswith("array_api_strict"), (est, type(out))
        ref = sklearn.clone(est).fit(X)
        np.testing.assert_allclose(np.abs(np.asarray(Y)), np.abs(ref.transform(X)), atol=1e-8)
        np.testing.assert_allclose(np.asarray(back), ref.inverse_transform(ref.transform(X)), atol=1e-8)
        # scikit-learn's own array-API check, on array-api-strict's CPU device and on a device NumPy cannot read
        for device in ("CPU_DEVICE", "device1"):
            check_array_api_input(type(est).__name__, est, "array_api_strict", device_name=device)
        print(type(est).__name__, "ok")
""")


def test_array_api_strict_in_and_out():
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    run = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.count("ok") == 7
