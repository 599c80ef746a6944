"""DistributedDataParallel: one model replica per process, gradients averaged across processes in backward.

At construction every replica takes rank 0's parameters and buffers. In backward, each parameter's
gradient is copied into a flat bucket as soon as autograd has accumulated it (a post-accumulate-grad
hook); a full bucket starts its non-blocking all-reduce at once, in bucket order (the same on every
rank, as MPI requires), so communication overlaps the rest of backward. When the last bucket has been
started, backward waits for all of them and writes the averaged gradients back into ``.grad``.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import numpy as np

from ...autograd import is_grad_enabled
from ...distributed.backend import RedOpType
from ...tensor import Tensor, wrap
from ..module import Module

__all__ = ["DistributedDataParallel"]

_DEFAULT_BUCKET_CAP_MB = 25
_DEFAULT_FIRST_BUCKET_BYTES = 1024 * 1024  # as PyTorch: a small first bucket starts communication early


class DistributedDataParallel(Module):
    """``torch.nn.parallel.DistributedDataParallel``: wrap ``module`` so that backward averages gradients
    over the processes of ``process_group`` (default: the world).

    ``bucket_cap_mb`` (default 25, with a first bucket of 1 MiB) or ``bucket_cap_mb_list`` (one cap per
    bucket) size the gradient buckets; ``find_unused_parameters=True`` lets some
    parameters go unused in a forward (they are found from the output's graph and reduced as zeros;
    a parameter unused on every rank keeps its ``.grad``); ``no_sync()`` accumulates gradients locally;
    ``forward_sync_buffers`` (default True; ``broadcast_buffers`` is its deprecated name, as in PyTorch 2.13)
    sends rank 0's buffers to all ranks before each training forward. ``batched_grad_copy`` is accepted
    and changes nothing (ember copies each gradient into its bucket as it arrives). The wrapped
    model is ``.module``; ``state_dict()`` keys carry the ``module.`` prefix, as in PyTorch (use
    ``ddp.module.state_dict()`` for the bare model's keys). ``device_ids`` must be None or name the
    parameters' single device. Raises RuntimeError when no parameter requires grad, and when the replicas'
    parameter shapes differ across ranks.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=None,
                 init_sync=True, process_group=None, bucket_cap_mb=None, find_unused_parameters=False,
                 check_reduction=False, gradient_as_bucket_view=False, static_graph=False,
                 delay_all_reduce_named_params=None, param_to_hook_all_reduce=None, mixed_precision=None,
                 device_mesh=None, skip_all_reduce_unused_params=False, bucket_cap_mb_list=None,
                 batched_grad_copy=False, forward_sync_buffers=None):
        super().__init__()
        from ...distributed.process_groups import resolve
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected an ember.nn.Module, got {type(module).__name__}")
        if mixed_precision is not None or device_mesh is not None:
            raise NotImplementedError("DistributedDataParallel: mixed_precision and device_mesh are not supported "
                                      "by ember")
        pg = resolve(process_group)
        if pg is None:
            raise RuntimeError("DistributedDataParallel: this rank is not a member of process_group")
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        _check_devices(module, params, device_ids, output_device)
        self.module = module
        self.process_group = pg
        self.device_ids = device_ids
        self.output_device = output_device
        self.dim = dim
        self.forward_sync_buffers, init_sync_buffers = _buffer_sync_flags(broadcast_buffers, forward_sync_buffers)
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.batched_grad_copy = batched_grad_copy
        caps, self.bucket_bytes_cap = _bucket_caps(bucket_cap_mb, bucket_cap_mb_list)
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        _verify_same_shapes(pg, module)
        if init_sync:
            _broadcast_coalesced(pg, list(module.parameters()) + (list(module.buffers()) if init_sync_buffers else []))
        self._reducer = _Reducer(params, pg, caps, self.bucket_bytes_cap, find_unused_parameters,
                                 gradient_as_bucket_view)

    @property
    def broadcast_buffers(self) -> bool:
        return self.forward_sync_buffers

    @broadcast_buffers.setter
    def broadcast_buffers(self, value: bool) -> None:
        self.forward_sync_buffers = value

    def forward(self, *inputs, **kwargs):
        sync = is_grad_enabled() and self.require_backward_grad_sync
        if sync:
            self._reducer.check_previous_finished()
        if self.require_forward_param_sync and self.forward_sync_buffers:
            buffers = list(self.module.buffers())
            if buffers and self.process_group.size() > 1:
                _broadcast_coalesced(self.process_group, buffers)
        output = self.module(*inputs, **kwargs)
        if sync:
            self.require_forward_param_sync = True
            self._reducer.prepare_for_backward(output if self.find_unused_parameters else None)
        else:
            self.require_forward_param_sync = False
            self._reducer.expect_hooks = False
        return output

    @contextmanager
    def no_sync(self):
        """Inside, backward accumulates gradients locally without communicating; the first backward after it
        averages the accumulated gradients (``DistributedDataParallel.no_sync``)."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def extra_repr(self) -> str:
        return ""


def _bucket_caps(bucket_cap_mb, bucket_cap_mb_list):
    """(per-bucket byte caps for the first buckets, byte cap of the rest), as PyTorch sizes its buckets."""
    caps = [int(mb * 2 ** 20) for mb in bucket_cap_mb_list or ()]
    if caps:
        return caps, max(caps)
    cap = int((_DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None else bucket_cap_mb) * 2 ** 20)
    return [_DEFAULT_FIRST_BUCKET_BYTES if bucket_cap_mb is None else cap], cap  # small first bucket by default


def _buffer_sync_flags(broadcast_buffers, forward_sync_buffers):
    """(sync buffers before forward, sync buffers at construction), with PyTorch 2.13's deprecation of
    ``broadcast_buffers`` in favour of ``forward_sync_buffers``."""
    if broadcast_buffers is not None:
        warnings.warn("`broadcast_buffers` is deprecated. Use `forward_sync_buffers` instead."
                      + (" Its value is ignored when `forward_sync_buffers` is provided."
                         if forward_sync_buffers is not None else
                         " Unlike `broadcast_buffers=False`, `forward_sync_buffers=False` still syncs buffers at "
                         "init."), FutureWarning, stacklevel=3)
    if forward_sync_buffers is not None:
        return forward_sync_buffers, True
    effective = True if broadcast_buffers is None else broadcast_buffers
    return effective, effective


def _check_devices(module, params, device_ids, output_device) -> None:
    types = {str(p.device) for p in params}
    if len(types) > 1:
        raise ValueError(f"DistributedDataParallel: the module's parameters are on several devices {sorted(types)}; "
                         f"ember's DDP wraps single-device modules")
    if device_ids is not None:
        wanted = {str(_device_name(d)) for d in device_ids}
        if len(device_ids) != 1 or wanted != types:
            raise ValueError(f"DistributedDataParallel device_ids and output_device arguments only work with "
                             f"single-device modules (the parameters' device), but got device_ids {device_ids}, "
                             f"output_device {output_device}, and module parameters {sorted(types)}. For CPU "
                             f"modules, pass device_ids=None")


def _device_name(d):
    from ...device import device
    return device(f"cuda:{d}") if isinstance(d, int) else device(d)


def _verify_same_shapes(pg, module) -> None:
    """Every rank's replica must have the same parameters; say which rank differs (as PyTorch's DDP does)."""
    from ...distributed.object_collectives import _allgather_arrays
    mine = repr([(name, tuple(p.shape), str(p.dtype)) for name, p in module.named_parameters()])
    everyone = [raw.tobytes().decode() for raw in _allgather_arrays(pg, np.frombuffer(mine.encode(), np.uint8))]
    for group_rank, theirs in enumerate(everyone):
        if theirs != everyone[0]:
            raise RuntimeError(f"DistributedDataParallel: DDP expects the same model on every rank, but rank "
                               f"{pg.ranks[group_rank]} has parameters {theirs:.300} while rank {pg.ranks[0]} has "
                               f"{everyone[0]:.300}")


def _broadcast_coalesced(pg, tensors, root: int = 0) -> None:
    """Copy rank ``root``'s values of ``tensors`` into everyone's, one broadcast per dtype."""
    by_dtype = {}
    for t in tensors:
        by_dtype.setdefault((str(t.dtype), t.device.type), []).append(t)
    for group in by_dtype.values():
        flat = np.concatenate([np.asarray(t._host()).reshape(-1) for t in group])
        pg.broadcast(flat, root, async_op=False).wait()
        if pg.rank() != root:
            offset = 0
            for t in group:
                n = t.numel()
                t._data[...] = t.device.xp.asarray(flat[offset:offset + n].reshape(t._data.shape))
                offset += n


class _Bucket:
    """Parameters whose gradients travel in one all-reduce, and their slots in one flat array."""

    __slots__ = ("params", "slots", "buffer", "pending", "work", "device_type")

    def __init__(self, params, xp):
        self.params = params
        self.device_type = params[0].device.type
        total = sum(p.numel() for p in params)
        self.buffer = xp.empty(total, dtype=params[0]._data.dtype)
        self.slots, offset = [], 0
        for p in params:
            self.slots.append(self.buffer[offset:offset + p.numel()].reshape(p._data.shape))
            offset += p.numel()
        self.pending = 0
        self.work = None


class _Reducer:
    """The backward side of DDP: buckets, readiness, the all-reduces in flight, and writing back."""

    def __init__(self, params, pg, caps, cap_bytes, find_unused, grad_as_view):
        self.pg = pg
        self.params = params
        self.find_unused = find_unused
        self.grad_as_view = grad_as_view
        self.buckets = _assign_buckets(params, caps, cap_bytes)
        self.where = {}  # param index -> (bucket, slot index)
        index = {id(p): i for i, p in enumerate(params)}
        for bucket in self.buckets:
            for s, p in enumerate(bucket.params):
                self.where[index[id(p)]] = (bucket, s)
        self.expect_hooks = False
        self.started = False
        self.ready = [False] * len(params)
        self.locally_used = np.ones(len(params), np.int32)
        self.next_bucket = 0
        self.unused = []
        for i, p in enumerate(params):
            p.register_post_accumulate_grad_hook(self._hook_for(i))

    def _hook_for(self, i):
        def hook(param):
            if self.expect_hooks:
                if self.unused:  # as PyTorch: unused parameters count as ready from the first gradient on
                    unused, self.unused = self.unused, []
                    for j in unused:
                        self.mark_ready(j)
                self.mark_ready(i)
        return hook

    def check_previous_finished(self) -> None:
        if self.started:
            unready = [i for i, ready in enumerate(self.ready) if not ready]
            self.expect_hooks = self.started = False
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a new one. This error "
                "indicates that your module has parameters that were not used in producing loss. You can enable "
                "unused parameter detection by passing the keyword argument `find_unused_parameters=True` to "
                "`torch.nn.parallel.DistributedDataParallel`, and by making sure all `forward` function outputs "
                f"participate in calculating loss. Parameter indices which did not receive grad for rank "
                f"{self.pg.ranks[self.pg.rank()]}: {unready}")

    def prepare_for_backward(self, output) -> None:
        self.expect_hooks, self.started, self.next_bucket = True, False, 0
        self.ready = [False] * len(self.params)
        for bucket in self.buckets:
            bucket.pending, bucket.work = len(bucket.params), None
        self.unused = []
        if output is not None:
            used = _reachable_leaves(output)
            self.locally_used = np.array([id(p) in used for p in self.params], np.int32)
            self.unused = [i for i, p in enumerate(self.params) if id(p) not in used]

    def mark_ready(self, i: int) -> None:
        if self.ready[i]:
            raise RuntimeError(f"Expected to mark a variable ready only once. Parameter index {i} was marked ready "
                               f"twice in one backward: it may be shared, or used in a reentrant backward")
        self.ready[i] = True
        self.started = True
        bucket, s = self.where[i]
        grad, slot = self.params[i].grad, bucket.slots[s]
        size = self.pg.size()
        if grad is None:
            slot[...] = 0
        elif grad._data is slot:  # gradient_as_bucket_view: backward already accumulated into the bucket
            np.divide(slot, size, out=slot) if isinstance(slot, np.ndarray) else slot.__itruediv__(size)
        elif isinstance(slot, np.ndarray):
            np.divide(grad._data, size, out=slot)  # copy and pre-divide in one pass, as PyTorch pre-divides
        else:
            slot[...] = grad._data / size
        bucket.pending -= 1
        self._launch_ready_buckets()
        if self.next_bucket == len(self.buckets):
            self.finalize()

    def _launch_ready_buckets(self) -> None:
        while self.next_bucket < len(self.buckets) and self.buckets[self.next_bucket].pending == 0:
            bucket = self.buckets[self.next_bucket]
            bucket.work = self._allreduce(bucket)
            self.next_bucket += 1
        for bucket in self.buckets[:self.next_bucket]:  # let MPI progress what is in flight
            if bucket.work is not None and bucket.work.is_completed():
                bucket.work = None

    def _allreduce(self, bucket):
        if self.pg.accepts(bucket.device_type):
            return self.pg.allreduce(bucket.buffer, RedOpType.SUM)
        host = bucket.buffer.get()  # a GPU bucket and an MPI that is not CUDA-aware: through host memory
        work = self.pg.allreduce(host, RedOpType.SUM)
        return work.then(lambda: bucket.buffer.set(host))

    def finalize(self) -> None:
        """All buckets are launched: wait for them and put the averaged gradients in ``.grad``."""
        for bucket in self.buckets:
            if bucket.work is not None:
                bucket.work.wait()
                bucket.work = None
        globally_used = None
        if self.find_unused:
            globally_used = self.locally_used.copy()
            self.pg.allreduce(globally_used, RedOpType.MAX, async_op=False).wait()
        for i, p in enumerate(self.params):
            if globally_used is not None and not globally_used[i]:
                continue  # unused on every rank: its .grad stays as it was, as in PyTorch
            bucket, s = self.where[i]
            slot = bucket.slots[s]
            grad = p.grad
            if self.grad_as_view:
                if grad is None or grad._data is not slot:
                    p.grad = wrap(slot, p.device)
            elif grad is None:
                p.grad = wrap(slot.copy(), p.device)
            else:
                grad._data[...] = slot
        self.expect_hooks = self.started = False


def _assign_buckets(params, caps, cap_bytes) -> list:
    """Buckets over the parameters in reverse order (roughly the order backward produces their gradients),
    one dtype and device each; bucket i holds at most ``caps[i]`` bytes (``cap_bytes`` past the list)."""
    buckets, current, current_bytes, key = [], [], 0, None
    for p in reversed(params):
        cap = caps[len(buckets)] if len(buckets) < len(caps) else cap_bytes
        p_key = (p._data.dtype, p.device)
        if current and (p_key != key or current_bytes + p._data.nbytes > cap):
            buckets.append(current)
            current, current_bytes = [], 0
        current.append(p)
        current_bytes += p._data.nbytes
        key = p_key
    if current:
        buckets.append(current)
    return [_Bucket(group, _array_module(group[0])) for group in buckets]


def _array_module(t):
    if isinstance(t._data, np.ndarray):
        return np
    import cupy
    return cupy.get_array_module(t._data)


def _reachable_leaves(output) -> set:
    """ids of the leaf tensors that the autograd graph of ``output`` (tensors, nested in lists, tuples,
    dicts) reaches: the parameters this forward used."""
    stack = list(_tensors_in(output))
    leaves, seen = set(), set()
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor):
            if item._node is None:
                leaves.add(id(item))
                continue
            item = item._node
        if id(item) in seen:
            continue
        seen.add(id(item))
        stack.extend(edge[0] for edge in item.next if edge is not None)
    return leaves


def _tensors_in(obj):
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            yield from _tensors_in(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from _tensors_in(item)
