// CSV datasets: parsed by csv-parse, string labels mapped to class ids
// (kept with the weights), the seeded test_split, normalisation with the
// training split's statistics (saved with the weights and reused by eval),
// one error per kind of bad file naming the file and row, and Iris trained
// to at least 93% test accuracy.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csvExamples, parseCsv, type CsvOptions } from '../src/data/csv.js';
import { DataError } from '../src/data/errors.js';
import { applyNormalize, normalizeStats, splitTest } from '../src/data/preprocess.js';
import { readWeightsDataMetadata } from '../src/data/weights-node.js';
import { tessera } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-csv-'));
const O: CsvOptions = { header: true, delimiter: ',', task: 'classification' };

function throwsData(fn: () => unknown, match: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, DataError);
    assert.match((e as Error).message, match);
    assert.not.ok((e as Error).message.includes('\n'), 'one line');
    return;
  }
  assert.unreachable(`expected a DataError matching ${match}`);
}

const floats = (b: Uint8Array) => Array.from(new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4));

test('rows become float32 features and string labels class ids, in sorted name order', () => {
  const t = parseCsv('a,b,kind\n1,2.5,dog\n3,-4,cat\n5,6e1,dog\n', 'p.csv', O);
  const ex = csvExamples(t, { ...O, label: 'kind' });
  assert.equal(ex.classNames, ['cat', 'dog']);
  assert.equal([...ex.data.labels], [1, 0, 1]);
  assert.equal(floats(ex.data.images), [1, 2.5, 3, -4, 5, 60]);
  assert.equal(ex.data.shape, [2]);
  assert.is(ex.data.dtype, 'float32');
  // numeric labels are class ids; label and features by index; no header
  const n = csvExamples(parseCsv('0;9;1\n1;8;2\n', 'n.csv', { header: false, delimiter: ';' }), { ...O, header: false, delimiter: ';', label: 0, features: [2, 1] });
  assert.is(n.classNames, undefined);
  assert.equal([...n.data.labels], [0, 1]);
  assert.equal(floats(n.data.images), [1, 9, 2, 8]);
});

