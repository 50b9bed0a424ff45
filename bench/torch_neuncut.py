#!/usr/bin/python3
"""NeuNcut in PyTorch: the framework peer that neuncut is timed against (CPU only).

The same algorithm and settings as `neuncut fit`:
  - rows L2-normalized; an MLP d -> hidden... -> k with ReLU, Kaiming-uniform hidden weights,
    Xavier-uniform output weights, zero biases; P = softmax(MLP(x)).
  - per mini-batch of m rows: W_ij = exp(-||x_i - x_j||^2 / (2 sigma^2)) (self-loops included),
    d = W 1, vol = d^T P, H = P / sqrt(vol + eps),
    loss = trace(H^T (D - W) H) + gamma/2 * ||H^T D H - I||_F / k.
  - torch.optim.Adam (weight decay added to the gradient), cosine learning-rate annealing
    over the epochs, steps_per_epoch = train_size // m (the remainder is dropped).
  - sigma 0: the median distance to the 10th nearest neighbour in a batch-sized sample.

Modes (the last stdout line is a JSON summary):
  step   train on all rows of --X; report the epoch-loop time and per-step times
  fit    train on a --train-size sample of --X, label every row (--labels-out)
  infer  label every row of --X with a freshly initialized network (throughput only)

Run with the best configuration on CPU: OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=SkylakeX and
--threads 1 (torch.set_num_threads; denormals are flushed)."""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=("step", "fit", "infer"))
    ap.add_argument("--X", required=True, help="features, .npy (2-D, float)")
    ap.add_argument("--k", type=int, default=10, help="clusters (default 10)")
    ap.add_argument("--hidden", default="512,512", help="hidden widths (default 512,512)")
    ap.add_argument("--train-size", type=int, default=20000,
                    help="fit: rows sampled to train on; 0: all (default 20000)")
    ap.add_argument("--epochs", type=int, default=3, help="training epochs (default 3)")
    ap.add_argument("--batch-size", type=int, default=1000, help="mini-batch size m (default 1000)")
    ap.add_argument("--sigma", type=float, default=0.0, help="Gaussian bandwidth; 0: estimated (default 0)")
    ap.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    ap.add_argument("--weight-decay", type=float, default=1e-4, help="Adam weight decay (default 1e-4)")
    ap.add_argument("--gamma", type=float, default=80.0, help="orthogonality weight (default 80)")
    ap.add_argument("--eps", type=float, default=1e-6, help="added to the cluster volumes (default 1e-6)")
    ap.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    ap.add_argument("--chunk-rows", type=int, default=10000, help="rows per inference chunk (default 10000)")
    ap.add_argument("--rows", type=int, default=0, help="infer: label only the first ROWS rows; 0: all")
    ap.add_argument("--labels-out", default=None, help="fit/infer: write labels (.npy int32)")
    a = ap.parse_args(argv)
    try:
        a.hidden = [int(w) for w in a.hidden.split(",") if w.strip()]
    except ValueError:
        ap.error(f"--hidden must be comma-separated integers, got {a.hidden!r}")
    if a.k < 2 or a.batch_size < a.k or a.epochs < 1 or a.threads < 1 or a.chunk_rows < 1:
        ap.error("need k >= 2, batch size >= k, epochs >= 1, threads >= 1, chunk rows >= 1")
    return a


def l2_normalize(x):
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)


def make_net(d, hidden, k):
    layers, widths = [], [d] + hidden
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        lin = torch.nn.Linear(fan_in, fan_out)
        torch.nn.init.kaiming_uniform_(lin.weight, nonlinearity="relu")
        torch.nn.init.zeros_(lin.bias)
        layers += [lin, torch.nn.ReLU()]
    out = torch.nn.Linear(widths[-1], k)
    torch.nn.init.xavier_uniform_(out.weight)
    torch.nn.init.zeros_(out.bias)
    return torch.nn.Sequential(*layers, out)


def gaussian_affinity(b, sigma):
    sq = (b * b).sum(1)
    dist2 = (sq[:, None] + sq[None, :] - 2.0 * (b @ b.t())).clamp_min_(0.0)
    W = torch.exp_(dist2.mul_(-1.0 / (2.0 * sigma * sigma)))
    return W, W.sum(1)


def ncut_loss(W, deg, P, gamma, eps):
    k = P.shape[1]
    vol = deg @ P
    H = P / torch.sqrt(vol + eps)
    DH = deg[:, None] * H
    trace = (H * DH).sum() - (H * (W @ H)).sum()          # trace(H^T (D - W) H)
    orth = torch.linalg.norm(H.t() @ DH - torch.eye(k))   # ||H^T D H - I||_F
    return trace + 0.5 * gamma * orth / k, trace, orth


