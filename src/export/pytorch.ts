// Export steps (steps.ts) -> a PyTorch project directory:
//   model.py                 a torch.nn.Module of the same architecture, with
//                            load_tessera_weights() (safetensors, or a small
//                            reader of its own when the package is missing)
//   state_dict.safetensors   PyTorch names and layouts: Linear weights
//                            [out, in] (Keras kernels transposed), conv
//                            weights OIHW, BatchNorm running statistics
//   README.md                loading, evaluating, training on, DDP launch
//
// Module attributes are Tessera's layer names made into identifiers
// (dense_1, conv2d_1, …), so state-dict keys read `dense_1.weight`. The
// forward pass takes the raw input of `tessera predict` (pixels 0..255,
// channels_last [batch, ...input_shape]) and returns logits. Dropout is an
// nn.Dropout, active in train() only. Browser-safe (only text and bytes).

import type { ModelSpec } from '../config/types.js';
import { encodeSafetensors, type NamedTensor } from '../runtime/safetensors.js';
import { ATTENTION_HELPER, AVG_POOL_HELPER, POSITION_EMBEDDING_HELPER } from './pytorch-helpers.js';
import { INPUT, type ExportPlan, type ExportStep, type Pads } from './steps.js';

/** Python's keywords, the builtins and modules model.py uses, and nn.Module's attributes: not usable as (or shadowed by) a name. */
const RESERVED = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else',
  'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise',
  'return', 'try', 'while', 'with', 'yield', 'match', 'case', 'sum', 'max', 'min', 'abs', 'float', 'int', 'len', 'list', 'type',
  'self', 'super', 'torch', 'nn', 'F', 'json', 'os', 'x',
  // nn.Module's own attributes, which a submodule of that name would replace
  'training', 'forward', 'train', 'eval', 'parameters', 'modules', 'children', 'buffers', 'state_dict', 'load_state_dict',
  'apply', 'to', 'cuda', 'cpu', 'half', 'double', 'zero_grad', 'register_buffer', 'register_parameter', 'add_module',
]);

/** A Python identifier for a layer name ('dense_1' stays, 'my-layer' becomes 'my_layer', 'sum' becomes 'sum_'). */
export function pythonName(layer: string): string {
  const id = layer.replace(/[^A-Za-z0-9_]/g, '_');
  if (/^[0-9]/.test(id)) return `layer_${id}`;
  return RESERVED.has(id) ? `${id}_` : id;
}

/** "[1, 2]" -> "(1, 2)". */
const tuple = (xs: readonly number[]) => `(${xs.join(', ')}${xs.length === 1 ? ',' : ''})`;
/** Python float literal (repr-exact for a float32 value). */
const pyFloat = (x: number) => (Number.isInteger(x) ? `${x}.0` : String(x));

/** [Linear weight] = Keras kernel [in, out] transposed. */
function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c]!;
  return out;
}

const symmetric = (p: Pads) => p[0] === p[2] && p[1] === p[3];
/** F.pad's order: (left, right, top, bottom). */
const fpad = (p: Pads) => `(${p[1]}, ${p[3]}, ${p[0]}, ${p[2]})`;

interface PyModule { init: string[]; forward: string[]; tensors: NamedTensor[]; usesAvgPoolSame: boolean; usesPositionEmbedding: boolean; usesAttention: boolean; output: string }

/** The expression of an activation of `x`. */
function activationExpr(step: Extract<ExportStep, { kind: 'activation' }>, x: string): string {
  const a = step.activation;
  switch (a.op) {
    case 'relu': return `F.relu(${x})`;
    case 'sigmoid': return `torch.sigmoid(${x})`;
    case 'tanh': return `torch.tanh(${x})`;
    case 'softplus': return `F.softplus(${x})`;
    case 'silu': return `F.silu(${x})`;
    case 'gelu': return `F.gelu(${x})`;
    case 'gelu_tanh': return `F.gelu(${x}, approximate='tanh')`;
    case 'leaky_relu': return `F.leaky_relu(${x}, negative_slope=${pyFloat(a.alpha)})`;
    case 'elu': return `F.elu(${x}, alpha=${pyFloat(a.alpha)})`;
    case 'softmax':
      // Tessera's softmax runs over all of an example's values.
      return step.shape.length === 1 ? `F.softmax(${x}, dim=-1)` : `F.softmax(${x}.flatten(1), dim=-1).reshape(-1, ${step.shape.join(', ')})`;
    default: throw new Error(`export: no PyTorch form for the activation '${a.name}'`);
  }
}

