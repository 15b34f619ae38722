#!/usr/bin/python3
"""Reference log densities of the 12 posteriordb posteriors, for tests/posteriordb/models.test.cpp.

Each posterior's target is written here again from its Stan program (model.stan beside its
data), with scipy.stats and numpy only: nothing is shared with vaelib's models
(examples/posteriordb/models.hpp). For each posterior, at three fixed points (natural parameter
values near the reference means, moved by fixed multiples of the reference sd), it writes:

  values         the parameters' natural values, by Stan name of the whole parameter
  u              the point on Stan's unconstrained scale (declaration order; real: x,
                 lower=0: log x, (a, b): logit((x - a) / (b - a)), ordered: x1, log(x2 - x1), ...)
  log_density    the target at the natural values (no Jacobian), with every constant
  log_density_unconstrained   the same plus the log-Jacobian of Stan's transforms at u
  quantities     the reference quantities (Stan names: theta[1], f[3]) at the point

Constants differ from Stan's `~` statements (which drop them) and from vaelib (half
distributions for bounded parameters): the test compares differences between points.

usage: /usr/bin/python3 tests/posteriordb/reference_log_density.py  (writes reference_log_density.json here)
"""
import json
import math
import os

import numpy as np
from scipy import special, stats

HERE = os.path.dirname(os.path.abspath(__file__))


def load(posterior):
    with open(os.path.join(HERE, posterior, "data.json")) as f:
        data = json.load(f)
    with open(os.path.join(HERE, posterior, "reference.json")) as f:
        ref = {q["name"]: q for q in json.load(f)["parameters"]}
    return data, ref


# ---- the targets, from the Stan programs ------------------------------------------------------

def eight_schools(d, p):
    y, sigma = np.array(d["y"]), np.array(d["sigma"])
    theta = p["theta_trans"] * p["tau"] + p["mu"]
    lp = stats.norm.logpdf(p["theta_trans"], 0, 1).sum()
    lp += stats.norm.logpdf(y, theta, sigma).sum()
    lp += stats.norm.logpdf(p["mu"], 0, 5)
    lp += stats.cauchy.logpdf(p["tau"], 0, 5)
    return lp, {"theta": theta}


def kidscore_momiq(d, p):
    b = p["beta"]
    mu = b[0] + b[1] * np.array(d["mom_iq"])
    lp = stats.cauchy.logpdf(p["sigma"], 0, 2.5) + stats.norm.logpdf(np.array(d["kid_score"]), mu, p["sigma"]).sum()
    return lp, {}


def kidscore_interaction(d, p):
    b = p["beta"]
    hs, iq = np.array(d["mom_hs"]), np.array(d["mom_iq"])
    mu = b[0] + b[1] * hs + b[2] * iq + b[3] * (hs * iq)
    lp = stats.cauchy.logpdf(p["sigma"], 0, 2.5) + stats.norm.logpdf(np.array(d["kid_score"]), mu, p["sigma"]).sum()
    return lp, {}


def logearn_height(d, p):
    b = p["beta"]
    mu = b[0] + b[1] * np.array(d["height"])
    return stats.norm.logpdf(np.log(np.array(d["earn"])), mu, p["sigma"]).sum(), {}


def logmesquite_logvolume(d, p):
    b = p["beta"]
    volume = np.log(np.array(d["diam1"]) * np.array(d["diam2"]) * np.array(d["canopy_height"]))
    return stats.norm.logpdf(np.log(np.array(d["weight"])), b[0] + b[1] * volume, p["sigma"]).sum(), {}


def nes(d, p):
    b = p["beta"]
    age = np.array(d["age_discrete"])
    mu = (b[0] + b[1] * np.array(d["real_ideo"]) + b[2] * np.array(d["race_adj"]) + b[3] * (age == 2)
          + b[4] * (age == 3) + b[5] * (age == 4) + b[6] * np.array(d["educ1"]) + b[7] * np.array(d["gender"])
          + b[8] * np.array(d["income"]))
    return stats.norm.logpdf(np.array(d["partyid7"]), mu, p["sigma"]).sum(), {}


