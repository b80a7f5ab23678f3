// Which WGSL conv kernel an op record takes, and its grid: the
// register-blocked implicit-GEMM kernels (32 pixels × 8 channels per
// invocation, vec4 loads) wherever the channel counts allow, else the
// direct kernels (one pixel × 4 channels, scalar loads; also the
// `convKernels: 'direct'` alternative of the webgpu backend). The kernel
// headers in kernels/wgsl state the same grids.

/** Workgroups of 64 pixels (x) × one group of 4 channels (y): the grid of the direct conv kernels that own one pixel × 4 channels each. */
export function pixelGrid(pixels: number, channels: number): [number, number] {
  const x = Math.ceil(pixels / 64);
  if (x > 65535) throw new Error(`conv2d: ${pixels} output pixels exceed one dispatch (65535 × 64); use a smaller batch`);
  return [Math.max(1, x), Math.ceil(channels / 4)];
}

/** Workgroup shape of the blocked kernels: x covers the groups of 8 channels (at most 8), x·y = 64. */
export function blockWorkgroup(channels: number): { WG_X: number; WG_Y: number } {
  const groups = Math.ceil(channels / 8);
  let x = 1;
  while (x < 8 && x < groups) x *= 2;
  return { WG_X: x, WG_Y: 64 / x };
}

/** Constants and grid of a blocked kernel owning `perInvocation` pixels (the kernel's PIX) × 8 channels per invocation. */
export function blockDispatch(pixels: number, channels: number, perInvocation = 8): { constants: { WG_X: number; WG_Y: number }; grid: [number, number] } {
  const wg = blockWorkgroup(channels);
  const y = Math.ceil(Math.ceil(pixels / perInvocation) / wg.WG_Y);
  if (y > 65535) throw new Error(`conv2d: ${pixels} pixels exceed one dispatch (65535 × ${perInvocation * wg.WG_Y}); use a smaller batch`);
  return { constants: wg, grid: [Math.ceil(Math.ceil(channels / 8) / wg.WG_X), Math.max(1, y)] };
}

/** The backend's choice among conv kernels ('blocked' default, 'direct' the one-pixel kernels). */
export type ConvKernels = 'blocked' | 'direct';
