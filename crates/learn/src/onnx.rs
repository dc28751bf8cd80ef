//! A policy as an ONNX model ([`export`]), for onnxruntime (Python, C++, the browser's
//! onnxruntime-web) and every other ONNX runtime: the whole act path, so a runtime given the
//! raw observation returns the same action as [`Policy::act_in`] (to float rounding).
//!
//! The graph (ONNX opset 17, IR version 8):
//! - inputs `observation` (float32 `[batch, observation size]`) and, for a policy trained on
//!   several tasks, `task` (int64 `[batch]`, the task's index in the `tasks` metadata);
//! - `(observation − obs_mean) / obs_std`, then the task's one-hot code appended (one-hot
//!   conditioning: a row of an identity matrix gathered by `task`);
//! - one `Gemm` per layer with PyTorch's `[out, in]` weights (`transB = 1`, initialisers named
//!   as in the safetensors file: `0.weight`, `0.bias`, `2.weight`, …), each followed by the
//!   architecture's activation;
//! - a multi-head policy's output reshaped to `[batch, tasks, actions]` and the row's task head
//!   picked (`GatherND`, `batch_dims = 1`);
//! - output `action`: float32 `[batch, actions]`, or for a categorical policy int64 `[batch]`,
//!   the index of the largest logit (`ArgMax`).
//!
//! The model's `metadata_props` carry the policy's metadata (`polyskill`, the same JSON as the
//! weights file's) and its `tasks`. Only the MLP architecture exports today (every shipped
//! policy is one); the others give an error naming the architecture.
//!
//! The protobuf messages are the subset of `onnx.proto` (the ONNX IR specification,
//! <https://github.com/onnx/onnx/blob/main/docs/IR.md>) that the exporter writes, declared
//! with prost's derive; field numbers are the specification's.

use crate::nets::Network;
use crate::nets::mlp::Activation;
use crate::policy::{Conditioning, Policy};
use prost::Message;

/// The ONNX operator set the graph uses (`GatherND` with `batch_dims` needs ≥ 12).
pub const OPSET: i64 = 17;
/// The ONNX IR version written (onnxruntime ≥ 1.10 reads it).
pub const IR_VERSION: i64 = 8;

