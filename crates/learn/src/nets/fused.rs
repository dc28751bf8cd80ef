//! A hand-fused CPU MLP for small networks: forward (with the activations kept for
//! backpropagation), backward and Adam in plain Rust. At PPO's sizes (4→64→64→2, minibatches
//! of 128) burn's per-op dispatch and autodiff bookkeeping cost more than the arithmetic; this
//! does the same arithmetic directly. Weights convert to and from burn's [`Mlp`] (the model
//! type policies are saved and run as); tests check the forward pass and the gradients
//! against burn's.

use crate::nets::mlp::{Activation, Mlp};
use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData};

/// An MLP's parameters as plain vectors: `params[2k]` is layer k's weight `[in, out]`
/// row-major (burn's layout), `params[2k + 1]` its bias `[out]`.
#[derive(Debug, Clone)]
pub struct FastMlp {
    /// Layer widths, input first.
    pub sizes: Vec<usize>,
    /// Weights and biases, alternating.
    pub params: Vec<Vec<f32>>,
}

/// The activations of one forward pass: the input, then each layer's output (after its
/// activation), each row-major `[batch, width]`.
#[derive(Debug, Clone)]
pub struct Trace {
    /// Per layer boundary, input first; the last is the network's output.
    pub activations: Vec<Vec<f32>>,
}

impl Trace {
    /// The network's output.
    pub fn output(&self) -> &[f32] {
        self.activations.last().map(Vec::as_slice).unwrap_or(&[])
    }
}

impl FastMlp {
    /// Copies the weights out of a burn MLP (on any device that can be read synchronously).
    pub fn from_mlp(mlp: &Mlp) -> Result<FastMlp, String> {
        let read = |t: TensorData| {
            t.try_to_vec::<f32>()
                .map_err(|e| format!("reading weights: {e:?}"))
        };
        let mut sizes = Vec::new();
        let mut params = Vec::new();
        for layer in &mlp.layers {
            let [inp, out] = layer.weight.val().shape().dims::<2>();
            if sizes.is_empty() {
                sizes.push(inp);
            }
            sizes.push(out);
            params.push(read(layer.weight.val().into_data())?);
            params.push(match &layer.bias {
                Some(b) => read(b.val().into_data())?,
                None => vec![0.0; out],
            });
        }
        Ok(FastMlp { sizes, params })
    }

    /// The same network as a burn module on `device`.
    pub fn to_mlp(&self, device: &Device) -> Mlp {
        let layers = self
            .sizes
            .windows(2)
            .enumerate()
            .map(|(k, io)| {
                let weight = Tensor::<2>::from_data(
                    TensorData::new(self.params[2 * k].clone(), [io[0], io[1]]),
                    device,
                );
                let bias = Tensor::<1>::from_data(
                    TensorData::new(self.params[2 * k + 1].clone(), [io[1]]),
                    device,
                );
                Linear {
                    weight: Param::from_tensor(weight),
                    bias: Some(Param::from_tensor(bias)),
                }
            })
            .collect();
        Mlp { layers }
    }

    fn layers(&self) -> usize {
        self.sizes.len() - 1
    }

    /// Forward pass of a row-major `[batch, in]` input keeping every activation: tanh (else
    /// ReLU) hidden layers and an optional tanh output.
    pub fn trace(&self, x: &[f32], tanh_hidden: bool, tanh_output: bool) -> Trace {
        let mut activations = vec![x.to_vec()];
        for k in 0..self.layers() {
            let y = self.layer(
                k,
                &activations[k],
                self.sizes[k],
                None,
                tanh_hidden,
                tanh_output,
            );
            activations.push(y);
        }
        Trace { activations }
    }

    /// Forward pass (see [`FastMlp::trace`]), returning only the output.
    pub fn forward(&self, x: &[f32], tanh_hidden: bool, tanh_output: bool) -> Vec<f32> {
        self.forward_in_task(x, None, tanh_hidden, tanh_output)
    }

