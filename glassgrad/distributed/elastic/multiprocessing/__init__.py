"""``glassgrad.distributed.elastic.multiprocessing``: ``errors.record`` (see there)."""
