"""Training: SSL objectives, layer-local learning rules, the training loop and its checkpoints.

Imports point down only: ``training`` uses ``models`` and ``stimuli``; nothing below imports it.
"""
