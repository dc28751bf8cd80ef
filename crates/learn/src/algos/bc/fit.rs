//! The network being fitted ([`Learner`]): minibatches, each task's loss and gradient, the
//! multi-task seam or the pooled loss, task-SAM and Rep-MTL, and the Adam step.

use super::{BcConfig, Demonstrations, Engine, observation_statistics};
use crate::multitask::rep_mtl::saliency_penalty;
use crate::multitask::{MultiTaskStep, gather_rows, shared_except, task_sam};
use crate::nets::fused::{Adam, FastMlp};
use crate::nets::mlp::{Mlp, seeded_init};
use crate::nets::{ArchitectureKind, BurnNet, NetTrace, TrainNet};
use crate::parallel::{AllReduce, shard_rows};
use crate::policy::{Architecture, Conditioning, PolicyInfo};
use crate::record::TaskRecord;
use crate::{Policy, normalise};
use burn::tensor::Device;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A network being fitted: weights, optimiser state, minibatch sampler, description.
pub(super) struct Learner {
    pub(super) net: TrainNet,
    pub(super) adam: Adam,
    pub(super) rng: ChaCha8Rng,
    pub(super) info: PolicyInfo,
    pub(super) steps_done: u32,
    pub(super) last_loss: f32,
    /// Each task's loss at the last step (NaN for a task without rows in it).
    pub(super) task_losses: Vec<f32>,
    /// The multi-task seam, when the fit combines per-task gradients.
    pub(super) multitask: Option<MultiTaskStep>,
}

impl Learner {
    /// A fresh network for `tasks` whose observations are normalised by `demos`' statistics.
    pub(super) fn new(
        demos: &Demonstrations,
        tasks: Vec<String>,
        config: &BcConfig,
    ) -> Result<Learner, String> {
        let (obs_mean, obs_std) = observation_statistics(demos);
        let mut info = PolicyInfo {
            architecture: Architecture::mlp(&[]),
            tasks: tasks.clone(),
            // One task needs no telling which; a task-aware architecture reads the one-hot.
            conditioning: match tasks.len() {
                0 | 1 => Conditioning::None,
                _ if config.architecture.task_aware() => Conditioning::OneHot,
                _ => config.conditioning,
            },
            obs_mean,
            obs_std,
            training: serde_json::Value::Null,
            eval_success: None,
            eval_episodes: None,
        };
        let mut sizes = vec![demos.obs_dim + info.task_inputs()];
        sizes.extend(&config.hidden);
        sizes.push(head_width(demos) * info.heads());
        info.architecture = Architecture {
            experts: config.experts,
            top_k: config.top_k,
            ..Architecture::of(config.architecture, &sizes)
        };
        let categorical = demos.choices > 0;
        if categorical {
            if config.rep_mtl.is_some() {
                return Err("BC settings: rep_mtl regularises squared-error fits of continuous actions; this task picks discrete choices (drop rep_mtl)".into());
            }
            // The network gives each choice's logit; the policy acts by the largest.
            info.architecture.output = "categorical".into();
        }
        let net = if config.architecture == ArchitectureKind::Mlp && config.engine == Engine::Fused
        {
            // burn's default initialisation (Kaiming-uniform), seeded, then to the fused network.
            let net = seeded_init(config.seed, |device| {
                FastMlp::from_mlp(&Mlp::init(&sizes, device))
            })?;
            TrainNet::Fused {
                net,
                tanh_hidden: false,
                tanh_output: !categorical,
            }
        } else {
            TrainNet::Burn(BurnNet::init(
                &info.architecture,
                info.task_inputs(),
                config.seed,
            )?)
        };
        let adam = Adam::new(net.params(), 1e-8);
        let t = tasks.len();
        let multitask = match &config.combiner {
            Some(combiner) if t > 1 => {
                let shared = task_specific_outputs(&net, &info);
                Some(MultiTaskStep::new(combiner, t, shared)?)
            }
            _ => None,
        };
        Ok(Learner {
            net,
            adam,
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            info,
            steps_done: 0,
            last_loss: f32::NAN,
            task_losses: vec![f32::NAN; t],
            multitask,
        })
    }

