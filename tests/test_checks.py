"""Tests for helpers.checks: ONE table of exercise checks. Every public check of the package has
at least one independent correct solution here, which it must accept, and at least one plausible
wrong one, which it must reject; a check without both fails
test_every_public_check_has_a_correct_and_a_wrong_solution. Every check also reports (does not
raise) a student's function that raises or returns None.

The solutions are written here with plain loops and slices; they do not call the helpers a check
is built on (helpers.checks.base has its own tests in test_checks_base.py).
"""

import matplotlib

matplotlib.use("Agg")  # this module only: notebooks keep their inline backend

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import refimpl as R  # noqa: E402

from helpers import checks, pooling, softmax_net  # noqa: E402
from helpers.convolution import conv_backward, convolve2d, correlate2d, rot180  # noqa: E402
from helpers.pooling import avgpool_forward  # noqa: E402



# --------------------------------------------------------------------------------------------


def _true_conv(x, k):
    """Valid TRUE convolution of one map: out[i, j] = sum_ab x[i + kh-1-a, j + kw-1-b] k[a, b]."""
    kh, kw = k.shape
    ho, wo = x.shape[0] - kh + 1, x.shape[1] - kw + 1
    out = np.zeros((ho, wo))
    for a in range(kh):
        for b in range(kw):
            out += k[a, b] * x[kh - 1 - a:kh - 1 - a + ho, kw - 1 - b:kw - 1 - b + wo]
    return out


def _true_conv_kernel_grad(x, dz, flip=True):
    """d/dk of sum(dz * true_conv(x, k)); ``flip=False`` is the classic mistake (no rot180)."""
    ho, wo = dz.shape
    kh, kw = x.shape[0] - ho + 1, x.shape[1] - wo + 1
    dk = np.zeros((kh, kw))
    for a in range(kh):
        for b in range(kw):
            r, c = (kh - 1 - a, kw - 1 - b) if flip else (a, b)
            dk[a, b] = np.sum(dz * x[r:r + ho, c:c + wo])
    return dk


def _true_conv_input_grad(dz, k, flip=True):
    """d/dx of sum(dz * true_conv(x, k)), scattered back tap by tap."""
    kh, kw = k.shape
    ho, wo = dz.shape
    dx = np.zeros((ho + kh - 1, wo + kw - 1))
    for a in range(kh):
        for b in range(kw):
            r, c = (kh - 1 - a, kw - 1 - b) if flip else (a, b)
            dx[r:r + ho, c:c + wo] += k[a, b] * dz
    return dx


def _upsample(d, factor=2, scale=0.25):
    """Every entry of the last two axes copied into a factor x factor block, times ``scale``."""
    d = np.asarray(d, dtype=float)
    h, w = d.shape[-2:]
    out = np.zeros(d.shape[:-2] + (factor * h, factor * w))
    for i in range(h):
        for j in range(w):
            out[..., factor * i:factor * i + factor, factor * j:factor * j + factor] = d[..., i, j, None, None] * scale
    return out


def _first_max(window, tie="first"):
    """(row, col) of the maximum of a 2-D window, scanning row by row; ``tie="last"`` is a bug."""
    best = None
    for r in range(window.shape[0]):
        for c in range(window.shape[1]):
            if best is None or window[r, c] > window[best] or (tie == "last" and window[r, c] == window[best]):
                best = (r, c)
    return best


def _pool_back_one(d, C, size, stride, mode, *, accumulate=True, tie="first"):
    """Error ``d`` (Ho, Wo) back through pooling of the single map ``C`` (H, W)."""
    out = np.zeros(C.shape)
    for i in range(d.shape[0]):
        for j in range(d.shape[1]):
            r0, c0 = i * stride, j * stride
            if mode == "avg":
                block = np.full((size, size), d[i, j] / size ** 2)
                if accumulate:
                    out[r0:r0 + size, c0:c0 + size] += block
                else:
                    out[r0:r0 + size, c0:c0 + size] = block
            else:
                r, c = _first_max(C[r0:r0 + size, c0:c0 + size], tie)
                if accumulate:
                    out[r0 + r, c0 + c] += d[i, j]
                else:
                    out[r0 + r, c0 + c] = d[i, j]
    return out


