"""The training loop of ``ember train``: epochs of optimizer steps, held-out evaluation, checkpoints.

A run is prepared first (:func:`prepare_run`: options, data, model, optimizer and the checkpoint to
resume are all checked and loaded) and trained second (:func:`train_run`), so every mistake a user can
make is reported before the first batch, and the command prints its header only for a run that starts.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from .checkpoint import load_checkpoint, restore_model, save_checkpoint
from .config import TrainConfig, TrainError, TrainingDiverged
from .data import load_splits
from .models import build_model
from .optimizers import make_optimizer, needs_closure

__all__ = ["EpochResult", "TrainResult", "PreparedRun", "DivergenceGuard", "prepare_run", "train_run",
           "run_training", "evaluate_model", "resolve_device"]


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


class DivergenceGuard:
    """Stops a run whose loss is not finite, or whose running loss (an exponential moving average over
    batches) has grown to ``factor`` times where it started: two orders of magnitude is no noise.

    The start is the first batch's loss, but at least ``log(num_classes)`` (a uniform guess's
    cross-entropy), so a run resumed at a small loss is not stopped by an ordinary bump."""

    def __init__(self, num_classes: int, lr: float, factor: float = 100.0, smoothing: float = 0.9):
        self.floor, self.lr, self.factor, self.smoothing = math.log(max(num_classes, 2)), lr, factor, smoothing
        self.start = self.running = None

    def update(self, loss: float, epoch: int, batch: int) -> None:
        """Record one batch's loss; TrainingDiverged when the run has blown up."""
        where = f"training diverged at epoch {epoch}, batch {batch}"
        advice = f"lower --lr (now {self.lr:g})"
        if not math.isfinite(loss):
            raise TrainingDiverged(f"{where}: the loss is {loss}; {advice}")
        if self.start is None:
            self.start, self.running = max(loss, self.floor), loss
        self.running = self.smoothing * self.running + (1 - self.smoothing) * loss
        if self.running > self.factor * self.start:
            raise TrainingDiverged(f"{where}: the running loss is {self.running:.4g}, over {self.factor:g}x its "
                                   f"start ({self.start:.4g}); {advice}")


def _progress_bar(iterable, enabled: bool, desc: str):
    from tqdm import tqdm
    return tqdm(iterable, desc=desc, leave=False, disable=not enabled, unit="batch", file=sys.stderr,
                dynamic_ncols=True)


def evaluate_model(model, dataset, batch_size: int = 256, device="cpu", num_classes: int | None = None,
                   progress: bool = False, desc: str = "evaluate"):
    """(mean loss, accuracy, confusion matrix [true, predicted] as numpy int64) of ``model`` on ``dataset``;
    with ``progress``, a tqdm bar on stderr (batches/s, ETA)."""
    import ember
    from ember.nn import functional as F
    from ember.utils.data import DataLoader
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    confusion = None if num_classes is None else np.zeros((num_classes, num_classes), np.int64)
    with ember.no_grad():
        bar = _progress_bar(DataLoader(dataset, batch_size=batch_size), progress, desc)
        for images, targets in bar:
            images, targets = images.to(device), targets.to(device)
            logits = model(images)
            total_loss += F.cross_entropy(logits, targets, reduction="sum").item()
            predicted = np.asarray(logits).argmax(axis=1)
            truth = np.asarray(targets)
            correct += int((predicted == truth).sum())
            count += len(truth)
            if confusion is not None:
                np.add.at(confusion, (truth, predicted), 1)
        bar.close()
    return total_loss / max(count, 1), correct / max(count, 1), confusion


@dataclass
class PreparedRun:
    """Everything a run needs, checked and loaded; :func:`train_run` trains it."""
    config: TrainConfig
    device: object
    splits: object
    model: object
    optimizer: object
    loader: object
    loader_generator: object
    result: TrainResult
    first_epoch: int = 0
    save: str | None = None
    resume: str | None = None
    start_time: float = 0.0
    parallel: object = None  # a DataParallelTraining under --distributed
    train_model: object = None  # what the steps call: the model, or its DistributedDataParallel wrapper


