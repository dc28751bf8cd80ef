//! A burn module's float parameters as flat lists, in the module's own order: read them out
//! with their paths and shapes ([`read_params`]), write new values back ([`write_params`]).
//! This is how a burn network joins the fused path's interface (Adam and the multi-task seam
//! work on flat lists) and how its tensors get their names in a weights file.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::{Tensor, TensorData};

/// One float parameter: its path (`experts.0.layers.1.weight`), id, shape and values.
#[derive(Debug, Clone)]
pub struct FlatParam {
    /// Dotted path of the parameter in the module tree.
    pub path: String,
    /// burn's id of the parameter (to find its gradient).
    pub id: ParamId,
    /// Shape, burn's layout.
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub values: Vec<f32>,
}

struct Reader {
    path: Vec<String>,
    out: Vec<FlatParam>,
    error: Option<String>,
}

impl ModuleVisitor for Reader {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        // Enum variants add their type's name, not a field: keep paths to the fields.
        if !container_type.starts_with("Enum:") {
            self.path.push(name.to_string());
        }
    }

    fn exit_module(&mut self, _name: &str, container_type: &str) {
        if !container_type.starts_with("Enum:") {
            self.path.pop();
        }
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let tensor = param.val();
        let shape = tensor.shape().dims::<D>().to_vec();
        match tensor.into_data().try_to_vec::<f32>() {
            Ok(values) => self.out.push(FlatParam {
                path: self.path.join("."),
                id: param.id,
                shape,
                values,
            }),
            Err(e) => self.error = Some(format!("reading {}: {e:?}", self.path.join("."))),
        }
    }
}

/// Every float parameter of `module` in visiting order (synchronous reads: CPU devices).
pub fn read_params<M: Module>(module: &M) -> Result<Vec<FlatParam>, String> {
    let mut reader = Reader {
        path: Vec::new(),
        out: Vec::new(),
        error: None,
    };
    module.visit(&mut reader);
    match reader.error {
        Some(e) => Err(e),
        None => Ok(reader.out),
    }
}

struct Writer<'a> {
    values: &'a [Vec<f32>],
    next: usize,
    error: Option<String>,
}

impl ModuleMapper for Writer<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let k = self.next;
        self.next += 1;
        let Some(values) = self.values.get(k) else {
            self.error = Some(format!("parameter {k} has no values to write"));
            return param;
        };
        let shape = param.val().shape();
        if shape.num_elements() != values.len() {
            self.error = Some(format!(
                "parameter {k}: {} values for shape {:?}",
                values.len(),
                shape.dims::<D>()
            ));
            return param;
        }
        let values = values.clone();
        param.map(move |old| {
            let fresh = Tensor::<D>::from_data(TensorData::new(values, old.shape()), &old.device());
            fresh.set_require_grad(old.is_require_grad())
        })
    }
}

/// `module` with its float parameters replaced by `values` (visiting order, as
/// [`read_params`] gives them; ids and the autodiff flag kept).
pub fn write_params<M: Module>(module: M, values: &[Vec<f32>]) -> Result<M, String> {
    let mut writer = Writer {
        values,
        next: 0,
        error: None,
    };
    let module = module.map(&mut writer);
    if let Some(e) = writer.error {
        return Err(e);
    }
    if writer.next != values.len() {
        return Err(format!(
            "the network has {} parameters; {} value lists were given",
            writer.next,
            values.len()
        ));
    }
    Ok(module)
}
