"""PyTorch's DDP tutorial (demo_basic), on the CPU under mpirun instead of GPUs under mp.spawn, with a
DistributedSampler: `worker.py torch` runs it with PyTorch (gloo), `worker.py ember` with `import ember as torch`.
Rank 0 prints each epoch's loss on the whole data set and the first state_dict key."""

import os
import sys

import numpy as np

if sys.argv[1] == "ember":
    import ember as torch
    import ember.distributed as dist
    import ember.nn as nn
    import ember.optim as optim
    from ember.nn.parallel import DistributedDataParallel as DDP
    from ember.utils.data import DataLoader, TensorDataset
    from ember.utils.data.distributed import DistributedSampler
else:
    import torch
    import torch.distributed as dist
    import torch.nn as nn
    import torch.optim as optim
    from torch.nn.parallel import DistributedDataParallel as DDP
    from torch.utils.data import DataLoader, TensorDataset
    from torch.utils.data.distributed import DistributedSampler


class ToyModel(nn.Module):
    def __init__(self):
        super(ToyModel, self).__init__()
        self.net1 = nn.Linear(10, 10)
        self.relu = nn.ReLU()
        self.net2 = nn.Linear(10, 5)
    def forward(self, x):
        return self.net2(self.relu(self.net1(x)))


rank, world_size = int(os.environ["OMPI_COMM_WORLD_RANK"]), int(os.environ["OMPI_COMM_WORLD_SIZE"])
os.environ.setdefault('MASTER_ADDR', 'localhost')  # MASTER_PORT: set by the test
dist.init_process_group("gloo", rank=rank, world_size=world_size)
model = ToyModel()
rng = np.random.default_rng(rank)   # different per rank: DDP must broadcast rank 0's
model.load_state_dict({k: torch.from_numpy(rng.standard_normal(tuple(v.shape)).astype(np.float32))
                       for k, v in model.state_dict().items()})
ddp_model = DDP(model)
loss_fn = nn.MSELoss()
optimizer = optim.SGD(ddp_model.parameters(), lr=0.01, momentum=0.9)
data = np.random.default_rng(7)
x = torch.from_numpy(data.standard_normal((40, 10)).astype(np.float32))
y = torch.from_numpy(data.standard_normal((40, 5)).astype(np.float32))
sampler = DistributedSampler(TensorDataset(x, y), shuffle=False)
loader = DataLoader(TensorDataset(x, y), batch_size=5, sampler=sampler)
for epoch in range(3):
    sampler.set_epoch(epoch)
    for xb, yb in loader:
        optimizer.zero_grad()
        loss_fn(ddp_model(xb), yb).backward()
        optimizer.step()
    t = torch.tensor([float(loss_fn(ddp_model(x), y).item())])
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    if rank == 0:
        print(epoch, f"{t.item() / world_size:.6f}", list(ddp_model.state_dict())[:1], flush=True)
dist.destroy_process_group()
