//! Training any [`Network`] through burn's autodiff, behind the interface the fused MLP
//! already had: a forward pass that keeps what the backward pass needs ([`NetTrace`]), the
//! gradients of every parameter given the loss's gradient with respect to the outputs, and
//! the parameters as flat lists for Adam and the multi-task seam. The algorithms write each
//! loss's output gradient by hand once; `Σ output · G` then backpropagates it through any
//! architecture (burn forms `Jᵀ G`). [`TrainNet`] is either engine: the fused fast path for
//! a plain MLP, or [`BurnNet`].

use super::fused::{FastMlp, Trace};
use super::params::{FlatParam, read_params, write_params};
use super::{Network, mlp::Mlp};
use crate::policy::Architecture;
use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};

/// A network being trained through burn's autodiff on the CPU, with its parameters mirrored
/// as flat lists.
#[derive(Debug)]
pub struct BurnNet {
    net: Network,
    architecture: Architecture,
    tasks: usize,
    params: Vec<FlatParam>,
    values: Vec<Vec<f32>>,
    device: Device,
    /// Weight of the architecture's auxiliary loss (the mixture's load balancing).
    pub aux_weight: f32,
}

/// The auxiliary loss weight of Switch Transformer's load balancing (Fedus et al. 2021: 0.01).
pub const DEFAULT_AUX_WEIGHT: f32 = 0.01;

impl BurnNet {
    /// A network of `architecture` for `tasks` task inputs, initialised from `seed`.
    pub fn init(architecture: &Architecture, tasks: usize, seed: u64) -> Result<BurnNet, String> {
        // Initialise (burn draws lazily) and read inside the seeded lock, so the same seed
        // gives the same weights whatever else is running.
        let (net, params) = super::mlp::seeded_init(seed, |device| -> Result<_, String> {
            let net = Network::init(architecture, tasks, device)?;
            let params = read_params(&net)?;
            Ok((net, params))
        })?;
        BurnNet::from_network(net, architecture, tasks, params)
    }

    /// Trains `net` (on any CPU device) from its current weights.
    pub fn from_trained(
        net: &Network,
        architecture: &Architecture,
        tasks: usize,
    ) -> Result<BurnNet, String> {
        let params = read_params(net)?;
        BurnNet::from_network(net.clone(), architecture, tasks, params)
    }

    fn from_network(
        net: Network,
        architecture: &Architecture,
        tasks: usize,
        params: Vec<FlatParam>,
    ) -> Result<BurnNet, String> {
        let device = Device::flex().autodiff();
        let values: Vec<Vec<f32>> = params.iter().map(|p| p.values.clone()).collect();
        let net = write_params(net.to_device(&device).train(), &values)?;
        Ok(BurnNet {
            net,
            architecture: architecture.clone(),
            tasks,
            params,
            values,
            device,
            aux_weight: DEFAULT_AUX_WEIGHT,
        })
    }

    /// The parameters' paths and shapes (visiting order, as [`BurnNet::params`]).
    pub fn layout(&self) -> &[FlatParam] {
        &self.params
    }

    fn input(&self, x: &[f32]) -> Tensor<2> {
        let width = self.architecture.sizes[0];
        Tensor::from_data(
            TensorData::new(x.to_vec(), [x.len() / width.max(1), width]),
            &self.device,
        )
    }

    /// The network as it stands, for inference on `device`.
    pub fn network(&self, device: &Device) -> Network {
        self.net.valid().to_device(device)
    }
}

/// One forward pass kept for its backward pass.
// One trace lives per pass: the variants' sizes do not matter, boxing would only add a hop.
#[allow(clippy::large_enum_variant)]
pub enum NetTrace {
    /// The fused MLP's activations.
    Fused(Trace),
    /// burn's graph: the outputs (and auxiliary loss) as autodiff tensors, and the output values.
    Burn {
        /// `[batch, out]` with its graph.
        output: Tensor<2>,
        /// The auxiliary loss, if any.
        aux: Option<Tensor<1>>,
        /// The outputs, read back.
        values: Vec<f32>,
    },
}

impl NetTrace {
    /// The network's outputs, row-major.
    pub fn output(&self) -> &[f32] {
        match self {
            NetTrace::Fused(t) => t.output(),
            NetTrace::Burn { values, .. } => values,
        }
    }
}

/// A network an algorithm trains: the fused MLP (with its activations) or any architecture
/// through burn.
// One network per run: the variants' sizes do not matter, boxing would only add a hop.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum TrainNet {
    /// The hand-fused MLP, its hidden activation (tanh, else ReLU) and tanh output.
    Fused {
        /// The network.
        net: FastMlp,
        /// tanh hidden layers.
        tanh_hidden: bool,
        /// tanh output.
        tanh_output: bool,
    },
    /// burn's autodiff.
    Burn(BurnNet),
}