def _maxpool_back(dS, C, tie="first"):
    """2x2 stride 2 max-pool routing over any leading axes."""
    dS, C = np.asarray(dS, dtype=float), np.asarray(C, dtype=float)
    out = np.zeros(C.shape)
    for idx in np.ndindex(*dS.shape[:-2]):
        out[idx] = _pool_back_one(dS[idx], C[idx], 2, 2, "max", tie=tie)
    return out


# --------------------------------------------------------------------------------------------
# Notebook 04
# --------------------------------------------------------------------------------------------


def unflatten(df):
    out = np.zeros((12, 4, 4))
    for n, value in enumerate(np.asarray(df, dtype=float)):
        q, rest = divmod(n, 16)
        col, row = divmod(rest, 4)  # column scan: four rows of column 0, then column 1, ...
        out[q, row, col] = value
    return out


def avgpool_backward(dS):
    return _upsample(dS)


def maxpool_backward(dS, C):
    return _maxpool_back(dS, C)


def pool_backward(dS, C, size, stride, mode):
    return _pool_back_one(np.asarray(dS, float), np.asarray(C, float), size, stride, mode)


# --------------------------------------------------------------------------------------------
# Notebook 05
# --------------------------------------------------------------------------------------------


def conv_kernel_grad(S, dC_sigma, flip=True):
    return np.array([[_true_conv_kernel_grad(S[p], dC_sigma[q], flip) for q in range(dC_sigma.shape[0])]
                     for p in range(S.shape[0])])


def full_conv_input_grad(dC_sigma, k, flip=True):
    return np.array([sum(_true_conv_input_grad(dC_sigma[q], k[p, q], flip) for q in range(k.shape[1]))
                     for p in range(k.shape[0])])


def bias_grad(dC, C):
    return np.array([np.sum(dC[q] * C[q] * (1 - C[q])) for q in range(C.shape[0])])


def layer1_grads(x, C1, dS1, scale=0.25, flip=True):
    dz = _upsample(dS1, scale=scale) * C1 * (1 - C1)  # Zhang eqs. 52 and 57
    return np.array([_true_conv_kernel_grad(x, dz[p], flip) for p in range(6)]), dz.sum(axis=(1, 2))


# --------------------------------------------------------------------------------------------
# Notebook 09
# --------------------------------------------------------------------------------------------


