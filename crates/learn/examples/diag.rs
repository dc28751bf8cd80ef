use polyskill_learn::{Device, weights};
use polyskill_sim::task::Task;
use polyskill_sim::{Env, ExpertPolicy};
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let task = Task::from_json(&std::fs::read_to_string(&args[1]).unwrap()).unwrap();
    let policy = weights::load(&std::fs::read(&args[2]).unwrap(), &Device::flex()).unwrap();
    let mut env = Env::new(task.clone());
    env.reset(0);
    let mut expert = ExpertPolicy::for_env(&env).unwrap();
    for t in 0..300 {
        let o = env.observation().to_vec();
        let e = expert.act(&env);
        let a = policy.act_in(&o, Some(&task.id)).unwrap();
        if t % 5 == 0 {
            println!("{t:3} hand {:6.3} {:6.3} {:6.3} grip {:5.3} obj {:6.3} {:6.3} {:6.3} | expert {:5.2} {:5.2} {:5.2} {:5.2} | learner {:5.2} {:5.2} {:5.2} {:5.2}",
                o[0], o[1], o[2], o[3], o[4], o[5], o[6], e[0], e[1], e[2], e[3], a[0], a[1], a[2], a[3]);
        }
        env.step(&a).unwrap();
    }
}
