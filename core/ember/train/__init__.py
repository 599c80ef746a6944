"""The ``ember train`` main job as a library: configuration, data, models, the loop and checkpoints.

``ember.commands.train`` / ``evaluate`` / ``predict`` are thin command-line layers over this package,
so the same run can be driven from Python (``run_training(TrainConfig(...))``).
"""

from .config import TrainConfig, TrainError, TrainingDiverged
from .loop import EpochResult, TrainResult, evaluate_model, prepare_run, run_training, train_run

__all__ = ["TrainConfig", "TrainError", "TrainingDiverged", "run_training", "prepare_run", "train_run",
           "evaluate_model", "TrainResult", "EpochResult"]