    /// Per-task figures of the last step (empty for one task).
    pub(super) fn task_records(&self) -> Vec<TaskRecord> {
        if self.info.tasks.len() < 2 || self.steps_done == 0 {
            return Vec::new();
        }
        let weights = self.multitask.as_ref().map(|m| m.last_weights());
        self.info
            .tasks
            .iter()
            .enumerate()
            .map(|(t, id)| TaskRecord {
                task: id.clone(),
                episodes: 0,
                mean_return: None,
                success_rate: None,
                loss: Some(self.task_losses[t]).filter(|l| l.is_finite()),
                weight: weights.map(|w| w[t]),
                alpha: None,
            })
            .collect()
    }

    /// The current network as a policy.
    pub(super) fn policy(&self) -> Policy {
        let device = Device::flex();
        Policy::new(self.net.network(&device), self.info.clone(), device)
    }

    /// `steps` Adam steps of the imitation loss ([`label_loss`]: squared error, or
    /// cross-entropy in a discrete task) on minibatches drawn from `demos`, the first
    /// being step `first_step` of the fit's `config.steps` (for the learning-rate schedule);
    /// `report` gets the loss every `report_every` steps. With an `exchange`, this worker
    /// computes only its share of each minibatch's rows and the exchange sums the gradients.
    /// Stops with an error, before applying it, at the first update whose loss or gradients
    /// are not finite.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn fit(
        &mut self,
        demos: &Demonstrations,
        config: &BcConfig,
        first_step: u32,
        steps: u32,
        report_every: u32,
        mut exchange: Option<&mut (dyn AllReduce + '_)>,
        mut report: impl FnMut(&mut Learner),
    ) -> Result<(), String> {
        let (d, a, n) = (demos.obs_dim, demos.act_dim, demos.len());
        let normalised = normalise(&demos.observations, &self.info.obs_mean, &self.info.obs_std);
        let (extra, multi_head) = (
            self.info.task_inputs(),
            self.info.conditioning == Conditioning::MultiHead,
        );
        let width = head_width(demos) * self.info.heads();
        let scale = 1.0 / (config.batch * a) as f32;
        let mine = match &exchange {
            Some(e) => shard_rows(config.batch, e.index(), e.workers()),
            None => 0..config.batch,
        };
        if exchange.is_some() && self.multitask.is_some() {
            return Err("a behaviour-cloning run with a combiner cannot be split between workers (each worker would combine only its own rows)".into());
        }
        let mut x = Vec::with_capacity(config.batch * (d + extra));
        let mut rows = Vec::with_capacity(config.batch);
        let mut flat = Vec::new();
        for step in first_step..first_step + steps {
            x.clear();
            rows.clear();
            // Every worker draws the whole minibatch, so the samplers stay in step.
            for b in 0..config.batch {
                let i = self.rng.random_range(0..n);
                if mine.contains(&b) {
                    rows.push(i);
                    x.extend_from_slice(&normalised[i * d..(i + 1) * d]);
                    x.extend(
                        (0..extra).map(|t| (t == demos.task_indices[i] as usize) as u8 as f32),
                    );
                }
            }
            let tasks = self.task_losses.len();
            let one_pass = matches!(self.net, TrainNet::Fused { .. }) && config.task_sam.is_none();
            let (mut loss, mut grads) = match self.multitask.as_mut() {
                // The fused MLP's one pass: the tasks' Gram matrix from the per-row deltas (no
                // per-task gradient formed), then one weighted gradient; equal to the per-task
                // path below (a test checks it against burn's per-task backward passes).
                Some(step) if one_pass => {
                    let TrainNet::Fused {
                        net,
                        tanh_hidden,
                        tanh_output,
                    } = &self.net
                    else {
                        unreachable!("one_pass is the fused MLP")
                    };
                    let task_of: Vec<usize> = rows
                        .iter()
                        .map(|&i| demos.task_indices[i] as usize)
                        .collect();
                    let mut counts = vec![0usize; tasks];
                    task_of.iter().for_each(|&t| counts[t] += 1);
                    let present: Vec<usize> = (0..tasks).filter(|&t| counts[t] > 0).collect();
                    let mut place = vec![0usize; tasks];
                    present.iter().enumerate().for_each(|(p, &t)| place[t] = p);
                    let trace = net.trace(&x, *tanh_hidden, *tanh_output);
                    let all: Vec<usize> = (0..rows.len()).collect();
                    // Each row's gradient as part of its task's mean loss.
                    let (sum, mut grad) =
                        label_loss(trace.output(), &all, &rows, demos, width, multi_head, 1.0);
                    for (b, g) in grad.chunks_exact_mut(width).enumerate() {
                        let n = (counts[task_of[b]] * a) as f32;
                        g.iter_mut().for_each(|v| *v /= n);
                    }
                    self.task_losses =
                        task_means(trace.output(), &rows, demos, width, multi_head, tasks);
                    let deltas = net.deltas(&trace, &grad, *tanh_hidden, *tanh_output);
                    let lists = step.shared_lists(net.params.len());
                    let shared: Vec<bool> =
                        (0..net.sizes.len() - 1).map(|k| lists[2 * k]).collect();
                    let row_place: Vec<usize> = task_of.iter().map(|&t| place[t]).collect();
                    let gram = net.task_gram(&trace, &deltas, &row_place, present.len(), &shared);
                    let weights = step.weigh(&gram, &present, &self.task_losses)?;
                    let row_weight: Vec<f32> = row_place.iter().map(|&p| weights[p]).collect();
                    (
                        sum / (config.batch * a) as f32,
                        net.weighted_gradients(&trace, &deltas, &row_weight, &shared),
                    )
                }
                // Each task's mean loss over its own rows, backpropagated alone on those rows
                // (the same arithmetic as one pass over the minibatch, in T smaller products),
                // then combined.
                Some(step) => {
                    let input = d + extra;
                    let mut total = 0.0f32;
                    let mut per_task = Vec::with_capacity(tasks);
                    for t in 0..tasks {
                        let mine: Vec<usize> = (0..rows.len())
                            .filter(|&b| demos.task_indices[rows[b]] as usize == t)
                            .collect();
                        if mine.is_empty() {
                            self.task_losses[t] = f32::NAN;
                            per_task.push(None);
                            continue;
                        }
                        let xt = gather_rows(&x, input, &mine);
                        // The task's summed squared error and its gradient at `net`'s weights.
                        let task_gradient =
                            |net: &TrainNet| -> Result<(f32, Vec<Vec<f32>>), String> {
                                let trace = net.trace(&xt)?;
                                let (sum, grad) = label_loss(
                                    trace.output(),
                                    &mine,
                                    &rows,
                                    demos,
                                    width,
                                    multi_head,
                                    1.0 / (mine.len() * a) as f32,
                                );
                                Ok((sum, net.backward(trace, &grad)?))
                            };
                        let (sum, mut g) = task_gradient(&self.net)?;
                        total += sum;
                        self.task_losses[t] = sum / (mine.len() * a) as f32;
                        // Task-based flat regions (multitask::task_sam): the task's gradient
                        // taken at θ + ρ gₜ/‖gₜ‖, on the same rows.
                        if let Some(rho) = config.task_sam
                            && let Some(shift) = task_sam::ascent(&g, rho)
                        {
                            g = self
                                .net
                                .at_shifted(&shift, |net| task_gradient(net).map(|(_, g)| g))?;
                        }
                        per_task.push(Some(g));
                    }
                    (
                        total / (config.batch * a) as f32,
                        step.combine(&per_task, &self.task_losses)?,
                    )
                }
                None => {
                    let trace = self.net.trace(&x)?;
                    let all: Vec<usize> = (0..rows.len()).collect();
                    let (sum, mut grad) =
                        label_loss(trace.output(), &all, &rows, demos, width, multi_head, scale);
                    if tasks > 1 {
                        self.task_losses =
                            task_means(trace.output(), &rows, demos, width, multi_head, tasks);
                    }
                    let rep_mtl = match (config.rep_mtl, &self.net, &trace) {
                        (
                            Some(lambda),
                            TrainNet::Fused {
                                net, tanh_output, ..
                            },
                            NetTrace::Fused(fused),
                        ) if tasks > 1 => {
                            let task_of: Vec<usize> = rows
                                .iter()
                                .map(|&i| demos.task_indices[i] as usize)
                                .collect();
                            let (gradient, curvature) = task_mean_gradients(
                                trace.output(),
                                &rows,
                                demos,
                                width,
                                multi_head,
                                &task_of,
                                tasks,
                            );
                            let penalty = saliency_penalty(
                                net,
                                fused,
                                &gradient,
                                &curvature,
                                &task_of,
                                tasks,
                                *tanh_output,
                            );
                            grad.iter_mut()
                                .zip(&penalty.output_gradient)
                                .for_each(|(g, p)| *g += lambda * p);
                            Some((lambda, penalty.weight_gradient))
                        }
                        _ => None,
                    };
                    let mut grads = self.net.backward(trace, &grad)?;
                    if let Some((lambda, weight)) = rep_mtl {
                        let last = grads.len() - 2;
                        grads[last]
                            .iter_mut()
                            .zip(&weight)
                            .for_each(|(g, w)| *g += lambda * w);
                    }
                    (sum / (config.batch * a) as f32, grads)
                }
            };
            if let Some(exchange) = exchange.as_deref_mut() {
                flat.clear();
                grads.iter().for_each(|g| flat.extend_from_slice(g));
                flat.push(loss);
                exchange.sum(&mut flat)?;
                let mut at = 0;
                for g in &mut grads {
                    let len = g.len();
                    g.copy_from_slice(&flat[at..at + len]);
                    at += len;
                }
                loss = flat[at];
            }
            self.steps_done += 1;
            if !loss.is_finite() || !crate::nets::fused::all_finite(&grads) {
                return Err(format!(
                    "behaviour cloning diverged at gradient step {} (loss {loss}); stopped before the weights \
                     became non-finite; try a learning_rate below {}",
                    self.steps_done, config.learning_rate
                ));
            }
            let remaining = if config.anneal_lr {
                1.0 - step as f32 / config.steps.max(1) as f32
            } else {
                1.0
            };
            let adam = &mut self.adam;
            self.net.update(|params| {
                adam.step(
                    params,
                    &grads,
                    config.learning_rate as f32 * remaining.max(0.0),
                )
            })?;
            self.last_loss = loss;
            if self.steps_done == 1 || self.steps_done.is_multiple_of(report_every.max(1)) {
                report(self);
            }
        }
        Ok(())
    }
}

