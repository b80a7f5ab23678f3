// Validates the text of a model file: YAML syntax (with positions), the JSON
// schema (ajv), then shape inference. Every problem becomes a ConfigError
// with file:line:column. Browser-safe: no Node imports (file reading lives
// in load-file.ts).

import { Ajv, type ValidateFunction } from 'ajv';
import { LineCounter, parseDocument, visit, type Document } from 'yaml';
import fileSchema from './model.schema.json' with { type: 'json' };
import { sortBySource, type ConfigError, type ConfigErrorCode } from './errors.js';
import { kernelFileErrors, withRegistryKernels } from './kernels.js';
import { SourceLocator, keyText, type SourceRef, type Target } from './locate.js';
import { describeAjvErrors } from './schema-errors.js';
import { bracketOf, missedAt, unclosedBrackets, unclosedMessage } from './unclosed.js';
import { describeData, inferLayers, type LayerInfo, type ShapeIssue } from './shapes.js';
import { checkLossData, type LossData } from './loss-checks.js';
import { checkTraining } from './training-checks.js';
import { checkOptimizer } from './optimizer-checks.js';
import { DATASET_FACTS, dataFactsOf, type ModelSpec } from './types.js';
import { checkDataset } from './dataset-checks.js';
import type { DataFacts } from '../data/types.js';

export interface ValidationSuccess {
  ok: true;
  /** The model with every default filled in. */
  spec: ModelSpec;
  /** Shapes and parameter counts, layer by layer (empty when the input shape awaits the data: inputFromData). */
  layers: LayerInfo[];
  /** input_shape is left out and no data facts were given: it comes from the data, so shapes were not checked yet. */
  inputFromData?: boolean;
  warnings: ConfigError[];
}

export interface ValidationFailure {
  ok: false;
  /** All errors of the file, in source order. */
  errors: ConfigError[];
  warnings: ConfigError[];
}

export type ValidationResult = ValidationSuccess | ValidationFailure;

/**
 * The schema models are validated with: the file's (what editors use
 * through the YAML language server) with `kernels:` limited to the op
 * registry's replaceable ops (kernels.ts).
 */
const schema = withRegistryKernels(fileSchema as Record<string, unknown>);
export const modelSchema: Readonly<Record<string, unknown>> = schema;

export interface ValidateOptions {
  /** Whether a path in `kernels:` (as written, relative to the model file) exists; without it files are not checked (a browser). */
  kernelFileExists?: (path: string) => boolean;
  /** What the data holds (from its headers or its loaded arrays): input_shape and the last layer are checked against it, and a left-out input_shape is taken from it. */
  data?: DataFacts;
}

let compiled: ValidateFunction | undefined;

/** Compiles the schema once, on first use. useDefaults fills optional keys in the data it validates. */
function validator(): ValidateFunction {
  compiled ??= new Ajv({ allErrors: true, verbose: true, discriminator: true, useDefaults: true, strict: true, allowUnionTypes: true }).compile(schema);
  return compiled;
}

/**
 * Checks a model file's text. Never throws for a bad file: the result says
 * what is wrong and where. `fileName` only labels the diagnostics.
 */
