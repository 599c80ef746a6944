"""`ember train`'s default run, in PyTorch: the reference that ember's accuracy is checked against.

Same data (the digits bundled with ember), same seeded 20% held-out split, same model
(flatten -> Linear(64, 256) -> ReLU -> Linear(256, 10)), same optimizer (SGD with TrainConfig's lr and momentum),
same batch size and number of epochs; the forward pass, backward pass and updates are all PyTorch's.

By default PyTorch also starts from ember's initial weights and reads the batches in ember's order, so
the two runs differ only in their arithmetic and their accuracies should agree closely.
``--independent`` uses PyTorch's own initialisation and shuffling instead (then the seed picks another,
equally valid run, and accuracies agree only to within the run-to-run spread).

    python examples/train_digits_torch.py            # prints PyTorch's and ember's held-out accuracy

Measured (seeds 0-5, --independent, with lr 0.1, the default before SGD's became 0.01): ember 98.6 98.1 98.3 98.6 97.5 96.1 (mean 97.86),
PyTorch 99.4 98.3 97.2 98.6 97.8 96.4 (mean 97.96).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import ember
from ember.train import TrainConfig, run_training
from ember.train.data import load_splits
from ember.train.models import build_model
from ember.utils.data import DataLoader


def as_torch(t) -> torch.Tensor:
    return torch.from_numpy(np.array(t))


def train_torch(config: TrainConfig, independent: bool) -> float:
    splits = load_splits(config)  # the held-out split ember uses for this seed
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, config.hidden), torch.nn.ReLU(),
                                torch.nn.Linear(config.hidden, 10))
    if independent:
        torch.manual_seed(config.seed)
    else:
        ember.manual_seed(config.seed)  # as `ember train` does before building its model
        start = build_model(config.model, splits.image_shape, len(splits.classes), config.hidden)
        model.load_state_dict({k: as_torch(v) for k, v in start.state_dict().items()})
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)
    if independent:
        images = torch.stack([as_torch(splits.train[i][0]) for i in range(len(splits.train))])
        labels = torch.tensor([splits.train[i][1] for i in range(len(splits.train))])
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images, labels),
                                             batch_size=config.batch_size, shuffle=True)
    else:
        loader = DataLoader(splits.train, batch_size=config.batch_size, shuffle=True,
                            generator=ember.Generator().manual_seed(config.seed))
    for _ in range(config.epochs):
        model.train()
        for x, y in loader:
            x, y = (x, y) if independent else (as_torch(x), as_torch(y))
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
    model.eval()
    test_x = torch.stack([as_torch(splits.test[i][0]) for i in range(len(splits.test))])
    test_y = torch.tensor([splits.test[i][1] for i in range(len(splits.test))])
    with torch.no_grad():
        return (model(test_x).argmax(1) == test_y).float().mean().item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=TrainConfig.seed)
    parser.add_argument("--independent", action="store_true",
                        help="PyTorch's own initialisation and shuffling instead of ember's")
    args = parser.parse_args()
    config = TrainConfig(seed=args.seed)
    t0 = time.perf_counter()
    torch_accuracy = train_torch(config, args.independent)
    t1 = time.perf_counter()
    ember_accuracy = run_training(config).final.test_accuracy
    t2 = time.perf_counter()
    print(f"PyTorch {torch.__version__}: held-out accuracy {torch_accuracy:.2%} ({t1 - t0:.1f}s)")
    print(f"ember {ember.__version__}:   held-out accuracy {ember_accuracy:.2%} ({t2 - t1:.1f}s)")
    print(f"difference: {abs(torch_accuracy - ember_accuracy) * 100:.2f} percentage points")


if __name__ == "__main__":
    main()
