"""DistributedDataParallel on a real 2-rank MPI job: each rank's gradients equal one process's on the
whole batch. One job runs every check; one test per behaviour."""

import pytest
from mpi_jobs import assert_check, run_worker

CHECKS = [
    "construction_broadcasts_rank_0_parameters_and_buffers",
    "gradients_are_the_average_over_ranks_in_several_buckets", "a_bucket_starts_before_backward_ends",
    "training_steps_match_one_process_with_the_whole_batch", "no_sync_accumulates_locally_then_averages_everything",
    "find_unused_parameters", "unused_parameter_without_find_unused_raises_at_next_forward",
    "gradient_as_bucket_view", "eval_forward_under_no_grad_does_not_reduce",
    "different_models_on_the_ranks_are_an_error", "module_and_state_dict_keys",
]


@pytest.fixture(scope="module")
def results(mpirun):
    return run_worker(mpirun, "ddp", n=2)


@pytest.mark.parametrize("check", CHECKS)
def test_ddp(results, check):
    assert_check(results, check, n=2)


def test_every_check_of_the_worker_is_asserted(results):
    assert sorted(results) == sorted(CHECKS)
