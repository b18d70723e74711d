"""Training-step speed of the seed network: naive loops, the numpy engine, PyTorch's CPU build.

One "step" is what training does for a batch of N images: ``helpers.engine.loss_and_grads``, the
fast engine's entry point (the loss and its gradients, no cache), float32, the mean loss of
Zhang eq. 13. PyTorch (optional extra ``bench``; ``pip install -e .[bench]``) runs the very same
network with autograd: true convolution (the kernels flipped), sigmoid, 2x2 average pooling, the
column-scan flattening and the half squared error averaged over the batch; its gradients are
checked against ours before any timing.

Usage (from the repository root)::

    python benchmarks/bench_network.py                    # 1 and 2 threads, N = 1, 10, 50, 256
    python benchmarks/bench_network.py --threads 1 --batch-sizes 1,50 --repeats 11

Each thread setting runs in a fresh subprocess with OMP/OPENBLAS/MKL_NUM_THREADS set before numpy
is imported and ``torch.set_num_threads`` set to the same number, so both libraries get the
same cores. Timings are interleaved A/B rounds (numpy, torch, torch, numpy, ...): each round times
a block of steps lasting at least ``--min-time`` seconds; the table shows medians over the rounds
and the median of the per-round ratios. The machine is shared, so expect noise: rerun, and read
the ratios rather than the absolute figures.

Memory: ``tracemalloc`` peak during one step, from a cold start (scratch buffers included). It
counts numpy's array allocations (numpy reports them to tracemalloc), not PyTorch's allocator, so
it is given for the numpy engine only.

Roofline: the FLOPs a step needs, counted analytically (see :func:`flops_per_image`), divided by
the step time, compared with the float32 matrix-product throughput measured on this machine with
the same number of threads (a 2048 x 2048 x 2048 ``numpy.matmul``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

BATCH_SIZES = (1, 10, 50, 256)


def flops_per_image() -> dict:
    """Multiply-adds of one forward + backward step, counted from the layer shapes, times 2.

    Forward: C1 is 24x24 outputs x 6 maps x 25 taps; C2 is 8x8 x 12 maps x 6 inputs x 25 taps;
    the output layer is 10 x 192. Backward: dW and df are 10 x 192 each; dk2 and dS1 cost one
    C2-sized product each (dS1 counted without the zero padding of the full convolution); dk1 costs
    one C1-sized product. The gradient with respect to the image is not needed. Elementwise work
    (bias, sigmoid, pooling; about 30,000 operations) is left out: it is memory traffic, not FLOPs.
    """
    c1 = 24 * 24 * 6 * 25
    c2 = 8 * 8 * 12 * 6 * 25
    fc = 10 * 192
    forward = 2 * (c1 + c2 + fc)
    backward = 2 * (fc + fc + c2 + c2 + c1)
    return {"forward": forward, "backward": backward, "total": forward + backward}


# --------------------------------------------------------------------------------------------
# the three engines
# --------------------------------------------------------------------------------------------
def make_data(n, seed=0):
    """``n`` real MNIST-5k digits as float32 in [0, 1] (the book's convention) with one-hot targets."""
    import numpy as np

    from helpers import data

    images, labels = data.load_mnist_5k()
    idx = np.random.default_rng(seed).choice(len(images), size=n, replace=n > len(images))
    x = images[idx].astype(np.float32) / 255
    y = np.eye(10, dtype=np.float32)[labels[idx]]
    return x, y


def numpy_step(params, x, y):
    from helpers import engine

    return engine.loss_and_grads(params, x, y)[1]


def naive_step(params, x, y):
    from helpers import network

    for xi, yi in zip(x, y):
        network.backward_naive(params, network.forward_naive(params, xi), yi)


def torch_setup(params, x, y):
    """Tensors for PyTorch and a step function computing the same gradients with autograd."""
    import torch
    import torch.nn.functional as F

    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    tx = torch.tensor(x[:, None])  # (N, 1, 28, 28)
    ty = torch.tensor(y)

    def step():
        for t in tp.values():
            t.grad = None
        # true convolution (Zhang eqs. 5 and 8) = torch's cross-correlation with flipped kernels
        k1 = tp["k1"].flip(-1, -2)[:, None]  # (6, 1, 5, 5)
        k2 = tp["k2"].flip(-1, -2).transpose(0, 1)  # (12, 6, 5, 5)
        S1 = F.avg_pool2d(torch.sigmoid(F.conv2d(tx, k1, tp["b1"])), 2)
        S2 = F.avg_pool2d(torch.sigmoid(F.conv2d(S1, k2, tp["b2"])), 2)
        f = S2.transpose(2, 3).reshape(S2.shape[0], 192)  # column scan (eq. 10)
        y_hat = torch.sigmoid(F.linear(f, tp["W"], tp["b"]))
        loss = 0.5 * ((y_hat - ty) ** 2).sum(dim=1).mean()
        loss.backward()
        return {k: t.grad for k, t in tp.items()}

    return step


def sgemm_gflops(n=2048, repeats=5):
    """Best float32 ``matmul`` throughput for n x n x n, in GFLOP/s."""
    import numpy as np

    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    a @ a
    best = min(_timed(lambda: a @ a, 1) for _ in range(repeats))
    return 2 * n ** 3 / best / 1e9


def _timed(fn, reps):
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t) / reps


