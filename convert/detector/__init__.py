"""Plate detector: data, composites, model, training, export and card (workstation, TensorFlow)."""