def blr(d, p):
    x, y = np.array(d["X"]), np.array(d["y"])
    lp = stats.norm.logpdf(p["beta"], 0, 10).sum() + stats.norm.logpdf(p["sigma"], 0, 10)
    return lp + stats.norm.logpdf(y, x @ p["beta"], p["sigma"]).sum(), {}


def ark(d, p):
    k, t, y = d["K"], d["T"], np.array(d["y"])
    lp = stats.norm.logpdf(p["alpha"], 0, 10) + stats.norm.logpdf(p["beta"], 0, 10).sum()
    lp += stats.cauchy.logpdf(p["sigma"], 0, 2.5)
    for i in range(k, t):  # 0-based time i is Stan's t = i + 1
        mu = p["alpha"] + sum(p["beta"][j] * y[i - 1 - j] for j in range(k))
        lp += stats.norm.logpdf(y[i], mu, p["sigma"])
    return lp, {}


def diamonds(d, p):
    x, y = np.array(d["X"]), np.array(d["Y"])
    xc = x[:, 1:] - x[:, 1:].mean(axis=0)
    lp = stats.norm.logpdf(p["b"], 0, 1).sum()
    lp += stats.t.logpdf(p["Intercept"], 3, 8, 10)
    lp += stats.t.logpdf(p["sigma"], 3, 0, 10) - stats.t.logsf(0, 3, 0, 10)
    if not d["prior_only"]:
        lp += stats.norm.logpdf(y, p["Intercept"] + xc @ p["b"], p["sigma"]).sum()
    return lp, {}


def gp_pois_regr(d, p):
    x, k = np.array(d["x"]), np.array(d["k"])
    cov = p["alpha"] ** 2 * np.exp(-np.subtract.outer(x, x) ** 2 / (2 * p["rho"] ** 2)) + 1e-10 * np.eye(len(x))
    f = np.linalg.cholesky(cov) @ p["f_tilde"]
    lp = stats.gamma.logpdf(p["rho"], 25, scale=1 / 4) + stats.norm.logpdf(p["alpha"], 0, 2)
    lp += stats.norm.logpdf(p["f_tilde"], 0, 1).sum() + stats.poisson.logpmf(k, np.exp(f)).sum()
    return lp, {"f": f}


def garch11(d, p):
    y = np.array(d["y"])
    sigma = [d["sigma1"]]
    for t in range(1, len(y)):
        sigma.append(math.sqrt(p["alpha0"] + p["alpha1"] * (y[t - 1] - p["mu"]) ** 2 + p["beta1"] * sigma[-1] ** 2))
    return stats.norm.logpdf(y, p["mu"], np.array(sigma)).sum(), {}


def low_dim_gauss_mix(d, p):
    y = np.array(d["y"])
    mu, sigma, theta = p["mu"], p["sigma"], p["theta"]
    lp = stats.norm.logpdf(sigma, 0, 2).sum() + stats.norm.logpdf(mu, 0, 2).sum() + stats.beta.logpdf(theta, 5, 5)
    lp += np.logaddexp(np.log(theta) + stats.norm.logpdf(y, mu[0], sigma[0]),
                       np.log1p(-theta) + stats.norm.logpdf(y, mu[1], sigma[1])).sum()
    return lp, {}


# Parameters in declaration order: (name, size or None for a scalar, constraint).
# Constraints: "real", "positive", ("interval", lower, upper) with bounds numbers or a function
# of the earlier values, "ordered".
POSTERIORS = {
    "eight_schools-eight_schools_noncentered":
        (eight_schools, [("theta_trans", 8, "real"), ("mu", None, "real"), ("tau", None, "positive")]),
    "kidiq-kidscore_momiq": (kidscore_momiq, [("beta", 2, "real"), ("sigma", None, "positive")]),
    "kidiq-kidscore_interaction": (kidscore_interaction, [("beta", 4, "real"), ("sigma", None, "positive")]),
    "earnings-logearn_height": (logearn_height, [("beta", 2, "real"), ("sigma", None, "positive")]),
    "mesquite-logmesquite_logvolume": (logmesquite_logvolume, [("beta", 2, "real"), ("sigma", None, "positive")]),
    "nes1972-nes": (nes, [("beta", 9, "real"), ("sigma", None, "positive")]),
    "sblrc-blr": (blr, [("beta", 5, "real"), ("sigma", None, "positive")]),
    "arK-arK": (ark, [("alpha", None, "real"), ("beta", 5, "real"), ("sigma", None, "positive")]),
    "diamonds-diamonds": (diamonds, [("b", 24, "real"), ("Intercept", None, "real"), ("sigma", None, "positive")]),
    "gp_pois_regr-gp_pois_regr":
        (gp_pois_regr, [("rho", None, "positive"), ("alpha", None, "positive"), ("f_tilde", 11, "real")]),
    "garch-garch11": (garch11, [("mu", None, "real"), ("alpha0", None, "positive"), ("alpha1", None, ("interval", 0, 1)),
                                ("beta1", None, ("interval", 0, lambda v: 1 - v["alpha1"]))]),
    "low_dim_gauss_mix-low_dim_gauss_mix":
        (low_dim_gauss_mix, [("mu", 2, "ordered"), ("sigma", 2, "positive"), ("theta", None, ("interval", 0, 1))]),
}

