"""Medians, spreads and ratios of repeated measurements (robust on a shared machine)."""
import statistics


def summarize(values):
    """{'median', 'min', 'max', 'n'} of the finite values (None when there are none)."""
    v = [float(x) for x in values if x is not None]
    if not v:
        return dict(median=None, min=None, max=None, n=0)
    return dict(median=statistics.median(v), min=min(v), max=max(v), n=len(v))


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def paired_ratio(pairs):
    """Median of per-repetition ratios a_i / b_i: runs of the same repetition were taken
    back to back, so machine-load drift cancels better than in a ratio of medians."""
    r = [a / b for a, b in pairs if a is not None and b not in (None, 0)]
    return statistics.median(r) if r else None