    /// Forward pass of rows that all end with the same one-hot code, given without it: `x`
    /// is `[batch, in − tasks]` and `one_hot = Some((tasks, task))` says the code; `None`
    /// means `x` is the whole input. The code's contribution to the first layer is its
    /// weight row, added to the bias once instead of multiplied in every row. Keeps no
    /// activations (see [`FastMlp::trace`] for that).
    pub fn forward_in_task(
        &self,
        x: &[f32],
        one_hot: Option<(usize, usize)>,
        tanh_hidden: bool,
        tanh_output: bool,
    ) -> Vec<f32> {
        let (tasks, task) = one_hot.unwrap_or((0, 0));
        let width = self.sizes[0] - tasks;
        let mut y = self.layer(
            0,
            x,
            width,
            one_hot.map(|_| width + task),
            tanh_hidden,
            tanh_output,
        );
        for k in 1..self.layers() {
            y = self.layer(k, &y, self.sizes[k], None, tanh_hidden, tanh_output);
        }
        y
    }

    /// Layer `k` on rows `x` of the layer's first `width` inputs, with weight row `extra` (an
    /// input fixed at 1 in every row) added to the bias; then the layer's activation.
    fn layer(
        &self,
        k: usize,
        x: &[f32],
        width: usize,
        extra: Option<usize>,
        tanh_hidden: bool,
        tanh_output: bool,
    ) -> Vec<f32> {
        let out = self.sizes[k + 1];
        let (w, b) = (&self.params[2 * k], &self.params[2 * k + 1]);
        // Borrowed unless a fixed input's weight row is added (no copy per layer and call).
        let bias: std::borrow::Cow<[f32]> = match extra {
            Some(row) => b
                .iter()
                .zip(&w[row * out..(row + 1) * out])
                .map(|(b, w)| b + w)
                .collect(),
            None => b.into(),
        };
        let rows = x.len().checked_div(width).unwrap_or(0);
        let mut y: Vec<f32> = Vec::with_capacity(rows * out);
        for _ in 0..rows {
            y.extend_from_slice(&bias);
        }
        if rows > 0 {
            matmul(&mut y, true, (x, width, 1), (w, out, 1), rows, width, out);
        }
        let hidden = k + 1 < self.layers();
        match Activation::of_layer(hidden, tanh_hidden, tanh_output) {
            Activation::Tanh => y.iter_mut().for_each(|v| *v = fast_tanh(*v)),
            // A compare and select, not `f32::max` (a libm call per value in wasm); NaN
            // becomes 0 either way.
            Activation::Relu => y
                .iter_mut()
                .for_each(|v| *v = if *v > 0.0 { *v } else { 0.0 }),
            Activation::Identity => {}
        }
        y
    }

    /// Gradients of a loss with respect to every parameter (same layout as `params`), given
    /// the forward `trace` and the loss's gradient with respect to the output.
    pub fn backward(
        &self,
        trace: &Trace,
        grad_output: &[f32],
        tanh_hidden: bool,
        tanh_output: bool,
    ) -> Vec<Vec<f32>> {
        self.backprop(trace, grad_output, tanh_hidden, tanh_output, true, false)
            .0
    }

    /// Gradient of a loss with respect to the network's input (row-major like the input),
    /// given the forward `trace` and the loss's gradient with respect to the output; the
    /// parameters' gradients are not formed (e.g. SAC's actor loss through a critic).
    pub fn input_gradient(
        &self,
        trace: &Trace,
        grad_output: &[f32],
        tanh_hidden: bool,
        tanh_output: bool,
    ) -> Vec<f32> {
        self.backprop(trace, grad_output, tanh_hidden, tanh_output, false, true)
            .1
    }

