"""Many short strings kept in little memory, and found by their hash.

A model's vocabularies and lemma tables hold about 450,000 strings. As Python
strings in dicts they took about 35 MB more in every process that reads mail; here
a string costs its characters in one text, its start, its 64-bit hash and its place
(about 25 bytes). A word is taken for a term when their hashes are equal: for two
different strings that happens about once in 10^14 lookups of a vocabulary this
size. Terms that share a hash with each other are told apart by their text.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from triage.errors import TriageError

if sys.hash_info.width < 64:  # the odds above are those of a 64-bit hash
    raise TriageError("triage needs a 64-bit Python (this one's string hash has "
                      f"{sys.hash_info.width} bits)")

_SEPARATOR = "\n"
_PAST_THE_END = np.iinfo(np.int64).max


class Terms:
    """Distinct strings without a line break, each at its position (its column)."""

    __slots__ = ("_hashes", "_order", "_shared", "_starts", "_text")

    # Python's own string hash, computed again at every load: the files never depend
    # on it (it differs between processes that are not forked from one another).
    _hash: Callable[[str], int] = staticmethod(hash)

    def __init__(self, terms: Iterable[str]) -> None:
        items = list(terms)
        self._text = _SEPARATOR.join(items) + _SEPARATOR
        if self._text.count(_SEPARATOR) != len(items) + (not items):
            raise ValueError("a term holds a line break")
        lengths = np.fromiter(map(len, items), dtype=np.int64, count=len(items))
        self._starts = np.zeros(len(items) + 1, dtype=np.int64)
        np.cumsum(lengths + 1, out=self._starts[1:])
        hashes = np.fromiter(map(self._hash, items), dtype=np.int64, count=len(items))
        order = np.argsort(hashes, kind="stable")
        ordered = hashes[order]
        self._shared: dict[int, list[int]] = {}
        for at in np.flatnonzero(ordered[1:] == ordered[:-1]).tolist():
            positions = self._shared.setdefault(int(ordered[at]), [])
            positions += [int(p) for p in order[at:at + 2] if int(p) not in positions]
        # A term there twice has one hash twice: only those need their text compared.
        for positions in self._shared.values():
            if len({self[p] for p in positions}) != len(positions):
                raise ValueError("a term is there twice")
        # One more place past the end, where a search for a word no term has may land:
        # its position is -1, not found.
        self._hashes = np.append(ordered, _PAST_THE_END)
        self._order = np.append(order, -1).astype(np.int32)

    def __len__(self) -> int:
        return len(self._starts) - 1

    def __getitem__(self, position: int) -> str:
        if not 0 <= position < len(self):
            raise IndexError(position)
        start, end = self._starts[position], self._starts[position + 1] - 1
        return self._text[start:end]

    def __iter__(self) -> Iterator[str]:
        return iter(self._text.split(_SEPARATOR)[:-1] if len(self) else ())

    def __reduce__(self) -> tuple[Any, ...]:
        # The hashes are this process's: another one (not forked from it) has its own.
        return type(self), (list(self),)

    def positions(self, words: Sequence[str]) -> list[int]:
        """The position of each of ``words``, or -1 for a word that is not a term."""
        if not words:
            return []
        wanted = np.fromiter(map(self._hash, words), dtype=np.int64, count=len(words))
        at = self._hashes.searchsorted(wanted)
        found: list[int] = np.where(self._hashes[at] == wanted, self._order[at], -1).tolist()
        if self._shared:
            for i, word in enumerate(words):
                among = self._shared.get(int(wanted[i]))
                if among is not None:
                    found[i] = next((p for p in among if self[p] == word), -1)
        return found

    def position(self, word: str) -> int:
        return self.positions([word])[0]


class LemmaTable(Mapping[str, str]):
    """A lemma per word form (spaCy's lookup table, cut down to what a model uses)."""

    __slots__ = ("_forms", "_lemma_of", "_lemmas")

    def __init__(self, table: Mapping[str, str]) -> None:
        self._forms = Terms(table)
        lemmas = sorted(set(table.values()))
        self._lemmas = Terms(lemmas)
        where = {lemma: i for i, lemma in enumerate(lemmas)}
        self._lemma_of = np.fromiter((where[table[form]] for form in table), dtype=np.int32,
                                     count=len(table))

    def __getitem__(self, form: str) -> str:
        position = self._forms.position(form)
        if position < 0:
            raise KeyError(form)
        return self._lemma_at(position)

    def __iter__(self) -> Iterator[str]:
        return iter(self._forms)

    def __len__(self) -> int:
        return len(self._forms)

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (dict(self),)

    def lemmas(self, forms: Sequence[str]) -> list[str]:
        """The lemma of each of ``forms``; a form the table lacks is its own lemma."""
        return [form if position < 0 else self._lemma_at(position)
                for form, position in zip(forms, self._forms.positions(forms), strict=True)]

    def _lemma_at(self, position: int) -> str:
        return self._lemmas[int(self._lemma_of[position])]
