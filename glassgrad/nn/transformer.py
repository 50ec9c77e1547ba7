"""The Transformer of "Attention Is All You Need", with PyTorch's classes, arguments and state-dict keys:
``TransformerEncoderLayer``, ``TransformerDecoderLayer``, ``TransformerEncoder``, ``TransformerDecoder``
and ``Transformer``.

A layer is attention then a position-wise MLP, each wrapped in a residual connection and a
LayerNorm: after the sum (``norm_first=False``, the original "post-norm") or on the branch's input
(``norm_first=True``, "pre-norm"). Masks follow ``nn.MultiheadAttention`` (bool True = blocked,
float = added); ``*_is_causal=True`` hints that the mask given is the look-ahead one (PyTorch's
hint: it needs the mask). In evaluation without grad the values are those of PyTorch's fused paths
where they differ (0 at padded positions through the encoder's nested tensors: transformer_fastpath).
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import glassgrad.nn.functional as F
from glassgrad import dtypes
from glassgrad.errors import ArgumentError, ShapeError
from glassgrad.factories import full
from glassgrad.nn import init
from glassgrad.nn import transformer_fastpath as fast
from glassgrad.nn.attention import MultiheadAttention
from glassgrad.nn.container import ModuleList
from glassgrad.nn.dropout import Dropout
from glassgrad.nn.linear import Linear
from glassgrad.nn.module import Module
from glassgrad.nn.normalization import LayerNorm
from glassgrad.tensor import Tensor

__all__ = [
    "TransformerEncoderLayer",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerDecoder",
    "Transformer",
]


def _activation(activation: str | Callable) -> Callable:
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    if callable(activation):
        return activation
    # PyTorch's RuntimeError ("activation should be relu/gelu, not ..."); a ValueError too, as before
    raise ArgumentError(f"Transformer: activation should be relu/gelu or a callable, not {activation}")


class _TransformerLayer(Module):
    """What the encoder and decoder layers share: the constructor (PyTorch's arguments and
    submodule names, registered in PyTorch's order so state_dict keys match), the self-attention
    block and the MLP block. ``_cross`` adds the decoder's attention over memory, its third
    LayerNorm and third residual dropout."""

    _cross = False

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable = F.relu,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        dt = dtype if dtype is not None else dtypes.get_default_dtype()

        def attention() -> MultiheadAttention:
            return MultiheadAttention(
                d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, dtype=dt
            )

        def norm() -> LayerNorm:
            return LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dt)

        self.self_attn = attention()
        if self._cross:
            self.multihead_attn = attention()
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dt)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dt)
        self.norm_first = norm_first
        self.norm1 = norm()
        self.norm2 = norm()
        if self._cross:
            self.norm3 = norm()
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        if self._cross:
            self.dropout3 = Dropout(dropout)
        self.activation = _activation(activation)
        if not self._cross:  # PyTorch's encoder layer stashes it at construction; programs read it
            self.activation_relu_or_gelu = fast.relu_or_gelu(self.activation)

    def __setstate__(self, state: dict) -> None:
        # PyTorch's, run by unpickling and deepcopy (TransformerDecoder clones its layer): the decoder
        # layer's F.relu shadows an activation module (a cloned nn.GELU() decoder layer computes relu)
        # as "activation" is then in _modules, not __dict__; the encoder layer fills a missing one.
        if self._cross and "activation" not in state:
            state["activation"] = F.relu
        super().__setstate__(state)
        if not hasattr(self, "activation"):
            self.activation = F.relu

    def _sa_block(self, x: Tensor, attn_mask: Any, key_padding_mask: Any, is_causal: bool = False) -> Tensor:
        # is_causal defaults as PyTorch's: subclasses (Demucs's layers) pass only three arguments
        x = self.self_attn(
            x,
            x,
            x,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            need_weights=False,
            is_causal=is_causal,
        )[0]
        return self.dropout1(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        last = self.dropout3 if self._cross else self.dropout2  # the MLP's residual dropout
        return last(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoderLayer(_TransformerLayer):
    """Self-attention and a feed-forward MLP, each with a residual connection and a LayerNorm.

    post-norm: x = norm1(x + SA(x)); x = norm2(x + FF(x)).
    pre-norm:  x = x + SA(norm1(x)); x = x + FF(norm2(x)).
    FF(x) = linear2(dropout(activation(linear1(x)))).

    Args:
        d_model: model width E; nhead: attention heads; dim_feedforward: the MLP's hidden width;
        dropout: on attention weights, the MLP's hidden layer and each residual branch;
        activation: "relu", "gelu" or a callable; layer_norm_eps: the LayerNorms' eps;
        batch_first: (N, L, E) instead of (L, N, E); norm_first: pre-norm; bias: learn biases.

    Shape:
        src: (L, N, E), (N, L, E) with batch_first, or (L, E); returns src's shape.
    """

    def forward(
        self,
        src: Tensor,
        src_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool = False,
    ) -> Tensor:
        sa, ff = fast.encoder_layer_blocks(self, src, src_mask, src_key_padding_mask, is_causal)
        x = src
        if self.norm_first:
            x = x + sa(self.norm1(x))
            return x + ff(self.norm2(x))
        x = self.norm1(x + sa(x))
        return self.norm2(x + ff(x))


class TransformerDecoderLayer(_TransformerLayer):
    """Masked self-attention, attention over the encoder's memory, and an MLP, each with a residual
    connection and a LayerNorm (post- or pre-norm, as ``TransformerEncoderLayer``).

    Shape:
        tgt: (T, N, E) ((N, T, E) with batch_first, or (T, E)); memory: (S, N, E); returns tgt's shape.
    """

    _cross = True

    def _mha_block(
        self, x: Tensor, mem: Tensor, attn_mask: Any, key_padding_mask: Any, is_causal: bool = False
    ) -> Tensor:
        x = self.multihead_attn(
            x,
            mem,
            mem,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            need_weights=False,
            is_causal=is_causal,
        )[0]
        return self.dropout2(x)

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
    ) -> Tensor:
        sa = (tgt_mask, tgt_key_padding_mask, tgt_is_causal)  # MultiheadAttention builds a hinted mask
        mha = (memory_mask, memory_key_padding_mask, memory_is_causal)
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), *sa)
            x = x + self._mha_block(self.norm2(x), memory, *mha)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, *sa))
        x = self.norm2(x + self._mha_block(x, memory, *mha))
        return self.norm3(x + self._ff_block(x))


def _clones(layer: Module, n: int) -> ModuleList:
    return ModuleList([copy.deepcopy(layer) for _ in range(n)])


class TransformerEncoder(Module):
    """``num_layers`` independent copies of ``encoder_layer`` applied in turn, then ``norm`` if given.

    Shape:
        src: as the layer's; returns src's shape.
    """

    def __init__(
        self,
        encoder_layer: TransformerEncoderLayer,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ) -> None:
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers, self.norm = num_layers, norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check  # PyTorch's
        self.use_nested_tensor = fast.use_nested_tensor(
            encoder_layer, TransformerEncoderLayer, enable_nested_tensor
        )

    def forward(
        self,
        src: Tensor,
        mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool | None = None,
    ) -> Tensor:
        kpm = fast.canonical_mask(src_key_padding_mask, src.dtype, "src_key_padding_mask", mask, "mask")
        mask = fast.canonical_mask(mask, src.dtype, "mask")
        pad = fast.nested_padding(self, src, mask, kpm)  # (N, S) or None: PyTorch's nested-tensor path
        kpm, x = kpm if pad is None else Tensor(pad, _wrap=True), src
        causal = fast.detect_is_causal(mask, is_causal, src, self.layers)  # None: read from the mask
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=kpm, is_causal=causal)
        if pad is not None:
            x = x.masked_fill(Tensor(pad[..., None], _wrap=True), 0.0)  # its to_padded_tensor(0.0)
        return x if self.norm is None else self.norm(x)


class TransformerDecoder(Module):
    """``num_layers`` independent copies of ``decoder_layer`` applied in turn, each attending to the
    same ``memory``, then ``norm`` if given.

    Shape:
        tgt, memory: as the layer's; returns tgt's shape.
    """

    def __init__(
        self, decoder_layer: TransformerDecoderLayer, num_layers: int, norm: Module | None = None
    ) -> None:
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers, self.norm = num_layers, norm

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        x, causal = tgt, fast.detect_is_causal(tgt_mask, tgt_is_causal, tgt, self.layers)
        for layer in self.layers:
            x = layer(
                x,
                memory,
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
                tgt_is_causal=causal,
                memory_is_causal=memory_is_causal,
            )
        return x if self.norm is None else self.norm(x)


class Transformer(Module):
    """Encoder-decoder Transformer: memory = encoder(src); output = decoder(tgt, memory).

    Both stacks end in a LayerNorm (``encoder.norm``, ``decoder.norm``), as PyTorch; every weight
    with more than one dim is Xavier-uniform initialised. The output is the decoder's last hidden
    state: add your own embedding and output projection around it.

    Shape:
        src: (S, N, E) ((N, S, E) with batch_first); tgt: (T, N, E); returns (T, N, E).
        src_mask: (S, S); tgt_mask: (T, T); memory_mask: (T, S); *_key_padding_mask: (N, S) or (N, T).
    """

    def __init__(
        self,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable = F.relu,
        custom_encoder: Module | None = None,
        custom_decoder: Module | None = None,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        dt = dtype if dtype is not None else dtypes.get_default_dtype()
        args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first, norm_first)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(*args, bias, dtype=dt)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dt)
            self.encoder = TransformerEncoder(layer, num_encoder_layers, norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(*args, bias, dtype=dt)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dt)
            self.decoder = TransformerDecoder(layer, num_decoder_layers, norm)
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    def forward(
        self,
        src: Tensor,
        tgt: Tensor,
        src_mask: Tensor | None = None,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        src_is_causal: bool | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        b = 0 if self.batch_first else 1
        if src.ndim == 3 and tgt.ndim == 3 and src.shape[b] != tgt.shape[b]:
            raise ShapeError(
                f"Transformer: expected src and tgt with one batch size, got {src.shape} and {tgt.shape}"
            )
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ShapeError(
                f"Transformer: expected src and tgt of width d_model={self.d_model}, got {src.shape} and {tgt.shape}"
            )
        memory = self.encoder(
            src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal
        )
        return self.decoder(
            tgt,
            memory,
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
            tgt_is_causal=tgt_is_causal,
            memory_is_causal=memory_is_causal,
        )

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device: Any = None, dtype: Any = None) -> Tensor:
        """The float look-ahead mask: 0 on and below the diagonal, -inf above (position i sees 0..i).

        >>> Transformer.generate_square_subsequent_mask(3)
        tensor([[0., -inf, -inf],
                [0., 0., -inf],
                [0., 0., 0.]])
        """
        # PyTorch's construction: an integer dtype refuses -inf (RuntimeError), bool gets True above
        return full((sz, sz), float("-inf"), dtype=dtype, device=device).triu(1)