def find_offset(op, f):
    """Probe: a single 1 in the input and a kernel that is 1 at its centre (u = v = 0), so
    ``out(i, j) = x(i + c, j + c)``: the 1 moves by -c."""
    n = 4 * f + 1
    x = np.zeros((n, n))
    x[2 * f, 2 * f] = 1.0
    k = np.zeros((f, f))
    k[f // 2, f // 2] = 1.0
    out = np.asarray(op(x, k))
    (row, _), = np.argwhere(np.isclose(out, 1.0))
    return 2 * f - int(row)


def param_total(conv, dense):
    return sum(m_in * m_out * f * f + m_out for m_in, m_out, f in conv) + sum(n_in * n_out + n_out for n_in, n_out in dense)


def which_convention(op):
    x = np.arange(1.0, 10.0).reshape(3, 3)
    k = np.array([[1.0, 0.0], [0.0, 0.0]])  # reads x[0, 0] unflipped, x[1, 1] flipped
    return "correlation" if np.isclose(np.asarray(op(x, k))[0, 0], x[0, 0]) else "convolution"


# --------------------------------------------------------------------------------------------
# Notebook 06
# --------------------------------------------------------------------------------------------


def sgd_step(params, grads, lr):
    return {key: params[key] - lr * grads[key] for key in params}


def sgd_step_in_place(params, grads, lr):
    for key in params:
        params[key] -= lr * grads[key]
    return params


def confusion_matrix(y_true, y_pred):
    cm = np.zeros((10, 10), dtype=int)
    for t, p in zip(y_true, y_pred):
        cm[t, p] += 1
    return cm


def minibatches(n, batch_size, rng):
    order = rng.permutation(n)
    return [order[start:start + batch_size] for start in range(0, n, batch_size)]


def momentum_step(params, grads, velocity, lr, mu):
    new_velocity = {key: mu * velocity[key] - lr * grads[key] for key in params}
    return {key: params[key] + new_velocity[key] for key in params}, new_velocity


# --------------------------------------------------------------------------------------------
# Notebook 07 (seed 002)
# --------------------------------------------------------------------------------------------


def seed002_bp1(a3, y, cost):
    return (a3 - y) * a3 * (1 - a3) if cost == "quadratic" else a3 - y


def seed002_output_grads(delta3, a2):
    return delta3[:, None, None] * a2[None, :, :], delta3.copy()


def seed002_bp2(dC_da2, a1, tie="first"):
    return _maxpool_back(dC_da2, a1, tie) * a1 * (1 - a1)


def seed002_shared_grads(delta1, a0):
    dw1 = np.array([[np.sum(delta1 * a0[l:l + 24, m:m + 24]) for m in range(5)] for l in range(5)])
    return dw1, float(np.sum(delta1))


# --------------------------------------------------------------------------------------------
# Notebook 08 (seed 003)
# --------------------------------------------------------------------------------------------


def seed003_param_count(maps1, maps2, hidden):
    conv = (1 * maps1 * 25 + maps1) + (maps1 * maps2 * 25 + maps2)
    return conv + (maps2 * 16 * hidden + hidden) + (hidden * 10 + 10)


def seed003_upsample_error(dP, C):
    return _upsample(dP) * C * (1 - C)


def seed003_conv2_grads(C1P, dC2_sigma, flip=True):
    return conv_kernel_grad(C1P, dC2_sigma, flip), dC2_sigma.sum(axis=(1, 2))


def seed003_backward(params, x, y, scan="column"):
    """Seed 003's network, forward and backward, written out layer by layer."""
    K1, b1, K2, b2 = params["K1"], params["b1"], params["K2"], params["b2"]
    W1, b_1, W2, b_2 = params["W1"], params["b_1"], params["W2"], params["b_2"]
    C1 = R.sigmoid(np.array([_true_conv(x, K1[0, m]) + b1[m] for m in range(4)]))
    C1P = C1.reshape(4, 12, 2, 12, 2).mean(axis=(2, 4))
    C2 = R.sigmoid(np.array([sum(_true_conv(C1P[m], K2[m, n]) for m in range(4)) + b2[n] for n in range(6)]))
    C2P = C2.reshape(6, 4, 2, 4, 2).mean(axis=(2, 4))
    flat = C2P.transpose(0, 2, 1).reshape(96)  # each map column by column
    a1 = R.sigmoid(W1 @ flat + b_1)
    z2 = W2 @ a1 + b_2
    s = np.exp(z2 - z2.max())
    s /= s.sum()
    delta2 = s - np.eye(10)[y]
    delta1 = (W2.T @ delta2) * a1 * (1 - a1)
    dflat = W1.T @ delta1
    dC2P = dflat.reshape(6, 4, 4).transpose(0, 2, 1) if scan == "column" else dflat.reshape(6, 4, 4)
    dz2 = _upsample(dC2P) * C2 * (1 - C2)
    dC1P = full_conv_input_grad(dz2, K2)
    dz1 = _upsample(dC1P) * C1 * (1 - C1)
    return {"K1": np.array([[_true_conv_kernel_grad(x, dz1[m]) for m in range(4)]]), "b1": dz1.sum(axis=(1, 2)),
            "K2": conv_kernel_grad(C1P, dz2), "b2": dz2.sum(axis=(1, 2)),
            "W1": np.outer(delta1, flat), "b_1": delta1, "W2": np.outer(delta2, a1), "b_2": delta2}




# --------------------------------------------------------------------------------------------
# Notebooks 01-03: convolution, forward pass, fully connected layer
# --------------------------------------------------------------------------------------------


def conv_loops(x, k):
    kh, kw = k.shape
    out = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(x[i:i + kh, j:j + kw] * k[::-1, ::-1])
    return out


def c2_forward(S1, k2, b2):
    maps = [sum(convolve2d(S1[p], k2[p, q]) for p in range(S1.shape[0])) + b2[q] for q in range(k2.shape[1])]
    return R.sigmoid(np.stack(maps))


def conv_input_gradient(d, w, flip=True):
    return correlate2d(np.pad(d, ((w.shape[0] - 1,) * 2, (w.shape[1] - 1,) * 2)), rot180(w) if flip else w)


def fc_backward(W, f, y_hat, y):
    dy_hat = (y_hat - y) * y_hat * (1 - y_hat)  # Zhang eq. 18
    return np.outer(dy_hat, f), dy_hat, W.T @ dy_hat  # eqs. 19, 24, 30


def fc_backward_batch(W, F, Y_hat, Y):
    D = (Y_hat - Y) * Y_hat * (1 - Y_hat) / F.shape[0]
    return D.T @ F, D.sum(axis=0), D @ W


def softmax_ce_delta(z, y):
    s = np.exp(z - z.max())
    return s / s.sum() - y


def fold_rows(M):
    return M.reshape(M.shape[0], 12, 4, 4).transpose(0, 1, 3, 2)


def _in_place(W, f, y_hat, y):
    y_hat -= y  # changes the caller's array
    dy_hat = y_hat * (y_hat + y) * (1 - y_hat - y)
    return np.outer(dy_hat, f), dy_hat, W.T @ dy_hat


def dense_head_backward(W1, b1, W2, b2, a0, y):
    a1 = 1.0 / (1.0 + np.exp(-(W1 @ a0 + b1)))
    delta = softmax_ce_delta(W2 @ a1 + b2, y)  # seed 003: s - y
    delta1 = (W2.T @ delta) * a1 * (1 - a1)  # W_2^T delta times f'
    return np.outer(delta1, a0), delta1, np.outer(delta, a1), delta


def dense_head_no_sigma_prime(W1, b1, W2, b2, a0, y):
    dW1, db1, dW2, db2 = dense_head_backward(W1, b1, W2, b2, a0, y)
    a1 = 1.0 / (1.0 + np.exp(-(W1 @ a0 + b1)))
    return dW1 / (a1 * (1 - a1))[:, None], db1 / (a1 * (1 - a1)), dW2, db2


def seed002_bp2_every_maximum(d, a1):                          # seed 002's literal reading at ties
    w = a1.reshape(12, 2, 12, 2)
    return ((w == w.max(axis=(1, 3), keepdims=True)) * d[:, None, :, None]).reshape(24, 24) * a1 * (1 - a1)


def seed002_shared_loops(d, a0):
    return np.array([[np.sum(d * a0[l:l + 24, m:m + 24]) for m in range(5)] for l in range(5)]), d.sum()


def seed003_conv2_by_convolve(P, d, flip=True):
    return (np.array([[convolve2d(rot180(P[m]) if flip else P[m], d[n]) for n in range(len(d))]
                      for m in range(len(P))]), d.sum(axis=(1, 2)))


def seed003_backward_helpers(params, x, y):
    return softmax_net.backward(params, softmax_net.forward(params, x), y)


def seed003_backward_no_rotation(params, x, y):          # conv_backward's dK2 left in correlation form
    c = softmax_net.forward(params, x)
    grads = softmax_net.backward(params, c, y)
    _, err = softmax_net.backward_with_errors(params, c, y)
    layer = dict(c["layer_caches"][2], convention="correlation")
    grads["K2"] = conv_backward(err["dC2_sigma"][None], layer)[1]
    return grads


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------

CORRECT = [
    ("check_convolve2d", conv_loops),
    ("check_output_size", lambda n, f, p, s: (n + 2 * p - f) // s + 1),
    ("check_conv_input_gradient", conv_input_gradient),
    ("check_conv_kernel_gradient", lambda a, d: correlate2d(a, d)),
    ("check_zhang_index", lambda i, j, u, v: (i + 1 - u, j + 1 - v)),
    ("check_flatten_F", lambda S2: np.concatenate([m.T.ravel() for m in S2])),
    ("check_unflatten_F", lambda f: f.reshape(12, 4, 4).transpose(0, 2, 1)),
    ("check_avgpool_zhang", lambda C: avgpool_forward(C)[0]),
    ("check_c2_forward", c2_forward),
    ("check_conv_layer_params", lambda c_in, c_out, f: c_in * c_out * f * f + c_out),
    ("check_fc_backward", fc_backward),
    ("check_fc_backward_batch", fc_backward_batch),
    ("check_softmax_ce_delta", softmax_ce_delta),
    ("check_fold_rows", fold_rows),
    ("check_dense_head_backward", dense_head_backward),
    ("check_unflatten", unflatten),
    ("check_avgpool_backward", avgpool_backward),
    ("check_maxpool_backward", maxpool_backward),
    ("check_pool_backward", pool_backward),
    ("check_conv_kernel_grad", conv_kernel_grad),
    ("check_full_conv_input_grad", full_conv_input_grad),
    ("check_bias_grad", bias_grad),
    ("check_layer1_grads", layer1_grads),
    ("check_find_offset", find_offset),
    ("check_param_total", param_total),
    ("check_which_convention", which_convention),
    ("check_sgd_step", sgd_step),
    ("check_confusion_matrix", confusion_matrix),
    ("check_minibatches", minibatches),
    ("check_momentum_step", momentum_step),
    ("check_seed002_bp1", seed002_bp1),
    ("check_seed002_output_grads", seed002_output_grads),
    ("check_seed002_bp2", seed002_bp2),
    ("check_seed002_shared_grads", seed002_shared_grads),
    ("check_seed003_param_count", seed003_param_count),
    ("check_seed003_upsample_error", seed003_upsample_error),
    ("check_seed003_conv2_grads", seed003_conv2_grads),
    ("check_seed003_backward", seed003_backward),
]

CORRECT += [
    ("check_seed002_bp1", lambda a, y, cost: (a - y) * a * (1 - a) if cost == "quadratic" else a - y),
    ("check_seed002_output_grads", lambda d, a2: (d[:, None, None] * a2[None], d.copy())),
    ("check_seed002_bp2", lambda d, a1: pooling.maxpool_backward(d, pooling.maxpool_forward(a1, 2, 2)[1])
     * a1 * (1 - a1)),
    ("check_seed002_shared_grads", seed002_shared_loops),
    ("check_seed003_param_count", lambda m1, m2, h: 26 * m1 + 25 * m1 * m2 + m2 + 16 * m2 * h + h + 10 * h + 10),
    ("check_seed003_upsample_error", lambda dP, C: np.kron(dP, np.ones((1, 2, 2))) / 4 * C * (1 - C)),
    ("check_seed003_conv2_grads", seed003_conv2_by_convolve),
    ("check_seed003_backward", seed003_backward_helpers),
]

def _mutating(solution, position):
    """``solution`` that also scribbles over its argument number ``position``."""
    def wrapped(*args):
        result = solution(*[np.array(a, copy=True) for a in args])
        args[position][...] = 0.0
        return result
    return wrapped


def _all_maxima(dS, C):
    """Max-pool routing that sends the error to every tied maximum (wrong at ties)."""
    out = np.zeros(C.shape)
    for idx in np.ndindex(*dS.shape[:-2]):
        for i in range(dS.shape[-2]):
            for j in range(dS.shape[-1]):
                win = C[idx][2 * i:2 * i + 2, 2 * j:2 * j + 2]
                out[idx][2 * i:2 * i + 2, 2 * j:2 * j + 2] += (win == win.max()) * dS[idx][i, j]
    return out


def _maxpool_from_zero(dS, C):
    """Max-pool routing whose running maximum starts at 0 (wrong when a window is all negative)."""
    out = np.zeros(C.shape)
    for idx in np.ndindex(*dS.shape[:-2]):
        for i in range(dS.shape[-2]):
            for j in range(dS.shape[-1]):
                best, where = 0.0, (0, 0)
                for r in range(2):
                    for c in range(2):
                        if C[idx][2 * i + r, 2 * j + c] > best:
                            best, where = C[idx][2 * i + r, 2 * j + c], (r, c)
                out[idx][2 * i + where[0], 2 * j + where[1]] += dS[idx][i, j]
    return out



WRONG = [
    ("check_convolve2d", lambda x, k: correlate2d(x, k)),
    # rounds instead of flooring
    ("check_output_size", lambda n, f, p, s: round((n + 2 * p - f) / s) + 1),
    ("check_conv_input_gradient", lambda d, w: conv_input_gradient(d, w, flip=False)),
    ("check_conv_kernel_gradient", lambda a, d: convolve2d(a, d)),
    ("check_zhang_index", lambda i, j, u, v: (i - 1 - u, j - 1 - v)),
    ("check_flatten_F", lambda S2: S2.ravel()),
    ("check_unflatten_F", lambda f: f.reshape(12, 4, 4)),
    ("check_avgpool_zhang", lambda C: C[:, ::2, ::2]),
    ("check_c2_forward", lambda S1, k2, b2: c2_forward(S1, k2[:, :, ::-1, ::-1], b2)),  # correlation
    ("check_conv_layer_params", lambda c_in, c_out, f: c_out * f * f + c_out),  # forgets the input maps
    ("check_fc_backward", lambda W, f, yh, y: (np.outer(yh - y, f), yh - y, W.T @ (yh - y))),
    # df with W instead of W^T: wrong shape
    ("check_fc_backward", lambda W, f, yh, y: fc_backward(W, f, yh, y)[:2] + (W @ f,)),
    # returns two arrays instead of three
    ("check_fc_backward", lambda W, f, yh, y: fc_backward(W, f, yh, y)[:2]),
    # modifies its input
    ("check_fc_backward", _in_place),
    # sum instead of mean over the batch
    ("check_fc_backward_batch",
     lambda W, F, Yh, Y: tuple(a * F.shape[0] for a in fc_backward_batch(W, F, Yh, Y))),
    # softmax without the max shift overflows on huge logits
    ("check_softmax_ce_delta", lambda z, y: np.exp(z) / np.exp(z).sum() - y),
    # sign error
    ("check_softmax_ce_delta", lambda z, y: -softmax_ce_delta(z, y)),
    # row scan instead of Zhang's column scan
    ("check_fold_rows", lambda M: M.reshape(M.shape[0], 12, 4, 4)),
    # sigma' divided out of the hidden layer's gradients
    ("check_dense_head_backward", dense_head_no_sigma_prime),
    # row scan (numpy's reshape): every map comes out transposed
    ("check_unflatten", lambda df: np.asarray(df).reshape(12, 4, 4)),
    # the 1/4 of average pooling forgotten
    ("check_avgpool_backward", lambda dS: _upsample(dS, scale=1.0)),
    # ties go to the last maximum
    ("check_maxpool_backward", lambda dS, C: _maxpool_back(dS, C, tie="last")),
    # ties: every maximum gets the error
    ("check_maxpool_backward", _all_maxima),
    # a running maximum that starts at 0
    ("check_maxpool_backward", _maxpool_from_zero),
    # overlapping windows overwrite instead of adding up
    ("check_pool_backward", lambda dS, C, size, stride, mode: _pool_back_one(dS, C, size, stride, mode, accumulate=False)),
    # average pooling divided by 4 whatever the window size
    ("check_pool_backward", lambda dS, C, size, stride, mode: _pool_back_one(dS, C, size, stride, mode) * (
        size ** 2 / 4 if mode == "avg" else 1.0)),
    # rot180 missing: the correlation layer's kernel gradient
    ("check_conv_kernel_grad", lambda S, dz: conv_kernel_grad(S, dz, flip=False)),
    # right values, but the input is overwritten
    ("check_conv_kernel_grad", _mutating(conv_kernel_grad, 0)),
    # rot180 missing in the full convolution
    ("check_full_conv_input_grad", lambda dz, k: full_conv_input_grad(dz, k, flip=False)),
    # the sum over output maps q forgotten (only q = 0)
    ("check_full_conv_input_grad", lambda dz, k: full_conv_input_grad(dz[:1], k[:, :1])),
    # sigma' forgotten
    ("check_bias_grad", lambda dC, C: dC.sum(axis=(1, 2))),
    # the 1/4 of the upsampling forgotten
    ("check_layer1_grads", lambda x, C1, dS1: layer1_grads(x, C1, dS1, scale=1.0)),
    # rot180 forgotten
    ("check_layer1_grads", lambda x, C1, dS1: layer1_grads(x, C1, dS1, flip=False)),
    # assumes every routine is valid: c = (f - 1) / 2
    ("check_find_offset", lambda op, f: (f - 1) // 2),
    # the sign of the shift flipped
    ("check_find_offset", lambda op, f: -find_offset(op, f)),
    # bias vectors of the dense layers forgotten
    ("check_param_total", lambda conv, dense: param_total(conv, []) + sum(a * b for a, b in dense)),
    # answers swapped
    ("check_which_convention", lambda op: {"correlation": "convolution", "convolution": "correlation"}[
        which_convention(op)]),
    # the sign of the step
    ("check_sgd_step", lambda params, grads, lr: {k: params[k] + lr * grads[k] for k in params}),
    # updates the caller's arrays
    ("check_sgd_step", sgd_step_in_place),
    # float64 arithmetic whatever the input
    ("check_sgd_step", lambda params, grads, lr: {k: params[k].astype(np.float64) - lr * grads[k] for k in params}),
    # rows = answers, columns = true classes
    ("check_confusion_matrix", lambda t, p: confusion_matrix(t, p).T),
    # no shuffle
    ("check_minibatches", lambda n, size, rng: [np.arange(n)[s:s + size] for s in range(0, n, size)]),
    # the last, smaller batch dropped
    ("check_minibatches", lambda n, size, rng: minibatches(n, size, rng)[:n // size]),
    # theta moved with the old velocity
    ("check_momentum_step", lambda p, g, v, lr, mu: ({k: p[k] + v[k] for k in p}, momentum_step(p, g, v, lr, mu)[1])),
    # sigma' forgotten in the quadratic cost
    ("check_seed002_bp1", lambda a3, y, cost: a3 - y),
    # the pooled map transposed
    ("check_seed002_output_grads", lambda delta3, a2: seed002_output_grads(delta3, a2.T)),
    # ties go to every maximum of the window
    ("check_seed002_bp2", lambda d, a1: _all_maxima(d, a1) * a1 * (1 - a1)),
    # sigma'(z1) forgotten
    ("check_seed002_bp2", lambda d, a1: _maxpool_back(d, a1)),
    # the shared-kernel gradient flipped (a convolution where seed 002 correlates)
    ("check_seed002_shared_grads", lambda delta1, a0: (seed002_shared_grads(delta1, a0)[0][::-1, ::-1],
                                                       float(np.sum(delta1)))),
    # one kernel per output map instead of one per pair of maps
    ("check_seed003_param_count", lambda m1, m2, h: seed003_param_count(m1, m2, h) - (m1 - 1) * m2 * 25),
    # the 1/4 of average pooling forgotten
    ("check_seed003_upsample_error", lambda dP, C: _upsample(dP, scale=1.0) * C * (1 - C)),
    # rot180 forgotten
    ("check_seed003_conv2_grads", lambda C1P, dz: seed003_conv2_grads(C1P, dz, flip=False)),
    # numpy's row scan used to unflatten in the backward pass
    ("check_seed003_backward", lambda params, x, y: seed003_backward(params, x, y, scan="row")),
]

WRONG += [
    ("check_seed002_bp1", lambda a, y, cost: (a - y) * a * (1 - a)),
    ("check_seed002_output_grads", lambda d, a2: (d[:, None, None] * a2.T[None], d.copy())),
    ("check_seed002_bp2", seed002_bp2_every_maximum),
    ("check_seed002_shared_grads", lambda d, a0: (rot180(seed002_shared_loops(d, a0)[0]), d.sum())),
    ("check_seed003_param_count", lambda m1, m2, h: 26 * m1 + 25 * m2 + m2 + 16 * m2 * h + h + 10 * h + 10),
    ("check_seed003_upsample_error", lambda dP, C: np.kron(dP, np.ones((1, 2, 2))) / 4),
    ("check_seed003_conv2_grads", lambda P, d: seed003_conv2_by_convolve(P, d, flip=False)),
    ("check_seed003_backward", seed003_backward_no_rotation),
    ("check_seed003_backward", lambda p, x, y: [1, 2]),
]

ALL_CHECKS = sorted(name for name in checks.__all__ if name.startswith("check_"))


def _run(check_name, fn, capsys):
    result = getattr(checks, check_name)(fn)
    return result, capsys.readouterr().out


@pytest.mark.parametrize("check_name, solution", CORRECT, ids=[f"{name}-{i}" for i, (name, _) in enumerate(CORRECT)])
def test_check_accepts_an_independent_correct_solution(check_name, solution, capsys):
    result, out = _run(check_name, solution, capsys)
    assert result is True, out
    lines = out.strip().splitlines()
    case_lines = [line for line in lines[1:-1]]
    assert case_lines and all(line.lstrip().startswith("pass") for line in case_lines), out
    assert lines[-1] == f"{len(case_lines)} of {len(case_lines)} cases pass"
    assert "FAIL" not in out


@pytest.mark.parametrize("check_name, wrong", WRONG, ids=[f"{name}-{i}" for i, (name, _) in enumerate(WRONG)])
def test_check_rejects_a_plausible_mistake(check_name, wrong, capsys):
    with np.errstate(all="ignore"):
        result, out = _run(check_name, wrong, capsys)
    assert result is False, out
    assert "FAIL" in out
    last = out.strip().splitlines()[-1]
    passed, total = (int(w) for w in last.split()[0:3:2])
    assert passed < total


def test_every_public_check_has_a_correct_and_a_wrong_solution():
    assert ALL_CHECKS, "helpers.checks exports no check"
    assert {name for name, _ in CORRECT} == set(ALL_CHECKS)
    assert {name for name, _ in WRONG} == set(ALL_CHECKS)


def test_a_result_that_is_not_a_dict_is_named(capsys):
    assert checks.check_seed003_backward(lambda p, x, y: [1, 2]) is False
    assert "expected a dict" in capsys.readouterr().out


def _raises(*args, **kwargs):
    raise RuntimeError("not written yet")


@pytest.mark.parametrize("check_name", ALL_CHECKS)
def test_a_raising_solution_is_reported_not_raised(check_name, capsys):
    result, out = _run(check_name, _raises, capsys)
    assert result is False
    case_lines = out.strip().splitlines()[1:-1]
    assert case_lines and all(line.lstrip().startswith("FAIL") for line in case_lines), out
    assert "raised RuntimeError: not written yet" in out
    assert out.strip().splitlines()[-1] == f"0 of {len(case_lines)} cases pass"


def test_a_solution_returning_none_fails_quietly(capsys):
    for check_name in ALL_CHECKS:
        result, out = _run(check_name, lambda *args, **kwargs: None, capsys)
        assert result is False, (check_name, out)
        assert "FAIL" in out


@pytest.mark.parametrize("check_name", ALL_CHECKS)
def test_every_check_is_documented(check_name):
    doc = getattr(checks, check_name).__doc__
    assert doc and "Exercise" in doc


