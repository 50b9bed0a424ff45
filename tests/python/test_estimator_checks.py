"""scikit-learn's own estimator checks, on every estimator twice: with its default parameters
(as a user would construct it: ``Est(n_clusters=3)``) and as a small, fast instance.

Checks that cannot apply are declared, with the reason, in each estimator's
``_more_tags()['_xfail_checks']``. Checks that set n_clusters=1 run as they are: one cluster is
accepted (every label 0).
"""
from sklearn.utils.estimator_checks import parametrize_with_checks

from neuncut import KMeans, NeuNcut, SpectralClustering, SpectralNet

# What a user gets without tuning anything. scikit-learn's check data are small (at most a few
# hundred rows), so even NeuNcut's automatic epochs (at least 500 steps of a 512-512 network)
# and SpectralNet's defaults finish in seconds per check (docs/python.md, "scikit-learn checks").
DEFAULT_INSTANCES = [NeuNcut(n_clusters=3), SpectralNet(n_clusters=3), KMeans(n_clusters=3),
                     SpectralClustering(n_clusters=3)]

FAST_INSTANCES = [
    # Default epochs (auto: at least 500 steps) and widths: check_clustering needs ARI > 0.4 on
    # 50 blobs, which 30 steps of a narrow net do not reliably reach.
    NeuNcut(n_clusters=2, normalize="none", threads=1),
    SpectralNet(n_clusters=2, epochs=3, hidden=(16,), kmeans_n_init=2, normalize="none", n_neighbors=5, threads=1),
    KMeans(n_clusters=2, n_init=2, normalize=False, threads=1),
    SpectralClustering(n_clusters=2, n_neighbors=5, normalize=False, threads=1),
]


@parametrize_with_checks(DEFAULT_INSTANCES)
def test_sklearn_compatible_with_default_parameters(estimator, check):
    check(estimator)


@parametrize_with_checks(FAST_INSTANCES)
def test_sklearn_compatible(estimator, check):
    check(estimator)