# Multiples of the reference sd for the three points (cycled over the parameter's elements).
MOVES = [[0.0], [0.6, -0.3, 0.45], [-0.8, 0.5, -0.25, 0.9]]


def stan_names(name, size):
    return [name] if size is None else [f"{name}[{i + 1}]" for i in range(size)]


def point(ref, params, which):
    """Natural values: the reference mean moved by MOVES[which] sd, or a fixed pattern for
    parameters the reference leaves out (theta_trans, f_tilde)."""
    values = {}
    moves = MOVES[which]
    for i, (name, size, constraint) in enumerate(params):
        out = []
        for j, sname in enumerate(stan_names(name, size)):
            c = moves[(i + j) % len(moves)]
            if sname in ref:
                out.append(ref[sname]["mean"] + c * ref[sname]["sd"])
            else:
                out.append(0.8 * math.sin(1.3 * j + 0.7 * which + 0.2))
        values[name] = out[0] if size is None else np.array(out)
    return values


def unconstrain(params, values):
    """Stan's unconstrained coordinates and the log-Jacobian of the map back."""
    u, log_jacobian = [], 0.0
    for name, size, constraint in params:
        x = np.atleast_1d(np.asarray(values[name], dtype=float))
        if constraint == "real":
            u.extend(x)
        elif constraint == "positive":
            assert (x > 0).all(), (name, x)
            u.extend(np.log(x))
            log_jacobian += np.log(x).sum()
        elif constraint == "ordered":
            assert (np.diff(x) > 0).all(), (name, x)
            steps = np.log(np.diff(x))
            u.extend([x[0], *steps])
            log_jacobian += steps.sum()
        else:
            _, lower, upper = constraint
            upper = upper(values) if callable(upper) else upper
            s = (x - lower) / (upper - lower)
            assert ((s > 0) & (s < 1)).all(), (name, x, lower, upper)
            u.extend(special.logit(s))
            log_jacobian += (np.log(upper - lower) + np.log(s) + np.log1p(-s)).sum()
    return [float(v) for v in u], float(log_jacobian)


def main():
    out = {}
    for posterior, (target, params) in POSTERIORS.items():
        data, ref = load(posterior)
        points = []
        for which in range(len(MOVES)):
            values = point(ref, params, which)
            lp, transformed = target(data, values)
            u, log_jacobian = unconstrain(params, values)
            quantities = {}
            for name, v in list(values.items()) + list(transformed.items()):
                v = np.atleast_1d(v)
                names = [name] if np.ndim(values.get(name, v)) == 0 and name in values else stan_names(name, len(v))
                for sname, x in zip(names, v):
                    if sname in ref:
                        quantities[sname] = float(x)
            assert set(quantities) == set(ref), (posterior, set(ref) - set(quantities))
            points.append({
                "values": {k: (float(v) if np.ndim(v) == 0 else [float(x) for x in v]) for k, v in values.items()},
                "u": u,
                "log_density": float(lp),
                "log_density_unconstrained": float(lp) + log_jacobian,
                "quantities": quantities,
            })
        out[posterior] = points
    path = os.path.join(HERE, "reference_log_density.json")
    with open(path, "w") as f:
        json.dump({"generated_by": "tests/posteriordb/reference_log_density.py", "posteriors": out}, f, indent=1)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
