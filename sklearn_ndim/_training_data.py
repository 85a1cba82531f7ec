"""The rows a fit trains on: batches, chunks with their views, and a stream's sample.

In memory all rows are one tensor on the device; a numpy memmap is read one
chunk at a time; a stream (``partial_fit``) keeps a uniform sample of the rows
it has shown, from which later chunks draw neighbours.
"""

import math

import numpy as np
import torch

__all__ = [
    "TensorBatchIterator",
    "TrainingData",
    "ChunkedBatchIterator",
    "Reservoir",
    "STREAM_CHUNK_ROWS",
    "chunk_bounds",
    "row_copies",
    "first_occurrences",
]

#: Rows per chunk when training streams from a numpy memmap.
STREAM_CHUNK_ROWS = 65_536


class TensorBatchIterator:
    """Mini-batches sliced from one in-memory tensor.

    skorch's default ``DataLoader`` collates rows one at a time, which for
    small models costs more than the model itself; slicing a tensor with a
    permutation gives the same batches at a fraction of the overhead.

    Parameters
    ----------
    data : torch.Tensor
        All rows.
    batch_size : int
        Rows per batch.
    shuffle : bool, default=False
        Draw a new permutation each epoch from ``generator``.
    drop_last : bool, default=False
        Skip the last partial batch (it would change InfoNCE's ``ln B`` scale).
    generator : torch.Generator or None
        Source of the permutations.
    """

    def __init__(self, data, batch_size, shuffle=False, drop_last=False, generator=None):
        self.data = data
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = generator

    def __len__(self):
        n_rows = self.data.shape[0]
        if self.drop_last:
            return n_rows // self.batch_size
        return math.ceil(n_rows / self.batch_size)

    def __iter__(self):
        """Yield ``(rows, row_indices)``; the indices let views find neighbours."""
        n_rows = self.data.shape[0]
        device = self.data.device
        if self.shuffle:
            order = torch.randperm(n_rows, generator=self.generator, device=self.generator.device)
            order = order.to(device)
        else:
            order = torch.arange(n_rows, device=device)
        for batch_index in range(len(self)):
            start = batch_index * self.batch_size
            indices = order[start : start + self.batch_size]
            rows = self.data[indices] if self.shuffle else self.data[start : start + len(indices)]
            yield rows, indices


def chunk_bounds(n_rows, chunk_rows=None):
    """``(start, stop)`` of each chunk of ``chunk_rows`` rows (one chunk when None).

    A last chunk of under half a chunk joins the one before: alone it would
    give few batches or none, and a single row has no neighbours.
    """
    step = n_rows if chunk_rows is None else chunk_rows
    starts = list(range(0, n_rows, step))
    if len(starts) > 1 and n_rows - starts[-1] < max(2, step / 2):
        starts.pop()
    return list(zip(starts, starts[1:] + [n_rows], strict=True))


class TrainingData:
    """Rows as the contrastive step sees them: standardised chunks, each with its views.

    In memory (the usual case) all rows form one chunk, held as one tensor on
    the device. With ``chunk_rows`` the rows (a numpy memmap, say) are read and
    standardised one chunk at a time, so memory holds one chunk, never the
    whole array; each chunk's neighbour graph is searched once and kept.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Validated rows (any numeric dtype; a memmap is only read).
    scaler : InputScaler
        Standardisation, applied in float64 before the cast to float32.
    device : torch.device
        Where chunks, views and the neighbour search live.
    view_spec : ViewSpec
        The fit's views.
    input_shape : tuple of int
        Shape of one sample as the encoder receives it.
    seed : int
        Seeds the approximate neighbour search.
    chunk_rows : int or None, default=None
        Rows per chunk (the last one takes a remainder of under half a chunk,
        up to 1.5 times as many); None keeps all rows as one resident chunk.
    neighbor_pool : torch.Tensor or None, default=None
        Standardised flat rows from outside ``X`` that neighbours may also be
        drawn from: the other processes' shares in a data-parallel fit (one
        process draws neighbours from all rows), or the rows a stream showed
        earlier. Copies of a row count once, and copies of a chunk's own rows
        are left out: a copy drawn as a neighbour is no view, and copies crowd
        out real neighbours (a stream passed over more than once repeats rows).
    """

    def __init__(
        self,
        X,
        scaler,
        device,
        view_spec,
        input_shape,
        seed,
        chunk_rows=None,
        neighbor_pool=None,
    ):
        self.X = X
        self.scaler = scaler
        self.device = device
        self.view_spec = view_spec
        self.input_shape = tuple(input_shape)
        self.seed = seed
        self.neighbor_pool = neighbor_pool
        self.bounds = chunk_bounds(X.shape[0], chunk_rows)
        self._resident = None
        self._neighbors = {}

    @property
    def shape(self):
        return self.X.shape

    def __len__(self):
        return self.X.shape[0]

    def rows(self, chunk):
        """Standardised flat rows of one chunk, as a float32 tensor on the device."""
        if len(self.bounds) == 1 and self._resident is not None:
            return self._resident
        start, stop = self.bounds[chunk]
        rows = self.scaler.to_tensor(self.X[start:stop], self.device)
        if len(self.bounds) == 1:
            self._resident = rows
        return rows

    def views(self, chunk, rows):
        """View sampler for the rows of one chunk (indices are positions in the chunk)."""
        if chunk not in self._neighbors:
            extra = None if self.neighbor_pool is None else _distinct_rows(self.neighbor_pool, rows)
            bank = self._bank(rows, extra)
            neighbors = self.view_spec.neighbors(bank, len(rows), self.seed)
            if len(self.bounds) == 1:
                # One resident chunk: keep its bank, and hold the rows as a view
                # of it, so that a bank with other rows is not a second copy.
                self._resident = bank.reshape(bank.shape[0], -1)[: len(rows)]
                self.neighbor_pool = None
                self._neighbors[chunk] = (bank, neighbors)
            else:
                self._neighbors[chunk] = (extra, neighbors)
        kept, neighbors = self._neighbors[chunk]
        bank = kept if len(self.bounds) == 1 else self._bank(rows, kept)
        return self.view_spec.build(bank, neighbors)

    def _bank(self, rows, extra):
        bank = rows if extra is None else torch.cat([rows, extra])
        return bank.reshape((bank.shape[0],) + self.input_shape)

    def chunks(self, order=None):
        """Yield ``(rows, views)`` for each chunk, in ``order`` (all in turn by default)."""
        for chunk in range(len(self.bounds)) if order is None else order:
            rows = self.rows(int(chunk))
            yield rows, self.views(int(chunk), rows)


