"""Small datasets for learning: toy problems made on the fly, scikit-learn's digits, MNIST's IDX files."""

from glassgrad.datasets.digits import digits
from glassgrad.datasets.idx import MNIST, IDXFormatError, read_idx, write_idx

# sequence tasks (recurrent networks)
from glassgrad.datasets.sequences import adding_problem, char_vocab, first_token, reversal
from glassgrad.datasets.toy import GATES, logic_gate, moons, spirals, xor

__all__ = [
    "xor",
    "logic_gate",
    "spirals",
    "moons",
    "GATES",
    "digits",
    "read_idx",
    "write_idx",
    "IDXFormatError",
    "MNIST",
    # sequence tasks (recurrent networks)
    "adding_problem",
    "first_token",
    "reversal",
    "char_vocab",
]

# tokenizers and the dates-in-words translation task (issue 10)
from glassgrad.datasets.tokenizers import BOS, EOS, PAD, CharTokenizer, Tokenizer, WordTokenizer
from glassgrad.datasets.translation import DateTranslation, date_in_words, year_in_words

__all__ += [
    "Tokenizer",
    "CharTokenizer",
    "WordTokenizer",
    "PAD",
    "BOS",
    "EOS",
    "DateTranslation",
    "date_in_words",
    "year_in_words",
]
