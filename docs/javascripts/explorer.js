/* Gradient-flow explorer: how far back can a gradient travel through a recurrent network?
 *
 * Every element <div class="gtt-explorer" data-...> on a page becomes an explorer: sliders for the
 * spectral radius of W, the sequence length T and the lag k, radio buttons for the activation and the
 * initialisation, and two live plots drawn as SVG: ||dh_T/dh_{T-k}||_2 against k on a log axis, and the
 * singular values of the product of the last k Jacobians.
 *
 * The numbers are computed here, in float64, from a seeded network that lessons_code/explorer.py builds
 * from the same random numbers; tests/test_explorer.py checks that both give the same results. The
 * linear algebra (Gram-Schmidt QR, eigenvalues by Householder reduction to Hessenberg form and Francis
 * double-shift QR, spectral norms by Householder tridiagonalisation and bisection, singular values by
 * one-sided Jacobi) is written out below, so the site needs no library and no other host.
 *
 * Plain JavaScript, no dependencies. In Node.js the computing half is exported for tests.
 */
(function (global) {
  "use strict";

  var N_UNITS = 24;
  var WEIGHT_SEED = 1;
  var INPUT_SEED = 2;
  var RHO_RANGE = [0.1, 5.0];
  var LENGTH_RANGE = [5, 200];
  var RESOLVABLE = 1e-12; // singular values below this fraction of the largest are rounding noise
  var LN10 = Math.LN10;

  // ------------------------------------------------------------------ random numbers (as in numpy)

  /** `count` outputs of mulberry32 started from `seed`: the same integers lessons_code/explorer.py draws. */
  function mulberry32(seed, count) {
    var out = new Uint32Array(count);
    var state = seed >>> 0;
    for (var i = 0; i < count; i++) {
      state = (state + 0x6d2b79f5) >>> 0;
      var t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      out[i] = (t ^ (t >>> 14)) >>> 0;
    }
    return out;
  }

  /** `count` standard normal numbers by the Box-Muller transform on pairs of uniforms in (0, 1). */
  function standardNormals(seed, count) {
    var pairs = Math.ceil(count / 2);
    var bits = mulberry32(seed, 2 * pairs);
    var out = new Float64Array(2 * pairs);
    for (var i = 0; i < pairs; i++) {
      var u1 = (bits[2 * i] + 0.5) / 4294967296;
      var u2 = (bits[2 * i + 1] + 0.5) / 4294967296;
      var radius = Math.sqrt(-2 * Math.log(u1));
      var angle = 2 * Math.PI * u2;
      out[2 * i] = radius * Math.cos(angle);
      out[2 * i + 1] = radius * Math.sin(angle);
    }
    return out.subarray(0, count);
  }

  // ------------------------------------------------------------------ linear algebra (n x n, row-major)

  /** Q of the QR factorisation of g with a positive diagonal in R (Gram-Schmidt, each column twice). */
  function orthonormalColumns(g, n) {
    var q = new Float64Array(n * n);
    var v = new Float64Array(n);
    for (var j = 0; j < n; j++) {
      for (var r = 0; r < n; r++) v[r] = g[r * n + j];
      for (var pass = 0; pass < 2; pass++) {
        for (var i = 0; i < j; i++) {
          var dot = 0;
          for (r = 0; r < n; r++) dot += q[r * n + i] * v[r];
          for (r = 0; r < n; r++) v[r] -= dot * q[r * n + i];
        }
      }
      var norm = 0;
      for (r = 0; r < n; r++) norm += v[r] * v[r];
      norm = Math.sqrt(norm);
      for (r = 0; r < n; r++) q[r * n + j] = v[r] / norm;
    }
    return q;
  }

  /** Reduce a copy of A to upper Hessenberg form with Householder reflections (similar, same eigenvalues). */
  function hessenberg(A, n) {
    var a = Float64Array.from(A);
    var v = new Float64Array(n);
    for (var k = 0; k < n - 2; k++) {
      var alpha = 0;
      for (var i = k + 1; i < n; i++) alpha += a[i * n + k] * a[i * n + k];
      alpha = Math.sqrt(alpha);
      if (alpha === 0) continue;
      if (a[(k + 1) * n + k] > 0) alpha = -alpha;
      var vnorm2 = 0;
      for (i = k + 1; i < n; i++) {
        v[i] = a[i * n + k] - (i === k + 1 ? alpha : 0);
        vnorm2 += v[i] * v[i];
      }
      if (vnorm2 === 0) continue;
      var beta = 2 / vnorm2;
      for (var j = 0; j < n; j++) { // A <- (I - beta v v^T) A
        var s = 0;
        for (i = k + 1; i < n; i++) s += v[i] * a[i * n + j];
        s *= beta;
        for (i = k + 1; i < n; i++) a[i * n + j] -= s * v[i];
      }
      for (i = 0; i < n; i++) { // A <- A (I - beta v v^T)
        s = 0;
        for (j = k + 1; j < n; j++) s += a[i * n + j] * v[j];
        s *= beta;
        for (j = k + 1; j < n; j++) a[i * n + j] -= s * v[j];
      }
      for (i = k + 2; i < n; i++) a[i * n + k] = 0;
    }
    return a;
  }

  /** Eigenvalues (re, im) of an upper Hessenberg matrix by the shifted QR algorithm (Francis double shift). */
  function hessenbergEigenvalues(H, n) {
    var a = Float64Array.from(H);
    var re = new Float64Array(n);
    var im = new Float64Array(n);
    function at(i, j) { return a[i * n + j]; }
    function set(i, j, value) { a[i * n + j] = value; }
    var anorm = 0;
    for (var i = 0; i < n; i++) for (var j = Math.max(i - 1, 0); j < n; j++) anorm += Math.abs(at(i, j));
    var nn = n - 1;
    var t = 0;
    var p = 0, q = 0, r = 0, s = 0, w = 0, x = 0, y = 0, z = 0;
    while (nn >= 0) {
      var its = 0;
      var l;
      do {
        for (l = nn; l >= 1; l--) { // look for a negligible subdiagonal element
          s = Math.abs(at(l - 1, l - 1)) + Math.abs(at(l, l));
          if (s === 0) s = anorm;
          if (Math.abs(at(l, l - 1)) + s === s) {
            set(l, l - 1, 0);
            break;
          }
        }
        x = at(nn, nn);
        if (l === nn) { // one root found
          re[nn] = x + t;
          im[nn] = 0;
          nn--;
        } else {
          y = at(nn - 1, nn - 1);
          w = at(nn, nn - 1) * at(nn - 1, nn);
          if (l === nn - 1) { // two roots found
            p = 0.5 * (y - x);
            q = p * p + w;
            z = Math.sqrt(Math.abs(q));
            x += t;
            if (q >= 0) {
              z = p + (p >= 0 ? Math.abs(z) : -Math.abs(z));
              re[nn - 1] = re[nn] = x + z;
              if (z !== 0) re[nn] = x - w / z;
              im[nn - 1] = im[nn] = 0;
            } else {
              re[nn - 1] = re[nn] = x + p;
              im[nn - 1] = -z;
              im[nn] = z;
            }
            nn -= 2;
          } else { // no roots yet: one double-shift QR step
            if (its === 60) throw new Error("explorer: eigenvalues did not converge");
            if (its === 10 || its === 20) { // exceptional shift
              t += x;
              for (i = 0; i <= nn; i++) set(i, i, at(i, i) - x);
              s = Math.abs(at(nn, nn - 1)) + Math.abs(at(nn - 1, nn - 2));
              y = x = 0.75 * s;
              w = -0.4375 * s * s;
            }
            its++;
            var m;
            for (m = nn - 2; m >= l; m--) {
              z = at(m, m);
              r = x - z;
              s = y - z;
              p = (r * s - w) / at(m + 1, m) + at(m, m + 1);
              q = at(m + 1, m + 1) - z - r - s;
              r = at(m + 2, m + 1);
              s = Math.abs(p) + Math.abs(q) + Math.abs(r);
              p /= s;
              q /= s;
              r /= s;
              if (m === l) break;
              var u = Math.abs(at(m, m - 1)) * (Math.abs(q) + Math.abs(r));
              var v = Math.abs(p) * (Math.abs(at(m - 1, m - 1)) + Math.abs(z) + Math.abs(at(m + 1, m + 1)));
              if (u + v === v) break;
            }
            for (i = m + 2; i <= nn; i++) {
              set(i, i - 2, 0);
              if (i !== m + 2) set(i, i - 3, 0);
            }
            for (var k = m; k <= nn - 1; k++) {
              if (k !== m) {
                p = at(k, k - 1);
                q = at(k + 1, k - 1);
                r = 0;
                if (k !== nn - 1) r = at(k + 2, k - 1);
                x = Math.abs(p) + Math.abs(q) + Math.abs(r);
                if (x !== 0) {
                  p /= x;
                  q /= x;
                  r /= x;
                }
              }
              s = Math.sqrt(p * p + q * q + r * r);
              if (p < 0) s = -s;
              if (s !== 0) {
                if (k === m) {
                  if (l !== m) set(k, k - 1, -at(k, k - 1));
                } else {
                  set(k, k - 1, -s * x);
                }
                p += s;
                x = p / s;
                y = q / s;
                z = r / s;
                q /= p;
                r /= p;
                for (j = k; j <= nn; j++) { // row modification
                  p = at(k, j) + q * at(k + 1, j);
                  if (k !== nn - 1) {
                    p += r * at(k + 2, j);
                    set(k + 2, j, at(k + 2, j) - p * z);
                  }
                  set(k + 1, j, at(k + 1, j) - p * y);
                  set(k, j, at(k, j) - p * x);
                }
                var mmin = nn < k + 3 ? nn : k + 3;
                for (i = l; i <= mmin; i++) { // column modification
                  p = x * at(i, k) + y * at(i, k + 1);
                  if (k !== nn - 1) {
                    p += z * at(i, k + 2);
                    set(i, k + 2, at(i, k + 2) - p * r);
                  }
                  set(i, k + 1, at(i, k + 1) - p * q);
                  set(i, k, at(i, k) - p);
                }
              }
            }
          }
        }
      } while (l < nn - 1);
    }
    return { re: re, im: im };
  }

  /** Spectral radius: the largest |eigenvalue| of a square matrix. */
  function spectralRadius(A, n) {
    var eig = hessenbergEigenvalues(hessenberg(A, n), n);
    var rho = 0;
    for (var i = 0; i < n; i++) rho = Math.max(rho, Math.hypot(eig.re[i], eig.im[i]));
    return rho;
  }

  /**
   * Largest eigenvalue of a symmetric matrix: Householder tridiagonalisation, then bisection with Sturm
   * counts. Only the lower triangle of S is read and updated (half the work of the full update), in place.
   */
  function largestSymmetricEigenvalue(S, n) {
    var a = S; // reduced in place: callers pass a matrix they no longer need
    var v = new Float64Array(n);
    var p = new Float64Array(n);
    var d = new Float64Array(n);
    var e2 = new Float64Array(n); // squared off-diagonal, e2[i] couples i-1 and i
    for (var k = 0; k < n - 2; k++) {
      var alpha = 0;
      for (var i = k + 1; i < n; i++) alpha += a[i * n + k] * a[i * n + k];
      alpha = Math.sqrt(alpha);
      if (a[(k + 1) * n + k] > 0) alpha = -alpha;
      var vnorm2 = 0;
      for (i = k + 1; i < n; i++) {
        v[i] = a[i * n + k] - (i === k + 1 ? alpha : 0);
        vnorm2 += v[i] * v[i];
      }
      e2[k + 1] = alpha * alpha;
      if (vnorm2 === 0) continue; // column already reduced
      var beta = 2 / vnorm2;
      for (i = k + 1; i < n; i++) p[i] = 0;
      for (i = k + 1; i < n; i++) { // p = beta A v on the trailing block, from its lower triangle
        var row = i * n, vi = v[i], s = a[row + i] * vi;
        for (var j = k + 1; j < i; j++) {
          var aij = a[row + j];
          s += aij * v[j];
          p[j] += aij * vi;
        }
        p[i] += s;
      }
      var vp = 0;
      for (i = k + 1; i < n; i++) {
        p[i] *= beta;
        vp += v[i] * p[i];
      }
      var half = 0.5 * beta * vp;
      for (i = k + 1; i < n; i++) p[i] -= half * v[i];
      for (i = k + 1; i < n; i++) { // A <- A - v p^T - p v^T (lower triangle)
        row = i * n;
        var vi2 = v[i], pi = p[i];
        for (j = k + 1; j <= i; j++) a[row + j] -= vi2 * p[j] + pi * v[j];
      }
    }
    if (n >= 2) e2[n - 1] = a[(n - 1) * n + n - 2] * a[(n - 1) * n + n - 2];
    var lo = Infinity, hi = -Infinity;
    for (i = 0; i < n; i++) d[i] = a[i * n + i];
    for (i = 0; i < n; i++) { // Gershgorin interval
      var radius = (i > 0 ? Math.sqrt(e2[i]) : 0) + (i < n - 1 ? Math.sqrt(e2[i + 1]) : 0);
      lo = Math.min(lo, d[i] - radius);
      hi = Math.max(hi, d[i] + radius);
    }
    var tiny = Number.MIN_VALUE;
    function countBelow(xv) {
      var count = 0, qv = 1;
      for (var ii = 0; ii < n; ii++) {
        qv = d[ii] - xv - (ii > 0 ? e2[ii] / qv : 0);
        if (qv === 0) qv = -tiny;
        if (qv < 0) count++;
      }
      return count;
    }
    for (var it = 0; it < 200 && hi - lo > 2 * Number.EPSILON * Math.max(Math.abs(lo), Math.abs(hi)); it++) {
      var mid = 0.5 * (lo + hi);
      if (mid === lo || mid === hi) break;
      if (countBelow(mid) === n) hi = mid; else lo = mid;
    }
    return 0.5 * (lo + hi);
  }

  /** Spectral norm ||P||_2: the square root of the largest eigenvalue of P P^T (rows read in order). */
  function spectralNorm(P, n) {
    var g = new Float64Array(n * n);
    for (var i = 0; i < n; i++) {
      for (var j = 0; j <= i; j++) { // the lower triangle is all largestSymmetricEigenvalue reads
        var s = 0, pi = i * n, pj = j * n;
        for (var r = 0; r < n; r++) s += P[pi + r] * P[pj + r];
        g[pi + j] = s;
      }
    }
    return Math.sqrt(Math.max(largestSymmetricEigenvalue(g, n), 0));
  }

  /** All singular values, largest first: one-sided Jacobi (Hestenes) rotations until the columns are orthogonal. */
  function singularValues(P, n) {
    var c = new Float64Array(n * n); // column j of P stored contiguously at c[j * n ...]
    for (var i = 0; i < n; i++) for (var j = 0; j < n; j++) c[j * n + i] = P[i * n + j];
    for (var sweep = 0; sweep < 60; sweep++) {
      var rotated = false;
      for (var p = 0; p < n - 1; p++) {
        for (var q = p + 1; q < n; q++) {
          var alpha = 0, beta = 0, gamma = 0;
          for (var r = 0; r < n; r++) {
            var x = c[p * n + r], y = c[q * n + r];
            alpha += x * x;
            beta += y * y;
            gamma += x * y;
          }
          if (gamma === 0 || Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta)) continue;
          rotated = true;
          var zeta = (beta - alpha) / (2 * gamma);
          var t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
          var cs = 1 / Math.sqrt(1 + t * t);
          var sn = cs * t;
          for (r = 0; r < n; r++) {
            x = c[p * n + r];
            y = c[q * n + r];
            c[p * n + r] = cs * x - sn * y;
            c[q * n + r] = sn * x + cs * y;
          }
        }
      }
      if (!rotated) break;
    }
    var values = new Float64Array(n);
    for (j = 0; j < n; j++) {
      var s = 0;
      for (r = 0; r < n; r++) s += c[j * n + r] * c[j * n + r];
      values[j] = Math.sqrt(s);
    }
    return values.sort().reverse();
  }

  // ------------------------------------------------------------------ the network

  function sigmoid(a) { return 0.5 * (1 + Math.tanh(0.5 * a)); }

  // name: phi, phi', gamma (the largest value phi' takes), as in lessons_code/explorer.py
  var ACTIVATIONS = {
    linear: { phi: function (a) { return a; }, prime: function () { return 1; }, gamma: 1, label: "linear" },
    tanh: {
      phi: Math.tanh,
      prime: function (a) { var t = Math.tanh(a); return 1 - t * t; },
      gamma: 1, label: "tanh",
    },
    sigmoid: {
      phi: sigmoid,
      prime: function (a) { var t = Math.tanh(0.5 * a); return 0.25 * (1 - t * t); },
      gamma: 0.25, label: "sigmoid",
    },
    relu: { phi: function (a) { return a > 0 ? a : 0; }, prime: function (a) { return a > 0 ? 1 : 0; }, gamma: 1, label: "ReLU" },
  };
  var INITS = { gaussian: "Gaussian", orthogonal: "orthogonal", identity: "identity" };

  var cache = { initial: {}, inputs: null };

  /** W0 before scaling and its spectral radius; cached, since it depends only on the initialisation. */
  function initialMatrix(init) {
    if (cache.initial[init]) return cache.initial[init];
    var n = N_UNITS;
    var w0;
    if (init === "identity") {
      w0 = new Float64Array(n * n);
      for (var i = 0; i < n; i++) w0[i * n + i] = 1;
    } else {
      var g = standardNormals(WEIGHT_SEED, n * n);
      if (init === "gaussian") {
        var scale = Math.sqrt(n);
        w0 = Float64Array.from(g, function (value) { return value / scale; });
      } else {
        w0 = orthonormalColumns(g, n);
      }
    }
    cache.initial[init] = { w0: w0, rho: spectralRadius(w0, n) };
    return cache.initial[init];
  }

  function inputs() {
    if (!cache.inputs) cache.inputs = standardNormals(INPUT_SEED, LENGTH_RANGE[1] * N_UNITS);
    return cache.inputs;
  }

  function checkSettings(settings) {
    if (!ACTIVATIONS.hasOwnProperty(settings.activation)) throw new Error("explorer: unknown activation " + settings.activation);
    if (!INITS.hasOwnProperty(settings.init)) throw new Error("explorer: unknown initialisation " + settings.init);
    if (!(settings.rho >= RHO_RANGE[0] && settings.rho <= RHO_RANGE[1])) throw new Error("explorer: rho out of range");
    var T = settings.length;
    if (!(Number.isInteger(T) && T >= LENGTH_RANGE[0] && T <= LENGTH_RANGE[1])) throw new Error("explorer: length out of range");
  }

  /**
   * out = A diag(d[offset..offset+n)) B for n x n matrices, given Bt = B transposed (so that every inner
   * loop reads memory in order); returns the Frobenius norm of out.
   */
  function multiplyScaled(A, d, offset, Bt, out, n, row) {
    var frob = 0;
    for (var i = 0; i < n; i++) {
      var ai = i * n;
      for (var r = 0; r < n; r++) row[r] = A[ai + r] * d[offset + r];
      for (var j = 0; j < n; j++) {
        var bj = j * n, s = 0;
        for (r = 0; r < n; r++) s += row[r] * Bt[bj + r];
        out[ai + j] = s;
        frob += s * s;
      }
    }
    return Math.sqrt(frob);
  }

  /**
   * Run the network for T steps from h_0 = 0 and multiply its Jacobians J_t = diag(phi'(a_t)) W from the
   * last step back. Product k is stored as exp(logScale[k]) * unit[k] with ||unit[k]||_F = 1, so no
   * product under- or overflows. Returns everything the plots need.
   */
  function compute(settings) {
    checkSettings(settings);
    var n = N_UNITS, T = settings.length, act = ACTIVATIONS[settings.activation];
    var start = initialMatrix(settings.init);
    var factor = settings.rho / start.rho;
    var W = Float64Array.from(start.w0, function (value) { return value * factor; });
    var x = inputs();
    var slopes = new Float64Array(T * n); // phi'(a_t) for t = 1..T
    var h = new Float64Array(n), a = new Float64Array(n);
    for (var t = 0; t < T; t++) {
      for (var i = 0; i < n; i++) {
        var s = 0;
        for (var j = 0; j < n; j++) s += W[i * n + j] * h[j];
        a[i] = s + x[t * n + i];
      }
      for (i = 0; i < n; i++) {
        h[i] = act.phi(a[i]);
        slopes[t * n + i] = act.prime(a[i]);
      }
    }
    var unit = new Float64Array((T + 1) * n * n);
    var logScale = new Float64Array(T + 1);
    var log10Norms = new Float64Array(T + 1);
    var product = new Float64Array(n * n), next = new Float64Array(n * n), row = new Float64Array(n);
    var Wt = new Float64Array(n * n);
    for (i = 0; i < n; i++) for (j = 0; j < n; j++) Wt[j * n + i] = W[i * n + j];
    for (i = 0; i < n; i++) product[i * n + i] = 1 / Math.sqrt(n);
    var logS = 0.5 * Math.log(n);
    unit.set(product, 0);
    logScale[0] = logS;
    log10Norms[0] = 0;
    for (var k = 1; k <= T; k++) {
      // next = product J_{T-k+1}, with J_{T-k+1} = diag(phi'(a_{T-k+1})) W
      var frob = multiplyScaled(product, slopes, (T - k) * n, Wt, next, n, row);
      if (frob > 0) {
        for (i = 0; i < n * n; i++) next[i] /= frob;
        logS += Math.log(frob);
      } else {
        logS = -Infinity; // an exactly zero gradient: every ReLU unit was off at some step
      }
      var swap = product; product = next; next = swap;
      unit.set(product, k * n * n);
      logScale[k] = logS;
      log10Norms[k] = logS === -Infinity ? -Infinity : (logS + Math.log(spectralNorm(product, n))) / LN10;
    }
    var fitFrom = Math.max(1, Math.floor(T / 5));
    var slope = fitSlope(log10Norms, fitFrom);
    var sigmaMax = spectralNorm(W, n);
    return {
      settings: { activation: settings.activation, init: settings.init, rho: settings.rho, length: T },
      rho: spectralRadius(W, n), sigmaMax: sigmaMax, gamma: act.gamma,
      log10Norms: log10Norms, slope: slope, fitFrom: fitFrom, unit: unit, logScale: logScale, n: n,
    };
  }

  /** Least-squares slope of ln(norm) against lag over lags fitFrom..T; null if a norm is exactly 0. */
  function fitSlope(log10Norms, fitFrom) {
    var count = 0, sx = 0, sy = 0;
    for (var k = fitFrom; k < log10Norms.length; k++) {
      if (!isFinite(log10Norms[k])) return null;
      count++;
      sx += k;
      sy += log10Norms[k] * LN10;
    }
    var mx = sx / count, my = sy / count, sxy = 0, sxx = 0;
    for (k = fitFrom; k < log10Norms.length; k++) {
      sxy += (k - mx) * (log10Norms[k] * LN10 - my);
      sxx += (k - mx) * (k - mx);
    }
    return sxx > 0 ? sxy / sxx : null;
  }

  /** log10 of the singular values of the product of the last `lag` Jacobians, largest first. */
  function spectrum(result, lag) {
    var n = result.n;
    if (!(Number.isInteger(lag) && lag >= 1 && lag < result.log10Norms.length)) throw new Error("explorer: lag out of range");
    var values = singularValues(result.unit.subarray(lag * n * n, (lag + 1) * n * n), n);
    var out = new Float64Array(n);
    var resolvable = 0;
    for (var i = 0; i < n; i++) {
      out[i] = values[i] > 0 ? (result.logScale[lag] + Math.log(values[i])) / LN10 : -Infinity;
      if (values[0] > 0 && values[i] >= RESOLVABLE * values[0]) resolvable++;
    }
    return { lag: lag, log10: out, resolvable: resolvable };
  }

  /** Everything the explorer shows for one setting, as plain numbers (what the tests compare with numpy). */
  function explore(settings) {
    var result = compute(settings);
    var spec = spectrum(result, settings.lag);
    return summary(result, spec);
  }

  function summary(result, spec) {
    function finite(values) { return Array.from(values, function (v) { return isFinite(v) ? v : null; }); }
    return {
      settings: Object.assign({}, result.settings, { lag: spec.lag }),
      rho: result.rho, sigma_max: result.sigmaMax, gamma: result.gamma,
      log10_norms: finite(result.log10Norms), slope: result.slope, fit_from: result.fitFrom,
      log10_singular_values: finite(spec.log10), resolvable: spec.resolvable,
    };
  }

  var core = {
    N_UNITS: N_UNITS, RHO_RANGE: RHO_RANGE, LENGTH_RANGE: LENGTH_RANGE, RESOLVABLE: RESOLVABLE,
    ACTIVATIONS: ACTIVATIONS, INITS: INITS,
    mulberry32: mulberry32, standardNormals: standardNormals, orthonormalColumns: orthonormalColumns,
    spectralRadius: spectralRadius, spectralNorm: spectralNorm, singularValues: singularValues,
    compute: compute, spectrum: spectrum, explore: explore, summary: summary,
  };

  if (typeof module === "object" && module.exports) {
    module.exports = core;
    return;
  }
  if (global.GTTExplorer && global.GTTExplorer.initAll) {
    // overrides/main.html puts this script inside the page content, which Material's instant navigation
    // runs again on every page with an explorer: the copy already loaded starts the new page's explorers.
    global.GTTExplorer.initAll();
    return;
  }
  global.GTTExplorer = core;

  // ------------------------------------------------------------------ the page: controls, plots, readout

  var DEFAULTS = { activation: "tanh", init: "gaussian", rho: 1, length: 100, lag: 20 };
  var RHO_STEP = 0.05, LENGTH_STEP = 5;
  var instances = [];
  var counter = 0;
  var SUPERSCRIPTS = { "-": "\u207b", 0: "\u2070", 1: "\u00b9", 2: "\u00b2", 3: "\u00b3", 4: "\u2074",
    5: "\u2075", 6: "\u2076", 7: "\u2077", 8: "\u2078", 9: "\u2079" };

  function superscript(value) {
    return String(value).split("").map(function (c) { return SUPERSCRIPTS[c]; }).join("");
  }

  function decade(e) { return e === 0 ? "1" : e === 1 ? "10" : "10" + superscript(e); }

  /** A number given by its log10, readable at any size: 0.0123, 45.6 or 2.4 × 10⁻²⁴. */
  function fromLog10(value) {
    if (value === -Infinity || value === null) return "0";
    if (value > -3 && value < 4) return String(Number(Math.pow(10, value).toPrecision(3)));
    var e = Math.floor(value), mantissa = Math.pow(10, value - e);
    if (mantissa >= 9.95) { mantissa = 1; e += 1; }
    return mantissa.toFixed(1) + " \u00d7 10" + superscript(e);
  }

  /** value to `digits` decimals with a real minus sign, and no "-0.000". */
  function fixed(value, digits) {
    var text = Math.abs(value).toFixed(digits);
    return (value < 0 && Number(text) !== 0 ? "\u2212" : "") + text;
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; });
  }

  function readSettings(root) {
    var d = root.dataset, s = {};
    s.activation = ACTIVATIONS.hasOwnProperty(d.activation) ? d.activation : DEFAULTS.activation;
    s.init = INITS.hasOwnProperty(d.init) ? d.init : DEFAULTS.init;
    var rho = Number(d.rho);
    s.rho = rho >= RHO_RANGE[0] && rho <= RHO_RANGE[1] ? rho : DEFAULTS.rho;
    var length = Number(d.length);
    s.length = Number.isInteger(length) && length >= LENGTH_RANGE[0] && length <= LENGTH_RANGE[1] ? length : DEFAULTS.length;
    var lag = Number(d.lag);
    s.lag = Number.isInteger(lag) && lag >= 1 ? Math.min(lag, s.length) : Math.min(DEFAULTS.lag, s.length);
    return s;
  }

  function radios(id, name, legend, choices, checked) {
    var items = Object.keys(choices).map(function (value) {
      return '<label class="gtt-explorer__option"><input type="radio" name="' + id + "-" + name + '" value="' + value + '"' +
        (value === checked ? " checked" : "") + "><span>" + escapeHtml(choices[value]) + "</span></label>";
    });
    return '<fieldset class="gtt-explorer__choice"><legend>' + legend + "</legend>" + items.join("") + "</fieldset>";
  }

  function slider(id, name, label, min, max, step, value) {
    return '<div class="gtt-explorer__slider"><label for="' + id + "-" + name + '">' + label + "</label>" +
      '<output id="' + id + "-" + name + '-value" for="' + id + "-" + name + '" aria-hidden="true"></output>' +
      '<input type="range" id="' + id + "-" + name + '" name="' + name + '" min="' + min + '" max="' + max +
      '" step="' + step + '" value="' + value + '"></div>';
  }

  function legendItem(kind, text) {
    return '<li><svg class="gtt-explorer__key" viewBox="0 0 28 10" aria-hidden="true" focusable="false">' +
      (kind === "band" ? '<rect class="gtt-x-floor" x="0" y="0" width="28" height="10"/>'
        : '<line class="gtt-x-' + kind + '" x1="1" y1="5" x2="27" y2="5"/>') + "</svg><span>" + text + "</span></li>";
  }

  function build(root) {
    var id = "gtt-explorer-" + (++counter);
    var s = readSettings(root);
    var activations = {};
    Object.keys(ACTIVATIONS).forEach(function (k) { activations[k] = ACTIVATIONS[k].label; });
    root.innerHTML =
      '<form class="gtt-explorer__controls" aria-label="Settings of the gradient explorer">' +
      '<div class="gtt-explorer__sliders">' +
      slider(id, "rho", "Spectral radius \u03c1(W)", RHO_RANGE[0], RHO_RANGE[1], RHO_STEP, s.rho) +
      slider(id, "length", "Sequence length T", LENGTH_RANGE[0], LENGTH_RANGE[1], LENGTH_STEP, s.length) +
      slider(id, "lag", "Lag k of the spectrum", 1, s.length, 1, s.lag) +
      "</div>" +
      radios(id, "activation", "Activation \u03c6", activations, s.activation) +
      radios(id, "init", "Initialisation of W", INITS, s.init) +
      "</form>" +
      '<div class="gtt-explorer__plots">' +
      '<figure class="gtt-explorer__plot"><svg class="gtt-explorer__svg" data-plot="norms" role="img" aria-label="Gradient norm against lag, drawn when the explorer comes into view"></svg>' +
      '<figcaption><ul class="gtt-explorer__legend">' +
      legendItem("measured", "measured \u2016\u2202h<sub>T</sub>/\u2202h<sub>T\u2212k</sub>\u2016<sub>2</sub>") +
      legendItem("rho", "\u03c1<sup>k</sup>") +
      legendItem("bound", "bound (\u03b3\u00a0\u03c3<sub>max</sub>(W))<sup>k</sup>") +
      legendItem("lag", "lag k of the spectrum") +
      "</ul></figcaption></figure>" +
      '<figure class="gtt-explorer__plot"><svg class="gtt-explorer__svg" data-plot="spectrum" role="img" aria-label="Singular values of the Jacobian product, drawn when the explorer comes into view"></svg>' +
      '<figcaption><ul class="gtt-explorer__legend">' +
      legendItem("spectrum", "singular values of the k-step product") +
      legendItem("one-step", "one step (k = 1)") +
      legendItem("band", "below float64 resolution") +
      "</ul></figcaption></figure>" +
      "</div>" +
      '<ul class="gtt-explorer__readout" id="' + id + '-readout" aria-live="polite"></ul>';
    var inst = {
      id: id, root: root, state: s, model: null, modelKey: "", oneStep: null, frame: 0, timings: [], renders: 0,
      form: root.querySelector("form"),
      inputs: {
        rho: root.querySelector("#" + id + "-rho"), length: root.querySelector("#" + id + "-length"),
        lag: root.querySelector("#" + id + "-lag"),
      },
      normsSvg: root.querySelector('[data-plot="norms"]'), spectrumSvg: root.querySelector('[data-plot="spectrum"]'),
      readout: root.querySelector(".gtt-explorer__readout"),
    };
    inst.form.addEventListener("submit", function (event) { event.preventDefault(); });
    inst.form.addEventListener("input", function (event) { onInput(inst, event.target); });
    inst.form.addEventListener("change", function (event) { onInput(inst, event.target); });
    if (typeof ResizeObserver === "function") {
      var width = 0;
      inst.observer = new ResizeObserver(function () {
        var now = root.clientWidth;
        if (now !== width) { width = now; schedule(inst); }
      });
      inst.observer.observe(root);
    }
    root.classList.add("gtt-explorer--ready");
    root.gttExplorer = inst;
    syncControls(inst);
    frame(inst.normsSvg);
    frame(inst.spectrumSvg); // the plots take their size now, so drawing them later moves nothing
    if (typeof IntersectionObserver === "function") {
      // Lessons embed the explorer far down the page: compute when a reader comes near it, not while
      // the page loads (the first computation is the longest task on a lesson page).
      inst.waiting = new IntersectionObserver(function (entries) {
        if (!entries.some(function (entry) { return entry.isIntersecting; })) return;
        inst.waiting.disconnect();
        inst.waiting = null;
        render(inst);
      }, { rootMargin: "400px 0px" });
      inst.waiting.observe(root);
    } else {
      render(inst);
    }
    return inst;
  }

  function onInput(inst, target) {
    var s = inst.state, name = target.name;
    if (name === "rho") s.rho = Math.round(Number(target.value) / RHO_STEP) * RHO_STEP;
    else if (name === "length") s.length = Number(target.value);
    else if (name === "lag") s.lag = Number(target.value);
    else if (target.type === "radio" && target.checked) s[name.slice(inst.id.length + 1)] = target.value;
    else return;
    s.rho = Number(s.rho.toFixed(2));
    if (s.lag > s.length) s.lag = s.length;
    syncControls(inst);
    schedule(inst);
  }

  function syncControls(inst) {
    var s = inst.state, inputs = inst.inputs;
    inputs.lag.max = String(s.length);
    if (Number(inputs.lag.value) !== s.lag) inputs.lag.value = String(s.lag);
    var texts = { rho: s.rho.toFixed(2), length: String(s.length), lag: String(s.lag) };
    var spoken = { rho: "\u03c1 = " + texts.rho, length: "T = " + texts.length + " steps", lag: "k = " + texts.lag + " steps" };
    Object.keys(inputs).forEach(function (name) {
      inputs[name].setAttribute("aria-valuetext", spoken[name]);
      inst.root.querySelector("#" + inst.id + "-" + name + "-value").textContent = texts[name];
    });
  }

  function schedule(inst) {
    if (inst.frame || inst.waiting) return; // not drawn yet: it draws once it comes into view
    var raf = global.requestAnimationFrame || function (f) { return setTimeout(f, 16); };
    inst.frame = raf(function () { inst.frame = 0; render(inst); });
  }

  function render(inst) {
    var s = inst.state;
    var started = performance.now();
    var key = [s.activation, s.init, s.rho, s.length].join("|");
    if (key !== inst.modelKey) {
      inst.model = compute(s);
      inst.modelKey = key;
      inst.oneStep = spectrum(inst.model, 1);
    }
    var spec = spectrum(inst.model, s.lag);
    var computed = performance.now();
    drawNorms(inst, spec);
    drawSpectrum(inst, spec);
    writeReadout(inst, spec);
    var finished = performance.now();
    inst.result = summary(inst.model, spec);
    inst.root.gttResult = inst.result;
    inst.renders += 1;
    var timing = { compute: computed - started, draw: finished - computed }; // read by bench/explorer.py
    if (!inst.firstRender) inst.firstRender = timing;
    inst.timings.push(timing);
    if (inst.timings.length > 200) inst.timings.shift();
    inst.root.dataset.rendered = JSON.stringify(inst.result.settings);
  }

  // --- plotting helpers (SVG, sized to the element so text keeps its size on a phone)

  function niceStep(span, maxTicks, steps) {
    for (var i = 0; i < steps.length; i++) if (span / steps[i] <= maxTicks) return steps[i];
    return steps[steps.length - 1];
  }

  function frame(svg) {
    var width = Math.max(260, Math.round(svg.parentNode.clientWidth || 320));
    var height = Math.round(Math.min(300, Math.max(210, width * 0.62)));
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    return { width: width, height: height, left: 58, right: 12, top: 14, bottom: 44 };
  }

  function axes(f, x0, x1, xStep, y0, y1, yStep, xLabel, yLabel) {
    var out = [];
    var sx = function (x) { return f.left + (x - x0) / (x1 - x0) * (f.width - f.left - f.right); };
    var sy = function (y) { return f.top + (y1 - y) / (y1 - y0) * (f.height - f.top - f.bottom); };
    for (var y = Math.ceil(y0 / yStep - 1e-9) * yStep; y <= y1 + 1e-9; y += yStep) {
      var py = sy(y).toFixed(1);
      out.push('<line class="gtt-x-grid" x1="' + f.left + '" x2="' + (f.width - f.right) + '" y1="' + py + '" y2="' + py + '"/>');
      out.push('<text class="gtt-x-tick" x="' + (f.left - 6) + '" y="' + py + '" dy="0.32em" text-anchor="end">' + decade(Math.round(y)) + "</text>");
    }
    for (var x = Math.ceil(x0 / xStep - 1e-9) * xStep; x <= x1 + 1e-9; x += xStep) {
      var px = sx(x).toFixed(1);
      out.push('<line class="gtt-x-grid" y1="' + f.top + '" y2="' + (f.height - f.bottom) + '" x1="' + px + '" x2="' + px + '"/>');
      out.push('<text class="gtt-x-tick" x="' + px + '" y="' + (f.height - f.bottom + 16) + '" text-anchor="middle">' + x + "</text>");
    }
    out.push('<rect class="gtt-x-frame" x="' + f.left + '" y="' + f.top + '" width="' + (f.width - f.left - f.right) + '" height="' + (f.height - f.top - f.bottom) + '"/>');
    out.push('<text class="gtt-x-label" x="' + ((f.left + f.width - f.right) / 2) + '" y="' + (f.height - 6) + '" text-anchor="middle">' + xLabel + "</text>");
    out.push('<text class="gtt-x-label" transform="translate(13 ' + ((f.top + f.height - f.bottom) / 2) + ') rotate(-90)" text-anchor="middle">' + yLabel + "</text>");
    return { parts: out, sx: sx, sy: sy };
  }

  function path(points) {
    return points.length ? "M" + points.map(function (p) { return p[0].toFixed(1) + " " + p[1].toFixed(1); }).join("L") : "";
  }

  function decadeRange(lo, hi, maxTicks) {
    if (hi - lo < 1) { var mid = (lo + hi) / 2; lo = mid - 0.5; hi = mid + 0.5; }
    var step = niceStep(hi - lo, maxTicks, [1, 2, 5, 10, 20, 25, 50, 100]);
    return { lo: Math.floor(lo / step) * step, hi: Math.ceil(hi / step) * step, step: step };
  }

  function drawNorms(inst, spec) {
    var svg = inst.normsSvg, m = inst.model, T = m.settings.length, lag = spec.lag, norms = m.log10Norms;
    var f = frame(svg);
    var lo = 0, hi = 0;
    for (var k = 0; k <= T; k++) if (isFinite(norms[k])) { lo = Math.min(lo, norms[k]); hi = Math.max(hi, norms[k]); }
    var y = decadeRange(lo, hi, f.height < 240 ? 4 : 6);
    var xStep = niceStep(T, f.width < 400 ? 4 : 6, [1, 2, 5, 10, 20, 25, 50, 100]);
    var ax = axes(f, 0, T, xStep, y.lo, y.hi, y.step, "lag k (steps back from T)", "gradient norm (log scale)");
    var clip = inst.id + "-clip";
    var parts = ['<defs><clipPath id="' + clip + '"><rect x="' + f.left + '" y="' + f.top + '" width="' + (f.width - f.left - f.right) +
      '" height="' + (f.height - f.top - f.bottom) + '"/></clipPath></defs>'].concat(ax.parts);
    var unity = ax.sy(0).toFixed(1);
    parts.push('<line class="gtt-x-unity" x1="' + f.left + '" x2="' + (f.width - f.right) + '" y1="' + unity + '" y2="' + unity + '"/>');
    var g = ['<g clip-path="url(#' + clip + ')">'];
    var rhoSlope = Math.log10(m.rho), boundSlope = Math.log10(m.gamma * m.sigmaMax);
    g.push('<path class="gtt-x-rho" d="' + path([[ax.sx(0), ax.sy(0)], [ax.sx(T), ax.sy(T * rhoSlope)]]) + '"/>');
    g.push('<path class="gtt-x-bound" d="' + path([[ax.sx(0), ax.sy(0)], [ax.sx(T), ax.sy(T * boundSlope)]]) + '"/>');
    var points = [];
    for (k = 0; k <= T && isFinite(norms[k]); k++) points.push([ax.sx(k), ax.sy(norms[k])]);
    g.push('<path class="gtt-x-measured" d="' + path(points) + '"/>');
    var lx = ax.sx(lag).toFixed(1);
    g.push('<line class="gtt-x-lag" x1="' + lx + '" x2="' + lx + '" y1="' + f.top + '" y2="' + (f.height - f.bottom) + '"/>');
    if (isFinite(norms[lag])) g.push('<circle class="gtt-x-dot" cx="' + lx + '" cy="' + ax.sy(norms[lag]).toFixed(1) + '" r="4"/>');
    g.push("</g>");
    if (k <= T) { // the gradient became exactly zero at lag k
      parts.push('<text class="gtt-x-note" x="' + (f.width - f.right - 4) + '" y="' + (f.height - f.bottom - 6) + '" text-anchor="end">exactly 0 from k = ' + k + "</text>");
    }
    svg.innerHTML = parts.concat(g).join("");
    svg.setAttribute("aria-label", "Gradient norm against lag, log scale: " + fromLog10(norms[Math.min(1, T)]) + " at k = 1, " +
      fromLog10(norms[lag]) + " at k = " + lag + ", " + fromLog10(norms[T]) + " at k = " + T + ".");
  }

  function drawSpectrum(inst, spec) {
    var svg = inst.spectrumSvg, n = inst.model.n, one = inst.oneStep.log10, vals = spec.log10;
    var f = frame(svg);
    var floorNow = vals[0] + Math.log10(RESOLVABLE), floorOne = one[0] + Math.log10(RESOLVABLE);
    var hi = -Infinity, lo = Infinity;
    for (var i = 0; i < n; i++) {
      if (isFinite(vals[i]) && vals[i] >= floorNow) { hi = Math.max(hi, vals[i]); lo = Math.min(lo, vals[i]); }
      if (isFinite(one[i]) && one[i] >= floorOne) { hi = Math.max(hi, one[i]); lo = Math.min(lo, one[i]); }
    }
    if (!isFinite(hi)) { hi = 0; lo = -1; }
    var y = decadeRange(lo, hi, f.height < 240 ? 4 : 6);
    var ax = axes(f, 1, n, 8, y.lo, y.hi, y.step, "index i (largest first)", "singular value \u03c3\u1d62 (log scale)");
    var parts = ax.parts;
    if (isFinite(floorNow) && floorNow > y.lo) {
      var top = ax.sy(Math.min(floorNow, y.hi)), bottom = ax.sy(y.lo);
      parts.unshift('<rect class="gtt-x-floor" x="' + f.left + '" y="' + top.toFixed(1) + '" width="' + (f.width - f.left - f.right) +
        '" height="' + (bottom - top).toFixed(1) + '"/>');
    }
    function series(values, floor, cls, radius) {
      var pts = [];
      for (var j = 0; j < n; j++) if (isFinite(values[j]) && values[j] >= floor && values[j] >= y.lo) pts.push([ax.sx(j + 1), ax.sy(values[j])]);
      var out = '<path class="gtt-x-' + cls + '" d="' + path(pts) + '"/>';
      if (radius) out += pts.map(function (p) { return '<circle class="gtt-x-' + cls + '-dot" cx="' + p[0].toFixed(1) + '" cy="' + p[1].toFixed(1) + '" r="' + radius + '"/>'; }).join("");
      return out;
    }
    parts.push(series(one, floorOne, "one-step", 0));
    parts.push(series(vals, floorNow, "spectrum", 2.5));
    svg.innerHTML = parts.join("");
    var spanned = spec.resolvable ? vals[0] - vals[spec.resolvable - 1] : 0;
    svg.setAttribute("aria-label", "Singular values of the product of the last " + spec.lag + " Jacobians, log scale: largest " +
      fromLog10(vals[0]) + ", spanning " + spanned.toFixed(1) + " decades over the " + spec.resolvable + " of " + n +
      " that float64 resolves.");
  }

  function writeReadout(inst, spec) {
    var m = inst.model, T = m.settings.length, product = m.gamma * m.sigmaMax;
    var gammaText = m.gamma === 0.25 ? "1/4" : "1";
    var verdict = product < 1
      ? "below 1, so the gradient must vanish at least as fast as " + product.toFixed(2) + "<sup>k</sup>."
      : "not below 1, so vanishing is not guaranteed and exploding is possible (but not certain).";
    var items = [
      "\u03b3\u00a0\u03c3<sub>max</sub>(W) = " + gammaText + " \u00d7 " + m.sigmaMax.toFixed(2) + " = " + product.toFixed(2) + ": " + verdict,
      "Across the whole sequence (k = T = " + T + "): \u2016\u2202h<sub>T</sub>/\u2202h<sub>0</sub>\u2016 = " + fromLog10(m.log10Norms[T]) + ".",
      m.slope === null ? "The gradient is exactly zero beyond some lag, so no rate is fitted."
        : "Fitted rate for k \u2265 " + m.fitFrom + ": ln\u2016\u00b7\u2016 changes by " + fixed(m.slope, 3) + " per step; ln\u00a0\u03c1 = " + fixed(Math.log(m.rho), 3) + ".",
      "At k = " + spec.lag + " the " + spec.resolvable + " singular values that float64 resolves span " +
        (spec.resolvable ? (spec.log10[0] - spec.log10[spec.resolvable - 1]).toFixed(1) : "0") + " decades.",
    ];
    inst.readout.innerHTML = items.map(function (t) { return "<li>" + t + "</li>"; }).join("");
  }

  function initAll() {
    instances = instances.filter(function (inst) {
      if (document.contains(inst.root)) return true;
      if (inst.observer) inst.observer.disconnect();
      if (inst.waiting) inst.waiting.disconnect();
      return false;
    });
    var roots = document.querySelectorAll(".gtt-explorer");
    for (var i = 0; i < roots.length; i++) {
      if (!roots[i].gttExplorer) {
        try {
          instances.push(build(roots[i]));
        } catch (error) {
          roots[i].insertAdjacentHTML("beforeend", '<p class="gtt-explorer__error">The explorer failed to start: ' + escapeHtml(error.message) + "</p>");
          throw error;
        }
      }
    }
  }

  core.instances = function () { return instances.slice(); };
  core.initAll = initAll;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", initAll);
  } else {
    initAll(); // deferred (hooks/page_speed.py): the page is parsed
  }
})(typeof window !== "undefined" ? window : globalThis);
