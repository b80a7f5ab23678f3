// parts/conv_geometry.wgsl — shared part (not a kernel) of the conv2d
// kernels (conv2d_forward, conv2d_backward_input, conv2d_backward_weights
// and their _blocked / _vec4 variants), pulled in by their
// `// uses: conv_geometry` line (src/runtime/webgpu/kernels.ts).
//
// Declares the geometry overrides every one of them is specialised with:
//   IN_H, IN_W, IN_C      input height, width, channels (x is NHWC)
//   OUT_H, OUT_W, OUT_C   output height, width, channels (y is NHWC)
//   K_H, K_W              kernel height and width (w is HWIO)
//   STRIDE_H, STRIDE_W    strides (default 1)
//   DIL_H, DIL_W          dilation rates (default 1)
//   PAD_T, PAD_L          TF "same"/"valid" padding before the input; taps
//                         outside it count as 0 (default 0)
// Output pixel (oh, ow)'s tap (kh, kw) reads input row
// oh·STRIDE_H − PAD_T + kh·DIL_H and column ow·STRIDE_W − PAD_L + kw·DIL_W.
// No bindings: the kernels declare their own, and their own flags.
override IN_H: u32;
override IN_W: u32;
override IN_C: u32;
override OUT_H: u32;
override OUT_W: u32;
override OUT_C: u32;
override K_H: u32;
override K_W: u32;
override STRIDE_H: u32 = 1u;
override STRIDE_W: u32 = 1u;
override DIL_H: u32 = 1u;
override DIL_W: u32 = 1u;
override PAD_T: u32 = 0u;
override PAD_L: u32 = 0u;
