"""NoisyInfoMaxEmbedder: embeddings that follow a chosen prior, as a transformer."""

from numbers import Integral

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_random_state, check_scalar
from sklearn.utils.validation import check_is_fitted

from ._fitting import fit_state, update_atomically
from ._inference import (
    check_codes,
    check_decoder,
    decoded_rows,
    gaussian_embedding,
    label_free_score,
    mutual_info_on,
    output_dtype,
    portable_state,
    restore_devices,
)
from ._priors import typicality_logp
from ._streaming import partial_fit_state
from ._validation import (
    EMBEDDER_PARAMETER_CONSTRAINTS,
    check_not_bool,
    validate_fitted_input,
)

__all__ = ["NoisyInfoMaxEmbedder"]


class NoisyInfoMaxEmbedder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Self-supervised embedding whose distribution matches a chosen prior.

    Noise-Injected Deep InfoMax [1]_: an encoder is trained to maximise the
    InfoNCE estimate of the mutual information between two random views of
    each sample, with its output standardised (no affine parameters) and
    independent noise added on one branch. Under that power constraint the
    capacity-achieving output distribution is the maximum-entropy one, so
    training pushes the embedding towards N(0, I); other priors are maps of
    it (``Phi`` per dimension gives U([0, 1]^d), ``prior="uniform"``). The
    noise sets the channel capacity (how much information the embedding may
    keep). On held-out rows of the
    benchmark sets the match is best at ``noise_scale`` 0.25 to 0.5 (``d=16``)
    and worse at large noise, while from 0.25 up more noise keeps more class
    information;
    the default ``"auto"`` favours the information. Tune ``noise_scale`` for
    your data, e.g. with GridSearchCV and :meth:`score` (see the user
    guide's page on choosing the noise).

    Parameters
    ----------
    n_components : int, default=8
        Dimension ``d`` of the embedding, >= 1. ``fit`` warns when it exceeds
        the number of features, or is not below the number of rows: the
        embedding then lies on a lower-dimensional surface and cannot follow
        the prior.

    prior : {"gaussian", "uniform"}, Prior or scipy.stats frozen distribution, \
            default="gaussian"
        Target distribution. A frozen univariate continuous distribution
        (e.g. ``scipy.stats.laplace()``) gives the product of that marginal:
        the network learns N(0, I) and :meth:`transform` applies the
        probability integral transform ``F^{-1}(Phi(z))`` per dimension.
        A :class:`Prior` (:class:`GaussianPrior`, say) names the same kinds.

    noise_scale : 0, float in [1e-3, 1e3] or "auto", default="auto"
        Standard deviation ``sigma`` of the Gaussian channel noise, added to
        the Gaussian-space embedding whatever the prior. ``0``
        is plain InfoMax (no push towards the prior). ``"auto"`` picks the
        noise whose channel capacity equals ``ln(batch_size)``, the most
        InfoNCE can measure (1 at ``d = 16`` and ``B = 256``), kept within
        [1e-3, 1e3] (at ``n_components=1`` batches of more than 1,000 rows
        would need less); for images (as in ``max_epochs``) trained with a
        positive prior penalty (``"auto"`` gives 30), which pulls whatever
        the noise, at most 1. See ``noise_scale_``.

    prior_penalty : float in [0, 1e6] or "auto", default="auto"
        Weight of a penalty that pulls the embedding towards the prior: the
        squared sliced 2-Wasserstein distance between each batch's
        embeddings (clean rows and views, before the noise) and N(0, I), in
        the normaliser's Gaussian space, averaged over 64 random directions.
        ``0`` trains the paper's objective alone. The method's own pull, the
        KL term of the InfoNCE identity, fades as the noise grows; the
        penalty does not. Its measured effect on match and accuracy is in
        the user guide ("Choosing the noise"). ``"auto"`` is 30 for images
        whose views shift them (see ``max_epochs``), in ``fit`` and
        ``partial_fit``, and 0 otherwise; ``prior_penalty_`` gives the weight
        used.

    encoder : {"auto", "mlp", "conv"} or callable, default="auto"
        ``"auto"`` uses a convolutional network for images (3-D or 4-D ``X``,
        or ``image_shape`` set) and an MLP otherwise. A callable (a
        ``torch.nn.Module`` subclass, a ``functools.partial``) is called as
        ``encoder(input_shape=..., n_components=...)``; a module instance is
        deep-copied at each fit (its current weights are the starting point).
        It must map a float32 batch of shape ``(B, *input_shape)`` to
        ``(B, d)``; ``input_shape`` is ``(n_features,)`` for rows and
        ``(C, H, W)`` for images (``(1, H, W)`` for grey ones). It computes
        in float32 in training and inference alike (the built-in encoders
        embed float64 input in float64). The library's own
        :class:`~sklearn_ndim.nn.MLPEncoder` and
        :class:`~sklearn_ndim.nn.ConvEncoder`, or partials of them, are
        called with their own argument names, so
        ``functools.partial(ConvEncoder, channels=(32, 64))`` sizes the
        convolutional network.

    hidden_layer_sizes : tuple of int, default=(256, 256)
        Hidden widths of the MLP encoder, and of the MLP decoder of tables
        (``fit_inverse_transform``); a fit whose networks they size not
        warns.

    image_shape : tuple of int, default=None
        ``(H, W)`` or ``(C, H, W)`` of one image when images arrive as
        flattened rows, channels first (``(H, W, C)`` with 1 to 4 channels
        after two axes longer than 4 is refused as channels-last). Not needed
        for 3-D ``(n, H, W)`` or 4-D ``(n, C, H, W)`` input, which follow
        the same rule; 4-D input whose last axis is the shortest, such as
        ``(n, 16, 16, 8)``, is read channels first with a warning.

    critic : {"separable", "quadratic", "mlp"}, default="separable"
        Pair score for InfoNCE: a scaled dot product, the negative scaled
        squared distance (optimal for the Gaussian channel with invariant
        views), or an MLP on the concatenated pair (about 90x slower on digits on a
        CPU).

    normalizer : {"whiten", "standardize"}, default="whiten"
        Output normaliser before the noise: batch whitening (identity
        covariance, so linear correlation between dimensions is ruled out),
        or the paper's per-dimension standardisation. Neither has affine
        parameters, so the noise keeps its meaning, and N(0, I) is the
        capacity-achieving output under both constraints. Whitening
        estimates each batch's covariance from its clean rows, so it needs
        ``batch_size > n_components``; fit warns below ``2 * n_components``,
        where the estimate's noise inflates the views and worsens the match.

    n_neighbors : int >= 0 or "auto", default="auto"
        The view of a row first moves it a random fraction of the way towards
        one of its ``n_neighbors`` nearest rows (Euclidean, on the
        standardised input), so that the embedding keeps neighbourhoods
        instead of telling individual rows apart. ``0`` turns it off.
        ``"auto"`` is 10 for tables and for images too small to shift
        (``max_shift`` resolves to 0), and 0 for larger images, which rely
        on their shifts and intensity changes (pixel-space neighbours cost
        them much of their prior match). The search is exact up to 100,000
        rows and approximate (pynndescent) above.

    jitter_scale : float >= 0, default=0.1
        Standard deviation of the Gaussian noise that makes a view, in units
        of the standardised input (features, or pixels per channel).

    corruption_rate : float in [0, 1), default=0.0
        Tabular views only: fraction of features replaced by draws from
        their empirical marginals (SCARF). Raises probe accuracy on some
        tables, at the price of a weaker match to the prior.

    max_shift : int >= 0 or "auto", default="auto"
        Image views only: largest random translation in pixels. ``"auto"``
        is one pixel per 12 of the smaller image side (2 for 28x28, none
        below 12x12: on 8x8 images a 2-pixel shift moves a quarter of the
        image and training learned nothing at 64 dimensions); below the
        smaller side.

    flip : bool, default=False
        Image views only: random left-right mirroring. Off by default because
        it changes the meaning of digits and text.

    intensity_jitter : float in [0, 1), default=0.2
        Image views only: random contrast in ``[1-s, 1+s]`` and brightness in
        ``[-s, s]`` per image.

    fit_inverse_transform : bool, default=False
        Also train a decoder after the encoder (an MLP mirroring the encoder
        for tables, a small transposed-convolution network for images), so
        that :meth:`inverse_transform` and :meth:`sample` map embeddings back
        to the input space. The decoder is trained for as many epochs as the
        encoder and at least 1000 steps; on images that second run can take
        longer than the encoder's. Off by default because most uses of the
        embedding do not need it.

    standardize : bool, default=True
        Standardise inputs with the training mean and standard deviation
        (per feature; per channel for images) inside the model.

    batch_size : int >= 2, default=256
        Rows per training batch ``B``; capped at the number of samples. The
        last partial batch of each epoch is dropped, so every batch has the
        same ``ln B`` ceiling.

    max_epochs : int >= 1 or "auto", default="auto"
        Passes over the data. ``"auto"`` gives each fit a budget of about
        250,000 row presentations: 100 epochs up to 2,500 rows (where the
        held-out match kept improving up to 100 epochs), then
        ``ceil(250000 / n_samples)`` (25 epochs for 10,000 rows), one epoch
        from 250,000 rows on; the fit time still grows with the rows (user
        guide, "Large data, GPUs and processes"). Images whose views shift them (``max_shift``
        above 0: 12 pixels a side or more under ``"auto"``; not with
        ``encoder="mlp"``) get half those epochs with
        ``learning_rate="auto"``, whose decay the shorter fit needs (13 for
        10,000 images), and ``prior_penalty="auto"``'s penalty: on two image
        sets that kept the longer fit's match at a higher probe accuracy in
        half the time (user guide, "Faster fits"). See ``n_iter_``.

    learning_rate : float > 0 or "auto", default="auto"
        Adam learning rate. ``"auto"`` is 1e-3, constant, for tables and
        streams (``partial_fit``); for images (as in ``max_epochs``) ``fit``
        starts at 3e-3 and decays it to 0 on a cosine over the epochs,
        unless ``callbacks`` hold a ``skorch.callbacks.LRScheduler`` of
        yours, which then drives the 3e-3 (over the full epoch budget).

    weight_decay : float >= 0, default=0.0
        Adam weight decay.

    device : str, default="cpu"
        Torch device to train and infer on: ``"cpu"``, ``"cuda"``,
        ``"cuda:1"``, ``"mps"`` or ``"auto"`` (CUDA when available, else the
        CPU).

    mixed_precision : bool or "auto", default="auto"
        Run the encoder under bfloat16 autocast in training (the normaliser,
        noise, critic, the decoder and inference stay in float32). ``"auto"``
        uses it on CUDA devices with bfloat16 in hardware (compute
        capability 8.0 or more), not on the CPU; ``True`` on the CPU too,
        where it paid on a processor with bfloat16 instructions (AVX512-BF16;
        elsewhere it is emulated), and fit raises on other devices without
        it; ``False`` trains in float32 everywhere. The scaling page has its
        measured speed and accuracy.

    callbacks : list of skorch callbacks, default=None
        Extra skorch callback instances (or ``(name, instance)`` tuples)
        passed to the training net, e.g. ``skorch.callbacks.EarlyStopping``
        with ``monitor="train_loss"``. As in skorch, the instances are the
        live ones: each fit initialises them and they keep their state
        afterwards (GridSearchCV and ``clone`` work on copies), but for an
        ``LRScheduler``'s torch scheduler, which holds the optimiser and is
        dropped after training (skorch makes a new one at the next).

    random_state : int, RandomState instance or None, default=None
        Seeds weights, batches, views and noise. The same value gives
        bitwise identical results on the CPU for a fixed number of torch
        threads (``GridSearchCV(n_jobs=2)`` runs fewer threads per fit than
        ``n_jobs=1``), also for fits running at once in Python threads (with
        a custom encoder, which may draw random numbers while training, they
        run one at a time); the caller's torch and numpy random states are
        untouched.

    verbose : int, default=0
        0 silent, 1 a table per epoch (loss, MI estimate in nats, capacity,
        time), 2 also a progress bar.

    Attributes
    ----------
    prior_ : Prior
        The prior resolved at fit; ``transform``, ``score`` and the other
        methods use it, whatever ``prior`` is set to afterwards.

    n_components_ : int
        Dimension of the embedding.

    net_ : skorch.NeuralNet
        The trained skorch net; use ``net_.module_``, the torch module (the
        net's own ``forward``, ``predict`` and ``fit`` take the library's
        training data, not rows). In eval mode the module maps float32 flat
        rows standardised as ``(X - input_mean_) / input_scale_`` to the
        Gaussian-space embedding (``prior_.from_gaussian`` maps it to the
        prior); training it further leaves ``transform``'s calibration stale.

    input_mean_, input_scale_ : ndarray of shape (``n_features_in_``,)
        The input standardisation (per channel for images, repeated over
        its pixels). ``input_scale_`` is ``inf`` for the constant features,
        which the model ignores: their standardised values are then 0, as
        in training. With ``standardize=False``, 0 and 1.

    batch_size_ : int
        Rows per training batch actually used, ``min(batch_size, n_samples)``,
        times the number of processes in a distributed fit (each row is
        scored against all of them).

    noise_scale_ : float
        Noise scale used in training (resolves ``"auto"``).

    prior_penalty_ : float
        Weight of the prior penalty in training (resolves ``"auto"``).

    capacity_ : float
        Channel capacity ``C`` in nats for this prior, ``d`` and noise; the
        mutual information can reach it only if the embedding follows the
        prior exactly (``inf`` when ``noise_scale_ == 0``).

    mutual_info_ : float
        InfoNCE estimate (nats) of ``I(f(X'); f(X) + Z)`` on the training
        rows with the final, calibrated model.

    n_iter_ : int
        Epochs run (a ``partial_fit`` call runs one, over its chunk).

    history_ : skorch.History
        Per-epoch ``train_loss``, ``mutual_info``, ``capacity`` and ``dur``,
        and ``event_lr`` (the learning rate) when a schedule ran.

    n_features_in_ : int
        Number of features seen during fit (pixels for images).

    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    sklearn_ndim.io.save : Write a fitted embedder to a file that runs no
        code when loaded (pickle and joblib files do).
    sklearn.decomposition.PCA : Linear projection; whitened output has unit
        covariance but no control over the distribution.
    sklearn.preprocessing.QuantileTransformer : Matches each marginal, not
        the joint distribution.

    References
    ----------
    .. [1] I. Butakov et al., "Efficient Distribution Matching of
       Representations via Noise-Injected Deep InfoMax", ICLR 2025,
       arXiv:2410.06993.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_ndim import NoisyInfoMaxEmbedder
    >>> X, _ = load_digits(return_X_y=True)
    >>> embedder = NoisyInfoMaxEmbedder(n_components=4, max_epochs=5, random_state=0)
    >>> Z = embedder.fit_transform(X)
    >>> Z.shape
    (1797, 4)
    >>> bool(abs(Z.mean()) < 0.1)
    True
    """

    _parameter_constraints = EMBEDDER_PARAMETER_CONSTRAINTS

    def __init__(
        self,
        n_components=8,
        *,
        prior="gaussian",
        noise_scale="auto",
        prior_penalty="auto",
        encoder="auto",
        hidden_layer_sizes=(256, 256),
        image_shape=None,
        critic="separable",
        normalizer="whiten",
        n_neighbors="auto",
        jitter_scale=0.1,
        corruption_rate=0.0,
        max_shift="auto",
        flip=False,
        intensity_jitter=0.2,
        fit_inverse_transform=False,
        standardize=True,
        batch_size=256,
        max_epochs="auto",
        learning_rate="auto",
        weight_decay=0.0,
        device="cpu",
        mixed_precision="auto",
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.prior = prior
        self.noise_scale = noise_scale
        self.prior_penalty = prior_penalty
        self.encoder = encoder
        self.hidden_layer_sizes = hidden_layer_sizes
        self.image_shape = image_shape
        self.critic = critic
        self.normalizer = normalizer
        self.n_neighbors = n_neighbors
        self.jitter_scale = jitter_scale
        self.corruption_rate = corruption_rate
        self.max_shift = max_shift
        self.flip = flip
        self.intensity_jitter = intensity_jitter
        self.fit_inverse_transform = fit_inverse_transform
        self.standardize = standardize
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.device = device
        self.mixed_precision = mixed_precision
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the encoder on ``X`` (labels are not used).

        ``fit`` is atomic: if it fails or is interrupted (Ctrl-C), the
        estimator is left exactly as it was before the call (unfitted, or
        with its previous fit).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, H, W) \
                or (n_samples, C, H, W)
            Training rows or images (float or uint8). At least 2 samples.
        y : None
            Ignored; present for Pipeline compatibility.

        Returns
        -------
        self : NoisyInfoMaxEmbedder
            The fitted estimator.
        """
        return update_atomically(self, fit_state, X)

    def partial_fit(self, X, y=None):
        """Train for one pass over the chunk ``X``, continuing from the current model.

        For data that arrives in chunks or does not fit in memory, as in
        :class:`~sklearn.decomposition.IncrementalPCA`. The first call sets up
        the model (input standardisation, batch size and noise from this
        chunk, which should be representative); each call then runs one epoch
        over its chunk, with neighbour views drawn from the chunk and from a
        reservoir sample of the rows seen so far (copies of a row, from a
        stream passed over several times, count once as neighbours), and
        recalibrates the output normaliser on that sample. Only
        ``partial_fit`` keeps that sample: after :meth:`fit` or
        :func:`~sklearn_ndim.io.load` it starts from the next chunk (a warning
        says so). Like :meth:`fit`,
        a failed call leaves the estimator as it was; so does a pass that
        makes a model that had learned collapse (1 % of the distinct rows of
        its sample hold over 90 % of the embedding's spread along some
        direction, the others squeezed together: most often corrupt or
        extreme rows in the chunk), which raises a ``ValueError``.
        Parameters that define the model (``n_components``, ``prior``, the
        encoder, the views, ``device``...) cannot change between calls, and a
        call refuses them (:func:`~sklearn_ndim.io.load` moves a model to
        another device, without its stream's sample); the current
        ``learning_rate``, ``weight_decay``, ``mixed_precision``,
        ``callbacks`` and ``verbose`` apply; each call's optimiser starts
        from ``learning_rate`` (1e-3 under ``"auto"``), and a learning-rate
        schedule among the callbacks is rebuilt in each call, at the epochs
        in ``history_``: it does not advance across calls as in ``fit`` (a
        warning says so). A stream trains no
        decoder: ``fit_inverse_transform=True`` is refused, and a model
        fitted with a decoder loses it at its first pass.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or image array
            One chunk. The first call sets ``batch_size_`` to ``min(batch_size,
            len(X))``; later chunks need at least ``batch_size_`` rows.
        y : None
            Ignored.

        Returns
        -------
        self : NoisyInfoMaxEmbedder
        """
        if self.fit_inverse_transform:
            raise ValueError(
                "partial_fit does not train a decoder, and a model it updates loses the one fit "
                "trained. Set fit_inverse_transform=False to stream (set_params), or fit on "
                "data in memory (or a memmap) to get a decoder."
            )
        # Every call: the training controls (learning_rate...) may have changed.
        self._validate_params()
        return update_atomically(self, partial_fit_state, X)

    def transform(self, X):
        """Embed ``X`` deterministically (no noise, no batch statistics).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or image array
            Rows or images shaped as in :meth:`fit`.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Embedding in the prior's space: float32 for float32 input, float64
            otherwise. float64 input is computed in float64, all other input
            (float32, integers such as uint8 images, float16) in float32.
        """
        check_is_fitted(self)
        X = validate_fitted_input(self, X)
        dtype = output_dtype(X)
        return self.prior_.from_gaussian(gaussian_embedding(self, X), dtype)

    def score(self, X, y=None):
        """Label-free score of the embedding of ``X``: information kept minus mismatch.

        Returns ``I_hat - KL_hat`` in nats, higher is better:

        - ``I_hat`` is :meth:`estimate_mutual_info` on ``X``: how much of the
          sample the embedding still tells apart through the noisy channel.
        - ``KL_hat`` estimates ``KL(P_f(X) || prior)`` above the sampling noise
          floor (Gaussian fit of the joint plus marginal negentropies, in the
          Gaussian space, where KL is the same as in the prior's space).

        Comparing noise scales with it trades accuracy against distribution
        match, so GridSearchCV can tune ``noise_scale`` without labels. It
        cannot choose a ``prior``: every prior trains the same Gaussian-space
        model, which both terms measure, so equal seeds give equal scores
        whatever the prior. Both terms depend on ``len(X)``: compare scores
        on sets of equal size.
        ``I_hat`` is a seeded Monte-Carlo estimate over batches of rows; see
        :meth:`estimate_mutual_info` for how it depends on their order.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or image array
            Held-out rows, at least ``n_components + 2`` and at least 5.
        y : None
            Ignored.

        Returns
        -------
        score : float

        Raises
        ------
        ValueError
            When ``X`` has too few rows for the estimate, or when its
            embedding has so many repeated values (discrete features) that
            its divergence from the continuous prior is infinite.
        """
        check_is_fitted(self)
        return label_free_score(self, validate_fitted_input(self, X))

    def score_samples(self, X):
        """Log typicality p-value of each row's embedding under the prior (outlier score).

        Lower is more anomalous. The log-density is the wrong score here: in
        ``d`` dimensions almost all of the prior's mass lies in a shell around
        the mode, and rows unlike the training data tend to land near the
        mode (an encoder has no features for them), where the density is
        highest. The score is the log of :meth:`prior_pvalues`, a two-sided
        test of the squared norm of the Gaussian-space embedding against its
        chi-square distribution, for every prior.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or image array
            Rows to score.

        Returns
        -------
        log_pvalue : ndarray of shape (n_samples,)
            In ``(-inf, 0]``; finite unless the embedding overflows the float range.
        """
        check_is_fitted(self)
        return typicality_logp(gaussian_embedding(self, validate_fitted_input(self, X)))

    def estimate_mutual_info(self, X):
        """InfoNCE estimate (nats) of ``I(f(X'); f(X) + Z)`` on the rows of ``X``.

        Uses the fitted views and channel noise with the final model in
        evaluation mode, over shuffled full batches of ``min(batch_size_,
        len(X))`` rows, with a fixed seed (so the result is deterministic).
        It is a lower bound, capped by ``ln`` of that batch size. The batches
        follow a seeded permutation of row positions: the same rows in
        another order give another draw of the estimate (spread about 0.1
        nat on 100 rows), and the ``len(X) % batch_size_`` rows left after
        the last full batch are not used.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or image array
            At least 2 rows.

        Returns
        -------
        mutual_info : float
        """
        check_is_fitted(self)
        return mutual_info_on(self, validate_fitted_input(self, X))

    def prior_pvalues(self, X):
        """Two-sided typicality p-value of each row's embedding under the prior.

        In the Gaussian space every prior becomes N(0, I_d), where the squared
        norm ``q`` of a prior sample is chi-square with ``d`` degrees of
        freedom; the p-value is ``2 min(F(q), 1 - F(q))``, uniform as far as
        the embedding follows the prior (conservative on digits and images);
        small values flag rows whose embedding is too far out *or too close
        to the mode* (see :meth:`score_samples`).
        :class:`~sklearn_ndim.outliers.OutlierDetector` turns it into a detector.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or image array
            Rows to test.

        Returns
        -------
        pvalues : ndarray of shape (n_samples,)
        """
        return np.exp(self.score_samples(X))

    def inverse_transform(self, X):
        """Map embeddings back to the input space with the decoder.

        Needs ``fit_inverse_transform=True``. The decoder is trained by least
        squares on the training rows, so it returns the conditional mean of
        the rows that share an embedding (smooth, not a sample). Values are
        clipped to each feature's training range.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Embeddings in the prior's space (the output of :meth:`transform`);
            values outside the prior's support are refused.

        Returns
        -------
        X_original : ndarray
            Rows, or images in the layout given to :meth:`fit` (``(n, H, W)``
            or ``(n, C, H, W)``); float32 for float32 input, else float64.
        """
        check_decoder(self)
        Z = check_codes(self, X)
        return decoded_rows(self, self.prior_.to_gaussian(Z).astype(Z.dtype, copy=False))

    def sample(self, n_samples=1, random_state=None):
        """Draw new rows: embeddings from the prior, mapped back by the decoder.

        Needs ``fit_inverse_transform=True``.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to draw, >= 1.
        random_state : int, RandomState instance or None, default=None
            Seeds the draw from the prior.

        Returns
        -------
        X_new : ndarray of float64
            ``n_samples`` rows or images in the layout given to :meth:`fit`
            (float64, the prior's draws; ``inverse_transform`` follows the
            dtype of the embeddings it is given).
        """
        check_decoder(self)
        check_not_bool(n_samples, "n_samples")
        check_scalar(n_samples, "n_samples", Integral, min_val=1)
        rng = check_random_state(random_state)
        return decoded_rows(self, rng.standard_normal((n_samples, self.n_components_)))

    @property
    def prior_penalty_(self):
        check_is_fitted(self)
        # Modules pickled before the penalty existed trained without it.
        return float(getattr(self.net_.module_, "prior_penalty", 0.0))

    @property
    def input_mean_(self):
        check_is_fitted(self)
        return self._scaler.mean.copy()

    @property
    def input_scale_(self):
        check_is_fitted(self)
        return np.where(self._scaler.constant, np.inf, self._scaler.scale)

    def __getstate__(self):
        return portable_state(super().__getstate__())

    def __setstate__(self, state):
        # Pickled before the parameter existed: those fits used its default.
        state.setdefault("mixed_precision", "auto")
        super().__setstate__(state)
        restore_devices(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.allow_nan = False
        return tags