def prepare_run(config: TrainConfig, *, device="cpu", save: str | None = None,
                resume: str | None = None, parallel=None) -> PreparedRun:
    """Check ``config``, load the data (training and test files), build the model and optimizer, and
    restore ``resume``'s checkpoint (its config wins, except ``epochs``): every problem is a TrainError
    (or FileNotFoundError / ValueError naming the file) raised here, before any training. ``parallel``: a
    :class:`ember.train.distributed.DataParallelTraining` (``--distributed``)."""
    import ember
    from ember.utils.data import DataLoader
    from .outputs import check_output_path
    checkpoint = None
    if resume is not None:
        checkpoint = load_checkpoint(resume)
        config = TrainConfig.from_dict({**checkpoint["config"], "epochs": config.epochs})
    config.check()
    if save is not None:
        check_output_path(save, "--save")
    start = time.perf_counter()
    device = resolve_device(device)
    ember.manual_seed(config.seed)
    splits = load_splits(config, need_train=True)
    model = build_model(config.model, splits.image_shape, len(splits.classes), config.hidden).to(device)
    optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr, config.momentum)
    loader_generator = ember.Generator().manual_seed(config.seed)
    loader = DataLoader(splits.train, batch_size=config.batch_size, shuffle=True, generator=loader_generator) \
        if parallel is None else parallel.loader(splits.train, config.batch_size, loader_generator)
    result = TrainResult(config, model=model, train_size=len(splits.train), test_size=len(splits.test))
    run = PreparedRun(config, device, splits, model, optimizer, loader, loader_generator, result, save=save,
                      resume=resume, start_time=start, parallel=parallel,
                      train_model=model if parallel is None else parallel.wrap_model(model))
    if checkpoint is not None:
        restore_model(checkpoint, resume, model)
        try:
            optimizer.load_state_dict(checkpoint["optimizer"])
        except (ValueError, KeyError) as exc:
            raise TrainError(f"checkpoint {resume}: its optimizer state does not fit {config.optimizer}: {exc}") from None
        ember.set_rng_state(checkpoint["rng"]["default"])
        loader_generator.set_state(checkpoint["rng"]["loader"])
        run.first_epoch = result.resumed_from_epoch = int(checkpoint["epoch"])
        result.history = [EpochResult(**h) for h in checkpoint["history"]]
        if run.first_epoch > config.epochs:
            raise TrainError(f"checkpoint {resume} is already at epoch {run.first_epoch}, past --epochs "
                             f"{config.epochs}")
    return run


def _save(run: PreparedRun, epoch: int) -> None:
    try:
        save_checkpoint(run.save, config=run.config, model=run.model, optimizer=run.optimizer, epoch=epoch,
                        loader_generator=run.loader_generator, history=[asdict(h) for h in run.result.history],
                        image_shape=run.splits.image_shape, classes=run.splits.classes)
    except OSError as exc:  # the message of a failed atomic write names a hidden temporary file
        raise TrainError(f"--save {run.save}: cannot write the checkpoint: {exc.strerror or exc}") from None


def _train_step(run: PreparedRun, images, targets, closure_needed: bool):
    """One optimizer step on a batch; returns (loss tensor, logits) of the batch before the step."""
    from ember.nn import functional as F
    model, optimizer = run.train_model, run.optimizer
    if not closure_needed:
        optimizer.zero_grad()
        logits = model(images)
        loss = F.cross_entropy(logits, targets)
        loss.backward()
        optimizer.step()
        return loss, logits
    first = []

    def closure():  # L-BFGS re-evaluates the loss several times per step
        optimizer.zero_grad()
        logits = model(images)
        loss = F.cross_entropy(logits, targets)
        loss.backward()
        if not first:
            first.append((loss.detach(), logits.detach()))
        return loss
    optimizer.step(closure)
    return first[0]


