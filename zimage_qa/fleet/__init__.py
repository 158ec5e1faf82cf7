"""Gating a multi-GPU host: one gate process per GPU (`zqa gate --gpus all`), the gate's checks sharded
across them with even walls, CPU cores and launch-bound timings kept apart, the results merged into one
report. Importing this package is cheap: nothing here imports torch or pytest."""