/// Outputs of one task head: the action's components, or a discrete task's choices' logits.
pub(super) fn head_width(demos: &Demonstrations) -> usize {
    if demos.choices > 0 {
        demos.choices
    } else {
        demos.act_dim
    }
}

/// The imitation loss of the network outputs `out` (rows `picked[k]` of the minibatch, whose
/// demonstration rows are `rows`) against the expert's labels, summed over the rows, and its
/// gradient with respect to the outputs times `scale`. Continuous actions: squared error,
/// `(Σ diff², scale · 2 diff)`. A discrete task: softmax cross-entropy of the logits against
/// the expert's choice, `(Σ −log pᵢ[label], scale · (pᵢ − onehot(label)))` (the
/// classification loss of behaviour cloning; Pomerleau 1989, Ross et al. 2011). A
/// multi-head network is scored on each row's task head.
pub(super) fn label_loss(
    out: &[f32],
    picked: &[usize],
    rows: &[usize],
    demos: &Demonstrations,
    width: usize,
    multi_head: bool,
    scale: f32,
) -> (f32, Vec<f32>) {
    let (a, h) = (demos.act_dim, head_width(demos));
    let mut grad = vec![0.0f32; out.len()];
    let mut sum = 0.0f32;
    for (k, &b) in picked.iter().enumerate() {
        let i = rows[b];
        let head = if multi_head {
            demos.task_indices[i] as usize * h
        } else {
            0
        };
        let at = k * width + head;
        if demos.choices > 0 {
            let logits = &out[at..at + h];
            let label = (demos.actions[i * a] as usize).min(h - 1);
            let top = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let total: f32 = logits.iter().map(|z| (z - top).exp()).sum();
            sum += top + total.ln() - logits[label];
            for (j, z) in logits.iter().enumerate() {
                let p = (z - top).exp() / total;
                grad[at + j] = scale * (p - (j == label) as u8 as f32);
            }
            continue;
        }
        for j in 0..a {
            let diff = out[at + j] - demos.actions[i * a + j];
            sum += diff * diff;
            grad[at + j] = scale * 2.0 * diff;
        }
    }
    (sum, grad)
}