def train_run(run: PreparedRun, *, progress: bool | None = None, report=None, tensorboard=None) -> TrainResult:
    """Train ``run`` to ``run.config.epochs``, calling ``report(EpochResult)`` after each epoch.

    ``progress``: tqdm bars on stderr for each epoch's training and evaluation (batches/s, ETA, running
    loss); by default when stderr is a terminal. ``tensorboard``: an ``ember.utils.tensorboard``
    ``SummaryWriter`` that gets per-epoch losses and accuracies, the running loss every 100 batches and
    weight histograms. Raises TrainingDiverged (a TrainError) when the loss blows up.
    """
    config, result, device = run.config, run.result, run.device
    if progress is None:
        progress = sys.stderr.isatty()
    closure_needed = needs_closure(run.optimizer)
    guard = DivergenceGuard(len(run.splits.classes), config.lr)
    batches = len(run.loader)
    for epoch in range(run.first_epoch, config.epochs):
        epoch_start = time.perf_counter()
        run.model.train()
        loss_sum, correct, seen = 0.0, 0, 0
        desc = f"epoch {epoch + 1}/{config.epochs}"
        bar = _progress_bar(run.loader, progress, f"{desc} train")
        for batch, (images, targets) in enumerate(bar, 1):
            images, targets = images.to(device), targets.to(device)
            loss, logits = _train_step(run, images, targets, closure_needed)
            batch_loss, n = loss.item(), len(targets)
            guard.update(batch_loss, epoch + 1, batch)
            loss_sum += batch_loss * n
            correct += int((np.asarray(logits.detach()).argmax(axis=1) == np.asarray(targets)).sum())
            seen += n
            if progress:
                bar.set_postfix(loss=f"{guard.running:.4f}", refresh=False)
            if tensorboard is not None and batch % 100 == 0:
                tensorboard.add_scalar("Loss/train_running", guard.running, epoch * batches + batch)
        bar.close()
        if run.parallel is not None:
            loss_sum, correct, seen = run.parallel.sum_over_ranks(loss_sum, correct, seen)
        test_loss, test_accuracy, _ = evaluate_model(run.model, run.splits.test, device=device, progress=progress,
                                                     desc=f"{desc} evaluate")
        epoch_result = EpochResult(epoch + 1, loss_sum / max(seen, 1), correct / max(seen, 1), test_loss,
                                   test_accuracy, time.perf_counter() - epoch_start)
        result.history.append(epoch_result)
        if run.save is not None:
            _save(run, epoch + 1)
        if tensorboard is not None:
            _log_epoch(tensorboard, run.model, epoch_result)
        if report is not None:
            report(epoch_result)
    if run.save is not None and config.epochs == run.first_epoch and run.resume is None:
        _save(run, run.first_epoch)
    result.seconds = time.perf_counter() - run.start_time
    return result


def _log_epoch(writer, model, e: EpochResult) -> None:
    writer.add_scalars("Loss", {"train": e.train_loss, "test": e.test_loss}, e.epoch)
    writer.add_scalars("Accuracy", {"train": e.train_accuracy, "test": e.test_accuracy}, e.epoch)
    for name, parameter in model.named_parameters():
        writer.add_histogram(f"weights/{name}", parameter, e.epoch)
    writer.flush()


def run_training(config: TrainConfig, *, device="cpu", save: str | None = None, resume: str | None = None,
                 progress: bool | None = None, report=None, tensorboard=None) -> TrainResult:
    """Train as ``config`` says: :func:`prepare_run` then :func:`train_run` (see both).

    ``resume``: continue from that checkpoint up to ``config.epochs`` (its other settings win).
    ``save``: write a checkpoint after every epoch, atomically.
    """
    return train_run(prepare_run(config, device=device, save=save, resume=resume), progress=progress,
                     report=report, tensorboard=tensorboard)
