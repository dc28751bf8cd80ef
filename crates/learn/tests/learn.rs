//! Learning tests: BC improves a policy on reach; DAgger labels the learner's own states;
//! multi-task policies are told their task (one-hot or one head each); bad settings and
//! diverging fits stop with named errors; weights round-trip with their metadata; broken
//! weights files give clear errors; the shipped policy keeps its recorded quality; a run
//! split over two workers matches one worker's.

use polyskill_learn::algos::bc::{self, BcConfig};
use polyskill_learn::eval::evaluate;
use polyskill_learn::{Conditioning, Device, weights};
use polyskill_sim::task::Task;
use polyskill_sim::{Env, ExpertPolicy};

mod common;

fn reach() -> Task {
    Task::from_json(include_str!("../../../web/tasks/reach.json")).unwrap()
}

fn small_policy() -> polyskill_learn::Policy {
    let demos = bc::record_demonstrations(&reach(), 2, 0, |_| {}).unwrap();
    let config = BcConfig {
        hidden: vec![16],
        steps: 5,
        batch: 8,
        ..Default::default()
    };
    bc::train(&demos, vec!["reach".into()], &config, 1, |_| {}).unwrap()
}

#[test]
fn bc_loss_falls_and_success_rises_on_a_small_budget() {
    let task = reach();
    let demos = bc::record_demonstrations(&task, 20, 0, |_| {}).unwrap();
    assert_eq!(demos.len(), 20 * 500);
    let config = BcConfig {
        hidden: vec![64, 64],
        steps: 600,
        batch: 128,
        learning_rate: 3e-3,
        seed: 1,
        ..Default::default()
    };
    let mut losses = Vec::new();
    let policy = bc::train(&demos, vec!["reach".into()], &config, 50, |p| {
        losses.push(p.loss)
    })
    .unwrap();
    let (first, last) = (losses[0], *losses.last().unwrap());
    assert!(last < first * 0.2, "loss {first} -> {last}");

    let untrained = bc::train(
        &demos,
        vec!["reach".into()],
        &BcConfig {
            steps: 1,
            ..config.clone()
        },
        1,
        |_| {},
    )
    .unwrap();
    let before = evaluate(&untrained, &task, 0, 20).unwrap().success_rate;
    let after = evaluate(&policy, &task, 0, 20).unwrap().success_rate;
    assert!(
        after >= 0.8 && after > before,
        "success before {before}, after {after}"
    );
}

fn drawer_close() -> Task {
    Task::from_json(include_str!("../../../web/tasks/drawer-close.json")).unwrap()
}

#[test]
fn dagger_labels_the_learners_own_states_with_the_expert() {
    let task = reach();
    let config = BcConfig {
        hidden: vec![16],
        steps: 20,
        batch: 32,
        demos: 2,
        dagger_rounds: 1,
        dagger_episodes: 2,
        ..Default::default()
    };
    let mut records = Vec::new();
    let policy =
        bc::train_tasks(std::slice::from_ref(&task), &config, |p| records.push(p)).unwrap();
    assert_eq!(policy.info.training["algorithm"], "bc+dagger");
    // Two expert episodes and two learner episodes of 500 steps each.
    assert_eq!(policy.info.training["demonstrations"], 2000);
    assert_eq!(policy.info.training["gradient_steps"], 40);
    assert!(
        records
            .iter()
            .any(|p| p.round == 1 && p.learner_success.is_some()),
        "{records:?}"
    );

    // A learner-driven recording: labels are the expert's actions at the learner's states.
    let learner = bc::record(&task, 0, 1, 7, bc::Driver::Learner(&policy), |_| {})
        .unwrap()
        .demonstrations;
    let by_expert = bc::record(&task, 0, 1, 7, bc::Driver::Expert { noise: 0.0 }, |_| {})
        .unwrap()
        .demonstrations;
    let mut env = Env::new(task.clone());
    env.reset(7);
    let mut expert = ExpertPolicy::for_env(&env).unwrap();
    assert_eq!(&learner.actions[..4], expert.act(&env).as_slice());
    assert_eq!(
        learner.observations[..39],
        by_expert.observations[..39],
        "same start state"
    );
    assert_ne!(
        learner.observations[39 * 5..39 * 6],
        by_expert.observations[39 * 5..39 * 6],
        "the learner drove"
    );

    // DART: the expert drives with noise; the labels stay its clean actions, the states wander,
    // and the same seed gives the same recording.
    let noisy = bc::record(&task, 0, 1, 7, bc::Driver::Expert { noise: 0.3 }, |_| {})
        .unwrap()
        .demonstrations;
    let again = bc::record(&task, 0, 1, 7, bc::Driver::Expert { noise: 0.3 }, |_| {})
        .unwrap()
        .demonstrations;
    assert_eq!(noisy.observations, again.observations);
    assert_eq!(
        &noisy.actions[..4],
        &by_expert.actions[..4],
        "labels are clean at the shared start"
    );
    assert_ne!(
        noisy.observations[39 * 5..39 * 6],
        by_expert.observations[39 * 5..39 * 6],
        "the noise moved the hand"
    );
}

