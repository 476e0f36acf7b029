"""The latent monthly distress process of the synthetic population.

Each family carries a hidden state that changes once a month:

* ``L`` — distress level: 0 stable, 1 strained, 2 distressed, 3 crisis;
* six binary stressors and supports: ``U`` unemployment, ``A`` parental addiction, ``C`` family
  conflict, ``H`` housing trouble (arrears), ``I`` serious parental illness, ``S`` support received.

Static covariates modify every transition: low income, single parent, large family, a disabled
child, rural settlement. The chain is Markov in (state, covariates), so the probability that a
family has a registered outcome in the next 12 months given its state today is computed exactly,
by a backward recursion over the 256 × 256 transition matrix of each of the 32 covariate
combinations
(:func:`no_outcome_probability`). That exact probability is the oracle ``p_true``.

Registered outcomes happen only in crisis months (``L = 3``); a crisis month is what the truth calls
``distress``. The label-bias knob multiplies the registration hazard of low-income families.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

N_LEVELS = 4
BINARY = ("U", "A", "C", "H", "I", "S")
N_STATES = N_LEVELS * 2 ** len(BINARY)  # 256
COVARIATES = ("low_income", "single_parent", "large_family", "disabled_child", "rural")
N_COMBOS = 2 ** len(COVARIATES)  # 32
CRISIS = 3


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class Dynamics:
    """Parameters of the monthly process (rates are per month)."""

    # stressor onsets: base rate and multipliers
    u_on: float = 0.007
    u_off: float = 0.09
    a_on: float = 0.0012
    a_off: float = 0.025
    c_on: float = 0.006
    c_off: float = 0.12
    h_on: float = 0.003
    h_off: float = 0.06
    i_on: float = 0.002
    i_off: float = 0.05
    s_on: float = 0.006
    s_off: float = 0.08
    # distress level moves
    up_base: float = -2.6
    down_base: float = 1.0
    w_u: float = 0.9
    w_a: float = 1.6
    w_c: float = 1.2
    w_h: float = 0.9
    w_i: float = 0.7
    w_low_income: float = 0.15
    w_single_parent: float = 0.35
    w_large: float = 0.3
    w_disabled: float = 0.1
    w_support: float = 1.0
    # registration hazard in a crisis month
    crisis_hazard: float = 0.07
    label_bias: float = 1.0


def decode(states: np.ndarray) -> dict[str, np.ndarray]:
    """Split state codes into components (``L`` and each binary flag)."""
    out = {"L": states % N_LEVELS}
    rest = states // N_LEVELS
    for i, name in enumerate(BINARY):
        out[name] = (rest >> i) & 1
    return out


def encode(L: np.ndarray, flags: dict[str, np.ndarray]) -> np.ndarray:
    """Inverse of :func:`decode`."""
    rest = np.zeros_like(L)
    for i, name in enumerate(BINARY):
        rest = rest | (flags[name].astype(L.dtype) << i)
    return rest * N_LEVELS + L


def combo_code(cov: dict[str, np.ndarray]) -> np.ndarray:
    """Code of the static covariate combination of each family (0..31)."""
    code = np.zeros(len(cov[COVARIATES[0]]), dtype=np.int64)
    for i, name in enumerate(COVARIATES):
        code |= cov[name].astype(np.int64) << i
    return code


def transition_tables(d: Dynamics) -> dict[str, np.ndarray]:
    """Per (combo, state): probability of each component's next value.

    Returns arrays of shape ``(N_COMBOS, N_STATES)``: ``p_<flag>`` the probability that the flag
    is on next month, ``p_up`` / ``p_down`` the probabilities that ``L`` moves up or down by one.
    """
    combos = np.arange(N_COMBOS)[:, None]
    states = np.arange(N_STATES)[None, :]
    cov = {name: (combos >> i) & 1 for i, name in enumerate(COVARIATES)}
    s = decode(np.broadcast_to(states, (N_COMBOS, N_STATES)))
    L = s["L"]
    hi = (L >= 2).astype(float)
    li, sp, lg, dc, ru = (cov[n].astype(float) for n in COVARIATES)

    def keep(flag: np.ndarray, on: np.ndarray, off: np.ndarray) -> np.ndarray:
        return np.where(flag == 1, 1.0 - off, on)

    sup = s["S"].astype(float)
    tables = {
        "p_U": keep(
            s["U"], d.u_on * (1 + 1.5 * li) * (1 + 0.5 * ru) * (1 + 0.8 * hi), d.u_off + 0 * L
        ),
        "p_A": keep(s["A"], d.a_on * (1 + li) * (1 + 1.5 * s["C"]), d.a_off * (1 + sup)),
        "p_C": keep(
            s["C"],
            d.c_on * (1 + 3 * s["A"]) * (1 + s["U"]) * (1 + hi) * (1 + 0.3 * lg),
            d.c_off * (1 + 0.5 * sup),
        ),
        "p_H": keep(
            s["H"], d.h_on * (1 + 2 * li) * (1 + 3 * s["U"]) * (1 + 0.5 * sp), d.h_off * (1 + sup)
        ),
        "p_I": keep(s["I"], d.i_on * (1 + 0.5 * dc) + 0 * L, d.i_off + 0 * L),
        "p_S": keep(s["S"], d.s_on * (1 + 2 * hi) * (1 + 0.5 * dc) + 0 * L, d.s_off + 0 * L),
    }
    x = (
        d.w_u * s["U"]
        + d.w_a * s["A"]
        + d.w_c * s["C"]
        + d.w_h * s["H"]
        + d.w_i * s["I"]
        + d.w_low_income * li
        + d.w_single_parent * sp
        + d.w_large * lg
        + d.w_disabled * dc
        - d.w_support * sup
    )
    p_up = np.where(L < N_LEVELS - 1, _sigmoid(d.up_base + x + 0.4 * L), 0.0)
    p_down = np.where(L > 0, _sigmoid(d.down_base - 0.6 * x + d.w_support * sup), 0.0)
    tables["p_up"] = p_up
    tables["p_down"] = p_down * (1 - p_up)
    tables["hazard"] = registration_hazard(d)
    return {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in tables.items()}


def registration_hazard(d: Dynamics) -> np.ndarray:
    """Monthly probability of a registered outcome per (combo, state)."""
    combos = np.arange(N_COMBOS)[:, None]
    L = np.arange(N_STATES)[None, :] % N_LEVELS
    li = ((combos >> COVARIATES.index("low_income")) & 1).astype(float)
    base = np.where(L == CRISIS, d.crisis_hazard, 0.0)
    return np.minimum(base * np.where(li == 1, d.label_bias, 1.0), 0.95)


def step(
    states: np.ndarray,
    combos: np.ndarray,
    tables: dict[str, np.ndarray],
    rng: np.random.Generator,
) -> np.ndarray:
    """Draw next month's states for all families at once."""
    return step_from(states, combos, tables, rng.random((len(BINARY) + 1, len(states))))