/// The ONNX model of `policy`: the bytes of a `.onnx` file.
pub fn export(policy: &Policy) -> Result<Vec<u8>, String> {
    let info = &policy.info;
    let Network::Mlp(mlp) = policy.net() else {
        return Err(format!(
            "ONNX export supports the mlp architecture; this policy is {}",
            info.architecture.kind
        ));
    };
    let mut g = Graph::default();
    let obs = info.observation_size();
    let tasks = info.tasks.len();
    let task_input = info.conditioning != Conditioning::None;
    g.inputs.push(value_info(
        "observation",
        FLOAT,
        &[Dim::Batch, Dim::Fixed(obs)],
    ));
    if task_input {
        g.inputs.push(value_info("task", INT64, &[Dim::Batch]));
    }

    g.floats("obs_mean", &[obs], &info.obs_mean);
    g.floats("obs_std", &[obs], &info.obs_std);
    g.node("Sub", &["observation", "obs_mean"], "centred", vec![]);
    let mut x = g.node("Div", &["centred", "obs_std"], "normalised", vec![]);
    if info.conditioning == Conditioning::OneHot {
        let eye: Vec<f32> = (0..tasks * tasks)
            .map(|i| (i / tasks == i % tasks) as u8 as f32)
            .collect();
        g.floats("task_codes", &[tasks, tasks], &eye);
        g.node(
            "Gather",
            &["task_codes", "task"],
            "task_one_hot",
            vec![int("axis", 0)],
        );
        x = g.node(
            "Concat",
            &[&x, "task_one_hot"],
            "network_input",
            vec![int("axis", 1)],
        );
    }

    let architecture = &info.architecture;
    let tensors = crate::weights::tensors(policy).map_err(|e| e.to_string())?;
    let last = mlp.layers.len() - 1;
    for i in 0..=last {
        let name = |what: &str| format!("{}.{what}", 2 * i);
        let find = |what: &str| tensors.iter().find(|(n, _, _)| *n == name(what));
        let (_, weight, dims) =
            find("weight").ok_or_else(|| format!("no tensor {}", name("weight")))?;
        g.floats(&name("weight"), dims, weight);
        match find("bias") {
            Some((_, bias, dims)) => g.floats(&name("bias"), dims, bias),
            None => g.floats(&name("bias"), &dims[..1], &vec![0.0; dims[0]]),
        }
        let linear = g.node(
            "Gemm",
            &[&x, &name("weight"), &name("bias")],
            &format!("linear_{i}"),
            vec![int("transB", 1)],
        );
        let activation = match Activation::of_layer(
            i < last,
            architecture.activation == "tanh",
            architecture.output == "tanh",
        ) {
            Activation::Tanh => Some("Tanh"),
            Activation::Relu => Some("Relu"),
            Activation::Identity => None,
        };
        x = match activation {
            Some(op) => g.node(
                op,
                &[&linear],
                &format!("{}_{i}", op.to_lowercase()),
                vec![],
            ),
            None => linear,
        };
    }

    let heads = info.heads();
    if heads > 1 {
        let per = architecture.sizes.last().copied().unwrap_or(0) / heads;
        g.ints("head_shape", &[3], &[-1, heads as i64, per as i64]);
        g.ints("task_column", &[2], &[-1, 1]);
        g.node("Reshape", &[&x, "head_shape"], "heads", vec![]);
        g.node("Reshape", &["task", "task_column"], "task_index", vec![]);
        x = g.node(
            "GatherND",
            &["heads", "task_index"],
            "task_head",
            vec![int("batch_dims", 1)],
        );
    }
    let (action, elem) = if architecture.output == "categorical" {
        g.node(
            "ArgMax",
            &[&x],
            "action",
            vec![int("axis", 1), int("keepdims", 0)],
        );
        ("action".to_string(), INT64)
    } else {
        g.node("Identity", &[&x], "action", vec![]);
        ("action".to_string(), FLOAT)
    };
    let action_dims = if elem == INT64 {
        vec![Dim::Batch]
    } else {
        vec![Dim::Batch, Dim::Fixed(policy.action_size())]
    };
    g.outputs.push(value_info(&action, elem, &action_dims));

    let metadata = serde_json::to_string(info).map_err(|e| e.to_string())?;
    let model = ModelProto {
        ir_version: IR_VERSION,
        producer_name: "polyskill".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: format!(
            "Polyskill policy for {} ({} {})",
            info.tasks.join(", "),
            architecture.kind,
            architecture
                .sizes
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join("→")
        ),
        graph: Some(GraphProto {
            node: g.nodes,
            name: "policy".into(),
            initializer: g.initializers,
            input: g.inputs,
            output: g.outputs,
        }),
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }],
        metadata_props: vec![
            entry("polyskill", &metadata),
            entry("tasks", &info.tasks.join(",")),
        ],
    };
    Ok(model.encode_to_vec())
}

/// A graph being built: nodes in order, initialisers, inputs and outputs.
#[derive(Default)]
struct Graph {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    inputs: Vec<ValueInfoProto>,
    outputs: Vec<ValueInfoProto>,
}

impl Graph {
    /// Adds node `op(inputs) → output`; returns the output's name.
    fn node(
        &mut self,
        op: &str,
        inputs: &[&str],
        output: &str,
        attribute: Vec<AttributeProto>,
    ) -> String {
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            name: output.into(),
            op_type: op.into(),
            attribute,
        });
        output.into()
    }

    /// A float32 initialiser (little-endian raw data).
    fn floats(&mut self, name: &str, dims: &[usize], values: &[f32]) {
        let raw = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.initializer(name, dims, FLOAT, raw);
    }

    /// An int64 initialiser.
    fn ints(&mut self, name: &str, dims: &[usize], values: &[i64]) {
        let raw = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.initializer(name, dims, INT64, raw);
    }

    fn initializer(&mut self, name: &str, dims: &[usize], data_type: i32, raw_data: Vec<u8>) {
        self.initializers.push(TensorProto {
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type,
            name: name.into(),
            raw_data,
        });
    }
}

