"""The training loop of ``ember train``: epochs of SGD-style updates, held-out evaluation, checkpoints."""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from .checkpoint import load_checkpoint, restore_model, save_checkpoint
from .config import TrainConfig, TrainError
from .data import load_splits
from .models import build_model
from .optimizers import make_optimizer

__all__ = ["EpochResult", "TrainResult", "run_training", "evaluate_model", "resolve_device"]


def resolve_device(name):
    """``ember.device(name)``, checked to be usable here; TrainError (one line) otherwise."""
    import ember
    try:
        device = ember.device(name)
        ember.zeros(1, device=device)
    except (RuntimeError, ValueError, TypeError) as exc:
        raise TrainError(f"--device {name}: {exc}") from None
    return device


@dataclass
class EpochResult:
    epoch: int
    train_loss: float
    train_accuracy: float
    test_loss: float
    test_accuracy: float
    seconds: float


@dataclass
class TrainResult:
    config: TrainConfig
    history: list = field(default_factory=list)
    model: object = None
    train_size: int = 0
    test_size: int = 0
    seconds: float = 0.0
    resumed_from_epoch: int | None = None

    @property
    def final(self) -> EpochResult | None:
        return self.history[-1] if self.history else None

    def as_dict(self) -> dict:
        return {"config": self.config.as_dict(), "train_size": self.train_size, "test_size": self.test_size,
                "resumed_from_epoch": self.resumed_from_epoch, "seconds": round(self.seconds, 3),
                "history": [asdict(h) for h in self.history]}


def evaluate_model(model, dataset, batch_size: int = 256, device="cpu", num_classes: int | None = None):
    """(mean loss, accuracy, confusion matrix [true, predicted] as numpy int64) of ``model`` on ``dataset``."""
    import ember
    from ember.nn import functional as F
    from ember.utils.data import DataLoader
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    confusion = None if num_classes is None else np.zeros((num_classes, num_classes), np.int64)
    with ember.no_grad():
        for images, targets in DataLoader(dataset, batch_size=batch_size):
            images, targets = images.to(device), targets.to(device)
            logits = model(images)
            total_loss += F.cross_entropy(logits, targets, reduction="sum").item()
            predicted = np.asarray(logits).argmax(axis=1)
            truth = np.asarray(targets)
            correct += int((predicted == truth).sum())
            count += len(truth)
            if confusion is not None:
                np.add.at(confusion, (truth, predicted), 1)
    return total_loss / max(count, 1), correct / max(count, 1), confusion


def run_training(config: TrainConfig, *, device="cpu", save: str | None = None, resume: str | None = None,
                 progress: bool | None = None, report=None, parallel=None) -> TrainResult:
    """Train as ``config`` says, printing through ``report(line)`` after each epoch (nothing if None).

    ``resume``: continue from that checkpoint (its config wins, except ``epochs``). ``save``: write a
    checkpoint after every epoch. ``progress``: a tqdm bar on stderr; by default only when stdout is a
    terminal. ``parallel``: a :class:`ember.train.distributed.DataParallelTraining` (``--distributed``).
    """
    import ember
    from ember.utils.data import DataLoader
    from ember.nn import functional as F
    checkpoint = None
    if resume is not None:
        checkpoint = load_checkpoint(resume)
        config = TrainConfig.from_dict({**checkpoint["config"], "epochs": config.epochs})
    config.check()
    start = time.perf_counter()
    device = resolve_device(device)
    ember.manual_seed(config.seed)
    splits = load_splits(config)
    model = build_model(config.model, splits.image_shape, len(splits.classes), config.hidden).to(device)
    optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr, config.momentum)
    loader_generator = ember.Generator().manual_seed(config.seed)
    loader = DataLoader(splits.train, batch_size=config.batch_size, shuffle=True, generator=loader_generator) \
        if parallel is None else parallel.loader(splits.train, config.batch_size, loader_generator)
    result = TrainResult(config, model=model, train_size=len(splits.train), test_size=len(splits.test))
    first_epoch = 0
    if checkpoint is not None:
        restore_model(checkpoint, resume, model)
        try:
            optimizer.load_state_dict(checkpoint["optimizer"])
        except (ValueError, KeyError) as exc:
            raise TrainError(f"checkpoint {resume}: its optimizer state does not fit {config.optimizer}: {exc}") from None
        ember.set_rng_state(checkpoint["rng"]["default"])
        loader_generator.set_state(checkpoint["rng"]["loader"])
        first_epoch = result.resumed_from_epoch = int(checkpoint["epoch"])
        result.history = [EpochResult(**h) for h in checkpoint["history"]]
        if first_epoch > config.epochs:
            raise TrainError(f"checkpoint {resume} is already at epoch {first_epoch}, past --epochs {config.epochs}")
    train_model = model if parallel is None else parallel.wrap_model(model)

    if progress is None:
        progress = sys.stdout.isatty()
    from tqdm import tqdm
    for epoch in range(first_epoch, config.epochs):
        epoch_start = time.perf_counter()
        model.train()
        loss_sum, correct, seen = 0.0, 0, 0
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{config.epochs}", leave=False, disable=not progress,
                   unit="batch", file=sys.stderr)
        for images, targets in bar:
            images, targets = images.to(device), targets.to(device)
            optimizer.zero_grad()
            logits = train_model(images)
            loss = F.cross_entropy(logits, targets)
            loss.backward()
            optimizer.step()
            n = len(targets)
            loss_sum += loss.item() * n
            correct += int((np.asarray(logits.detach()).argmax(axis=1) == np.asarray(targets)).sum())
            seen += n
        bar.close()
        if parallel is not None:
            loss_sum, correct, seen = parallel.sum_over_ranks(loss_sum, correct, seen)
        if not np.isfinite(loss_sum):
            raise TrainError(f"training diverged at epoch {epoch + 1} (loss is {loss_sum / seen}); lower --lr "
                             f"(now {config.lr})")
        test_loss, test_accuracy, _ = evaluate_model(model, splits.test, device=device)
        epoch_result = EpochResult(epoch + 1, loss_sum / max(seen, 1), correct / max(seen, 1), test_loss,
                                   test_accuracy, time.perf_counter() - epoch_start)
        result.history.append(epoch_result)
        if save is not None:
            save_checkpoint(save, config=config, model=model, optimizer=optimizer, epoch=epoch + 1,
                            loader_generator=loader_generator, history=[asdict(h) for h in result.history],
                            image_shape=splits.image_shape, classes=splits.classes)
        if report is not None:
            report(epoch_result)
    if save is not None and config.epochs == first_epoch and checkpoint is None:
        save_checkpoint(save, config=config, model=model, optimizer=optimizer, epoch=first_epoch,
                        loader_generator=loader_generator, history=[], image_shape=splits.image_shape,
                        classes=splits.classes)
    result.seconds = time.perf_counter() - start
    return result
