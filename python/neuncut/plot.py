"""Plots of clusterings and training runs (matplotlib, no pyplot state: works headless).

Every function returns a ``matplotlib.figure.Figure``; pass ``path=`` to also write it as a
PNG of exactly ``figsize * dpi`` pixels.

    from neuncut import plot
    plot.scatter(X, model.labels_, model=model, path="regions.png")
    plot.training_curves(model, path="curves.png")
    plot.cluster_grid(images, model.labels_, image_shape=(28, 28), path="grid.png")
    plot.confusion_matrix(y_true, model.labels_, path="confusion.png")
"""
from __future__ import annotations

import os
from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np
from matplotlib.figure import Figure

PathLike = Union[str, "os.PathLike[str]"]

__all__ = ["scatter", "training_curves", "cluster_grid", "confusion_matrix", "save"]


def save(fig: Figure, path: PathLike, dpi: int = 100) -> str:
    """Writes a figure as a PNG.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : str or os.PathLike
        Destination file.
    dpi : int, default=100
        Pixels per inch: the PNG is exactly figsize * dpi pixels.

    Returns
    -------
    str
        The path written.
    """
    path = os.fspath(path)
    fig.savefig(path, dpi=dpi, format="png")
    return path


def _finish(fig, path, dpi):
    if path is not None:
        save(fig, path, dpi)
    return fig


def _cmap(n):
    import matplotlib

    return matplotlib.colormaps["tab10" if n <= 10 else "tab20"].resampled(max(n, 1))


def scatter(X: Any, labels: Any, model: Any = None, resolution: int = 200, title: Optional[str] = None,
            figsize: Tuple[float, float] = (6, 5), dpi: int = 100, path: Optional[PathLike] = None,
            point_size: float = 8) -> Figure:
    """2-D scatter plot coloured by cluster, with a model's decision regions.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Points; data with more than two columns is drawn on its first two.
    labels : array-like of int, shape (n_samples,)
        Cluster of each point.
    model : estimator, optional
        Anything with ``predict``; with 2-D data the background shows the label it gives every
        point of a ``resolution`` x ``resolution`` grid over the data's range.
    resolution : int, default=200
        Grid points per axis of the decision regions.
    title : str, optional
        Figure title.
    figsize : (float, float), default=(6, 5)
        Size in inches.
    dpi : int, default=100
        Pixels per inch of the PNG.
    path : str or os.PathLike, optional
        Also write the figure there as a PNG.
    point_size : float, default=8
        Marker size.

    Returns
    -------
    matplotlib.figure.Figure
    """
    X = np.asarray(X, dtype=np.float32)
    labels = np.asarray(labels)
    if X.ndim != 2 or X.shape[1] < 2:
        raise ValueError(f"scatter needs 2-D data with at least 2 columns, got shape {X.shape}")
    k = int(max(labels.max(initial=0), 0)) + 1
    if model is not None and hasattr(model, "n_clusters"):
        k = max(k, int(model.n_clusters))
    cmap = _cmap(k)
    fig = Figure(figsize=figsize)
    ax = fig.add_subplot()
    if model is not None and X.shape[1] == 2:
        lo, hi = X.min(axis=0), X.max(axis=0)
        pad = 0.05 * np.maximum(hi - lo, 1e-6)
        xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution, dtype=np.float32)
        ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution, dtype=np.float32)
        gx, gy = np.meshgrid(xs, ys)
        grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)
        grid[~grid.any(axis=1)] = 1e-6  # a zero row has no direction for L2-normalizing models
        regions = np.asarray(model.predict(grid)).reshape(gx.shape)
        ax.pcolormesh(gx, gy, regions, cmap=cmap, vmin=-0.5, vmax=k - 0.5, alpha=0.25, shading="auto")
    ax.scatter(X[:, 0], X[:, 1], c=labels, cmap=cmap, vmin=-0.5, vmax=k - 0.5, s=point_size,
               edgecolors="none")
    ax.set_title(title or (f"{type(model).__name__}: {k} clusters" if model is not None else f"{k} clusters"))
    ax.set_xlabel("x0")
    ax.set_ylabel("x1")
    fig.tight_layout()
    return _finish(fig, path, dpi)


