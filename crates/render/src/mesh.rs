//! Unit meshes of the primitive shapes (positions and normals): the box spans [−1, 1]³,
//! the sphere has radius 1, the cylinder radius 1 and half-height 1 along z.

use bytemuck::{Pod, Zeroable};

/// A mesh vertex: position and normal.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct Vertex {
    /// Position.
    pub position: [f32; 3],
    /// Unit normal.
    pub normal: [f32; 3],
}

/// Triangle list of a primitive.
pub struct MeshData {
    /// Vertices.
    pub vertices: Vec<Vertex>,
    /// Indices, three per triangle, counter-clockwise seen from outside.
    pub indices: Vec<u32>,
}

fn quad(m: &mut MeshData, corners: [[f32; 3]; 4], normal: [f32; 3]) {
    let base = m.vertices.len() as u32;
    m.vertices
        .extend(corners.iter().map(|&position| Vertex { position, normal }));
    m.indices
        .extend([base, base + 1, base + 2, base, base + 2, base + 3]);
}

/// The unit cube.
pub fn cube() -> MeshData {
    let mut m = MeshData {
        vertices: vec![],
        indices: vec![],
    };
    for axis in 0..3 {
        for sign in [-1.0f32, 1.0] {
            let (u, v) = ((axis + 1) % 3, (axis + 2) % 3);
            let mut corners = [[0.0f32; 3]; 4];
            let uv = [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)];
            for (c, (a, b)) in corners.iter_mut().zip(uv) {
                c[axis] = sign;
                c[u] = a * sign;
                c[v] = b;
            }
            // With u flipped for the negative face, every face winds counter-clockwise outside.
            let mut normal = [0.0; 3];
            normal[axis] = sign;
            quad(&mut m, corners, normal);
        }
    }
    m
}

/// A unit UV sphere.
pub fn sphere(rings: u32, segments: u32) -> MeshData {
    let mut m = MeshData {
        vertices: vec![],
        indices: vec![],
    };
    for r in 0..=rings {
        let theta = std::f32::consts::PI * r as f32 / rings as f32;
        for s in 0..=segments {
            let phi = 2.0 * std::f32::consts::PI * s as f32 / segments as f32;
            let p = [
                theta.sin() * phi.cos(),
                theta.sin() * phi.sin(),
                theta.cos(),
            ];
            m.vertices.push(Vertex {
                position: p,
                normal: p,
            });
        }
    }
    let row = segments + 1;
    for r in 0..rings {
        for s in 0..segments {
            let (a, b) = (r * row + s, (r + 1) * row + s);
            m.indices.extend([a, b, a + 1, a + 1, b, b + 1]);
        }
    }
    m
}

/// A unit cylinder along z with caps.
pub fn cylinder(segments: u32) -> MeshData {
    let mut m = MeshData {
        vertices: vec![],
        indices: vec![],
    };
    for s in 0..segments {
        let a0 = 2.0 * std::f32::consts::PI * s as f32 / segments as f32;
        let a1 = 2.0 * std::f32::consts::PI * (s + 1) as f32 / segments as f32;
        let (c0, s0, c1, s1) = (a0.cos(), a0.sin(), a1.cos(), a1.sin());
        let base = m.vertices.len() as u32;
        for (x, y, z) in [(c0, s0, -1.0), (c1, s1, -1.0), (c1, s1, 1.0), (c0, s0, 1.0)] {
            m.vertices.push(Vertex {
                position: [x, y, z],
                normal: [x, y, 0.0],
            });
        }
        m.indices
            .extend([base, base + 1, base + 2, base, base + 2, base + 3]);
        for z in [-1.0f32, 1.0] {
            let base = m.vertices.len() as u32;
            let n = [0.0, 0.0, z];
            m.vertices.push(Vertex {
                position: [0.0, 0.0, z],
                normal: n,
            });
            m.vertices.push(Vertex {
                position: [c0, s0, z],
                normal: n,
            });
            m.vertices.push(Vertex {
                position: [c1, s1, z],
                normal: n,
            });
            if z > 0.0 {
                m.indices.extend([base, base + 1, base + 2]);
            } else {
                m.indices.extend([base, base + 2, base + 1]);
            }
        }
    }
    m
}