def _reps_for(fn, min_time):
    """Number of calls that take at least ``min_time`` seconds."""
    reps = 1
    while True:
        if _timed(fn, reps) * reps >= min_time:
            return reps
        reps *= 2


def peak_memory(fn):
    """tracemalloc peak (bytes) of one call from a cold start of the engine's scratch buffers."""
    import tracemalloc

    from helpers import engine

    engine.clear_buffers()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


# --------------------------------------------------------------------------------------------
# one thread setting (runs in its own process)
# --------------------------------------------------------------------------------------------
def run_setting(args):
    import numpy as np

    from helpers import network

    threads = args.threads_here
    try:
        import torch

        torch.set_num_threads(threads)
        torch_info = f"torch {torch.__version__} ({torch.get_num_threads()} thread(s))"
    except ImportError:
        torch = None
        torch_info = "torch not installed (pip install -e .[bench])"
    if args.no_torch:
        torch, torch_info = None, "torch skipped (--no-torch)"
    blas = ""
    try:
        from threadpoolctl import threadpool_info

        blas = ", ".join(f"{i['internal_api']} {i.get('version') or ''} ({i['num_threads']} thread(s))"
                         for i in threadpool_info() if i.get("user_api") == "blas")
    except ImportError:
        blas = f"BLAS threads from OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}"
    params = network.init_params(0, np.float32)
    flops = flops_per_image()
    gemm = sgemm_gflops()

    print(f"\n=== {threads} thread(s): numpy {np.__version__}, {blas}; {torch_info}")
    print(f"matmul throughput (float32, 2048^3, {threads} thread(s)): {gemm:.1f} GFLOP/s")

    # naive loops: a few images, one at a time (their speed does not depend on the batch size)
    xn, yn = make_data(args.naive_images, seed=1)
    naive_step(params, xn[:1], yn[:1])
    naive_s = statistics.median(_timed(lambda: naive_step(params, xn, yn), 1) for _ in range(3))
    naive_ips = args.naive_images / naive_s
    print(f"naive loops (forward_naive + backward_naive, {args.naive_images} images, median of 3): "
          f"{naive_ips:.1f} img/s")

    header = (f"{'N':>5} | {'naive img/s':>11} | {'numpy img/s':>11} | {'torch img/s':>11} | "
              f"{'numpy/torch':>11} | {'numpy/naive':>11} | {'GFLOP/s':>7} | {'% matmul':>8} | {'peak MiB':>8}")
    print(header)
    print("-" * len(header))
    rows = []
    for n in args.batch_sizes:
        x, y = make_data(n)
        engines = {"numpy": lambda: numpy_step(params, x, y)}
        if torch is not None:
            tstep = torch_setup(params, x, y)
            ours, theirs = numpy_step(params, x, y), tstep()
            worst = max(float(np.abs(ours[k] - theirs[k].numpy()).max() / (np.abs(ours[k]).max() + 1e-30))
                        for k in ours)
            if worst > 1e-3:
                raise SystemExit(f"PyTorch's gradients differ from ours (relative {worst:.1e}) at N={n}")
            engines["torch"] = tstep
        reps = {name: _reps_for(fn, args.min_time) for name, fn in engines.items()}
        times = {name: [] for name in engines}
        order = list(engines)
        for r in range(args.repeats):  # interleaved A/B, alternating which goes first
            for name in (order if r % 2 == 0 else order[::-1]):
                times[name].append(_timed(engines[name], reps[name]))
        ips = {name: n / statistics.median(ts) for name, ts in times.items()}
        ratio = (statistics.median(tt / tn for tn, tt in zip(times["numpy"], times["torch"]))
                 if "torch" in times else None)
        peak = peak_memory(engines["numpy"]) / 2 ** 20
        gflops = flops["total"] * ips["numpy"] / 1e9
        rows.append((n, ips, ratio))
        print(f"{n:>5} | {naive_ips:>11.1f} | {ips['numpy']:>11,.0f} | "
              + (f"{ips['torch']:>11,.0f} | {ratio:>10.2f}x" if ratio else f"{'-':>11} | {'-':>11}")
              + f" | {ips['numpy'] / naive_ips:>10,.0f}x | {gflops:>7.1f} | {100 * gflops / gemm:>7.1f}% | {peak:>8.2f}")
    print(f"FLOPs per image, forward + backward: {flops['total']:,} (forward {flops['forward']:,}, "
          f"backward {flops['backward']:,}); GFLOP/s = FLOPs per image x numpy img/s")
    print(f"timing: {args.repeats} interleaved rounds of >= {args.min_time} s per engine; medians; "
          "numpy/torch is the median of the per-round ratios")
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-sizes", default=",".join(map(str, BATCH_SIZES)),
                        help="comma-separated batch sizes (default 1,10,50,256)")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts, one process each")
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds per batch size")
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds per timed block")
    parser.add_argument("--naive-images", type=int, default=3, help="images for the naive loops")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if it is installed")
    parser.add_argument("--threads-here", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.batch_sizes = [int(v) for v in args.batch_sizes.split(",")]
    if args.threads_here is not None:
        run_setting(args)
        return
    for threads in (int(v) for v in args.threads.split(",")):
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
                   MKL_NUM_THREADS=str(threads))
        cmd = [sys.executable, os.path.abspath(__file__), "--threads-here", str(threads)]
        cmd += [a for a in (argv if argv is not None else sys.argv[1:])]
        subprocess.run(cmd, env=env, check=True)


if __name__ == "__main__":
    main()