/// A dimension of a graph input or output.
enum Dim {
    /// The batch: symbolic (`batch`), any size.
    Batch,
    /// A fixed size.
    Fixed(usize),
}

fn value_info(name: &str, elem_type: i32, dims: &[Dim]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| match d {
            Dim::Batch => Dimension {
                value: Some(DimensionValue::Param("batch".into())),
            },
            Dim::Fixed(n) => Dimension {
                value: Some(DimensionValue::Value(*n as i64)),
            },
        })
        .collect();
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type,
                shape: Some(TensorShapeProto { dim }),
            }),
        }),
    }
}

fn int(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        i: value,
        r#type: ATTRIBUTE_INT,
    }
}

fn entry(key: &str, value: &str) -> StringStringEntryProto {
    StringStringEntryProto {
        key: key.into(),
        value: value.into(),
    }
}

/// `TensorProto.DataType.FLOAT`.
const FLOAT: i32 = 1;
/// `TensorProto.DataType.INT64`.
const INT64: i32 = 7;
/// `AttributeProto.AttributeType.INT`.
const ATTRIBUTE_INT: i32 = 2;

/// `onnx.ModelProto` (the fields written).
#[derive(Clone, PartialEq, Message)]
struct ModelProto {
    #[prost(int64, tag = "1")]
    ir_version: i64,
    #[prost(string, tag = "2")]
    producer_name: String,
    #[prost(string, tag = "3")]
    producer_version: String,
    #[prost(string, tag = "6")]
    doc_string: String,
    #[prost(message, optional, tag = "7")]
    graph: Option<GraphProto>,
    #[prost(message, repeated, tag = "8")]
    opset_import: Vec<OperatorSetIdProto>,
    #[prost(message, repeated, tag = "14")]
    metadata_props: Vec<StringStringEntryProto>,
}

/// `onnx.OperatorSetIdProto`.
#[derive(Clone, PartialEq, Message)]
struct OperatorSetIdProto {
    #[prost(string, tag = "1")]
    domain: String,
    #[prost(int64, tag = "2")]
    version: i64,
}

/// `onnx.StringStringEntryProto`.
#[derive(Clone, PartialEq, Message)]
struct StringStringEntryProto {
    #[prost(string, tag = "1")]
    key: String,
    #[prost(string, tag = "2")]
    value: String,
}

/// `onnx.GraphProto` (the fields written).
#[derive(Clone, PartialEq, Message)]
struct GraphProto {
    #[prost(message, repeated, tag = "1")]
    node: Vec<NodeProto>,
    #[prost(string, tag = "2")]
    name: String,
    #[prost(message, repeated, tag = "5")]
    initializer: Vec<TensorProto>,
    #[prost(message, repeated, tag = "11")]
    input: Vec<ValueInfoProto>,
    #[prost(message, repeated, tag = "12")]
    output: Vec<ValueInfoProto>,
}

/// `onnx.NodeProto` (the fields written).
#[derive(Clone, PartialEq, Message)]
struct NodeProto {
    #[prost(string, repeated, tag = "1")]
    input: Vec<String>,
    #[prost(string, repeated, tag = "2")]
    output: Vec<String>,
    #[prost(string, tag = "3")]
    name: String,
    #[prost(string, tag = "4")]
    op_type: String,
    #[prost(message, repeated, tag = "5")]
    attribute: Vec<AttributeProto>,
}

/// `onnx.AttributeProto` (integer attributes only).
#[derive(Clone, PartialEq, Message)]
struct AttributeProto {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(int64, tag = "3")]
    i: i64,
    #[prost(int32, tag = "20")]
    r#type: i32,
}