#[test]
fn multi_task_policies_are_told_their_task() {
    let tasks = [reach(), drawer_close()];
    for (conditioning, sizes) in [
        (Conditioning::OneHot, [41, 32, 4]),
        (Conditioning::MultiHead, [39, 32, 8]),
    ] {
        let config = BcConfig {
            hidden: vec![32],
            steps: 30,
            batch: 64,
            demos: 2,
            conditioning,
            ..Default::default()
        };
        let policy = bc::train_tasks(&tasks, &config, |_| {}).unwrap();
        assert_eq!(policy.info.architecture.sizes, sizes);
        assert_eq!(policy.info.tasks, ["reach", "drawer-close"]);
        let mut env = Env::new(tasks[0].clone());
        env.reset(3);
        let obs = env.observation().to_vec();
        let e = policy.act_batch(&obs).unwrap_err();
        assert!(
            e.contains("acts in 2 tasks (reach, drawer-close); say which"),
            "{e}"
        );
        let e = policy.act_in(&obs, Some("push")).unwrap_err();
        assert!(
            e.contains("trained on reach, drawer-close; not on task push"),
            "{e}"
        );
        let (a, b) = (
            policy.act_in(&obs, Some("reach")).unwrap(),
            policy.act_in(&obs, Some("drawer-close")).unwrap(),
        );
        assert_eq!(a.len(), 4);
        assert_ne!(a, b, "{conditioning:?}: the task must change the action");
        let loaded = weights::load(&weights::save(&policy).unwrap(), &Device::flex()).unwrap();
        assert_eq!(loaded.info.conditioning, conditioning);
        assert_eq!(loaded.act_in(&obs, Some("drawer-close")).unwrap(), b);
        assert_eq!(evaluate(&policy, &tasks[1], 0, 2).unwrap().episodes, 2);
    }
    // Tasks of different shapes cannot share a network.
    let pendulum = Task::from_json(include_str!("../../../web/tasks/pendulum.json")).unwrap();
    let e = bc::train_tasks(&[reach(), pendulum], &BcConfig::default(), |_| {}).unwrap_err();
    assert!(
        e.contains("must share observation and action sizes: reach has 39 / 4, pendulum has 3 / 1"),
        "{e}"
    );
}