/// Each task's mean imitation loss ([`label_loss`]) over its rows of a pooled minibatch (NaN
/// for a task without rows).
pub(super) fn task_means(
    out: &[f32],
    rows: &[usize],
    demos: &Demonstrations,
    width: usize,
    multi_head: bool,
    tasks: usize,
) -> Vec<f32> {
    let a = demos.act_dim;
    let (mut sums, mut counts) = (vec![0.0f32; tasks], vec![0usize; tasks]);
    for (b, &i) in rows.iter().enumerate() {
        let t = demos.task_indices[i] as usize;
        if t < tasks {
            let (e, _) = label_loss(
                &out[b * width..(b + 1) * width],
                &[0],
                &[i],
                demos,
                width,
                multi_head,
                0.0,
            );
            sums[t] += e;
            counts[t] += 1;
        }
    }
    sums.iter()
        .zip(&counts)
        .map(|(s, &c)| if c > 0 { s / (c * a) as f32 } else { f32::NAN })
        .collect()
}

/// Each row's gradient of its own task's mean squared error with respect to the outputs, and
/// that loss's diagonal second derivative (`2/(nₜ·A)` on the outputs the row is scored on, 0
/// on other heads): what Rep-MTL's saliency needs ([`saliency_penalty`]).
pub(super) fn task_mean_gradients(
    out: &[f32],
    rows: &[usize],
    demos: &Demonstrations,
    width: usize,
    multi_head: bool,
    task_of: &[usize],
    tasks: usize,
) -> (Vec<f32>, Vec<f32>) {
    let a = demos.act_dim;
    let all: Vec<usize> = (0..rows.len()).collect();
    let (_, mut gradient) = label_loss(out, &all, rows, demos, width, multi_head, 1.0);
    let mut counts = vec![0usize; tasks];
    task_of.iter().for_each(|&t| counts[t] += 1);
    let mut curvature = vec![0.0f32; gradient.len()];
    for (k, (g, h)) in gradient
        .chunks_exact_mut(width)
        .zip(curvature.chunks_exact_mut(width))
        .enumerate()
    {
        let t = task_of[k];
        let scale = 1.0 / (counts[t] * a) as f32;
        g.iter_mut().for_each(|v| *v *= scale);
        let head = if multi_head {
            t * a..(t + 1) * a
        } else {
            0..width
        };
        h[head].iter_mut().for_each(|v| *v = 2.0 * scale);
    }
    (gradient, curvature)
}

/// Which weights of a multi-head network are shared by the tasks: all but the last layer's
/// columns (and bias entries) of each task's head, which are that task's own. `None` (all
/// shared) for other conditionings.
pub(super) fn task_specific_outputs(net: &TrainNet, info: &PolicyInfo) -> Option<Vec<Vec<bool>>> {
    if info.conditioning != Conditioning::MultiHead {
        return None;
    }
    let n = net.params().len();
    Some(shared_except(
        net.params().iter().map(Vec::len),
        &[n - 2, n - 1],
    ))
}
