//! Settings by name (`polyskill_learn::settings`), the one mapping the CLI, the page's
//! `Trainer` and comparison specs use: defaults from the configuration types, settings laid
//! over them, every bad setting named.

use polyskill_learn::TrainConfig;
use polyskill_learn::algos::Algorithm;
use polyskill_learn::algos::grpo::Baseline;
use polyskill_learn::multitask::CombinerKind;
use polyskill_learn::settings::{browser_preset, parse_settings};
use polyskill_sim::task::Task;
use serde_json::{Map, Value, json};

fn task(name: &str) -> Task {
    let path = format!("{}/../../web/tasks/{name}.json", env!("CARGO_MANIFEST_DIR"));
    Task::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn settings(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

#[test]
fn defaults_come_from_the_configuration_types_and_depend_on_the_action_space_for_ppo() {
    let cart_pole = TrainConfig::defaults(Algorithm::Ppo, &[task("cart-pole")]).to_json();
    let pendulum = TrainConfig::defaults(Algorithm::Ppo, &[task("pendulum")]).to_json();
    assert_eq!(cart_pole["learning_rate"], json!(2.5e-3));
    assert_eq!(pendulum["learning_rate"], json!(1e-3));
    assert_eq!(pendulum["total_steps"], json!(1_000_000));
    let bc = TrainConfig::defaults(Algorithm::Bc, &[]).to_json();
    assert_eq!(
        (bc["steps"].clone(), bc["demos"].clone()),
        (json!(3000), json!(40))
    );
    assert_eq!(bc["conditioning"], json!("one-hot"), "as SAC's");
    let TrainConfig::Grpo(rloo) = TrainConfig::defaults(Algorithm::Rloo, &[]) else {
        panic!("RLOO is configured as GRPO with its baseline")
    };
    assert_eq!(rloo.baseline, Baseline::Rloo);
    assert_eq!(
        TrainConfig::defaults(Algorithm::Rloo, &[]).algorithm(),
        Algorithm::Rloo
    );
}

#[test]
fn settings_are_laid_over_the_defaults_and_a_combiner_by_name_gets_the_run_seed() {
    let tasks = [task("reach"), task("push")];
    let config = TrainConfig::with_settings(
        Algorithm::Sac,
        &tasks,
        &settings(json!({"hidden": [32, 32], "combiner": "pcgrad", "seed": 7})),
    )
    .unwrap();
    let TrainConfig::Sac(sac) = &config else {
        panic!("{config:?}")
    };
    assert_eq!(sac.hidden, [32, 32]);
    assert_eq!(sac.batch, 256, "untouched settings keep their defaults");
    let combiner = sac.combiner.as_ref().unwrap();
    assert_eq!((combiner.kind, combiner.seed), (CombinerKind::Pcgrad, 7));
    assert_eq!(config.seed(), 7);
    assert_eq!(config.budget(), 300_000);
}

#[test]
fn every_bad_setting_is_named() {
    let tasks = [task("reach"), task("push")];
    let error = |algorithm, value: Value| {
        TrainConfig::with_settings(algorithm, &tasks, &settings(value)).unwrap_err()
    };
    let e = error(Algorithm::Sac, json!({"lr": 0.1}));
    assert!(
        e.starts_with("settings.lr: not a setting of this algorithm; its settings are")
            && e.contains("policy_lr"),
        "{e}"
    );
    let e = error(Algorithm::Bc, json!({"hidden": [32, "wide"]}));
    assert!(
        e.starts_with("settings.hidden[1]: invalid type: string"),
        "{e}"
    );
    let e = error(Algorithm::Bc, json!({"combiner": "pc-grad"}));
    assert!(
        e.starts_with("settings.combiner: ") && e.contains("pcgrad"),
        "{e}"
    );
    let e = error(Algorithm::Ppo, json!({"architecture": "transformer"}));
    assert!(
        e.starts_with("settings.architecture: ") && e.contains("soft-modular"),
        "{e}"
    );
    let e = error(Algorithm::Grpo, json!({"baseline": "rloo"}));
    assert!(e.contains("chosen by the algorithm's name"), "{e}");
    // Ranges are the configuration's own check, when the run starts.
    let config =
        TrainConfig::with_settings(Algorithm::Bc, &tasks, &settings(json!({"demo_noise": 3})))
            .unwrap();
    let Err(e) = config.start(&tasks) else {
        panic!("noise 3 accepted")
    };
    assert!(e.contains("demo_noise: must be in [0, 1]"), "{e}");
    assert!(
        parse_settings("[1]")
            .unwrap_err()
            .contains("expected a JSON object")
    );
    assert!(parse_settings("{").unwrap_err().starts_with("settings: "));
    assert!(parse_settings("  ").unwrap().is_empty());
}

#[test]
fn multi_task_settings_for_one_task_are_refused_not_ignored() {
    let one = [task("reach")];
    for value in [
        json!({"combiner": "pcgrad"}),
        json!({"architecture": "moe"}),
        json!({"task_sam": 0.05}),
    ] {
        let e =
            TrainConfig::with_settings(Algorithm::Bc, &one, &settings(value.clone())).unwrap_err();
        assert!(
            e.contains("are for multi-task runs; this run trains one task (reach)"),
            "{value}: {e}"
        );
    }
    // The plain MLP named explicitly is fine.
    assert!(
        TrainConfig::with_settings(
            Algorithm::Bc,
            &one,
            &settings(json!({"architecture": "mlp"}))
        )
        .is_ok()
    );
}

#[test]
fn the_page_preset_sets_a_tab_budget_and_yields_to_the_pages_own_settings() {
    let mt = [task("reach"), task("push")];
    assert_eq!(
        browser_preset(Algorithm::Bc, &mt)["conditioning"],
        json!("multi-head")
    );
    let TrainConfig::Bc(bc) = TrainConfig::in_browser(Algorithm::Bc, &mt, &Map::new()).unwrap()
    else {
        panic!()
    };
    assert_eq!((bc.demos, bc.steps, bc.demo_noise), (30, 4000, 0.0));
    assert_eq!(bc.conditioning, polyskill_learn::Conditioning::MultiHead);
    // A task-aware architecture reads a one-hot input: the preset's multi-head steps aside.
    let TrainConfig::Bc(moe) = TrainConfig::in_browser(
        Algorithm::Bc,
        &mt,
        &settings(json!({"architecture": "moe"})),
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(moe.conditioning, polyskill_learn::Conditioning::OneHot);
    assert!(TrainConfig::Bc(moe).start(&mt).is_ok());
    let TrainConfig::Sac(sac) = TrainConfig::in_browser(
        Algorithm::Sac,
        &[task("reach")],
        &settings(json!({"total_steps": 5000})),
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!((sac.hidden, sac.steps_per_iteration), (vec![128, 128], 200));
    assert_eq!(sac.total_steps, 5000, "the page's own setting wins");
}