#[test]
fn bad_bc_settings_and_diverging_fits_stop_with_named_errors() {
    let config = BcConfig {
        hidden: vec![],
        steps: 0,
        batch: 0,
        learning_rate: f64::NAN,
        demos: 0,
        demo_noise: -0.5,
        dagger_rounds: 1,
        dagger_episodes: 0,
        ..Default::default()
    };
    let e = bc::train_tasks(&[reach()], &config, |_| {}).unwrap_err();
    for field in [
        "hidden:",
        "steps:",
        "batch:",
        "learning_rate:",
        "demos:",
        "demo_noise:",
        "dagger_episodes:",
    ] {
        assert!(e.contains(field), "{field} missing from: {e}");
    }
    // A non-finite label makes the loss non-finite: the fit stops at once and says so.
    let mut demos = bc::record_demonstrations(&reach(), 1, 0, |_| {}).unwrap();
    demos.actions.iter_mut().for_each(|a| *a = f32::INFINITY);
    let config = BcConfig {
        hidden: vec![8],
        steps: 10,
        batch: 4,
        ..Default::default()
    };
    let e = bc::train(&demos, vec!["reach".into()], &config, 1, |_| {}).unwrap_err();
    assert!(e.contains("diverged at gradient step 1"), "{e}");
    // Recordings that could not fit in memory are refused before any is made.
    let config = BcConfig {
        demos: 100_000,
        ..Default::default()
    };
    let e = bc::BcRun::new(&[reach(), reach()], &config).err().unwrap();
    assert!(e.contains("demos:") && e.contains("more than"), "{e}");
}

#[test]
fn weights_round_trip_with_metadata() {
    let mut policy = small_policy();
    policy.info.eval_success = Some(0.5);
    policy.info.eval_episodes = Some(10);
    let bytes = weights::save(&policy).unwrap();
    let loaded = weights::load(&bytes, &Device::flex()).unwrap();
    assert_eq!(loaded.info, policy.info);
    let obs = reach().observation.size;
    let input: Vec<f32> = (0..obs * 3).map(|i| (i as f32 * 0.37).sin()).collect();
    assert_eq!(
        loaded.act_batch(&input).unwrap(),
        policy.act_batch(&input).unwrap()
    );
    // The tensors are stored in PyTorch's Sequential layout.
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names = file.names();
    names.sort();
    assert_eq!(names, ["0.bias", "0.weight", "2.bias", "2.weight"]);
    assert_eq!(file.tensor("0.weight").unwrap().shape(), &[16, obs]);
}

#[test]
fn broken_weights_give_clear_errors() {
    let policy = small_policy();
    let good = weights::save(&policy).unwrap();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            b"not a weights file at all".to_vec(),
            "not a safetensors file",
        ),
        (good[..good.len() - 10].to_vec(), "not a safetensors file"),
        (Vec::new(), "not a safetensors file"),
    ];
    for (bytes, expected) in cases {
        let e = weights::load(&bytes, &Device::flex())
            .unwrap_err()
            .to_string();
        assert!(e.contains(expected), "{e}");
    }
    // A file with a wrong shape for one tensor.
    let mut info = policy.info.clone();
    info.architecture.sizes[1] = 17;
    let (net, _, device) = small_policy().into_parts();
    let bad = weights::save(&polyskill_learn::Policy::new(net, info, device)).unwrap();
    let e = weights::load(&bad, &Device::flex())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("tensor \"0.weight\" has shape [16, 39]; the architecture needs [17, 39]"),
        "{e}"
    );
    // A safetensors file without our metadata.
    let data = vec![0u8; 8];
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![2], &data).unwrap();
    let plain = safetensors::serialize([("x", view)], None).unwrap();
    let e = weights::load(&plain, &Device::flex())
        .unwrap_err()
        .to_string();
    assert!(e.contains("no __metadata__"), "{e}");
}

