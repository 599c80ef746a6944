"""The seed MLP trained data-parallel, written as a PyTorch DDP script (``import ember as torch``).

    mpirun -n 2 python examples/distributed_seed_mlp.py --batch-size 32
    python examples/distributed_seed_mlp.py --batch-size 64      # one process, the doubled batch

print the same loss every epoch (to float32 rounding): DistributedSampler gives rank r every world-size-th
sample of one shuffled order (the same on all ranks), so the ranks' batches together are the one-process
batch, and DistributedDataParallel averages the ranks' gradients. Run as root, Open MPI also wants
``--allow-run-as-root`` (or OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1).
"""

import argparse

import numpy as np

import ember as torch
import ember.distributed as dist
import ember.nn as nn
import ember.nn.functional as F
from ember.nn.parallel import DistributedDataParallel as DDP
from ember.utils.data import DataLoader, TensorDataset
from ember.utils.data.distributed import DistributedSampler


class Net(nn.Module):  # the seed program's model
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(28 * 28, 512)
        self.fc2 = nn.Linear(512, 10)

    def forward(self, x):
        x = torch.flatten(x, 1)
        x = torch.relu(self.fc1(x))
        return self.fc2(x)


def synthetic_digits(n_samples=640, seed=0):
    """The seed example's task: ten random 28x28 prototypes, one per class, plus noise (same on every rank)."""
    rng = np.random.default_rng(seed)
    prototypes = rng.standard_normal((10, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 10, n_samples)
    images = prototypes[labels] + 2.0 * rng.standard_normal((n_samples, 1, 28, 28)).astype(np.float32)
    return TensorDataset(torch.from_numpy(images), torch.from_numpy(labels))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=32, help="per-rank batch size")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=0.01)
    args = parser.parse_args()

    dist.init_process_group("gloo")  # ember runs "gloo" over MPI; rank and world size come from mpirun
    rank = dist.get_rank()
    torch.manual_seed(rank)  # replicas start different on purpose: DDP copies rank 0's weights
    dataset = synthetic_digits()
    sampler = DistributedSampler(dataset, shuffle=True, seed=0)
    loader = DataLoader(dataset, batch_size=args.batch_size, sampler=sampler)
    model = DDP(Net())
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        totals = torch.zeros(2, dtype=torch.float64)  # (sum of losses, samples) on this rank
        for images, labels in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
            totals += torch.tensor([loss.item() * len(labels), len(labels)], dtype=torch.float64)
        dist.all_reduce(totals)
        if rank == 0:
            print(f"epoch {epoch + 1} loss {(totals[0] / totals[1]).item():.6f}", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
