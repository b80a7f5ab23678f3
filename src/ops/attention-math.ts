// Reference math of multi-head attention, composed from batched matmuls and
// a masked softmax (src/ops/attention_*.ts). Layout, per example r:
//   q, k   [T, H·dk]   head h uses columns h·dk … h·dk+dk−1
//   v, o   [T, H·dv]
//   probs  [H, T, T]   probs[h, i, j]: how much query i attends to key j
// The scores are scale · q_i·k_j (scale = 1/√dk in Keras), the causal mask
// removes keys after the query (their probability is exactly 0), and the
// softmax over j is max-subtracted. Every sum runs in index order.

export interface AttentionShape { rows: number; T: number; H: number }

/** probs = softmax_j(scale · q_i·k_j), causal: j ≤ i only. */
export function attentionScores(q: Float32Array, k: Float32Array, probs: Float32Array, s: AttentionShape, dk: number, causal: boolean, scale: number): void {
  const { rows, T, H } = s, W = H * dk;
  for (let r = 0; r < rows; r++) for (let h = 0; h < H; h++) for (let i = 0; i < T; i++) {
    const out = ((r * H + h) * T + i) * T;
    const last = causal ? i : T - 1;
    let max = -Infinity;
    for (let j = 0; j <= last; j++) {
      let dot = 0;
      for (let d = 0; d < dk; d++) dot += q[(r * T + i) * W + h * dk + d]! * k[(r * T + j) * W + h * dk + d]!;
      const sc = dot * scale;
      probs[out + j] = sc;
      if (sc > max) max = sc;
    }
    let sum = 0;
    for (let j = 0; j <= last; j++) sum += (probs[out + j] = Math.exp(probs[out + j]! - max));
    for (let j = 0; j < T; j++) probs[out + j] = j <= last ? probs[out + j]! / sum : 0;
  }
}

/** dq, dk from dprobs: ds = p·(dp − Σ_j p·dp); dq_i = scale·Σ_j ds_ij k_j; dk_j = scale·Σ_i ds_ij q_i. */
export function attentionScoresBackward(
  dprobs: Float32Array, probs: Float32Array, q: Float32Array, k: Float32Array, dq: Float32Array, dkOut: Float32Array,
  dsAll: Float32Array, s: AttentionShape, dk: number, scale: number,
): void {
  const { rows, T, H } = s, W = H * dk;
  for (let r = 0; r < rows; r++) for (let h = 0; h < H; h++) {
    const base = (r * H + h) * T * T;
    const ds = dsAll.subarray(base, base + T * T);
    for (let i = 0; i < T; i++) {
      let dot = 0;
      for (let j = 0; j < T; j++) dot += probs[base + i * T + j]! * dprobs[base + i * T + j]!;
      for (let j = 0; j < T; j++) ds[i * T + j] = probs[base + i * T + j]! * (dprobs[base + i * T + j]! - dot);
    }
    for (let i = 0; i < T; i++) for (let d = 0; d < dk; d++) {
      let acc = 0;
      for (let j = 0; j < T; j++) acc += ds[i * T + j]! * k[(r * T + j) * W + h * dk + d]!;
      dq[(r * T + i) * W + h * dk + d] = acc * scale;
    }
    for (let j = 0; j < T; j++) for (let d = 0; d < dk; d++) {
      let acc = 0;
      for (let i = 0; i < T; i++) acc += ds[i * T + j]! * q[(r * T + i) * W + h * dk + d]!;
      dkOut[(r * T + j) * W + h * dk + d] = acc * scale;
    }
  }
}

/** o_i = Σ_j probs_ij · v_j per head. */
export function attentionValues(probs: Float32Array, v: Float32Array, o: Float32Array, s: AttentionShape, dv: number): void {
  const { rows, T, H } = s, W = H * dv;
  for (let r = 0; r < rows; r++) for (let h = 0; h < H; h++) for (let i = 0; i < T; i++) for (let e = 0; e < dv; e++) {
    let acc = 0;
    for (let j = 0; j < T; j++) acc += probs[((r * H + h) * T + i) * T + j]! * v[(r * T + j) * W + h * dv + e]!;
    o[(r * T + i) * W + h * dv + e] = acc;
  }
}

/** dprobs_ij = dout_i·v_j, dv_j = Σ_i probs_ij · dout_i, per head. */
export function attentionValuesBackward(
  dout: Float32Array, probs: Float32Array, v: Float32Array, dprobs: Float32Array, dvOut: Float32Array, s: AttentionShape, dv: number,
): void {
  const { rows, T, H } = s, W = H * dv;
  for (let r = 0; r < rows; r++) for (let h = 0; h < H; h++) {
    for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) {
      let acc = 0;
      for (let e = 0; e < dv; e++) acc += dout[(r * T + i) * W + h * dv + e]! * v[(r * T + j) * W + h * dv + e]!;
      dprobs[((r * H + h) * T + i) * T + j] = acc;
    }
    for (let j = 0; j < T; j++) for (let e = 0; e < dv; e++) {
      let acc = 0;
      for (let i = 0; i < T; i++) acc += probs[((r * H + h) * T + i) * T + j]! * dout[(r * T + i) * W + h * dv + e]!;
      dvOut[(r * T + j) * W + h * dv + e] = acc;
    }
  }
}

/** Bench/conformance shapes [M, T, H, d] that are awkward: T = 1, odd T, one and three heads, d not a multiple of 4, batch 1. */
export const ATTENTION_CASES = [[1, 1, 1, 1], [2, 5, 3, 3], [1, 7, 1, 4], [3, 4, 2, 5], [2, 9, 2, 8]] as const;