test('bad CSV: a ragged row, a non-numeric feature, an unknown column, labels out of range, an unseen test label', () => {
  throwsData(() => parseCsv('a,b,c\n1,2,3\n4,5\n', 'r.csv', O), /^r\.csv: row 3 has 2 fields, the header has 3$/);
  throwsData(() => csvExamples(parseCsv('a,b,c\n1,2,0\n1,x,1\n', 'x.csv', O), O), /^x\.csv: row 3, column 'b': 'x' is not a number \(features must be numbers\)$/);
  throwsData(() => csvExamples(parseCsv('a,b,c\n1,,0\n', 'e.csv', O), O), /^e\.csv: row 2, column 'b': empty/);
  throwsData(() => csvExamples(parseCsv('a,b\n1,0\n', 'l.csv', O), { ...O, label: 'species' }), /no label column 'species'; the columns are a, b/);
  throwsData(() => csvExamples(parseCsv('a,b\n1,0\n2,5\n', 'l.csv', O), { ...O, classes: 3 }), /^l\.csv: row 3: label 5 is out of range for 3 classes \(0\.\.2\)$/);
  throwsData(() => csvExamples(parseCsv('a,k\n1,emu\n', 't.csv', O), O, ['cat', 'dog']), /^t\.csv: row 2: label 'emu' is not one of the training set's classes \(cat, dog\)$/);
});

test('task: regression: the label column becomes float targets (one per row), split with the features', () => {
  const t = parseCsv('x,y\n1,0.5\n2,1.5\n3,-2\n4,8\n', 'r.csv', O);
  const ex = csvExamples(t, { ...O, task: 'regression' });
  assert.equal(Array.from(ex.targets!), [0.5, 1.5, -2, 8]);
  assert.is(ex.classNames, undefined);
  const { train, test: held } = splitTest({ ...ex.data, targets: ex.targets!, targetWidth: 1 }, 0.25, 1, 'r.csv');
  assert.is(held.count, 1);
  // each row keeps its own target: y = f(x) as in the file
  const want = new Map([[1, 0.5], [2, 1.5], [3, -2], [4, 8]]);
  for (const d of [train, held]) floats(d.images).forEach((x, i) => assert.is(d.targets![i], want.get(x)));
  throwsData(() => csvExamples(parseCsv('x,y\n1,a\n', 'r.csv', O), { ...O, task: 'regression' }), /^r\.csv: row 2, column 'y': 'a' is not a number \(a regression target\)$/);
});

test('test_split: ceil(count · fraction) rows, the same for the same seed, different for another', () => {
  const t = parseCsv(['x,y', ...Array.from({ length: 10 }, (_, i) => `${i},${i % 2}`)].join('\n'), 's.csv', O);
  const d = csvExamples(t, O).data;
  const a = splitTest(d, 0.25, 42, 's.csv'), b = splitTest(d, 0.25, 42, 's.csv'), c = splitTest(d, 0.25, 7, 's.csv');
  assert.is(a.test.count, 3);
  assert.is(a.train.count, 7);
  assert.equal(floats(a.test.images), floats(b.test.images));
  assert.not.equal(floats(a.test.images), floats(c.test.images));
  const all = [...floats(a.train.images), ...floats(a.test.images)].sort((p, q) => p - q);
  assert.equal(all, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('normalize: standardize and minmax with the training statistics', () => {
  const d = csvExamples(parseCsv('x,y,l\n1,10,0\n3,10,1\n', 'n.csv', O), O).data;
  const s = normalizeStats(d, 'standardize');
  assert.equal(s.shift, [2, 10]);
  assert.equal(s.scale, [1, 1]); // the constant column's std 0 counts as 1
  assert.equal(floats(applyNormalize(d, s, 'n.csv').images), [-1, 0, 1, 0]);
  const m = normalizeStats(d, 'minmax');
  assert.equal(floats(applyNormalize(d, m, 'n.csv').images), [0, 0, 1, 0]);
});

test('tessera train models/iris.yaml: >= 93% test accuracy; the weights keep the class names and statistics; eval reuses them', async () => {
  const weights = join(dir, 'iris.safetensors');
  const r = await tessera('train', 'models/iris.yaml', '--quiet', '--save', weights);
  assert.is(r.code, 0, r.stderr);
  const acc = Number(r.stdout.match(/accuracy (\d+\.\d+)%/)![1]);
  assert.ok(acc >= 93, `iris test accuracy ${acc}%`);
  assert.match(r.stdout, /^test  loss .*\(30 rows\)$/m, 'a CSV test set is counted in rows, not images');
  const meta = await readWeightsDataMetadata(weights);
  assert.equal(meta.classNames, ['setosa', 'versicolor', 'virginica']);
  assert.is(meta.normalize?.method, 'standardize');
  assert.is(meta.normalize?.shift.length, 4);
  const e = await tessera('eval', 'models/iris.yaml', '--weights', weights);
  assert.is(e.code, 0, e.stderr);
  assert.is(e.stdout.match(/accuracy \S+/)![0], `accuracy ${acc.toFixed(2)}%`);
  assert.match(e.stdout, /\(30 rows\)$/m);
  // predict on CSV rows: features only (normalised with the saved statistics), and rows with the label column
  writeFileSync(join(dir, 'rows.csv'), 'sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n');
  const p = await tessera('predict', 'models/iris.yaml', '--weights', weights, '--csv', join(dir, 'rows.csv'), '--json');
  assert.is(p.code, 0, p.stderr);
  const out = JSON.parse(p.stdout) as { predictions: Array<{ index: string; class: string }> };
  assert.equal(out.predictions.map((x) => [x.index, x.class]), [['row 2', 'setosa'], ['row 3', 'virginica']]);
  const t = await tessera('predict', 'models/iris.yaml', '--weights', weights, '--csv', 'models/data/iris.csv', '--count', '3');
  assert.is(t.code, 0, t.stderr);
  assert.match(t.stdout, /row 2 +0 setosa +0 setosa/);
  assert.match(t.stdout, /3 of 3 correct/);
});

test('tessera train models/iris-regression.yaml: petal width from a CSV by mean_squared_error, MAE reported', async () => {
  const r = await tessera('train', 'models/iris-regression.yaml', '--quiet');
  assert.is(r.code, 0, r.stderr);
  const mae = Number(r.stdout.match(/test\s+loss \S+\s+mae (\d+\.\d+)/)![1]);
  assert.ok(mae < 0.3, `petal width within 0.3 cm on average: ${mae}`);
});

test('a bad CSV through tessera train: one line naming the file and row, exit 1', async () => {
  writeFileSync(join(dir, 'bad.csv'), 'a,b,l\n1,2,x\n3,4\n');
  writeFileSync(join(dir, 'bad.yaml'), ['name: b', 'seed: 1', 'layers:', '  - {type: dense, units: 2, activation: linear}',
    'loss: {type: sparse_categorical_crossentropy, from_logits: true}', 'optimizer: {type: adam}', 'training: {epochs: 1, batch_size: 2}',
    'dataset: {format: csv, path: bad.csv}', ''].join('\n'));
  const r = await tessera('train', join(dir, 'bad.yaml'));
  assert.is(r.code, 1);
  assert.match(r.stderr, /bad\.csv: row 3 has 2 fields, the header has 3/);
  assert.not.match(r.stderr, /\n\s+at /);
});

test('a classification loss on regression targets is an error at the loss line, naming the data and the shapes', async () => {
  const yaml = readFileSync('models/iris-regression.yaml', 'utf8').replace(/type: mean_squared_error/, 'type: sparse_categorical_crossentropy').replace('metrics: [mae]', 'metrics: [accuracy]');
  const lines = yaml.split('\n');
  const at = lines.findIndex((l) => l.includes('sparse_categorical_crossentropy')) + 1;
  const file = join(process.cwd(), 'models', `tmp-regression-${process.pid}.yaml`); // beside the model, so its data path resolves
  writeFileSync(file, yaml);
  try {
    const r = await tessera('validate', '--data', file);
    assert.is(r.code, 1, r.stdout);
    assert.match(r.stderr, new RegExp(`:${at}:9: error: sparse_categorical_crossentropy is a classification loss, but the data in .*iris\\.csv gives regression targets \\(1 floats per example\\) and no class ids; the last layer has 1 units`));
  } finally {
    rmSync(file, { force: true });
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