/// Every shipped policy, re-evaluated on all the seeds its metadata records (0..100 per task),
/// scores exactly the success it recorded: evaluation is deterministic (seeded episodes, greedy
/// actions, bit-reproducible physics), so any difference means the weights, the dynamics or a
/// task changed. After an intended change, `polyskill reevaluate web/weights/*.safetensors`
/// rewrites the figures (keeping the old ones in the metadata) and the docs follow from them.
#[test]
fn every_shipped_policy_scores_exactly_its_recorded_success() {
    let web = &format!("{}/web", repo_root());
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{web}/policies.json")).unwrap())
            .unwrap();
    let names: Vec<String> = index["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    // Two threads share the policies (about a minute of episodes in all).
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mismatches = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(name) = names.get(i) else { break };
                    let policy = weights::load(
                        &std::fs::read(format!("{web}/weights/{name}.safetensors")).unwrap(),
                        &Device::flex(),
                    )
                    .unwrap();
                    let episodes = policy.info.eval_episodes.unwrap();
                    assert_eq!(episodes, 100, "{name}");
                    let recorded = &policy.info.training["eval_success_per_task"];
                    for task_id in &policy.info.tasks {
                        let task = Task::from_json(
                            &std::fs::read_to_string(format!("{web}/tasks/{task_id}.json"))
                                .unwrap(),
                        )
                        .unwrap();
                        let expected = recorded[task_id]
                            .as_f64()
                            .unwrap_or_else(|| panic!("{name}: no recorded success for {task_id}"))
                            as f32;
                        let measured = evaluate(&policy, &task, 0, episodes).unwrap().success_rate;
                        if measured != expected {
                            mismatches.lock().unwrap().push(format!(
                                "{name} on {task_id}: {measured} on seeds 0..{episodes}, recorded {expected}"
                            ));
                        }
                    }
                }
            });
        }
    });
    let mismatches = mismatches.into_inner().unwrap();
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

#[test]
fn policy_index_lists_every_shipped_weights_file_with_its_tasks() {
    let web = &format!("{}/web", repo_root());
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{web}/policies.json")).unwrap())
            .unwrap();
    let mut listed = Vec::new();
    for p in index["policies"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap();
        let bytes = std::fs::read(format!("{web}/weights/{name}.safetensors")).unwrap();
        let info = weights::read_info(&bytes).unwrap();
        let tasks: Vec<String> = p["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            info.tasks, tasks,
            "{name}: web/policies.json and the file's metadata disagree"
        );
        // `cargo xtask pretrain` regenerates the file with these arguments.
        let train: Vec<&str> = p["train"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        // `polyskill train ALGO --task …`, ALGO the algorithm the file says trained it.
        assert!(
            polyskill_learn::algos::Algorithm::parse(train[0]).is_ok() && train.contains(&"--task"),
            "{name}: train arguments {train:?}"
        );
        // SAC on several tasks records itself as MT-SAC.
        let recorded = info.training["algorithm"].as_str().unwrap_or_default();
        assert!(
            recorded == train[0] || recorded == format!("mt-{}", train[0]),
            "{name}: web/policies.json says {}, the file's metadata {recorded}",
            train[0]
        );
        listed.push(name.to_string());
    }
    let mut files: Vec<String> = std::fs::read_dir(format!("{web}/weights"))
        .unwrap()
        .filter_map(|e| e.ok()?.path().file_stem()?.to_str().map(String::from))
        .collect();
    files.sort();
    listed.sort();
    assert_eq!(
        listed, files,
        "web/policies.json must list every file in web/weights/"
    );
}

/// The repository root, read at run time (`cargo test` sets `CARGO_MANIFEST_DIR`): a test
/// binary built from another clone sharing the target directory must not read that clone.
fn repo_root() -> String {
    std::env::var("CARGO_MANIFEST_DIR").expect("run through cargo test") + "/../.."
}

/// One worker's side of a data-parallel fit between threads: a slot per worker and a barrier.
struct ThreadExchange {
    index: usize,
    slots: std::sync::Arc<(std::sync::Mutex<Vec<Vec<f32>>>, std::sync::Barrier)>,
}

impl polyskill_learn::parallel::AllReduce for ThreadExchange {
    fn index(&self) -> usize {
        self.index
    }
    fn workers(&self) -> usize {
        self.slots.0.lock().unwrap().len()
    }
    fn sum(&mut self, values: &mut [f32]) -> Result<(), String> {
        let (slots, barrier) = &*self.slots;
        slots.lock().unwrap()[self.index] = values.to_vec();
        barrier.wait();
        let all = slots.lock().unwrap().clone();
        // Nobody writes the next step's slot before everyone has read this one.
        barrier.wait();
        values.fill(0.0);
        for slot in &all {
            values.iter_mut().zip(slot).for_each(|(v, s)| *v += s);
        }
        Ok(())
    }
}

/// Runs `work` on two threads, as workers 0 and 1 of one [`ThreadExchange`]; their results
/// in worker order.
fn on_two_threads<T: Send>(work: impl Fn(ThreadExchange) -> T + Sync) -> Vec<T> {
    let slots = std::sync::Arc::new((
        std::sync::Mutex::new(vec![Vec::new(); 2]),
        std::sync::Barrier::new(2),
    ));
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|index| {
                let exchange = ThreadExchange {
                    index,
                    slots: slots.clone(),
                };
                let work = &work;
                scope.spawn(move || work(exchange))
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    })
}

