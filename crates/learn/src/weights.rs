//! Policy weights as safetensors with `__metadata__`, in PyTorch's layout: an MLP is saved as
//! the tensors of a `torch.nn.Sequential(Linear, ReLU, …, Linear, Tanh)`, named `0.weight`,
//! `0.bias`, `2.weight`, … with weights `[out, in]`. Every other architecture is saved under
//! its module paths (`experts.0.layers.1.weight`, listed in each architecture's doc), with
//! every tensor named `*.weight` in PyTorch's `[out, in]` order (its last two axes swapped
//! from burn's) and the rest as they are. Metadata values are JSON strings.
//! [`import_sequential`] reads such a file written by PyTorch, without our metadata.

use crate::Mlp;
use crate::Policy;
use crate::nets::params::{read_params, write_params};
use crate::nets::{ArchitectureKind, Network};
use crate::policy::{Architecture, Conditioning, PolicyInfo};
use burn::module::Module;
use burn::tensor::Device;
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use std::collections::HashMap;
use std::fmt;

/// Value of the `format` metadata key that marks a Polyskill policy file.
pub const WEIGHTS_FORMAT: &str = "polyskill-policy/1";

/// Why a weights file could not be read or written.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightsError(pub String);

impl fmt::Display for WeightsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "weights: {}", self.0)
    }
}

impl std::error::Error for WeightsError {}

fn err(message: impl Into<String>) -> WeightsError {
    WeightsError(message.into())
}

/// Name of linear layer `i`'s tensors in a PyTorch `Sequential` with one activation after each.
fn layer_name(i: usize, what: &str) -> String {
    format!("{}.{what}", 2 * i)
}

/// Serialises a policy to safetensors bytes.
pub fn save(policy: &Policy) -> Result<Vec<u8>, WeightsError> {
    serialize(&tensors(policy)?, &policy.info)
}

/// One saved tensor: `(name, values, shape)`.
pub type NamedTensor = (String, Vec<f32>, Vec<usize>);

/// A policy's tensors as they are saved, in order, in PyTorch's layout (module comment).
pub fn tensors(policy: &Policy) -> Result<Vec<NamedTensor>, WeightsError> {
    let mut tensors = Vec::new();
    let Network::Mlp(mlp) = policy.net() else {
        for p in read_params(policy.net()).map_err(err)? {
            let (values, shape) = if p.path.ends_with("weight") {
                swap_last_axes(&p.values, &p.shape)
            } else {
                (p.values, p.shape)
            };
            tensors.push((p.path, values, shape));
        }
        return Ok(tensors);
    };
    for (i, layer) in mlp.layers.iter().enumerate() {
        // Burn stores [in, out]; PyTorch expects [out, in].
        let w = layer.weight.val().transpose();
        let shape = w.shape().dims::<2>().to_vec();
        tensors.push((layer_name(i, "weight"), to_vec(w.into_data())?, shape));
        if let Some(b) = &layer.bias {
            let b = b.val();
            let shape = b.shape().dims::<1>().to_vec();
            tensors.push((layer_name(i, "bias"), to_vec(b.into_data())?, shape));
        }
    }
    Ok(tensors)
}

/// `values` of `shape` with the last two axes swapped (burn's `[…, in, out]` to PyTorch's
/// `[…, out, in]` and back); the swapped shape. Tensors of fewer than two axes are unchanged.
fn swap_last_axes(values: &[f32], shape: &[usize]) -> (Vec<f32>, Vec<usize>) {
    let n = shape.len();
    if n < 2 {
        return (values.to_vec(), shape.to_vec());
    }
    let (rows, cols) = (shape[n - 2], shape[n - 1]);
    let mut out = vec![0.0f32; values.len()];
    for (block, chunk) in values.chunks(rows * cols).enumerate() {
        let base = block * rows * cols;
        for r in 0..rows {
            for c in 0..cols {
                out[base + c * rows + r] = chunk[r * cols + c];
            }
        }
    }
    let mut swapped = shape.to_vec();
    swapped.swap(n - 2, n - 1);
    (out, swapped)
}

