"""Training sets: the synthetic linear task of Nair and Dudek (2015) and scikit-learn's bundled sets.

Every loader returns a :class:`Dataset` whose features lie in [-1, 1], so that a network can apply
them as read voltages ``v_read * x`` without exceeding ``v_read``. Nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: scikit-learn loaders by the name used in experiment files.
SKLEARN_SETS = ("iris", "breast_cancer", "digits")
DATASETS = ("linear",) + SKLEARN_SETS


@dataclass(frozen=True)
class Dataset:
    """A classification task split into a training and a test set.

    Attributes
    ----------
    x_train, x_test : ndarray of shape (n_samples, n_features), float64
        Features scaled into [-1, 1].
    y_train, y_test : ndarray of shape (n_samples,), int64
        Class index of each sample.
    n_classes : int
        Number of classes; a network needs one output for two classes and one per class otherwise.
    name : str
        Short name used in result tables.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    name: str

    @property
    def n_features(self) -> int:
        """Number of input features."""
        return self.x_train.shape[1]

    @property
    def n_outputs(self) -> int:
        """Number of network outputs the task needs: 1 for two classes, else one per class."""
        return 1 if self.n_classes == 2 else self.n_classes


def linear_task(
    n_features: int = 20,
    n_samples: int = 1000,
    flip_fraction: float = 0.05,
    n_test: int = 1000,
    *,
    seed: int | np.random.SeedSequence | None = None,
) -> Dataset:
    """Draw the synthetic task of Nair and Dudek (2015): a noisy linearly separable set.

    Features are uniform in [-1, 1]. A random hyperplane ``w . x + b = 0`` (w standard normal,
    b normal with standard deviation 0.1 |w|) labels each sample, then ``round(flip_fraction *
    n_samples)`` training labels chosen at random are flipped, so the best linear classifier
    misclassifies about that fraction of the training set. The test set keeps clean labels, so
    its error measures how far the learned hyperplane is from the true one.
    """
    if not 0.0 <= flip_fraction < 0.5:
        raise ValueError(f"`flip_fraction` must lie in [0, 0.5); got {flip_fraction!r}.")
    rng = np.random.default_rng(seed)
    normal = rng.standard_normal(n_features)
    offset = 0.1 * np.linalg.norm(normal) * rng.standard_normal()
    x_train = rng.uniform(-1.0, 1.0, (n_samples, n_features))
    x_test = rng.uniform(-1.0, 1.0, (n_test, n_features))
    y_train = (x_train @ normal + offset > 0).astype(np.int64)
    y_test = (x_test @ normal + offset > 0).astype(np.int64)
    flipped = rng.choice(n_samples, size=int(round(flip_fraction * n_samples)), replace=False)
    y_train[flipped] = 1 - y_train[flipped]
    return Dataset(x_train, y_train, x_test, y_test, 2, "linear")


def _scale_to_unit(x_train: np.ndarray, x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map each feature's training range onto [-1, 1]; test values outside it are clipped."""
    low = x_train.min(axis=0)
    span = x_train.max(axis=0) - low
    span[span == 0] = 1.0
    scale = lambda x: np.clip(2.0 * (x - low) / span - 1.0, -1.0, 1.0)  # noqa: E731
    return scale(x_train), scale(x_test)


def sklearn_task(
    name: str,
    test_fraction: float = 0.3,
    *,
    seed: int | np.random.SeedSequence | None = None,
) -> Dataset:
    """Load one of scikit-learn's bundled sets ("iris", "breast_cancer", "digits"), split it
    stratified into training and test sets, and scale its features into [-1, 1]."""
    from sklearn import datasets as sklearn_datasets
    from sklearn.model_selection import train_test_split

    if name not in SKLEARN_SETS:
        raise ValueError(f"Unknown data set {name!r}; choose one of {', '.join(SKLEARN_SETS)}.")
    loader = getattr(sklearn_datasets, f"load_{name}")
    features, labels = loader(return_X_y=True)
    state = int(np.random.default_rng(seed).integers(2**31))
    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, test_size=test_fraction, stratify=labels, random_state=state
    )
    x_train, x_test = _scale_to_unit(np.asarray(x_train, float), np.asarray(x_test, float))
    n_classes = int(np.max(labels)) + 1
    return Dataset(x_train, y_train.astype(np.int64), x_test, y_test.astype(np.int64), n_classes, name)


def load(name: str, *, seed=None, **options) -> Dataset:
    """Return the data set ``name`` ("linear" or a scikit-learn set) built with ``options``."""
    if name == "linear":
        return linear_task(seed=seed, **options)
    return sklearn_task(name, seed=seed, **options)