/// Two workers each computing half of every minibatch report the same losses as one worker
/// computing all of it, end with bit-identical weights, and those weights are the
/// one-worker fit's up to rounding.
#[test]
fn a_fit_split_over_two_workers_matches_one_worker() {
    let demos = bc::record_demonstrations(&reach(), 2, 0, |_| {}).unwrap();
    let config = BcConfig {
        hidden: vec![32, 32],
        steps: 30,
        batch: 64,
        seed: 4,
        ..Default::default()
    };
    let fit = |exchange: Option<&mut dyn polyskill_learn::parallel::AllReduce>| {
        let mut losses = Vec::new();
        let policy = bc::train_shared(&demos, vec!["reach".into()], &config, 1, exchange, |p| {
            losses.push(p.loss)
        })
        .unwrap();
        (
            polyskill_learn::FastMlp::from_mlp(policy.net().as_mlp().unwrap())
                .unwrap()
                .params,
            losses,
        )
    };
    let (one, one_losses) = fit(None);
    let split = on_two_threads(|mut exchange| fit(Some(&mut exchange)));
    assert!(
        split[0].0 == split[1].0,
        "the two workers hold different weights"
    );
    assert_eq!(split[0].1.len(), one_losses.len());
    for (step, (a, b)) in split[0].1.iter().zip(&one_losses).enumerate() {
        assert!(
            (a - b).abs() <= 1e-5 * b.abs().max(1.0),
            "step {step}: loss {a} split, {b} whole"
        );
    }
    let (mut largest, mut differing) = (0.0f32, 0);
    for (a, b) in split[0].0.iter().flatten().zip(one.iter().flatten()) {
        largest = largest.max((a - b).abs());
        differing += (a != b) as usize;
    }
    assert!(
        largest < 1e-4,
        "weights differ from the one-worker fit's by up to {largest}"
    );
    assert!(
        differing > 0,
        "the split fit adds in another order, so some bits differ"
    );
}

/// A whole BC run (two tasks, a DAgger round, an odd number of episodes per round) split
/// over two workers that record half the episodes each: both gather the expert's
/// demonstrations exactly as one worker alone records them, in the same order, and the same
/// DAgger episodes as each other (their learners are equal; one worker's differs in rounding);
/// the shared evaluation equals one worker evaluating every seed; both end with the same weights.
#[test]
fn a_bc_run_split_over_two_workers_gathers_what_one_worker_records() {
    let tasks = vec![
        reach(),
        Task::from_json(include_str!("../../../web/tasks/push.json")).unwrap(),
    ];
    let config = BcConfig {
        hidden: vec![16],
        steps: 40,
        batch: 32,
        demos: 3,
        dagger_rounds: 1,
        dagger_episodes: 3,
        seed: 2,
        ..Default::default()
    };
    let run = |exchange: Option<ThreadExchange>| {
        let mut run = bc::BcRun::new(&tasks, &config).unwrap();
        if let Some(exchange) = exchange {
            run.split_between_workers(Box::new(exchange));
        }
        let mut dagger_success = Vec::new();
        while let Some(p) = run.advance().unwrap() {
            dagger_success.push(p.learner_success);
        }
        let evaluation = run.evaluate(&tasks[1], 0, 5).unwrap();
        let policy = run.policy().unwrap();
        assert_eq!(
            evaluation,
            evaluate(&policy, &tasks[1], 0, 5).unwrap(),
            "shared and lone evaluations differ"
        );
        let params = polyskill_learn::FastMlp::from_mlp(policy.net().as_mlp().unwrap())
            .unwrap()
            .params;
        (
            run.demonstrations().clone(),
            dagger_success.into_iter().flatten().last(),
            params,
        )
    };
    let one = run(None);
    let split = on_two_threads(|exchange| run(Some(exchange)));
    let expert_rows = 2 * 3 * 500;
    assert_eq!(
        one.0.len(),
        2 * expert_rows,
        "both rounds' episodes of both tasks"
    );
    let (o, a) = (one.0.obs_dim, one.0.act_dim);
    for (worker, (demos, dagger, params)) in split.iter().enumerate() {
        assert_eq!(demos.len(), one.0.len(), "worker {worker}");
        assert!(
            demos.observations[..expert_rows * o] == one.0.observations[..expert_rows * o],
            "worker {worker}: observations differ"
        );
        assert!(
            demos.actions[..expert_rows * a] == one.0.actions[..expert_rows * a],
            "worker {worker}: labels differ"
        );
        assert_eq!(demos.task_indices, one.0.task_indices, "worker {worker}");
        assert!(
            dagger.is_some(),
            "worker {worker}: no DAgger success reported"
        );
        let largest = params
            .iter()
            .flatten()
            .zip(one.2.iter().flatten())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(
            largest < 1e-3,
            "worker {worker}: weights differ from one worker's by up to {largest}"
        );
    }
    assert!(
        split[0].0.observations == split[1].0.observations,
        "the workers gathered different DAgger episodes"
    );
    assert_eq!(
        split[0].1, split[1].1,
        "the workers report different DAgger success"
    );
    assert!(
        split[0].2 == split[1].2,
        "the two workers hold different weights"
    );
}

