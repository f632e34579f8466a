# %% [markdown]
# # Notebook: the repeated-multiplication effect
#
# This notebook goes with lesson 2 of *Gradients Through Time*. A gradient that travels $k$ steps back
# through a recurrent network is multiplied by $k$ Jacobian matrices. Here you watch what repeated
# multiplication does to a number, to a fixed matrix and to the spectrum of a matrix product, and you
# change the settings yourself. The functions are the lesson's own, exactly as its page shows them.
#
# It needs only numpy and matplotlib and runs in a few seconds on a laptop CPU. Cells marked
# **Try it** suggest a change to make and what to look for.

# %%
import matplotlib.pyplot as plt
import numpy as np

rng = np.random.default_rng(0)  # change the seed: every conclusion below should survive it

# %% [markdown]
# ## 1. One number, many times
#
# Backpropagation multiplies step by step. After $n$ multiplications by a factor $a$ you hold $a^n$,
# which is a straight line on a logarithmic axis with slope $\log a$.

# %%
# --8<-- "lessons_code/l02_repeated_multiplication.py:powers"

# %% alt="Two lines on a logarithmic axis over 50 multiplications: 0.9 to the n falls steadily to about 0.005, 1.1 to the n rises steadily to about 117."
fig, ax = plt.subplots(figsize=(6, 3.2))
for a in (0.9, 1.1):
    values = repeated_products(a, 50)
    ax.semilogy(values, label=f"$a = {a}$")
    print(f"a = {a}: after 10 steps {values[10]:.3g}, after 50 steps {values[50]:.3g}")
ax.axhline(1.0, color="grey", lw=0.8, ls="--")
ax.set(xlabel="number of multiplications $n$", ylabel="$a^n$ (log scale)")
ax.legend()
plt.show()

# %% [markdown]
# **Try it.** Use $a = 0.99$ and $a = 1.01$ with 500 steps. A factor that is only 1 % away from 1
# still changes the signal by orders of magnitude once the sequence is long enough.
#
# ## 2. A fixed matrix: the spectral radius sets the rate
#
# For the linear recurrence $h_t = W h_{t-1}$ the Jacobian across $k$ steps is
#
# $$
# \frac{\partial h_T}{\partial h_{T-k}} = W^k .
# $$
#
# Its spectral norm $\|W^k\|_2$ is the largest factor by which the backward pass can stretch an error
# vector across $k$ steps. For large $k$ it behaves like $\rho(W)^k$, where the spectral radius
# $\rho(W)$ is the largest absolute eigenvalue. So on a log axis each curve becomes a line with slope
# $\log \rho$.

# %%
# --8<-- "lessons_code/l02_repeated_multiplication.py:lag"

# %% alt="Spectral norm of W to the k against lag k on a log axis for five spectral radii: after a short transient, straight lines falling for 0.5 and 0.9, level for 1.0, rising for 1.1 and 1.5."
hidden, max_lag = 64, 100
gaussian = rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)

fig, ax = plt.subplots(figsize=(6, 3.6))
for rho in (0.5, 0.9, 1.0, 1.1, 1.5):
    norms = jacobian_power_norms(scaled_to_spectral_radius(gaussian, rho), max_lag)
    slope = fitted_log_slope(norms, skip=20)
    ax.semilogy(norms, label=rf"$\rho = {rho}$")
    print(f"rho = {rho}: fitted slope {slope:+.4f}, log(rho) = {np.log(rho):+.4f}")
ax.set(xlabel="lag $k$", ylabel=r"$\|W^k\|_2$ (log scale)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# **Try it.** Replace the Gaussian matrix by `np.triu(gaussian)` (an upper-triangular, strongly
# non-normal matrix). The slopes still approach $\log \rho$, but only after a much longer transient.
#
# ## 3. Eigenvalues tell the long run, not the short run
#
# Both eigenvalues of the matrix below are 0.9, yet its powers first grow. A matrix whose eigenvectors
# are not orthogonal (a non-normal matrix) can amplify for a while before the spectral radius takes over.

# %%
# --8<-- "lessons_code/l02_repeated_multiplication.py:nonnormal"


nonnormal = np.array([[0.9, 4.0], [0.0, 0.9]])
peak_lag, peak = transient_peak(nonnormal, 100)
print("eigenvalues:", np.linalg.eigvals(nonnormal))
print(
    f"largest norm {peak:.1f} at lag {peak_lag}; norm at lag 100: {jacobian_power_norms(nonnormal, 100)[100]:.3g}"
)

# %% [markdown]
# **Try it.** Change the off-diagonal 4.0 to 0.5 or 20. How do the height and the position of the peak move?
#
# ## 4. Singular values of a product
#
# Real Jacobians change from step to step, and eigenvalues of a product of different matrices are not
# products of eigenvalues. Singular values always work: the largest singular value of a product bounds
# how much any direction can grow, the smallest how much it can shrink. Compare a Gaussian matrix with
# entries drawn from $\mathcal{N}(0, 1/n)$ with an orthogonal one.

# %%
# --8<-- "lessons_code/l02_repeated_multiplication.py:singular"

# %% alt="Two panels of singular values on a log axis: for the Gaussian matrix the spectrum of the k-th power fans out over more decades as k grows; for the orthogonal matrix every singular value is 1."
matrices = {"Gaussian": gaussian, "orthogonal": random_orthogonal(hidden, rng)}
fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.2), sharey=True)
for ax, (name, W) in zip(axes, matrices.items()):
    for k, s in product_singular_values(W, [1, 2, 4, 8]).items():
        ax.semilogy(np.arange(1, hidden + 1), s, marker="o", ms=2, label=f"$k = {k}$")
        print(f"{name:>10}, k = {k}: largest {s[0]:.3g}, smallest {s[-1]:.3g}")
    ax.set(title=f"{name} $W$", xlabel="index $i$")
axes[0].set_ylabel(r"$\sigma_i(W^k)$ (log scale)")
axes[0].legend(fontsize=8)
plt.show()

# %% [markdown]
# The Gaussian spectrum fans out over more decades with every factor: some directions explode while
# others vanish, in the same product. Every singular value of every power of the orthogonal matrix is 1.
#
# **Try it.** Multiply the orthogonal matrix by a diagonal matrix of tanh derivatives,
# `np.diag(1 - np.tanh(rng.standard_normal(hidden)) ** 2) @ W`, before taking powers. The nonlinearity
# pulls every singular value below 1, which is why orthogonal initialisation is a start and not a cure.
