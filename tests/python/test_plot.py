"""Every plot function writes a non-empty PNG of the requested size."""
import struct

import numpy as np
import pytest

pytest.importorskip("matplotlib")
from neuncut import KMeans, NeuNcut, plot  # noqa: E402

from conftest import blobs  # noqa: E402


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height, len(data)


@pytest.fixture(scope="module")
def fitted():
    X, y = blobs(n=200)
    return X, y, NeuNcut(n_clusters=3, epochs=5, hidden=(16,), threads=1).fit(X)


def test_scatter_with_decision_regions(tmp_path, fitted):
    X, _, est = fitted
    fig = plot.scatter(X, est.labels_, model=est, resolution=50, figsize=(4, 3), dpi=50, path=tmp_path / "s.png")
    assert png_size(tmp_path / "s.png")[:2] == (200, 150) and png_size(tmp_path / "s.png")[2] > 1000
    assert len(fig.axes) == 1 and fig.axes[0].collections  # points and regions were drawn
    plot.scatter(X, est.labels_, path=tmp_path / "plain.png", dpi=40)
    assert png_size(tmp_path / "plain.png")[:2] == (240, 200)


def test_scatter_regions_of_kmeans(tmp_path):
    X, _ = blobs(n=100)
    km = KMeans(n_clusters=3, threads=1).fit(X)
    plot.scatter(X, km.labels_, model=km, resolution=30, dpi=30, path=tmp_path / "k.png")
    assert png_size(tmp_path / "k.png")[:2] == (180, 150)


def test_training_curves(tmp_path, fitted):
    _, _, est = fitted
    plot.training_curves(est, figsize=(6, 4), dpi=50, path=tmp_path / "c.png")
    w, h, n = png_size(tmp_path / "c.png")
    assert (w, h) == (300, 200) and n > 1000
    with pytest.raises(ValueError):
        plot.training_curves([])


def test_cluster_grid(tmp_path):
    rng = np.random.RandomState(0)
    images = rng.rand(60, 64).astype(np.float32)
    labels = np.repeat(np.arange(3), 20)
    fig = plot.cluster_grid(images, labels, n_per_cluster=5, cell_inches=0.5, dpi=40, path=tmp_path / "g.png")
    w, h, n = png_size(tmp_path / "g.png")
    assert (w, h) == (round(6 * 0.5 * 40), round((3 * 0.5 + 0.4) * 40)) and n > 500
    assert sum(len(ax.images) for ax in fig.axes) == 15


def test_confusion_matrix(tmp_path):
    truth = np.repeat(np.arange(3), 10)
    labels = (truth + 1) % 3  # a permutation: matched accuracy 1
    fig = plot.confusion_matrix(truth, labels, figsize=(5, 4), dpi=40, path=tmp_path / "m.png")
    w, h, n = png_size(tmp_path / "m.png")
    assert (w, h) == (200, 160) and n > 1000
    assert "1.000" in fig.axes[0].get_title()
    plot.confusion_matrix(truth, labels, normalize=True, path=tmp_path / "n.png", dpi=20)
    assert png_size(tmp_path / "n.png")[:2] == (140, 120)