    /// Backpropagation: the parameters' gradients (if `want_params`, else empty vectors) and
    /// the input's (if `want_input`, else empty).
    fn backprop(
        &self,
        trace: &Trace,
        grad_output: &[f32],
        tanh_hidden: bool,
        tanh_output: bool,
        want_params: bool,
        want_input: bool,
    ) -> (Vec<Vec<f32>>, Vec<f32>) {
        let mut grads: Vec<Vec<f32>> = self
            .params
            .iter()
            .map(|p| {
                if want_params {
                    vec![0.0; p.len()]
                } else {
                    Vec::new()
                }
            })
            .collect();
        let mut delta = grad_output.to_vec();
        for k in (0..self.layers()).rev() {
            let (inp, out) = (self.sizes[k], self.sizes[k + 1]);
            let hidden = k + 1 < self.layers();
            // Through the activation: tanh' = 1 − y², ReLU' = [y > 0].
            through_activation(
                &mut delta,
                &trace.activations[k + 1],
                Activation::of_layer(hidden, tanh_hidden, tanh_output),
            );
            let x = &trace.activations[k];
            let w = &self.params[2 * k];
            let rows = x.len() / inp;
            let need_delta_in = k > 0 || want_input;
            let mut delta_in = if need_delta_in {
                vec![0.0f32; x.len()]
            } else {
                Vec::new()
            };
            if rows > 0 {
                if want_params {
                    for dr in delta.chunks_exact(out) {
                        for (gb, d) in grads[2 * k + 1].iter_mut().zip(dr) {
                            *gb += d;
                        }
                    }
                    // dW = xᵀ · δ  (x is rows × inp: its transpose reads with swapped strides)
                    matmul(
                        &mut grads[2 * k],
                        false,
                        (x, 1, inp),
                        (&delta, out, 1),
                        inp,
                        rows,
                        out,
                    );
                }
                // δ_in = δ · Wᵀ  (W is inp × out); the input layer needs none unless asked.
                if need_delta_in {
                    matmul(
                        &mut delta_in,
                        false,
                        (&delta, out, 1),
                        (w, 1, out),
                        rows,
                        out,
                        inp,
                    );
                }
            }
            delta = delta_in;
        }
        (grads, delta)
    }
}

impl FastMlp {
    /// The backpropagated deltas of one pass: for each layer (input first), the loss's
    /// gradient with respect to that layer's pre-activation outputs, `rows × out`.
    pub fn deltas(
        &self,
        trace: &Trace,
        grad_output: &[f32],
        tanh_hidden: bool,
        tanh_output: bool,
    ) -> Vec<Vec<f32>> {
        let mut deltas = vec![Vec::new(); self.layers()];
        let mut delta = grad_output.to_vec();
        for k in (0..self.layers()).rev() {
            let (inp, out) = (self.sizes[k], self.sizes[k + 1]);
            through_activation(
                &mut delta,
                &trace.activations[k + 1],
                Activation::of_layer(k + 1 < self.layers(), tanh_hidden, tanh_output),
            );
            let rows = delta.len() / out;
            if k > 0 && rows > 0 {
                let mut delta_in = vec![0.0f32; rows * inp];
                matmul(
                    &mut delta_in,
                    false,
                    (&delta, out, 1),
                    (&self.params[2 * k], 1, out),
                    rows,
                    out,
                    inp,
                );
                deltas[k] = std::mem::replace(&mut delta, delta_in);
            } else {
                deltas[k] = std::mem::take(&mut delta);
            }
        }
        deltas
    }

    /// The Gram matrix of the tasks' gradients over the layers marked `shared`, from one pass's
    /// deltas, without forming any task's gradient: a linear layer's weight gradient is `Xᵀ Δ`,
    /// so `gᵢ · gⱼ = Σ_{r ∈ i, s ∈ j} (x_r · x_s + 1)(δ_r · δ_s)` (the `+ 1` is the bias), the
    /// per-example-gradient kernel trick. `row_task[r]` is row r's task among `tasks`.
    pub fn task_gram(
        &self,
        trace: &Trace,
        deltas: &[Vec<f32>],
        row_task: &[usize],
        tasks: usize,
        shared: &[bool],
    ) -> crate::multitask::Gram {
        let rows = row_task.len();
        let mut g = vec![0.0f64; tasks * tasks];
        let mut kx = vec![0.0f32; rows * rows];
        let mut kd = vec![0.0f32; rows * rows];
        for k in (0..self.layers()).filter(|&k| shared.get(k).copied().unwrap_or(true)) {
            let (inp, out) = (self.sizes[k], self.sizes[k + 1]);
            if rows == 0 {
                break;
            }
            let x = &trace.activations[k];
            matmul(&mut kx, false, (x, inp, 1), (x, 1, inp), rows, inp, rows);
            matmul(
                &mut kd,
                false,
                (&deltas[k], out, 1),
                (&deltas[k], 1, out),
                rows,
                out,
                rows,
            );
            for r in 0..rows {
                let row = row_task[r] * tasks;
                for s in 0..rows {
                    g[row + row_task[s]] += ((kx[r * rows + s] + 1.0) * kd[r * rows + s]) as f64;
                }
            }
        }
        crate::multitask::Gram { g, tasks }
    }

