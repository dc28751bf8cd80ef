//! PyTorch interchange: a `torch.nn.Sequential` MLP written by the Python `safetensors`
//! package (fixture made by `tests/fixtures/torch/make_fixture.py`, not by our writer) loads
//! given its architecture and computes what numpy computed; our own files use the same
//! tensor names and `[out, in]` layout; mismatches name what was expected and found.

use polyskill_learn::{Architecture, Device, weights};
use polyskill_sim::task::Task;

const MLP: &[u8] = include_bytes!("../../../tests/fixtures/torch/mlp.safetensors");
const ARCHITECTURE: &str = include_str!("../../../tests/fixtures/torch/architecture.json");
const EXPECTED: &str = include_str!("../../../tests/fixtures/torch/expected.json");

fn architecture() -> Architecture {
    serde_json::from_str(ARCHITECTURE).unwrap()
}

#[test]
fn a_pytorch_sequential_file_loads_and_matches_numpy() {
    let policy = weights::import_sequential(MLP, &architecture(), &Device::flex()).unwrap();
    let expected: serde_json::Value = serde_json::from_str(EXPECTED).unwrap();
    let flat = |key: &str| -> Vec<f32> {
        expected[key]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|row| {
                row.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap() as f32)
            })
            .collect()
    };
    let outputs = policy.act_batch(&flat("inputs")).unwrap();
    let want = flat("outputs");
    assert_eq!(outputs.len(), want.len());
    for (a, b) in outputs.iter().zip(&want) {
        assert!((a - b).abs() < 1e-5, "{outputs:?} vs numpy {want:?}");
    }
    // Re-saved as a Polyskill file it keeps the PyTorch names and layout, and loads the same.
    let bytes = weights::save(&policy).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names = file.names();
    names.sort();
    assert_eq!(
        names,
        [
            "0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"
        ]
    );
    assert_eq!(file.tensor("0.weight").unwrap().shape(), [8, 5]);
    let original = safetensors::SafeTensors::deserialize(MLP).unwrap();
    for name in names {
        assert_eq!(
            file.tensor(name).unwrap().data(),
            original.tensor(name).unwrap().data(),
            "{name}"
        );
    }
    let again = weights::load(&bytes, &Device::flex()).unwrap();
    assert_eq!(again.act_batch(&flat("inputs")).unwrap(), outputs);
}

#[test]
fn a_wrong_architecture_says_what_was_expected_and_found() {
    let mut arch = architecture();
    arch.sizes[1] = 16;
    let e = weights::import_sequential(MLP, &arch, &Device::flex())
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "weights: tensor \"0.weight\" has shape [8, 5]; the architecture needs [16, 5]"
    );
    let mut arch = architecture();
    arch.sizes = vec![5, 8, 8];
    let e = weights::import_sequential(MLP, &arch, &Device::flex())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("holds 6 tensors (0.bias, 0.weight, 2.bias, 2.weight, 4.bias, 4.weight)"),
        "{e}"
    );
    // Without our metadata the plain loader explains what is missing.
    let e = weights::load(MLP, &Device::flex()).unwrap_err().to_string();
    assert!(e.contains("no __metadata__"), "{e}");
}

#[test]
fn a_policy_whose_sizes_do_not_fit_the_task_is_rejected_by_evaluation() {
    let policy = weights::import_sequential(MLP, &architecture(), &Device::flex()).unwrap();
    let reach = Task::from_json(include_str!("../../../web/tasks/reach.json")).unwrap();
    let e = polyskill_learn::eval::evaluate(&policy, &reach, 0, 1).unwrap_err();
    assert_eq!(e, "policy takes 5 inputs; task reach observes 39");
}

#[test]
fn the_plain_rust_forward_pass_agrees_with_burns() {
    let policy = weights::import_sequential(MLP, &architecture(), &Device::flex()).unwrap();
    let fast = polyskill_learn::FastMlp::from_mlp(policy.net().as_mlp().unwrap()).unwrap();
    let expected: serde_json::Value = serde_json::from_str(EXPECTED).unwrap();
    let inputs: Vec<f32> = expected["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
        })
        .collect();
    for (tanh_hidden, tanh_output) in [(false, true), (true, false), (true, true)] {
        let x = burn::tensor::Tensor::<2>::from_data(
            burn::tensor::TensorData::new(inputs.clone(), [4, 5]),
            &Device::flex(),
        );
        let burn_out: Vec<f32> = policy
            .net()
            .as_mlp()
            .unwrap()
            .forward_with(x, tanh_hidden, tanh_output)
            .into_data()
            .try_to_vec()
            .unwrap();
        let fast_out = fast.forward(&inputs, tanh_hidden, tanh_output);
        assert_eq!(burn_out.len(), fast_out.len());
        for (a, b) in burn_out.iter().zip(&fast_out) {
            assert!(
                (a - b).abs() < 1e-5,
                "{tanh_hidden} {tanh_output}: burn {burn_out:?} vs plain {fast_out:?}"
            );
        }
    }
}