/**
 * Python variable names for the plan's values: all `x` when the steps form
 * one chain (each reads only the one before it), else one name per value
 * after its layer (a value that several steps read must stay alive).
 */
function variableNames(plan: ExportPlan): (value: string) => string {
  const reads = (s: ExportStep) => (s.kind === 'merge' || s.kind === 'concatenate' ? s.inputs : [s.input]);
  const chain = plan.steps.every((s, i) => i === 0 ? s.input === INPUT : reads(s).length === 1 && s.input === plan.steps[i - 1]!.output)
    && plan.steps.at(-1)?.output === plan.output;
  if (chain) return () => 'x';
  const names = new Map<string, string>([[INPUT, 'x']]);
  const used = new Set(['x']);
  for (const s of plan.steps) {
    const base = s.kind === 'scale' ? 'normalized' : s.kind === 'to_channels_first' || s.kind === 'to_channels_last' ? `${names.get(s.input)}_${s.kind === 'to_channels_first' ? 'nchw' : 'nhwc'}` : pythonName('layer' in s ? s.layer : s.kind);
    let id = base, n = 2;
    while (used.has(id)) id = `${base}_${n++}`;
    used.add(id);
    names.set(s.output, id);
  }
  return (v) => names.get(v)!;
}

function moduleOf(plan: ExportPlan): PyModule {
  const m: PyModule = { init: [], forward: [], tensors: [], usesAvgPoolSame: false, usesPositionEmbedding: false, usesAttention: false, output: 'x' };
  const used = new Set<string>();
  const attr = (layer: string) => {
    let id = pythonName(layer), n = 2;
    while (used.has(id)) id = `${pythonName(layer)}_${n++}`;
    used.add(id);
    return id;
  };
  const param = (name: string, shape: number[], data: Float32Array) => m.tensors.push({ name, shape, data });
  const v = variableNames(plan);
  for (const step of plan.steps) {
    const x = v(step.input);
    const out = (expr: string, comment = '') => m.forward.push(`${v(step.output)} = ${expr}${comment ? `  # ${comment}` : ''}`);
    switch (step.kind) {
      case 'scale': out(`${x} * ${pyFloat(step.factor)}`, 'pixels 0..255 -> [0, 1], float32(1/255) as Tessera'); break;
      case 'normalize':
        m.init.push(`self.register_buffer('input_shift', torch.zeros(${step.shape.join(', ')}))`, `self.register_buffer('input_scale', torch.ones(${step.shape.join(', ')}))`);
        param('input_shift', step.shape, step.shift);
        param('input_scale', step.shape, step.scale);
        out(`(${x} - self.input_shift) / self.input_scale`, 'the training split\'s statistics, as Tessera normalises the data');
        break;
      case 'to_channels_first': out(`${x}.permute(0, 3, 1, 2)`, 'channels_last -> channels_first'); break;
      case 'to_channels_last': out(`${x}.permute(0, 2, 3, 1)`, "back to channels_last, Tessera's element order"); break;
      case 'flatten': out(`torch.flatten(${x}, 1)`); break;
      case 'reshape': out(`${x}.reshape(-1, ${step.shape.join(', ')})`); break;
      case 'dropout': {
        const id = attr(step.layer);
        m.init.push(`self.${id} = nn.Dropout(${pyFloat(step.rate)})`);
        out(`self.${id}(${x})`);
        break;
      }
      case 'dense': {
        const id = attr(step.layer);
        m.init.push(`self.${id} = nn.Linear(${step.inFeatures}, ${step.units}, bias=${step.bias ? 'True' : 'False'})`);
        param(`${id}.weight`, [step.units, step.inFeatures], transpose(step.kernel, step.inFeatures, step.units));
        if (step.bias) param(`${id}.bias`, [step.units], step.bias);
        out(`self.${id}(${x})`);
        break;
      }
      case 'conv2d': {
        const id = attr(step.layer), p = step.pads, sym = symmetric(p);
        const padding = sym && p.some((q) => q > 0) ? `, padding=${tuple([p[0], p[1]])}` : '';
        m.init.push(`self.${id} = nn.Conv2d(${step.inC}, ${step.outC}, ${tuple(step.kernelSize)}, stride=${tuple(step.strides)}, dilation=${tuple(step.dilations)}${padding}, bias=${step.bias ? 'True' : 'False'})`);
        param(`${id}.weight`, [step.outC, step.inC, ...step.kernelSize], step.kernelOIHW);
        if (step.bias) param(`${id}.bias`, [step.outC], step.bias);
        if (sym) out(`self.${id}(${x})`);
        else out(`self.${id}(F.pad(${x}, ${fpad(p)}))`, "'same': TensorFlow puts the odd row/column bottom/right");
        break;
      }
      case 'pool2d': {
        const p = step.pads, k = tuple(step.kernelSize), s = tuple(step.strides);
        const none = p.every((q) => q === 0);
        if (step.mode === 'max') {
          if (none || symmetric(p)) out(`F.max_pool2d(${x}, ${k}, ${s}${none ? '' : `, padding=${tuple([p[0], p[1]])}`})`);
          else out(`F.max_pool2d(F.pad(${x}, ${fpad(p)}, value=float('-inf')), ${k}, ${s})`);
        } else if (none) {
          out(`F.avg_pool2d(${x}, ${k}, ${s})`);
        } else {
          // The mean over the window's valid elements (padding excluded, as Keras).
          m.usesAvgPoolSame = true;
          out(`avg_pool2d_excluding_padding(${x}, ${k}, ${s}, ${fpad(p)})`);
        }
        break;
      }
      case 'global_pool2d': out(step.mode === 'max' ? `torch.amax(${x}, dim=(2, 3))` : `torch.mean(${x}, dim=(2, 3))`); break;
      case 'batch_norm': {
        const id = attr(step.layer);
        // Keras's momentum weighs the old statistic; PyTorch's the new batch.
        m.init.push(`self.${id} = nn.BatchNorm${step.spatial ? '2d' : '1d'}(${step.channels}, eps=${pyFloat(step.epsilon)}, momentum=${pyFloat(Math.round((1 - step.momentum) * 1e9) / 1e9)})`);
        param(`${id}.weight`, [step.channels], step.gamma);
        param(`${id}.bias`, [step.channels], step.beta);
        param(`${id}.running_mean`, [step.channels], step.mean);
        param(`${id}.running_var`, [step.channels], step.variance);
        // An int64 buffer in PyTorch; load_state_dict copies the value across dtypes.
        param(`${id}.num_batches_tracked`, [], new Float32Array([0]));
        // Without Keras's `scale` / `center` the factor 1 / offset 0 stays fixed in training too.
        if (!step.trainableGamma) m.init.push(`self.${id}.weight.requires_grad_(False)  # no scale in Tessera: fixed at 1`);
        if (!step.trainableBeta) m.init.push(`self.${id}.bias.requires_grad_(False)  # no center in Tessera: fixed at 0`);
        out(step.sequence ? `self.${id}(${x}.transpose(1, 2)).transpose(1, 2)` : `self.${id}(${x})`, step.sequence ? 'channels on axis 1' : '');
        break;
      }
      case 'activation': out(activationExpr(step, x)); break;
      case 'merge': {
        const xs = step.inputs.map(v);
        const sign = step.op === 'subtract' ? ' - ' : step.op === 'multiply' ? ' * ' : ' + ';
        // Left to right, as Tessera sums (a + b) + c.
        const expr = xs.join(sign);
        out(step.op === 'average' ? `(${expr}) * ${pyFloat(Math.fround(1 / xs.length))}` : expr);
        break;
      }
      case 'concatenate': out(`torch.cat([${step.inputs.map(v).join(', ')}], dim=${step.axis})`); break;
      case 'layer_norm': {
        const id = attr(step.layer);
        m.init.push(`self.${id} = nn.LayerNorm(${step.dim}, eps=${pyFloat(step.epsilon)})`);
        param(`${id}.weight`, [step.dim], step.gamma);
        param(`${id}.bias`, [step.dim], step.beta);
        if (!step.trainableGamma) m.init.push(`self.${id}.weight.requires_grad_(False)  # no scale in Tessera: fixed at 1`);
        if (!step.trainableBeta) m.init.push(`self.${id}.bias.requires_grad_(False)  # no center in Tessera: fixed at 0`);
        out(`self.${id}(${x})`);
        break;
      }
      case 'embedding': {
        const id = attr(step.layer);
        m.init.push(`self.${id} = nn.Embedding(${step.vocab}, ${step.dim})`);
        param(`${id}.weight`, [step.vocab, step.dim], step.table);
        out(`self.${id}(${x}.clamp(0, ${step.vocab - 1}).long())`, 'float token ids, clamped and truncated as Tessera');
        break;
      }
      case 'attention': {
        const id = attr(step.layer), { F, heads: H, keyDim: dk, valueDim: dv } = step;
        m.usesAttention = true;
        m.init.push(`self.${id} = MultiHeadAttention(${F}, ${H}, ${dk}, ${dv}, causal=${step.causal ? 'True' : 'False'}, bias=${step.queryBias ? 'True' : 'False'}, dropout=${pyFloat(step.dropout)})`);
        const linear = (name: string, kernel: Float32Array, bias: Float32Array | null, k: number, n: number) => {
          param(`${id}.${name}.weight`, [n, k], transpose(kernel, k, n));
          if (bias) param(`${id}.${name}.bias`, [n], bias);
        };
        linear('query', step.query, step.queryBias, F, H * dk);
        linear('key', step.key, step.keyBias, F, H * dk);
        linear('value', step.value, step.valueBias, F, H * dv);
        linear('attention_output', step.outputKernel, step.outputBias, H * dv, F);
        out(`self.${id}(${x})`);
        break;
      }
      case 'position_embedding': {
        const id = attr(step.layer);
        m.usesPositionEmbedding = true;
        m.init.push(`self.${id} = PositionEmbedding(${step.length}, ${step.dim})`);
        param(`${id}.embeddings`, [step.length, step.dim], step.table);
        out(`self.${id}(${x})`);
        break;
      }
    }
  }
  m.output = v(plan.output);
  return m;
}

const className = (name: string) => {
  const words = name.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const id = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('') || 'Model';
  return /^[0-9]/.test(id) ? `Model${id}` : id;
};

function modelPy(plan: ExportPlan, spec: ModelSpec, m: PyModule): string {
  const cls = className(plan.name);
  const ind = (lines: string[], n: number) => lines.map((l) => `${' '.repeat(n)}${l}`).join('\n');
  return `# ${plan.name}: generated by \`tessera export --pytorch\` from the Tessera model file.
# The same architecture as Tessera's, layer for layer; load_tessera_weights()
# loads state_dict.safetensors beside this file. See README.md.
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

INPUT_SHAPE = ${tuple(plan.inputShape)}
CLASS_NAMES = ${JSON.stringify(plan.classNames)}
# Tessera's training settings, for continuing training the same way.
OPTIMIZER = json.loads(${JSON.stringify(JSON.stringify(spec.optimizer))})
BATCH_SIZE = ${spec.training.batch_size}
${m.usesAvgPoolSame ? AVG_POOL_HELPER : ''}${m.usesPositionEmbedding ? POSITION_EMBEDDING_HELPER : ''}${m.usesAttention ? ATTENTION_HELPER : ''}

class ${cls}(nn.Module):
    """Input: float32 [batch, ${plan.inputShape.join(', ')}] (channels_last), the data as stored; preprocessing inside: ${plan.normalization}. Output: logits [batch, ${plan.classes}]."""

    def __init__(self):
        super().__init__()
${m.init.length ? ind(m.init, 8) : '        pass'}

    def forward(self, x):
${ind([...m.forward, `return ${m.output}`], 8)}


def load_safetensors(path):
    """The tensors of a .safetensors file: with the safetensors package when it is installed, else read here (the format is a JSON header and raw little-endian data)."""
    try:
        from safetensors.torch import load_file
        return load_file(path)
    except ImportError:
        pass
    dtypes = {'F32': torch.float32, 'F64': torch.float64, 'I64': torch.int64}
    with open(path, 'rb') as f:
        size = int.from_bytes(f.read(8), 'little')
        header = json.loads(f.read(size))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        start, end = info['data_offsets']
        out[name] = torch.frombuffer(bytearray(data[start:end]), dtype=dtypes[info['dtype']]).reshape(info['shape'])
    return out


def load_tessera_weights(model, path=None):
    """Loads the exported weights (state_dict.safetensors beside this file by default) into model."""
    path = path or os.path.join(os.path.dirname(os.path.abspath(__file__)), 'state_dict.safetensors')
    model.load_state_dict(load_safetensors(path))
    return model


Model = ${cls}
`;
}

function readme(plan: ExportPlan, spec: ModelSpec): string {
  const cls = className(plan.name);
  return `# ${plan.name}, exported from Tessera

- \`model.py\`: \`${cls}\` (also \`Model\`), a \`torch.nn.Module\` with the same layers as the
  Tessera model file, and \`load_tessera_weights(model)\`.
- \`state_dict.safetensors\`: the trained weights under PyTorch names and layouts
  (\`Linear\` weights \`[out, in]\`, conv weights OIHW, BatchNorm running statistics).

The model takes the data as Tessera stores it (pixel bytes 0..255, or a CSV's values), as float32 of
shape \`[batch, ${plan.inputShape.join(', ')}]\` (channels_last); its preprocessing is inside \`forward\`:
${plan.normalization}. It returns logits over ${plan.classes} classes (\`CLASS_NAMES\`).

## Run it

\`\`\`python
import torch
from model import Model, load_tessera_weights

model = load_tessera_weights(Model()).eval()
with torch.no_grad():
    logits = model(x.float())        # x: [batch, ${plan.inputShape.join(', ')}], the data as stored
    classes = logits.argmax(dim=1)
\`\`\`

## Train on

\`model.train()\` turns dropout (and BatchNorm's batch statistics) on. Tessera
trained it with \`${JSON.stringify(spec.optimizer)}\`, batch size
${spec.training.batch_size}, softmax cross-entropy on the logits:

\`\`\`python
model = load_tessera_weights(Model()).train()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
loss = torch.nn.functional.cross_entropy(model(images.float()), labels)
optimizer.zero_grad(); loss.backward(); optimizer.step()
torch.save(model.state_dict(), 'trained.pt')
\`\`\`

## On several GPUs or machines (DDP)

Wrap the model in \`DistributedDataParallel\` in your training script, give each
process its share of the data with a \`DistributedSampler\`, and start one
process per GPU with \`torchrun\`:

\`\`\`python
import os, torch, torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP
from model import Model, load_tessera_weights

dist.init_process_group('nccl')            # 'gloo' on CPUs
rank = int(os.environ['LOCAL_RANK']); torch.cuda.set_device(rank)
model = DDP(load_tessera_weights(Model()).cuda(rank), device_ids=[rank])
sampler = torch.utils.data.distributed.DistributedSampler(dataset)
loader = torch.utils.data.DataLoader(dataset, batch_size=${spec.training.batch_size}, sampler=sampler)
# … the usual loop; call sampler.set_epoch(epoch) every epoch; save from rank 0
\`\`\`

\`\`\`sh
# one machine, 4 GPUs
torchrun --standalone --nproc_per_node=4 train.py
# 2 machines × 8 GPUs: run on each machine, with the first one's address
torchrun --nnodes=2 --nproc_per_node=8 --rdzv_backend=c10d --rdzv_endpoint=HOST:29500 train.py
\`\`\`
`;
}

/** The files of DIR, by name: model.py, state_dict.safetensors, README.md. */
export function pytorchFiles(plan: ExportPlan, spec: ModelSpec): Record<string, string | Uint8Array> {
  const m = moduleOf(plan);
  return {
    'model.py': modelPy(plan, spec, m),
    'state_dict.safetensors': encodeSafetensors(m.tensors, { format: 'pt', model: plan.name, exported_by: 'tessera' }),
    'README.md': readme(plan, spec),
  };
}
