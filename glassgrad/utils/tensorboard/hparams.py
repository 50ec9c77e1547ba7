"""The three summaries of TensorBoard's HParams plugin: the experiment (which hyperparameters and
metrics exist), the session start (this run's hyperparameter values) and the session end."""

from __future__ import annotations

from typing import Any

from google.protobuf import struct_pb2
from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
from tensorboard.plugins.hparams import api_pb2
from tensorboard.plugins.hparams import metadata as hp_metadata
from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData, SessionEndInfo, SessionStartInfo

from glassgrad.utils.tensorboard._convert import to_numpy

__all__ = ["hparams"]


def _summary(tag: str, **content: Any) -> Summary:
    data = HParamsPluginData(version=hp_metadata.PLUGIN_DATA_VERSION, **content)
    plugin = SummaryMetadata.PluginData(plugin_name=hp_metadata.PLUGIN_NAME, content=data.SerializeToString())
    return Summary(value=[Summary.Value(tag=tag, metadata=SummaryMetadata(plugin_data=plugin))])


def _check_domains(hparam_dict: dict, domains: dict | None) -> dict:
    domains = domains or {}
    if not isinstance(domains, dict):
        raise TypeError(
            f"add_hparams: expected hparam_domain_discrete as a dict, got {type(domains).__name__}"
        )
    for k, values in domains.items():
        if k not in hparam_dict:
            raise TypeError(f"add_hparams: expected hparam_domain_discrete keys from hparam_dict, got {k!r}")
        if not isinstance(values, list) or not all(isinstance(d, type(hparam_dict[k])) for d in values):
            raise TypeError(
                f"add_hparams: expected hparam_domain_discrete[{k!r}] as a list of "
                f"{type(hparam_dict[k]).__name__}, got {values!r}"
            )
    return domains


def hparams(hparam_dict: dict, metric_dict: dict, hparam_domain_discrete: dict | None = None):
    """``(experiment, session_start, session_end)`` summaries for one run.

    Numbers (bools included, as in PyTorch, since ``bool`` is an ``int``) and one-element tensors are
    FLOAT64 hyperparameters, strings STRING; ``None`` values are left out.
    """
    domains = _check_domains(hparam_dict, hparam_domain_discrete)
    infos = []
    start = SessionStartInfo()
    for k, v in hparam_dict.items():
        if v is None:
            continue
        if isinstance(v, (int, float, str)):
            field, kind = (
                ("string_value", "DATA_TYPE_STRING")
                if isinstance(v, str)
                else ("number_value", "DATA_TYPE_FLOAT64")
            )
            setattr(start.hparams[k], field, v)
            domain = None
            if k in domains:
                domain = struct_pb2.ListValue(values=[struct_pb2.Value(**{field: d}) for d in domains[k]])
        elif hasattr(v, "detach") or hasattr(v, "shape"):
            start.hparams[k].number_value = float(to_numpy(v, "add_hparams").reshape(-1)[0])
            kind, domain = "DATA_TYPE_FLOAT64", None
        else:
            raise ValueError(
                f"add_hparams: expected each hparam as an int, float, str, bool or tensor, got {k}={v!r}"
            )
        infos.append(api_pb2.HParamInfo(name=k, type=api_pb2.DataType.Value(kind), domain_discrete=domain))
    metrics = [api_pb2.MetricInfo(name=api_pb2.MetricName(tag=k)) for k in metric_dict]
    exp = _summary(
        hp_metadata.EXPERIMENT_TAG, experiment=api_pb2.Experiment(hparam_infos=infos, metric_infos=metrics)
    )
    ssi = _summary(hp_metadata.SESSION_START_INFO_TAG, session_start_info=start)
    end = SessionEndInfo(status=api_pb2.Status.Value("STATUS_SUCCESS"))
    sei = _summary(hp_metadata.SESSION_END_INFO_TAG, session_end_info=end)
    return exp, ssi, sei
