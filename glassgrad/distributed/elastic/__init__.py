"""``glassgrad.distributed.elastic``: the part of PyTorch's ``torch.distributed.elastic`` that
scripts import in one process: ``multiprocessing.errors.record``."""
