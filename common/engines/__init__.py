"""Engines: the interface every backend meets, the artifact they load, one module per backend."""
