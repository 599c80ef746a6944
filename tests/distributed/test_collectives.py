"""ember.distributed's collectives on a real 3-rank MPI job, one test per behaviour (one job for all)."""

import pytest

from mpi_jobs import assert_check, run_worker

CHECKS = [
    "rank_and_world_size_come_from_mpirun", "init_twice_raises", "all_reduce_ops",
    "all_reduce_is_in_place_and_zero_copy", "all_reduce_non_contiguous_and_integer_and_bool",
    "avg_of_integers_is_a_type_error", "broadcast_from_rank_2", "reduce_to_rank_1", "all_gather_and_into_tensor",
    "gather_and_scatter", "send_recv_ring", "async_op_returns_work", "object_collectives",
    "new_group_of_ranks_0_and_2", "barrier", "debug_mode_names_the_mismatched_op_and_ranks",
    "debug_mode_names_mismatched_shapes", "debug_mode_passes_matching_collectives", "destroy_process_group",
]


@pytest.fixture(scope="module")
def results(mpirun):
    return run_worker(mpirun, "collectives", n=3)


@pytest.mark.parametrize("check", CHECKS)
def test_collective(results, check):
    assert_check(results, check, n=3)


def test_every_check_of_the_worker_is_asserted(results):
    assert sorted(results) == sorted(CHECKS)