/// `onnx.TensorProto` (raw little-endian data).
#[derive(Clone, PartialEq, Message)]
struct TensorProto {
    #[prost(int64, repeated, tag = "1")]
    dims: Vec<i64>,
    #[prost(int32, tag = "2")]
    data_type: i32,
    #[prost(string, tag = "8")]
    name: String,
    #[prost(bytes = "vec", tag = "9")]
    raw_data: Vec<u8>,
}

/// `onnx.ValueInfoProto`.
#[derive(Clone, PartialEq, Message)]
struct ValueInfoProto {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(message, optional, tag = "2")]
    r#type: Option<TypeProto>,
}

/// `onnx.TypeProto` (tensors only).
#[derive(Clone, PartialEq, Message)]
struct TypeProto {
    #[prost(message, optional, tag = "1")]
    tensor_type: Option<TensorTypeProto>,
}

/// `onnx.TypeProto.Tensor`.
#[derive(Clone, PartialEq, Message)]
struct TensorTypeProto {
    #[prost(int32, tag = "1")]
    elem_type: i32,
    #[prost(message, optional, tag = "2")]
    shape: Option<TensorShapeProto>,
}

/// `onnx.TensorShapeProto`.
#[derive(Clone, PartialEq, Message)]
struct TensorShapeProto {
    #[prost(message, repeated, tag = "1")]
    dim: Vec<Dimension>,
}

/// `onnx.TensorShapeProto.Dimension`.
#[derive(Clone, PartialEq, Message)]
struct Dimension {
    #[prost(oneof = "DimensionValue", tags = "1, 2")]
    value: Option<DimensionValue>,
}

/// The `value` oneof of a dimension: a size or a symbolic name.
#[derive(Clone, PartialEq, prost::Oneof)]
enum DimensionValue {
    #[prost(int64, tag = "1")]
    Value(i64),
    #[prost(string, tag = "2")]
    Param(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Architecture, PolicyInfo};
    use burn::tensor::Device;

    fn policy(kind: &str, conditioning: Conditioning, sizes: &[usize]) -> Policy {
        let architecture = Architecture {
            kind: kind.into(),
            ..Architecture::mlp(sizes)
        };
        let tasks = vec!["a".to_string(), "b".to_string()];
        let device = Device::flex();
        let net = Network::init(&architecture, 2, &device).unwrap();
        Policy::new(
            net,
            PolicyInfo {
                architecture,
                tasks,
                conditioning,
                obs_mean: vec![0.0; 3],
                obs_std: vec![1.0; 3],
                training: serde_json::Value::Null,
                eval_success: None,
                eval_episodes: None,
            },
            device,
        )
    }

    /// The model decodes as protobuf, names the opset, and has one initialiser per weight
    /// tensor plus the normalisation, the head reshape and task column.
    #[test]
    fn a_multi_head_mlp_exports_its_layers_and_head_selection() {
        let bytes = export(&policy("mlp", Conditioning::MultiHead, &[3, 8, 4])).unwrap();
        let model = ModelProto::decode(bytes.as_slice()).unwrap();
        assert_eq!(model.opset_import[0].version, OPSET);
        let graph = model.graph.unwrap();
        let names: Vec<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "obs_mean",
                "obs_std",
                "0.weight",
                "0.bias",
                "2.weight",
                "2.bias",
                "head_shape",
                "task_column"
            ]
        );
        let w = &graph.initializer[4];
        assert_eq!(w.dims, [4, 8], "PyTorch's [out, in]");
        assert_eq!(w.raw_data.len(), 4 * 8 * 4);
        let ops: Vec<&str> = graph.node.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(
            ops,
            [
                "Sub", "Div", "Gemm", "Relu", "Gemm", "Tanh", "Reshape", "Reshape", "GatherND",
                "Identity"
            ]
        );
        assert_eq!(graph.input.len(), 2, "observation and task");
    }

    /// Task-aware architectures are refused by name, not exported wrongly.
    #[test]
    fn other_architectures_are_refused_by_name() {
        let e = export(&policy("film", Conditioning::OneHot, &[5, 8, 4])).unwrap_err();
        assert!(e.contains("film"), "{e}");
    }
}
