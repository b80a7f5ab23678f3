// Generates docs/model-yaml.md, the model file reference, from
// src/config/model.schema.json (the schema's descriptions, types, defaults
// and ranges), so the docs cannot drift from what `tessera validate` checks.
//   node scripts/gen-yaml-docs.mjs          rewrite docs/model-yaml.md
//   node scripts/gen-yaml-docs.mjs --check  exit 1 if it is out of date
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const schema = JSON.parse(readFileSync(join(root, 'src/config/model.schema.json'), 'utf8'));
const out = join(root, 'docs/model-yaml.md');

const deref = (s) => (s && s.$ref ? s.$ref.slice(2).split('/').reduce((o, k) => o[k], schema) : s);
const code = (v) => `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;
const cell = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');

function typeOf(s) {
  s = deref(s);
  if (s.const !== undefined) return code(s.const);
  if (s.oneOf && !s.type) return s.oneOf.map((b) => typeOf(b)).join(' or ');
  if (s.type === 'array') return `list of ${typeOf(s.items).replace(/^an? /, '').split(' or ').map((t) => `${t}s`.replace(/ss$/, 's')).join(' or ')}`;
  if (s.type === 'object') return 'mapping';
  return Array.isArray(s.type) ? s.type.join(' or ') : s.type ?? 'any';
}

function allowed(s) {
  s = deref(s);
  // A number or a mapping (learning_rate): the number's bounds; the mapping has its own section.
  if (s.oneOf && !s.type) return s.oneOf.map(allowed).filter(Boolean).join('; ');
  const parts = [];
  if (s.enum) parts.push(s.enum.map(code).join(', '));
  const bounds = [];
  if (s.minimum !== undefined) bounds.push(`>= ${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) bounds.push(`> ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined) bounds.push(`<= ${s.maximum}`);
  if (s.exclusiveMaximum !== undefined) bounds.push(`< ${s.exclusiveMaximum}`);
  if (bounds.length) parts.push(bounds.join(' and '));
  if (s.minLength) parts.push('not empty');
  if (s.pattern) parts.push(`matches ${code(s.pattern)}`);
  if (s.minItems) parts.push(`at least ${s.minItems} item${s.minItems === 1 ? '' : 's'}`);
  if (s.uniqueItems) parts.push('no repeats');
  if (s.items) {
    const inner = allowed(s.items);
    if (inner) parts.push(`each ${inner}`);
  }
  return parts.join('; ');
}

/** A table of an object schema's keys. */
function table(obj) {
  const required = new Set(obj.required ?? []);
  const rows = Object.entries(obj.properties ?? {}).map(([key, raw]) => {
    const s = deref(raw);
    const need = required.has(key) ? '**required**' : s.default !== undefined ? `default ${code(s.default)}` : 'optional';
    return `| \`${key}\` | ${typeOf(s)} | ${need} | ${cell(allowed(s))} | ${cell(s.description ?? '')} |`;
  });
  // A mapping whose keys are not fixed by the schema (kernels: by op name, checked against the op registry).
  const any = typeof obj.additionalProperties === 'object' ? deref(obj.additionalProperties) : null;
  if (any) rows.push(`| *op name* | ${typeOf(any)} | optional | ${cell(allowed(any))} | ${cell(any.description ?? '')} |`);
  return ['| Key | Type | Required / default | Allowed | Meaning |', '|---|---|---|---|---|', ...rows].join('\n');
}

