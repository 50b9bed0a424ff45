"""Clustering scores computed by the benchmark itself, identically for every method:
ACC (best one-to-one matching of clusters to classes, Hungarian algorithm), NMI (geometric
mean normalization, as the NeuNcut paper) and ARI."""
import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score


def accuracy(truth, pred):
    truth = np.asarray(truth, dtype=np.int64)
    pred = np.asarray(pred, dtype=np.int64)
    _, t = np.unique(truth, return_inverse=True)
    _, p = np.unique(pred, return_inverse=True)
    size = max(t.max(), p.max()) + 1
    counts = np.zeros((size, size), dtype=np.int64)
    np.add.at(counts, (p, t), 1)
    rows, cols = linear_sum_assignment(-counts)
    return float(counts[rows, cols].sum()) / len(truth)


def scores(truth, pred):
    truth = np.asarray(truth).ravel()
    pred = np.asarray(pred).ravel()
    if truth.shape != pred.shape:
        raise ValueError(f"{pred.size} predicted labels for {truth.size} ground-truth labels")
    return dict(acc=accuracy(truth, pred),
                nmi=float(normalized_mutual_info_score(truth, pred, average_method="geometric")),
                ari=float(adjusted_rand_score(truth, pred)),
                clusters_used=int(np.unique(pred).size))


def scores_from_files(truth_path, labels_path):
    return scores(np.load(truth_path), np.load(labels_path))