def training_curves(history: Any, title: Optional[str] = None, figsize: Tuple[float, float] = (9, 6),
                    dpi: int = 100, path: Optional[PathLike] = None) -> Figure:
    """Training curves: loss and its terms, gamma and learning rate, cluster health per epoch.

    Parameters
    ----------
    history : estimator or list of dict
        A fitted estimator (its ``history_`` is used) or the list of per-epoch dicts itself.
    title : str, optional
        Figure title.
    figsize : (float, float), default=(9, 6)
        Size in inches.
    dpi : int, default=100
        Pixels per inch of the PNG.
    path : str or os.PathLike, optional
        Also write the figure there as a PNG.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if hasattr(history, "history_"):
        history = history.history_
    history = list(history)
    if not history:
        raise ValueError("training_curves needs a non-empty history (fit the estimator first)")
    epochs = [h["epoch"] for h in history]
    panels = [("loss", [k for k in ("loss", "trace", "penalty") if k in history[0]]),
              ("schedule", [k for k in ("gamma", "learning_rate") if k in history[0]]),
              ("clusters", [k for k in ("clusters_used", "mean_max_probability", "largest_cluster_fraction",
                                        "cholesky_fallbacks") if k in history[0]])]
    panels = [p for p in panels if p[1]]
    fig = Figure(figsize=figsize)
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (name, keys) in zip(axes, panels):
        lines, twin = [], None
        for i, key in enumerate(keys):
            values = [h[key] for h in history]
            target = ax
            if name != "loss" and i == 1:  # a second scale (e.g. gamma vs learning rate)
                twin = target = ax.twinx()
                target.set_ylabel(key, color=f"C{i}")
            elif name != "loss" and i > 1:
                target = twin
            lines += target.plot(epochs, values, label=key, color=f"C{i}")
        ax.set_ylabel(keys[0])
        ax.legend(lines, [l.get_label() for l in lines], loc="best", fontsize="small")
        ax.grid(True, alpha=0.3)
    axes[-1].set_xlabel("epoch")
    fig.suptitle(title or "training curves")
    fig.tight_layout()
    return _finish(fig, path, dpi)


def cluster_grid(images: Any, labels: Any, n_per_cluster: int = 10, image_shape: Optional[Tuple[int, int]] = None,
                 clusters: Optional[Sequence[int]] = None, random_state: int = 0, title: Optional[str] = None,
                 cell_inches: float = 0.6, dpi: int = 100, path: Optional[PathLike] = None,
                 cmap: str = "gray_r") -> Figure:
    """A grid of sample images per discovered cluster, one row per cluster.

    Parameters
    ----------
    images : array-like of shape (n, h*w) or (n, h, w)
        The images; square ones are inferred from (n, h*w).
    labels : array-like of int, shape (n,)
        Cluster of each image.
    n_per_cluster : int, default=10
        Images drawn at random from each cluster.
    image_shape : (int, int), optional
        (height, width) of flattened non-square images.
    clusters : sequence of int, optional
        The clusters to show, in order (default: all).
    random_state : int, default=0
        Seed of the draw.
    title : str, optional
        Figure title.
    cell_inches : float, default=0.6
        Size of one cell; the figure is (n_per_cluster + 1) x n_clusters cells.
    dpi : int, default=100
        Pixels per inch of the PNG.
    path : str or os.PathLike, optional
        Also write the figure there as a PNG.
    cmap : str, default="gray_r"
        Matplotlib colour map of the images.

    Returns
    -------
    matplotlib.figure.Figure
    """
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim == 2:
        if image_shape is None:
            side = int(round(np.sqrt(images.shape[1])))
            if side * side != images.shape[1]:
                raise ValueError(f"cannot infer the image shape of {images.shape[1]} features; pass image_shape")
            image_shape = (side, side)
        images = images.reshape((images.shape[0],) + tuple(image_shape))
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{images.shape[0]} images but {labels.shape[0]} labels")
    clusters = np.unique(labels) if clusters is None else np.asarray(clusters)
    rng = np.random.RandomState(random_state)
    rows, cols = len(clusters), n_per_cluster
    fig = Figure(figsize=((cols + 1) * cell_inches, max(rows, 1) * cell_inches + 0.4))
    axes = fig.subplots(rows, cols + 1, squeeze=False)
    for r, c in enumerate(clusters):
        members = np.flatnonzero(labels == c)
        pick = rng.choice(members, size=min(cols, len(members)), replace=False) if len(members) else []
        axes[r, 0].text(0.5, 0.5, f"{c}\n({len(members)})", ha="center", va="center", fontsize=7)
        for j in range(cols + 1):
            axes[r, j].set_axis_off()
        for j, i in enumerate(pick):
            axes[r, j + 1].imshow(images[i], cmap=cmap, interpolation="nearest")
    fig.suptitle(title or "samples per cluster (row label: cluster (size))", fontsize=8)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - 0.4 / fig.get_figheight(), wspace=0.05,
                        hspace=0.05)
    return _finish(fig, path, dpi)


def _match_clusters(table):
    """Column order putting each cluster under the true class it matches best (Hungarian)."""
    try:
        from scipy.optimize import linear_sum_assignment
    except ImportError:  # pragma: no cover
        return np.argsort(np.argmax(table, axis=0), kind="stable")
    rows, cols = linear_sum_assignment(-table)
    order = list(cols[np.argsort(rows)])
    return np.array(order + [c for c in range(table.shape[1]) if c not in order], dtype=int)


def confusion_matrix(truth: Any, labels: Any, normalize: bool = False, class_names: Optional[Sequence[str]] = None,
                     title: Optional[str] = None, figsize: Tuple[float, float] = (7, 6), dpi: int = 100,
                     path: Optional[PathLike] = None) -> Figure:
    """Confusion matrix of clusters against ground truth.

    Rows are true classes; columns are clusters reordered so that each sits under the class it
    matches best (the matching behind clustering accuracy).

    Parameters
    ----------
    truth : array-like of int, shape (n,)
        True classes.
    labels : array-like of int, shape (n,)
        Clusters.
    normalize : bool, default=False
        Show each row as fractions instead of counts.
    class_names : sequence of str, optional
        Names of the true classes, in sorted class order.
    title : str, optional
        Figure title (default: the matched accuracy).
    figsize : (float, float), default=(7, 6)
        Size in inches.
    dpi : int, default=100
        Pixels per inch of the PNG.
    path : str or os.PathLike, optional
        Also write the figure there as a PNG.

    Returns
    -------
    matplotlib.figure.Figure
    """
    truth = np.asarray(truth).ravel()
    labels = np.asarray(labels).ravel()
    if truth.shape != labels.shape:
        raise ValueError(f"{truth.size} true labels but {labels.size} cluster labels")
    classes, t = np.unique(truth, return_inverse=True)
    clusters, p = np.unique(labels, return_inverse=True)
    table = np.zeros((len(classes), len(clusters)), dtype=np.int64)
    np.add.at(table, (t, p), 1)
    order = _match_clusters(table)
    table, clusters = table[:, order], clusters[order]
    shown = table / np.maximum(table.sum(axis=1, keepdims=True), 1) if normalize else table
    acc = np.trace(table[:, : min(table.shape)]) / max(table.sum(), 1)
    fig = Figure(figsize=figsize)
    ax = fig.add_subplot()
    im = ax.imshow(shown, cmap="Blues", aspect="auto")
    fig.colorbar(im, ax=ax)
    if table.size <= 400:
        peak = shown.max() if shown.size else 1
        for i in range(shown.shape[0]):
            for j in range(shown.shape[1]):
                v = shown[i, j]
                ax.text(j, i, f"{v:.2f}" if normalize else str(v), ha="center", va="center", fontsize=7,
                        color="white" if v > 0.6 * peak else "black")
    ax.set_xticks(range(len(clusters)), [str(c) for c in clusters])
    ax.set_yticks(range(len(classes)), class_names if class_names is not None else [str(c) for c in classes])
    ax.set_xlabel("cluster (matched order)")
    ax.set_ylabel("true class")
    ax.set_title(title or f"confusion matrix (matched accuracy {acc:.3f})")
    fig.tight_layout()
    return _finish(fig, path, dpi)