export function validateModelConfig(text: string, fileName = '<input>', options: ValidateOptions = {}): ValidationResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { keepSourceTokens: true, lineCounter, uniqueKeys: true, prettyErrors: false });
  const loc = new SourceLocator(text, doc, lineCounter);
  const diag = (ref: SourceRef, code: ConfigErrorCode, message: string, extra: Partial<ConfigError> = {}, severity: ConfigError['severity'] = 'error'): ConfigError => ({
    file: fileName,
    line: ref.line,
    column: ref.column,
    ...(ref.endColumn !== undefined ? { endColumn: ref.endColumn } : {}),
    message,
    code,
    severity,
    sourceLine: ref.sourceLine,
    ...extra,
  });

  const errors: ConfigError[] = [];
  const warnings: ConfigError[] = doc.warnings.map((w) => diag(loc.at(w.pos[0], w.pos[1]), 'yaml-warning', firstLine(w.message), {}, 'warning'));

  // 1. YAML. Duplicate keys leave a usable document, so the schema check
  //    still runs after them; any other syntax error stops here, since the
  //    document's shape is then a guess.
  let syntaxErrors = 0;
  // A missing `]` or `}` is reported at the bracket that opened it; what the
  // parser says about the lines it then swallowed are follow-on errors.
  const open = doc.errors.length > 0 ? unclosedBrackets(doc) : [];
  const firstOpen = Math.min(...open.map((b) => b.offset));
  for (const e of doc.errors) {
    if (e.code === 'DUPLICATE_KEY') {
      errors.push(duplicateKeyError(doc, e.pos[0], loc, diag));
      continue;
    }
    const bracket = bracketOf(e, open);
    if (!bracket && e.pos[0] > firstOpen) continue;
    // After one syntax error the parser's recovery misreads the following
    // lines as implicit keys; those follow-on errors only bury the real one.
    if (syntaxErrors > 0 && CASCADE_CODES.has(e.code)) continue;
    const d = bracket
      ? diag(loc.at(bracket.offset, bracket.offset + 1), 'syntax', unclosedMessage(bracket), { hint: missedAt(e.pos[0], text, loc) })
      : diag(loc.at(e.pos[0], e.pos[1]), 'syntax', `YAML syntax: ${lowerFirst(firstLine(e.message))}`);
    if (errors.some((o) => o.code === 'syntax' && o.line === d.line)) continue; // one per line
    errors.push(d);
    syntaxErrors++;
  }
  if (errors.some((e) => e.code === 'syntax')) return fail(errors, warnings);

  let data: unknown;
  try {
    data = doc.toJS();
  } catch (e) {
    // e.g. an alias to an anchor that is not defined
    errors.push(diag(loc.at(0), 'syntax', `YAML: ${lowerFirst(firstLine((e as Error).message))}`));
    return fail(errors, warnings);
  }

  // 2. Schema (ajv fills defaults into `data` as it goes).
  const validate = validator();
  if (!validate(data)) {
    for (const issue of describeAjvErrors(validate.errors ?? [], data, schema)) {
      const { path, target, code, message, expected, found, hint } = issue;
      errors.push(diag(loc.find(path, target), code, message, { path, expected, found, hint }));
    }
    return fail(errors, warnings);
  }

  // 3. Kernel files, training settings (callbacks' monitors, validation data), then shapes.
  const spec = data as ModelSpec;
  const at = (path: (string | number)[], target: Target, code: ConfigErrorCode, message: string, hint?: string) =>
    diag(loc.find(path, target), code, message, { path, ...(hint ? { hint } : {}) });
  errors.push(...kernelFileErrors(spec.kernels, at, options.kernelFileExists));
  checkTraining(spec, (path, target, code, message, hint) => errors.push(at(path, target, code, message, hint)));
  checkOptimizer(spec, (path, target, code, message, hint) => errors.push(at(path, target, code, message, hint)));
  checkDataset(spec, (path, target, code, message, hint) => errors.push(at(path, target, code, message, hint)), (key) => doc.hasIn(['dataset', key]));
  if (options.data) spec.data = options.data;
  const facts = dataFactsOf(spec);
  if (spec.input_shape === undefined) {
    if (!facts) {
      if (errors.length > 0) return fail(errors, warnings);
      return { ok: true, spec, layers: [], warnings, inputFromData: true };
    }
    spec.input_shape = inputShapeFromData(spec, facts);
  }
  const shapes = inferLayers(spec);
  const lastLayer = shapes.layers[shapes.layers.length - 1];
  if (shapes.errors.length === 0 && lastLayer) checkLossData(spec, lastLayer.outputShape.reduce((a, b) => a * b, 1), lossData(spec), shapes.errors);
  const fromShape = (i: ShapeIssue, severity: ConfigError['severity']) =>
    diag(loc.find(i.path, targetFor(i.path)), severity === 'error' ? 'shape' : 'lint', i.message, { path: i.path, hint: i.hint }, severity);
  errors.push(...shapes.errors.map((i) => fromShape(i, 'error')));
  warnings.push(...shapes.warnings.map((i) => fromShape(i, 'warning')));
  sortBySource(warnings);
  if (errors.length > 0) return fail(errors, warnings);
  return { ok: true, spec, layers: shapes.layers, warnings };
}

/** The data's example shape, with a channel axis of 1 added to 2-D images when the first layer is a conv2d (which needs [h, w, c]). */
export function inputShapeFromData(spec: Pick<ModelSpec, 'layers'>, facts: DataFacts): number[] {
  const first = spec.layers[0]?.type;
  return facts.inputShape.length === 2 && first === 'conv2d' ? [...facts.inputShape, 1] : [...facts.inputShape];
}

/** What the loss checks of the data before any file is read (src/config/loss-checks.ts). */
function lossData(spec: ModelSpec): LossData {
  const facts = dataFactsOf(spec);
  if (!facts) return { name: 'the data', verb: 'has' };
  const named = facts.source in DATASET_FACTS;
  // Data with float targets (a CSV with task: regression) gives no class ids, whatever its facts' placeholder class count says.
  const gives = facts.targetWidth ? { targetWidth: facts.targetWidth } : { classes: facts.classes };
  return { name: named ? facts.source : describeData(facts), verb: named ? 'has' : 'holds', ...gives };
}

function fail(errors: ConfigError[], warnings: ConfigError[]): ValidationFailure {
  return { ok: false, errors: sortBySource(errors), warnings: sortBySource(warnings) };
}

/** Shape issues about a key's value (units, activation) point at the value; others at the entry. */
function targetFor(path: readonly (string | number)[]): Target {
  return typeof path[path.length - 1] === 'string' && path.length > 1 ? 'value' : 'entry';
}

/** "duplicate key 'units' (first on line 13)", pointing at the whole second key. */
function duplicateKeyError(
  doc: Document,
  offset: number,
  loc: SourceLocator,
  diag: (ref: SourceRef, code: ConfigErrorCode, message: string) => ConfigError,
): ConfigError {
  let found: ConfigError | undefined;
  visit(doc, {
    Map(_, map) {
      map.items.forEach((pair, i) => {
        const range = (pair.key as { range?: number[] } | null)?.range;
        if (found || !range || range[0] !== offset) return;
        const first = map.items.slice(0, i).find((p) => keyText(p) === keyText(pair));
        const firstRange = (first?.key as { range?: number[] } | null)?.range;
        const firstLine = firstRange ? ` (first on line ${loc.at(firstRange[0]).line})` : '';
        found = diag(loc.at(range[0], range[1]), 'duplicate-key', `duplicate key '${keyText(pair)}'${firstLine}`);
      });
      return found ? visit.BREAK : undefined;
    },
  });
  return found ?? diag(loc.at(offset), 'duplicate-key', 'duplicate key');
}

const CASCADE_CODES = new Set<string>(['MULTILINE_IMPLICIT_KEY', 'BLOCK_AS_IMPLICIT_KEY']);
const firstLine = (s: string) => s.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);
