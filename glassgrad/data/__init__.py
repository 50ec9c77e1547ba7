"""Data loading with ``torch.utils.data``'s names: datasets, samplers and the ``DataLoader``."""

from glassgrad.data import (  # noqa: F401 - torch.utils.data's submodules, reachable as attributes
    _utils,  # collate, worker
    datapipes,
    graph,
    graph_settings,
)
from glassgrad.data.dataloader import DataLoader, default_collate, default_convert, get_worker_info
from glassgrad.data.datapipes.datapipe import IterDataPipe, MapDataPipe, functional_datapipe
from glassgrad.data.dataset import (
    BatchedSamples,
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from glassgrad.data.distributed import DistributedSampler
from glassgrad.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "Dataset",
    "IterableDataset",
    "TensorDataset",
    "Subset",
    "ConcatDataset",
    "ChainDataset",
    "StackDataset",
    "BatchedSamples",
    "random_split",
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
    "DistributedSampler",
    "DataLoader",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "IterDataPipe",
    "MapDataPipe",
    "functional_datapipe",
]
