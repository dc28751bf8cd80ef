//! The MLP as a burn module: layers, initialisation, PyTorch-layout loading, the forward
//! pass, and the activation after each layer (shared with the fused fast path).

use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::{relu, tanh};
use burn::tensor::{Device, Tensor, TensorData};

use crate::policy::Architecture;

/// The MLP as a burn module.
#[derive(Module, Debug)]
pub struct Mlp {
    /// Linear layers, input first.
    pub layers: Vec<Linear>,
}

impl Mlp {
    /// A freshly initialised MLP of the given widths on `device`.
    pub fn init(sizes: &[usize], device: &Device) -> Mlp {
        let layers = sizes
            .windows(2)
            .map(|w| LinearConfig::new(w[0], w[1]).init(device))
            .collect();
        Mlp { layers }
    }

    /// Builds an MLP from PyTorch-layout weights (`[out, in]`) and biases.
    pub fn from_weights(layers: &[(Vec<f32>, Vec<f32>)], sizes: &[usize], device: &Device) -> Mlp {
        let layers = layers
            .iter()
            .zip(sizes.windows(2))
            .map(|((w, b), io)| {
                let (inp, out) = (io[0], io[1]);
                // Burn's Linear stores [in, out]: transpose the PyTorch [out, in] matrix here,
                // into contiguous memory, so the loaded network computes bit for bit the same.
                let mut t = vec![0.0f32; w.len()];
                for o in 0..out {
                    for i in 0..inp {
                        t[i * out + o] = w[o * inp + i];
                    }
                }
                let weight = Tensor::<2>::from_data(TensorData::new(t, [inp, out]), device);
                let bias = Tensor::<1>::from_data(TensorData::new(b.clone(), [out]), device);
                Linear {
                    weight: Param::from_tensor(weight),
                    bias: Some(Param::from_tensor(bias)),
                }
            })
            .collect();
        Mlp { layers }
    }

    /// Forward pass: `[batch, in] → [batch, out]`, ReLU between layers, tanh at the end.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.forward_with(x, false, true)
    }

    /// Forward pass as `architecture` says (hidden activation; tanh or raw output).
    pub fn forward_as(&self, x: Tensor<2>, architecture: &Architecture) -> Tensor<2> {
        self.forward_with(
            x,
            architecture.activation == "tanh",
            architecture.output == "tanh",
        )
    }

    /// Forward pass with tanh (else ReLU) hidden layers and an optional tanh output.
    pub fn forward_with(
        &self,
        mut x: Tensor<2>,
        tanh_hidden: bool,
        tanh_output: bool,
    ) -> Tensor<2> {
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            x = match Activation::of_layer(i < last, tanh_hidden, tanh_output) {
                Activation::Tanh => tanh(x),
                Activation::Relu => relu(x),
                Activation::Identity => x,
            };
        }
        x
    }
}

/// Runs `init` on the CPU device right after seeding burn's random generator with `seed`,
/// holding a process-wide lock: the generator is global, so two runs initialising at once
/// (tests in parallel threads, two trainers) would otherwise draw from each other's stream.
pub fn seeded_init<T>(seed: u64, init: impl FnOnce(&Device) -> T) -> T {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let device = Device::flex();
    device.seed(seed);
    init(&device)
}

/// The activation after one layer of an MLP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// Hyperbolic tangent.
    Tanh,
    /// max(0, x).
    Relu,
    /// None (raw outputs: logits, values).
    Identity,
}

impl Activation {
    /// Hidden layers use tanh or ReLU; the output layer tanh or nothing.
    pub fn of_layer(hidden: bool, tanh_hidden: bool, tanh_output: bool) -> Activation {
        match (hidden, tanh_hidden, tanh_output) {
            (true, true, _) | (false, _, true) => Activation::Tanh,
            (true, false, _) => Activation::Relu,
            (false, _, false) => Activation::Identity,
        }
    }
}