/// Behaviour cloning of a discrete expert: cross-entropy on the expert's choices gives a
/// categorical policy that balances the pole; blind to the task, one network cannot clone
/// both cart-pole and its twin with the choices listed the other way round, while the task
/// one-hot (pooled, or through PCGrad) can.
#[test]
fn bc_clones_a_discrete_expert_and_the_task_input_resolves_mirrored_choices() {
    let config = BcConfig {
        hidden: vec![32],
        demos: 10,
        steps: 1500,
        batch: 64,
        learning_rate: 3e-3,
        seed: 1,
        ..Default::default()
    };
    let task = common::cart_pole();
    let mut losses = Vec::new();
    let policy = bc::train_tasks(std::slice::from_ref(&task), &config, |p| {
        if p.loss.is_finite() {
            losses.push(p.loss)
        }
    })
    .unwrap();
    assert_eq!(policy.info.architecture.output, "categorical");
    assert_eq!(policy.action_size(), 1);
    let (first, last) = (losses[0], *losses.last().unwrap());
    assert!(last < first * 0.5, "cross-entropy {first} -> {last}");
    let alone = evaluate(&policy, &task, 0, 10).unwrap().success_rate;
    assert!(alone >= 0.8, "cart-pole alone: {alone}");

    let pair = [common::cart_pole(), common::cart_pole_swapped()];
    let success = |config: &BcConfig| -> Vec<f32> {
        let policy = bc::train_tasks(&pair, config, |_| {}).unwrap();
        pair.iter()
            .map(|t| evaluate(&policy, t, 0, 10).unwrap().success_rate)
            .collect()
    };
    let blind = success(&BcConfig {
        conditioning: Conditioning::None,
        ..config.clone()
    });
    assert!(
        blind.iter().sum::<f32>() / 2.0 <= 0.6,
        "blind to the task, both twins still succeed: {blind:?}"
    );
    for (what, combiner) in [("pooled one-hot", None), ("PCGrad", Some("pcgrad"))] {
        let told = success(&BcConfig {
            conditioning: Conditioning::OneHot,
            combiner: combiner.map(|c| polyskill_learn::multitask::CombinerConfig {
                kind: polyskill_learn::multitask::CombinerKind::parse(c).unwrap(),
                ..Default::default()
            }),
            ..config.clone()
        });
        assert!(
            told.iter().all(|s| *s >= 0.8),
            "{what}: told the task, success {told:?}"
        );
    }
}