fn serialize(tensors: &[NamedTensor], info: &PolicyInfo) -> Result<Vec<u8>, WeightsError> {
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, v, _)| v.iter().flat_map(|x| x.to_le_bytes()).collect())
        .collect();
    let views = tensors
        .iter()
        .zip(&bytes)
        .map(|((name, _, shape), data)| {
            TensorView::new(Dtype::F32, shape.clone(), data)
                .map(|v| (name.clone(), v))
                .map_err(|e| err(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    safetensors::serialize(views, Some(metadata(info)?)).map_err(|e| err(e.to_string()))
}

fn to_vec(data: burn::tensor::TensorData) -> Result<Vec<f32>, WeightsError> {
    data.as_slice::<f32>()
        .map(|s| s.to_vec())
        .map_err(|e| err(format!("{e:?}")))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, WeightsError> {
    serde_json::to_string(value).map_err(|e| err(e.to_string()))
}

fn metadata(info: &PolicyInfo) -> Result<HashMap<String, String>, WeightsError> {
    let mut m = HashMap::new();
    m.insert("format".into(), WEIGHTS_FORMAT.into());
    m.insert("architecture".into(), to_json(&info.architecture)?);
    m.insert("tasks".into(), to_json(&info.tasks)?);
    m.insert("conditioning".into(), to_json(&info.conditioning)?);
    m.insert("obs_mean".into(), to_json(&info.obs_mean)?);
    m.insert("obs_std".into(), to_json(&info.obs_std)?);
    m.insert("training".into(), to_json(&info.training)?);
    if let Some(s) = info.eval_success {
        m.insert("eval_success".into(), to_json(&s)?);
    }
    if let Some(n) = info.eval_episodes {
        m.insert("eval_episodes".into(), to_json(&n)?);
    }
    Ok(m)
}

/// Reads the policy description from a weights file's metadata, without loading tensors.
pub fn read_info(bytes: &[u8]) -> Result<PolicyInfo, WeightsError> {
    let (_, meta) = SafeTensors::read_metadata(bytes)
        .map_err(|e| err(format!("not a safetensors file ({e})")))?;
    let meta = meta
        .metadata()
        .clone()
        .ok_or_else(|| err("the file has no __metadata__ (architecture, normalisation)"))?;
    match meta.get("format").map(String::as_str) {
        Some(WEIGHTS_FORMAT) => {}
        Some(other) => {
            return Err(err(format!(
                "metadata format \"{other}\" is not {WEIGHTS_FORMAT}"
            )));
        }
        None => {
            return Err(err(format!(
                "metadata has no \"format\" key (expected {WEIGHTS_FORMAT})"
            )));
        }
    }
    fn field<T: serde::de::DeserializeOwned>(
        meta: &HashMap<String, String>,
        key: &str,
    ) -> Result<T, WeightsError> {
        let text = meta
            .get(key)
            .ok_or_else(|| err(format!("metadata key \"{key}\" is missing")))?;
        serde_json::from_str(text).map_err(|e| err(format!("metadata \"{key}\": {e}")))
    }
    fn optional<T: serde::de::DeserializeOwned>(
        meta: &HashMap<String, String>,
        key: &str,
    ) -> Result<Option<T>, WeightsError> {
        if meta.contains_key(key) {
            field(meta, key).map(Some)
        } else {
            Ok(None)
        }
    }
    let info = PolicyInfo {
        architecture: field(&meta, "architecture")?,
        tasks: field(&meta, "tasks")?,
        conditioning: optional(&meta, "conditioning")?.unwrap_or_default(),
        obs_mean: field(&meta, "obs_mean")?,
        obs_std: field(&meta, "obs_std")?,
        training: optional(&meta, "training")?.unwrap_or(serde_json::Value::Null),
        eval_success: optional(&meta, "eval_success")?,
        eval_episodes: optional(&meta, "eval_episodes")?,
    };
    info.check().map_err(|e| err(format!("metadata: {e}")))?;
    Ok(info)
}

/// Loads a policy from safetensors bytes onto `device`, checking every tensor's presence,
/// dtype, shape and values against the architecture in the metadata.
pub fn load(bytes: &[u8], device: &Device) -> Result<Policy, WeightsError> {
    let info = read_info(bytes)?;
    let file = SafeTensors::deserialize(bytes)
        .map_err(|e| err(format!("not a safetensors file ({e})")))?;
    let net = match info.architecture.kind().map_err(err)? {
        ArchitectureKind::Mlp => {
            let layers = read_layers(&file, &info.architecture.sizes)?;
            Network::Mlp(Mlp::from_weights(&layers, &info.architecture.sizes, device))
        }
        _ => load_network(&file, &info)?.to_device(device),
    };
    Ok(Policy::new(net, info, device.clone()))
}

/// A task-aware network of `info`'s architecture with every tensor read from `file` (built
/// on the CPU, where parameters can be read and written).
fn load_network(file: &SafeTensors, info: &PolicyInfo) -> Result<Network, WeightsError> {
    let cpu = Device::flex();
    let fresh = Network::init(&info.architecture, info.task_inputs(), &cpu).map_err(err)?;
    let expected = read_params(&fresh).map_err(err)?;
    if file.len() != expected.len() {
        let mut names = file.names();
        names.sort();
        return Err(err(format!(
            "the file holds {} tensors ({}); a {} of this shape has {}",
            file.len(),
            names.join(", "),
            info.architecture.kind,
            expected.len()
        )));
    }
    let mut values = Vec::with_capacity(expected.len());
    for p in &expected {
        let weight = p.path.ends_with("weight");
        let saved_shape = if weight {
            swap_last_axes(&[], &p.shape).1
        } else {
            p.shape.clone()
        };
        let saved = tensor_values(file, &p.path, &saved_shape)?;
        values.push(if weight {
            swap_last_axes(&saved, &saved_shape).0
        } else {
            saved
        });
    }
    write_params(fresh, &values).map_err(err)
}

/// Loads a PyTorch `torch.nn.Sequential` MLP saved with `safetensors.torch.save_file`
/// (tensors `0.weight`, `0.bias`, `2.weight`, …, weights `[out, in]`, F32 or F64; any
/// metadata is ignored), given its `architecture`. Observations are not normalised (mean 0,
/// std 1) and the result's provenance says it was imported.
pub fn import_sequential(
    bytes: &[u8],
    architecture: &Architecture,
    device: &Device,
) -> Result<Policy, WeightsError> {
    architecture.check().map_err(err)?;
    let file = SafeTensors::deserialize(bytes)
        .map_err(|e| err(format!("not a safetensors file ({e})")))?;
    let sizes = &architecture.sizes;
    let layers = read_layers(&file, sizes)?;
    let expected = 2 * layers.len();
    if file.len() != expected {
        let mut names = file.names();
        names.sort();
        return Err(err(format!(
            "the file holds {} tensors ({}); an MLP of sizes {sizes:?} has {expected}",
            file.len(),
            names.join(", ")
        )));
    }
    let info = PolicyInfo {
        architecture: architecture.clone(),
        tasks: Vec::new(),
        conditioning: Conditioning::None,
        obs_mean: vec![0.0; sizes[0]],
        obs_std: vec![1.0; sizes[0]],
        training: serde_json::json!({ "imported": "torch.nn.Sequential safetensors" }),
        eval_success: None,
        eval_episodes: None,
    };
    Ok(Policy::new(
        Network::Mlp(Mlp::from_weights(&layers, sizes, device)),
        info,
        device.clone(),
    ))
}

/// A linear layer's `(weight [out, in], bias [out])`, row-major.
type LayerValues = (Vec<f32>, Vec<f32>);

/// Reads and checks each linear layer's `(weight [out, in], bias [out])` for widths `sizes`.
fn read_layers(file: &SafeTensors, sizes: &[usize]) -> Result<Vec<LayerValues>, WeightsError> {
    let mut layers = Vec::new();
    for (i, io) in sizes.windows(2).enumerate() {
        let (inp, out) = (io[0], io[1]);
        let read = |what: &str, shape: &[usize]| tensor_values(file, &layer_name(i, what), shape);
        layers.push((read("weight", &[out, inp])?, read("bias", &[out])?));
    }
    Ok(layers)
}

/// The values of tensor `name` of `file`, which must have `shape`, be F32 or F64 and finite.
fn tensor_values(
    file: &SafeTensors,
    name: &str,
    shape: &[usize],
) -> Result<Vec<f32>, WeightsError> {
    {
        {
            let t = file
                .tensor(name)
                .map_err(|_| err(format!("tensor \"{name}\" is missing")))?;
            if t.shape() != shape {
                return Err(err(format!(
                    "tensor \"{name}\" has shape {:?}; the architecture needs {shape:?}",
                    t.shape()
                )));
            }
            let values: Vec<f32> = match t.dtype() {
                Dtype::F32 => t
                    .data()
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
                Dtype::F64 => t
                    .data()
                    .chunks_exact(8)
                    .map(|c| {
                        f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32
                    })
                    .collect(),
                other => {
                    return Err(err(format!(
                        "tensor \"{name}\" is {other:?}; only F32 and F64 are supported"
                    )));
                }
            };
            if values.iter().any(|v| !v.is_finite()) {
                return Err(err(format!(
                    "tensor \"{name}\" holds NaN or infinite values"
                )));
            }
            Ok(values)
        }
    }
}
