// The page's elements, looked up once by id (web/index.html), and the small
// text helpers several panels share.

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export const ui = {
  backend: $<HTMLParagraphElement>('backend'),
  yaml: $<HTMLTextAreaElement>('yaml'),
  modelPicker: $<HTMLSelectElement>('model-picker'),
  gutter: $<HTMLPreElement>('gutter'),
  errors: $<HTMLUListElement>('errors'),
  dataDrop: $<HTMLDivElement>('data-drop'),
  dataFile: $<HTMLInputElement>('data-file'),
  dataFileStatus: $<HTMLSpanElement>('data-file-status'),
  modelStatus: $<HTMLSpanElement>('model-status'),
  layers: $<HTMLTableElement>('layers'),
  train: $<HTMLButtonElement>('train'),
  stop: $<HTMLButtonElement>('stop'),
  epochs: $<HTMLInputElement>('epochs'),
  progress: $<HTMLDivElement>('progress'),
  progressFill: $<HTMLDivElement>('progress-fill'),
  status: $<HTMLParagraphElement>('status'),
  dataStatus: $<HTMLSpanElement>('data-status'),
  lossPlot: $<HTMLCanvasElement>('loss-plot'),
  accPlot: $<HTMLCanvasElement>('acc-plot'),
  final: $<HTMLParagraphElement>('final'),
  sampleCard: $<HTMLElement>('sample-card'),
  sample: $<HTMLPreElement>('sample'),
  sampleEpoch: $<HTMLSpanElement>('sample-epoch'),
  pad: $<HTMLCanvasElement>('pad'),
  preview: $<HTMLCanvasElement>('preview'),
  clear: $<HTMLButtonElement>('clear'),
  guess: $<HTMLSpanElement>('guess'),
  guessConf: $<HTMLSpanElement>('guess-conf'),
  bars: $<HTMLOListElement>('bars'),
  weightsFile: $<HTMLInputElement>('weights-file'),
  download: $<HTMLButtonElement>('download'),
  downloadOnnx: $<HTMLButtonElement>('download-onnx'),
  weightsStatus: $<HTMLParagraphElement>('weights-status'),
};

export const fmtPct = (x: number) => `${(100 * x).toFixed(2)}%`;

export const fmtTime = (s: number) => {
  if (!Number.isFinite(s) || s < 0) return '–';
  s = Math.round(s);
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m` : `${m}:${String(s % 60).padStart(2, '0')}`;
};

export const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