    /// The gradients of every parameter of `Σ_rows weight(row) · loss(row)` from one pass's
    /// deltas: in the layers marked `shared` each row counts with `row_weight`, elsewhere with 1
    /// (task-specific layers keep their own task's gradient).
    pub fn weighted_gradients(
        &self,
        trace: &Trace,
        deltas: &[Vec<f32>],
        row_weight: &[f32],
        shared: &[bool],
    ) -> Vec<Vec<f32>> {
        let mut grads: Vec<Vec<f32>> = self.params.iter().map(|p| vec![0.0; p.len()]).collect();
        let rows = row_weight.len();
        for k in 0..self.layers() {
            let (inp, out) = (self.sizes[k], self.sizes[k + 1]);
            if rows == 0 {
                break;
            }
            let mut delta = deltas[k].clone();
            if shared.get(k).copied().unwrap_or(true) {
                for (dr, &w) in delta.chunks_exact_mut(out).zip(row_weight) {
                    dr.iter_mut().for_each(|d| *d *= w);
                }
            }
            for dr in delta.chunks_exact(out) {
                grads[2 * k + 1]
                    .iter_mut()
                    .zip(dr)
                    .for_each(|(gb, d)| *gb += d);
            }
            matmul(
                &mut grads[2 * k],
                false,
                (&trace.activations[k], 1, inp),
                (&delta, out, 1),
                inp,
                rows,
                out,
            );
        }
        grads
    }
}

/// Multiplies a layer's output gradient `delta` by its activation's derivative, read off the
/// activation's outputs `y`: tanh' = 1 − y², ReLU' = [y > 0].
fn through_activation(delta: &mut [f32], y: &[f32], activation: Activation) {
    match activation {
        Activation::Tanh => delta
            .iter_mut()
            .zip(y)
            .for_each(|(d, &yv)| *d *= 1.0 - yv * yv),
        Activation::Relu => delta
            .iter_mut()
            .zip(y)
            .for_each(|(d, &yv)| *d *= (yv > 0.0) as u8 as f32),
        Activation::Identity => {}
    }
}

/// tanh through one `exp` (libm's `tanhf` goes through the slower `expm1f`, and was a third
/// of PPO's instructions); within 2e-7 of `f32::tanh`, checked in a test.
fn fast_tanh(x: f32) -> f32 {
    if x.abs() < 0.01 {
        x - x * x * x / 3.0
    } else if x.abs() > 9.0 {
        x.signum()
    } else {
        1.0 - 2.0 / ((2.0 * x).exp() + 1.0)
    }
}

