"""Environments shipped with rllib_qmix: the embedded SMAC simulator and matrix games."""
