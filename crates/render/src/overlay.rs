//! Debug overlays drawn over a scene, casting no shadow: the hand's recent path (a [`Trail`] of
//! translucent dots, older ones fainter) and the points where bodies touch (from
//! `Env::contact_points`, rapier's contact manifolds), so a viewer can see how a policy moved
//! and what it pushed against.

use super::Instance;
use glam::{Mat4, Quat, Vec3};
use std::collections::VecDeque;

/// Radius of a trail dot (m).
pub const TRAIL_RADIUS: f32 = 0.005;
/// Radius of a contact dot (m).
pub const CONTACT_RADIUS: f32 = 0.008;
/// Colour of the trail (linear RGB): amber, apart from every part of the scenes.
pub const TRAIL_COLOR: [f32; 3] = [1.0, 0.55, 0.05];
/// Colour of contact points (linear RGB): red.
pub const CONTACT_COLOR: [f32; 3] = [0.9, 0.05, 0.05];
/// How many points the page's player and `polyskill render --trail` keep in a trail.
pub const TRAIL_POINTS: usize = 600;
/// Trail points closer than this to the previous one are not kept (m), so a hand at rest does
/// not use the trail up.
const TRAIL_SPACING: f32 = 0.004;

/// What a frame draws over the scene (empty: nothing).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overlays {
    /// The hand's path, oldest first (world coordinates, m).
    pub trail: Vec<[f32; 3]>,
    /// Where bodies touch now (world coordinates, m).
    pub contacts: Vec<[f32; 3]>,
}

impl Overlays {
    /// The overlays' dots as translucent sphere instances (mesh kind 1).
    pub(crate) fn instances(&self) -> Vec<Instance> {
        let n = self.trail.len().max(1) as f32;
        let trail = self.trail.iter().enumerate().map(|(i, p)| {
            // Oldest 0.15 opaque, newest 0.85.
            dot(
                *p,
                TRAIL_RADIUS,
                TRAIL_COLOR,
                0.15 + 0.7 * (i + 1) as f32 / n,
            )
        });
        let contacts = self
            .contacts
            .iter()
            .map(|p| dot(*p, CONTACT_RADIUS, CONTACT_COLOR, 0.9));
        trail.chain(contacts).collect()
    }
}

/// A sphere instance of `radius` at `p`, flat-ish (little highlight).
fn dot(p: [f32; 3], radius: f32, color: [f32; 3], alpha: f32) -> Instance {
    let model =
        Mat4::from_scale_rotation_translation(Vec3::splat(radius), Quat::IDENTITY, p.into());
    Instance {
        model: model.to_cols_array_2d(),
        scale: [radius, radius, radius, 0.0],
        color: [color[0], color[1], color[2], alpha],
        material: [0.1, 8.0, 0.0, 0.0],
    }
}

/// The hand's recent path, as the player or the CLI records it step by step: points at least
/// 4 mm apart, the newest `capacity` kept.
#[derive(Debug, Clone)]
pub struct Trail {
    points: VecDeque<[f32; 3]>,
    capacity: usize,
}

impl Trail {
    /// An empty trail keeping at most `capacity` points.
    pub fn new(capacity: usize) -> Trail {
        Trail {
            points: VecDeque::with_capacity(capacity),
            capacity: capacity.max(1),
        }
    }

    /// Adds where the hand is now (skipped when it has not moved 4 mm, or is not finite).
    pub fn push(&mut self, point: [f32; 3]) {
        if !point.iter().all(|c| c.is_finite()) {
            return;
        }
        if let Some(last) = self.points.back()
            && Vec3::from(*last).distance(point.into()) < TRAIL_SPACING
        {
            return;
        }
        if self.points.len() == self.capacity {
            self.points.pop_front();
        }
        self.points.push_back(point);
    }

    /// Forgets the path (a new episode).
    pub fn clear(&mut self) {
        self.points.clear();
    }

    /// The points, oldest first.
    pub fn points(&self) -> Vec<[f32; 3]> {
        self.points.iter().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trail_skips_points_that_did_not_move_and_keeps_the_newest() {
        let mut trail = Trail::new(3);
        trail.push([0.0, 0.0, 0.0]);
        trail.push([0.001, 0.0, 0.0]);
        assert_eq!(trail.points().len(), 1, "a 1 mm move is not kept");
        for x in [0.01, 0.02, 0.03] {
            trail.push([x, 0.0, 0.0]);
        }
        trail.push([f32::NAN, 0.0, 0.0]);
        assert_eq!(
            trail.points(),
            vec![[0.01, 0.0, 0.0], [0.02, 0.0, 0.0], [0.03, 0.0, 0.0]]
        );
        trail.clear();
        assert!(trail.points().is_empty());
    }

    #[test]
    fn older_trail_dots_are_fainter() {
        let overlays = Overlays {
            trail: vec![[0.0; 3], [0.1, 0.0, 0.0], [0.2, 0.0, 0.0]],
            contacts: vec![[0.0; 3]],
        };
        let alphas: Vec<f32> = overlays.instances().iter().map(|i| i.color[3]).collect();
        assert_eq!(alphas.len(), 4);
        assert!(alphas[0] < alphas[1] && alphas[1] < alphas[2], "{alphas:?}");
        assert_eq!(alphas[3], 0.9);
    }
}
