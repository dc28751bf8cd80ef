//! The networks: the burn MLP ([`mlp`], what policies are saved, loaded and played as, on the
//! CPU or WebGPU) and its hand-fused CPU fast path ([`fused`]: forward, backward and Adam in
//! plain Rust, checked equal to burn's autodiff in its tests).

pub mod fused;
pub mod mlp;
