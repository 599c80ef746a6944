"""A 2-rank job in which rank 1 fails while rank 0 waits in a collective (``failing.py MODE``):
raise (an uncaught exception), exit (os._exit(3)), kill (SIGKILL), mismatch (debug mode, rank 1 calls
another collective). The job must end within seconds, naming rank 1; rank 0 must never finish."""

import os
import signal
import sys
import time

import ember
import ember.distributed as dist

mode = sys.argv[1]
dist.init_process_group("mpi")
rank = dist.get_rank()
dist.barrier()
if rank == 1:
    time.sleep(0.3)  # let rank 0 enter its all_reduce first
    if mode == "raise":
        raise ValueError("rank 1 cannot go on: bad batch")
    if mode == "exit":
        os._exit(3)
    if mode == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "mismatch":
        dist.broadcast(ember.zeros(3), src=0)
dist.all_reduce(ember.ones(3))
dist.all_reduce(ember.ones(3))
print(f"rank {rank} finished", flush=True)
