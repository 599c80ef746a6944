"""What ember.distributed does in a process that has not started MPI: nothing of MPI is imported, errors
before init_process_group are PyTorch's, and a missing mpi4py is a clear error (no MPI job needed)."""

import subprocess
import sys

import pytest

import ember
import ember.distributed as dist


def test_import_ember_starts_no_mpi():
    code = "import sys, ember, ember.distributed, ember.nn.parallel; print('mpi4py.MPI' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


def test_mpi_is_a_registered_plugin_backend_with_gloo_as_alias():
    backends = ember.plugins.registries["process_group_backends"]
    assert backends["mpi"] is backends["gloo"]
    assert backends.entries["mpi"].owner == "mpi"
    assert dist.is_nccl_available() is False


def test_queries_before_init_raise_as_in_torch(torch):
    assert dist.is_initialized() is False
    for ours, theirs in [(dist.get_rank, torch.distributed.get_rank),
                         (dist.get_world_size, torch.distributed.get_world_size)]:
        with pytest.raises(ValueError) as expected:
            theirs()
        with pytest.raises(ValueError) as got:
            ours()
        assert str(got.value) == str(expected.value)


def test_collectives_before_init_raise():
    with pytest.raises(ValueError, match="init_process_group"):
        dist.all_reduce(ember.ones(2))


def test_unknown_backend_is_a_value_error_listing_the_registered_ones():
    with pytest.raises(ValueError, match="unknown backend 'nccl'.*gloo, mpi"):
        dist.init_process_group("nccl")


def test_missing_mpi4py_makes_mpi_unavailable_with_an_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    assert dist.is_available() is False and dist.is_mpi_available() is False
    with pytest.raises(RuntimeError, match=r"pip install 'ember\[distributed\]'"):
        dist.init_process_group("mpi")
    assert dist.is_initialized() is False


def test_reduce_op_names_match_torch(torch):
    for name in ("SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR"):
        assert getattr(dist.ReduceOp, name).name == name and hasattr(torch.distributed.ReduceOp, name)