class ChunkedBatchIterator:
    """Batches ``(rows, indices, views)`` over the chunks of a :class:`TrainingData`.

    Chunks come in a random order; within a chunk, batches are shuffled full
    batches (the last partial one of each chunk is dropped, so that every
    batch has the same ``ln B`` ceiling).

    Parameters
    ----------
    data : TrainingData
    batch_size : int
    generator : torch.Generator
        Source of the chunk order and the permutations.
    """

    def __init__(self, data, batch_size, generator):
        self.data = data
        self.batch_size = batch_size
        self.generator = generator

    def __len__(self):
        return sum((stop - start) // self.batch_size for start, stop in self.data.bounds)

    def __iter__(self):
        n_chunks = len(self.data.bounds)
        order = torch.randperm(n_chunks, generator=self.generator, device=self.generator.device)
        for rows, views in self.data.chunks(order.tolist()):
            batches = TensorBatchIterator(rows, self.batch_size, True, True, self.generator)
            for batch, indices in batches:
                yield batch, indices, views


#: Odd 64-bit multiplier of the row hash (the golden ratio's, as in Fibonacci hashing).
_HASH_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
#: Rows compared per block, which bounds the temporary copies.
_COMPARE_ROWS = 65_536


def _words(rows):
    """The rows of a tensor as a C-contiguous ``(n, w)`` array of 32-bit words.

    Zero-padded to whole words: two rows are bytewise equal exactly when their
    words are.
    """
    flat = np.ascontiguousarray(rows.detach().cpu().numpy())
    flat = flat.reshape(len(flat), int(np.prod(flat.shape[1:], dtype=np.int64)))
    data = flat.view(np.uint8)
    if data.shape[1] % 4:
        data = np.pad(data, ((0, 0), (0, 4 - data.shape[1] % 4)))
    return np.ascontiguousarray(data).view(np.uint32)


def _hashes(words):
    """A 64-bit hash of each row: a few bytes per row, not a copy of the rows."""
    hashes = np.zeros(len(words), dtype=np.uint64)
    for column in words.T:
        hashes ^= column.astype(np.uint64)
        hashes *= _HASH_MULTIPLIER
        hashes ^= hashes >> np.uint64(31)
    return hashes


def _records(words):
    """Each row as one opaque record, for exact comparisons (on the few colliding rows)."""
    return words.view(np.dtype((np.void, 4 * words.shape[1]))).ravel()


def _equal_rows(words, first, second, reference=None):
    """Whether rows ``first`` of ``words`` equal rows ``second`` of ``reference`` (or ``words``)."""
    reference = words if reference is None else reference
    equal = np.empty(len(first), dtype=bool)
    for start in range(0, len(first), _COMPARE_ROWS):
        block = slice(start, start + _COMPARE_ROWS)
        equal[block] = (words[first[block]] == reference[second[block]]).all(axis=1)
    return equal


def row_copies(rows, reference):
    """Mask of the ``rows`` that are exact (bytewise) copies of some row of ``reference``.

    Rows are matched by a hash, and every match is confirmed on the bytes.

    Parameters
    ----------
    rows, reference : torch.Tensor of shape (n, p) and (m, p)
        Flat rows of the same dtype, on any device.

    Returns
    -------
    torch.Tensor of shape (n,), bool, on ``rows``' device
    """
    found = _copies(_Hashed(rows), _Hashed(reference))
    return torch.as_tensor(found, dtype=torch.bool, device=rows.device)


def first_occurrences(rows):
    """Mask keeping the first of each group of bytewise identical ``rows``.

    Rows are grouped by a hash, and every group is confirmed on the bytes.
    """
    return torch.as_tensor(_first_occurrences(_Hashed(rows)), device=rows.device)


def _distinct_rows(pool, rows):
    """The rows of ``pool`` that are neither repeats nor copies of ``rows``, once each.

    ``pool`` itself is returned when nothing is left out, so that it is not copied.
    """
    hashed = _Hashed(pool)  # once, for both tests
    keep = _first_occurrences(hashed) & ~_copies(hashed, _Hashed(rows))
    return pool if bool(keep.all()) else pool[torch.as_tensor(keep, device=pool.device)]


class _Hashed:
    """Rows as 32-bit words with their hashes, computed once for several comparisons."""

    def __init__(self, rows):
        self.words = _words(rows)
        self.hashes = _hashes(self.words)

    def __len__(self):
        return len(self.words)


def _copies(rows, reference):
    """Mask of the hashed ``rows`` that copy some row of the hashed ``reference``."""
    found = np.zeros(len(rows), dtype=bool)
    if len(rows) and len(reference):
        order = np.argsort(reference.hashes, kind="stable")
        sorted_hashes = reference.hashes[order]
        position = np.minimum(np.searchsorted(sorted_hashes, rows.hashes), len(order) - 1)
        candidates = np.flatnonzero(sorted_hashes[position] == rows.hashes)
        found[candidates] = _equal_rows(
            rows.words, candidates, order[position[candidates]], reference.words
        )
        # Same hash, other bytes: a collision, decided exactly among those rows.
        unsure = candidates[~found[candidates]]
        if unsure.size:
            alike = np.flatnonzero(np.isin(reference.hashes, rows.hashes[unsure]))
            found[unsure] = np.isin(_records(rows.words[unsure]), _records(reference.words[alike]))
    return found


def _first_occurrences(rows):
    """Mask keeping the first of each group of identical hashed ``rows``."""
    keep = np.zeros(len(rows), dtype=bool)
    if len(rows):
        _, first, group = np.unique(rows.hashes, return_index=True, return_inverse=True)
        group = group.ravel()
        index = np.arange(len(rows))
        keep = first[group] == index
        collided = ~_equal_rows(rows.words, index, first[group])
        if collided.any():
            # Same hash, other bytes: decide those groups exactly.
            members = np.flatnonzero(np.isin(group, group[collided]))
            keep[members] = False
            keep[members[np.unique(_records(rows.words[members]), return_index=True)[1]]] = True
    return keep


class Reservoir:
    """A uniform random sample of at most ``capacity`` rows of a stream (algorithm R).

    A stream passed over several times (epochs of ``partial_fit``) leaves
    copies of a row in the sample, as often as the stream showed it, so the
    sample keeps the data's weights for calibration; the neighbour bank
    leaves the copies out (:meth:`TrainingData.views`).

    Parameters
    ----------
    capacity : int
        Most rows kept.
    seed : int
        Seeds which rows are kept.
    """

    def __init__(self, capacity, seed):
        self.capacity = capacity
        self.seed = seed
        self.rows = None
        self.seen = 0

    def add(self, rows):
        """Offer the standardised flat rows of one chunk to the sample."""
        rows = rows.detach()
        room = self.capacity if self.rows is None else self.capacity - len(self.rows)
        head, rest = rows[:room], rows[room:]
        self.rows = head.clone() if self.rows is None else torch.cat([self.rows, head])
        self.seen += len(head)
        if len(rest):
            # Row number t (1-based) replaces a uniform slot of [0, t) when that
            # slot is a kept one; of several rows drawing one slot the last wins.
            rng = np.random.default_rng([self.seed, self.seen])
            draws = rng.integers(0, self.seen + np.arange(1, len(rest) + 1))
            self.seen += len(rest)
            kept = np.flatnonzero(draws < self.capacity)
            slots, last = np.unique(draws[kept][::-1], return_index=True)
            chosen = kept[::-1][last]
            index = torch.as_tensor(slots, device=rows.device)
            self.rows[index] = rest[torch.as_tensor(chosen, device=rows.device)]
