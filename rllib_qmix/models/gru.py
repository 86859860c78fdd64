"""A GRU unroll for training on the CPU: the recurrence with a hand-written backward pass.

``torch.nn.GRU`` on the CPU records every step's gate arithmetic for autograd, so its
backward pass walks thousands of tiny nodes (per step: two matrix products for the weight
and state gradients, the gate splits' concatenations, the activations' derivatives).
``gru_recurrence`` keeps only what the backward pass needs (the gates of every step) and
computes it in one loop with one matrix product per step; the weight gradients are then a
single product over all steps. The input projection stays outside (an ordinary
``F.linear`` over every step at once), so autograd handles it as one large product.

The numbers are those of ``torch.nn.GRU`` (same equations and gate order r, z, n; equal to
rounding, see ``tests/models/test_gru.py``):

    r = sigmoid(gi_r + W_hr h + b_hr)
    z = sigmoid(gi_z + W_hz h + b_hz)
    n = tanh(gi_n + r * (W_hn h + b_hn))
    h' = n + z * (h - n)

Tensors are time-major: ``[T, R, ...]`` (time, rows).
"""

from __future__ import annotations

from typing import Any, Optional

import torch


def _tanh_(x: torch.Tensor) -> torch.Tensor:
    """tanh in place, as 2 sigmoid(2x) - 1: equal to rounding, and on x86 CPUs several times
    faster than torch.tanh (44 against 9 us for 256 x 64 floats on the 2-core machine)."""
    return torch.sigmoid(x.mul_(2.0), out=x).mul_(2.0).sub_(1.0)


def _forward(
    gi: torch.Tensor, h0: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor, keep: bool
) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
    """Runs the recurrence; returns the hidden states ``[T, R, H]`` and, if ``keep``, what the
    backward pass needs: the states (h0 first), the gates ``r, z`` and ``n``, and
    ``W_hh h + b_hh``, each written in place where the step computes it."""
    t_len, rows, three_h = gi.shape
    hd = three_h // 3
    hs = gi.new_empty((t_len + 1, rows, hd))
    hs[0] = h0
    if keep:
        gh_all = gi.new_empty((t_len, rows, three_h))
        rz_all = gi.new_empty((t_len, rows, 2 * hd))
        n_all = gi.new_empty((t_len, rows, hd))
    w_t = w_hh.t()
    h = hs[0]
    for t in range(t_len):
        gh = torch.addmm(b_hh, h, w_t, out=gh_all[t]) if keep else torch.addmm(b_hh, h, w_t)
        git = gi[t]
        pre = torch.add(git[:, : 2 * hd], gh[:, : 2 * hd])
        rz = torch.sigmoid(pre, out=rz_all[t]) if keep else pre.sigmoid_()
        n = torch.addcmul(git[:, 2 * hd :], rz[:, :hd], gh[:, 2 * hd :], out=n_all[t]) if keep else None
        n = _tanh_(n if keep else torch.addcmul(git[:, 2 * hd :], rz[:, :hd], gh[:, 2 * hd :]))
        h = torch.addcmul(n, rz[:, hd:], h - n, out=hs[t + 1])
    return hs[1:], (hs, gh_all, rz_all, n_all) if keep else ()


class _GRURecurrence(torch.autograd.Function):
    """Autograd wrapper of ``_forward`` with the backward pass written out."""

    @staticmethod
    def forward(ctx: Any, gi: torch.Tensor, h0: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor) -> torch.Tensor:
        out, saved = _forward(gi, h0, w_hh, b_hh, keep=True)
        ctx.save_for_backward(w_hh, *saved)
        return out

    @staticmethod
    def backward(ctx: Any, d_out: torch.Tensor) -> tuple[Optional[torch.Tensor], ...]:
        w_hh, hs, gh_all, rz_all, n_all = ctx.saved_tensors
        t_len, rows, hd = n_all.shape
        d_gi = d_out.new_empty((t_len, rows, 3 * hd))
        d_w_hh = torch.zeros_like(w_hh)
        d_b_hh = torch.zeros((1, 3 * hd), dtype=w_hh.dtype, device=w_hh.device)
        ones = d_out.new_ones((1, rows))
        g = d_out.new_empty((rows, 3 * hd))  # this step's gradient of W_hh h + b_hh
        dh = torch.zeros_like(hs[0])
        for t in range(t_len - 1, -1, -1):
            r, z, n = rz_all[t, :, :hd], rz_all[t, :, hd:], n_all[t]
            dh.add_(d_out[t])
            dgi = d_gi[t]
            # n's pre-activation: dh (1 - z) (1 - n^2)
            one_minus_n2 = torch.addcmul(n.new_ones(()), n, n, value=-1.0)
            dn = torch.mul(dh, torch.rsub(z, 1.0), out=dgi[:, 2 * hd :]).mul_(one_minus_n2)
            # r's: dn ghn r (1 - r);  z's: dh (h - n) z (1 - z);  ghn's: dn r
            torch.mul(dn, gh_all[t, :, 2 * hd :], out=g[:, :hd]).mul_(r).mul_(torch.rsub(r, 1.0))
            torch.mul(dh, hs[t] - n, out=g[:, hd : 2 * hd]).mul_(z).mul_(torch.rsub(z, 1.0))
            torch.mul(dn, r, out=g[:, 2 * hd :])
            dgi[:, : 2 * hd] = g[:, : 2 * hd]
            d_w_hh.addmm_(g.t(), hs[t])
            d_b_hh.addmm_(ones, g)
            dh = torch.addmm(dh.mul_(z), g, w_hh)
        return d_gi, dh, d_w_hh, d_b_hh.view(-1)


def gru_recurrence(gi: torch.Tensor, h0: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor) -> torch.Tensor:
    """The hidden states of a GRU over a sequence, given its input projections.

    Args:
        gi: ``[T, R, 3H]``: ``W_ih x_t + b_ih`` of every step (gate order r, z, n).
        h0: ``[R, H]`` start state.
        w_hh: ``[3H, H]`` recurrent weights; ``b_hh``: ``[3H]`` their bias.

    Returns:
        ``[T, R, H]``: the hidden state after each step.
    """
    if torch.is_grad_enabled() and any(x.requires_grad for x in (gi, h0, w_hh, b_hh)):
        return _GRURecurrence.apply(gi, h0, w_hh, b_hh)
    with torch.no_grad():
        return _forward(gi, h0, w_hh, b_hh, keep=False)[0]