def step_from(
    states: np.ndarray,
    combos: np.ndarray,
    tables: dict[str, np.ndarray],
    u: np.ndarray,
    up_scale: np.ndarray | None = None,
) -> np.ndarray:
    """Next month's states from given uniforms ``u`` (shape ``(7, n)``), as :func:`step` draws.

    Taking the uniforms lets two paths of the same families (with and without outreach) share
    their random numbers, so that they differ only by the intervention. ``up_scale`` multiplies
    each family's probability of a distress level moving up (outreach lowers it).
    """
    flat = combos * N_STATES + states
    flags = {}
    for i, name in enumerate(BINARY):
        p = tables[f"p_{name}"].ravel()[flat]
        flags[name] = (u[i] < p).astype(np.int64)
    L = states % N_LEVELS
    p_up = tables["p_up"].ravel()[flat]
    p_down = tables["p_down"].ravel()[flat]
    if up_scale is not None:
        p_up = p_up * up_scale
    move = np.where(u[-1] < p_up, 1, np.where(u[-1] < p_up + p_down, -1, 0))
    return encode(L + move, flags)


def transition_matrix(tables: dict[str, np.ndarray], combo: int) -> np.ndarray:
    """Return the full ``N_STATES × N_STATES`` transition matrix of one covariate combination.

    Registered outcomes do not feed back into the process, so the matrix holds in every month
    and the label-bias knob cannot change anything but the labels.
    """
    states = np.arange(N_STATES)
    cur = decode(states)
    nxt = decode(states)
    T = np.ones((N_STATES, N_STATES))
    for name in BINARY:
        p_on = tables[f"p_{name}"][combo][:, None]
        T *= np.where(nxt[name][None, :] == 1, p_on, 1 - p_on)
    L0 = cur["L"][:, None]
    L1 = nxt["L"][None, :]
    p_up = tables["p_up"][combo][:, None]
    p_down = tables["p_down"][combo][:, None]
    pl = np.where(
        L1 == L0 + 1,
        p_up,
        np.where(L1 == L0 - 1, p_down, np.where(L1 == L0, 1 - p_up - p_down, 0.0)),
    )
    return T * pl


def no_outcome_probability(tables: dict[str, np.ndarray], months: int = 12) -> np.ndarray:
    """P(no registered outcome in the next ``months`` months | state now), per (combo, state).

    Backward recursion: ``w_k = (1 - h) * (T @ w_{k+1})`` with ``w_months = 1``.
    """
    out = np.empty((N_COMBOS, N_STATES))
    for c in range(N_COMBOS):
        T = transition_matrix(tables, c)
        survive = 1.0 - tables["hazard"][c]
        w = np.ones(N_STATES)
        for _ in range(months):
            w = survive * (T @ w)
        out[c] = w
    return out


def crisis_free_probability(tables: dict[str, np.ndarray], months: int = 12) -> np.ndarray:
    """P(no crisis month in the next ``months`` months | state now), per (combo, state)."""
    out = np.empty((N_COMBOS, N_STATES))
    not_crisis = (np.arange(N_STATES) % N_LEVELS != CRISIS).astype(float)
    for c in range(N_COMBOS):
        T = transition_matrix(tables, c)
        w = np.ones(N_STATES)
        for _ in range(months):
            w = not_crisis * (T @ w)
        out[c] = w
    return out
