"""``torch.nn.modules.rnn``'s import path: the same classes as ``glassgrad.nn``."""

from glassgrad.nn.rnn import GRU, LSTM, RNN, RNNBase
from glassgrad.nn.rnn_cells import GRUCell, LSTMCell, RNNCell, RNNCellBase

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNBase", "RNNCell", "RNNCellBase"]
