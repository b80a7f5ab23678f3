// Taking a trained model elsewhere (issue 15): ONNX for serving, a PyTorch
// module and state dict for training at scale. steps.ts is the shared view
// of the model; onnx.ts and pytorch.ts write it out. Browser-safe; the
// `tessera export` command (src/cli/commands/export.ts) writes the files.

export { exportSteps, EXPORTERS, UnsupportedLayer, hwioToOihw, type ExportPlan, type ExportStep, type LayerExporter } from './steps.js';
export { encodeOnnx, ONNX_OPSET, type OnnxExportOptions } from './onnx.js';
export { unsupportedLayerError } from './refuse.js';
export { pytorchFiles, pythonName } from './pytorch.js';