const sections = [];
sections.push(`## Top level\n\n${schema.description}\n\n${table(schema)}`);
const layerItems = schema.properties.layers.items;
for (const branch of layerItems.oneOf) {
  const def = deref(branch);
  sections.push(`## Layer \`${def.properties.type.const}\`\n\n${def.description}\n\n${table(def)}`);
}
/** One section per type of a discriminated mapping (optimizers, schedules, callbacks). */
const variants = (union, title) => union.oneOf.map((branch) => {
  const def = deref(branch);
  return `## ${title} \`${def.properties.type.const}\`\n\n${def.description}\n\n${table(def)}`;
});
for (const key of ['loss', 'metrics', 'optimizer', 'training', 'dataset', 'kernels']) {
  const s = schema.properties[key];
  if (key === 'optimizer') {
    // Its keys depend on its type: a section per optimizer, then the schedules learning_rate may be, and kernel_regularizer.
    const types = s.oneOf.map((b) => code(deref(b).properties.type.const)).join(', ');
    sections.push(`## \`optimizer\`\n\n${s.description} One of: ${types}.`);
    sections.push(...variants(s, 'Optimizer'));
    const schedules = schema.definitions.learningRateSchedule;
    sections.push(`## Learning-rate schedules\n\n${schedules.description} Give one as an optimizer's \`learning_rate\`, e.g. \`learning_rate: {type: cosine_decay, initial_learning_rate: 0.1, decay_steps: 9375}\`.`);
    sections.push(...variants(schedules, 'Schedule'));
    const reg = schema.definitions.kernelRegularizer;
    sections.push(`## \`kernel_regularizer\` (dense, conv2d)\n\n${reg.description}\n\n${table(reg)}`);
    continue;
  }
  if (key === 'loss') {
    // Its keys depend on its type: a section per loss.
    sections.push(`## \`loss\`\n\n${s.description}`);
    sections.push(...variants(s, 'Loss'));
    continue;
  }
  if (key === 'metrics') {
    // A list whose entries are names or mappings: the names, then the mapping's keys.
    const names = s.items.oneOf.find((b) => b.type === 'string');
    const mapping = s.items.oneOf.find((b) => b.type === 'object');
    sections.push([`## \`metrics\``, s.description, s.items.description, `Names: ${names.enum.map(code).join(', ')}.`, `${mapping.description}\n\n${table(mapping)}`].join('\n\n'));
    continue;
  }
  sections.push(`## \`${key}\`\n\n${s.description}\n\n${table(s)}`);
  if (key !== 'training') continue;
  // Each callback type's keys, after the training table that lists them.
  for (const branch of s.properties.callbacks.items.oneOf) {
    const def = deref(branch);
    sections.push(`## Callback \`${def.properties.type.const}\`\n\n${def.description}\n\n${table(def)}`);
  }
}

const text = `<!-- Generated by scripts/gen-yaml-docs.mjs from src/config/model.schema.json. Do not edit; run \`node scripts/gen-yaml-docs.mjs\`. -->
# Model file reference

A Tessera model is one YAML file: the layers of a sequential network, the
loss, the optimizer, training settings, the dataset and the backend. Key
names follow Keras. \`models/mnist.yaml\` is a complete example:

\`\`\`yaml
${readFileSync(join(root, 'models/mnist.yaml'), 'utf8').trimEnd()}
\`\`\`

Check a file with \`tessera validate models/mnist.yaml\`: it prints the layer
table with output shapes and parameter counts, or every problem with its
\`file:line:column\`, the source line and a caret. Exit code 0 means valid,
1 invalid, 2 a bad command line. \`--json\` prints the results as JSON.

## Editor support

The schema \`src/config/model.schema.json\` (JSON Schema draft-07) gives
completion, hover documentation and error squiggles in any editor that uses
the YAML language server (VS Code's Red Hat YAML extension, Neovim, Helix,
JetBrains IDEs):

- per file, with a comment on the first line, the path relative to the YAML
  file (this is what \`models/mnist.yaml\` does):

  \`\`\`yaml
  # yaml-language-server: $schema=../src/config/model.schema.json
  \`\`\`

  In a project that installed Tessera from npm, point at
  \`node_modules/tessera/src/config/model.schema.json\` instead.

- or for a whole folder, in VS Code's \`settings.json\`:

  \`\`\`json
  {
    "yaml.schemas": {
      "./node_modules/tessera/src/config/model.schema.json": ["models/*.yaml"]
    }
  }
  \`\`\`

The editor checks the schema only; \`tessera validate\` also checks the
shapes (below) and reports duplicate keys.

## Checks beyond the schema

After the schema passes, Tessera infers every layer's shape and rejects a
model that cannot work, pointing at the offending key:

- \`input_shape\` must equal the dataset's example shape (\`[28, 28]\` for mnist).
- A \`dense\` layer needs a flat (one-dimensional) input: put a \`flatten\` layer before the first one.
- The last layer must be \`dense\` with one unit per class of the dataset (10 for mnist).
- Layer names must be unique, including the generated ones (\`dense_1\`, \`dense_2\`, ...: type plus a 1-based counter per type, as in Keras).
- Duplicate keys anywhere are errors (YAML would otherwise silently keep the last one).

A \`relu\` on the last layer is allowed but warned about: the loss expects raw logits.

A dense layer with \`n\` inputs and \`units\` outputs has \`n × units\` kernel
weights plus \`units\` biases (when \`use_bias\` is true); \`models/mnist.yaml\`
has 784×128+128 + 128×10+10 = 101,770 parameters.

File paths in the model (\`dataset\` files, \`kernels\`) are relative to the
model file; \`loadModelConfig\` returns them resolved to absolute paths.

${sections.join('\n\n')}
`;

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(out, 'utf8');
  } catch {}
  if (current !== text) {
    console.error('docs/model-yaml.md is out of date: run node scripts/gen-yaml-docs.mjs');
    process.exit(1);
  }
} else {
  writeFileSync(out, text);
}