def estimate_sigma(X, m, neighbor, gen):
    idx = torch.randperm(X.shape[0], generator=gen)[:min(m, X.shape[0])]
    s = X[idx]
    sq = (s * s).sum(1)
    d2 = (sq[:, None] + sq[None, :] - 2.0 * (s @ s.t())).clamp_min(0.0)
    d2.fill_diagonal_(-1.0)
    kth = torch.kthvalue(d2, neighbor + 1, dim=1).values.sqrt()
    return float(kth.sort().values[kth.numel() // 2])


def train(net, data, a):
    n, m = data.shape[0], min(a.batch_size, data.shape[0])
    steps = n // m
    opt = torch.optim.Adam(net.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, a.epochs)
    step_times, epoch_times, last = [], [], {}
    t_start = time.perf_counter()
    for epoch in range(a.epochs):
        t_epoch = time.perf_counter()
        perm = torch.randperm(n)
        for s in range(steps):
            t = time.perf_counter()
            b = data[perm[s * m:(s + 1) * m]]
            with torch.no_grad():
                W, deg = gaussian_affinity(b, a.sigma)
            P = torch.softmax(net(b), dim=1)
            loss, trace, orth = ncut_loss(W, deg, P, a.gamma, a.eps)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step_times.append(time.perf_counter() - t)
        sched.step()
        epoch_times.append(time.perf_counter() - t_epoch)
        last = dict(loss=float(loss), trace=float(trace), orthogonality=float(orth))
        if not math.isfinite(last["loss"]):
            raise RuntimeError(f"training diverged at epoch {epoch + 1} (non-finite loss)")
        print(f"epoch {epoch + 1}/{a.epochs} loss {last['loss']:.4f} trace {last['trace']:.4f} "
              f"elapsed {time.perf_counter() - t_start:.2f}s", file=sys.stderr, flush=True)
    train_s = time.perf_counter() - t_start
    return dict(train_seconds=train_s, epochs=a.epochs, steps_per_epoch=steps, batch_size=m,
                seconds_per_epoch=train_s / a.epochs, seconds_per_step=train_s / (a.epochs * steps),
                step_seconds_median=float(np.median(step_times)), step_seconds_min=float(np.min(step_times)),
                epoch_seconds=[round(t, 5) for t in epoch_times], final=last)


def label(net, X, chunk):
    """L2-normalize, forward and argmax, chunk by chunk (all inside the timed region)."""
    out = []
    with torch.no_grad():
        for i in range(0, X.shape[0], chunk):
            out.append(net(l2_normalize(X[i:i + chunk])).argmax(1))
    return torch.cat(out).numpy().astype(np.int32)


def blas_info():
    try:
        from threadpoolctl import threadpool_info
        return [{k: p.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
                for p in threadpool_info()]
    except Exception as e:  # informational only
        return [{"error": str(e)}]


def main(argv=None):
    a = parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    t0 = time.perf_counter()
    try:
        X = np.load(a.X, mmap_mode="r")
    except (OSError, ValueError) as e:
        sys.exit(f"torch_neuncut: cannot read {a.X}: {e}")
    if X.ndim != 2:
        sys.exit(f"torch_neuncut: {a.X} must be 2-D, got shape {X.shape}")
    if a.mode == "infer" and a.rows > 0:
        X = X[:a.rows]
    X = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
    load_s = time.perf_counter() - t0
    n, d = X.shape
    if n < a.k:
        sys.exit(f"torch_neuncut: {n} rows for k = {a.k}")
    net = make_net(d, a.hidden, a.k)
    summary = dict(method="torch_neuncut", mode=a.mode, n=n, d=d, k=a.k, hidden=a.hidden, threads=a.threads,
                   torch=torch.__version__, flush_denormal=True, seed=a.seed, load_seconds=load_s,
                   blas=blas_info(), openblas_coretype=os.environ.get("OPENBLAS_CORETYPE"))
    if a.mode in ("step", "fit"):
        if a.mode == "fit" and 0 < a.train_size < n:
            rows = torch.randperm(n, generator=gen)[:a.train_size].sort().values
            train_rows = X[rows]
        else:
            train_rows = X
        train_rows = l2_normalize(train_rows)
        if a.batch_size > train_rows.shape[0]:
            sys.exit(f"torch_neuncut: batch size {a.batch_size} exceeds the {train_rows.shape[0]} training rows")
        t = time.perf_counter()
        if a.sigma <= 0:
            a.sigma = estimate_sigma(train_rows, a.batch_size, 10, gen)
        summary.update(sigma=a.sigma, sigma_seconds=time.perf_counter() - t, train_points=int(train_rows.shape[0]),
                       lr=a.lr, weight_decay=a.weight_decay, gamma=a.gamma)
        summary.update(train(net, train_rows, a))
    if a.mode in ("fit", "infer"):
        t = time.perf_counter()
        labels = label(net, X, a.chunk_rows)
        predict_s = time.perf_counter() - t
        summary.update(predict_seconds=predict_s, rows_per_second=n / max(predict_s, 1e-9), chunk_rows=a.chunk_rows,
                       clusters_used=int(np.unique(labels).size))
        if a.labels_out:
            np.save(a.labels_out, labels)
            summary["labels_out"] = a.labels_out
    summary["total_seconds"] = time.perf_counter() - t0
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