impl TrainNet {
    /// Forward pass of a row-major batch, kept for [`TrainNet::backward`].
    pub fn trace(&self, x: &[f32]) -> Result<NetTrace, String> {
        match self {
            TrainNet::Fused {
                net,
                tanh_hidden,
                tanh_output,
            } => Ok(NetTrace::Fused(net.trace(x, *tanh_hidden, *tanh_output))),
            TrainNet::Burn(b) => {
                let (output, aux) = b.net.forward_with_aux(b.input(x), &b.architecture, b.tasks);
                let values = output
                    .clone()
                    .into_data()
                    .try_to_vec::<f32>()
                    .map_err(|e| format!("reading outputs: {e:?}"))?;
                Ok(NetTrace::Burn {
                    output,
                    aux,
                    values,
                })
            }
        }
    }

    /// Outputs of a row-major batch (no graph kept).
    pub fn forward(&self, x: &[f32]) -> Result<Vec<f32>, String> {
        match self {
            TrainNet::Fused {
                net,
                tanh_hidden,
                tanh_output,
            } => Ok(net.forward(x, *tanh_hidden, *tanh_output)),
            TrainNet::Burn(b) => {
                let y = b
                    .net
                    .valid()
                    .forward(b.input(x).inner(), &b.architecture, b.tasks);
                y.into_data()
                    .try_to_vec::<f32>()
                    .map_err(|e| format!("reading outputs: {e:?}"))
            }
        }
    }

    /// Gradients of every parameter (the layout of [`TrainNet::params`]) of a loss whose
    /// gradient with respect to the traced outputs is `grad_output` (plus, for burn, the
    /// architecture's auxiliary loss times its weight).
    pub fn backward(&self, trace: NetTrace, grad_output: &[f32]) -> Result<Vec<Vec<f32>>, String> {
        match (self, trace) {
            (
                TrainNet::Fused {
                    net,
                    tanh_hidden,
                    tanh_output,
                },
                NetTrace::Fused(t),
            ) => Ok(net.backward(&t, grad_output, *tanh_hidden, *tanh_output)),
            (TrainNet::Burn(b), NetTrace::Burn { output, aux, .. }) => {
                let g = Tensor::<2>::from_data(
                    TensorData::new(grad_output.to_vec(), output.shape()),
                    &b.device,
                );
                let mut loss = (output * g).sum();
                if let Some(aux) = aux {
                    loss = loss + aux * b.aux_weight;
                }
                let grads = GradientsParams::from_grads(loss.backward(), &b.net);
                b.params
                    .iter()
                    .map(|p| {
                        let values = match p.shape.len() {
                            1 => grads.get::<1>(p.id).map(|t| t.into_data()),
                            2 => grads.get::<2>(p.id).map(|t| t.into_data()),
                            3 => grads.get::<3>(p.id).map(|t| t.into_data()),
                            n => return Err(format!("parameter {} has {n} dimensions", p.path)),
                        };
                        match values {
                            Some(data) => data
                                .try_to_vec::<f32>()
                                .map_err(|e| format!("reading a gradient: {e:?}")),
                            // Not reached by this loss (e.g. an expert no row was routed to).
                            None => Ok(vec![0.0; p.values.len()]),
                        }
                    })
                    .collect()
            }
            _ => Err("a trace from one engine was given to the other".into()),
        }
    }

    /// The parameters as flat lists.
    pub fn params(&self) -> &[Vec<f32>] {
        match self {
            TrainNet::Fused { net, .. } => &net.params,
            TrainNet::Burn(b) => &b.values,
        }
    }

    /// Applies `update` to the flat parameters (e.g. an Adam step), then brings the network up
    /// to date with them.
    pub fn update(&mut self, update: impl FnOnce(&mut [&mut Vec<f32>])) -> Result<(), String> {
        match self {
            TrainNet::Fused { net, .. } => {
                let mut refs: Vec<&mut Vec<f32>> = net.params.iter_mut().collect();
                update(&mut refs);
                Ok(())
            }
            TrainNet::Burn(b) => {
                let mut refs: Vec<&mut Vec<f32>> = b.values.iter_mut().collect();
                update(&mut refs);
                let net = std::mem::replace(&mut b.net, Network::Mlp(Mlp { layers: Vec::new() }));
                b.net = write_params(net, &b.values)?;
                Ok(())
            }
        }
    }

    /// Runs `f` on this network with `shift` added to its parameters (a list per parameter
    /// list), then puts the parameters back exactly as they were.
    pub fn at_shifted<R>(
        &mut self,
        shift: &[Vec<f32>],
        f: impl FnOnce(&TrainNet) -> Result<R, String>,
    ) -> Result<R, String> {
        let saved = self.params().to_vec();
        self.update(|params| {
            for (p, s) in params.iter_mut().zip(shift) {
                p.iter_mut().zip(s).for_each(|(v, d)| *v += d);
            }
        })?;
        let result = f(self);
        self.update(|params| {
            for (p, s) in params.iter_mut().zip(saved) {
                **p = s;
            }
        })?;
        result
    }

    /// The network as it stands, for inference on `device`.
    pub fn network(&self, device: &Device) -> Network {
        match self {
            TrainNet::Fused { net, .. } => Network::Mlp(net.to_mlp(device)),
            TrainNet::Burn(b) => b.network(device),
        }
    }
}
