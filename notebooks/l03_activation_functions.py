# %% [markdown]
# # Notebook: activation functions and when each problem happens
#
# This notebook goes with lesson 3 of *Gradients Through Time*. The error that travels back one step is
# multiplied by the Jacobian $J_t = \operatorname{diag}(\phi'(a_t))\, W$. Here you look at the two
# factors: the derivative $\phi'$ of the activation and the largest singular value $\sigma_{\max}(W)$ of
# the recurrent weights, and you test the rule they give for when gradients must vanish. The functions
# are the lesson's own, exactly as its page shows them.
#
# It needs only numpy and matplotlib and runs in a few seconds. Cells marked **Try it** suggest a change
# to make and what to look for.

# %%
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np

rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Three activations and their derivatives
#
# Let $\gamma$ be the largest value the derivative ever takes. For the sigmoid $\gamma = 1/4$, for tanh
# and ReLU $\gamma = 1$. ReLU's derivative is 0 or 1, never more. The chapter keeps each activation with
# its derivative and $\gamma$ in one table.

# %%
# --8<-- "lessons_code/activations.py:activations"

# %% alt="Derivatives of sigmoid, tanh and ReLU against the pre-activation from -6 to 6: the sigmoid's is a low bump peaking at one quarter, tanh's a taller bump peaking at 1, ReLU's a step from 0 to 1 at zero."
a = np.linspace(-6, 6, 601)
fig, ax = plt.subplots(figsize=(6, 3))
for name, (_, phi_prime, _) in ACTIVATIONS.items():
    ax.plot(a, phi_prime(a), label=f"{name}: largest value {phi_prime(a).max():.3g}")
ax.set(xlabel="pre-activation $a$", ylabel=r"$\phi'(a)$")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 2. The rule for when the gradient must vanish
#
# A norm of a product is at most the product of the norms, so across $k$ steps
#
# $$
# \Big\| \prod_t \operatorname{diag}(\phi'(a_t))\, W \Big\|_2 \le \big(\gamma\, \sigma_{\max}(W)\big)^k .
# $$
#
# Below $\gamma \sigma_{\max} = 1$ the gradient must vanish, whatever the inputs. Above it, it *can*
# explode but need not: the derivatives may be small along the actual trajectory. The code measures the
# norm of the product along a real trajectory of the network while sweeping $\sigma_{\max}(W)$.

# %%
# --8<-- "lessons_code/l03_activation_functions.py:lag_norm"

# %% alt="Three panels, one per activation, of the gradient norm after 50 steps against gamma times the largest singular value of W, both on log axes, with the bound as a dashed line: left of 1 every measured norm is tiny and below the bound; right of 1 tanh and sigmoid norms stay small for a while before rising, ReLU norms grow quickly."
n, lag = 32, 50
D = rng.standard_normal((n, n))
inputs = rng.standard_normal((2 * lag, n))
factors = np.geomspace(0.3, 8.0, 25)
fig, axes = plt.subplots(1, 3, figsize=(9, 3), sharey=True)
for ax, (name, (_, _, gamma)) in zip(axes, ACTIVATIONS.items()):
    norms = [gradient_norm_at_lag(with_sigma_max(D, f / gamma), name, inputs, lag) for f in factors]
    ax.loglog(factors, norms, marker="o", ms=3, label="measured")
    ax.loglog(
        factors,
        np.minimum(pascanu_bound(factors, 1.0, lag), 1e30),
        ls="--",
        color="grey",
        label="bound",
    )
    ax.axvline(1.0, color="black", lw=0.8)
    ax.set(title=name, xlabel=r"$\gamma\,\sigma_{\max}(W)$", ylim=(1e-30, 1e30))
    ax.set_xticks([0.3, 1, 3], labels=["0.3", "1", "3"])
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
axes[0].set_ylabel(f"gradient norm after {lag} steps")
axes[0].legend(fontsize=8)
plt.show()

# %% [markdown]
# **Try it.** Multiply `inputs` by 5. The tanh and sigmoid curves right of the line drop: large inputs
# saturate the units, their derivatives shrink, and the product vanishes even though the weights are
# large enough to let it explode.
#
# ## 3. Saturation
#
# How small does $\tanh'(a_t)$ get along a trajectory? Drive the same network with inputs of growing size
# and look at the distribution of the derivatives it meets.

# %%
# --8<-- "lessons_code/l03_activation_functions.py:saturation"

# %% alt="Fraction of tanh derivatives below 0.1 along a trajectory, against the input standard deviation on a log axis: close to zero for small inputs, rising steeply to most of the units for large inputs."
W = with_sigma_max(D, 1.5)
noise = rng.standard_normal((200, n))
scales = np.geomspace(0.05, 20, 15)
primes = [tanh_prime(preactivations_along_trajectory(W, s * noise)) for s in scales]
saturated = [np.mean(p < 0.1) for p in primes]
fig, ax = plt.subplots(figsize=(6, 3))
ax.semilogx(scales, saturated, marker="o", ms=3)
ax.set(xlabel="input standard deviation", ylabel=r"fraction with $\tanh'(a) < 0.1$")
plt.show()
print(
    f"median tanh' with inputs of std {scales[0]:.2g}: {np.median(primes[0]):.3f}, "
    f"std {scales[-1]:.2g}: {np.median(primes[-1]):.2e}"
)

# %% [markdown]
# ## 4. A ReLU network with identity weights
#
# A common claim says ReLU makes gradients explode because its derivative can exceed 1. It cannot: the
# derivative is 0 or 1. With $W = I$ and positive inputs, ReLU passes every gradient through unchanged;
# only a weight scale above 1 makes it grow.

# %%
# --8<-- "lessons_code/l03_activation_functions.py:relu_check"


for scale in (1.0, 1.05):
    largest, gradient_norm, _ = identity_relu_demo(scale)
    print(
        f"W = {scale} I: largest ReLU derivative met {largest:g}, gradient norm after 50 steps {gradient_norm:.3g}"
    )

# %% [markdown]
# **Try it.** Use `scale = 0.95`. What does the gradient do, and why is the ReLU derivative not the reason?
