"""The core works with no plugin but the CPU device: a primitive defined outside ember records, and the
engine sums gradients where paths meet, reduces broadcasts, and builds graphs for higher orders, all by
itself. Each test runs a script in a fresh interpreter with every other plugin disabled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points

PRIMITIVE = """
import json
import numpy as np
import ember
from ember.primitive import Primitive, apply


class Mul(Primitive):
    \"\"\"a * b, broadcasting; its backward is written with itself, so it has every order.\"\"\"

    save_inputs = True

    @staticmethod
    def forward(xp, a, b):
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.inputs
        return apply(Mul, grad, b), apply(Mul, grad, a)


def as_list(t):
    return t.detach().numpy().tolist()
"""


def run_alone(body: str) -> dict:
    """Run PRIMITIVE + ``body`` with every ember plugin but ``cpu`` disabled; the JSON it prints."""
    disabled = sorted({ep.name for ep in entry_points(group="ember.plugins")} - {"cpu"})
    env = dict(os.environ, EMBER_DISABLE_PLUGINS=",".join(disabled), EMBER_PLUGINS_STRICT="1")
    script = PRIMITIVE + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_only_the_cpu_plugin_is_loaded():
    found = run_alone("""
        print(json.dumps({"relu": hasattr(ember, "relu"), "add": hasattr(ember.Tensor, "__add__")}))
    """)
    assert found == {"relu": False, "add": False}


LEAF_TWO_PATHS = """
    x0 = np.array([[0.5, -1.0, 2.0]], dtype=np.float32)                 # (1, 3), broadcast against (4, 3)
    y0 = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    x = ember.from_numpy(x0.copy()).requires_grad_()
    y = ember.from_numpy(y0.copy())
    loss = apply(Mul, apply(Mul, x, y), x)                              # x reaches the loss by two paths
"""


def test_a_broadcast_leaf_reached_by_two_paths_gets_the_summed_gradient():
    x0 = [[0.5, -1.0, 2.0]]
    y0 = [[i / 10 for i in range(3 * r, 3 * r + 3)] for r in range(4)]
    found = run_alone(LEAF_TWO_PATHS + """
    loss.backward(ember.from_numpy(np.ones((4, 3), np.float32)))
    print(json.dumps({"grad": as_list(x.grad), "shape": list(x.grad.shape)}))
    """)
    import numpy as np
    x, y = np.array(x0, np.float32), np.array(y0, np.float32)
    expected = (2 * x * y).sum(axis=0, keepdims=True)                   # d/dx sum(x * y * x)
    assert found["shape"] == [1, 3]
    np.testing.assert_allclose(found["grad"], expected, rtol=1e-6)


def test_create_graph_records_the_engine_sums_so_a_second_backward_works():
    found = run_alone(LEAF_TWO_PATHS + """
    loss.backward(ember.from_numpy(np.ones((4, 3), np.float32)), create_graph=True)
    first = x.grad
    x.grad = None
    first.backward(ember.from_numpy(np.ones((1, 3), np.float32)))
    print(json.dumps({"first": as_list(first), "first_has_graph": first.grad_fn is not None,
                      "second": as_list(x.grad)}))
    """)
    import numpy as np
    x = np.array([[0.5, -1.0, 2.0]], np.float32)
    y = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    assert found["first_has_graph"]
    np.testing.assert_allclose(found["first"], (2 * x * y).sum(axis=0, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(found["second"], (2 * y).sum(axis=0, keepdims=True), rtol=1e-6)


def test_transposes_and_optimizer_state_need_no_ops_plugin():
    found = run_alone("""
    from ember.optim import Optimizer
    m = ember.from_numpy(np.arange(6, dtype=np.float32).reshape(2, 3)).requires_grad_()
    t = m.T
    loss = apply(Mul, t, ember.from_numpy(np.arange(6, dtype=np.float32).reshape(3, 2)))
    loss.backward(ember.from_numpy(np.ones((3, 2), np.float32)))

    class Plain(Optimizer):
        def __init__(self, params):
            super().__init__(params, {})

        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    self.state[p]["buffer"] = self._zeros(p, 1.0)

    opt = Plain([m])
    opt.step()
    saved = opt.state_dict()
    opt.load_state_dict(saved)
    print(json.dumps({"T": list(t.shape), "mT": list(m.mT.shape), "grad_fn": repr(t.grad_fn),
                      "grad": as_list(m.grad), "buffer": as_list(saved["state"][0]["buffer"])}))
    """)
    assert found["T"] == [3, 2] and found["mT"] == [3, 2] and found["grad_fn"] == "<PermuteBackward0>"
    assert found["grad"] == [[0.0, 2.0, 4.0], [1.0, 3.0, 5.0]]
    assert found["buffer"] == [[1.0] * 3] * 2