/// `dst (+)= a · b` for row-major matrices given as (data, row stride, column stride): `a` is
/// `m × k`, `b` is `k × n`, `dst` is `m × n` row-major. Uses the `gemm` crate (already in the
/// build through burn's CPU backend; it picks AVX-512, AVX2/FMA or SIMD128 kernels at run
/// time), on one thread: the numbers do not depend on the machine's core count.
#[allow(clippy::too_many_arguments)]
fn matmul(
    dst: &mut [f32],
    accumulate: bool,
    a: (&[f32], usize, usize),
    b: (&[f32], usize, usize),
    m: usize,
    k: usize,
    n: usize,
) {
    let ((a, a_rs, a_cs), (b, b_rs, b_cs)) = (a, b);
    // The strides must stay inside the slices; checked here so the unsafe call cannot read
    // or write out of bounds.
    let last = |rows: usize, cols: usize, rs: usize, cs: usize| (rows - 1) * rs + (cols - 1) * cs;
    assert!(m > 0 && k > 0 && n > 0);
    assert!(
        dst.len() >= m * n && a.len() > last(m, k, a_rs, a_cs) && b.len() > last(k, n, b_rs, b_cs)
    );
    // SAFETY: every index the kernel touches is within the slices (asserted above), and `dst`
    // does not alias `a` or `b` (it is borrowed mutably).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            a_cs as isize,
            a_rs as isize,
            b.as_ptr(),
            b_cs as isize,
            b_rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// Whether every value of every list is finite (no NaN or ±∞); no early exit, so it
/// vectorises.
pub fn all_finite(lists: &[Vec<f32>]) -> bool {
    lists
        .iter()
        .all(|list| list.iter().fold(true, |ok, v| ok & v.is_finite()))
}

/// Scales gradient lists so their global L2 norm is at most `max_norm`; returns the norm.
pub fn clip_global_norm(grads: &mut [Vec<f32>], max_norm: f32) -> f32 {
    let norm = grads.iter().flatten().map(|g| g * g).sum::<f32>().sqrt();
    if norm > max_norm {
        let scale = max_norm / (norm + 1e-6);
        grads.iter_mut().flatten().for_each(|g| *g *= scale);
    }
    norm
}

/// Adam (Kingma & Ba) with bias correction, as burn's and PyTorch's: β₁ 0.9, β₂ 0.999.
#[derive(Debug, Clone)]
pub struct Adam {
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    t: i32,
    /// Added to the root of the second moment.
    pub epsilon: f32,
}

impl Adam {
    /// Zero moments for parameters shaped like `params`.
    pub fn new(params: &[Vec<f32>], epsilon: f32) -> Adam {
        let zeros: Vec<Vec<f32>> = params.iter().map(|p| vec![0.0; p.len()]).collect();
        Adam {
            m: zeros.clone(),
            v: zeros,
            t: 0,
            epsilon,
        }
    }

    /// One update of `params` (a list of mutable parameter vectors) with `grads`:
    /// `p -= (lr / c1) · m / (√v / √c2 + ε)` with the bias corrections c1, c2 (PyTorch's form:
    /// one division per parameter, so the loop vectorises well).
    pub fn step(&mut self, params: &mut [&mut Vec<f32>], grads: &[Vec<f32>], learning_rate: f32) {
        let (b1, b2) = (0.9f32, 0.999f32);
        self.t += 1;
        let (c1, c2) = (1.0 - b1.powi(self.t), 1.0 - b2.powi(self.t));
        let (step_size, inv_root_c2, eps) = (learning_rate / c1, 1.0 / c2.sqrt(), self.epsilon);
        for (((p, g), m), v) in params
            .iter_mut()
            .zip(grads)
            .zip(&mut self.m)
            .zip(&mut self.v)
        {
            let n = p.len();
            let (p, g, m, v) = (&mut p[..n], &g[..n], &mut m[..n], &mut v[..n]);
            for i in 0..n {
                m[i] = b1 * m[i] + (1.0 - b1) * g[i];
                v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
                p[i] -= step_size * m[i] / (v[i].sqrt() * inv_root_c2 + eps);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Module;
    use burn::optim::GradientsParams;

    #[test]
    fn all_finite_finds_nan_and_infinities_anywhere() {
        assert!(all_finite(&[vec![1.0, -2.0], vec![], vec![f32::MAX]]));
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            assert!(!all_finite(&[
                vec![1.0; 37],
                [vec![0.0; 20], vec![bad], vec![0.0; 20]].concat()
            ]));
        }
    }

    /// Forward and gradients equal burn's autodiff for `loss = Σ output · G` (G fixed), with
    /// tanh and ReLU hidden layers and both outputs.
    #[test]
    fn forward_and_gradients_match_burn_autodiff() {
        let device = Device::flex().autodiff();
        device.seed(3);
        let mlp = Mlp::init(&[5, 7, 6, 3], &device);
        let fast = FastMlp::from_mlp(&mlp.valid()).unwrap();
        let x: Vec<f32> = (0..20)
            .map(|i| ((i * 37 % 11) as f32 - 5.0) / 4.0)
            .collect();
        let g: Vec<f32> = (0..12).map(|i| ((i * 13 % 7) as f32 - 3.0) / 3.0).collect();
        for (tanh_hidden, tanh_output) in [(true, false), (false, true), (true, true)] {
            let xs = Tensor::<2>::from_data(TensorData::new(x.clone(), [4, 5]), &device);
            let gs = Tensor::<2>::from_data(TensorData::new(g.clone(), [4, 3]), &device);
            let out = mlp.forward_with(xs, tanh_hidden, tanh_output);
            let out_values: Vec<f32> = out.clone().into_data().try_to_vec().unwrap();
            let grads = GradientsParams::from_grads((out * gs).sum().backward(), &mlp);
            let trace = fast.trace(&x, tanh_hidden, tanh_output);
            for (a, b) in trace.output().iter().zip(&out_values) {
                assert!((a - b).abs() < 1e-5, "output {a} vs burn {b}");
            }
            let ours = fast.backward(&trace, &g, tanh_hidden, tanh_output);
            for (k, layer) in mlp.layers.iter().enumerate() {
                let w: Vec<f32> = grads
                    .get::<2>(layer.weight.id)
                    .unwrap()
                    .into_data()
                    .try_to_vec()
                    .unwrap();
                let b: Vec<f32> = grads
                    .get::<1>(layer.bias.as_ref().unwrap().id)
                    .unwrap()
                    .into_data()
                    .try_to_vec()
                    .unwrap();
                for (ours, theirs) in [(&ours[2 * k], &w), (&ours[2 * k + 1], &b)] {
                    for (a, b) in ours.iter().zip(theirs.iter()) {
                        assert!(
                            (a - b).abs() < 1e-4,
                            "layer {k} ({tanh_hidden}, {tanh_output}): {a} vs burn {b}"
                        );
                    }
                }
            }
        }
    }

    /// The input gradient of `loss = Σ output · G` agrees with central finite differences.
    #[test]
    fn input_gradient_matches_finite_differences() {
        let mlp = crate::nets::mlp::seeded_init(5, |device| Mlp::init(&[4, 8, 3], device));
        let fast = FastMlp::from_mlp(&mlp).unwrap();
        let x: Vec<f32> = (0..8).map(|i| ((i * 29 % 13) as f32 - 6.0) / 5.0).collect();
        let g: Vec<f32> = (0..6).map(|i| ((i * 7 % 5) as f32 - 2.0) / 2.0).collect();
        for (tanh_hidden, tanh_output) in [(true, false), (false, true)] {
            let loss = |x: &[f32]| -> f64 {
                fast.forward(x, tanh_hidden, tanh_output)
                    .iter()
                    .zip(&g)
                    .map(|(o, g)| (o * g) as f64)
                    .sum()
            };
            let ours = fast.input_gradient(
                &fast.trace(&x, tanh_hidden, tanh_output),
                &g,
                tanh_hidden,
                tanh_output,
            );
            assert_eq!(ours.len(), x.len());
            for i in 0..x.len() {
                let (mut up, mut down) = (x.clone(), x.clone());
                up[i] += 1e-3;
                down[i] -= 1e-3;
                let numeric = (loss(&up) - loss(&down)) / 2e-3;
                assert!(
                    (numeric as f32 - ours[i]).abs() < 2e-3,
                    "input {i}: {numeric} vs {}",
                    ours[i]
                );
            }
        }
    }

    #[test]
    fn fast_tanh_is_within_2e_7_of_tanh() {
        let worst = (-120_000..=120_000)
            .map(|i| i as f32 * 1e-4)
            .map(|x| (fast_tanh(x) - x.tanh()).abs())
            .fold(0.0f32, f32::max);
        assert!(worst <= 2e-7, "{worst}");
        assert_eq!(fast_tanh(0.0), 0.0);
        assert_eq!(fast_tanh(50.0), 1.0);
    }

    #[test]
    fn adam_matches_the_textbook_first_steps_and_clipping_bounds_the_norm() {
        // First Adam step moves each parameter by ≈ lr·sign(g) (bias-corrected moments).
        let mut p = vec![vec![1.0f32, -2.0]];
        let mut adam = Adam::new(&p, 1e-8);
        let mut refs: Vec<&mut Vec<f32>> = p.iter_mut().collect();
        adam.step(&mut refs, &[vec![0.5, -3.0]], 0.1);
        assert!(
            (p[0][0] - 0.9).abs() < 1e-5 && (p[0][1] + 1.9).abs() < 1e-5,
            "{p:?}"
        );
        let mut g = vec![vec![3.0f32], vec![4.0]];
        assert_eq!(clip_global_norm(&mut g, 1.0), 5.0);
        assert!(
            (g[0][0] - 0.6).abs() < 1e-5 && (g[1][0] - 0.8).abs() < 1e-5,
            "{g:?}"
        );
    }
}
